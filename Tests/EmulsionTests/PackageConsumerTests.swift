import EmulsionTestSupport
import Foundation
import XCTest

/// Another package can depend on Emulsion's library product by version.
///
/// Package.swift gives its kernel targets an LLVM option through `unsafeFlags`, and SwiftPM
/// refuses unsafe flags in a versioned dependency unless that dependency's manifest declares
/// tools version 6.2 or later (swiftlang/swift-package-manager#8951). With 6.0 the graph of a
/// consumer failed to load: "the target 'EmulsionCore' in product 'Emulsion' contains unsafe
/// build flags". This test tags a copy of the manifest and sources as version 1.0.0 in a
/// scratch git repository, declares a consumer that depends on it `from: "1.0.0"`, and loads
/// that graph with `swift package show-dependencies`, which applies the same check as a build
/// (reproduced with the 6.0 manifest: it fails there) without compiling anything.
final class PackageConsumerTests: XCTestCase {
    func testLibraryProductIsUsableAsAVersionedDependency() throws {
        guard let swift = TestSupport.which("swift"), let git = TestSupport.which("git") else {
            if TestSupport.inCI { XCTFail("swift or git not on PATH") }
            throw XCTSkip("swift or git not on PATH")
        }
        let root = TestSupport.repositoryRoot
        let scratch = TestSupport.temporaryDirectory("emulsion-consumer")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let dependency = scratch.appendingPathComponent("emulsion")
        try FileManager.default.createDirectory(at: dependency, withIntermediateDirectories: true)
        // The manifest and every folder it names (targets must exist for the graph to load).
        for item in ["Package.swift", "Sources", "Tests"] {
            try FileManager.default.copyItem(at: root.appendingPathComponent(item), to: dependency.appendingPathComponent(item))
        }
        let identity = ["-c", "user.name=test", "-c", "user.email=test@example.invalid"]
        for arguments in [["init", "-q"], ["add", "-A"], identity + ["commit", "-q", "-m", "copy"], ["tag", "1.0.0"]] {
            let result = try TestSupport.run(git, arguments, currentDirectory: dependency)
            XCTAssertEqual(result.status, 0, "git \(arguments.joined(separator: " ")): \(result.stderr)")
        }

        let consumer = scratch.appendingPathComponent("consumer")
        try FileManager.default.createDirectory(at: consumer.appendingPathComponent("Sources/Consumer"), withIntermediateDirectories: true)
        try """
        // swift-tools-version:6.0
        import PackageDescription
        let package = Package(
            name: "Consumer",
            dependencies: [.package(url: "\(dependency.absoluteString)", from: "1.0.0")],
            targets: [.executableTarget(name: "Consumer", dependencies: [.product(name: "Emulsion", package: "emulsion")])])
        """.write(to: consumer.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        try "import Emulsion\n".write(to: consumer.appendingPathComponent("Sources/Consumer/main.swift"), atomically: true, encoding: .utf8)

        let result = try TestSupport.run(swift, ["package", "show-dependencies"], timeout: 600, currentDirectory: consumer)
        let output = result.stdout + result.stderr
        if result.status != 0, output.contains("swift-argument-parser"), !output.contains("unsafe") {
            // Emulsion's own dependency could not be fetched (no network, empty cache).
            if TestSupport.inCI { XCTFail("could not resolve the consumer's dependencies: \(output)") }
            throw XCTSkip("could not resolve swift-argument-parser: \(output)")
        }
        XCTAssertFalse(output.contains("unsafe build flags"), output)
        XCTAssertEqual(result.status, 0, output)
        XCTAssertTrue(result.stdout.contains("emulsion"), result.stdout)
    }
}

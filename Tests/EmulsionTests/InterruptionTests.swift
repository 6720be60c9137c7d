import Emulsion
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// No data lost (issue 7): SIGKILL at any moment leaves only complete PNGs (temporaries of the
/// killed run are swept by the next one), SIGINT stops cleanly with no temporaries, a file-size
/// limit (a full disk as the process sees it: EFBIG) fails one file in one line with nothing
/// partial, and inputs are never modified.
final class InterruptionTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = TestSupport.temporaryDirectory("emulsion-interrupt") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    var inputs: [String] {
        // Small files, so a whole batch takes a couple of seconds in a debug build.
        ["raspberrypi-gs_camera_imx296-lightspot.dng", "kodak-dc50-sample.kdc", "apple-quicktake_100-test100.qtk",
         "lg-g4_h815-lossy_linear.dng", "google-pixel_7-digizoom_crop.dng"]
            .map { TestSupport.samplesDirectory.appendingPathComponent($0).path }
            .filter { FileManager.default.fileExists(atPath: $0) }
    }

    func start(_ arguments: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try CLITests.builtBinary())
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Every visible PNG decodes completely.
    func assertOnlyCompletePNGs(in folder: URL, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        for name in names where !name.hasPrefix(".") {
            XCTAssertTrue(name.hasSuffix(".png"), "unexpected file \(name)", file: file, line: line)
            XCTAssertNoThrow(try PNGFile.read(path: folder.appendingPathComponent(name).path), "\(name) is not a complete PNG", file: file, line: line)
        }
        return names
    }

    func testSIGKILLLeavesOnlyCompletePNGsAndTheNextRunSweepsTemporaries() throws {
        guard inputs.count >= 3 else { throw XCTSkip("samples missing") }
        for (round, delay) in [0.2, 0.7, 1.4].enumerated() {
            let out = dir.appendingPathComponent("kill\(round)")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let p = try start(["process", "--out-dir", out.path] + inputs)
            usleep(useconds_t(delay * 1_000_000))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            _ = try assertOnlyCompletePNGs(in: out)
            // The next run completes the batch and removes what the killed run left behind.
            let again = try start(["process", "--out-dir", out.path] + inputs)
            again.waitUntilExit()
            let names = try assertOnlyCompletePNGs(in: out)
            XCTAssertEqual(names.filter { $0.hasPrefix(".") }, [], "temporaries survived the next run (round \(round))")
            XCTAssertEqual(names.count, inputs.count)
        }
    }

    func testSIGINTStopsCleanly() throws {
        guard inputs.count >= 3 else { throw XCTSkip("samples missing") }
        let out = dir.appendingPathComponent("int")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let p = try start(["process", "--out-dir", out.path] + inputs)
        // Interrupt once the first output (or its temporary) appears: the handler is installed by
        // then. A fixed delay was not enough under ASan on a loaded machine: the SIGINT arrived
        // before the handler was installed and the default action ended the process.
        let deadline = Date().addingTimeInterval(120)
        while p.isRunning, Date() < deadline, (try? FileManager.default.contentsOfDirectory(atPath: out.path))?.isEmpty ?? true {
            usleep(5_000)
        }
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        if p.terminationReason == .exit && p.terminationStatus == 0 { return }  // finished first: nothing to check
        XCTAssertEqual(p.terminationStatus, 128 + SIGINT)
        let names = try assertOnlyCompletePNGs(in: out)
        XCTAssertEqual(names.filter { $0.hasPrefix(".") }, [], "SIGINT left temporaries")
    }

    func testFileSizeLimitGivesOneLineErrorAndNoPartialFile() throws {
        guard let input = inputs.first else { throw XCTSkip("samples missing") }
        let out = dir.appendingPathComponent("full")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        // ulimit -f 256: files may not grow past 256 KiB, as on a nearly full disk. Every
        // encoder (a JPEG at quality 100 is ~1 MB here, so its writes fail mid-stream while the
        // next band renders on another thread).
        for format in [["--format", "png"], ["--format", "jpeg", "--quality", "100"], ["--format", "tiff"],
                       ["--format", "tiff", "--tiff-compression", "deflate"]] {
            let r = try TestSupport.run("/bin/bash", ["-c", "ulimit -f 256; exec \"$@\"", "bash",
                                                      try CLITests.builtBinary(), "process", "--out-dir", out.path, input] + format, timeout: 120)
            XCTAssertEqual(r.status, 1, r.stderr)
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("File too large") || r.stderr.contains("No space"), r.stderr)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), [], "partial output or temporary left")
        }
    }

    func testInputsAreNeverModified() throws {
        guard inputs.count >= 2 else { throw XCTSkip("samples missing") }
        let before = try inputs.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        let stamps = try inputs.map { try FileManager.default.attributesOfItem(atPath: $0)[.modificationDate] as? Date }
        let out = dir.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let p = try start(["process", "--out-dir", out.path] + inputs.prefix(2))
        p.waitUntilExit()
        XCTAssertEqual(try inputs.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }, before)
        XCTAssertEqual(try inputs.map { try FileManager.default.attributesOfItem(atPath: $0)[.modificationDate] as? Date }, stamps)
    }
}

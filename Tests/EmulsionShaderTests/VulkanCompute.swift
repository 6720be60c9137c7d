import CVulkanCompute
import Foundation

/// The typed, throwing facade over CVulkanCompute: one Vulkan device (Mesa lavapipe runs on the
/// CPU, so the shader tests need no GPU), SPIR-V compute dispatches over storage buffers.
final class VulkanCompute {
    struct Failure: Error, CustomStringConvertible { let description: String }

    private let context: UnsafeMutablePointer<vkc_context>
    let deviceName: String

    init() throws {
        var err = [CChar](repeating: 0, count: 512)
        guard let c = vkc_create(&err, err.count) else { throw Failure(description: "Vulkan: " + String(cString: err)) }
        context = c
        deviceName = String(cString: vkc_device_name(c))
    }

    deinit { vkc_destroy(context) }

    /// Runs `spirv` over `buffers` (binding i = buffers[i]) with `push` constants and returns buffer
    /// `readback` as floats, with the submit-to-finish time in milliseconds.
    func dispatch(spirv: [UInt8], buffers: [[UInt32]], push: [UInt32], groups: (Int, Int), readback: Int) throws -> (output: [Float], milliseconds: Double) {
        var err = [CChar](repeating: 0, count: 512)
        var out = [Float](repeating: 0, count: buffers[readback].count)
        var ms = 0.0
        let sizes = buffers.map { $0.count * 4 }
        let status: Int32 = spirv.withUnsafeBytes { code in
            withPointers(buffers) { pointers in
                push.withUnsafeBytes { pushBytes in
                    out.withUnsafeMutableBytes { outBytes in
                        vkc_dispatch(context, code.baseAddress!.assumingMemoryBound(to: UInt32.self), code.count,
                                     pointers, sizes, UInt32(buffers.count), pushBytes.baseAddress, UInt32(pushBytes.count),
                                     UInt32(groups.0), UInt32(groups.1), UInt32(readback), outBytes.baseAddress, outBytes.count,
                                     &ms, &err, err.count)
                    }
                }
            }
        }
        guard status == 0 else { throw Failure(description: "Vulkan dispatch: " + String(cString: err)) }
        return (out, ms)
    }

    private func withPointers<R>(_ buffers: [[UInt32]], _ body: (UnsafePointer<UnsafeRawPointer?>) -> R) -> R {
        var pointers: [UnsafeRawPointer?] = []
        func nest(_ i: Int) -> R {
            if i == buffers.count { return pointers.withUnsafeBufferPointer { body($0.baseAddress!) } }
            return buffers[i].withUnsafeBytes { b in
                pointers.append(b.baseAddress)
                return nest(i + 1)
            }
        }
        return nest(0)
    }
}

/// glslangValidator (Debian glslang-tools): GLSL → SPIR-V.
enum GLSLCompiler {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static var path: String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/glslangValidator"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Compiles a compute shader file to SPIR-V bytes.
    static func compile(file: URL) throws -> [UInt8] {
        guard let path else { throw Failure(description: "glslangValidator not found (Debian glslang-tools)") }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("emulsion-\(UUID().uuidString).spv")
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-V", "--target-env", "vulkan1.1", "-S", "comp", "-o", out.path, file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(description: "\(file.lastPathComponent): glslangValidator failed:\n\(text.suffix(3000))") }
        return Array(try Data(contentsOf: out))
    }

    nonisolated(unsafe) private static var cache: [String: [UInt8]] = [:]

    /// Compiles shader text (kept for the process: the baked looks take seconds each).
    static func compile(source: String, name: String) throws -> [UInt8] {
        if let spirv = cache[source] { return spirv }
        let spirv = try compileUncached(source: source, name: name)
        cache[source] = spirv
        return spirv
    }

    private static func compileUncached(source: String, name: String) throws -> [UInt8] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("emulsion-glsl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent(name)
        try source.write(to: file, atomically: true, encoding: .utf8)
        return try compile(file: file)
    }
}

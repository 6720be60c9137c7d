import Emulsion
import EmulsionCore
import Foundation

/// Shared helpers for the test targets: where the real samples are, running external tools, and
/// reading their outputs.
public enum TestSupport {
    /// The repository root (three levels above this file).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/raw-samples` beside the checkout (or `$EMULSION_SAMPLES`).
    public static var samplesDirectory: URL {
        if let env = ProcessInfo.processInfo.environment["EMULSION_SAMPLES"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/raw-samples")
    }

    public struct Sample: Sendable {
        public let url: URL
        public let cfa: String
        public var name: String { url.lastPathComponent }
    }

    /// The samples listed in MANIFEST.tsv that exist on disk.
    public static func samples() -> [Sample] {
        let manifest = samplesDirectory.appendingPathComponent("MANIFEST.tsv")
        guard let text = try? String(contentsOf: manifest, encoding: .utf8) else { return [] }
        let lines = text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first, let fileColumn = header.firstIndex(of: "file"), let cfaColumn = header.firstIndex(of: "cfa_pattern") else { return [] }
        return lines.dropFirst().compactMap { row in
            guard row.count > max(fileColumn, cfaColumn) else { return nil }
            let url = samplesDirectory.appendingPathComponent(row[fileColumn])
            return FileManager.default.fileExists(atPath: url.path) ? Sample(url: url, cfa: row[cfaColumn]) : nil
        }
    }

    /// Samples a raw decoder can open (the Halide PNG is a bare Bayer PNG, not a raw container).
    public static func rawSamples() -> [Sample] { samples().filter { !$0.name.hasSuffix(".png") } }

    /// True in CI, where missing tools or samples are failures, not skips.
    public static var inCI: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    /// The `emulsion` CLI built beside the test bundle (`swift build` builds it; the README's
    /// test command runs that first).
    public static var emulsionBinary: String {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = me.deletingLastPathComponent()
        while dir.path.hasSuffix(".xctest") || dir.lastPathComponent == "MacOS" || dir.lastPathComponent == "Contents" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("emulsion").path
    }

    /// Full path of an executable on PATH, or nil.
    public static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    public struct RunResult: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs a program to completion, with a time limit (the process is killed past it).
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 120,
                           environment: [String: String]? = nil, currentDirectory: URL? = nil) throws -> RunResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if let environment { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        if let currentDirectory { p.currentDirectoryURL = currentDirectory }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let collected = Collected()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { collected.out = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { collected.err = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning { p.terminate(); usleep(200_000); if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        p.waitUntilExit()
        group.wait()
        return RunResult(status: p.terminationStatus, stdout: String(decoding: collected.out, as: UTF8.self),
                         stderr: String(decoding: collected.err, as: UTF8.self))
    }

    /// Runs `executable` as a user without privileges would: as root, through `setpriv` with
    /// every capability dropped, which leaves uid 0 to the permission bits as any user (a test of
    /// an unreadable file or folder); as anyone else, directly.
    public static func runUnprivileged(_ executable: String, _ arguments: [String], timeout: TimeInterval = 180,
                                       environment: [String: String]? = nil) throws -> RunResult {
        guard geteuid() == 0 else { return try run(executable, arguments, timeout: timeout, environment: environment) }
        return try run("/usr/bin/setpriv", ["--bounding-set=-all", "--inh-caps=-all", "--", executable] + arguments,
                       timeout: timeout, environment: environment)
    }

    /// Whether `command` (one that reads what a test made unreadable) fails when run as
    /// `runUnprivileged` runs it: false where root's capabilities cannot be dropped, so there is
    /// nothing unreadable to test with.
    public static func deniesUnprivileged(_ command: [String]) -> Bool {
        if geteuid() == 0 && !FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") { return false }
        guard let probe = try? runUnprivileged(command[0], Array(command.dropFirst()), timeout: 30) else { return false }
        return probe.status != 0
    }

    private final class Collected: @unchecked Sendable { var out = Data(); var err = Data() }

    /// A fresh temporary folder.
    public static func temporaryDirectory(_ label: String = "emulsion-test") -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A binary PPM/PGM (P6/P5, 8 or 16 bit, as dcraw_emu writes) as interleaved samples.
    public struct PNM: Sendable {
        public var width: Int
        public var height: Int
        public var channels: Int
        public var maxValue: Int
        public var samples: [UInt16]
    }

    public static func readPNM(_ url: URL) throws -> PNM {
        let data = try [UInt8](Data(contentsOf: url))
        var i = 0
        func token() -> String {
            while i < data.count {
                if data[i] == UInt8(ascii: "#") { while i < data.count && data[i] != 10 { i += 1 } }
                else if data[i] == 32 || data[i] == 10 || data[i] == 13 || data[i] == 9 { i += 1 } else { break }
            }
            let start = i
            while i < data.count && !(data[i] == 32 || data[i] == 10 || data[i] == 13 || data[i] == 9) { i += 1 }
            return String(decoding: data[start..<i], as: UTF8.self)
        }
        let magic = token()
        guard magic == "P6" || magic == "P5", let w = Int(token()), let h = Int(token()), let m = Int(token()) else {
            throw RenderError("\(url.path): not a binary PNM")
        }
        i += 1
        let channels = magic == "P6" ? 3 : 1
        let n = w * h * channels
        var samples = [UInt16](repeating: 0, count: n)
        if m > 255 {
            guard data.count - i >= 2 * n else { throw RenderError("\(url.path): truncated PNM") }
            for k in 0..<n { samples[k] = UInt16(data[i + 2 * k]) << 8 | UInt16(data[i + 2 * k + 1]) }
        } else {
            guard data.count - i >= n else { throw RenderError("\(url.path): truncated PNM") }
            for k in 0..<n { samples[k] = UInt16(data[i + k]) }
        }
        return PNM(width: w, height: h, channels: channels, maxValue: m, samples: samples)
    }

    /// IEC 61966-2-1 sRGB decoding (encoded 0…1 → linear).
    public static func sRGBToLinear(_ v: Double) -> Double {
        v <= 0.04045 ? v / 12.92 : Foundation.pow((v + 0.055) / 1.055, 2.4)
    }

    /// Linear sRGB (D65) → CIELAB relative to D65, the comparison space for two sRGB renders.
    public static func labFromLinearSRGB(_ rgb: SIMD3<Double>) -> CIELab {
        CIELab(xyz: RGBPrimaries.sRGB.toXYZ * rgb, white: Chromaticity.d65.xyz)
    }
}

import ArgumentParser
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How the CLI decodes: in a time-limited child process (default) or in-process.
struct DecoderOptions: ParsableArguments {
    @Option(name: .customLong("decode-timeout"), help: "Seconds a raw decode may take before it is stopped and reported.")
    var decodeTimeout: Double = ProcessRequest().decodeTimeout

    @Flag(name: .customLong("in-process-decoder"), help: "Decode in this process (faster start; a decoder hang or crash then stops the whole run).")
    var inProcess = false

    var decoder: RawDecoder { Self.decoder(inProcess: inProcess, timeout: decodeTimeout) }

    func validate() throws {
        if let problem = Self.timeoutProblem(decodeTimeout) { throw ValidationError(problem) }
    }

    static func timeoutProblem(_ seconds: Double) -> String? {
        seconds > 0 && seconds <= 1_000_000 ? nil : "--decode-timeout must be a number of seconds above 0 (at most 1000000)"
    }

    /// `--max-megapixels` (process, info, decode-worker): bounded so that the pixel count it
    /// becomes cannot overflow (`99999999999999` trapped).
    static func megapixelProblem(_ megapixels: Int) -> String? {
        (1...1_000_000).contains(megapixels) ? nil : "--max-megapixels must be 1…1000000"
    }

    /// Workers run this binary; where it cannot be found again, decoding stays in this process.
    /// Asked before the first worker is forked, so read with `readlink` and `access`: through
    /// `URL` and `FileManager` the first use cost ~0.15 ms on the path of both processes
    /// (temporary marks, Pixel crop, session 19).
    static func decoder(inProcess: Bool, timeout: Double) -> RawDecoder {
        if inProcess { return .inProcess }
        // A binary replaced while it runs reads as "PATH (deleted)"; /proc/self/exe still runs it.
        let candidates: [String] = [PlainFile.executablePath(), "/proc/self/exe"].compactMap { $0 }
        guard let me = candidates.first(where: { access($0, X_OK) == 0 }) else { return .inProcess }
        return .isolated(executable: me, timeout: timeout)
    }
}

/// Internal: decodes one raw file and writes it to stdout in the decode worker's answer format
/// (`IsolatedDecoding.serve`), for looking at the wire by hand. The parent's workers start as
/// `decode-worker --serve`, which `serveDirectly` answers before any parsing.
struct DecodeWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode-worker", abstract: "Internal: decode one raw to stdout as the decode worker answers.",
                                                    shouldDisplay: false)
    @Argument var path: String
    @Option(name: .customLong("max-megapixels")) var maxMegapixels: Int = RawFile.defaultPixelLimit / 1_000_000
    @Flag(name: .customLong("libraw-unpack"), help: "Decode the samples with LibRaw's unpack and send them.")
    var libRawUnpack = false

    func validate() throws {
        if let problem = DecoderOptions.megapixelProblem(maxMegapixels) { throw ValidationError(problem) }
    }

    func run() throws {
        let status = IsolatedDecoding.serve(path: path, pixelLimit: maxMegapixels * 1_000_000, libRawUnpack: libRawUnpack,
                                            to: STDOUT_FILENO)
        if status != 0 { throw ExitCode(status) }
    }

    /// A worker as `DecodeWorkerPool` starts it (`decode-worker --serve`) serves without
    /// ArgumentParser: parsing through it costs ~5 ms of protocol-conformance lookups at
    /// start-up, once per worker (docs/PERFORMANCE.md). Anything else returns nil and goes
    /// through the parser as usual.
    static func serveDirectly(_ arguments: [String]) -> Int32? {
        arguments == ["decode-worker", "--serve"] ? IsolatedDecoding.serveRequests(to: STDOUT_FILENO) : nil
    }
}

import ArgumentParser
import EmulsionIO
import Foundation

/// How the CLI decodes: in a time-limited child process (default) or in-process.
struct DecoderOptions: ParsableArguments {
    @Option(name: .customLong("decode-timeout"), help: "Seconds a raw decode may take before it is stopped and reported.")
    var decodeTimeout: Double = 120

    @Flag(name: .customLong("in-process-decoder"), help: "Decode in this process (faster start; a decoder hang or crash then stops the whole run).")
    var inProcess = false

    var decoder: RawDecoder {
        if inProcess { return .inProcess }
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        guard FileManager.default.isExecutableFile(atPath: me) else { return .inProcess }
        return .isolated(executable: me, timeout: decodeTimeout)
    }
}

/// Internal: decodes one raw file and writes it to stdout for the parent process.
struct DecodeWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode-worker", abstract: "Internal: decode one raw for the parent process.",
                                                    shouldDisplay: false)
    @Argument var path: String
    @Option(name: .customLong("max-megapixels")) var maxMegapixels: Int = RawFile.defaultPixelLimit / 1_000_000
    @Flag(name: .customLong("libraw-unpack"), help: "Decode the samples with LibRaw's unpack and send them.")
    var libRawUnpack = false

    func run() throws {
        let status = IsolatedDecoding.serve(path: path, pixelLimit: maxMegapixels * 1_000_000, libRawUnpack: libRawUnpack,
                                            to: .standardOutput)
        if status != 0 { throw ExitCode(status) }
    }

    /// The worker started exactly as `IsolatedDecoding` starts it (`decode-worker PATH
    /// --max-megapixels N`, or `decode-worker --serve` for `DecodeWorkerPool`) serves without
    /// ArgumentParser: parsing through it costs ~5 ms of protocol-conformance lookups at
    /// start-up, once per worker (docs/PERFORMANCE.md). Any other shape returns nil and goes
    /// through the parser as usual.
    static func serveDirectly(_ arguments: [String]) -> Int32? {
        if arguments == ["decode-worker", "--serve"] { return IsolatedDecoding.serveRequests(to: .standardOutput) }
        guard arguments.count == 4, arguments[0] == "decode-worker", arguments[2] == "--max-megapixels",
              !arguments[1].hasPrefix("-"), let megapixels = Int(arguments[3]), megapixels >= 1, megapixels <= 1 << 20 else { return nil }
        return IsolatedDecoding.serve(path: arguments[1], pixelLimit: megapixels * 1_000_000, to: .standardOutput)
    }
}

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

    func run() throws {
        let status = IsolatedDecoding.serve(path: path, pixelLimit: maxMegapixels * 1_000_000, to: .standardOutput)
        if status != 0 { throw ExitCode(status) }
    }
}

import ArgumentParser
import Emulsion
import EmulsionCore
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

@main
struct EmulsionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulsion",
        abstract: "A phone-camera colour pipeline: RAW in, colour-managed PNG, JPEG or TIFF out, through tunable looks.",
        subcommands: [ProcessCommand.self, InfoCommand.self, ProfileCommand.self, GoldenCommand.self, CompareCommand.self, DecodeWorkerCommand.self, PreviewCommand.self,
                      BenchCommand.self, DeviceCommand.self],
        defaultSubcommand: ProcessCommand.self)

    /// `profile export P --device D --cube` names the export's format with a bare `--cube`; the
    /// device decides the size, so a bare `--cube` there is dropped before parsing (ArgumentParser
    /// has no options with optional values).
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let status = DecodeWorkerCommand.serveDirectly(arguments) { terminate(status) }
        // `process`, the command a batch runs once per file, is read by `ProcessRequest(scanning:)`
        // where it can be, else parsed as ProcessCommand alone: ArgumentParser finds options by
        // reflection, and each type's first protocol-conformance check scans the static binary's
        // conformance records (~6 000 when this was measured, ~4 200 since Foundation left: from
        // the root, 23 M instructions; `process` alone, 17 M; the scanner, 0.4 M). Anything
        // neither reads (help, a bad option) goes through the root as before, for the same
        // messages.
        if arguments.first == "process" {
            // The decode worker first, before the arguments are read (`forkEarlyWorker`).
            if !arguments.contains("--in-process-decoder") { DecodeWorkerPool.forkEarlyWorker() }
            let rest = Array(arguments.dropFirst())
            if let request = ProcessRequest(scanning: rest) ?? (try? ProcessCommand.parse(rest))?.request {
                do {
                    try request.run()
                    terminate(0)
                } catch let code as ExitCode {
                    // What ArgumentParser's exit would do for an ExitCode, without its reflection.
                    terminate(code.rawValue)
                } catch {
                    ProcessCommand.exit(withError: error)
                }
            }
        }
        main(ProfileCommand.Export.droppingBareDeviceCube(arguments))
    }
}

/// The C library's `exit`, out of reach of `ParsableCommand.exit(withError:)` inside the command types.
func terminate(_ status: Int32) -> Never { exit(status) }

/// Prints one line to stderr (the original stderr, which decoders' captures never redirect).
func complain(_ message: String) {
    writeToStandardError(message + "\n")
}

func writeToStandardError(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(DecoderMessages.originalStandardError, $0.baseAddress, $0.count) }
}

extension OutputSpace: ExpressibleByArgument {}
extension Engine: ExpressibleByArgument {}

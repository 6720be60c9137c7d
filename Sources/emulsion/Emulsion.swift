import ArgumentParser
import Emulsion
import EmulsionCore
import EmulsionIO
import Foundation

@main
struct EmulsionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulsion",
        abstract: "A phone-camera colour pipeline: RAW in, colour-managed PNG out, through tunable looks.",
        subcommands: [ProcessCommand.self, InfoCommand.self, ProfileCommand.self, GoldenCommand.self, DecodeWorkerCommand.self, PreviewCommand.self,
                      BenchCommand.self, DeviceCommand.self],
        defaultSubcommand: ProcessCommand.self)

    /// `profile export P --device D --cube` names the export's format with a bare `--cube`; the
    /// device decides the size, so a bare `--cube` there is dropped before parsing (ArgumentParser
    /// has no options with optional values).
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let status = DecodeWorkerCommand.serveDirectly(arguments) { Foundation.exit(status) }
        main(ProfileCommand.Export.droppingBareDeviceCube(arguments))
    }
}

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

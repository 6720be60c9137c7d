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
        subcommands: [ProcessCommand.self, InfoCommand.self, ProfileCommand.self, BenchCommand.self],
        defaultSubcommand: ProcessCommand.self)
}

/// Prints one line to stderr.
func complain(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

extension OutputSpace: ExpressibleByArgument {}
extension Engine: ExpressibleByArgument {}

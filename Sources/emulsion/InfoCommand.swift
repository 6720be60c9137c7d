import ArgumentParser
import Emulsion
import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Print what a raw file records.")

    @Argument(help: "Raw files, or folders: a folder stands for the raw files directly in it (as for process).")
    var files: [String]

    @Flag(name: .shortAndLong, help: "Also read the raw files in every subfolder of a folder given.")
    var recursive = false

    @Flag(help: "Print JSON (an array, one object per file).")
    var json = false

    @Option(name: .customLong("max-megapixels"), help: "Refuse raws larger than this (guards against absurd headers).")
    var maxMegapixels: Int = RawFile.defaultPixelLimit / 1_000_000

    @OptionGroup var decoding: DecoderOptions

    func validate() throws {
        if let problem = DecoderOptions.megapixelProblem(maxMegapixels) { throw ValidationError(problem) }
    }

    func run() throws {
        var reports: [RawInfo] = []
        var failed = 0
        let expansion: InputFolders.Expansion
        do { expansion = try InputFolders.expand(self.files, recursive: recursive) } catch {
            complain("emulsion: \(error)")
            throw ExitCode(2)
        }
        let files = expansion.paths
        for folder in expansion.unlisted {
            complain("emulsion: \(folder.message) (its raw files are not read)")
            failed += 1
        }
        let decoder = decoding.decoder.serving(files: files.count)
        defer { decoder.finish() }
        for file in files {
            do {
                reports.append(RawInfo(path: file, raw: try decoder.decode(path: file, pixelLimit: maxMegapixels * 1_000_000)))
            } catch {
                complain("emulsion: \(error)")
                failed += 1
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(reports), as: UTF8.self))
        } else {
            print(reports.map(\.text).joined(separator: "\n\n"))
        }
        if failed > 0 { throw ExitCode(1) }
    }
}

import ArgumentParser
import Emulsion
import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension ProfileCommand {
    struct Chart: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "chart",
            abstract: "What a look does to the synthetic ColorChecker: per-patch ΔE2000 against neutral.",
            discussion: "Renders Emulsion's synthetic chart (known true colours) through the look and through the reference, and reports each patch's CIELAB D50 values, ΔE2000 and its lightness, chroma and hue parts.")
        @Argument(help: "Profile name or path.") var profile: String
        @Option(help: "Reference profile.") var against: String = "neutral"
        @Option(name: .customLong("set"), help: "Override a parameter of the look (repeatable).") var overrides: [String] = []
        @Option(help: "Output colour space the patches are measured in.") var space: OutputSpace = .sRGB
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            let loader = ProfileLoader.standard
            let report: ChartReport
            do {
                let look = try loader.load(profile).applying(overrides: overrides)
                for idle in look.idleAssignments(overrides) { complain("emulsion: warning: --set \(idle)") }
                report = try ChartReport(look: look, reference: try loader.load(against), space: space)
            } catch { complain("emulsion: \(error)"); throw ExitCode(2) }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(report.text)
            }
        }
    }
}

import ArgumentParser
import Emulsion
import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `emulsion device`: phone-ISP precision descriptions and how a look fares on them.
struct DeviceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device", abstract: "Phone ISP precision: list device descriptions, report a look's rendering on one.",
        subcommands: [List.self, Report.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Device descriptions (Profiles/devices/ and built-in).")
        func run() throws {
            let loader = DeviceLoader.standard
            for name in loader.availableNames() {
                let line = (try? loader.load(name).precisionSummary) ?? "(invalid)"
                print("\(name.padded(toLength: 12)) \(line)")
            }
        }
    }

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Compare a look rendered through a device's precision with the float rendering.",
            discussion: """
                Prints ΔE00 (mean, p95, max) between the two renders of RAW (default: the synthetic chart) and banding \
                figures on a smooth synthetic sky gradient; writes the ΔE00 heat map.
                """)
        @Argument(help: "Raw file (default: Emulsion's synthetic colour chart).") var raw: String?
        @Option(help: "Profile name or path.") var profile: String = "neutral"
        @Option(help: "Device name (Profiles/devices/) or path.") var device: String
        @Option(help: "Output colour space.") var space: OutputSpace = .sRGB
        @Option(name: .customLong("heat-map"), help: "Heat map to write (PNG; a JPEG when named .jpg, a TIFF when named .tif).") var heatMap: String = "device-report.png"
        @Option(name: .customLong("gradient-picture"), help: "Also write the float (top) and device (bottom) gradient crop (PNG; a JPEG when named .jpg, a TIFF when named .tif).") var gradientPicture: String?
        @Flag(help: "Print a Markdown table row instead of the text report.") var markdown = false
        @Flag(help: "Replace existing outputs.") var overwrite = false

        func validate() throws {
            for (option, name) in [("--heat-map", heatMap), ("--gradient-picture", gradientPicture)] {
                if let name, let refusal = ImageFile.refusal(forName: name, option: option) { throw ValidationError(refusal) }
            }
        }

        func run() throws {
            let look: Profile, description: DeviceDescription
            do {
                look = try ProfileLoader.standard.load(profile)
                description = try DeviceLoader.standard.load(device)
            } catch { complain("emulsion: \(error)"); throw ExitCode(2) }
            do {
                let image = try raw.map { try RawFile.read(path: $0) } ?? SyntheticScene().render()
                let report = try DeviceReport(raw: image, input: raw.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "synthetic chart",
                                              profile: look, device: description, space: space)
                try AtomicOutput.write(ImageFile.bytes(report.heatMap(), for: heatMap), to: heatMap, overwrite: overwrite)
                if let gradientPicture {
                    let start = max(0, min(report.deviceGradient.widestRunStart - 128, DeviceReport.gradientWidth - 512))
                    try AtomicOutput.write(ImageFile.bytes(report.gradientPicture(start: start), for: gradientPicture), to: gradientPicture, overwrite: overwrite)
                }
                print(markdown ? report.markdownRow : report.text + "\nheat map: \(heatMap)")
            } catch { complain("emulsion: \(error)"); throw ExitCode(1) }
        }
    }
}

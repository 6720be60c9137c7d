import ArgumentParser
import Emulsion
import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

struct PreviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "A labelled contact sheet of one raw through several looks, or through a parameter's range.",
        discussion: """
            emulsion preview RAW --profiles all -o sheet.png          every shipped look
            emulsion preview RAW --profiles neutral,leica-vibrant -o sheet.png
            emulsion preview RAW --profile leica-authentic --sweep tone.contrast=0.8:1.6:5 -o strip.png
            emulsion preview RAW --sweep demosaic.algorithm=all -o demosaics.png
            With no RAW, Emulsion's synthetic chart is used. Renders are reduced (--size) for speed.
            """)

    @Argument(help: "Raw file (default: the synthetic chart).") var input: String?
    @Option(help: "Profiles: all, or a comma-separated list of names/paths.") var profiles: String = "all"
    @Option(help: "Sweep one parameter of --profile: stage.param=from:to:count, a list stage.param=a,b,c, or stage.param=all (every option of a choice).") var sweep: String?
    @Option(help: "Base profile for --sweep.") var profile: String = "neutral"
    @Option(name: .customLong("set"), help: "Override a parameter in every render (repeatable).") var overrides: [String] = []
    @Option(name: .shortAndLong, help: "Output image (PNG; a JPEG when named .jpg, a TIFF when named .tif).") var output: String
    @Option(help: "Longest side of each render, pixels.") var size: Int = 480
    @Option(help: "Tiles per row (default: up to 4).") var columns: Int?
    @Option(help: "Kernel engine: simd or scalar.") var engine: Engine = .simd
    @Flag(help: "Replace an existing output.") var overwrite = false

    func validate() throws {
        if let refusal = ImageFile.refusal(forName: output, option: "-o") { throw ValidationError(refusal) }
    }

    func run() throws {
        let loader = ProfileLoader.standard
        var looks: [(label: String, profile: Profile)] = []
        do {
            if let sweep {
                let base = try loader.load(profile).applying(overrides: overrides)
                for idle in base.idleAssignments(overrides) { complain("emulsion: warning: --set \(idle)") }
                let steps = try Preview.sweep(sweep)
                for assignment in steps { looks.append((assignment, try base.applying(overrides: [assignment]))) }
                // Every tile would be the same picture: refuse rather than render them.
                if let idle = looks[0].profile.idleAssignments([steps[0]]).first {
                    complain("emulsion: --sweep \(sweep): \(idle.parameter.path) changes nothing under \(idle.profile): \(idle.parameter.reason)")
                    throw ExitCode(2)
                }
            } else {
                let names = profiles == "all" ? loader.availableNames() : profiles.split(separator: ",").map(String.init)
                for name in names {
                    let look = try loader.load(name).applying(overrides: overrides)
                    for idle in look.idleAssignments(overrides) { complain("emulsion: warning: --set \(idle)") }
                    looks.append((name, look))
                }
            }
        } catch let exit as ExitCode { throw exit } catch { complain("emulsion: \(error)"); throw ExitCode(2) }
        guard !looks.isEmpty else { complain("emulsion: no profiles to preview"); throw ExitCode(2) }
        do {
            let raw: RawImage
            if let input { raw = try RawFile.read(path: input) } else { raw = SyntheticScene().render() }
            // Lens shading is baked into the binned pixels: one reduced raw with it, one without
            // (for a look or sweep with opcodes.gainMap=false), each made when first asked for.
            var reduced: [Bool: RawImage] = [:]
            func small(for profile: Profile) -> RawImage {
                let shading = profile.flag("opcodes", "gainMap")
                if let made = reduced[shading] { return made }
                let made = Preview.downscaled(raw, maxSide: max(16, size), appliesLensShading: shading)
                reduced[shading] = made
                return made
            }
            var tiles: [(label: String, image: RenderedImage)] = []
            let source = input ?? "the synthetic chart"
            for look in looks {
                // A look this file cannot take (cloudy white balance without a colour matrix, in a
                // sweep of every mode) is left off the sheet and named; the others still show.
                do {
                    let small = small(for: look.profile)
                    let profile = try Preview.scalingSpot(look.profile, by: Double(small.width) / Double(raw.width))
                    tiles.append((look.label, try Renderer.render(small, options: RenderOptions(profile: profile, depth: .sixteen, engine: engine))))
                } catch {
                    complain("emulsion: warning: \(source): \(look.label): left off the sheet: \(error)")
                }
            }
            guard !tiles.isEmpty else { throw RenderError("\(source): none of the \(looks.count) renders could be made (see above)") }
            let sheet = try Preview.contactSheet(tiles, columns: columns ?? min(4, tiles.count))
            try AtomicOutput.write(try ImageFile.bytes(sheet, for: output), to: output, overwrite: overwrite)
            print("\(output): \(tiles.count) renders, \(sheet.width)×\(sheet.height)")
        } catch { complain("emulsion: \(error)"); throw ExitCode(1) }
    }
}

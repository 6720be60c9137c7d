import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a look does to the synthetic ColorChecker: each patch rendered through the look and
/// through a reference (neutral), both decoded to CIELAB D50 through the output profile
/// (`EncodedToLab`), and their CIEDE2000 difference with its lightness, chroma and hue parts.
/// The chart is `SyntheticScene` (X-Rite ColorChecker 2014 values), rendered directly from its
/// `RawImage` at 240×160 (small, so tests stay quick); patch means over each patch's inner 60%.
public struct ChartReport: Codable, Sendable {
    public struct Patch: Codable, Sendable {
        public var index: Int
        public var name: String
        public var reference: [Double]
        public var look: [Double]
        public var deltaE2000: Double
        public var deltaL: Double
        public var deltaC: Double
        public var deltaHueDegrees: Double
    }

    public var profile: String
    public var reference: String
    public var space: String
    public var patches: [Patch]
    public var mean: Double
    public var max: Double

    /// Mean patch Lab of a render of the chart.
    public static func patchLabs(_ profile: Profile, space: OutputSpace = .sRGB, engine: Engine = .simd) throws -> [CIELab] {
        let scene = chartScene
        let image = try Renderer.render(scene.raw, options: RenderOptions(profile: profile, space: space, engine: engine, threads: 1))
        let toLab = try EncodedToLab(space)
        return scene.scene.chartPatches.map { truth in
            let r = truth.sampleRect
            var sum = SIMD3<Double>(repeating: 0)
            for y in r.y..<(r.y + r.height) {
                for x in r.x..<(r.x + r.width) {
                    let i = 3 * (y * image.width + x)
                    sum += SIMD3(Double(image.samples[i]), Double(image.samples[i + 1]), Double(image.samples[i + 2])) / 65535
                }
            }
            return toLab.lab(fromEncoded: sum / Double(r.width * r.height))
        }
    }

    /// The chart scene and its raw (made once per process).
    public static let chartScene: (scene: SyntheticScene, raw: RawImage) = {
        let scene = SyntheticScene(width: 240, height: 160)
        return (scene, scene.render())
    }()

    public init(look: Profile, reference: Profile, space: OutputSpace = .sRGB) throws {
        let a = try Self.patchLabs(reference, space: space), b = try Self.patchLabs(look, space: space)
        profile = look.name
        self.reference = reference.name
        self.space = space.rawValue
        patches = ColorCheckerReference.patches.enumerated().map { i, patch in
            let x = a[i], y = b[i]
            var dh = y.hueDegrees - x.hueDegrees
            if dh > 180 { dh -= 360 }
            if dh < -180 { dh += 360 }
            return Patch(index: i + 1, name: patch.name, reference: [x.L, x.a, x.b], look: [y.L, y.a, y.b],
                         deltaE2000: x.deltaE2000(to: y), deltaL: y.L - x.L, deltaC: y.chroma - x.chroma,
                         deltaHueDegrees: x.chroma < 2 || y.chroma < 2 ? 0 : dh)
        }
        mean = patches.map(\.deltaE2000).reduce(0, +) / Double(patches.count)
        max = patches.map(\.deltaE2000).max() ?? 0
    }

    public var text: String {
        func f(_ v: Double, _ w: Int = 7, _ d: Int = 1) -> String {
            let s = CFormat.string("%.\(d)f", v)
            return String(repeating: " ", count: Swift.max(0, w - s.count)) + s
        }
        var lines = ["\(profile) vs \(reference) on the synthetic ColorChecker (\(space), CIELAB D50)",
                     " #  patch            ref L*    a*     b*  │ look L*   a*     b*  │  ΔE00     ΔL     ΔC    Δh°"]
        for p in patches {
            lines.append(CFormat.string("%2d", p.index) + "  " + p.name.padded(toLength: 15)
                         + f(p.reference[0]) + f(p.reference[1]) + f(p.reference[2]) + "  │" + f(p.look[0]) + f(p.look[1]) + f(p.look[2])
                         + "  │" + f(p.deltaE2000, 6, 2) + f(p.deltaL) + f(p.deltaC) + f(p.deltaHueDegrees))
        }
        lines.append("mean ΔE00 \(CFormat.string("%.2f", mean)), max \(CFormat.string("%.2f", max))")
        return lines.joined(separator: "\n")
    }
}

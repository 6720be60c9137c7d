import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How far a device rendering is from the float rendering (`emulsion device report`).
///
/// What: the same raw rendered twice with the same profile — the normal engine and device mode —
/// compared pixel by pixel in CIEDE2000 (`ImageComparison`: mean, 95th percentile, max; a heat map
/// by `HeatMap`); and banding on a smooth synthetic sky gradient (`skyGradient`, 16-bit linear RGB,
/// zenith blue → horizon, no noise): along its middle row, the number of distinct output colours,
/// the largest ΔE00 between neighbouring pixels, and the widest run of identical pixels. A float
/// render of the gradient changes colour at almost every pixel; a device that bands shows few
/// levels, wide runs and large steps.
/// Why ΔE00 for steps: a step's visibility depends on where it falls (dark blue vs light cyan), which
/// code differences do not show; a step near 1 ΔE00 on a smooth sky is at the edge of visibility,
/// and several in a row read as bands.
/// Colour space: both renders in `space` (sRGB by default), compared in CIELAB D50.
public struct DeviceReport: Sendable {
    public struct Banding: Sendable, Equatable {
        /// Distinct output colours along the gradient row.
        public var levels: Int
        /// Largest ΔE00 between neighbouring pixels.
        public var maxStep: Double
        /// Widest run of identical pixels.
        public var widestRun: Int
        /// Where that run starts.
        public var widestRunStart: Int
    }

    public var profile: String
    public var device: DeviceDescription
    public var input: String
    public var comparison: ImageComparison
    public var floatGradient: Banding
    public var deviceGradient: Banding
    /// The two gradient renders (for pictures).
    public var floatGradientImage: RenderedImage
    public var deviceGradientImage: RenderedImage

    public static let gradientWidth = 1024
    public static let gradientHeight = 32

    public init(raw: RawImage, input: String, profile: Profile, device: DeviceDescription, space: OutputSpace = .sRGB,
                threads: Int = Executor.defaultThreads) throws {
        var options = RenderOptions(profile: profile, space: space, depth: .sixteen, threads: threads)
        let reference = try Renderer.render(raw, options: options)
        options.device = device
        let rendered = try Renderer.render(raw, options: options)
        comparison = try ImageComparison(approved: reference.pngImage, approvedSpace: space, actual: rendered.pngImage,
                                         actualSpace: space, threshold: GoldenTolerance().threshold, threads: threads)
        let sky = Self.skyGradient()
        options.device = nil
        floatGradientImage = try Renderer.render(sky, options: options)
        options.device = device
        deviceGradientImage = try Renderer.render(sky, options: options)
        floatGradient = try Self.banding(floatGradientImage)
        deviceGradient = try Self.banding(deviceGradientImage)
        self.profile = profile.name
        self.device = device
        self.input = input
    }

    /// A smooth sky: linear sRGB from `SyntheticScene.skyZenith` (left) to `skyHorizon` (right),
    /// captured by the synthetic chart's camera as a 16-bit linear RGB raw (no mosaic, no noise).
    public static func skyGradient(width: Int = gradientWidth, height: Int = gradientHeight) -> RawImage {
        let scene = SyntheticScene(width: SyntheticScene.minimumWidth, height: SyntheticScene.minimumHeight)
        var raw = scene.render()
        var samples = [UInt16](repeating: 0, count: 3 * width * height)
        for x in 0..<width {
            let t = Double(x) / Double(width - 1)
            let rgb = (1 - t) * SyntheticScene.skyZenith + t * SyntheticScene.skyHorizon
            let camera = scene.cameraRGB(xyz: RGBPrimaries.sRGB.toXYZ * rgb)
            for c in 0..<3 {
                let code = UInt16((min(max(camera[c], 0), 1) * 65535).rounded())
                for y in 0..<height { samples[3 * (y * width + x) + c] = code }
            }
        }
        raw.width = width
        raw.height = height
        raw.layout = .rgb
        raw.samples = samples
        raw.levels = SensorLevels(black: 0, white: 65535)
        raw.lensShading = nil
        return raw
    }

    /// Banding along the middle row of a rendered gradient.
    public static func banding(_ image: RenderedImage) throws -> Banding {
        let decoder = try EncodedLabDecoder(space: image.space, bitDepth: image.depth.rawValue)
        let y = image.height / 2
        var colours = Set<[UInt16]>()
        var maxStep = 0.0, run = 1, widest = 1, widestStart = 0
        var previous: (pixel: [UInt16], lab: CIELab)?
        for x in 0..<image.width {
            let i = 3 * (y * image.width + x)
            let p = Array(image.samples[i..<(i + 3)])
            colours.insert(p)
            let lab = decoder.lab(p[0], p[1], p[2])
            if let previous {
                if previous.pixel == p {
                    run += 1
                    if run > widest { widest = run; widestStart = x - run + 1 }
                } else {
                    run = 1
                    maxStep = max(maxStep, previous.lab.deltaE2000(to: lab))
                }
            }
            previous = (p, lab)
        }
        return Banding(levels: colours.count, maxStep: maxStep, widestRun: widest, widestRunStart: widestStart)
    }

    /// The heat map of the chart (or raw) comparison.
    public func heatMap(maxSide: Int = 800) throws -> PNGImage {
        let s = comparison.statistics
        return try HeatMap.image(comparison, maxSide: maxSide, caption: "\(profile) on \(device.name): "
            + CFormat.string("mean %.2f p95 %.2f max %.2f", s.mean, s.percentile95, s.max))
    }

    /// An 8-bit picture of `width` gradient columns from `start`: the float render above, the
    /// device render below, each `rows` tall (at most the gradient's height), a 2-pixel grey gap between.
    public func gradientPicture(start: Int = 0, width: Int = 512, rows: Int = gradientHeight) throws -> PNGImage {
        let w = min(width, floatGradientImage.width - start)
        let rows = min(rows, floatGradientImage.height)
        let h = 2 * rows + 2
        var samples = [UInt16](repeating: 128, count: 3 * w * h)
        for (band, image) in [floatGradientImage, deviceGradientImage].enumerated() {
            let shift = image.depth == .sixteen ? 8 : 0
            for y in 0..<rows {
                let source = y * image.width
                let row = band * (rows + 2) + y
                for x in 0..<w {
                    for c in 0..<3 {
                        let v = Int(image.samples[3 * (source + start + x) + c])
                        // 16 → 8 bits rounded (v · 255 / 65535).
                        samples[3 * (row * w + x) + c] = UInt16(shift == 0 ? v : (v * 255 + 32767) / 65535)
                    }
                }
            }
        }
        return PNGImage(width: w, height: h, bitDepth: 8, channels: 3, samples: samples, iccProfile: try floatGradientImage.space.iccProfile())
    }

    /// The figures as text (one block per report).
    public var text: String {
        let s = comparison.statistics
        func b(_ g: Banding) -> String {
            CFormat.string("%4d levels, largest step %.2f ΔE00, widest band %d px", g.levels, g.maxStep, g.widestRun)
        }
        return [
            "\(profile) on \(device.name) vs float (\(input), \(comparison.width)×\(comparison.height))",
            "device: \(device.precisionSummary)",
            CFormat.string("ΔE00 mean %.3f, p95 %.3f, max %.3f", s.mean, s.percentile95, s.max),
            "sky gradient (\(Self.gradientWidth) px) float:  " + b(floatGradient),
            "sky gradient (\(Self.gradientWidth) px) device: " + b(deviceGradient),
        ].joined(separator: "\n")
    }

    /// One Markdown table row: profile | device | mean | p95 | max | levels float/device | step float/device | widest band.
    public var markdownRow: String {
        let s = comparison.statistics
        return "| \(profile) | \(device.name) " + CFormat.string("| %.3f | %.3f | %.3f | %d / %d | %.2f / %.2f | %d / %d |",
                      s.mean, s.percentile95, s.max, floatGradient.levels, deviceGradient.levels,
                      floatGradient.maxStep, deviceGradient.maxStep, floatGradient.widestRun, deviceGradient.widestRun)
    }
}

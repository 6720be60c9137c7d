#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Vignette: a smooth gain falling toward the corners, applied to scene-linear light (where a
/// lens's own fall-off happens), so the tone curve then shapes it like real vignetting.
///
/// What: gain = 2^(amount · smoothstep(midpoint, 1, ρ)), with ρ the distance from the image
/// centre normalised to 1 at the corners; `roundness` blends an ellipse following the frame
/// (0) and a circle (1). How: ρ² = dx² + dy²; dx² per column is a prepared table (so a lane group
/// loads it contiguously) and dy² is one scalar per row; the gain is a table over ρ² (256
/// entries, linear interpolation), so no pow/exp runs per pixel and both engines agree bitwise.
/// Reference: the usual post-crop vignette of raw editors (e.g. darktable's vignette module,
/// Lightroom's "post-crop vignetting" midpoint/roundness controls).
/// Colour space: working RGB (linear Rec.2020) in and out. Position: image (source) coordinates.
public struct VignetteKernel: PointKernel {
    public struct Params: Sendable, Equatable {
        public var amount: Double
        public var midpoint: Double
        public var roundness: Double
        public init(_ profile: Profile) {
            amount = profile.number("vignette", "amount")
            midpoint = profile.number("vignette", "midpoint")
            roundness = profile.number("vignette", "roundness")
        }
        public init(amount: Double, midpoint: Double = 0.4, roundness: Double = 0.5) {
            self.amount = amount; self.midpoint = midpoint; self.roundness = roundness
        }
    }

    public static let gainCount = 256
    /// dx² per column (normalised so a corner has ρ² = 1), padded for lane loads.
    public let columns: LookTable
    public let centreY: Float
    public let rowScale: Float
    /// Gain by ρ² · (gainCount − 1).
    public let gains: LookTable

    public static func prepare(_ params: Params, _ context: LookContext) -> LookElement? {
        guard params.amount != 0 else { return nil }
        return .kernel(VignetteKernel(params, context))
    }

    public init(_ params: Params, _ context: LookContext) {
        let w = Double(context.width), h = Double(context.height)
        // Half-axes: ellipse through the corners following the frame, or a circle through them.
        let ellipse = (w / 2 * 2.0.squareRoot(), h / 2 * 2.0.squareRoot())
        let circle = (w * w + h * h).squareRoot() / 2
        var ax = ellipse.0 + (circle - ellipse.0) * params.roundness
        var ay = ellipse.1 + (circle - ellipse.1) * params.roundness
        let corner = ((w / 2) / ax) * ((w / 2) / ax) + ((h / 2) / ay) * ((h / 2) / ay)
        ax *= corner.squareRoot(); ay *= corner.squareRoot()
        columns = LookTable((0..<context.width).map { x in
            let d = (Double(x) + 0.5 - w / 2) / ax
            return Float(d * d)
        })
        centreY = Float(h / 2)
        rowScale = Float(1 / ay)
        let n = Self.gainCount
        gains = LookTable((0..<n).map { i in
            let rho = (Double(i) / Double(n - 1)).squareRoot()
            let t = min(max((rho - params.midpoint) / max(1 - params.midpoint, 1e-6), 0), 1)
            let s = t * t * (3 - 2 * t)
            return Float(pow(2, params.amount * s))
        })
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ input: RGB<L>, at location: PixelLocation) -> RGB<L> {
        let p = LookMath.finite(input)
        let dy = (Float(location.y) + 0.5 - centreY) * rowScale
        let dx2 = L(loading: columns.pointer + location.x)
        let position = ((dx2 + L(repeating: dy * dy)) * L(repeating: Float(Self.gainCount - 1))).clamped(0, Float(Self.gainCount - 1))
        let gain = position.interpolated(in: gains.pointer, count: Self.gainCount)
        return RGB(p.r * gain, p.g * gain, p.b * gain)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Split toning: a tint in the shadows and another in the highlights, luminance kept.
///
/// What: out = RGB + Y · (w_s(t)·A_s + w_h(t)·A_h), Y the Rec.2020 luminance of the (display-
/// linear) input, t = √Y a rough lightness. A = strength · ½ · d / max|d|, where d = T/Y(T) − 1 for
/// the tint T = the fully saturated sRGB colour of the chosen hue (HSV hue wheel, as editors show
/// it) in working RGB; Y(d) = 0, so the tint changes chroma and not luminance. w_h is a smoothstep
/// across the split point 0.5 − 0.3·balance (width ±0.35) and w_s = 1 − w_h, evaluated as the
/// cubic it is: u = clamp(t · k + c, 0, 1), w_h = u²(3 − 2u), a handful of lane operations where a
/// table read is a per-lane load on SSE2 (and was a linear approximation of the same cubic).
/// Reference: the split-toning panel of Lightroom / darktable's "split-toning" module.
/// Colour space: display-linear working RGB (after the tone curve) in and out.
public struct SplitToningKernel: PointKernel {
    public struct Params: Sendable, Equatable {
        public var shadowHue: Double
        public var shadowSaturation: Double
        public var highlightHue: Double
        public var highlightSaturation: Double
        public var balance: Double
        public init(_ profile: Profile) {
            shadowHue = profile.number("splitToning", "shadowHue")
            shadowSaturation = profile.number("splitToning", "shadowSaturation")
            highlightHue = profile.number("splitToning", "highlightHue")
            highlightSaturation = profile.number("splitToning", "highlightSaturation")
            balance = profile.number("splitToning", "balance")
        }
    }

    public let shadow: (Float, Float, Float)
    public let highlight: (Float, Float, Float)
    /// The smoothstep's position u = t · weightScale + weightOffset (before clamping to [0, 1]).
    public let weightScale: Float
    public let weightOffset: Float

    public static func prepare(_ params: Params) -> LookElement? {
        guard params.shadowSaturation > 0 || params.highlightSaturation > 0 else { return nil }
        return .kernel(SplitToningKernel(params))
    }

    /// The tint direction for an sRGB hue, in working RGB, luminance 0, largest component ±1.
    public static func tintDirection(hueDegrees: Double) -> SIMD3<Double> {
        let h = (hueDegrees.truncatingRemainder(dividingBy: 360) + 360).truncatingRemainder(dividingBy: 360) / 60
        func channel(_ n: Double) -> Double {
            let k = (n + h).truncatingRemainder(dividingBy: 6)
            return 1 - max(0, min(k, 4 - k, 1))
        }
        let encoded = SIMD3(channel(5), channel(3), channel(1))
        func decode(_ v: Double) -> Double { v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4) }
        let linear = SIMD3(decode(encoded.x), decode(encoded.y), decode(encoded.z))
        let working = WorkingSpace.fromLinearSRGB * linear
        let y = 0.2627 * working.x + 0.6780 * working.y + 0.0593 * working.z
        let d = working / y - 1
        let largest = max(abs(d.x), abs(d.y), abs(d.z))
        return largest > 0 ? d / largest : .zero
    }

    public init(_ params: Params) {
        let s = Self.tintDirection(hueDegrees: params.shadowHue) * (params.shadowSaturation / 2)
        let h = Self.tintDirection(hueDegrees: params.highlightHue) * (params.highlightSaturation / 2)
        shadow = (Float(s.x), Float(s.y), Float(s.z))
        highlight = (Float(h.x), Float(h.y), Float(h.z))
        let start = 0.5 - 0.3 * params.balance - 0.35
        weightScale = Float(1 / 0.7)
        weightOffset = Float(-start / 0.7)
    }

    /// w_h at t = √Y: 0 below the transition, 1 above it, a smoothstep across it.
    @inlinable @inline(__always)
    public func highlightWeight<L: Lanes>(_ t: L) -> L {
        let u = (t * L(repeating: weightScale) + L(repeating: weightOffset)).clamped(0, 1)
        return u * u * (L(repeating: 3) - (u + u))
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ input: RGB<L>, at location: PixelLocation) -> RGB<L> {
        let p = LookMath.finite(input)
        let y = LookMath.luminance(p).clamped(0, 1)
        let wh = highlightWeight(y.squareRoot())
        let ws = L(repeating: 1) - wh
        let a = y * ws, b = y * wh
        return RGB(p.r + a * L(repeating: shadow.0) + b * L(repeating: highlight.0),
                   p.g + a * L(repeating: shadow.1) + b * L(repeating: highlight.1),
                   p.b + a * L(repeating: shadow.2) + b * L(repeating: highlight.2))
    }
}

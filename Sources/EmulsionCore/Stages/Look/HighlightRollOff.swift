#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Highlight roll-off: scene highlights compressed smoothly toward a ceiling, and desaturated
/// as they are compressed, before the tone curve.
///
/// Why: channels clip one by one, so bright saturated colours (sky, skin in sun, lamps) skew in
/// hue on their way to white; film instead desaturates them gracefully. What: with m = max(R,G,B),
/// s = start·ceiling and c = ceiling, m′ = m below s, and above it m′ = s + (c − s)(1 − e^{−(m−s)/(c−s)})
/// (value and slope continuous at s, approaching c); all channels are scaled by m′/m (hue kept),
/// then moved toward luminance by desaturation·u², u = (m′ − s)/(c − s). Both functions of m are
/// tables over t = m / (m + c) ∈ [0, 1) (1024 entries), which covers every m ≥ 0 with no pow/exp
/// per pixel. Reference: the "soft clip"/"highlight compression" of grading tools (e.g. ACES
/// RRT's gamut/highlight desaturation, darktable filmic's highlight desaturation).
/// Colour space: working RGB (linear Rec.2020, D65) in and out.
public struct HighlightRollOffKernel: PointKernel {
    public struct Params: Sendable, Equatable {
        public var enabled: Bool
        public var start: Double
        public var ceiling: Double
        public var desaturation: Double
        public init(_ profile: Profile) {
            enabled = profile.flag("highlightRollOff", "enabled")
            start = profile.number("highlightRollOff", "start")
            ceiling = profile.number("highlightRollOff", "ceiling")
            desaturation = profile.number("highlightRollOff", "desaturation")
        }
    }

    public static let count = 1024
    public let ceiling: Float
    /// `ceiling > 0`, as the profile's range guarantees (see `apply`).
    public let ceilingPositive: Bool
    /// m′/m and the desaturation weight, by t · (count − 1).
    public let scale: LookTable
    public let desaturation: LookTable
    /// Positions below this interpolate between cells that all hold k = 1 and d = 0 (the part of
    /// the table below the start), where the lookups give exactly 1 and +0; −1 when there are none.
    public let untouchedBelow: Float

    public static func prepare(_ params: Params) -> LookElement? {
        params.enabled ? .kernel(HighlightRollOffKernel(params)) : nil
    }

    public init(_ params: Params) {
        let c = params.ceiling, s = params.start * c
        var k: [Float] = [], d: [Float] = []
        for i in 0..<Self.count {
            let t = Double(i) / Double(Self.count - 1)
            guard t < 1 else { k.append(0); d.append(Float(params.desaturation)); continue }
            let m = c * t / (1 - t)
            guard m > s else { k.append(1); d.append(0); continue }
            let compressed = s + (c - s) * (1 - exp(-(m - s) / (c - s)))
            let u = (compressed - s) / (c - s)
            k.append(Float(compressed / m))
            d.append(Float(params.desaturation * u * u))
        }
        ceiling = Float(c)
        ceilingPositive = ceiling > 0
        scale = LookTable(k)
        desaturation = LookTable(d)
        // Interpolation at position p reads cells i and i + 1 with i ≤ p, so p < first − 1 reads
        // only cells before the first one that does something.
        let first = k.indices.first { k[$0] != 1 || d[$0] != 0 } ?? Self.count
        untouchedBelow = first >= 1 ? Float(first - 1) : -1
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ input: RGB<L>, at location: PixelLocation) -> RGB<L> {
        let p = LookMath.finite(input)
        let m = LookMath.maximum(p.r, LookMath.maximum(p.g, p.b)).atLeast(0)
        let t = m / (m + L(repeating: ceiling))
        // With a positive ceiling, t is already in [0, 1] (m is finite and ≥ 0, and m + c rounds
        // to at least m), so the clamp would change nothing: skipping it shortens the kernel's
        // dependency chain, which is what bounds it (docs/PERFORMANCE.md, run v13).
        let position = (ceilingPositive ? t : t.clamped(0, 1)) * L(repeating: Float(Self.count - 1))
        // Most pixels lie below the start: where a whole lane group does, the lookups would give
        // k = 1 and d = +0 exactly (1 + f·0, 0 + f·0 with 0 ≤ f ≤ 1), so they are skipped and the
        // same constants used — the same bits, without the gathers that SSE2 makes one lane at a
        // time (docs/PERFORMANCE.md, run v14).
        let k: L, d: L
        if position.allLanesBelow(untouchedBelow) {
            k = L(repeating: 1); d = L(repeating: 0)
        } else {
            k = position.interpolated(in: scale.pointer, count: Self.count)
            d = position.interpolated(in: desaturation.pointer, count: Self.count)
        }
        let q = RGB(p.r * k, p.g * k, p.b * k)
        let y = LookMath.luminance(q)
        return RGB(q.r + d * (y - q.r), q.g + d * (y - q.g), q.b + d * (y - q.b))
    }
}

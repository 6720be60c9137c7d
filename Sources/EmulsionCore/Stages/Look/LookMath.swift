/// Shared per-lane helpers for the look stages (not a stage): selects, the DNG hexcone HSV
/// conversion and working-space luminance, written once over `Lanes` from the protocol's
/// requirements so both engines run the same IEEE operations.
///
/// Colour space: the working space (linear Rec.2020, D65). Hue is the hexcone hue of working RGB
/// in sextants, 0 ≤ h < 6 (DNG SDK `DNG_RGBtoHSV`, dng_reference.cpp), computed without atan2.
/// This file must stay free of Foundation (kernel code).
public enum LookMath {
    /// Rec.2020 luminance weights (ITU-R BT.2020-2 Table 4), the working space's Y row.
    public static let luminanceWeights: (Float, Float, Float) = (0.2627, 0.6780, 0.0593)
    /// Largest magnitude a look kernel lets through; NaN becomes `-limit` (the clamp policy).
    public static let limit: Float = 65536

    @inlinable @inline(__always)
    public static func maximum<L: Lanes>(_ a: L, _ b: L) -> L { (a - b).choosing(above: 0, then: a, otherwise: b) }

    @inlinable @inline(__always)
    public static func minimum<L: Lanes>(_ a: L, _ b: L) -> L { (a - b).choosing(above: 0, then: b, otherwise: a) }

    /// Finite input for the look kernels: ±Inf limited, NaN mapped to the lower bound.
    @inlinable @inline(__always)
    public static func finite<L: Lanes>(_ p: RGB<L>) -> RGB<L> {
        RGB(p.r.clamped(-limit, limit), p.g.clamped(-limit, limit), p.b.clamped(-limit, limit))
    }

    /// `x.clamped(lower, upper)`, the same values, written with `choosing` on x − bound: exact,
    /// since x − y is 0 only where x = y (subnormals are kept), > 0 exactly where x > y, and NaN
    /// compares false, so NaN and −0 (when `lower` is 0) become `lower` as the rule says. For the
    /// kernels that derive hue (saturation/vibrance, skin protection): there LLVM turned `clamped`
    /// into a compare, move and branch per lane; `choosing` stays vector selects (`SIMD4.select`).
    @inlinable @inline(__always)
    public static func clampedBySelect<L: Lanes>(_ x: L, _ lower: Float, _ upper: Float) -> L {
        let low = (x - L(repeating: lower)).choosing(above: 0, then: x, otherwise: L(repeating: lower))
        return (low - L(repeating: upper)).choosing(above: 0, then: L(repeating: upper), otherwise: low)
    }

    /// `finite` through `clampedBySelect` (same values).
    @inlinable @inline(__always)
    public static func finiteBySelect<L: Lanes>(_ p: RGB<L>) -> RGB<L> {
        RGB(clampedBySelect(p.r, -limit, limit), clampedBySelect(p.g, -limit, limit), clampedBySelect(p.b, -limit, limit))
    }

    @inlinable @inline(__always)
    public static func luminance<L: Lanes>(_ p: RGB<L>) -> L {
        p.r * L(repeating: luminanceWeights.0) + p.g * L(repeating: luminanceWeights.1) + p.b * L(repeating: luminanceWeights.2)
    }

    /// Hexcone hue (sextants, [0, 6)), saturation (gap / max) and value (max), as the DNG SDK
    /// computes them; where max − min ≤ 0 or max ≤ 0 hue and saturation are 0.
    @inlinable @inline(__always)
    public static func hsv<L: Lanes>(_ p: RGB<L>) -> (h: L, s: L, v: L) {
        let v = maximum(p.r, maximum(p.g, p.b))
        let gap = v - minimum(p.r, minimum(p.g, p.b))
        let one = L(repeating: 1)
        let safeGap = gap.choosing(above: 0, then: gap, otherwise: one)
        let safeV = v.choosing(above: 0, then: v, otherwise: one)
        var hr = (p.g - p.b) / safeGap
        hr = hr + (L(repeating: 0) - hr).choosing(above: 0, then: L(repeating: 6), otherwise: L(repeating: 0))
        let hg = L(repeating: 2) + (p.b - p.r) / safeGap
        let hb = L(repeating: 4) + (p.r - p.g) / safeGap
        // DNG order: red when r is the maximum, else green when g is, else blue.
        let h = (v - p.r).choosing(above: 0, then: (v - p.g).choosing(above: 0, then: hb, otherwise: hg), otherwise: hr)
        let valid = minimum(gap, v)
        let zero = L(repeating: 0)
        return (valid.choosing(above: 0, then: h, otherwise: zero), valid.choosing(above: 0, then: gap / safeV, otherwise: zero), v)
    }

    /// The inverse of `hsv` (h in [0, 6), any s ≥ 0): channel n = v − v·s·clamp(min(k, 4 − k), 0, 1)
    /// with k = (n + h) mod 6 and n = 5, 3, 1 for R, G, B — the sextant formula without branches.
    @inlinable @inline(__always)
    public static func rgb<L: Lanes>(h: L, s: L, v: L) -> RGB<L> {
        let vs = v * s
        @inline(__always) func channel(_ n: Float) -> L {
            var k = h + L(repeating: n)
            k = k - (k - L(repeating: 6)).choosing(above: -1e-30, then: L(repeating: 6), otherwise: L(repeating: 0))
            let f = minimum(k, L(repeating: 4) - k).clamped(0, 1)
            return v - vs * f
        }
        return RGB(channel(5), channel(3), channel(1))
    }

    /// Hue `h` (sextants) wrapped into [0, 6) from (−6, 12).
    @inlinable @inline(__always)
    public static func wrapHue<L: Lanes>(_ h: L) -> L {
        let six = L(repeating: 6), zero = L(repeating: 0)
        let low = h + (zero - h).choosing(above: 0, then: six, otherwise: zero)
        return low - (low - six).choosing(above: -1e-30, then: six, otherwise: zero)
    }
}

/// Immutable float storage a kernel reads through a raw pointer (no array bounds or closure
/// nesting in the hot loop). Built once by a stage's prepare step; padded by 16 floats so a lane
/// group may load past the last entry.
public final class LookTable: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(_ values: [Float]) {
        count = values.count
        pointer = .allocate(capacity: values.count + 16)
        pointer.initialize(repeating: 0, count: values.count + 16)
        for (i, v) in values.enumerated() { pointer[i] = v }
    }

    /// `count` values written in place by `fill` (no intermediate array: the local contrast's
    /// interpolated rows are megabytes).
    public init(count: Int, fill: (UnsafeMutablePointer<Float>) -> Void) {
        self.count = count
        pointer = .allocate(capacity: count + 16)
        pointer.initialize(repeating: 0, count: count + 16)
        fill(pointer)
    }

    deinit { pointer.deallocate() }

    public subscript(i: Int) -> Float { pointer[i] }
    public var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// Where a prepared look stage goes in the point chain.
public enum LookElement: Sendable {
    /// A linear map (fused with its neighbours by `PointStageChain`).
    case matrix(Matrix3)
    case kernel(any PointKernel)
}

/// What the look stages may depend on besides their parameters: the size of the image the
/// strips come from (before orientation), for position-dependent stages.
public struct LookContext: Sendable {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) { self.width = width; self.height = height }
}

/// BENCHMARK ONLY (not part of the engine; measured slower than the table: docs/PERFORMANCE.md).
/// A parametric transfer curve evaluated without a table: `scale · x^exponent + offset` above
/// `threshold`, `slope · x` at and below it (sRGB, Adobe RGB's pure gamma, BT.2020 and ROMM all
/// take this form in the encoding direction: ICC.1:2022 §10.18, LittleCMS parametric types −1 and −4).
///
/// Why no table: a table lookup per lane is a gather, which SSE2 lacks (each lane's index is
/// extracted and loaded on its own), so a table-driven curve ran at 2× the scalar engine, not 4×
/// (docs/PERFORMANCE.md). Here every step is plain lane arithmetic and bit operations, the same
/// operations in the scalar and vector instantiations, so the engines agree bit for bit.
///
/// How: x^p = 2^(p · log2 x). `exponentSplit` gives x = m · 2^k with m ∈ [√½, √2); with
/// s = (m − 1)/(m + 1) (|s| ≤ 0.1716), log2 m = s · P(s²), P of degree 2 (the artanh series
/// 2/ln2 · (1 + s²/3 + s⁴/5 …), coefficients refitted for the least worst-case error on this
/// interval: ≤ 6·10⁻⁸ in log2 m). y = p·k + p·log2 m is split into a whole n and f ∈ [−½, ½];
/// 2^f = 1 + f·Q(f), Q of degree 4 (refitted minimax-style for relative error, constant term
/// kept at exactly 1 so 2⁰ = 1: ≤ 1.1·10⁻⁷ relative with the Float coefficients); `timesPowerOfTwo`
/// adds n to the exponent. Both fits: iteratively reweighted least squares on 4·10⁵ points
/// (numpy), the same coefficients for every curve. Error against the exact curve (double
/// precision, same parameters) including Float rounding: measured ≤ 1·10⁻⁶ of full scale for
/// every output space, i.e. < 0.07 of a 16-bit code (tested: ColourManagementTests).
///
/// Domain: `encode` clamps to [0, 1] first (NaN → 0); `threshold` must be ≥ 2⁻³² so the power
/// is evaluated only on normal numbers whose result stays normal.
///
/// Foundation-free (compiled for aarch64 in the NEON codegen check).
public struct PowerCurve: Sendable, Equatable {
    public let exponent: Float
    public let scale: Float
    public let offset: Float
    public let threshold: Float
    public let slope: Float
    /// p · (log2 m)/s coefficients in s² (degree 0, 1, 2).
    let log0, log1, log2: Float

    /// 2^f − 1 = f · (e1 + f · (e2 + f · (e3 + f · (e4 + f · e5)))) on [−½, ½].
    static let e1: Float = 0.6931469777312504
    static let e2: Float = 0.24022242358504836
    static let e3: Float = 0.05550733709812765
    static let e4: Float = 0.009671495128494412
    static let e5: Float = 0.0013264675299126752

    /// The smallest threshold allowed (2⁻³²): far below any 16-bit code, and the power of any
    /// value from it up to 1 stays a normal float for exponents up to 1.
    public static let smallestThreshold = Float(bitPattern: UInt32(127 - 32) << 23)

    public init(exponent: Double, scale: Double, offset: Double, threshold: Double, slope: Double) {
        precondition(exponent > 0 && exponent <= 1, "PowerCurve: exponent \(exponent) outside (0, 1]")
        self.exponent = Float(exponent)
        self.scale = Float(scale)
        self.offset = Float(offset)
        self.threshold = max(Float(threshold), Self.smallestThreshold)
        self.slope = Float(slope)
        // (log2 m)/s ≈ 2.8853904253416087 + 0.9615880948188469 s² + 0.595786322135245 s⁴.
        log0 = Float(exponent * 2.8853904253416087)
        log1 = Float(exponent * 0.9615880948188469)
        log2 = Float(exponent * 0.595786322135245)
    }

    /// x^exponent for x in [threshold, 1].
    @inline(__always)
    public func power<L: PowerLanes>(_ x: L) -> L {
        let (k, m) = x.exponentSplit()
        let one = L(repeating: 1)
        let s = (m - one) / (m + one)
        let u = s * s
        let y = k * L(repeating: exponent) + s * (L(repeating: log0) + u * (L(repeating: log1) + u * L(repeating: log2)))
        let n = (y + L(repeating: Rounding.magic)) - L(repeating: Rounding.magic)
        let f = y - n
        let q = L(repeating: Self.e1) + f * (L(repeating: Self.e2) + f * (L(repeating: Self.e3)
            + f * (L(repeating: Self.e4) + f * L(repeating: Self.e5))))
        return (one + f * q).timesPowerOfTwo(n)
    }

    /// The curve on `v` clipped to [0, 1] (NaN → 0); the result lies in [0, 1].
    @inline(__always)
    public func encode<L: PowerLanes>(_ v: L) -> L {
        let c = v.clamped(0, 1)
        let curved = power(c.atLeast(threshold)) * L(repeating: scale) + L(repeating: offset)
        return c.choosing(above: threshold, then: curved.atMost(1), otherwise: c * L(repeating: slope))
    }
}

/// The two bit-level operations the closed form needs (they were `Lanes` requirements in the
/// measured version; the code generated is the same).
public protocol PowerLanes: Lanes {
    /// self = significand · 2^exponent, significand in [√½, √2), for positive normal self.
    func exponentSplit() -> (exponent: Self, significand: Self)
    /// self · 2ⁿ for whole n, result normal.
    func timesPowerOfTwo(_ n: Self) -> Self
}

extension Float: PowerLanes {
    @inline(__always) public func exponentSplit() -> (exponent: Float, significand: Float) {
        let k = Int32(bitPattern: bitPattern &- 0x3F35_04F3) &>> 23
        return (Float(k), Float(bitPattern: bitPattern &- (UInt32(bitPattern: k) &<< 23)))
    }
    @inline(__always) public func timesPowerOfTwo(_ n: Float) -> Float {
        let i = (n + Rounding.magic).bitPattern &- Rounding.magicBits
        return Float(bitPattern: bitPattern &+ (i &<< 23))
    }
}

extension SIMD4: PowerLanes where Scalar == Float {
    @inline(__always) public func exponentSplit() -> (exponent: SIMD4<Float>, significand: SIMD4<Float>) {
        let bits = unsafeBitCast(self, to: SIMD4<UInt32>.self)
        let k = unsafeBitCast(bits &- 0x3F35_04F3, to: SIMD4<Int32>.self) &>> 23
        return (SIMD4<Float>(k), unsafeBitCast(bits &- (unsafeBitCast(k, to: SIMD4<UInt32>.self) &<< 23), to: SIMD4<Float>.self))
    }
    @inline(__always) public func timesPowerOfTwo(_ n: SIMD4<Float>) -> SIMD4<Float> {
        let i = unsafeBitCast(n + Rounding.magic, to: SIMD4<UInt32>.self) &- Rounding.magicBits
        return unsafeBitCast(unsafeBitCast(self, to: SIMD4<UInt32>.self) &+ (i &<< 23), to: SIMD4<Float>.self)
    }
}

/// The output encoding (matrix, clip, curve) with the closed-form curve instead of the table,
/// over a strip in place: the same row loop as `PointLoop.run(_:over:lanes:)`.
public struct PowerEncoding {
    public let toOutput: ColourMatrixKernel
    public let curve: PowerCurve

    @inline(__always)
    public func run<L: PowerLanes>(over strip: Strip, _: L.Type) {
        for row in 0..<strip.rows {
            var x = 0
            while x + L.laneCount <= strip.width { group(strip, row * strip.width + x, L.self); x += L.laneCount }
            while x < strip.width { group(strip, row * strip.width + x, Float.self); x += 1 }
        }
    }

    @inline(__always)
    func group<L: PowerLanes>(_ strip: Strip, _ i: Int, _: L.Type) {
        let q = toOutput.apply(RGB(L(loading: strip.r + i), L(loading: strip.g + i), L(loading: strip.b + i)), at: PixelLocation(x: 0, y: 0))
        curve.encode(q.r).store(to: strip.r + i)
        curve.encode(q.g).store(to: strip.g + i)
        curve.encode(q.b).store(to: strip.b + i)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tone curve: scene-linear light → display-linear light, a filmic S-curve and an optional
/// custom curve, baked into one table.
///
/// The filmic curve, built in `prepare` (double precision) and stated here so it can be checked:
/// - shoulder: in log-log terms the curve is a smooth minimum (log-sum-exp, softness 1/κ with
///   κ = 1 / (0.05 + 1.95·shoulder)) of the straight line of slope `contrast` through the pivot and
///   a ceiling; in linear terms y = p·(e^{−κ(c′L+δ)} + e^{−κa})^{−1/κ}, L = ln(x/p) — a
///   generalised Reinhard / log-logistic curve, with δ and c′ set so that y(p) = p exactly and the
///   log-log slope at p is the requested contrast. The ceiling a is solved (bisection) so that
///   the scene level p·2^whitePoint lands exactly on display white; above it the output is 1.
/// - toe: g(y) = y²/(y + k)·(1 + k/p), k = toe·p/4 — keeps the pivot, bends the deep shadows
///   toward black quadratically (a film print's toe); the contrast is pre-divided by g′(p) so
///   the slope at the pivot stays as requested.
/// - black point: the scene level p·2^−blackPoint and below become 0 (an offset, rescaled so the
///   pivot stays put).
/// - method `rgb` sends each channel through the curve (hue and saturation shift in highlights
///   as with film and Adobe-style RGB curves); `ratio` sends max(R,G,B) through it and scales all
///   three channels alike (hue and saturation kept).
/// - `points`: a custom curve after the filmic one, in gamma-2.2 display units (e = y^(1/2.2)),
///   interpolated by a monotone cubic (Fritsch & Carlson, SIAM J. Numer. Anal. 17(2), 1980).
/// The table is indexed by x / x_white's float bits, like the output encoding's
/// (`ExponentCurveTable`: 128 entries per octave over 32 octaves, linear interpolation between
/// them): the same relative precision in the deep shadows, where the toe and black point bend the
/// curve, as in the highlights. (It was indexed by √(x / x_white), 4096 entries: coarse in the
/// deepest octaves, and the square root was the stage's slowest instruction in both engines.)
/// Reference for the shape: J. Hable, "Filmic tonemapping with piecewise power curves" (2017) for
/// toe/shoulder/white-point controls; darktable's filmic/sigmoid modules for log-domain contrast
/// around a grey pivot.
/// Colour space: working RGB (linear Rec.2020, D65) in; display-linear working RGB out.
public struct ToneCurveKernel: PointKernel {
    public struct Params: Sendable, Equatable {
        public var curve: ToneCurveKind
        public var contrast: Double
        public var pivot: Double
        public var toe: Double
        public var shoulder: Double
        public var blackPoint: Double
        public var whitePoint: Double
        public var method: ToneMethod
        public var points: [CurvePoint]
        public init(_ profile: Profile) {
            curve = profile.option("tone", "curve", as: ToneCurveKind.self)
            contrast = profile.number("tone", "contrast")
            pivot = profile.number("tone", "pivot")
            toe = profile.number("tone", "toe")
            shoulder = profile.number("tone", "shoulder")
            blackPoint = profile.number("tone", "blackPoint")
            whitePoint = profile.number("tone", "whitePoint")
            method = profile.option("tone", "method", as: ToneMethod.self)
            points = profile.curve("tone", "points")
        }
        public init(curve: ToneCurveKind = .filmic, contrast: Double = 1.2, pivot: Double = 0.18, toe: Double = 0.3,
                    shoulder: Double = 0.5, blackPoint: Double = 9, whitePoint: Double = 4, method: ToneMethod = .rgb,
                    points: [CurvePoint] = []) {
            self.curve = curve; self.contrast = contrast; self.pivot = pivot; self.toe = toe; self.shoulder = shoulder
            self.blackPoint = blackPoint; self.whitePoint = whitePoint; self.method = method; self.points = points
        }
        public var isIdentity: Bool { curve == .none && points.isEmpty }
    }

    public let table: ExponentCurveTable
    /// 1 / the scene level at the table's end.
    public let inverseMaximum: Float
    public let ratio: Bool
    /// The table's last scene level is at most half `LookMath.limit`, so limit · inverseMaximum
    /// rounds to at least 1 (see `apply`).
    public let endsWithinLimit: Bool

    public static func prepare(_ params: Params) -> LookElement? {
        params.isIdentity ? nil : .kernel(ToneCurveKernel(params))
    }

    public init(_ params: Params) {
        let shape = Self.curve(params)
        let top = shape.maximum
        table = ExponentCurveTable { shape.evaluate($0 * top) }
        inverseMaximum = Float(1 / top)
        endsWithinLimit = 2 * top <= Double(LookMath.limit)
        ratio = params.method == .ratio
    }

    /// The curve as a function of scene-linear x (double precision) and the x where its table ends.
    public static func curve(_ params: Params) -> (evaluate: (Double) -> Double, maximum: Double) {
        let custom = params.points.isEmpty ? nil : MonotoneCubic(params.points)
        func finish(_ y: Double) -> Double {
            guard let custom else { return y }
            let e = pow(min(max(y, 0), 1), 1 / 2.2)
            return pow(min(max(custom.evaluate(e), 0), 1), 2.2)
        }
        guard params.curve == .filmic else {
            return ({ finish(min(max($0, 0), 1)) }, 1)
        }
        let filmic = FilmicCurve(params)
        return ({ finish(filmic.evaluate($0)) }, filmic.whiteX)
    }

    @inlinable @inline(__always)
    public func lookup<L: Lanes>(_ x: L) -> L {
        lookup(x, in: table.pairs.pointer)
    }

    @inlinable @inline(__always)
    func lookup<L: Lanes>(_ x: L, in pairs: UnsafePointer<Float>) -> L {
        table.lookup(x * L(repeating: inverseMaximum), in: pairs)
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ input: RGB<L>, at location: PixelLocation) -> RGB<L> {
        // Per channel, the lookup's clamp of x / maximum to [0, 1] already maps NaN, ±Inf and
        // |x| > LookMath.limit as `finite` would once the table ends at or below half the limit
        // (the profile's ranges keep it ≤ 512): the same values for six fewer vector operations.
        let t = UnsafePointer(table.pairs.pointer)
        if !ratio && endsWithinLimit { return RGB(lookup(input.r, in: t), lookup(input.g, in: t), lookup(input.b, in: t)) }
        let p = LookMath.finite(input)
        if !ratio { return RGB(lookup(p.r, in: t), lookup(p.g, in: t), lookup(p.b, in: t)) }
        let m = LookMath.maximum(p.r, LookMath.maximum(p.g, p.b))
        let tiny: Float = 1e-10
        let safe = m.choosing(above: tiny, then: m, otherwise: L(repeating: 1))
        let k = m.choosing(above: tiny, then: lookup(m, in: t) / safe, otherwise: L(repeating: 0))
        let floor = m.choosing(above: tiny, then: L(repeating: 0), otherwise: L(repeating: t[0]))
        return RGB(p.r * k + floor, p.g * k + floor, p.b * k + floor)
    }
}

/// The filmic curve of `ToneCurveKernel` (see there), in double precision.
struct FilmicCurve {
    struct Shape {
        var p: Double, kappa: Double, k: Double, cBase: Double

        func parts(_ a: Double) -> (c: Double, delta: Double) {
            let e = exp(-kappa * a)
            return (cBase / (1 - e), -log(1 - e) / kappa)
        }

        /// Shoulder and toe, before the black offset; `a` is the log ceiling.
        func raw(_ x: Double, _ a: Double) -> Double {
            guard x > 0 else { return 0 }
            let (c, d) = parts(a)
            let u = -kappa * (c * log(x / p) + d), w = -kappa * a
            let m = max(u, w)
            let f = -(m + log(exp(u - m) + exp(w - m))) / kappa
            let y = p * exp(f)
            return k == 0 ? y : y * y / (y + k) * (1 + k / p)
        }

        func final(_ x: Double, _ a: Double, black: Double) -> Double {
            let b = raw(black, a)
            return (raw(x, a) - b) * p / (p - b)
        }
    }

    let shape: Shape
    let a: Double
    let blackX: Double, whiteX: Double

    init(_ params: ToneCurveKernel.Params) {
        let p = params.pivot
        let kappa = 1 / (0.05 + 1.95 * params.shoulder)
        let k = params.toe * p / 4
        let toeSlope = (p + 2 * k) / (p + k)
        shape = Shape(p: p, kappa: kappa, k: k, cBase: params.contrast / toeSlope)
        blackX = p * pow(2, -params.blackPoint)
        whiteX = p * pow(2, params.whitePoint)
        // Solve the ceiling so that whiteX lands on 1 (the output rises with a: bisection).
        var lo = log(1 / p) + 1e-9, hi = lo + 40
        if shape.final(whiteX, hi, black: blackX) < 1 {
            lo = hi
        } else {
            for _ in 0..<200 {
                let mid = (lo + hi) / 2
                if shape.final(whiteX, mid, black: blackX) < 1 { lo = mid } else { hi = mid }
            }
        }
        a = lo
    }

    func evaluate(_ x: Double) -> Double {
        guard x > blackX else { return 0 }
        return min(1, max(0, shape.final(min(x, whiteX), a, black: blackX)))
    }
}

/// Monotone piecewise-cubic interpolation (Fritsch & Carlson 1980) through increasing x; flat
/// outside the first and last points.
public struct MonotoneCubic: Sendable {
    let xs: [Double], ys: [Double], slopes: [Double]

    public init(_ points: [CurvePoint]) {
        xs = points.map(\.x); ys = points.map(\.y)
        let n = xs.count
        var d = [Double](repeating: 0, count: max(n - 1, 0))
        for i in 0..<(n - 1) { d[i] = (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]) }
        var m = [Double](repeating: 0, count: n)
        if n >= 2 {
            m[0] = d[0]; m[n - 1] = d[n - 2]
            for i in 1..<(n - 1) { m[i] = d[i - 1] * d[i] <= 0 ? 0 : (d[i - 1] + d[i]) / 2 }
            for i in 0..<(n - 1) {
                if d[i] == 0 { m[i] = 0; m[i + 1] = 0; continue }
                let a = m[i] / d[i], b = m[i + 1] / d[i]
                let s = a * a + b * b
                if s > 9 { let t = 3 / s.squareRoot(); m[i] = t * a * d[i]; m[i + 1] = t * b * d[i] }
            }
        }
        slopes = m
    }

    public func evaluate(_ x: Double) -> Double {
        guard let first = xs.first, let last = xs.last else { return x }
        if x <= first { return ys[0] }
        if x >= last { return ys[ys.count - 1] }
        var i = 0
        while xs[i + 1] < x { i += 1 }
        let h = xs[i + 1] - xs[i], t = (x - xs[i]) / h
        let t2 = t * t, t3 = t2 * t
        return (2 * t3 - 3 * t2 + 1) * ys[i] + (t3 - 2 * t2 + t) * h * slopes[i]
            + (-2 * t3 + 3 * t2) * ys[i + 1] + (t3 - t2) * h * slopes[i + 1]
    }
}

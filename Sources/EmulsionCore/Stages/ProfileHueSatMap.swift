/// A DNG camera profile's hue/saturation/value tables (ProfileHueSatMap, ProfileLookTable):
/// per-colour corrections a camera profile adds on top of its matrix.
///
/// What: linear ProPhoto RGB → HSV (hue 0…6, the DNG SDK's convention), the table read at
/// (hue, saturation, value) by trilinear interpolation — hue wraps round, saturation and value
/// are clamped to the table — giving a hue shift (degrees), a saturation scale and a value scale;
/// `h += shift·6/360`, `s = min(s·scale, 1)`, `v *= scale`; back to RGB. With an sRGB-encoded value
/// axis the table is read at the sRGB encoding of `v`. Negative inputs are clamped to 0.
/// Why: matrices alone cannot follow a sensor's response everywhere; DCP profiles (Adobe's, and
/// the 140 in RawTherapee's package) carry these tables for that.
/// Reference: DNG specification 1.6, chapter 6 (ProfileHueSatMap*, ProfileLookTable*, their
/// encodings and order: saturation fastest, then hue, then value).
/// Colour space: linear ProPhoto RGB (D50) in and out.
/// Engines: written once over `Lanes`; table reads are the `interpolated(in:count:)` requirement
/// along hue on a table with a wrap-around column, floors are exact round-to-integer arithmetic.
public struct HueSatMapKernel: PointKernel {
    public let hues: Int, saturations: Int, values: Int
    /// Planar tables (hue shift · 6/360, saturation scale, value scale), each `values × saturations`
    /// rows of `hues + 1` entries (the first hue repeated at the end).
    public let shift: [Float], satScale: [Float], valScale: [Float]
    public let sRGBEncoded: Bool
    /// sRGB encoding of u² for u = i / 4095 (value-axis encoding).
    public let encodeBySquareRoot: [Float]

    public init?(_ table: CameraProfile.HSVTable) {
        guard table.isValid else { return nil }
        hues = table.hues; saturations = table.saturations; values = table.values
        sRGBEncoded = table.sRGBEncoded
        let rowLength = hues + 1
        var a = [Float](repeating: 0, count: values * saturations * rowLength), b = a, c = a
        for v in 0..<values {
            for s in 0..<saturations {
                for h in 0...hues {
                    let source = 3 * (v * hues * saturations + (h % hues) * saturations + s)
                    let target = (v * saturations + s) * rowLength + h
                    a[target] = table.data[source] * (6.0 / 360.0)
                    b[target] = table.data[source + 1]
                    c[target] = table.data[source + 2]
                }
            }
        }
        shift = a; satScale = b; valScale = c
        encodeBySquareRoot = CameraProfile.sRGBEncodingBySquareRoot
    }

    /// `x` rounded down for 0 ≤ x < 2²², as exact float arithmetic (the same in every engine);
    /// an integer x may come out as x − 1, which interpolation with fraction 1 absorbs.
    @inlinable @inline(__always)
    static func floor<L: Lanes>(_ x: L) -> L {
        let magic = L(repeating: 12_582_912)  // 1.5 · 2²³
        return ((x - L(repeating: 0.5)) + magic) - magic
    }

    @inlinable @inline(__always)
    static func maximum<L: Lanes>(_ a: L, _ b: L) -> L { (a - b).choosing(above: 0, then: a, otherwise: b) }
    @inlinable @inline(__always)
    static func minimum<L: Lanes>(_ a: L, _ b: L) -> L { (a - b).choosing(above: 0, then: b, otherwise: a) }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ p: RGB<L>, at location: PixelLocation) -> RGB<L> {
        let zero = L(repeating: 0), six = L(repeating: 6)
        let r = p.r.atLeast(0), g = p.g.atLeast(0), b = p.b.atLeast(0)
        // RGB → HSV.
        let v = Self.maximum(Self.maximum(r, g), b)
        let gap = v - Self.minimum(Self.minimum(r, g), b)
        let safeGap = gap.atLeast(1e-30)
        let hr0 = (g - b) / safeGap
        let hr = (zero - hr0).choosing(above: 0, then: hr0 + six, otherwise: hr0)
        let hg = L(repeating: 2) + (b - r) / safeGap
        let hb = L(repeating: 4) + (r - g) / safeGap
        var h = (v - g).choosing(above: 0, then: hb, otherwise: hg)
        h = (v - r).choosing(above: 0, then: h, otherwise: hr)
        h = gap.choosing(above: 0, then: h, otherwise: zero)
        let s = gap.choosing(above: 0, then: gap / v.atLeast(1e-30), otherwise: zero)

        // Table coordinates.
        let hScaled = (h * L(repeating: Float(hues) / 6)).clamped(0, Float(hues))
        let sScaled = s * L(repeating: Float(saturations - 1))
        let s0 = Self.floor(sScaled).clamped(0, Float(saturations - 2))
        let fs = sScaled - s0
        var v0 = zero, fv = zero
        if values > 1 {
            var axis = v
            if sRGBEncoded {
                axis = encodeBySquareRoot.withUnsafeBufferPointer { t in
                    (v.clamped(0, 1).squareRoot() * L(repeating: 4095)).interpolated(in: t.baseAddress!, count: 4096)
                }
            }
            let vScaled = (axis * L(repeating: Float(values - 1))).clamped(0, Float(values - 1))
            v0 = Self.floor(vScaled).clamped(0, Float(values - 2))
            fv = vScaled - v0
        }
        let rowLength = L(repeating: Float(hues + 1))
        let sCount = L(repeating: Float(saturations))
        let row00 = (v0 * sCount + s0) * rowLength + hScaled
        let row01 = row00 + rowLength  // saturation + 1
        let vStep = values > 1 ? sCount * rowLength : zero
        let row10 = row00 + vStep, row11 = row01 + vStep
        let count = shift.count
        @inline(__always) func read(_ table: UnsafePointer<Float>) -> L {
            let a = row00.interpolated(in: table, count: count), c = row01.interpolated(in: table, count: count)
            let d = row10.interpolated(in: table, count: count), e = row11.interpolated(in: table, count: count)
            let low = a + fs * (c - a), high = d + fs * (e - d)
            return low + fv * (high - low)
        }
        let (dh, ks, kv) = shift.withUnsafeBufferPointer { sh in
            satScale.withUnsafeBufferPointer { ss in
                valScale.withUnsafeBufferPointer { vs in (read(sh.baseAddress!), read(ss.baseAddress!), read(vs.baseAddress!)) }
            }
        }
        var h2 = h + dh
        h2 = (zero - h2).choosing(above: 0, then: h2 + six, otherwise: h2)
        h2 = (h2 - L(repeating: 6)).choosing(above: -1e-30, then: h2 - six, otherwise: h2)
        let s2 = (s * ks).clamped(0, 1)
        let v2 = v * kv

        // HSV → RGB.
        let i = Self.floor(h2).clamped(0, 5)
        let f = h2 - i
        let one = L(repeating: 1)
        let pp = v2 * (one - s2), qq = v2 * (one - s2 * f), tt = v2 * (one - s2 * (one - f))
        @inline(__always) func pick(_ a0: L, _ a1: L, _ a2: L, _ a3: L, _ a4: L, _ a5: L) -> L {
            var x = a0
            x = i.choosing(above: 0.5, then: a1, otherwise: x)
            x = i.choosing(above: 1.5, then: a2, otherwise: x)
            x = i.choosing(above: 2.5, then: a3, otherwise: x)
            x = i.choosing(above: 3.5, then: a4, otherwise: x)
            return i.choosing(above: 4.5, then: a5, otherwise: x)
        }
        return RGB(pick(v2, qq, pp, pp, tt, v2), pick(tt, v2, v2, qq, pp, pp), pick(pp, pp, tt, v2, v2, qq))
    }
}

/// A camera profile's ProfileToneCurve, per channel on linear ProPhoto RGB (0…1; above 1 stays
/// at the curve's end), through a 4096-entry table of the natural cubic spline through the
/// profile's points (the DNG specification interpolates them with a cubic spline).
/// Reference: DNG 1.6 chapter 6, ProfileToneCurve. Colour space: linear ProPhoto RGB in and out.
public struct ProfileToneCurveKernel: PointKernel {
    public let table: [Float]

    public init?(points: [SIMD2<Float>]) {
        var p: [SIMD2<Double>] = []
        for q in points.sorted(by: { $0.x < $1.x }) where p.last.map({ Double(q.x) > $0.x }) ?? true {
            p.append(SIMD2(Double(q.x), Double(q.y)))
        }
        guard p.count >= 2 else { return nil }
        let m = Self.naturalSplineSecondDerivatives(p)
        let last = p.count - 1
        table = (0..<4096).map { i in
            let x = Double(i) / 4095
            if x <= p[0].x { return Float(p[0].y) }
            if x >= p[last].x { return Float(p[last].y) }
            var k = 1
            while p[k].x < x { k += 1 }
            let a = p[k - 1], b = p[k], h = b.x - a.x
            let t = (x - a.x) / h, u = 1 - t
            let y = u * a.y + t * b.y + ((u * u * u - u) * m[k - 1] + (t * t * t - t) * m[k]) * h * h / 6
            return Float(y)
        }
    }

    /// Second derivatives of the natural cubic spline through `p` (zero at both ends), by the
    /// tridiagonal (Thomas) solve.
    static func naturalSplineSecondDerivatives(_ p: [SIMD2<Double>]) -> [Double] {
        let n = p.count
        var m = [Double](repeating: 0, count: n)
        guard n > 2 else { return m }
        var c = [Double](repeating: 0, count: n), d = [Double](repeating: 0, count: n)
        for i in 1..<(n - 1) {
            let h0 = p[i].x - p[i - 1].x, h1 = p[i + 1].x - p[i].x
            let rhs = 6 * ((p[i + 1].y - p[i].y) / h1 - (p[i].y - p[i - 1].y) / h0)
            let diagonal = 2 * (h0 + h1) - h0 * c[i - 1]
            c[i] = h1 / diagonal
            d[i] = (rhs - h0 * d[i - 1]) / diagonal
        }
        for i in stride(from: n - 2, through: 1, by: -1) { m[i] = d[i] - c[i] * m[i + 1] }
        return m
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ p: RGB<L>, at location: PixelLocation) -> RGB<L> {
        table.withUnsafeBufferPointer { t in
            let scale = L(repeating: 4095)
            return RGB((p.r.clamped(0, 1) * scale).interpolated(in: t.baseAddress!, count: 4096),
                       (p.g.clamped(0, 1) * scale).interpolated(in: t.baseAddress!, count: 4096),
                       (p.b.clamped(0, 1) * scale).interpolated(in: t.baseAddress!, count: 4096))
        }
    }
}

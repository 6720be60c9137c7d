/// 3-D LUT: a `.cube` or Hald CLUT applied with tetrahedral interpolation, in the encoding the
/// LUT declares.
///
/// What: working RGB → the declared input encoding (matrix to its primaries, clip to [0, 1], its
/// transfer curve — the output-encoding kernel reused) → lattice position (through the file's
/// DOMAIN_MIN/MAX) → tetrahedral interpolation → the declared output encoding decoded (a
/// 4096-entry table) → working RGB (matrix), mixed with the input by `strength` in linear light.
/// Tetrahedral interpolation splits each lattice cube into six tetrahedra along its main
/// diagonal and blends four corners: out = (1−f₁)·c₀₀₀ + (f₁−f₂)·c_a + (f₂−f₃)·c_ab + f₃·c₁₁₁,
/// f₁ ≥ f₂ ≥ f₃ the sorted fractions (Kasson, Nin, Plouffe & Hafner, "Performing color space
/// conversions with three-dimensional linear interpolation", J. Electronic Imaging 4(3), 1995;
/// the method Resolve and ffmpeg's lut3d `interp=tetrahedral` use). The sort is done with
/// selects, the corners are gathers, so both engines run the same operations.
/// Colour space: working RGB (linear Rec.2020, D65) in and out.
public struct LookLUTKernel: PointKernel {
    public static let decodeCount = 4096
    public let size: Int
    public let encode: OutputEncodingKernel
    public let red: LookTable
    public let green: LookTable
    public let blue: LookTable
    /// Lattice position = encoded · scale + offset, per channel.
    public let scale: (Float, Float, Float)
    public let offset: (Float, Float, Float)
    public let decode: LookTable
    public let toWorking: ColourMatrixKernel
    public let strength: Float

    /// - Parameters:
    ///   - encode: working RGB → the LUT's input encoding, [0, 1].
    ///   - decode: the LUT's output encoding → its linear RGB (applied by table on [0, 1]).
    ///   - outputToWorking: that linear RGB → working RGB.
    public init(lut: LUT3D, encode: OutputEncodingKernel, decode: (Double) -> Double, outputToWorking: Matrix3, strength: Double) {
        size = lut.size
        self.encode = encode
        red = LookTable(stride(from: 0, to: lut.values.count, by: 3).map { lut.values[$0] })
        green = LookTable(stride(from: 1, to: lut.values.count, by: 3).map { lut.values[$0] })
        blue = LookTable(stride(from: 2, to: lut.values.count, by: 3).map { lut.values[$0] })
        let n = Double(lut.size - 1)
        let s = (lut.domainMax - lut.domainMin)
        scale = (Float(n / s.x), Float(n / s.y), Float(n / s.z))
        offset = (Float(-lut.domainMin.x * n / s.x), Float(-lut.domainMin.y * n / s.y), Float(-lut.domainMin.z * n / s.z))
        self.decode = LookTable((0..<Self.decodeCount).map { Float(decode(Double($0) / Double(Self.decodeCount - 1))) })
        toWorking = ColourMatrixKernel(outputToWorking)
        self.strength = Float(strength)
    }

    @inlinable @inline(__always)
    public func position<L: Lanes>(_ v: L, _ scale: Float, _ offset: Float) -> (index: L, fraction: L) {
        let last = Float(size - 1)
        let p = (v * L(repeating: scale) + L(repeating: offset)).clamped(0, last)
        let i = p.floored().clamped(0, last - 1)
        return (i, p - i)
    }

    /// Tetrahedral interpolation of encoded RGB (each in [0, 1] after the domain mapping).
    @inlinable @inline(__always)
    public func interpolate<L: Lanes>(_ e: RGB<L>) -> RGB<L> {
        let n = Float(size)
        let (ir, fr) = position(e.r, scale.0, offset.0)
        let (ig, fg) = position(e.g, scale.1, offset.1)
        let (ib, fb) = position(e.b, scale.2, offset.2)
        let oR = L(repeating: 1), oG = L(repeating: n), oB = L(repeating: n * n)
        let rg = fr - fg
        let maxRGf = rg.choosing(above: 0, then: fr, otherwise: fg), maxRGo = rg.choosing(above: 0, then: oR, otherwise: oG)
        let minRGf = rg.choosing(above: 0, then: fg, otherwise: fr), minRGo = rg.choosing(above: 0, then: oG, otherwise: oR)
        let f1 = (fb - maxRGf).choosing(above: 0, then: fb, otherwise: maxRGf)
        let o1 = (fb - maxRGf).choosing(above: 0, then: oB, otherwise: maxRGo)
        let f3 = (minRGf - fb).choosing(above: 0, then: fb, otherwise: minRGf)
        let o3 = (minRGf - fb).choosing(above: 0, then: oB, otherwise: minRGo)
        let f2 = LookMath.maximum(minRGf, LookMath.minimum(maxRGf, fb))
        let base = ir + ig * oG + ib * oB
        let v1 = base + o1
        let v2 = base + (L(repeating: 1 + n + n * n) - o3)
        let v3 = base + L(repeating: 1 + n + n * n)
        let w0 = L(repeating: 1) - f1, w1 = f1 - f2, w2 = f2 - f3
        @inline(__always) func blend(_ t: LookTable) -> L {
            base.gathered(from: t.pointer) * w0 + v1.gathered(from: t.pointer) * w1
                + v2.gathered(from: t.pointer) * w2 + v3.gathered(from: t.pointer) * f3
        }
        return RGB(blend(red), blend(green), blend(blue))
    }

    @inlinable @inline(__always)
    public func decoded<L: Lanes>(_ v: L) -> L {
        (v.clamped(0, 1) * L(repeating: Float(Self.decodeCount - 1))).interpolated(in: decode.pointer, count: Self.decodeCount)
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ input: RGB<L>, at location: PixelLocation) -> RGB<L> {
        let p = LookMath.finite(input)
        let e = encode.apply(p, at: location)
        let c = interpolate(e)
        let q = toWorking.apply(RGB(decoded(c.r), decoded(c.g), decoded(c.b)), at: location)
        if strength == 1 { return q }
        let s = L(repeating: strength)
        return RGB(p.r + s * (q.r - p.r), p.g + s * (q.g - p.g), p.b + s * (q.b - p.b))
    }
}

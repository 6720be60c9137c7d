/// Output encoding: linear working RGB → the output space's encoded RGB in [0, 1].
///
/// What: a 3×3 matrix into the output primaries (with chromatic adaptation where whites differ),
/// a clip to the output gamut's [0, 1] cube, then the output transfer curve (sRGB, gamma 2.2,
/// BT.2020, ROMM 1.8…) by a table indexed by the float's exponent and top mantissa bits
/// (`ExponentCurveTable`, which says why). The matrix and curve come from the LittleCMS profile
/// the PNG embeds (EmulsionIO builds them), so the pixels agree with the ICC tag; a test compares
/// with a LittleCMS transform.
/// Colour space: working RGB (linear Rec.2020, D65) in; encoded output RGB out.
public struct OutputEncodingKernel: PointKernel {
    public let toOutput: ColourMatrixKernel
    /// The transfer curve; entry 0 is curve(0).
    public let curve: ExponentCurveTable
    /// Every entry in [0, 1]: then so is every output (the input is clipped, and interpolating
    /// between two entries stays between them up to two roundings, ~2e-7), and the fused sink
    /// skips its clamp. Composed curves that leave [0, 1] keep it.
    public var staysInUnitRange: Bool { tableInUnitRange }
    private let tableInUnitRange: Bool

    public init(toOutput: Matrix3, curve: (Double) -> Double) {
        self.init(toOutput: ColourMatrixKernel(toOutput), curve: ExponentCurveTable(curve))
    }

    private init(toOutput: ColourMatrixKernel, from other: OutputEncodingKernel) {
        self.toOutput = toOutput
        curve = other.curve
        tableInUnitRange = other.tableInUnitRange
    }

    private init(toOutput: ColourMatrixKernel, curve: ExponentCurveTable) {
        self.toOutput = toOutput
        self.curve = curve
        tableInUnitRange = curve.values.allSatisfy { $0 >= 0 && $0 <= 1 }
    }

    /// This encoding followed by `curve` on the encoded values, as one table: entry i becomes
    /// curve(entry i) (exact at the table's points; between them the composite is interpolated
    /// once instead of twice).
    public func composing(_ curve: ChannelCurveKernel) -> OutputEncodingKernel {
        func f(_ v: Float) -> Float { Float(curve.function(Double(min(max(v, 0), 1)))) }
        return OutputEncodingKernel(toOutput: toOutput, curve: ExponentCurveTable(values: self.curve.values.map(f)))
    }

    /// The same encoding with `matrix` applied before it (folding a preceding linear stage).
    public func prepending(_ matrix: ColourMatrixKernel) -> OutputEncodingKernel {
        OutputEncodingKernel(toOutput: matrix.fused(with: toOutput), from: self)
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ p: RGB<L>, at location: PixelLocation) -> RGB<L> {
        let q = toOutput.apply(p, at: location)
        let t = UnsafePointer(curve.pairs.pointer)
        return RGB(curve.lookup(q.r, in: t), curve.lookup(q.g, in: t), curve.lookup(q.b, in: t))
    }
}

/// Output encoding: linear working RGB → the output space's encoded RGB in [0, 1].
///
/// What: a 3×3 matrix into the output primaries (with chromatic adaptation where whites differ),
/// a clip to the output gamut's [0, 1] cube, then the output transfer curve (sRGB, gamma 2.2,
/// BT.2020, ROMM 1.8…) by table. Why a table indexed by the float's exponent and top mantissa
/// bits: every display curve is steep near black (infinite slope for pure gamma curves), and
/// this index spaces entries evenly in log x — 128 per octave over the 32 octaves below 1 (4097
/// entries) — so linear interpolation stays within 16-bit rounding everywhere, and the index is
/// two integer operations on the value's bits (no square root, no division). The clipped value is
/// offset by the table's first point, 2⁻³², before the lookup, and entry i holds curve(xᵢ − 2⁻³²):
/// so 0 lands exactly on entry 0 (black stays exactly 0), the first octave interpolates the
/// curve linearly over [0, 2⁻³²], and no value needs a second path (a select and a line per
/// channel, ~20% of the stage's instructions). From 2⁻⁷ up the offset is below half an ulp and
/// the addition changes nothing; below, the table's own offset cancels it. The matrix and curve come
/// from the LittleCMS profile the PNG embeds (EmulsionIO builds them), so the pixels agree with
/// the ICC tag; a test compares with a LittleCMS transform.
/// Colour space: working RGB (linear Rec.2020, D65) in; encoded output RGB out.
public struct OutputEncodingKernel: PointKernel {
    /// Octaves of the table below 1 and log2 of its entries per octave.
    public static let octaves = 32
    public static let stepsPerOctaveLog2 = 7
    public static let tableSize = octaves << stepsPerOctaveLog2 + 1
    /// Bit pattern of the table's first point, 2⁻³², and the shift from bits to entries.
    public static let baseBits = UInt32(127 - octaves) << 23
    public static let shift = UInt32(23 - stepsPerOctaveLog2)
    /// The table's first point (2⁻³²): added to every clipped value before the lookup.
    public static let tableStart = Float(bitPattern: baseBits)

    public let toOutput: ColourMatrixKernel
    /// `curveTable[i]` = curve(xᵢ − 2⁻³²), xᵢ the float with bit pattern `baseBits + i << shift`
    /// (x₀ = 2⁻³², x₄₀₉₆ = 1), so entry 0 is curve(0).
    public let curveTable: [Float]
    /// The same table as (value, step) pairs behind a stable pointer, for the kernel.
    public let table: FloatTable
    /// Every entry in [0, 1]: then so is every output (the input is clipped, and interpolating
    /// between two entries stays between them up to two roundings, ~2e-7), and the fused sink
    /// skips its clamp. Composed curves that leave [0, 1] keep it.
    public var staysInUnitRange: Bool { tableInUnitRange }
    private let tableInUnitRange: Bool

    public init(toOutput: Matrix3, curve: (Double) -> Double) {
        self.toOutput = ColourMatrixKernel(toOutput)
        curveTable = (0..<Self.tableSize).map { i in
            // Exact in Double: both are powers of two times at most 24 significant bits.
            Float(curve(Double(Float(bitPattern: Self.baseBits + UInt32(i) << Self.shift)) - Double(Self.tableStart)))
        }
        table = FloatTable(stepPairs: curveTable)
        tableInUnitRange = curveTable.allSatisfy { $0 >= 0 && $0 <= 1 }
    }

    private init(toOutput: ColourMatrixKernel, from other: OutputEncodingKernel) {
        self.toOutput = toOutput
        curveTable = other.curveTable
        table = other.table
        tableInUnitRange = other.tableInUnitRange
    }

    private init(toOutput: ColourMatrixKernel, curveTable: [Float]) {
        self.toOutput = toOutput
        self.curveTable = curveTable
        table = FloatTable(stepPairs: curveTable)
        tableInUnitRange = curveTable.allSatisfy { $0 >= 0 && $0 <= 1 }
    }

    /// This encoding followed by `curve` on the encoded values, as one table: entry i becomes
    /// curve(entry i) (exact at the table's points; between them the composite is interpolated
    /// once instead of twice).
    public func composing(_ curve: ChannelCurveKernel) -> OutputEncodingKernel {
        func f(_ v: Float) -> Float { Float(curve.function(Double(min(max(v, 0), 1)))) }
        return OutputEncodingKernel(toOutput: toOutput, curveTable: curveTable.map(f))
    }

    /// The same encoding with `matrix` applied before it (folding a preceding linear stage).
    public func prepending(_ matrix: ColourMatrixKernel) -> OutputEncodingKernel {
        OutputEncodingKernel(toOutput: matrix.fused(with: toOutput), from: self)
    }

    /// The transfer curve of one channel: clip to [0, 1], offset by 2⁻³² (so every value is in
    /// the table's range), then the table.
    @inlinable @inline(__always)
    public func encode<L: Lanes>(_ v: L, _ table: UnsafePointer<Float>) -> L {
        (v.clamped(0, 1) + L(repeating: offset))
            .interpolated(inExponentPairs: table, base: Self.baseBits, shift: Self.shift)
    }

    /// `tableStart`, read from the kernel rather than written as a literal on purpose: LLVM folds
    /// a constant addend into the clip's select (select(c < 1, c + 2⁻³², 1 + 2⁻³²)), which then no
    /// longer lowers to `minps` but to a compare and three mask instructions per channel (read in
    /// the x86-64 assembly).
    @usableFromInline let offset: Float = Self.tableStart

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ p: RGB<L>, at location: PixelLocation) -> RGB<L> {
        let q = toOutput.apply(p, at: location)
        let t = UnsafePointer(table.pointer)
        return RGB(encode(q.r, t), encode(q.g, t), encode(q.b, t))
    }
}

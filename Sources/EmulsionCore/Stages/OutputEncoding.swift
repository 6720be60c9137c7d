/// Output encoding: linear working RGB → the output space's encoded RGB in [0, 1].
///
/// What: a 3×3 matrix into the output primaries (with chromatic adaptation where whites differ),
/// a clip to the output gamut's [0, 1] cube, then the output transfer curve (sRGB, gamma 2.2,
/// BT.2020, ROMM 1.8…) by table. Why a table indexed by the float's exponent and top mantissa
/// bits: every display curve is steep near black (infinite slope for pure gamma curves), and
/// this index spaces entries evenly in log x — 128 per octave over the 32 octaves below 1 (4097
/// entries) — so linear interpolation stays within 16-bit rounding everywhere, and the index is
/// two integer operations on the value's bits (no square root, no division). Below 2⁻³² the curve
/// is continued as a straight line through 0 (black stays exactly 0). The matrix and curve come
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
    /// The smallest value looked up in the table (2⁻³²); below it the curve is a line through 0.
    public static let tableStart = Float(bitPattern: baseBits)

    public let toOutput: ColourMatrixKernel
    /// `curveTable[i]` = curve(xᵢ), xᵢ the float with bit pattern `baseBits + i << shift` (x₄₀₉₆ = 1).
    public let curveTable: [Float]
    /// The line below the table: intercept + slope · x (0 and curve(2⁻³²) / 2⁻³² for a plain
    /// encoding, so black stays exactly 0).
    public let interceptBelowTable: Float
    public let slopeBelowTable: Float
    /// The same table as (value, step) pairs behind a stable pointer, for the kernel.
    public let table: FloatTable

    public init(toOutput: Matrix3, curve: (Double) -> Double) {
        self.toOutput = ColourMatrixKernel(toOutput)
        curveTable = (0..<Self.tableSize).map { i in
            Float(curve(Double(Float(bitPattern: Self.baseBits + UInt32(i) << Self.shift))))
        }
        interceptBelowTable = 0
        slopeBelowTable = curveTable[0] / Self.tableStart
        table = FloatTable(stepPairs: curveTable)
    }

    private init(toOutput: ColourMatrixKernel, from other: OutputEncodingKernel) {
        self.toOutput = toOutput
        curveTable = other.curveTable
        interceptBelowTable = other.interceptBelowTable
        slopeBelowTable = other.slopeBelowTable
        table = other.table
    }

    private init(toOutput: ColourMatrixKernel, curveTable: [Float], interceptBelowTable: Float, slopeBelowTable: Float) {
        self.toOutput = toOutput
        self.curveTable = curveTable
        self.interceptBelowTable = interceptBelowTable
        self.slopeBelowTable = slopeBelowTable
        table = FloatTable(stepPairs: curveTable)
    }

    /// This encoding followed by `curve` on the encoded values, as one table: entry i becomes
    /// curve(entry i) (exact at the table's points; between them the composite is interpolated
    /// once instead of twice), and the line below the table runs from curve(line at 0) to
    /// curve(entry 0).
    public func composing(_ curve: ChannelCurveKernel) -> OutputEncodingKernel {
        func f(_ v: Float) -> Float { Float(curve.function(Double(min(max(v, 0), 1)))) }
        let composed = curveTable.map(f)
        let intercept = f(interceptBelowTable)
        return OutputEncodingKernel(toOutput: toOutput, curveTable: composed, interceptBelowTable: intercept,
                                    slopeBelowTable: (composed[0] - intercept) / Self.tableStart)
    }

    /// The same encoding with `matrix` applied before it (folding a preceding linear stage).
    public func prepending(_ matrix: ColourMatrixKernel) -> OutputEncodingKernel {
        OutputEncodingKernel(toOutput: matrix.fused(with: toOutput), from: self)
    }

    /// The transfer curve of one channel: clip to [0, 1], then the table (or the line below it).
    @inlinable @inline(__always)
    public func encode<L: Lanes>(_ v: L, _ table: UnsafePointer<Float>) -> L {
        let c = v.clamped(0, 1)
        let curve = c.atLeast(Self.tableStart).interpolated(inExponentPairs: table, base: Self.baseBits, shift: Self.shift)
        return c.choosing(above: Self.tableStart, then: curve,
                          otherwise: L(repeating: interceptBelowTable) + c * L(repeating: slopeBelowTable))
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ p: RGB<L>, at location: PixelLocation) -> RGB<L> {
        let q = toOutput.apply(p, at: location)
        let t = UnsafePointer(table.pointer)
        return RGB(encode(q.r, t), encode(q.g, t), encode(q.b, t))
    }
}

/// Output encoding: linear working RGB → the output space's encoded RGB in [0, 1].
///
/// What: a 3×3 matrix into the output primaries (with chromatic adaptation where whites differ),
/// a clip to the output gamut's [0, 1] cube, then the output transfer curve (sRGB, gamma 2.2,
/// BT.2020, ROMM 1.8…) by table. Why a table indexed by √x: every display curve is steep near
/// black (infinite slope for pure gamma curves); in √x the curves become almost straight, so a
/// 4096-entry table with linear interpolation stays within 16-bit rounding except in the first
/// few codes. The matrix and curve come from the LittleCMS profile the PNG embeds (EmulsionIO
/// builds them), so the pixels agree with the ICC tag; a test compares with a LittleCMS transform.
/// Colour space: working RGB (linear Rec.2020, D65) in; encoded output RGB out.
public struct OutputEncodingKernel: PointKernel {
    public static let tableSize = 4096
    public let toOutput: ColourMatrixKernel
    /// `curveBySquareRoot[i]` = curve((i / (size − 1))²).
    public let curveBySquareRoot: [Float]
    /// The same table behind a stable pointer, for the kernel.
    public let table: FloatTable

    public init(toOutput: Matrix3, curve: (Double) -> Double) {
        self.toOutput = ColourMatrixKernel(toOutput)
        let n = Self.tableSize
        curveBySquareRoot = (0..<n).map { i in
            let u = Double(i) / Double(n - 1)
            return Float(curve(u * u))
        }
        table = FloatTable(curveBySquareRoot)
    }

    private init(toOutput: ColourMatrixKernel, table: [Float], storage: FloatTable) {
        self.toOutput = toOutput
        curveBySquareRoot = table
        self.table = storage
    }

    /// The same encoding with `matrix` applied before it (folding a preceding linear stage).
    public func prepending(_ matrix: ColourMatrixKernel) -> OutputEncodingKernel {
        OutputEncodingKernel(toOutput: matrix.fused(with: toOutput), table: curveBySquareRoot, storage: table)
    }

    @inlinable @inline(__always)
    public func encode<L: Lanes>(_ v: L, _ table: UnsafePointer<Float>) -> L {
        let scale = Float(Self.tableSize - 1)
        let position = v.clamped(0, 1).squareRoot() * L(repeating: scale)
        return position.interpolated(in: table, count: Self.tableSize)
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ p: RGB<L>, at location: PixelLocation) -> RGB<L> {
        let q = toOutput.apply(p, at: location)
        let t = UnsafePointer(table.pointer)
        return RGB(encode(q.r, t), encode(q.g, t), encode(q.b, t))
    }
}

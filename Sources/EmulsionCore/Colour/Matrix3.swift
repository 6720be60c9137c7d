/// A 3×3 matrix in double precision for building colour transforms (the kernels get Float copies).
public struct Matrix3: Sendable, Equatable, CustomStringConvertible {
    /// Row-major elements.
    public var m: [Double]

    public init(_ rows: [[Double]]) {
        precondition(rows.count == 3 && rows.allSatisfy { $0.count == 3 })
        m = rows.flatMap { $0 }
    }

    public init(rowMajor m: [Double]) {
        precondition(m.count == 9)
        self.m = m
    }

    public static let identity = Matrix3(rowMajor: [1, 0, 0, 0, 1, 0, 0, 0, 1])

    public static func diagonal(_ d: SIMD3<Double>) -> Matrix3 {
        Matrix3(rowMajor: [d.x, 0, 0, 0, d.y, 0, 0, 0, d.z])
    }

    public subscript(row: Int, column: Int) -> Double {
        get { m[row * 3 + column] }
        set { m[row * 3 + column] = newValue }
    }

    public static func * (a: Matrix3, b: Matrix3) -> Matrix3 {
        var out = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { out[i * 3 + j] = a[i, 0] * b[0, j] + a[i, 1] * b[1, j] + a[i, 2] * b[2, j] } }
        return Matrix3(rowMajor: out)
    }

    public static func * (a: Matrix3, v: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(a[0, 0] * v.x + a[0, 1] * v.y + a[0, 2] * v.z,
              a[1, 0] * v.x + a[1, 1] * v.y + a[1, 2] * v.z,
              a[2, 0] * v.x + a[2, 1] * v.y + a[2, 2] * v.z)
    }

    public var determinant: Double {
        m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
    }

    /// The inverse, or nil when the matrix is singular (a broken camera matrix, say).
    public var inverse: Matrix3? {
        let d = determinant
        guard d.isFinite, abs(d) > 1e-12 else { return nil }
        let c: [Double] = [
            m[4] * m[8] - m[5] * m[7], m[2] * m[7] - m[1] * m[8], m[1] * m[5] - m[2] * m[4],
            m[5] * m[6] - m[3] * m[8], m[0] * m[8] - m[2] * m[6], m[2] * m[3] - m[0] * m[5],
            m[3] * m[7] - m[4] * m[6], m[1] * m[6] - m[0] * m[7], m[0] * m[4] - m[1] * m[3],
        ]
        return Matrix3(rowMajor: c.map { $0 / d })
    }

    /// Each row scaled so it sums to 1 (maps (1,1,1) to (1,1,1)).
    public var rowNormalised: Matrix3 {
        var out = m
        for i in 0..<3 {
            let s = m[i * 3] + m[i * 3 + 1] + m[i * 3 + 2]
            if s != 0 { for j in 0..<3 { out[i * 3 + j] = m[i * 3 + j] / s } }
        }
        return Matrix3(rowMajor: out)
    }

    public var isFinite: Bool { m.allSatisfy { $0.isFinite } }

    public var floats: [Float] { m.map { Float($0) } }

    public var description: String {
        (0..<3).map { r in "[" + (0..<3).map { c in String(format6(self[r, c])) }.joined(separator: ", ") + "]" }
            .joined(separator: " ")
    }
}

/// Fixed six-decimal formatting without Foundation.
func format6(_ v: Double) -> String {
    let scaled = (v * 1_000_000).rounded()
    let sign = scaled < 0 ? "-" : ""
    let a = abs(scaled)
    let whole = Int(a / 1_000_000)
    let frac = Int(a.truncatingRemainder(dividingBy: 1_000_000))
    let f = String(frac)
    return sign + String(whole) + "." + String(repeating: "0", count: 6 - f.count) + f
}

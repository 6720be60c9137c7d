/// A 3-D colour lookup table and the Adobe/Resolve `.cube` text format (not a stage: the data
/// behind the `lut` stage, `profile export` and `profile import`).
///
/// Format: Adobe "Cube LUT Specification 1.0" (2013): `TITLE "…"`, `LUT_3D_SIZE N` (2…256),
/// optional `DOMAIN_MIN r g b` / `DOMAIN_MAX r g b` (default 0 0 0 / 1 1 1), then N³ lines of
/// `r g b` with red changing fastest, then green, then blue; `#` starts a comment. Resolve's
/// `LUT_3D_INPUT_RANGE min max` is read as a domain too. 1-D LUTs are refused with a clear error.
/// A Hald CLUT (EmulsionIO) has the same order: pixel i = r + g·N + b·N².
public struct LUT3D: Sendable, Equatable {
    public var size: Int
    public var title: String
    public var domainMin: SIMD3<Double>
    public var domainMax: SIMD3<Double>
    /// `size³` RGB triples, red fastest: entry (b·N + g)·N + r, channel c at 3·entry + c.
    public var values: [Float]
    /// Comment lines (without the `#`), written at the top of a `.cube` file.
    public var comments: [String]

    public init(size: Int, title: String = "", domainMin: SIMD3<Double> = .zero, domainMax: SIMD3<Double> = .one,
                values: [Float], comments: [String] = []) {
        precondition(size >= 2 && values.count == 3 * size * size * size)
        self.size = size; self.title = title; self.domainMin = domainMin; self.domainMax = domainMax
        self.values = values; self.comments = comments
    }

    /// The identity lattice (each node's own coordinates).
    public static func identity(size: Int) -> LUT3D {
        var values: [Float] = []
        values.reserveCapacity(3 * size * size * size)
        let scale = Double(size - 1)
        for b in 0..<size { for g in 0..<size { for r in 0..<size {
            values += [Float(Double(r) / scale), Float(Double(g) / scale), Float(Double(b) / scale)]
        } } }
        return LUT3D(size: size, values: values)
    }
}

public struct LUTError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let message: String
    public init(file: String, message: String) { self.file = file; self.message = message }
    public var description: String { "\(file): \(message)" }
}

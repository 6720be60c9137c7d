#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

    /// Parses `.cube` text; errors name the file and line.
    public static func parseCube(_ text: String, file: String) throws -> LUT3D {
        var size: Int?
        var title = ""
        var lo = SIMD3<Double>.zero, hi = SIMD3<Double>.one
        var values: [Float] = []
        var comments: [String] = []
        var lineNumber = 0
        func fail(_ message: String) -> LUTError { LUTError(file: file, message: "line \(lineNumber): \(message)") }
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            lineNumber += 1
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty { continue }
            if line.hasPrefix("#") { comments.append(String(line.dropFirst()).trimmingWhitespace()); continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            let keyword = fields[0].uppercased()
            // A data line (also "nan …" or "inf …", which are then refused as not finite).
            if let first = fields[0].first, first.isNumber || first == "-" || first == "." || first == "+" || Float(fields[0]) != nil {
                guard size != nil else { throw fail("data before LUT_3D_SIZE") }
                guard fields.count == 3, let r = Float(fields[0]), let g = Float(fields[1]), let b = Float(fields[2])
                else { throw fail("expected three numbers, got \"\(line.prefix(80))\"") }
                guard r.isFinite, g.isFinite, b.isFinite else { throw fail("entry \"\(line.prefix(80))\" is not finite") }
                // Stop at the first surplus entry instead of collecting an arbitrarily long file.
                if let n = size, values.count >= 3 * n * n * n { throw fail("more than \(n * n * n) entries for LUT_3D_SIZE \(n)") }
                values += [r, g, b]
                continue
            }
            switch keyword {
            case "TITLE":
                title = line.dropFirst(5).trimmingWhitespace().trimming { $0 == "\"" }
            case "LUT_3D_SIZE":
                guard fields.count == 2, let n = Int(fields[1]), (2...256).contains(n) else {
                    throw fail("LUT_3D_SIZE must be a whole number 2…256, got \"\(fields.dropFirst().joined(separator: " ").prefix(40))\"")
                }
                guard size == nil else { throw fail("a second LUT_3D_SIZE") }
                size = n
            case "LUT_1D_SIZE":
                throw fail("1-D LUTs are not supported; expected a 3-D LUT (LUT_3D_SIZE)")
            case "DOMAIN_MIN", "DOMAIN_MAX":
                guard fields.count == 4, let a = Double(fields[1]), let b = Double(fields[2]), let c = Double(fields[3]),
                      a.isFinite, b.isFinite, c.isFinite else {
                    throw fail("\(keyword) needs three finite numbers")
                }
                if keyword == "DOMAIN_MIN" { lo = SIMD3(a, b, c) } else { hi = SIMD3(a, b, c) }
            case "LUT_3D_INPUT_RANGE":
                guard fields.count == 3, let a = Double(fields[1]), let b = Double(fields[2]), a.isFinite, b.isFinite else {
                    throw fail("LUT_3D_INPUT_RANGE needs two finite numbers")
                }
                lo = SIMD3(repeating: a); hi = SIMD3(repeating: b)
            default:
                throw fail("unknown keyword \(fields[0].prefix(40))")
            }
        }
        guard let n = size else { throw LUTError(file: file, message: "no LUT_3D_SIZE line: not a 3-D .cube LUT") }
        guard values.count == 3 * n * n * n else {
            throw LUTError(file: file, message: "expected \(n * n * n) entries for LUT_3D_SIZE \(n), found \(values.count / 3)")
        }
        guard all(hi .> lo) else { throw LUTError(file: file, message: "DOMAIN_MAX must exceed DOMAIN_MIN") }
        return LUT3D(size: n, title: title, domainMin: lo, domainMax: hi, values: values, comments: comments)
    }

    /// The largest `.cube` read: a 256³ LUT written with six decimals is about 0.5 GB.
    public static let maximumCubeBytes = 1 << 30

    public static func readCube(path: String) throws -> LUT3D {
        try checkRegularFile(path, maximumBytes: maximumCubeBytes)
        guard let data = FileManager.default.contents(atPath: path) else { throw LUTError(file: path, message: "cannot be read") }
        return try parseCube(String(decoding: data, as: UTF8.self), file: path)
    }

    /// `.cube` text: comments, title, size, domain, then one line per entry (6 decimals, enough
    /// for 16-bit work and what Resolve writes).
    public func cubeText() -> String {
        var out = ""
        for c in comments { out += "# \(c)\n" }
        if !title.isEmpty { out += "TITLE \"\(title)\"\n" }
        out += "LUT_3D_SIZE \(size)\n"
        out += "DOMAIN_MIN \(Self.format(domainMin.x)) \(Self.format(domainMin.y)) \(Self.format(domainMin.z))\n"
        out += "DOMAIN_MAX \(Self.format(domainMax.x)) \(Self.format(domainMax.y)) \(Self.format(domainMax.z))\n"
        var i = 0
        while i < values.count {
            out += "\(Self.format(Double(values[i]))) \(Self.format(Double(values[i + 1]))) \(Self.format(Double(values[i + 2])))\n"
            i += 3
        }
        return out
    }

    static func format(_ v: Double) -> String { CFormat.string("%.6f", v) }

    /// Refuses what is not a regular file (a FIFO would block the read) or is implausibly large,
    /// before reading it.
    public static func checkRegularFile(_ path: String, maximumBytes: Int) throws {
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: path) } catch {
            throw LUTError(file: path, message: "cannot be read")
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else { throw LUTError(file: path, message: "not a regular file") }
        let bytes = (attributes[.size] as? UInt).map { Int(clamping: $0) } ?? 0
        guard bytes > 0 else { throw LUTError(file: path, message: "empty file (0 bytes)") }
        guard bytes <= maximumBytes else {
            throw LUTError(file: path, message: "\(bytes) bytes is larger than any LUT this reads (at most \(maximumBytes) bytes)")
        }
    }
}

public struct LUTError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let message: String
    public init(file: String, message: String) { self.file = file; self.message = message }
    public var description: String { "\(file): \(message)" }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `.cube` text in and out (Adobe "Cube LUT Specification 1.0", 2013; see `LUT3D`).
///
/// Why byte-level: a 65³ LUT is 274 625 lines; read as Swift strings (a `String` per line and
/// per field) it took about a second, and a look with such a LUT read it once for the up-front
/// check and again for every file of a batch (docs/LOOKS.md). The common line, three ASCII
/// numbers, is read here from the bytes with `strtof` — the parser Swift's `Float(_:)` calls, in
/// the C locale — and every other line (keywords, comments, anything unusual, every error) by
/// the string path, so what is accepted and every message are as before. Line breaks are LF, CR
/// or CRLF (CRLF counts once): Swift's `Character` holds "\r\n" as one character, so splitting
/// on "\n" or "\r" characters had read a Windows-written file as one line and refused it.
extension LUT3D {
    /// Parses `.cube` text; errors name the file and line.
    public static func parseCube(_ text: String, file: String) throws -> LUT3D {
        try parseCube(bytes: Array(text.utf8), file: file)
    }

    /// Parses `.cube` bytes (UTF-8); errors name the file and line.
    public static func parseCube(bytes: [UInt8], file: String) throws -> LUT3D {
        var reader = CubeReader(file: file)
        // strtof reads up to the first byte that cannot continue a number: a NUL after the
        // last line keeps it inside the buffer.
        let text = bytes + [0]
        try text.withUnsafeBufferPointer { buffer in
            let p = buffer.baseAddress!
            let end = buffer.count - 1
            var start = 0
            while true {
                var stop = start
                while stop < end && p[stop] != 0x0A && p[stop] != 0x0D { stop += 1 }
                reader.lineNumber += 1
                if !reader.readEntry(p, from: start, to: stop) {
                    try reader.read(String(decoding: UnsafeBufferPointer(start: p + start, count: stop - start), as: UTF8.self),
                                    bytesLeft: end - stop)
                }
                if stop >= end { break }
                start = p[stop] == 0x0D && stop + 1 < end && p[stop + 1] == 0x0A ? stop + 2 : stop + 1
            }
        }
        return try reader.finish()
    }

    /// `.cube` text: comments, title, size, domain, then one line per entry (6 decimals, enough
    /// for 16-bit work and what Resolve writes).
    public func cubeText() -> String {
        var header = ""
        for c in comments { header += "# \(c)\n" }
        if !title.isEmpty { header += "TITLE \"\(title)\"\n" }
        header += "LUT_3D_SIZE \(size)\n"
        header += "DOMAIN_MIN \(Self.formatBound(domainMin.x)) \(Self.formatBound(domainMin.y)) \(Self.formatBound(domainMin.z))\n"
        header += "DOMAIN_MAX \(Self.formatBound(domainMax.x)) \(Self.formatBound(domainMax.y)) \(Self.formatBound(domainMax.z))\n"
        var out = Array(header.utf8)
        out.reserveCapacity(out.count + values.count * 10)
        var i = 0
        while i < values.count {
            Self.appendFixed6(values[i], to: &out); out.append(0x20)
            Self.appendFixed6(values[i + 1], to: &out); out.append(0x20)
            Self.appendFixed6(values[i + 2], to: &out); out.append(0x0A)
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func format(_ v: Double) -> String { CFormat.string("%.6f", v) }

    /// A domain bound: six decimals where they hold it exactly, else every digit it needs, so
    /// a domain finer than 10⁻⁶ (DOMAIN_MIN 1e-7, DOMAIN_MAX 2e-7) does not come back empty.
    static func formatBound(_ v: Double) -> String {
        let six = format(v)
        return Double(six) == v ? six : CFormat.string("%.17g", v)
    }

    /// Appends `v` as `printf("%.6f", v)` writes it. A float times 10⁶ is exact in double
    /// precision (24 significant bits times 15625 · 2⁶ needs at most 38), so rounding that
    /// product half-to-even rounds the exact decimal value as glibc does; beyond 10⁹ (never a
    /// colour) printf itself writes it.
    static func appendFixed6(_ v: Float, to out: inout [UInt8]) {
        let d = Double(v)
        guard d.isFinite, abs(d) < 1e9 else { out += Array(format(d).utf8); return }
        if d.sign == .minus { out.append(0x2D) }
        let scaled = UInt64((abs(d) * 1e6).rounded(.toNearestOrEven))
        var whole = scaled / 1_000_000
        var digits: [UInt8] = []
        repeat { digits.append(0x30 + UInt8(whole % 10)); whole /= 10 } while whole > 0
        out += digits.reversed()
        out.append(0x2E)
        var fraction = scaled % 1_000_000
        var divisor: UInt64 = 100_000
        for _ in 0..<6 {
            out.append(0x30 + UInt8(fraction / divisor))
            fraction %= divisor
            divisor /= 10
        }
    }
}

/// The state of one `.cube` read: what the header said and the entries so far.
struct CubeReader {
    let file: String
    var size: Int?
    var title = ""
    var lo = SIMD3<Double>.zero, hi = SIMD3<Double>.one
    var values: [Float] = []
    var comments: [String] = []
    var lineNumber = 0

    func fail(_ message: String) -> LUTError { LUTError(file: file, message: "line \(lineNumber): \(message)") }

    /// Reads bytes `start..<stop` of `p` if they are the common entry line — three finite ASCII
    /// numbers separated by spaces or tabs, after LUT_3D_SIZE, within its count — and says
    /// whether it did; anything else is left to `read(_:bytesLeft:)`.
    mutating func readEntry(_ p: UnsafePointer<UInt8>, from start: Int, to stop: Int) -> Bool {
        guard let n = size, values.count < 3 * n * n * n else { return false }
        var entry = SIMD3<Float>()
        var fields = 0
        var i = start
        while true {
            while i < stop && (p[i] == 0x20 || p[i] == 0x09) { i += 1 }
            if i == stop { break }
            let first = p[i]
            guard fields < 3, (0x30...0x39).contains(first) || first == 0x2D || first == 0x2E || first == 0x2B else { return false }
            var fieldEnd = i
            while fieldEnd < stop && p[fieldEnd] != 0x20 && p[fieldEnd] != 0x09 {
                guard p[fieldEnd] < 0x80 else { return false }
                fieldEnd += 1
            }
            var parsedEnd: UnsafeMutablePointer<CChar>?
            let value = UnsafeRawPointer(p + i).withMemoryRebound(to: CChar.self, capacity: fieldEnd - i + 1) { strtof($0, &parsedEnd) }
            guard let parsedEnd, UnsafeRawPointer(parsedEnd) == UnsafeRawPointer(p) + fieldEnd, value.isFinite else { return false }
            entry[fields] = value
            fields += 1
            i = fieldEnd
        }
        guard fields == 3 else { return false }
        values.append(entry.x); values.append(entry.y); values.append(entry.z)
        return true
    }

    /// Any line, as a string (keywords, comments, whatever `readEntry` left, and every error).
    /// `bytesLeft` bounds the storage reserved for a LUT_3D_SIZE the file cannot hold.
    mutating func read(_ rawLine: String, bytesLeft: Int) throws {
        let line = rawLine.trimmingWhitespace()
        if line.isEmpty { return }
        if line.hasPrefix("#") { comments.append(String(line.dropFirst()).trimmingWhitespace()); return }
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
            return
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
            // Each entry takes at least six bytes ("0 0 0\n"): no more is reserved than the rest could hold.
            values.reserveCapacity(Swift.min(3 * n * n * n, 3 * (bytesLeft / 6 + 1)))
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

    func finish() throws -> LUT3D {
        guard let n = size else { throw LUTError(file: file, message: "no LUT_3D_SIZE line: not a 3-D .cube LUT") }
        guard values.count == 3 * n * n * n else {
            throw LUTError(file: file, message: "expected \(n * n * n) entries for LUT_3D_SIZE \(n), found \(values.count / 3)")
        }
        guard all(hi .> lo) else { throw LUTError(file: file, message: "DOMAIN_MAX must exceed DOMAIN_MIN") }
        return LUT3D(size: n, title: title, domainMin: lo, domainMax: hi, values: values, comments: comments)
    }
}

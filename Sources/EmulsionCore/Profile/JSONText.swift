/// JSON text → `JSONValue`, strictly by RFC 8259, for the files people write by hand: profiles,
/// device descriptions, golden-suite manifests.
///
/// Why not `JSONDecoder`: on Linux it reports every syntax error as "The given data was not valid
/// JSON." with no line or column; it reads `01` as a type mismatch (which the profile loader then
/// took for a number beyond Double); and of two equal keys it keeps the first without a word, so
/// a second `"tone"` block added at the end of a profile was silently ignored. Here each error
/// names its line and column (columns count characters, not bytes), a repeated key is refused
/// with both places, and a number beyond Double's range is refused with its key path.
/// Strict where JSONDecoder is lenient: a comma before `}` or `]` is an error, as it is for jq
/// and Python's json module, so a profile that loads here loads in the tools it is shared with.
/// A UTF-8 byte-order mark at the start is skipped (RFC 8259 §8.1 allows parsers to). Nesting is
/// limited to `maximumDepth` levels (the shipped files nest 4 deep at most), so hostile input cannot
/// exhaust a worker thread's stack.
///
/// Foundation-free.
public enum JSONText {
    /// A document that cannot be read: `keyPath` names the value where there is one ("" for
    /// syntax errors, which `message` places by line and column).
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let keyPath: String
        public let message: String
        public var description: String { keyPath.isEmpty ? message : "\(keyPath): \(message)" }
    }

    public static let maximumDepth = 64

    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        var parser = Parser(bytes: bytes)
        return try parser.document()
    }

    struct Parser {
        let bytes: [UInt8]
        var offset = 0
        var depth = 0
        /// Keys and array indices from the document's root to the value being read.
        var path: [PathComponent] = []
        let start: Int

        enum PathComponent { case key(String), index(Int) }

        init(bytes: [UInt8]) {
            self.bytes = bytes
            start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
            offset = start
        }

        mutating func document() throws -> JSONValue {
            skipSpace()
            guard offset < bytes.count else {
                throw syntaxError(offset == start ? "the file is empty" : "the file holds only white space", placed: false)
            }
            let value = try self.value()
            skipSpace()
            guard offset == bytes.count else { throw syntaxError("expected the end of the document after its value, got \(found())") }
            return value
        }

        mutating func value() throws -> JSONValue {
            skipSpace()
            guard offset < bytes.count else { throw syntaxError("expected a value, got the end of the file") }
            switch bytes[offset] {
            case UInt8(ascii: "{"): return try object()
            case UInt8(ascii: "["): return try array()
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default:
                let word = self.word()
                switch word {
                case "true": offset += 4; return .bool(true)
                case "false": offset += 5; return .bool(false)
                case "null": offset += 4; return .null
                case "NaN", "Infinity", "nan", "inf":
                    throw syntaxError("expected a value, got \(word) (JSON has no NaN or infinity)")
                default: throw syntaxError("expected a value, got \(found())")
                }
            }
        }

        mutating func object() throws -> JSONValue {
            try enter()
            defer { depth -= 1 }
            offset += 1
            var members: [String: JSONValue] = [:]
            var keyOffsets: [String: Int] = [:]
            skipSpace()
            if at("}") { offset += 1; return .object(members) }
            while true {
                skipSpace()
                guard at("\"") else {
                    throw syntaxError(members.isEmpty ? "expected a key in double quotes or '}', got \(found())"
                                                      : "expected a key in double quotes after ',', got \(found())")
                }
                let keyOffset = offset
                let key = try string()
                if let first = keyOffsets[key] {
                    let (l1, c1) = place(first), (l2, c2) = place(keyOffset)
                    throw ParseError(keyPath: render(path + [.key(key)]),
                                     message: "appears twice, at line \(l1), column \(c1) and line \(l2), column \(c2) (which one applies would be a guess)")
                }
                skipSpace()
                guard at(":") else { throw syntaxError("expected ':' after the key \"\(key)\", got \(found())") }
                offset += 1
                path.append(.key(key))
                members[key] = try value()
                path.removeLast()
                keyOffsets[key] = keyOffset
                if try closes(with: "}", after: "the value of \"\(key)\"", last: "member") { return .object(members) }
            }
        }

        mutating func array() throws -> JSONValue {
            try enter()
            defer { depth -= 1 }
            offset += 1
            var items: [JSONValue] = []
            skipSpace()
            if at("]") { offset += 1; return .array(items) }
            while true {
                path.append(.index(items.count))
                items.append(try value())
                path.removeLast()
                if try closes(with: "]", after: "an array element", last: "element") { return .array(items) }
            }
        }

        /// After a member or an element: true at the closing bracket (read past it), false past
        /// a comma, where the closing bracket may not follow.
        mutating func closes(with closing: Unicode.Scalar, after what: String, last: String) throws -> Bool {
            skipSpace()
            if at(closing) { offset += 1; return true }
            guard at(",") else { throw syntaxError("expected ',' or '\(closing)' after \(what), got \(found())") }
            let comma = offset
            offset += 1
            skipSpace()
            if at(closing) { throw syntaxError("a ',' before '\(closing)': JSON allows no comma after the last \(last)", at: comma) }
            return false
        }

        mutating func enter() throws {
            depth += 1
            guard depth <= JSONText.maximumDepth else { throw syntaxError("nested deeper than \(JSONText.maximumDepth) levels") }
        }

        /// A string from its opening quote: escapes decoded, UTF-8 checked.
        mutating func string() throws -> String {
            let opening = offset
            offset += 1
            var utf8: [UInt8] = []
            while true {
                guard offset < bytes.count else { throw syntaxError("a string that never ends (no closing '\"')", at: opening) }
                let c = bytes[offset]
                if c == UInt8(ascii: "\"") { offset += 1; break }
                if c < 0x20 {
                    throw syntaxError(c == 0x0A ? "a line break inside a string (write \\n)"
                                                : "control character \(hex(UInt32(c), digits: 2)) inside a string (write \\u\(hex(UInt32(c), digits: 4)))")
                }
                guard c == UInt8(ascii: "\\") else { utf8.append(c); offset += 1; continue }
                let escape = offset
                offset += 1
                guard offset < bytes.count else { throw syntaxError("a string that never ends (no closing '\"')", at: opening) }
                let e = bytes[offset]
                offset += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(e)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hexQuad(escape)
                    if (0xD800...0xDBFF).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one (RFC 8259 §7).
                        let unpaired = "\\u\(hex(scalar, digits: 4)) is half of a UTF-16 surrogate pair, and its other half does not follow"
                        guard bytes[offset...].starts(with: [UInt8(ascii: "\\"), UInt8(ascii: "u")]) else { throw syntaxError(unpaired, at: escape) }
                        offset += 2
                        let low = try hexQuad(offset - 2)
                        guard (0xDC00...0xDFFF).contains(low) else { throw syntaxError(unpaired, at: escape) }
                        scalar = 0x10000 + (scalar - 0xD800) << 10 + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw syntaxError("\\u\(hex(scalar, digits: 4)) is half of a UTF-16 surrogate pair, and its other half does not come before it", at: escape)
                    }
                    Unicode.UTF8.encode(Unicode.Scalar(scalar)!) { utf8.append($0) }
                default:
                    throw syntaxError("unknown escape \\\(printable(e)) in a string (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", at: escape)
                }
            }
            guard let text = String(validating: utf8, as: UTF8.self) else { throw syntaxError("a string that is not valid UTF-8", at: opening) }
            return text
        }

        /// The four hex digits after `\u` (the escape starts at `escape`).
        mutating func hexQuad(_ escape: Int) throws -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard offset < bytes.count, let digit = hexDigit(bytes[offset]) else {
                    throw syntaxError("\\u needs four hexadecimal digits", at: escape)
                }
                value = value << 4 | digit
                offset += 1
            }
            return value
        }

        /// A number by RFC 8259's grammar (§6), converted as Swift's `Double(String)` rounds it
        /// (to nearest); one beyond Double's range is refused rather than made infinite.
        mutating func number() throws -> Double {
            let first = offset
            if at("-") { offset += 1 }
            guard digitHere() else { throw syntaxError("expected a digit after '-', got \(found())") }
            if at("0") {
                offset += 1
                if digitHere() { throw syntaxError("a number with a leading zero (JSON writes 1, not 01)", at: first) }
            } else {
                skipDigits()
            }
            if at(".") {
                offset += 1
                guard digitHere() else { throw syntaxError("expected a digit after the decimal point, got \(found())") }
                skipDigits()
            }
            if at("e") || at("E") {
                offset += 1
                if at("+") || at("-") { offset += 1 }
                guard digitHere() else { throw syntaxError("expected a digit in the exponent, got \(found())") }
                skipDigits()
            }
            let text = String(decoding: bytes[first..<offset], as: UTF8.self)
            guard let value = Double(text), value.isFinite else {
                throw ParseError(keyPath: render(path), message: "the number \(text) is beyond the range of a double (±1.8e308)")
            }
            return value
        }

        // MARK: Reading

        func at(_ c: Unicode.Scalar) -> Bool { offset < bytes.count && bytes[offset] == UInt8(ascii: c) }
        func digitHere() -> Bool { offset < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) }
        mutating func skipDigits() { while digitHere() { offset += 1 } }

        mutating func skipSpace() {
            while offset < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[offset]) { offset += 1 }
        }

        /// The run of ASCII letters and '-' at the offset (a misspelt literal, NaN, …), at most 24.
        func word() -> String {
            var end = offset
            while end < bytes.count, end - offset < 24,
                  bytes[end] < 0x80, Character(Unicode.Scalar(bytes[end])).isLetter || bytes[end] == UInt8(ascii: "-") { end += 1 }
            return String(decoding: bytes[offset..<end], as: UTF8.self)
        }

        /// What stands at the offset, for "expected …, got …".
        func found() -> String {
            guard offset < bytes.count else { return "the end of the file" }
            let w = word()
            if w.count > 1 { return w }
            return printable(bytes[offset])
        }

        func printable(_ c: UInt8) -> String {
            switch c {
            case 0x20...0x7E: return "'\(Character(Unicode.Scalar(c)))'"
            case 0x0A: return "a line break"
            case 0x80...: return "a non-ASCII character"
            default: return "the byte \(hex(UInt32(c), digits: 2))"
            }
        }

        func hexDigit(_ c: UInt8) -> UInt32? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - UInt8(ascii: "A") + 10)
            default: return nil
            }
        }

        func hex(_ v: UInt32, digits: Int) -> String {
            let s = String(v, radix: 16, uppercase: true)
            return (digits == 2 ? "0x" : "") + String(repeating: "0", count: max(0, digits - s.count)) + s
        }

        // MARK: Errors

        /// Line and column (1-based; the column counts characters: UTF-8 continuation bytes do
        /// not advance it, and the byte-order mark is not one) of a byte offset.
        func place(_ target: Int) -> (line: Int, column: Int) {
            var line = 1, column = 1
            for i in start..<min(target, bytes.count) {
                if bytes[i] == 0x0A { line += 1; column = 1 } else if bytes[i] & 0xC0 != 0x80 { column += 1 }
            }
            return (line, column)
        }

        func syntaxError(_ problem: String, at target: Int? = nil, placed: Bool = true) -> ParseError {
            guard placed else { return ParseError(keyPath: "", message: "is not valid JSON: \(problem)") }
            let (line, column) = place(target ?? offset)
            return ParseError(keyPath: "", message: "is not valid JSON: line \(line), column \(column): \(problem)")
        }

        func render(_ components: [PathComponent]) -> String {
            var out = ""
            for component in components {
                switch component {
                case .key(let k): out += out.isEmpty ? k : ".\(k)"
                case .index(let i): out += "[\(i)]"
                }
            }
            return out
        }
    }
}

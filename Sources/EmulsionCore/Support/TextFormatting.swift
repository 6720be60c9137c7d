#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// printf-style formatting and whitespace trimming: the two text operations the product used from
/// Foundation beyond FoundationEssentials. The product imports only FoundationEssentials: all of
/// Foundation links swift-corelibs-foundation, CoreFoundation and ICU into the static binary
/// (49 MB, 36 000 relocations and CoreFoundation's start-up constructor in every process, the
/// decode workers included; docs/ARCHITECTURE.md, docs/PERFORMANCE.md session 14).
public enum CFormat {
    /// `format` filled by the C library's `vsnprintf`, which is what Foundation's
    /// `String(format:)` used for the numeric conversions here (`%d`, `%.3f`, `%+.1f`, `%6.2f`):
    /// the same text. Strings are interpolated by the callers (`%@` is not C).
    public static func string(_ format: String, _ arguments: CVarArg...) -> String {
        withVaList(arguments) { list in
            var buffer = [CChar](repeating: 0, count: 256)
            let needed = Int(buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, format, list) })
            guard needed >= buffer.count else { return String(decoding: buffer.prefix(max(needed, 0)).map { UInt8(bitPattern: $0) }, as: UTF8.self) }
            // Longer than the first buffer: a va_list is consumed by one use, so make another.
            return withVaList(arguments) { again in
                buffer = [CChar](repeating: 0, count: needed + 1)
                _ = buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, format, again) }
                return String(decoding: buffer.prefix(needed).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing whitespace: tab and the space characters of Foundation's
    /// `CharacterSet.whitespaces` (U+0020, U+00A0, U+1680, U+2000–U+200B, U+202F, U+205F, U+3000),
    /// with `newlines` also U+000A–U+000D, U+0085, U+2028 and U+2029 (`.whitespacesAndNewlines`).
    /// Listed rather than read from Unicode's categories, which move between Unicode versions
    /// (U+200B was a space separator once, and Foundation still trims it).
    public func trimmingWhitespace(newlines: Bool = false) -> String {
        trimming { c in
            c.unicodeScalars.allSatisfy { s in
                switch s.value {
                case 0x09, 0x20, 0xA0, 0x1680, 0x2000...0x200B, 0x202F, 0x205F, 0x3000: return true
                case 0x0A...0x0D, 0x85, 0x2028, 0x2029: return newlines
                default: return false
                }
            }
        }
    }

    /// Without the leading and trailing characters for which `isTrimmed` holds.
    public func trimming(_ isTrimmed: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !isTrimmed($0) }), let last = lastIndex(where: { !isTrimmed($0) }) else { return "" }
        return String(self[first...last])
    }

    /// Padded with spaces, or cut, to `length` UTF-16 units (as `NSString.padding(toLength:withPad:startingAt:)`
    /// counts): for the columns of plain-text tables.
    public func padded(toLength length: Int) -> String {
        let units = utf16.count
        if units >= length { return String(decoding: utf16.prefix(length), as: UTF16.self) }
        return String(self) + String(repeating: " ", count: length - units)
    }
}

import CPNGShim

/// An ancillary PNG chunk that `PNGFile` writes after the header chunks (IHDR, iCCP) and before
/// the image data: the output's metadata (`eXIf`, `tEXt`, `iTXt`).
///
/// Reference: PNG (Third Edition, W3C 2025) §5.3 chunk layout (length, type, data, CRC-32 over
/// type and data), §11.3.3.5 eXIf (a TIFF-structured Exif block, "II*\0" or "MM\0*", placed before
/// IDAT), §11.3.3.3–4 tEXt (Latin-1 keyword and text) and iTXt (UTF-8 text).
public struct PNGChunk: Equatable, Sendable {
    /// Four ASCII letters; ancillary chunks start with a lower-case one.
    public let type: String
    public let data: [UInt8]

    public init(type: String, data: [UInt8]) {
        precondition(type.utf8.count == 4 && type.utf8.allSatisfy { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A },
                     "a chunk type is four ASCII letters")
        precondition(type.utf8.first! & 0x20 != 0, "only ancillary chunks are written this way")
        precondition(data.count < 1 << 31)
        self.type = type
        self.data = data
    }

    /// `tEXt` with a Latin-1 keyword (1–79 characters) and plain ASCII text.
    public static func text(_ keyword: String, _ text: String) -> PNGChunk {
        PNGChunk(type: "tEXt", data: Self.keyword(keyword) + Array(text.utf8.filter { $0 >= 0x20 && $0 < 0x7F || $0 == 0x0A }))
    }

    /// `iTXt` with UTF-8 text, uncompressed, no language tag.
    public static func internationalText(_ keyword: String, _ text: String) -> PNGChunk {
        PNGChunk(type: "iTXt", data: Self.keyword(keyword) + [0, 0] + [0] + [0] + Array(text.utf8))
    }

    /// The text of a PNG file's `tEXt` chunks and uncompressed `iTXt` chunks, by keyword, in file
    /// order (compressed ones and anything malformed skipped: this reads what we write, and a
    /// damaged chunk only loses its text). `bytes` is the whole file.
    public static func texts(in bytes: [UInt8]) -> [(keyword: String, text: String)] {
        var out: [(keyword: String, text: String)] = []
        var offset = 8
        while offset + 12 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
            let start = offset + 8
            guard length >= 0, length <= bytes.count - start - 4 else { break }
            let data = bytes[start..<start + length]
            if type == "IEND" { break }
            if type == "tEXt" || type == "iTXt", let nul = data.firstIndex(of: 0) {
                let keyword = String(decoding: data[start..<nul], as: UTF8.self)
                if type == "tEXt" {
                    out.append((keyword, String(decoding: data[(nul + 1)...], as: UTF8.self)))
                } else if nul + 2 < data.endIndex, data[nul + 1] == 0,
                          let language = data[(nul + 3)...].firstIndex(of: 0),
                          let translated = data[(language + 1)...].firstIndex(of: 0) {
                    out.append((keyword, String(decoding: data[(translated + 1)...], as: UTF8.self)))
                }
            }
            offset = start + length + 4
        }
        return out
    }

    /// A keyword and its NUL: printable Latin-1 without leading, trailing or double spaces (§11.3.3.2).
    static func keyword(_ keyword: String) -> [UInt8] {
        let bytes = Array(keyword.utf8)
        precondition((1...79).contains(bytes.count) && bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
                     && bytes.first != 0x20 && bytes.last != 0x20, "a PNG keyword is 1-79 printable characters")
        return bytes + [0]
    }

    /// The chunk as it appears in the file.
    public var bytes: [UInt8] {
        let typeBytes = Array(type.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(12 + data.count)
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: data.count >> shift)) }
        out += typeBytes
        out += data
        var crc = typeBytes.withUnsafeBufferPointer { emu_png_crc32(0, $0.baseAddress, $0.count) }
        crc = data.withUnsafeBufferPointer { emu_png_crc32(crc, $0.baseAddress, $0.count) }
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: crc >> UInt32(shift))) }
        return out
    }
}

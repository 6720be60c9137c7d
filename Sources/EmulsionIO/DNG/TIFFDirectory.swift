/// A minimal TIFF directory reader for the DNG tags Emulsion reads itself (LibRaw 0.20 does not
/// keep them): IFD0, its chain and its SubIFDs (tag 330), each entry's values as numbers or bytes.
/// Reference: TIFF 6.0 §2 (header, IFD, field types); DNG 1.6 §3 (SubIFDs hold the raw image).
/// Malformed offsets or counts make an entry or directory absent; nothing here traps or throws.
/// The bytes come from any `ByteSource`: an array, or a file read page by page (`FileBytes`).
struct TIFFDirectory {
    struct Entry {
        let tag: Int
        let type: Int
        let count: Int
        /// File offset of the value bytes (inline values point into the entry itself).
        let offset: Int
    }

    let entries: [Int: Entry]
    let bytes: any ByteSource
    let littleEndian: Bool

    /// The byte order and the offset of IFD0, from the header; nil for anything but TIFF.
    private static func header(_ b: any ByteSource) -> (little: Bool, first: Int)? {
        guard b.count >= 8 else { return nil }
        let little: Bool
        switch (b[0], b[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        let reader = Reader(bytes: b, little: little)
        // 42 for TIFF/DNG; "RC" (0x4352) for DNG camera profiles (.dcp).
        guard reader.u16(2) == 42 || reader.u16(2) == 0x4352, let first = reader.u32(4) else { return nil }
        return (little, first)
    }

    /// IFD0 alone.
    static func first(_ b: any ByteSource) -> TIFFDirectory? {
        guard let (little, first) = header(b) else { return nil }
        return at(first, in: b, littleEndian: little)?.0
    }

    /// Every directory: IFD0 and its chain, then their SubIFDs (depth-first), at most 64.
    static func all(_ b: any ByteSource) -> [TIFFDirectory] {
        guard let (little, first) = header(b) else { return [] }
        var out: [TIFFDirectory] = []
        var pending = [first]
        var seen = Set<Int>()
        while let offset = pending.first, out.count < 64 {
            pending.removeFirst()
            guard !seen.contains(offset), let (directory, next) = at(offset, in: b, littleEndian: little) else { continue }
            seen.insert(offset)
            out.append(directory)
            if let subs = directory.integers(330) { pending.append(contentsOf: subs) }
            if let next, next != 0 { pending.append(next) }
        }
        return out
    }

    /// The one directory at `offset`, its out-of-line values at `base` + their stored offsets (0
    /// in a TIFF file; a maker note with its own TIFF header counts from that header), and the
    /// offset of the next directory in its chain. Nil when the offset holds no directory.
    static func at(_ offset: Int, in b: any ByteSource, littleEndian little: Bool, base: Int = 0) -> (TIFFDirectory, next: Int?)? {
        let reader = Reader(bytes: b, little: little)
        guard offset > 0, let count = reader.u16(offset), count < 4096 else { return nil }
        var entries: [Int: Entry] = [:]
        for i in 0..<count {
            let e = offset + 2 + 12 * i
            guard let tag = reader.u16(e), let type = reader.u16(e + 2), let n = reader.u32(e + 4) else { continue }
            let size = [1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4][type] ?? 0
            guard size > 0, n < 1 << 28 else { continue }
            let valueOffset = size * n <= 4 ? e + 8 : (reader.u32(e + 8).map { $0 + base } ?? -1)
            guard valueOffset >= 0, valueOffset + size * n <= b.count else { continue }
            entries[tag] = Entry(tag: tag, type: type, count: n, offset: valueOffset)
        }
        return (TIFFDirectory(entries: entries, bytes: b, littleEndian: little), reader.u32(offset + 2 + 12 * count).map { $0 + base })
    }

    struct Reader {
        let bytes: any ByteSource
        let little: Bool
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o + 2 <= bytes.count else { return nil }
            return little ? Int(bytes[o]) | Int(bytes[o + 1]) << 8 : Int(bytes[o]) << 8 | Int(bytes[o + 1])
        }
        func u32(_ o: Int) -> Int? {
            guard o >= 0, o + 4 <= bytes.count else { return nil }
            let b = bytes
            let v = little ? UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
                : UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
            return Int(v)
        }
    }

    /// Numeric values of a tag (BYTE, SHORT, LONG, SLONG, RATIONAL, SRATIONAL, FLOAT, DOUBLE).
    func numbers(_ tag: Int) -> [Double]? {
        guard let e = entries[tag], e.count <= 1 << 16 else { return nil }
        let r = Reader(bytes: bytes, little: littleEndian)
        var out: [Double] = []
        out.reserveCapacity(e.count)
        for k in 0..<e.count {
            switch e.type {
            case 1, 7: out.append(Double(bytes[e.offset + k]))
            case 3: out.append(Double(r.u16(e.offset + 2 * k)!))
            case 4: out.append(Double(r.u32(e.offset + 4 * k)!))
            case 9: out.append(Double(Int32(truncatingIfNeeded: r.u32(e.offset + 4 * k)!)))
            case 5:
                let p = r.u32(e.offset + 8 * k)!, q = r.u32(e.offset + 8 * k + 4)!
                guard q != 0 else { return nil }
                out.append(Double(p) / Double(q))
            case 10:
                let p = Int32(truncatingIfNeeded: r.u32(e.offset + 8 * k)!), q = Int32(truncatingIfNeeded: r.u32(e.offset + 8 * k + 4)!)
                guard q != 0 else { return nil }
                out.append(Double(p) / Double(q))
            case 11: out.append(Double(Float(bitPattern: UInt32(r.u32(e.offset + 4 * k)!))))
            case 12:
                let hi = UInt64(r.u32(e.offset + 8 * k + (littleEndian ? 4 : 0))!), lo = UInt64(r.u32(e.offset + 8 * k + (littleEndian ? 0 : 4))!)
                out.append(Double(bitPattern: hi << 32 | lo))
            default: return nil
            }
        }
        return out
    }

    /// A tag's values as whole numbers, or nil when any is not one in 0 ..< 2⁴⁰: a file may give
    /// any type where a count or offset belongs (NaN, 1e300), and converting those would trap.
    func integers(_ tag: Int) -> [Int]? {
        guard let v = numbers(tag) else { return nil }
        let out = v.compactMap { $0.isFinite && $0 >= 0 && $0 < 0x1p40 && $0.rounded() == $0 ? Int($0) : nil }
        return out.count == v.count ? out : nil
    }

    /// A tag's single whole-number value (as `integers`), `fallback` when the tag is absent, nil
    /// when it is present but not one such value.
    func integer(_ tag: Int, default fallback: Int? = nil) -> Int? {
        guard entries[tag] != nil else { return fallback }
        guard let v = integers(tag), v.count == 1 else { return nil }
        return v[0]
    }

    /// The raw bytes of a tag (UNDEFINED opcode lists, for instance).
    func data(_ tag: Int) -> [UInt8]? {
        guard let e = entries[tag] else { return nil }
        let size = [1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4][e.type] ?? 1
        return bytes.bytes(e.offset, size * e.count)
    }
}

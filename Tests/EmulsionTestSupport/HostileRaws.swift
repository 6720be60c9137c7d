import Foundation

/// Makes hostile variants of real raw files: truncations, byte flips, absurd TIFF header fields.
/// Deterministic (seeded), so a failure names a reproducible variant. Used by the hostile-input
/// tests (a sample of variants) and by `.ci/hostile.sh` (the full set).
public enum HostileRaws {
    public struct Variant: Sendable {
        public var name: String
        public var bytes: [UInt8]
    }

    /// `count` variants of `original`, a third each of truncations, byte flips and header edits.
    public static func variants(of original: [UInt8], stem: String, count: Int, seed: UInt64) -> [Variant] {
        var random = SplitMix64(seed: seed)
        var out: [Variant] = []
        let headerFields = tiffEntries(original)
        for k in 0..<count {
            var bytes = original
            let name: String
            switch k % 3 {
            case 0:
                // Truncations: the first bytes densely (headers), then anywhere.
                let cut = k % 2 == 0 ? random.below(min(4096, original.count)) : random.below(original.count)
                bytes = Array(original.prefix(cut))
                name = "\(stem)-\(k)-trunc\(cut)"
            case 1:
                let flips = 1 + random.below(32)
                // Most flips land in the first 64 KiB, where the structure is.
                for _ in 0..<flips {
                    let limit = random.below(4) == 0 ? bytes.count : min(bytes.count, 65536)
                    let at = random.below(limit)
                    bytes[at] ^= UInt8(truncatingIfNeeded: 1 + random.below(255))
                }
                name = "\(stem)-\(k)-flip\(flips)"
            default:
                if let field = headerFields.isEmpty ? nil : headerFields[random.below(headerFields.count)] {
                    let absurd: [UInt32] = [0, 1, 100_000, 65535, 0x7FFF_FFFF, 0xFFFF_FFFF, UInt32(original.count), UInt32(original.count) + 1]
                    let value = absurd[random.below(absurd.count)]
                    write(value, into: &bytes, entry: field, littleEndian: original.first == 0x49)
                    name = "\(stem)-\(k)-tag\(field.tag)-\(value)"
                } else {
                    let at = random.below(min(bytes.count, 512))
                    bytes[at] = 0xFF
                    name = "\(stem)-\(k)-ff\(at)"
                }
            }
            out.append(Variant(name: name, bytes: bytes))
        }
        return out
    }

    struct Entry { var tag: Int; var type: Int; var valueOffset: Int }

    /// IFD0's entries whose values are sizes, offsets or counts (the ones worth breaking).
    static func tiffEntries(_ b: [UInt8]) -> [Entry] {
        guard b.count > 8 else { return [] }
        let little: Bool
        if b[0] == 0x49 && b[1] == 0x49 { little = true } else if b[0] == 0x4D && b[1] == 0x4D { little = false } else { return [] }
        func u16(_ o: Int) -> Int { o + 1 < b.count ? (little ? Int(b[o]) | Int(b[o + 1]) << 8 : Int(b[o]) << 8 | Int(b[o + 1])) : 0 }
        func u32(_ o: Int) -> Int { o + 3 < b.count ? (little ? u16(o) | u16(o + 2) << 16 : u16(o) << 16 | u16(o + 2)) : 0 }
        let ifd = u32(4)
        let n = u16(ifd)
        guard ifd > 0, n > 0, n < 1000 else { return [] }
        let interesting: Set<Int> = [256, 257, 258, 273, 277, 278, 279, 322, 323, 324, 325, 330, 33421, 33422, 50713, 50714, 50717, 50829]
        return (0..<n).compactMap { i in
            let e = ifd + 2 + 12 * i
            let tag = u16(e)
            return interesting.contains(tag) ? Entry(tag: tag, type: u16(e + 2), valueOffset: e + 8) : nil
        }
    }

    static func write(_ value: UInt32, into b: inout [UInt8], entry: Entry, littleEndian: Bool) {
        let width = entry.type == 3 ? 2 : 4
        guard entry.valueOffset + width <= b.count else { return }
        let v = width == 2 ? value & 0xFFFF : value
        for i in 0..<width {
            let shift = littleEndian ? 8 * i : 8 * (width - 1 - i)
            b[entry.valueOffset + i] = UInt8(truncatingIfNeeded: v >> UInt32(shift))
        }
    }
}

/// One lossless-JPEG stream (ITU-T T.81 process 14, SOF3, Huffman), decoded with LibRaw 0.20's
/// semantics so that a DNG tile decodes to exactly the values LibRaw's `ljpeg_start` /
/// `ljpeg_row` / `ljpeg_diff` give.
///
/// Why LibRaw's semantics rather than T.81's letter: the fast path (`LosslessDNGTiles`) replaces
/// LibRaw's decode only where the result is provably the same, so this reproduces LibRaw's
/// choices where it departs from the standard: each component c uses Huffman table slot c (the
/// scan's table selectors are ignored; missing slots take the previous one); the point transform
/// only lowers the precision (values are not shifted); restart intervals are honoured at row starts
/// only, by resetting the column-0 predictors to 2^(P−1) and searching for the next RSTn marker;
/// after a restart the other columns keep the selected predictor; a difference category of 16
/// means −32768 (DNG ≥ 1.1); sums are kept modulo 2^16 and a stored value of P bits or more is an
/// error; the bit reader stops at any marker and then supplies zero bits.
///
/// Never traps on file data: every read is bounds-checked. Anything LibRaw would flag (a value
/// outside the precision, bits used past a marker or the end of the data), anything it would do
/// by undefined behaviour (a zero-length Huffman code, a category above 16) and anything this
/// reader cannot know (bytes past the buffer it was given) ends the decode with `nil`: the caller
/// then lets LibRaw decode the file, which gives its own result or one-line error.
///
/// Reference: ITU-T T.81 Annex H (lossless processes), Annex C/F.2.2 (Huffman tables and
/// decoding), B.2 (marker segments); LibRaw 0.20.2 `decoders_dcraw.cpp` as the behaviour matched.
struct LosslessJPEG {
    var bits = 0
    var high = 0
    var wide = 0
    var clrs = 0
    var psv = 0
    var restart = Int(Int32.max)
    /// Huffman lookup per component (LibRaw's slot c), `1 << maxLength` entries of length << 8 | category.
    var tables: [[UInt16]] = []
    var maxLengths: [Int] = []
    /// Offset of the entropy-coded data in the stream's bytes.
    var dataStart = 0

    /// Parses the markers up to the start of scan, as `ljpeg_start` does; nil when LibRaw would
    /// refuse the stream, when it is not SOF3 with one sample per component and 1×1 sampling, or
    /// when a segment is shorter than the fields read from it.
    init?(_ b: UnsafeBufferPointer<UInt8>) {
        guard b.count >= 4, b[1] == 0xD8 else { return nil }
        var pos = 2
        var algo = 0
        var sraw = 0
        var huff = [[UInt16]?](repeating: nil, count: 20)
        var huffMax = [Int](repeating: 0, count: 20)
        var markers = 0
        var tag = 0
        repeat {
            markers += 1
            guard markers <= 1024, pos + 4 <= b.count else { return nil }
            tag = Int(b[pos]) << 8 | Int(b[pos + 1])
            let declared = Int(b[pos + 2]) << 8 | Int(b[pos + 3])
            guard tag > 0xFF00, declared >= 2 else { return nil }
            let len = declared - 2
            pos += 4
            guard pos + len <= b.count else { return nil }
            let d = pos
            switch tag {
            case 0xFFC3, 0xFFC1, 0xFFC0:
                guard len >= 6 else { return nil }
                if tag == 0xFFC3 {
                    guard len >= 8 else { return nil }
                    let f = Int(b[d + 7])
                    sraw = ((f >> 4) * (f & 15) - 1) & 3
                }
                algo = tag & 0xFF
                bits = Int(b[d])
                high = Int(b[d + 1]) << 8 | Int(b[d + 2])
                wide = Int(b[d + 3]) << 8 | Int(b[d + 4])
                clrs = Int(b[d + 5]) + sraw
            case 0xFFC4:
                var p = d
                while p < d + len {
                    let c = Int(b[p]); p += 1
                    guard c & ~19 == 0 else { break }
                    // 16 code counts, then the categories (make_decoder_ref).
                    guard p + 16 <= d + len else { return nil }
                    var counts = [Int](repeating: 0, count: 17)
                    for l in 1...16 { counts[l] = Int(b[p + l - 1]) }
                    p += 16
                    let symbols = counts.reduce(0, +)
                    guard p + symbols <= d + len else { return nil }
                    var maxLength = 16
                    while maxLength > 0 && counts[maxLength] == 0 { maxLength -= 1 }
                    var table = [UInt16](repeating: 0, count: 1 << maxLength)
                    var h = 0
                    for l in stride(from: 1, through: maxLength, by: 1) {
                        for _ in 0..<counts[l] {
                            let entry = UInt16(l << 8) | UInt16(b[p])
                            p += 1
                            for _ in 0..<(1 << (maxLength - l)) where h < table.count {
                                table[h] = entry; h += 1
                            }
                        }
                    }
                    huff[c] = table
                    huffMax[c] = maxLength
                }
            case 0xFFDA:
                guard len >= 1 else { return nil }
                let ns = Int(b[d])
                guard 3 + ns * 2 < len else { return nil }
                psv = Int(b[d + 1 + ns * 2])
                bits -= Int(b[d + 3 + ns * 2]) & 15
            case 0xFFDD:
                guard len >= 2 else { return nil }
                restart = Int(b[d]) << 8 | Int(b[d + 1])
            default:
                break
            }
            pos += len
        } while tag != 0xFFDA
        dataStart = pos
        // LibRaw's own refusals, then what this reader does not handle.
        guard (1...16).contains(bits), (1...6).contains(clrs), high > 0, wide > 0, huff[0] != nil,
              algo == 0xC3, sraw == 0, (1...7).contains(psv), restart != 0,
              high * wide < Int(Int32.max) else { return nil }
        for c in 0..<19 where huff[c + 1] == nil { huff[c + 1] = huff[c]; huffMax[c + 1] = huffMax[c] }
        tables = (0..<clrs).map { huff[$0] ?? [] }
        maxLengths = Array(huffMax.prefix(clrs))
        guard maxLengths.allSatisfy({ $0 > 0 }) else { return nil }
    }

    /// LibRaw's `getbithuff` over one buffer: reads bytes only while it holds fewer bits than
    /// asked, turns FF 00 into FF, stops for good at any other FF xx (or at the end), and after
    /// that supplies zero bits; using more bits than were read is an error.
    struct BitReader {
        let b: UnsafeBufferPointer<UInt8>
        var pos: Int
        var buffer: UInt64 = 0
        var count = 0
        var stopped = false
        /// Set when the answer depends on bytes past the buffer (LibRaw would read them).
        var unknown = false

        @inline(__always) mutating func fill(_ n: Int) {
            while !stopped && count < n {
                guard pos < b.count else { stopped = true; return }
                let c = b[pos]; pos += 1
                if c == 0xFF {
                    guard pos < b.count else { unknown = true; stopped = true; return }
                    let next = b[pos]; pos += 1
                    if next != 0 { stopped = true; return }
                }
                buffer = buffer &<< 8 | UInt64(c)
                count += 8
            }
        }

        /// The next `n` bits (1…16), zero-padded past what was read.
        @inline(__always) mutating func peek(_ n: Int) -> Int {
            fill(n)
            let v = count >= n ? buffer &>> UInt64(count - n) : buffer &<< UInt64(n - count)
            return Int(truncatingIfNeeded: v) & ((1 << n) - 1)
        }

        mutating func reset() { buffer = 0; count = 0; stopped = false }
    }

    /// Decodes every row, handing each (`wide × clrs` values) to `row` with its index. Returns
    /// false where LibRaw would report an error, or where the result is not certain (see the type).
    func decode(_ b: UnsafeBufferPointer<UInt8>, dngVersion: UInt32,
                row sink: (UnsafePointer<UInt16>, Int) -> Void) -> Bool {
        let n = wide * clrs
        let rows = UnsafeMutablePointer<UInt16>.allocate(capacity: 2 * n)
        defer { rows.deallocate() }
        rows.initialize(repeating: 0, count: 2 * n)
        var reader = BitReader(b: b, pos: dataStart)
        var vpred = [Int](repeating: 0, count: 6)
        let limit = 1 << bits
        let sixteenIsMinimum = dngVersion == 0 || dngVersion >= 0x0101_0000
        var ok = true
        // The tables as flat pointers for the inner loop.
        let flat = tables.map { t -> UnsafeMutablePointer<UInt16> in
            let p = UnsafeMutablePointer<UInt16>.allocate(capacity: t.count)
            p.initialize(from: t, count: t.count)
            return p
        }
        defer { flat.forEach { $0.deallocate() } }

        @inline(__always) func diff(_ c: Int) -> Int? {
            let maxLength = maxLengths[c]
            let entry = Int(flat[c][reader.peek(maxLength)])
            let length = entry >> 8
            guard length > 0 else { return nil }  // unassigned code: LibRaw's result is undefined
            reader.count -= length
            guard reader.count >= 0 else { return nil }
            let category = entry & 0xFF
            if category == 0 { return 0 }
            if category == 16 && sixteenIsMinimum { return -32768 }
            guard category <= 16 else { return nil }
            let v = reader.peek(category)
            reader.count -= category
            guard reader.count >= 0 else { return nil }
            return v & (1 << (category - 1)) == 0 ? v - (1 << category) + 1 : v
        }

        for jrow in 0..<high {
            if (jrow * wide) % restart == 0 {
                for c in 0..<6 { vpred[c] = 1 << (bits - 1) }
                if jrow > 0 {
                    // Back two bytes, then on to just past the next RSTn marker.
                    var p = reader.pos - 2
                    guard p >= 0 else { return false }
                    var mark: UInt16 = 0
                    repeat {
                        guard p < b.count else { return false }
                        mark = mark &<< 8 &+ UInt16(b[p]); p += 1
                    } while mark >> 4 != 0xFFD
                    reader.pos = p
                }
                reader.reset()
            }
            let current = rows + (jrow & 1) * n
            let above = rows + ((jrow + 1) & 1) * n
            for c in 0..<clrs {
                guard let d = diff(c) else { return false }
                let v = vpred[c] + d
                vpred[c] = v  // an int in LibRaw, not truncated
                guard abs(v) < 1 << 30 else { return false }
                let stored = UInt16(truncatingIfNeeded: v)
                guard Int(stored) < limit else { return false }
                current[c] = stored
            }
            var i = clrs
            while i < n {
                for c in 0..<clrs {
                    guard let d = diff(c) else { ok = false; break }
                    let left = Int(current[i - clrs])
                    var pred = left
                    if jrow > 0 {
                        let up = Int(above[i]), upLeft = Int(above[i - clrs])
                        switch psv {
                        case 2: pred = up
                        case 3: pred = upLeft
                        case 4: pred = left + up - upLeft
                        case 5: pred = left + ((up - upLeft) >> 1)
                        case 6: pred = up + ((left - upLeft) >> 1)
                        case 7: pred = (left + up) >> 1
                        default: break
                        }
                    }
                    // LibRaw tests the stored 16-bit value, so sums wrap modulo 2^16 (as T.81 H.2.2 has it).
                    let stored = UInt16(truncatingIfNeeded: pred + d)
                    guard Int(stored) < limit else { ok = false; break }
                    current[i] = stored
                    i += 1
                }
                if !ok { return false }
            }
            if reader.unknown { return false }
            sink(current, jrow)
        }
        return !reader.unknown
    }
}

import EmulsionCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// 0xC3 (lossless) or 0xC1 (extended DCT, which LibRaw's DNG loader also takes: Blackmagic).
    var algo = 0
    /// The DQT table as LibRaw reads it (sixteen bits per entry, zig-zag order), DCT only.
    var quant = [Int](repeating: 0, count: 64)
    /// LibRaw's `huff[16]` (the first AC table, or the slot before it): the DCT's AC codes.
    var acTable: [UInt16] = []
    var acMaxLength = 0
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
        var sraw = 0
        var quantComplete = true
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
            case 0xFFDB:
                // LibRaw reads 64 sixteen-bit entries whatever the precision byte says.
                if len >= 129 {
                    for c in 0..<64 { quant[c] = Int(b[d + c * 2 + 1]) << 8 | Int(b[d + c * 2 + 2]) }
                    quantComplete = true
                } else {
                    quantComplete = false
                }
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
        guard (1...16).contains(bits), (1...6).contains(clrs), high > 0, wide > 0, huff[0] != nil, sraw == 0,
              high * wide < Int(Int32.max) else { return nil }
        switch algo {
        case 0xC3: guard (1...7).contains(psv), restart != 0 else { return nil }
        case 0xC1: guard clrs == 1, quantComplete else { return nil }
        default: return nil
        }
        for c in 0..<19 where huff[c + 1] == nil { huff[c + 1] = huff[c]; huffMax[c + 1] = huffMax[c] }
        tables = (0..<clrs).map { huff[$0] ?? [] }
        maxLengths = Array(huffMax.prefix(clrs))
        acTable = huff[16] ?? []
        acMaxLength = huffMax[16]
        guard maxLengths.allSatisfy({ $0 > 0 }), algo != 0xC1 || acMaxLength > 0 else { return nil }
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
            guard count < n else { return }
            if !stopped, let bytes = b.baseAddress,
               LosslessJPEG.takePlainBytes(bytes, end: b.count, pos: &pos, buffer: &buffer, count: &count) { return }
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

    /// `BitReader.fill`'s fast path, on the reader's state wherever it is held (its fields, or
    /// locals in `decodeLeftPredicted`): with no FF among the next eight bytes there is no stuffing
    /// and no marker, so the bytes that fit the 64-bit buffer are taken at once. They are bytes
    /// LibRaw reads too before any stop, and `pos` runs ahead only over plain data bytes, where
    /// the restart search in `decode` (from `pos − 2` to the next FF Dx) finds the same marker.
    /// False, taking nothing, near the end or where an FF lies ahead (the byte loop decides);
    /// callers check `stopped` first.
    @inline(__always)
    static func takePlainBytes(_ bytes: UnsafePointer<UInt8>, end: Int, pos: inout Int, buffer: inout UInt64,
                               count: inout Int) -> Bool {
        guard pos &+ 8 <= end else { return false }
        let word = UInt64(bigEndian: UnsafeRawPointer(bytes + pos).loadUnaligned(as: UInt64.self))
        // A zero byte of ~word (an FF of word), the classic test: exact for "any".
        guard (~word &- 0x0101_0101_0101_0101) & word & 0x8080_8080_8080_8080 == 0 else { return false }
        let taken = (63 &- count) &>> 3
        buffer = buffer &<< UInt64(truncatingIfNeeded: 8 &* taken) | word &>> UInt64(truncatingIfNeeded: 64 &- 8 &* taken)
        count &+= 8 &* taken
        pos &+= taken
        return true
    }

    /// One difference (`ljpeg_diff`): a Huffman category, then that many bits, sign-extended as
    /// T.81 F.2.2.1 has it; category 16 is −32768 for DNG ≥ 1.1. `failed`: unassigned code, a
    /// category above 16, or bits used past what was read. `@_transparent`: with
    /// `@inline(__always)` it stayed a call per sample, the reader's state going through memory
    /// (perf: 26% of a 2 MP tile decode in this function's own prologue and loads).
    /// First `fast` (`fastDifferences`): a code and its magnitude bits in one lookup, when both lie
    /// in bits already read; anything else takes the step-by-step path below, LibRaw's order.
    @_transparent
    static func difference(_ reader: inout BitReader, _ fast: UnsafePointer<Int32>, _ table: UnsafePointer<UInt16>,
                           _ maxLength: Int, sixteenIsMinimum: Bool) -> Int {
        let quick = Int(fast[reader.peek(fastBits)])
        let taken = quick & 15
        if taken != 0 && taken <= reader.count {
            reader.count -= taken
            return quick >> 12
        }
        let entry = Int(table[reader.peek(maxLength)])
        let length = entry >> 8
        let category = entry & 0xFF
        reader.count -= length
        // An unassigned code (LibRaw's result is undefined there), or bits used past what was read.
        if length == 0 || reader.count < 0 { return failed }
        if category == 0 { return 0 }
        if category == 16 && sixteenIsMinimum { return -32768 }
        if category > 16 { return failed }
        let v = reader.peek(category)
        reader.count -= category
        if reader.count < 0 { return failed }
        return extended(v, bits: category)
    }

    /// `difference`'s answer for "stop here".
    static let failed = Int.min

    /// `bits` magnitude bits as a signed value: a leading 0 marks a negative one (T.81 F.2.2.1,
    /// EXTEND).
    @_transparent
    static func extended(_ v: Int, bits: Int) -> Int {
        v & (1 << (bits - 1)) == 0 ? v - (1 << bits) + 1 : v
    }

    /// Window of `fastTable`: 4096 entries (16 KB) stay in L1 beside the data.
    static let fastBits = 12

    /// For each `fastBits`-bit window of the stream: its first code's symbol, the value of the
    /// magnitude bits that follow it (`magnitudeBits(symbol)` of them, EXTENDed) and the bits both
    /// take, packed as value << 12 | symbol << 4 | bits; 0 where the code is unassigned,
    /// `magnitudeBits` says nil, or code and bits do not fit the window (the step-by-step path
    /// decides). `table` is indexed by `maxLength` bits; a code no longer than the window fills
    /// every entry that starts with it, so any suffix finds it.
    ///
    /// Built code by code rather than window by window: each code (a run of `table` entries of
    /// its length) and each value of its magnitude bits fill the contiguous windows that start
    /// with them, so a build writes each entry once (a window-by-window decode cost ~18 µs per
    /// table, and phone DNGs carry a table per tile). `LosslessJPEGTests` compares it with the
    /// window-by-window definition.
    static func fastTable(_ table: [UInt16], maxLength: Int, magnitudeBits: (Int) -> Int?) -> [Int32] {
        var out = [Int32](repeating: 0, count: 1 << fastBits)
        guard maxLength > 0, table.count == 1 << maxLength else { return out }
        out.withUnsafeMutableBufferPointer { out in
            var i = 0
            while i < table.count {
                let entry = Int(table[i])
                let length = entry >> 8, symbol = entry & 0xFF
                guard length > 0, length <= maxLength else { i += 1; continue }
                defer { i += 1 << (maxLength - length) }
                guard let size = magnitudeBits(symbol), length + size <= fastBits else { continue }
                let prefix = i >> (maxLength - length)
                let span = 1 << (fastBits - length - size)
                for bits in 0..<(1 << size) {
                    let value = size == 0 ? 0 : extended(bits, bits: size)
                    let packed = Int32(value) << 12 | Int32(symbol) << 4 | Int32(length + size)
                    let start = (prefix << size | bits) * span
                    for w in start..<(start + span) { out[w] = packed }
                }
            }
        }
        return out
    }

    /// `fastTable` for an LJ92 table: the symbol is the difference's category (16 and up: the
    /// step-by-step path).
    static func fastDifferences(_ table: [UInt16], maxLength: Int) -> [Int32] {
        fastTable(table, maxLength: maxLength) { $0 < 16 ? $0 : nil }
    }

    /// Decodes every row, handing each (`wide × clrs` values) to `row` with its index. Returns
    /// false where LibRaw would report an error, or where the result is not certain (see the type).
    func decode(_ b: UnsafeBufferPointer<UInt8>, dngVersion: UInt32,
                row sink: (UnsafePointer<UInt16>, Int) -> Void) -> Bool {
        guard algo == 0xC3 else { return false }
        var s = Rows(self, b, dngVersion: dngVersion)
        defer { s.deallocate() }
        for jrow in 0..<high {
            guard let current = s.begin(jrow) else { return false }
            if s.leftPredicted(jrow) {
                // The common case (phone DNGs: predictor 1, one table or two alternating): the
                // general loop with the predictor's choice taken out of it.
                guard s.decodeLeftPredicted(current, from: clrs, to: max(s.n, clrs)) else { return false }
            } else {
                guard s.finishGeneral(jrow, current) else { return false }
            }
            if s.reader.unknown { return false }
            sink(current, jrow)
        }
        return !s.reader.unknown
    }

    /// Two streams of the same shape decoded in step, each exactly as `decode` decodes it, with
    /// their rows' samples interleaved (`decodeLeftPredictedPair`): a Huffman decode is a chain
    /// of dependent steps (the bit count sets the next lookup), and two independent chains keep
    /// the core busy where one waits on each table load. nil when the two are not both predictor
    /// 1 with a table layout `decodeLeftPredicted` knows (`SampleTableLayout`) and the same size
    /// (the caller decodes them one by one); otherwise false where `decode` would return false
    /// for either.
    static func decodeTogether(_ first: LosslessJPEG, _ firstBytes: UnsafeBufferPointer<UInt8>,
                               _ second: LosslessJPEG, _ secondBytes: UnsafeBufferPointer<UInt8>, dngVersion: UInt32,
                               rows firstSink: (UnsafePointer<UInt16>, Int) -> Void,
                               _ secondSink: (UnsafePointer<UInt16>, Int) -> Void) -> Bool? {
        guard first.algo == 0xC3, second.algo == 0xC3, first.psv == 1, second.psv == 1,
              first.wide == second.wide, first.clrs == second.clrs, first.high == second.high else { return nil }
        var a = Rows(first, firstBytes, dngVersion: dngVersion)
        defer { a.deallocate() }
        var b = Rows(second, secondBytes, dngVersion: dngVersion)
        defer { b.deallocate() }
        guard let layoutA = a.tableLayout, let layoutB = b.tableLayout else { return nil }
        let clrs = first.clrs, to = max(a.n, clrs)
        for jrow in 0..<first.high {
            guard let rowA = a.begin(jrow), let rowB = b.begin(jrow) else { return false }
            // Each layout pair compiled for itself (a Pixel DNG mixes tiles of one and of two tables).
            let paired: Bool
            switch (layoutA, layoutB) {
            case (.shared, .shared): paired = decodeLeftPredictedPair(&a, rowA, a.oneTable, &b, rowB, b.oneTable, from: clrs, to: to, stride: clrs)
            case (.shared, .alternating): paired = decodeLeftPredictedPair(&a, rowA, a.oneTable, &b, rowB, b.twoTables, from: clrs, to: to, stride: clrs)
            case (.alternating, .shared): paired = decodeLeftPredictedPair(&a, rowA, a.twoTables, &b, rowB, b.oneTable, from: clrs, to: to, stride: clrs)
            case (.alternating, .alternating): paired = decodeLeftPredictedPair(&a, rowA, a.twoTables, &b, rowB, b.twoTables, from: clrs, to: to, stride: clrs)
            }
            guard paired else { return false }
            if a.reader.unknown || b.reader.unknown { return false }
            firstSink(rowA, jrow)
            secondSink(rowB, jrow)
        }
        return !a.reader.unknown && !b.reader.unknown
    }

    /// One stream being decoded row by row: its reader, the current and previous rows, the
    /// tables as flat pointers per component (for the inner loops) and the column-0 predictors.
    struct Rows {
        let jpeg: LosslessJPEG
        var reader: BitReader
        let n: Int
        let limit: Int
        let sixteen: Bool
        /// How `decodeLeftPredicted` finds each sample's table; nil where it cannot (three or
        /// more components with tables of their own: the general loop decodes).
        let tableLayout: SampleTableLayout?
        let rows: UnsafeMutablePointer<UInt16>
        let lookups: UnsafeMutablePointer<UnsafeMutablePointer<UInt16>>
        let quick: UnsafeMutablePointer<UnsafeMutablePointer<Int32>>
        let lengths: UnsafeMutablePointer<Int>
        let vpred: UnsafeMutablePointer<Int>

        init(_ jpeg: LosslessJPEG, _ b: UnsafeBufferPointer<UInt8>, dngVersion: UInt32) {
            self.jpeg = jpeg
            reader = BitReader(b: b, pos: jpeg.dataStart)
            let clrs = jpeg.clrs
            n = jpeg.wide * clrs
            limit = 1 << jpeg.bits
            sixteen = dngVersion == 0 || dngVersion >= 0x0101_0000
            tableLayout = jpeg.tables.allSatisfy { $0 == jpeg.tables[0] } ? .shared : clrs == 2 ? .alternating : nil
            rows = UnsafeMutablePointer<UInt16>.allocate(capacity: 2 * n)
            rows.initialize(repeating: 0, count: 2 * n)
            lookups = UnsafeMutablePointer<UnsafeMutablePointer<UInt16>>.allocate(capacity: clrs)
            quick = UnsafeMutablePointer<UnsafeMutablePointer<Int32>>.allocate(capacity: clrs)
            lengths = UnsafeMutablePointer<Int>.allocate(capacity: clrs)
            vpred = UnsafeMutablePointer<Int>.allocate(capacity: 6)
            var fastOfPrevious: [Int32] = []
            for c in 0..<clrs {
                let table = jpeg.tables[c]
                lookups[c] = UnsafeMutablePointer<UInt16>.allocate(capacity: table.count)
                lookups[c].initialize(from: table, count: table.count)
                lengths[c] = jpeg.maxLengths[c]
                // Components usually share table 0 (LibRaw copies it into the slots after it).
                let fast = c > 0 && table == jpeg.tables[c - 1] ? fastOfPrevious
                    : LosslessJPEG.fastDifferences(table, maxLength: jpeg.maxLengths[c])
                fastOfPrevious = fast
                quick[c] = UnsafeMutablePointer<Int32>.allocate(capacity: fast.count)
                quick[c].initialize(from: fast, count: fast.count)
            }
        }

        func deallocate() {
            for c in 0..<jpeg.clrs { lookups[c].deallocate(); quick[c].deallocate() }
            lookups.deallocate(); quick.deallocate(); lengths.deallocate(); vpred.deallocate(); rows.deallocate()
        }

        /// Whether row `jrow` takes `decodeLeftPredicted` (a table layout it knows, and predictor 1
        /// or the first row).
        func leftPredicted(_ jrow: Int) -> Bool { tableLayout != nil && (jrow == 0 || jpeg.psv == 1) }

        /// Table slot `c` (LibRaw's, for component c).
        func table(_ c: Int) -> OneTable { OneTable(fast: quick[c], lookup: lookups[c], maxLength: lengths[c]) }
        /// Component 0's table for every sample.
        var oneTable: OneTable { table(0) }
        /// Components 0 and 1's tables, alternating (two components).
        var twoTables: TwoTables { TwoTables(even: table(0), odd: table(1)) }

        /// `row[from..<to]` through `LosslessJPEG.decodeLeftPredicted` with this stream's tables.
        mutating func decodeLeftPredicted(_ row: UnsafeMutablePointer<UInt16>, from: Int, to: Int) -> Bool {
            if tableLayout == .shared {
                return LosslessJPEG.decodeLeftPredicted(&reader, tables: oneTable, sixteenIsMinimum: sixteen, row: row,
                                                        from: from, to: to, stride: jpeg.clrs, limit: limit)
            }
            return LosslessJPEG.decodeLeftPredicted(&reader, tables: twoTables, sixteenIsMinimum: sixteen, row: row,
                                                    from: from, to: to, stride: jpeg.clrs, limit: limit)
        }

        /// Starts row `jrow`: a restart where one falls (predictors reset, the reader moved past
        /// the next RSTn marker), then column 0 of each component. The row's buffer, or nil
        /// where LibRaw would report an error.
        mutating func begin(_ jrow: Int) -> UnsafeMutablePointer<UInt16>? {
            let clrs = jpeg.clrs, wide = jpeg.wide, bits = jpeg.bits
            if (jrow * wide) % jpeg.restart == 0 {
                for c in 0..<6 { vpred[c] = 1 << (bits - 1) }
                if jrow > 0 {
                    // Back two bytes, then on to just past the next RSTn marker.
                    let b = reader.b
                    var p = reader.pos - 2
                    guard p >= 0 else { return nil }
                    var mark: UInt16 = 0
                    repeat {
                        guard p < b.count else { return nil }
                        mark = mark &<< 8 &+ UInt16(b[p]); p += 1
                    } while mark >> 4 != 0xFFD
                    reader.pos = p
                }
                reader.reset()
            }
            let current = rows + (jrow & 1) * n
            // Column 0 of each component: predicted from the column-0 value above (an int in
            // LibRaw, not truncated).
            for c in 0..<clrs {
                let d = LosslessJPEG.difference(&reader, quick[c], lookups[c], lengths[c], sixteenIsMinimum: sixteen)
                if d == LosslessJPEG.failed { return nil }
                let v = vpred[c] + d
                vpred[c] = v
                guard abs(v) < 1 << 30 else { return nil }
                let stored = UInt16(truncatingIfNeeded: v)
                guard Int(stored) < limit else { return nil }
                current[c] = stored
            }
            return current
        }

        /// The rest of row `jrow` for any predictor and per-component tables.
        mutating func finishGeneral(_ jrow: Int, _ current: UnsafeMutablePointer<UInt16>) -> Bool {
            let clrs = jpeg.clrs, psv = jpeg.psv
            let above = rows + ((jrow + 1) & 1) * n
            var c = 0
            for i in clrs..<max(n, clrs) {
                let d = LosslessJPEG.difference(&reader, quick[c], lookups[c], lengths[c], sixteenIsMinimum: sixteen)
                if d == LosslessJPEG.failed { return false }
                c += 1
                if c == clrs { c = 0 }
                let left = Int(current[i - clrs])
                let pred = jrow > 0 && psv != 1 ? LosslessJPEG.prediction(psv, left: left, up: Int(above[i]), upLeft: Int(above[i - clrs])) : left
                // LibRaw tests the stored 16-bit value, so sums wrap modulo 2^16 (as T.81 H.2.2 has it).
                let stored = UInt16(truncatingIfNeeded: pred + d)
                guard Int(stored) < limit else { return false }
                current[i] = stored
            }
            return true
        }
    }

    /// `row[from..<to]`, each value its neighbour `stride` back plus the next difference, as the
    /// general loop computes them for predictor 1, each sample with its component's table
    /// (`tables`). The quick case (a refill of plain bytes, then a code and its magnitude within
    /// the 12 bits at hand) runs on the reader's bit buffer, count and position held in locals,
    /// with wrapping arithmetic: through `inout` they stayed in memory, twice the instructions
    /// per sample (callgrind). Four quick samples follow each refill without a bit count test
    /// (12 MP phone capture: tile decoding 32 → 30 ms, docs/PERFORMANCE.md, session 15). Anything
    /// else hands the state back to `reader` and goes through `fill` and `difference`, LibRaw's
    /// semantics, which give the same value for the quick case too.
    @inline(never)
    static func decodeLeftPredicted<T: SampleTables>(_ reader: inout BitReader, tables: T, sixteenIsMinimum sixteen: Bool,
                                                     row: UnsafeMutablePointer<UInt16>, from: Int, to: Int, stride: Int,
                                                     limit: Int) -> Bool {
        // A stream with no bytes never gets here (the header parser needs four); declining is safe.
        guard let bytes = reader.b.baseAddress else { return false }
        let end = reader.b.count
        var buffer = reader.buffer, count = reader.count, pos = reader.pos, stopped = reader.stopped
        defer { reader.buffer = buffer; reader.count = count; reader.pos = pos }
        var i = from
        while i < to {
            // Four samples per refill where four remain: below 48 bits a refill of plain bytes
            // leaves at least 56, and a quick sample takes at most `fastBits` (4 × 12 = 48), so
            // the four need no bit count test: only the rare sample that is not quick leaves.
            // (Testing the count before each sample mispredicted about once per refill.)
            if i &+ 4 <= to && !stopped
                && (count >= 48 || takePlainBytes(bytes, end: end, pos: &pos, buffer: &buffer, count: &count)) {
                var k = 0
                while k < 4 {
                    let quick = Int(tables.fast(i)[Int(truncatingIfNeeded: buffer &>> UInt64(truncatingIfNeeded: count &- fastBits)) & (1 << fastBits - 1)])
                    let taken = quick & 15
                    if taken == 0 { break }
                    count &-= taken
                    let stored = UInt16(truncatingIfNeeded: Int(row[i &- stride]) &+ (quick &>> 12))
                    guard Int(stored) < limit else { return false }
                    row[i] = stored
                    i &+= 1
                    k &+= 1
                }
                if k == 4 { continue }
            }
            if count < fastBits && (stopped || !takePlainBytes(bytes, end: end, pos: &pos, buffer: &buffer, count: &count)) {
                reader.buffer = buffer; reader.count = count; reader.pos = pos
                reader.fill(fastBits)
                buffer = reader.buffer; count = reader.count; pos = reader.pos; stopped = reader.stopped
            }
            if count >= fastBits {
                let quick = Int(tables.fast(i)[Int(truncatingIfNeeded: buffer &>> UInt64(truncatingIfNeeded: count &- fastBits)) & (1 << fastBits - 1)])
                let taken = quick & 15
                if taken != 0 {
                    count &-= taken
                    let stored = UInt16(truncatingIfNeeded: Int(row[i &- stride]) &+ (quick &>> 12))
                    guard Int(stored) < limit else { return false }
                    row[i] = stored
                    i &+= 1
                    continue
                }
            }
            reader.buffer = buffer; reader.count = count; reader.pos = pos
            let d = difference(&reader, tables.fast(i), tables.lookup(i), tables.maxLength(i), sixteenIsMinimum: sixteen)
            buffer = reader.buffer; count = reader.count; pos = reader.pos; stopped = reader.stopped
            if d == failed { return false }
            let stored = UInt16(truncatingIfNeeded: Int(row[i - stride]) + d)
            guard Int(stored) < limit else { return false }
            row[i] = stored
            i += 1
        }
        return true
    }

    /// `decodeLeftPredicted` on two streams' rows at once (`decodeTogether`): groups of four
    /// quick samples of each, interleaved, after refilling both; where either cannot refill from
    /// plain bytes or has a sample that is not quick, one sample of each goes through
    /// `decodeLeftPredicted` (LibRaw's semantics), and the row's last samples too. Each stream
    /// sees the same steps, in the same order, as when decoded alone.
    @inline(never)
    static func decodeLeftPredictedPair<A: SampleTables, B: SampleTables>(
        _ a: inout Rows, _ rowA: UnsafeMutablePointer<UInt16>, _ tablesA: A,
        _ b: inout Rows, _ rowB: UnsafeMutablePointer<UInt16>, _ tablesB: B, from: Int, to: Int, stride: Int
    ) -> Bool {
        guard let bytesA = a.reader.b.baseAddress, let bytesB = b.reader.b.baseAddress else { return false }
        let endA = a.reader.b.count, endB = b.reader.b.count
        let limitA = a.limit, limitB = b.limit
        var bufferA = a.reader.buffer, countA = a.reader.count, posA = a.reader.pos
        var bufferB = b.reader.buffer, countB = b.reader.count, posB = b.reader.pos
        var i = from
        while i &+ 4 <= to {
            if !a.reader.stopped && !b.reader.stopped
                && (countA >= 48 || takePlainBytes(bytesA, end: endA, pos: &posA, buffer: &bufferA, count: &countA))
                && (countB >= 48 || takePlainBytes(bytesB, end: endB, pos: &posB, buffer: &bufferB, count: &countB)) {
                var k = 0
                while k < 4 {
                    let quickA = Int(tablesA.fast(i)[Int(truncatingIfNeeded: bufferA &>> UInt64(truncatingIfNeeded: countA &- fastBits)) & (1 << fastBits - 1)])
                    let quickB = Int(tablesB.fast(i)[Int(truncatingIfNeeded: bufferB &>> UInt64(truncatingIfNeeded: countB &- fastBits)) & (1 << fastBits - 1)])
                    let takenA = quickA & 15, takenB = quickB & 15
                    if takenA == 0 || takenB == 0 { break }
                    countA &-= takenA
                    countB &-= takenB
                    let storedA = UInt16(truncatingIfNeeded: Int(rowA[i &- stride]) &+ (quickA &>> 12))
                    let storedB = UInt16(truncatingIfNeeded: Int(rowB[i &- stride]) &+ (quickB &>> 12))
                    guard Int(storedA) < limitA, Int(storedB) < limitB else {
                        a.reader.buffer = bufferA; a.reader.count = countA; a.reader.pos = posA
                        b.reader.buffer = bufferB; b.reader.count = countB; b.reader.pos = posB
                        return false
                    }
                    rowA[i] = storedA
                    rowB[i] = storedB
                    i &+= 1
                    k &+= 1
                }
                if k == 4 { continue }
            }
            // A stuffed byte or marker ahead, or a sample that is not quick: one sample of each,
            // alone.
            a.reader.buffer = bufferA; a.reader.count = countA; a.reader.pos = posA
            b.reader.buffer = bufferB; b.reader.count = countB; b.reader.pos = posB
            guard a.decodeLeftPredicted(rowA, from: i, to: i + 1), b.decodeLeftPredicted(rowB, from: i, to: i + 1) else { return false }
            bufferA = a.reader.buffer; countA = a.reader.count; posA = a.reader.pos
            bufferB = b.reader.buffer; countB = b.reader.count; posB = b.reader.pos
            i += 1
        }
        a.reader.buffer = bufferA; a.reader.count = countA; a.reader.pos = posA
        b.reader.buffer = bufferB; b.reader.count = countB; b.reader.pos = posB
        return i >= to || (a.decodeLeftPredicted(rowA, from: i, to: to) && b.decodeLeftPredicted(rowB, from: i, to: to))
    }

    /// Where a row's samples find their Huffman tables (`decodeLeftPredicted`): sample i of a row
    /// belongs to component i % clrs, and LibRaw decodes component c with table slot c.
    enum SampleTableLayout { case shared, alternating }

    /// A row's tables as `decodeLeftPredicted` reads them, per sample index: one type per layout,
    /// so each layout's loop is compiled for it (the shared one's table is loop-invariant).
    protocol SampleTables {
        func fast(_ i: Int) -> UnsafePointer<Int32>
        func lookup(_ i: Int) -> UnsafePointer<UInt16>
        func maxLength(_ i: Int) -> Int
    }

    /// One table for every sample (one component, or components sharing table 0).
    struct OneTable: SampleTables {
        let quick: UnsafePointer<Int32>
        let codes: UnsafePointer<UInt16>
        let longest: Int
        init(fast: UnsafeMutablePointer<Int32>, lookup: UnsafeMutablePointer<UInt16>, maxLength: Int) {
            (quick, codes, longest) = (UnsafePointer(fast), UnsafePointer(lookup), maxLength)
        }
        @inline(__always) func fast(_ i: Int) -> UnsafePointer<Int32> { quick }
        @inline(__always) func lookup(_ i: Int) -> UnsafePointer<UInt16> { codes }
        @inline(__always) func maxLength(_ i: Int) -> Int { longest }
    }

    /// Two components with tables of their own, their samples alternating (even indices
    /// component 0): Google's Pixel DNGs store each tile as two components, each with its own
    /// table. They took the general loop, 55 instructions per sample (callgrind; 26 here).
    struct TwoTables: SampleTables {
        let even: OneTable
        let odd: OneTable
        @inline(__always) func fast(_ i: Int) -> UnsafePointer<Int32> { i & 1 == 0 ? even.quick : odd.quick }
        @inline(__always) func lookup(_ i: Int) -> UnsafePointer<UInt16> { i & 1 == 0 ? even.codes : odd.codes }
        @inline(__always) func maxLength(_ i: Int) -> Int { i & 1 == 0 ? even.longest : odd.longest }
    }

    /// The predictor `psv` (1…7) of T.81 Table H.1 from the sample's left, upper and upper-left
    /// neighbours (Annex H.1.2.1).
    @inline(__always)
    static func prediction(_ psv: Int, left: Int, up: Int, upLeft: Int) -> Int {
        switch psv {
        case 1: return left
        case 2: return up
        case 3: return upLeft
        case 4: return left + up - upLeft
        case 5: return left + ((up - upLeft) >> 1)
        case 6: return up + ((left - upLeft) >> 1)
        default: return (left + up) >> 1
        }
    }

    /// Zig-zag order (T.81 Figure A.6), then LibRaw's 16 extra entries for runs that overshoot.
    static let zigzag: [Int] = [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ] + [Int](repeating: 63, count: 16)

    /// LibRaw's cosine table: cos((c & 31)·π/16)/2 computed in double, kept as float.
    static let cosines: [Float] = (0..<106).map { Float(cos(Double($0 & 31) * Double.pi / 16) / 2) }

    /// `cs[(k·2+1)·c]` for k = 0…7 as one vector per c: lane k does exactly the scalar sum's
    /// operations in the same order, so the vector IDCT gives LibRaw's float results bit for bit.
    static let cosineRows: [SIMD8<Float>] = (0..<8).map { c in
        SIMD8<Float>((0..<8).map { k in cosines[(k * 2 + 1) * c] })
    }

    /// `cs[(2i+1)·c]` at i·8 + c.
    static let columnCosines: [Float] = (0..<64).map { cosines[($0 / 8 * 2 + 1) * ($0 % 8)] }

    /// LibRaw's `LIM((int)(x + 0.5), 0, 65535)` of each lane, x a float widened to double
    /// (`roundedSample`), in float lanes. C's cast gives INT_MIN for NaN and for doubles out of
    /// int's range, which LIM clamps to 0: so x ≥ 2³¹, +∞ and NaN give 0. Otherwise clamping x
    /// to [−1, 65536] first changes no result (below it the expression gives 0, above it 65535),
    /// and inside it (int)(x + 0.5) is x rounded half up: x rounded to nearest by the magic
    /// number (`Rounding`, ties to even), plus one where that went down from an exact half. Not
    /// x + 0.5 in float: that rounds (0.49999997 + 0.5 is 1 in float). The clamps are the
    /// engine's (`Lanes.clamped`: NaN to the lower bound). Only adds, compares and bit masks,
    /// which LLVM keeps as vector instructions, where the scalar loop widened to double,
    /// compared and branched per value (and Swift's vector float-to-int conversion is a lane
    /// loop: it doubled the decode's time).
    @inline(__always)
    static func roundedSamples(_ x: SIMD8<Float>) -> SIMD8<UInt16> {
        let magic = SIMD8<Float>(repeating: Rounding.magic)
        let clamped = x.clamped(-1, 65536)
        let nearest = (clamped + magic) - magic
        let one = unsafeBitCast(SIMD8<Float>(repeating: 1), to: SIMD8<UInt32>.self)
        let tie = unsafeBitCast(clamped - nearest .== 0.5, to: SIMD8<UInt32>.self)
        let limited = (nearest + unsafeBitCast(one & tie, to: SIMD8<Float>.self)).clamped(0, 65535)
        let inRange = unsafeBitCast(x .< 2_147_483_648, to: SIMD8<UInt32>.self)
        let codes = unsafeBitCast(limited + magic, to: SIMD8<UInt32>.self) &- Rounding.magicBits
        return SIMD8<UInt16>(truncatingIfNeeded: codes & inRange)
    }

    /// The definition `roundedSamples` keeps, one value at a time, as LibRaw's C computes it.
    static func roundedSample(_ x: Float) -> UInt16 {
        let d = Double(x) + 0.5
        // C's (int) of an out-of-range double gives INT_MIN on x86-64, which LIM clamps to 0.
        let v = d > -2_147_483_649.0 && d < 2_147_483_648.0 ? Int(d) : 0
        return UInt16(min(max(v, 0), 65535))
    }

    /// The DCT variant (SOF1) as LibRaw's DNG loader decodes it (`ljpeg_idct`): 8×8 blocks left to
    /// right, top to bottom, no restart handling, DC predicted from the previous block starting at
    /// 16384, float IDCT in LibRaw's order of operations, each value rounded by adding 0.5 and
    /// truncating, then clamped to 0…65535. `block` gets the 64 values with the block's row and
    /// column in the JPEG. Returns false as `decode` does.
    func decodeBlocks(_ b: UnsafeBufferPointer<UInt8>, dngVersion: UInt32,
                      block sink: (UnsafePointer<UInt16>, Int, Int) -> Void) -> Bool {
        guard algo == 0xC1, let dcTable = tables.first else { return false }
        var reader = BitReader(b: b, pos: dataStart)
        let sixteenIsMinimum = dngVersion == 0 || dngVersion >= 0x0101_0000
        let dcMax = maxLengths[0]
        var dc = 16384
        let zigzag = Self.zigzag, rowsOfCosines = Self.cosineRows
        let halfRoot = 0.70710678118654752440  // M_SQRT1_2, a double as in LibRaw
        let coefficients = UnsafeMutablePointer<Float>.allocate(capacity: 64)
        let work1 = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: 8)
        let values = UnsafeMutablePointer<UInt16>.allocate(capacity: 64)
        defer { coefficients.deallocate(); work1.deallocate(); values.deallocate() }
        let columnCosines = Self.columnCosines
        // Plain pointers, and no closure capturing the reader: the inner loop stays in registers.
        func copy<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(a.count, 1))
            p.initialize(from: a, count: a.count)
            return p
        }
        let dcLookup = copy(dcTable), acLookup = copy(acTable), zigzagTable = copy(zigzag), quantTable = copy(quant)
        // An AC symbol is run << 4 | size: `size` magnitude bits follow its code.
        let acFast = copy(Self.fastTable(acTable, maxLength: acMaxLength) { $0 & 15 })
        let cosineRowTable = copy(rowsOfCosines), columnCosineTable = copy(columnCosines)
        defer {
            dcLookup.deallocate(); acLookup.deallocate(); acFast.deallocate(); zigzagTable.deallocate(); quantTable.deallocate()
            cosineRowTable.deallocate(); columnCosineTable.deallocate()
        }
        var jrow = 0
        while jrow + 7 < high {
            var jcol = 0
            while jcol + 7 < wide {
                coefficients.initialize(repeating: 0, count: 64)
                // Rows of the block that hold a non-zero coefficient (bit r).
                var nonzeroRows: UInt8 = 1
                let dcEntry = Int(dcLookup[reader.peek(dcMax)])
                guard dcEntry >> 8 > 0 else { return false }
                reader.count -= dcEntry >> 8
                guard reader.count >= 0 else { return false }
                let category = dcEntry & 0xFF
                var d = 0
                if category == 16 && sixteenIsMinimum {
                    d = -32768
                } else if category > 0 {
                    guard category <= 16 else { return false }
                    let v = reader.peek(category)
                    reader.count -= category
                    guard reader.count >= 0 else { return false }
                    d = Self.extended(v, bits: category)
                }
                dc += d * quantTable[0]
                guard dc >= Int(Int32.min), dc <= Int(Int32.max) else { return false }
                coefficients[0] = Float(dc)
                var i = 1
                while i < 64 {
                    let symbol: Int, coefficient: Int
                    let quick = Int(acFast[reader.peek(Self.fastBits)])
                    if quick & 15 != 0 && quick & 15 <= reader.count {
                        reader.count -= quick & 15
                        (symbol, coefficient) = ((quick >> 4) & 0xFF, quick >> 12)
                    } else {
                        let entry = Int(acLookup[reader.peek(acMaxLength)])
                        guard entry >> 8 > 0 else { return false }
                        reader.count -= entry >> 8
                        guard reader.count >= 0 else { return false }
                        symbol = entry & 0xFF
                        var v = 0
                        if symbol & 15 > 0 {
                            v = Self.extended(reader.peek(symbol & 15), bits: symbol & 15)
                            reader.count -= symbol & 15
                            guard reader.count >= 0 else { return false }
                        }
                        coefficient = v
                    }
                    let skip = symbol >> 4, size = symbol & 15
                    i += skip
                    if size == 0 && skip < 15 { break }
                    if i >= 64 {
                        // Past the table LibRaw reads memory beyond its quantisation
                        // table; only a zero is certain.
                        guard coefficient == 0 else { return false }
                        coefficients[63] = 0
                    } else {
                        let at = zigzagTable[i]
                        coefficients[at] = Float(coefficient * quantTable[i])
                        if coefficient != 0 { nonzeroRows |= 1 << UInt8(at >> 3) }
                    }
                    i += 1
                }
                for c in 0..<8 { coefficients[c] = Float(Double(coefficients[c]) * halfRoot) }
                for c in 0..<8 { coefficients[c * 8] = Float(Double(coefficients[c * 8]) * halfRoot) }
                // Terms with a zero factor are skipped: they add ±0 to a sum that starts at
                // +0 and so is never −0, which leaves it unchanged bit for bit.
                // Rows: work1[i][j] = Σc work0[i][c]·cs[(2j+1)c], lanes j.
                for r in 0..<8 {
                    var s = SIMD8<Float>.zero
                    if nonzeroRows & (1 << UInt8(r)) != 0 {
                        for c in 0..<8 {
                            let f = coefficients[r * 8 + c]
                            if f != 0 { s += SIMD8<Float>(repeating: f) * cosineRowTable[c] }
                        }
                    }
                    work1[r] = s
                }
                // Columns: work2[i][j] = Σc work1[c][j]·cs[(2i+1)c], lanes j.
                for r in 0..<8 {
                    var s = SIMD8<Float>.zero
                    for c in 0..<8 where nonzeroRows & (1 << UInt8(c)) != 0 {
                        s += work1[c] * SIMD8<Float>(repeating: columnCosineTable[r * 8 + c])
                    }
                    UnsafeMutableRawPointer(values + r * 8).storeBytes(of: Self.roundedSamples(s), as: SIMD8<UInt16>.self)
                }
                sink(values, jrow, jcol)
                jcol += 8
            }
            jrow += 8
        }
        return !reader.unknown
    }
}

import EmulsionCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The samples of a Nikon compressed NEF (compression 34713: the lossy and lossless Huffman
/// formats of the D1X through the D8xx bodies), decoded by Emulsion as LibRaw's
/// `nikon_load_raw` decodes them, straight into the visible area.
///
/// Why: LibRaw's bit reader pulls one byte at a time through its stream object and looks each
/// code up through a per-call function; the NEF decode was half of an end-to-end render and the
/// reason the NEF stayed under 3× dcraw_emu (docs/PERFORMANCE.md). Here the stream is read
/// from memory with a 64-bit bit buffer and one table lookup per code.
///
/// The format (LibRaw 0.20 `nikon_load_raw`, read as the reference; the trees are the format's
/// constants): a Huffman tree chosen by the NEF curve block's version (lossy, lossless; 12 or
/// 14 bits; a second tree from the `split` row on). Each code gives `len` and `shl`; then
/// `len − shl` bits give the difference (JPEG-style sign). The first two columns of a row predict
/// from the same columns two rows up (`vpred`), the others from two columns left; each value
/// goes through LibRaw's curve (the NEF curve it read when opening the file). A value outside
/// the curve's range is LibRaw's "data error": there `decode` returns nil and LibRaw decodes
/// the file, with its own result and error, as it does when the stream ends early.
/// Reference: the NEF "curve" block layout as LibRaw reads it (version bytes, 2110 skipped
/// bytes for some versions, four predictors, the split row at byte 562).
struct NikonCompressedSamples: Sendable, Equatable {
    /// Start of the Huffman stream and the bytes the file holds from there.
    var dataOffset: Int
    /// Start of the curve block (MakerNote tag 0x8c or 0x96).
    var metaOffset: Int
    var bigEndian: Bool
    var bitsPerSample: Int
    var rawWidth: Int
    var rawHeight: Int
    /// The visible area LibRaw reports; LibRaw's loop runs over rows 0..<height of the raw.
    var top: Int
    var left: Int
    var width: Int
    var height: Int
    /// LibRaw's curve, 65 536 entries.
    var curve: [UInt16] = []

    /// Code lengths (counts of codes of 1…16 bits) and symbols of LibRaw's six trees: 12-bit
    /// lossy, 12-bit lossy after the split, 12-bit lossless, then the same three for 14 bits.
    static let trees: [(counts: [Int], symbols: [UInt8])] = [
        ([0, 1, 5, 1, 1, 1, 1, 1, 1, 2, 0, 0, 0, 0, 0, 0], [5, 4, 3, 6, 2, 7, 1, 0, 8, 9, 11, 10, 12]),
        ([0, 1, 5, 1, 1, 1, 1, 1, 1, 2, 0, 0, 0, 0, 0, 0], [0x39, 0x5a, 0x38, 0x27, 0x16, 5, 4, 3, 2, 1, 0, 11, 12, 12]),
        ([0, 1, 4, 2, 3, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0], [5, 4, 6, 3, 7, 2, 8, 1, 9, 0, 10, 11, 12]),
        ([0, 1, 4, 3, 1, 1, 1, 1, 1, 2, 0, 0, 0, 0, 0, 0], [5, 6, 4, 7, 8, 3, 9, 2, 1, 0, 10, 11, 12, 13, 14]),
        ([0, 1, 5, 1, 1, 1, 1, 1, 1, 1, 2, 0, 0, 0, 0, 0], [8, 0x5c, 0x4b, 0x3a, 0x29, 7, 6, 5, 4, 3, 2, 1, 0, 13, 14]),
        ([0, 1, 4, 2, 2, 3, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0], [7, 6, 8, 5, 9, 4, 10, 3, 11, 12, 2, 0, 1, 13, 14]),
    ]

    /// Trees whose decoding has been compared with LibRaw's on a real file (`NikonCompressedSamplesTests`).
    static let confirmedTrees: Set<Int> = [0]

    /// A lookup table over the longest code's bits: entry = code length << 8 | symbol, filled
    /// code by code in canonical order; entries past the last code stay 0 (no bits, symbol 0), as
    /// in LibRaw's decoder.
    static func table(_ tree: (counts: [Int], symbols: [UInt8])) -> (bits: Int, entries: [UInt16]) {
        var longest = 16
        while longest > 0 && tree.counts[longest - 1] == 0 { longest -= 1 }
        var entries = [UInt16](repeating: 0, count: 1 << longest)
        var next = 0, symbol = 0
        for length in 1...max(1, longest) where length <= longest {
            for _ in 0..<tree.counts[length - 1] {
                for _ in 0..<(1 << (longest - length)) where next < entries.count {
                    // LibRaw's trees are 32-byte rows: symbols past those listed are zero bytes.
                    entries[next] = UInt16(length << 8) | UInt16(symbol < tree.symbols.count ? tree.symbols[symbol] : 0)
                    next += 1
                }
                symbol += 1
            }
        }
        return (longest, entries)
    }

    /// `table`'s entries rewritten as what the decoding loop needs, so that it derives nothing
    /// per sample: bits 0–4 the code's length, 5–9 the difference's bit count (`len − shl`),
    /// 10–14 `shl`, 16–31 what a negative difference subtracts (`2^len`, less one when `shl`
    /// is 0: JPEG's EXTEND with Nikon's shift).
    static func decodingTable(_ entries: [UInt16]) -> [UInt32] {
        entries.map { entry in
            let codeLength = UInt32(entry >> 8), len = UInt32(entry & 15), shl = UInt32((entry >> 4) & 15)
            let bits = len >= shl ? len - shl : 0
            let negative = (UInt32(1) << len) - (shl == 0 ? 1 : 0)
            return codeLength | bits << 5 | shl << 10 | negative << 16
        }
    }

    var isConsistent: Bool {
        (bitsPerSample == 12 || bitsPerSample == 14) && rawWidth > 0 && rawHeight > 0 && width > 0 && height > 0
            && top == 0 && left >= 0 && left + width <= rawWidth && height <= rawHeight && curve.count == 0x10000
            && dataOffset > 0 && metaOffset > 0
    }

    /// What the curve block says about the stream: the predictors, the tree, LibRaw's range
    /// limit and the split row.
    struct StreamHeader {
        var vpred: [UInt16]
        var tree: Int
        var limit: Int
        var split: Int
    }

    /// The stream's header, or nil when LibRaw should decode the file instead: an inconsistent
    /// descriptor, a file too short for its curve block, or a variant no sample has confirmed.
    func streamHeader(file: any ByteSource) -> StreamHeader? {
        guard isConsistent, metaOffset + 2 + 2110 + 8 <= file.count, dataOffset < file.count else { return nil }
        func u16(_ o: Int) -> Int {
            bigEndian ? Int(file[o]) << 8 | Int(file[o + 1]) : Int(file[o]) | Int(file[o + 1]) << 8
        }
        let ver0 = file[metaOffset], ver1 = file[metaOffset + 1]
        let predictors = metaOffset + 2 + (ver0 == 0x49 || ver1 == 0x58 ? 2110 : 0)
        var vpred = [UInt16](repeating: 0, count: 4)
        for k in 0..<4 { vpred[k] = UInt16(u16(predictors + 2 * k)) }
        var tree = ver0 == 0x46 ? 2 : 0
        if bitsPerSample == 14 { tree += 3 }
        var limit = (1 << bitsPerSample) & 0x7fff
        var split = 0
        if ver0 == 0x44 && (ver1 == 0x20 || ver1 == 0x40) {
            if ver1 == 0x40 { limit /= 4 }
            guard metaOffset + 564 <= file.count else { return nil }
            split = u16(metaOffset + 562)
        }
        while limit > 2 && curve[limit - 2] == curve[limit - 1] { limit -= 1 }
        // Only the variant a sample has confirmed bit for bit (12-bit lossy, one tree: the D1X
        // file): the lossless and 14-bit trees and the split follow LibRaw's code as read, but
        // until a file of each is compared with LibRaw's unpack, LibRaw decodes them.
        guard Self.confirmedTrees.contains(tree), split == 0 else { return nil }
        return StreamHeader(vpred: vpred, tree: tree, limit: limit, split: split)
    }

    /// The visible-area samples, or nil when LibRaw should decode the file instead (see
    /// `streamHeader`; and a stream that ends early or leaves LibRaw's range, LibRaw's data error).
    func decode(file: any ByteSource) -> [UInt16]? {
        guard let header = streamHeader(file: file) else { return nil }
        let (vpred, tree, limit, split) = (header.vpred, header.tree, header.limit, header.split)
        let stream = file.bytes(dataOffset, file.count - dataOffset)
        let first = Self.table(Self.trees[tree]), second = Self.table(Self.trees[tree + 1])
        let firstEntries = Self.decodingTable(first.entries), secondEntries = Self.decodingTable(second.entries)
        var ok = false
        // Uninitialised: `run` writes every sample when it succeeds, and the array is dropped when not.
        let samples = [UInt16](unsafeUninitializedCapacity: width * height) { out, initialised in
            ok = stream.withUnsafeBufferPointer { bytes in
                curve.withUnsafeBufferPointer { curve in
                    firstEntries.withUnsafeBufferPointer { firstTable in
                        secondEntries.withUnsafeBufferPointer { secondTable in
                            Self.run(bytes: bytes, first: (first.bits, firstTable), second: (second.bits, secondTable),
                                     split: split, limit: limit, vpred: vpred, curve: curve, out: out,
                                     rawWidth: rawWidth, height: height, left: left, width: width)
                        }
                    }
                }
            }
            initialised = width * height
        }
        return ok ? samples : nil
    }

    /// The decoding loop, on local state only (captured variables would live in boxes). A row is
    /// decoded into a buffer of raw values (the even and odd columns' two predictor chains, no
    /// other work in the loop), then range-checked and mapped through the curve.
    private static func run(bytes: UnsafeBufferPointer<UInt8>, first: (Int, UnsafeBufferPointer<UInt32>),
                            second: (Int, UnsafeBufferPointer<UInt32>), split: Int, limit: Int, vpred: [UInt16],
                            curve: UnsafeBufferPointer<UInt16>, out: UnsafeMutableBufferPointer<UInt16>,
                            rawWidth: Int, height: Int, left: Int, width: Int) -> Bool {
        var reader = BitReader(bytes: bytes)
        var (bits, table) = first
        var limit = limit, minimum: UInt16 = 0
        var vpred = (vpred[0], vpred[1], vpred[2], vpred[3])
        let raw = UnsafeMutablePointer<UInt16>.allocate(capacity: rawWidth + 2)
        defer { raw.deallocate() }
        for row in 0..<height {
            if split != 0 && row == split {
                (bits, table) = second
                minimum = 16
                limit += 32
            }
            // Columns 0 and 1 from the predictors two rows up, then each from two columns left.
            var h0: UInt16, h1: UInt16
            if row & 1 == 0 {
                vpred.0 = vpred.0 &+ difference(&reader, table, bits); h0 = vpred.0
                h1 = vpred.1
                if rawWidth > 1 { vpred.1 = vpred.1 &+ difference(&reader, table, bits); h1 = vpred.1 }
            } else {
                vpred.2 = vpred.2 &+ difference(&reader, table, bits); h0 = vpred.2
                h1 = vpred.3
                if rawWidth > 1 { vpred.3 = vpred.3 &+ difference(&reader, table, bits); h1 = vpred.3 }
            }
            raw[0] = h0
            raw[1] = h1
            var col = 2
            while col + 1 < rawWidth {
                h0 = h0 &+ difference(&reader, table, bits)
                raw[col] = h0
                h1 = h1 &+ difference(&reader, table, bits)
                raw[col + 1] = h1
                col += 2
            }
            if col < rawWidth { raw[col] = h0 &+ difference(&reader, table, bits) }
            if reader.overran { return false }
            // One reduction, not a branch per sample (it vectorises).
            var largest: UInt16 = 0
            for c in 0..<rawWidth { largest = max(largest, raw[c] &+ minimum) }
            if Int(largest) >= limit { return false }
            let visible = out.baseAddress! + row * width
            for c in 0..<width {
                visible[c] = curve[min(max(Int(Int16(bitPattern: raw[left + c])), 0), 0x3fff)]
            }
        }
        return true
    }

    /// One code and its difference bits (LibRaw's `gethuff` then `getbits(len − shl)`), read
    /// together: the entry gives both lengths.
    @inline(__always)
    private static func difference(_ reader: inout BitReader, _ table: UnsafeBufferPointer<UInt32>, _ bits: Int) -> UInt16 {
        // ≤ 16 bits of code and ≤ 15 of difference: one refill check per sample.
        reader.ensure(32)
        let entry = Int(table[reader.peek(bits)])
        let codeLength = entry & 31, n = (entry &>> 5) & 31, shl = (entry &>> 10) & 31
        let t = (reader.peek(after: codeLength, n) &<< 1) | 1
        reader.skip(codeLength &+ n)
        // The sign without a branch (it is a coin toss per sample, and a mispredicted branch cost
        // more than the rest of the decoding): t's top bit (bit n) is the difference's sign bit;
        // with no difference bits, t is 1 and the value positive, as in LibRaw.
        let positive = (t &>> n) & 1
        let diff = (t &<< shl) &>> 1
        return UInt16(truncatingIfNeeded: diff &- ((positive &- 1) & (entry &>> 16)))
    }

    /// MSB-first bits from memory, as LibRaw's `getbits` reads them (no 0xFF stuffing in NEFs).
    /// Past the end it reads zeros and sets `overran`, which makes `decode` give up.
    struct BitReader {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0
        var buffer: UInt64 = 0
        var count = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        /// Whether more bits were consumed than the stream holds.
        var overran: Bool { position * 8 - count > bytes.count * 8 }

        /// At least `n` (≤ 57) bits in the buffer: whole bytes up to 56 or more, eight at a time
        /// away from the end, then byte by byte (zeros past it).
        @inline(__always) mutating func ensure(_ n: Int) {
            guard count < n else { return }
            if position + 8 <= bytes.count {
                let word = UInt64(bigEndian: UnsafeRawPointer(bytes.baseAddress! + position).loadUnaligned(as: UInt64.self))
                let take = (63 &- count) &>> 3
                buffer |= (word & ~(UInt64.max &>> UInt64(truncatingIfNeeded: 8 &* take))) &>> UInt64(truncatingIfNeeded: count)
                position &+= take
                count &+= 8 &* take
            } else {
                while count <= 56 {
                    let byte = position < bytes.count ? bytes[position] : 0
                    position += 1
                    buffer |= UInt64(byte) << (56 - count)
                    count += 8
                }
            }
        }

        /// The next `n` bits (n ≤ 16) without consuming them; `ensure` first.
        /// Masking shifts (`&<<`, `&>>`) and unchecked conversions throughout: every count here
        /// is below 64, and Swift's checked shifts cost a compare and a select each, in the
        /// loop's critical path.
        @inline(__always) func peek(_ n: Int) -> Int {
            peek(after: 0, n)
        }

        /// The `n` bits (0 ≤ n ≤ 16; 0 gives 0, as LibRaw's getbits does) that follow the next
        /// `skipped`, without consuming any.
        @inline(__always) func peek(after skipped: Int, _ n: Int) -> Int {
            let aligned = buffer &<< UInt64(truncatingIfNeeded: skipped)
            return Int(truncatingIfNeeded: (aligned &>> 1) &>> UInt64(truncatingIfNeeded: 63 &- n))
        }

        @inline(__always) mutating func skip(_ n: Int) {
            buffer = buffer &<< UInt64(truncatingIfNeeded: n)
            count &-= n
        }
    }
}

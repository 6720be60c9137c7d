/// Lossless JPEG (ITU-T T.81 process 14, SOF3, "LJ92") encoding of one DNG tile of CFA samples,
/// as phones and Adobe's DNG converter store their raws (DNG Compression 7).
///
/// What: a tile `width × height` (width even) becomes a two-component frame `width/2` wide, the
/// components taking alternate columns, so the predictor's left neighbour is the photosite two
/// columns back: the same CFA colour (the layout DNG readers, LibRaw's `lossless_dng_load_raw`
/// among them, read back into `width` columns). Predictor 1 (left; the first column takes the
/// sample above, the first sample 2^(P−1), T.81 H.1.2.1), point transform 0, no restart markers,
/// one Huffman table built for the tile from its own difference categories (T.81 Annex K.2:
/// code lengths from the frequencies, limited to 16 bits, the all-ones code left unused), or one
/// per component (`Tables.perComponent`), as some tiles of a Pixel's DNG have.
/// Why: the synthetic phone raw (`SyntheticPhoneRaw`) must be stored the way a phone stores it,
/// so the benchmark and tests exercise the tiled LJ92 path real phone DNGs take, with LibRaw and
/// the peers reading the same file.
/// Reference: ITU-T T.81 (1992) Annex H (lossless process), Annex C (Huffman code generation),
/// Annex K.2 (code lengths), Annex B (markers, byte stuffing); DNG 1.6 §3, Compression 7.
/// Colour space: none; raw sensor values, unchanged (lossless).
enum LosslessJPEGEncoder {
    /// The JPEG stream of one tile: `samples` row-major, `width` even, every value below
    /// 2^precision. Precision stops at 15 bits so that every difference is a plain one, below
    /// 2^15 in magnitude: no category 16, which LibRaw reads as −32768 and reports as a data error
    /// where the modular sum leaves the sample range.
    static func encode(_ samples: UnsafeBufferPointer<UInt16>, width: Int, height: Int, precision: Int,
                       tables: Tables = .shared) -> [UInt8] {
        precondition(width >= 2 && width % 2 == 0 && height >= 1 && samples.count == width * height)
        precondition((2...15).contains(precision) && samples.allSatisfy { Int($0) >> precision == 0 })
        let difference = differences(samples, width: width, height: height, precision: precision)
        // Sample i of the stream belongs to component i % 2 (column pairs, component 0 first).
        let slots = tables == .shared ? 1 : 2
        var frequencies = [[Int]](repeating: [Int](repeating: 0, count: 17), count: slots)
        for (i, d) in difference.enumerated() { frequencies[i % slots][category(d)] += 1 }
        let table = frequencies.map { HuffmanTable(frequencies: $0) }

        var out: [UInt8] = [0xFF, 0xD8]
        // DHT: class 0 (DC/lossless), tables 0 (and 1), in one segment.
        out += [0xFF, 0xC4] + be16(2 + table.reduce(0) { $0 + 1 + 16 + $1.symbols.count })
        for (slot, t) in table.enumerated() { out += [UInt8(slot)] + t.counts + t.symbols }
        // SOF3: precision, lines, samples per line, two components sampled 1×1.
        out += [0xFF, 0xC3] + be16(8 + 3 * 2) + [UInt8(precision)] + be16(height) + be16(width / 2)
            + [2, 1, 0x11, 0, 2, 0x11, 0]
        // SOS: component 1 on table 0, component 2 on table 0 or 1 (Td, the high nibble),
        // predictor 1, Se 0, Ah/Al 0.
        out += [0xFF, 0xDA] + be16(6 + 2 * 2) + [2, 1, 0x00, 2, UInt8(slots - 1) << 4, 1, 0, 0]
        var writer = BitWriter()
        writer.bytes.reserveCapacity(samples.count * 2)
        for (i, d) in difference.enumerated() {
            let c = category(d), t = table[i % slots]
            writer.write(t.codes[c], length: t.lengths[c])
            // Negative differences as d − 1 in c bits (T.81 F.1.2.1.1, H.1.2.2).
            writer.write(UInt32(truncatingIfNeeded: d < 0 ? d - 1 : d), length: c)
        }
        writer.finish()
        out += writer.bytes
        out += [0xFF, 0xD9]
        return out
    }

    /// Which Huffman tables a tile's two components use.
    enum Tables {
        /// One table for both (two of the Pixel 7 crop's four tiles).
        case shared
        /// A table of its own for each component, built from its own differences (the crop's
        /// other two tiles; LibRaw decodes component c with table slot c).
        case perComponent
    }

    /// The differences to code, in stream order (row by row, column pairs, component 0 then 1).
    static func differences(_ s: UnsafeBufferPointer<UInt16>, width: Int, height: Int, precision: Int) -> [Int32] {
        var out = [Int32](repeating: 0, count: s.count)
        for y in 0..<height {
            for x in 0..<width {
                let prediction: Int
                if x >= 2 { prediction = Int(s[y * width + x - 2]) }
                else if y > 0 { prediction = Int(s[(y - 1) * width + x]) }
                else { prediction = 1 << (precision - 1) }
                out[y * width + x] = Int32(Int(s[y * width + x]) - prediction)
            }
        }
        return out
    }

    /// SSSS of T.81 Table H.2: the bits needed for |d|.
    @inline(__always)
    static func category(_ d: Int32) -> Int { d == 0 ? 0 : 32 - d.magnitude.leadingZeroBitCount }

    /// A Huffman table for the 17 categories from their frequencies (T.81 K.2, C.2).
    struct HuffmanTable {
        /// BITS: how many codes of each length 1…16.
        var counts: [UInt8]
        /// HUFFVAL: the symbols in code order.
        var symbols: [UInt8]
        /// Code and length per category (length 0: the category does not occur).
        var codes: [UInt32]
        var lengths: [Int]

        init(frequencies input: [Int]) {
            // K.2: a reserved symbol (index 17) of frequency 1 keeps the all-ones code unused.
            var freq = input.map { $0 } + [1]
            let n = freq.count
            var codeSize = [Int](repeating: 0, count: n)
            var others = [Int](repeating: -1, count: n)
            while true {
                // The least frequent symbol (the larger index on ties), then the next least.
                var v1 = -1, v2 = -1
                for i in 0..<n where freq[i] > 0 && (v1 < 0 || freq[i] <= freq[v1]) { v1 = i }
                for i in 0..<n where i != v1 && freq[i] > 0 && (v2 < 0 || freq[i] <= freq[v2]) { v2 = i }
                if v2 < 0 { break }
                freq[v1] += freq[v2]
                freq[v2] = 0
                var i = v1
                codeSize[i] += 1
                while others[i] >= 0 { i = others[i]; codeSize[i] += 1 }
                others[i] = v2
                i = v2
                codeSize[i] += 1
                while others[i] >= 0 { i = others[i]; codeSize[i] += 1 }
            }
            var bits = [Int](repeating: 0, count: 33)
            for size in codeSize where size > 0 { bits[size] += 1 }
            // K.3: no code longer than 16 bits.
            var i = 32
            while i > 16 {
                while bits[i] > 0 {
                    var j = i - 2
                    while bits[j] == 0 { j -= 1 }
                    bits[i] -= 2
                    bits[i - 1] += 1
                    bits[j + 1] += 2
                    bits[j] -= 1
                }
                i -= 1
            }
            // Drop the reserved symbol's code: the longest.
            i = 16
            while bits[i] == 0 { i -= 1 }
            bits[i] -= 1
            // HUFFVAL: real symbols by code size, then by symbol (K.2 Figure K.4).
            var symbols: [UInt8] = []
            for size in 1...32 {
                for s in 0..<17 where codeSize[s] == size { symbols.append(UInt8(s)) }
            }
            counts = (1...16).map { UInt8(bits[$0]) }
            self.symbols = symbols
            // C.2: canonical codes in HUFFVAL order.
            codes = [UInt32](repeating: 0, count: 17)
            lengths = [Int](repeating: 0, count: 17)
            var code: UInt32 = 0, k = 0
            for length in 1...16 {
                for _ in 0..<bits[length] {
                    codes[Int(symbols[k])] = code
                    lengths[Int(symbols[k])] = length
                    code += 1
                    k += 1
                }
                code <<= 1
            }
        }
    }

    /// MSB-first bits with 0xFF bytes followed by a stuffed 0x00 (T.81 F.1.2.3), the last byte
    /// padded with 1-bits.
    struct BitWriter {
        var bytes: [UInt8] = []
        var accumulator: UInt64 = 0
        var count = 0

        @inline(__always)
        mutating func write(_ value: UInt32, length: Int) {
            guard length > 0 else { return }
            accumulator = accumulator << UInt64(length) | UInt64(value & UInt32(truncatingIfNeeded: (1 << length) - 1))
            count += length
            while count >= 8 {
                count -= 8
                let byte = UInt8(truncatingIfNeeded: accumulator >> UInt64(count))
                bytes.append(byte)
                if byte == 0xFF { bytes.append(0) }
            }
        }

        mutating func finish() {
            if count > 0 { write(UInt32(1 << (8 - count)) - 1, length: 8 - count) }
        }
    }
}

fileprivate func be16(_ v: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }

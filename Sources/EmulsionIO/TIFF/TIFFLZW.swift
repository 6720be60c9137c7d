/// TIFF's LZW decoder (Compression 5).
///
/// What: codes of 9 to 12 bits, most significant bit first; 256 clears the table, 257 ends the
/// strip, new entries from 258; the code width grows one code early (when the next free entry
/// reaches 2^width − 1), as every writer since libtiff 3 does. Each entry is kept as its
/// prefix entry and last byte, so a string is written back to front into its place.
/// Why: LZW is ImageMagick's and many scanners' and older tools' TIFF compression, and a TIFF
/// from them must be comparable.
/// Reference: TIFF 6.0 §13; libtiff's "early change" note (tif_lzw.c), which the specification's
/// own example contradicts and every file in practice follows. The pre-1990 bit-reversed variant
/// (a strip starting 0x00 0x01) is refused.
enum TIFFLZW {
    static func decode(_ data: UnsafeBufferPointer<UInt8>, size: Int, strip: Int) throws -> [UInt8] {
        if data.count >= 2 && data[0] == 0 && data[1] & 1 == 1 {
            throw TIFFError(message: "strip \(strip): old-style (bit-reversed) LZW is not supported")
        }
        let clear = 256, end = 257
        // The table and the output as raw memory: this loop runs once per code of a strip.
        let prefix = UnsafeMutablePointer<Int32>.allocate(capacity: 4096)
        let last = UnsafeMutablePointer<UInt8>.allocate(capacity: 4096)
        let length = UnsafeMutablePointer<Int32>.allocate(capacity: 4096)
        defer { prefix.deallocate(); last.deallocate(); length.deallocate() }
        for i in 0..<4096 { prefix[i] = -1; last[i] = UInt8(truncatingIfNeeded: i); length[i] = 1 }
        var out = [UInt8](repeating: 0, count: size)
        var written = 0
        try out.withUnsafeMutableBufferPointer { out in
            var next = 258, width = 9
            var previous = -1
            var bitBuffer: UInt32 = 0, bitCount = 0, at = 0

            /// Writes entry `code`'s string at `written` (as much as fits); false when the strip is full.
            func emit(_ code: Int) -> Bool {
                let n = Int(length[code])
                var c = code, k = written + n - 1
                while c >= 0 {
                    if k < size { out[k] = last[c] }
                    c = Int(prefix[c]); k -= 1
                }
                written = Swift.min(size, written + n)
                return written < size
            }

            while written < size {
                while bitCount < width {
                    guard at < data.count else { return }
                    bitBuffer = bitBuffer << 8 | UInt32(data[at])
                    at += 1
                    bitCount += 8
                }
                let code = Int((bitBuffer >> UInt32(bitCount - width)) & ((1 << UInt32(width)) - 1))
                bitCount -= width
                if code == end { return }
                if code == clear {
                    next = 258; width = 9; previous = -1
                    continue
                }
                if previous < 0 {
                    guard code < 256 else { throw TIFFError(message: "strip \(strip): LZW code \(code) after a clear: corrupt") }
                    guard emit(code) else { return }
                    previous = code
                    continue
                }
                guard code <= next else { throw TIFFError(message: "strip \(strip): LZW code \(code) before entry \(next) exists: corrupt") }
                // The new entry is the previous string and the first byte of this one (of the
                // previous one, for the one code that may name the entry being made).
                if next < 4096 {
                    var c = code < next ? code : previous
                    while prefix[c] >= 0 { c = Int(prefix[c]) }
                    prefix[next] = Int32(previous); last[next] = last[c]; length[next] = length[previous] + 1
                    next += 1
                    if next >= (1 << width) - 1 && width < 12 { width += 1 }
                }
                guard emit(code) else { return }
                previous = code
            }
        }
        return Array(out.prefix(written))
    }
}

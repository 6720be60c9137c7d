import EmulsionCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Where an uncompressed DNG keeps its mosaic samples, and a reader that copies the visible
/// area straight from the file into the image's array.
///
/// Why: for an uncompressed DNG (what Android's DngCreator and many phone apps write), LibRaw's
/// unpack is a copy done slowly: it allocates the whole raw, moves every sample through a
/// per-pixel call (`adobe_copy_pixel`, 40 % of a 24 MP decode) and Emulsion then copied the
/// visible area out again. Here one `pread` per block of rows lands the samples in place
/// (docs/PERFORMANCE.md, run v7). LibRaw still identifies the file and supplies every piece of
/// metadata; this replaces only `libraw_unpack`, and only where the result is provably the same:
/// `RawFile.uncompressedSamples` requires LibRaw's own choice of loader (`packed_dng_load_raw`),
/// an identity linearisation curve, no masked areas, and exactly one CFA directory of LibRaw's
/// raw size, uncompressed, one sample per pixel, in contiguous strips. Tests compare the result
/// with LibRaw's unpack on every such file (`UncompressedSamplesTests`).
///
/// Reference: DNG 1.6 §3 (BitsPerSample 8…32; "rows are padded to byte boundaries"; packed
/// samples big-endian bit order, most significant first, regardless of the file's byte order);
/// TIFF 6.0 §3 (strips).
public struct UncompressedSamples: Sendable, Codable, Equatable {
    /// File offset of raw row 0.
    public var offset: Int
    public var rawWidth: Int
    public var rawHeight: Int
    /// 16: whole 16-bit words in the file's byte order; 10, 12, 14: packed, most significant bit first.
    public var bitsPerSample: Int
    public var bigEndian: Bool
    /// The visible area LibRaw reports (its margins and size).
    public var top: Int
    public var left: Int
    public var width: Int
    public var height: Int

    /// Bytes of one stored row (rows are padded to whole bytes).
    public var rowBytes: Int { (rawWidth * bitsPerSample + 7) / 8 }

    static let supportedBits: Set<Int> = [10, 12, 14, 16]

    /// The visible area's samples, row by row. Throws `RawFileError` when the file is shorter than
    /// its directories say (LibRaw's words for it: unexpected end of file).
    public func read(path: String) throws -> [UInt16] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RawFileError(path: path, problem: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        return try read(label: path) { buffer, count, at in pread(fd, buffer, count, off_t(at)) }
    }

    /// As `read(path:)`, from a file held in memory.
    public func read(bytes: [UInt8], label: String) throws -> [UInt16] {
        try read(label: label) { buffer, count, at in
            let n = max(0, min(count, bytes.count - at))
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress! + at, byteCount: n) }
            return n
        }
    }

    /// `readAt(buffer, count, offset)` reads like `pread` (bytes read, 0 at end, negative on error).
    private func read(label: String, readAt: (UnsafeMutableRawPointer, Int, Int) -> Int) throws -> [UInt16] {
        guard width > 0, height > 0, top >= 0, left >= 0, top + height <= rawHeight, left + width <= rawWidth,
              Self.supportedBits.contains(bitsPerSample), offset >= 0 else {
            throw RawFileError(path: label, problem: "inconsistent raw geometry")
        }
        func fill(_ destination: UnsafeMutableRawPointer, _ count: Int, from start: Int) throws {
            var done = 0
            while done < count {
                let n = readAt(destination + done, count - done, start + done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw RawFileError(path: label, problem: "truncated raw data (unexpected end of file)") }
                done += n
            }
        }
        let firstByte = offset + top * rowBytes
        return try [UInt16](unsafeUninitializedCapacity: width * height) { out, initialised in
            let base = out.baseAddress!
            if bitsPerSample == 16 && left == 0 && width == rawWidth {
                // The whole visible block is one run of bytes: read it in place.
                try fill(base, 2 * width * height, from: firstByte)
                if bigEndian { for i in 0..<(width * height) { base[i] = base[i].byteSwapped } }
            } else {
                // Blocks of rows through a small buffer, then the visible columns of each row.
                let rowsPerBlock = max(1, (1 << 20) / rowBytes)
                let block = UnsafeMutableRawPointer.allocate(byteCount: rowsPerBlock * rowBytes + 8, alignment: 16)
                defer { block.deallocate() }
                var y = 0
                while y < height {
                    let rows = min(rowsPerBlock, height - y)
                    try fill(block, rows * rowBytes, from: firstByte + y * rowBytes)
                    for r in 0..<rows {
                        unpack(row: block + r * rowBytes, into: base + (y + r) * width)
                    }
                    y += rows
                }
            }
            initialised = width * height
        }
    }

    /// Visible columns of one stored row.
    private func unpack(row: UnsafeMutableRawPointer, into out: UnsafeMutablePointer<UInt16>) {
        if bitsPerSample == 16 {
            let words = row.assumingMemoryBound(to: UInt16.self) + left
            if bigEndian {
                for x in 0..<width { out[x] = words[x].byteSwapped }
            } else {
                out.update(from: words, count: width)
            }
            return
        }
        // Packed: a 64-bit big-endian window at each sample's first byte, most significant bit
        // first. The window may reach up to 7 bytes past the row's last byte: into the next row
        // or the block's 8 bytes of slack (`read`), never past the allocation, and those bits lie
        // below the sample's, so the shift drops them.
        var done = 0
        if (left * bitsPerSample) % 8 == 0 {
            switch bitsPerSample {
            case 10: done = unpackFours(row, into: out, TenBits.self)
            case 12: done = unpackFours(row, into: out, TwelveBits.self)
            case 14: done = unpackFours(row, into: out, FourteenBits.self)
            default: break
            }
        }
        let bits = UInt64(bitsPerSample)
        let mask = UInt64(1) &<< bits &- 1
        var bitPosition = (left + done) * bitsPerSample
        for x in done..<width {
            let window = UInt64(bigEndian: (row + (bitPosition &>> 3)).loadUnaligned(as: UInt64.self))
            let shift = UInt64(truncatingIfNeeded: bitPosition & 7)
            out[x] = UInt16(truncatingIfNeeded: (window &>> (64 &- shift &- bits)) & mask)
            bitPosition &+= bitsPerSample
        }
    }

    /// Four samples at a time, where the visible part of the row starts on a byte: their
    /// 4 · bits bits (5, 6 or 7 bytes) in one 64-bit big-endian load, each sample at a constant
    /// shift, where the loop above works out a window, a shift and a mask per sample (callgrind,
    /// the 14-bit Canon sample: 15 instructions a sample before). The load reaches at most 3 bytes
    /// past the group, within what the loop above may read. Returns the samples unpacked.
    @inline(__always)
    private func unpackFours<W: PackedWidth>(_ row: UnsafeMutableRawPointer, into out: UnsafeMutablePointer<UInt16>,
                                             _: W.Type) -> Int {
        let mask = UInt64(1) &<< W.bits &- 1
        var source = UnsafeRawPointer(row + (left * Int(W.bits)) / 8)
        var x = 0
        while x &+ 4 <= width {
            let window = UInt64(bigEndian: source.loadUnaligned(as: UInt64.self))
            out[x] = UInt16(truncatingIfNeeded: (window &>> (64 - W.bits)) & mask)
            out[x &+ 1] = UInt16(truncatingIfNeeded: (window &>> (64 - 2 * W.bits)) & mask)
            out[x &+ 2] = UInt16(truncatingIfNeeded: (window &>> (64 - 3 * W.bits)) & mask)
            out[x &+ 3] = UInt16(truncatingIfNeeded: (window &>> (64 - 4 * W.bits)) & mask)
            source += Int(W.bits) / 2
            x &+= 4
        }
        return x
    }
}

/// A packed sample width as a type, so `unpackFours`' shifts are constants.
private protocol PackedWidth { static var bits: UInt64 { get } }
private enum TenBits: PackedWidth { static var bits: UInt64 { 10 } }
private enum TwelveBits: PackedWidth { static var bits: UInt64 { 12 } }
private enum FourteenBits: PackedWidth { static var bits: UInt64 { 14 } }

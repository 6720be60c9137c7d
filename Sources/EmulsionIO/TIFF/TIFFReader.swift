import CPNGShim
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads the first image of a baseline TIFF as 8- or 16-bit RGB samples with its ICC profile:
/// what darktable-cli, rawtherapee-cli, dcraw_emu, ImageMagick and Emulsion write.
///
/// What: classic TIFF (II or MM), the first directory; strips (not tiles) of chunky RGB
/// (Photometric 2) or grey (1, expanded to RGB), 3–4 or 1–2 samples of 8 or 16 unsigned bits,
/// extra samples (alpha) dropped; Compression 1 (none), 5 (LZW), 8 and 32946 (Deflate, through
/// zlib) and 32773 (PackBits); Predictor 1 or 2 (horizontal differencing); the ICC profile
/// from tag 34675. Anything else — tiles, planar, float or signed samples, JPEG, YCbCr, CMYK,
/// palette — is refused with a message naming what, never guessed.
/// Why: `emulsion compare` judges other tools' outputs, and their default is TIFF.
/// Reference: TIFF 6.0 (Adobe, 1992): §2 (structure), §8 (baseline fields), §9 (PackBits),
/// §13 (LZW, with the "early change" code-width rule every writer since libtiff 3 uses), §14
/// (Predictor); Adobe's TIFF Technical Note 2 (Deflate); ICC.1:2022 Annex B.4 (the TIFF tag).
/// Colour space: unchanged (the file's encoded samples).
public enum TIFFReader {
    /// Images above this many pixels are refused (the same limit as PNG reading).
    public static let maximumPixels = 400_000_000

    public static func read(path: String) throws -> PNGImage {
        let bytes: [UInt8]
        do { bytes = try InputFileCheck.contents(of: path, kind: "TIFF") } catch { throw TIFFError(message: "\(path): \(error.problem)") }
        do { return try decode(bytes) } catch let error as TIFFError { throw TIFFError(message: "\(path): \(error.message)") }
    }

    /// Whether `bytes` start like a classic TIFF ("II*\0" or "MM\0*").
    public static func isTIFF(_ bytes: some Collection<UInt8>) -> Bool {
        let head = Array(bytes.prefix(4))
        return head == [0x49, 0x49, 42, 0] || head == [0x4D, 0x4D, 0, 42]
    }

    public static func decode(_ bytes: [UInt8]) throws -> PNGImage {
        guard bytes.count >= 8 else { throw TIFFError(message: "not a TIFF file (\(bytes.count) bytes)") }
        guard isTIFF(bytes) else {
            if bytes.prefix(4) == [0x49, 0x49, 43, 0] || bytes.prefix(4) == [0x4D, 0x4D, 0, 43] {
                throw TIFFError(message: "BigTIFF is not supported")
            }
            throw TIFFError(message: "not a TIFF file")
        }
        let file = Reader(bytes: bytes, bigEndian: bytes[0] == 0x4D)
        let fields = try file.directory(at: Int(try file.u32(4)))
        func one(_ tag: UInt16, _ name: String) throws -> Int {
            guard let v = try fields[tag].map({ try file.values($0) })?.first else { throw TIFFError(message: "no \(name) (tag \(tag))") }
            return Int(v)
        }
        func optional(_ tag: UInt16, default value: Int) throws -> Int { try fields[tag].map { try file.values($0).first.map(Int.init) ?? value } ?? value }

        let width = try one(256, "ImageWidth"), height = try one(257, "ImageLength")
        guard width > 0, height > 0 else { throw TIFFError(message: "image of \(width)×\(height) pixels") }
        guard width.multipliedReportingOverflow(by: height).partialValue <= maximumPixels, width <= maximumPixels, height <= maximumPixels else {
            throw TIFFError(message: "\(width)×\(height) pixels is above the \(maximumPixels / 1_000_000) MP limit")
        }
        if fields[322] != nil { throw TIFFError(message: "tiled TIFFs are not supported") }
        let photometric = try one(262, "PhotometricInterpretation")
        guard photometric == 1 || photometric == 2 else {
            let names = [0: "WhiteIsZero", 3: "palette", 5: "CMYK", 6: "YCbCr", 8: "CIELab", 32844: "LogL", 32845: "LogLuv"]
            throw TIFFError(message: "photometric interpretation \(photometric)\(names[photometric].map { " (\($0))" } ?? "") is not supported (RGB or grey only)")
        }
        let samplesPerPixel = try optional(277, default: 1)
        let colours = photometric == 2 ? 3 : 1
        guard samplesPerPixel >= colours, samplesPerPixel <= colours + 1 else {
            throw TIFFError(message: "\(samplesPerPixel) samples per pixel for \(photometric == 2 ? "RGB" : "grey")")
        }
        let format = try optional(339, default: 1)
        guard format == 1 else { throw TIFFError(message: "sample format \(format) (\(format == 3 ? "floating point" : format == 2 ? "signed" : "other")) is not supported (unsigned integers only)") }
        let depths = try fields[258].map { try file.values($0) } ?? [1]
        guard let bits = depths.first, depths.allSatisfy({ $0 == bits }), bits == 8 || bits == 16 else {
            throw TIFFError(message: "\(depths.map(String.init).joined(separator: ",")) bits per sample is not supported (8 or 16)")
        }
        guard try optional(284, default: 1) == 1 else { throw TIFFError(message: "planar TIFFs are not supported (chunky only)") }
        let predictor = try optional(317, default: 1)
        guard predictor == 1 || predictor == 2 else { throw TIFFError(message: "predictor \(predictor) is not supported") }
        let compression = try optional(259, default: 1)
        guard [1, 5, 8, 32946, 32773].contains(compression) else {
            let names = [6: "old JPEG", 7: "JPEG", 2: "CCITT", 3: "CCITT G3", 4: "CCITT G4", 34712: "JPEG 2000", 50000: "Zstandard", 34925: "LZMA", 50001: "WebP"]
            throw TIFFError(message: "compression \(compression)\(names[compression].map { " (\($0))" } ?? "") is not supported (none, LZW, Deflate, PackBits)")
        }

        let rowsPerStrip = Swift.min(height, Swift.max(1, try optional(278, default: height)))
        let offsets = try fields[273].map { try file.values($0) } ?? []
        let strips = (height + rowsPerStrip - 1) / rowsPerStrip
        guard offsets.count >= strips else { throw TIFFError(message: "\(offsets.count) strip offsets for \(strips) strips") }
        let rowBytes = width * samplesPerPixel * Int(bits) / 8
        var counts = try fields[279].map { try file.values($0) } ?? []
        if counts.isEmpty && compression == 1 { counts = (0..<strips).map { UInt32(truncatingIfNeeded: Swift.min(rowsPerStrip, height - $0 * rowsPerStrip) * rowBytes) } }
        guard counts.count >= strips else { throw TIFFError(message: "\(counts.count) strip byte counts for \(strips) strips") }

        // Before allocating the image: could the strips, at their compression's largest ratio,
        // hold it at all? A corrupt header's 300 MP must not cost gigabytes.
        let stored = counts.prefix(strips).reduce(0) { $0 + Swift.min(Int($1), bytes.count) }
        let ratio = [1: 1, 32773: 64, 8: 1032, 32946: 1032, 5: 2730][compression] ?? 1
        guard stored.multipliedReportingOverflow(by: ratio).partialValue >= height * rowBytes else {
            throw TIFFError(message: "its strips hold \(stored) bytes, too few for \(width)×\(height) pixels: truncated or corrupt")
        }
        var samples = [UInt16](repeating: 0, count: width * height * 3)
        var strip = [UInt8]()
        for s in 0..<strips {
            let rows = Swift.min(rowsPerStrip, height - s * rowsPerStrip)
            let start = Int(offsets[s]), count = Int(counts[s])
            guard start <= bytes.count, count <= bytes.count - start else {
                throw TIFFError(message: "strip \(s) lies beyond the end of the file (\(bytes.count) bytes): truncated?")
            }
            let expected = rows * rowBytes
            strip = try bytes.withUnsafeBufferPointer { all in
                try decompress(UnsafeBufferPointer(rebasing: all[start..<(start + count)]), compression: compression, size: expected, strip: s)
            }
            guard strip.count >= expected else {
                throw TIFFError(message: "strip \(s) holds \(strip.count) of its \(expected) bytes: truncated or corrupt")
            }
            unpack(strip, rows: rows, firstRow: s * rowsPerStrip, width: width, samplesPerPixel: samplesPerPixel, colours: colours,
                   bits: Int(bits), bigEndian: file.bigEndian, predictor: predictor, into: &samples)
        }
        let icc = try fields[34675].map { try file.bytes(of: $0) }
        return PNGImage(width: width, height: height, bitDepth: Int(bits), channels: 3, samples: samples, iccProfile: icc)
    }

    /// A strip's rows into RGB samples: bytes to samples in the file's order, the predictor
    /// undone per channel, alpha dropped, grey repeated.
    static func unpack(_ strip: [UInt8], rows: Int, firstRow: Int, width: Int, samplesPerPixel: Int, colours: Int, bits: Int,
                       bigEndian: Bool, predictor: Int, into samples: inout [UInt16]) {
        let rowSamples = width * samplesPerPixel, rowBytes = rowSamples * bits / 8
        var row = [UInt16](repeating: 0, count: rowSamples)
        strip.withUnsafeBufferPointer { bytes in
            row.withUnsafeMutableBufferPointer { row in
                samples.withUnsafeMutableBufferPointer { out in
                    for r in 0..<rows {
                        let at = r * rowBytes
                        if bits == 8 {
                            for i in 0..<rowSamples { row[i] = UInt16(bytes[at + i]) }
                        } else if bigEndian {
                            for i in 0..<rowSamples { row[i] = UInt16(bytes[at + 2 * i]) << 8 | UInt16(bytes[at + 2 * i + 1]) }
                        } else {
                            for i in 0..<rowSamples { row[i] = UInt16(bytes[at + 2 * i + 1]) << 8 | UInt16(bytes[at + 2 * i]) }
                        }
                        if predictor == 2 {
                            let mask: UInt16 = bits == 8 ? 0xFF : 0xFFFF
                            for i in samplesPerPixel..<max(samplesPerPixel, rowSamples) { row[i] = (row[i] &+ row[i - samplesPerPixel]) & mask }
                        }
                        let o = 3 * (firstRow + r) * width
                        for x in 0..<width {
                            let i = x * samplesPerPixel, j = o + 3 * x
                            out[j] = row[i]
                            out[j + 1] = row[colours == 3 ? i + 1 : i]
                            out[j + 2] = row[colours == 3 ? i + 2 : i]
                        }
                    }
                }
            }
        }
    }

    static func decompress(_ data: UnsafeBufferPointer<UInt8>, compression: Int, size: Int, strip: Int) throws -> [UInt8] {
        switch compression {
        case 1:
            return Array(data.prefix(size))
        case 8, 32946:
            var out = [UInt8](repeating: 0, count: size)
            var written = 0
            var message = [CChar](repeating: 0, count: Int(EMU_PNG_MESSAGE_SIZE))
            let code = out.withUnsafeMutableBufferPointer { emu_zlib_inflate(data.baseAddress, data.count, $0.baseAddress, size, &written, &message) }
            guard code == Int32(EMU_PNG_OK) else {
                throw TIFFError(message: "strip \(strip): " + String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            return Array(out.prefix(written))
        case 32773:
            return unpackBits(data, size: size)
        default:
            return try TIFFLZW.decode(data, size: size, strip: strip)
        }
    }

    /// PackBits (TIFF 6.0 §9): a header byte n ≥ 0 copies n + 1 bytes, −127…−1 repeats the next
    /// byte 1 − n times, −128 is skipped. Stops at `size` bytes or at the end of the data.
    static func unpackBits(_ data: UnsafeBufferPointer<UInt8>, size: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(size)
        var i = 0
        while i < data.count && out.count < size {
            let n = Int(Int8(bitPattern: data[i]))
            i += 1
            if n >= 0 {
                let take = Swift.min(n + 1, data.count - i)
                out.append(contentsOf: data[i..<(i + take)])
                i += take
            } else if n != -128, i < data.count {
                out.append(contentsOf: repeatElement(data[i], count: 1 - n))
                i += 1
            }
        }
        return Array(out.prefix(size))
    }

    /// Bounds-checked access to the file's bytes in its byte order.
    struct Reader {
        let bytes: [UInt8]
        let bigEndian: Bool

        func u16(_ at: Int) throws -> UInt16 {
            guard at >= 0, at + 2 <= bytes.count else { throw TIFFError(message: "a field at byte \(at) lies beyond the end of the file: truncated?") }
            return bigEndian ? UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) : UInt16(bytes[at + 1]) << 8 | UInt16(bytes[at])
        }

        func u32(_ at: Int) throws -> UInt32 {
            let hi = try u16(at), lo = try u16(at + 2)
            return bigEndian ? UInt32(hi) << 16 | UInt32(lo) : UInt32(lo) << 16 | UInt32(hi)
        }

        struct Entry { let type: UInt16, count: Int, valueAt: Int }

        /// The directory's entries by tag.
        func directory(at offset: Int) throws -> [UInt16: Entry] {
            let n = Int(try u16(offset))
            guard n > 0 else { throw TIFFError(message: "the first directory is empty") }
            var entries: [UInt16: Entry] = [:]
            for k in 0..<n {
                let at = offset + 2 + 12 * k
                let tag = try u16(at), type = try u16(at + 2), count = Int(try u32(at + 4))
                let size = [1: 1, 2: 1, 3: 2, 4: 4, 6: 1, 7: 1, 8: 2, 9: 4, 11: 4][Int(type)] ?? 8
                let total = size.multipliedReportingOverflow(by: count)
                guard !total.overflow else { throw TIFFError(message: "tag \(tag) claims \(count) values") }
                let valueAt = total.partialValue <= 4 ? at + 8 : Int(try u32(at + 8))
                guard valueAt <= bytes.count, total.partialValue <= bytes.count - valueAt else {
                    throw TIFFError(message: "tag \(tag)'s \(count) values lie beyond the end of the file: truncated?")
                }
                entries[tag] = Entry(type: type, count: count, valueAt: valueAt)
            }
            return entries
        }

        /// A SHORT, LONG or BYTE field's values.
        func values(_ e: Entry) throws -> [UInt32] {
            switch e.type {
            case 1, 7: return (0..<e.count).map { UInt32(bytes[e.valueAt + $0]) }
            case 3: return try (0..<e.count).map { UInt32(try u16(e.valueAt + 2 * $0)) }
            case 4: return try (0..<e.count).map { try u32(e.valueAt + 4 * $0) }
            default: throw TIFFError(message: "a field of type \(e.type) where a number was expected")
            }
        }

        /// An UNDEFINED or BYTE field's bytes.
        func bytes(of e: Entry) throws -> [UInt8] {
            guard e.type == 1 || e.type == 7 else { throw TIFFError(message: "an ICC profile field of type \(e.type)") }
            return Array(bytes[e.valueAt..<(e.valueAt + e.count)])
        }
    }
}

/// PNGFile.swift — typed, throwing PNG reading and writing for Emulsion.
///
/// What: encode 8- or 16-bit gray/RGB images (with an optional embedded ICC profile) to PNG files or
/// memory, decode any PNG to RGB, and read single-channel gray PNGs as raw Bayer mosaics.
/// Why: PNG is the lossless 16-bit export format next to TIFF, and some raw samples ship as gray PNGs.
/// All libpng work happens in the C target `CPNGShim`, whose functions never let libpng's longjmp
/// reach Swift frames; this file only validates input, moves buffers and turns error codes into
/// `PNGError`.
/// Reference: PNG Specification 2nd ed. (W3C / ISO/IEC 15948:2003) — IHDR (11.2.2), filters (9),
/// iCCP (11.3.3.3); libpng 1.6 manual (libpng-manual.txt). Encoding defaults and the segmented parallel encoder: docs/PERFORMANCE.md.

import CPNGShim
import Dispatch
import Foundation

/// An image as stored in or read from a PNG: interleaved, row-major, no padding.
public struct PNGImage: Equatable, Sendable {
    public var width: Int
    public var height: Int
    /// 8 or 16. For 8-bit images every sample holds 0...255.
    public var bitDepth: Int
    /// 1 (gray / Bayer mosaic) or 3 (RGB).
    public var channels: Int
    /// `width * height * channels` samples in host byte order.
    public var samples: [UInt16]
    /// Raw ICC profile bytes (the iCCP chunk, decompressed), or nil.
    public var iccProfile: [UInt8]?

    public init(width: Int, height: Int, bitDepth: Int = 16, channels: Int = 3,
                samples: [UInt16], iccProfile: [UInt8]? = nil) {
        self.width = width
        self.height = height
        self.bitDepth = bitDepth
        self.channels = channels
        self.samples = samples
        self.iccProfile = iccProfile
    }
}

/// PNG row filter (PNG spec section 9). `adaptive` lets libpng try all five per row (slowest).
public enum PNGFilter: String, CaseIterable, Sendable {
    case none, sub, up, paeth, adaptive

    var shimValue: Int32 {
        switch self {
        case .none: return Int32(EMU_PNG_FILTER_NONE)
        case .sub: return Int32(EMU_PNG_FILTER_SUB)
        case .up: return Int32(EMU_PNG_FILTER_UP)
        case .paeth: return Int32(EMU_PNG_FILTER_PAETH)
        case .adaptive: return Int32(EMU_PNG_FILTER_ADAPTIVE)
        }
    }
}

/// zlib strategy (zlib manual, `deflateInit2`): how deflate looks for repeats.
public enum PNGStrategy: String, CaseIterable, Sendable {
    /// Matches and literals (LZ77 + Huffman), zlib's default.
    case `default`
    /// Favours literals over short matches (zlib's choice for filtered image data).
    case filtered
    /// Huffman coding of literals only: no match search at all.
    case huffmanOnly
    /// Matches of distance 1 only (runs), plus Huffman coding.
    case rle
    /// Emulsion's own coder (CPNGShim/pngsegments.c): dynamic-Huffman blocks of literals, no
    /// match search, one table lookup per byte. zlib's `huffmanOnly` output size at several
    /// times its speed. Level 0 still stores.
    case fastHuffman

    var shimValue: Int32 {
        switch self {
        case .default: return Int32(EMU_PNG_STRATEGY_DEFAULT)
        case .filtered: return Int32(EMU_PNG_STRATEGY_FILTERED)
        case .huffmanOnly: return Int32(EMU_PNG_STRATEGY_HUFFMAN_ONLY)
        case .rle: return Int32(EMU_PNG_STRATEGY_RLE)
        case .fastHuffman: return Int32(EMU_PNG_STRATEGY_FAST_HUFFMAN)
        }
    }
}

/// zlib level, strategy, row filter and threads used when encoding.
///
/// The defaults (level 1 with Emulsion's fast Huffman-only coder, `up` filter) were chosen by
/// measurement on rendered 16-bit photographs (docs/PERFORMANCE.md, "PNG encoding"): the low
/// byte of a 16-bit sample is mostly sensor noise, so match search buys about 1% (zlib level 6
/// is ~4× slower than level 1 for that), zlib's Huffman-only and RLE strategies give the same
/// size as level 1, and the fast coder gives that size at several times their speed — close to
/// the cost of storing the data uncompressed (`compressionLevel` 0).
public struct PNGEncodingOptions: Equatable, Sendable {
    /// zlib compression level 0 (store) ... 9 (smallest, slowest).
    public var compressionLevel: Int
    public var filter: PNGFilter
    public var strategy: PNGStrategy
    /// Threads compressing segments of rows in parallel (`encode`); the bytes do not depend on it.
    public var threads: Int
    /// Filtered bytes per independently compressed segment (rounded to whole rows). Smaller
    /// segments spread better over threads and cost a little compression (each starts with an
    /// empty dictionary and ends with a 5-byte flush marker); 1 MiB loses < 0.1 %.
    public var segmentBytes: Int
    /// Name stored in the iCCP chunk (1-79 Latin-1 characters).
    public var iccProfileName: String

    public init(compressionLevel: Int = 1, filter: PNGFilter = .up, strategy: PNGStrategy = .fastHuffman, threads: Int = 1,
                segmentBytes: Int = 1 << 20, iccProfileName: String = "ICC Profile") {
        self.compressionLevel = compressionLevel
        self.filter = filter
        self.strategy = strategy
        self.threads = threads
        self.segmentBytes = segmentBytes
        self.iccProfileName = iccProfileName
    }

    public static let `default` = PNGEncodingOptions()

    /// e.g. "zlib 1 rle, up filter".
    public var summary: String { "zlib \(compressionLevel) \(strategy.rawValue), \(filter.rawValue) filter" }
}

/// A PNG failure; `description` is one line naming the file and the problem,
/// e.g. `out.png: cannot open for writing: Permission denied`.
public struct PNGError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case invalidArgument, cannotOpen, io, notPNG, corrupt, tooLarge, unsupported, outOfMemory, libpng
    }

    /// The file path, or nil for in-memory encoding/decoding.
    public let path: String?
    public let kind: Kind
    /// The reason, without the path.
    public let message: String

    public init(path: String?, kind: Kind, message: String) {
        self.path = path
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(path ?? "<memory>"): \(message)" }
}

/// PNG encoding and decoding entry points.
public enum PNGFile {
    /// Writes `image` to `path` (created or replaced) through libpng's own row writer, on one thread
    /// (`options.strategy`, `threads` and `segmentBytes` do not apply; `encode` is the fast,
    /// parallel path). Write, flush and close failures (disk full,
    /// EFBIG) throw; a partially written regular file is removed. For atomic replacement, `encode`
    /// and write the bytes to a temporary file that is then renamed.
    public static func write(_ image: PNGImage, to path: String,
                             options: PNGEncodingOptions = .default) throws {
        try validate(image, options: options, path: path)
        try withEncodeArguments(image, options: options) { samples, icc, iccLength, name, message in
            emu_png_write_file(path, samples, UInt32(image.width), UInt32(image.height),
                               Int32(image.channels), Int32(image.bitDepth), icc, iccLength, name,
                               Int32(options.compressionLevel), options.filter.shimValue, message)
        }.throwIfFailed(path: path)
    }

    /// Encodes `image` as PNG bytes in memory (the segmented encoder, `options.threads` wide).
    public static func encode(_ image: PNGImage, options: PNGEncodingOptions = .default) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try encode(image, options: options) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Rows per independently compressed segment: about `segmentBytes` of filtered bytes (1 MiB
    /// by default, so a 24 MP image has ~140 segments to spread over threads while each still
    /// compresses like a whole image).
    public static func segmentRows(width: Int, channels: Int, bitDepth: Int, segmentBytes: Int = 1 << 20) -> Int {
        max(1, segmentBytes / max(1, width * channels * bitDepth / 8 + 1))
    }

    /// Encodes `image` and hands the PNG's bytes to `output` in order, piece by piece (signature
    /// and header chunks, then one IDAT chunk per segment of rows as soon as it and all before it
    /// are compressed, then the trailer), so a whole compressed file is never held in memory.
    /// Segments are compressed on `options.threads` threads; the bytes are the same for any count.
    /// An error thrown by `output` stops the encoding and is rethrown.
    public static func encode(_ image: PNGImage, options: PNGEncodingOptions = .default,
                              to output: (UnsafeRawBufferPointer) throws -> Void) throws {
        try validate(image, options: options, path: nil)
        var header: UnsafeMutablePointer<UInt8>? = nil
        var headerLength = 0
        try withEncodeArguments(image, options: options) { _, icc, iccLength, name, message in
            emu_png_encode_header(UInt32(image.width), UInt32(image.height), Int32(image.channels), Int32(image.bitDepth),
                                  icc, iccLength, name, &header, &headerLength, message)
        }.throwIfFailed(path: nil)
        defer { emu_png_free(header) }
        try output(UnsafeRawBufferPointer(start: header, count: headerLength))

        let rowsPerSegment = segmentRows(width: image.width, channels: image.channels, bitDepth: image.bitDepth,
                                         segmentBytes: options.segmentBytes)
        let count = (image.height + rowsPerSegment - 1) / rowsPerSegment
        let state = SegmentQueue(count: count)
        image.samples.withUnsafeBufferPointer { samples in withoutActuallyEscaping(output) { output in
            let base = UnsafeSendable(samples.baseAddress!)
            let work = { (_: Int) in
                while let i = state.take() {
                    let first = i * rowsPerSegment
                    var chunk: UnsafeMutablePointer<UInt8>? = nil
                    var length = 0
                    var adler: UInt32 = 0
                    var rawLength: UInt64 = 0
                    var message = [CChar](repeating: 0, count: Int(EMU_PNG_MESSAGE_SIZE))
                    let code = emu_png_deflate_segment(
                        base.value, UInt32(image.width), UInt32(image.height), Int32(image.channels), Int32(image.bitDepth),
                        UInt32(first), UInt32(min(rowsPerSegment, image.height - first)), options.filter.shimValue,
                        Int32(options.compressionLevel), options.strategy.shimValue, i == 0 ? 1 : 0, i == count - 1 ? 1 : 0,
                        &chunk, &length, &adler, &rawLength, &message)
                    if code != Int32(EMU_PNG_OK) {
                        emu_png_free(chunk)
                        state.fail(with: ShimResult(code: code, message: message).error(path: nil))
                        return
                    }
                    state.finished(i, Segment(chunk: chunk!, length: length, adler: adler, rawLength: rawLength), output: output)
                }
            }
            let threads = max(1, min(options.threads, count))
            if threads == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: threads, execute: work) }
        } }
        if let error = state.error { throw error }
        var trailer = [UInt8](repeating: 0, count: Int(EMU_PNG_FINISH_SIZE))
        emu_png_finish_chunks(state.adler, &trailer)
        try trailer.withUnsafeBytes { try output($0) }
    }

    /// Reads any PNG (gray, gray+alpha, RGB, RGBA, palette; 1-16 bit; interlaced or not) as 3-channel
    /// RGB. Palette and gray expand to RGB, alpha is dropped (not composited), 1/2/4-bit gray scales
    /// to 8 bits; `bitDepth` is 16 for 16-bit files and 8 otherwise. Images above 400 MP are rejected.
    public static func read(path: String) throws -> PNGImage {
        try decoded(path: path) { out, message in emu_png_read_rgb_file(path, out, message) }
    }

    /// Reads a single-channel 8- or 16-bit grayscale PNG as-is (one sample per pixel, values
    /// untouched) — a raw Bayer mosaic. Any other colour type throws `.unsupported`.
    public static func readGrayMosaic(path: String) throws -> PNGImage {
        try decoded(path: path) { out, message in emu_png_read_gray_file(path, out, message) }
    }

    /// `read(path:)` for PNG bytes in memory.
    public static func decode(_ bytes: [UInt8]) throws -> PNGImage {
        try bytes.withUnsafeBufferPointer { buffer in
            try decoded(path: nil) { out, message in
                emu_png_read_rgb_memory(buffer.baseAddress, buffer.count, out, message)
            }
        }
    }

    /// `readGrayMosaic(path:)` for PNG bytes in memory.
    public static func decodeGrayMosaic(_ bytes: [UInt8]) throws -> PNGImage {
        try bytes.withUnsafeBufferPointer { buffer in
            try decoded(path: nil) { out, message in
                emu_png_read_gray_memory(buffer.baseAddress, buffer.count, out, message)
            }
        }
    }

    // MARK: - Plumbing

    private static func validate(_ image: PNGImage, options: PNGEncodingOptions, path: String?) throws {
        func fail(_ message: String) -> PNGError { PNGError(path: path, kind: .invalidArgument, message: message) }
        guard image.width > 0, image.height > 0, image.width <= Int(Int32.max), image.height <= Int(Int32.max) else {
            throw fail("invalid image size \(image.width)x\(image.height)")
        }
        guard image.channels == 1 || image.channels == 3 else {
            throw fail("unsupported channel count \(image.channels) (expected 1 or 3)")
        }
        guard image.bitDepth == 8 || image.bitDepth == 16 else {
            throw fail("unsupported bit depth \(image.bitDepth) (expected 8 or 16)")
        }
        let (pixels, overflow1) = image.width.multipliedReportingOverflow(by: image.height)
        let (expected, overflow2) = pixels.multipliedReportingOverflow(by: image.channels)
        guard !overflow1, !overflow2, image.samples.count == expected else {
            throw fail("\(image.samples.count) samples for a \(image.width)x\(image.height)x\(image.channels) image "
                + "(expected \(overflow1 || overflow2 ? "too many" : String(expected)))")
        }
        guard (0...9).contains(options.compressionLevel) else {
            throw fail("invalid zlib compression level \(options.compressionLevel) (expected 0-9)")
        }
        if let icc = image.iccProfile {
            guard !icc.isEmpty else { throw fail("empty ICC profile") }
            // PNG keywords (spec 11.3.3.3, 11.3.4.3): 1-79 Latin-1 characters, no leading, trailing or
            // double spaces. Restricted here to printable ASCII so UTF-8 and Latin-1 agree.
            let name = options.iccProfileName
            guard (1...79).contains(name.utf8.count), name.utf8.allSatisfy({ (32...126).contains($0) }),
                  !name.hasPrefix(" "), !name.hasSuffix(" "), !name.contains("  ") else {
                throw fail("invalid ICC profile name \"\(name)\" (1-79 printable ASCII characters, single inner spaces)")
            }
        }
    }

    /// Calls `body` with C views of the image and options; returns the shim's code and message.
    private static func withEncodeArguments(
        _ image: PNGImage, options: PNGEncodingOptions,
        _ body: (UnsafePointer<UInt16>, UnsafePointer<UInt8>?, Int, UnsafePointer<CChar>,
                 UnsafeMutablePointer<CChar>) -> Int32
    ) -> ShimResult {
        var message = [CChar](repeating: 0, count: Int(EMU_PNG_MESSAGE_SIZE))
        let code: Int32 = image.samples.withUnsafeBufferPointer { samples in
            options.iccProfileName.withCString { name in
                message.withUnsafeMutableBufferPointer { messageBuffer in
                    if let icc = image.iccProfile {
                        return icc.withUnsafeBufferPointer { iccBuffer in
                            body(samples.baseAddress!, iccBuffer.baseAddress, iccBuffer.count, name,
                                 messageBuffer.baseAddress!)
                        }
                    }
                    return body(samples.baseAddress!, nil, 0, name, messageBuffer.baseAddress!)
                }
            }
        }
        return ShimResult(code: code, message: message)
    }

    private static func decoded(
        path: String?, _ body: (UnsafeMutablePointer<emu_png_decoded>, UnsafeMutablePointer<CChar>) -> Int32
    ) throws -> PNGImage {
        var out = emu_png_decoded()
        var message = [CChar](repeating: 0, count: Int(EMU_PNG_MESSAGE_SIZE))
        let code = message.withUnsafeMutableBufferPointer { body(&out, $0.baseAddress!) }
        try ShimResult(code: code, message: message).throwIfFailed(path: path)
        defer {
            emu_png_free(out.samples)
            emu_png_free(out.icc)
        }
        let count = Int(out.width) * Int(out.height) * Int(out.channels)
        let samples = Array(UnsafeBufferPointer(start: out.samples, count: count))
        let icc = out.icc.map { Array(UnsafeBufferPointer(start: $0, count: out.icc_length)) }
        return PNGImage(width: Int(out.width), height: Int(out.height), bitDepth: Int(out.bit_depth),
                        channels: Int(out.channels), samples: samples, iccProfile: icc)
    }
}

/// One compressed segment waiting for its turn to be written.
private struct Segment {
    let chunk: UnsafeMutablePointer<UInt8>
    let length: Int
    let adler: UInt32
    let rawLength: UInt64
}

private struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Hands out segment numbers, and writes finished segments strictly in order: a worker that
/// finishes segment i writes it (and any finished successors) when i is next; otherwise the
/// segment waits. At most the segments in flight plus those finished early are held.
private final class SegmentQueue: @unchecked Sendable {
    private let lock = NSLock()
    private let count: Int
    private var nextToTake = 0
    private var nextToWrite = 0
    private var waiting: [Int: Segment] = [:]
    private(set) var adler: UInt32 = 1
    private(set) var error: Error?

    init(count: Int) { self.count = count }

    deinit { for s in waiting.values { emu_png_free(s.chunk) } }

    func take() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard error == nil, nextToTake < count else { return nil }
        nextToTake += 1
        return nextToTake - 1
    }

    func fail(with error: Error) {
        lock.lock(); defer { lock.unlock() }
        if self.error == nil { self.error = error }
    }

    /// Output runs under the lock: one writer at a time, in segment order.
    func finished(_ i: Int, _ segment: Segment, output: (UnsafeRawBufferPointer) throws -> Void) {
        lock.lock(); defer { lock.unlock() }
        waiting[i] = segment
        while error == nil, let s = waiting.removeValue(forKey: nextToWrite) {
            defer { emu_png_free(s.chunk) }
            adler = nextToWrite == 0 ? s.adler : emu_png_adler32_combine(adler, s.adler, s.rawLength)
            nextToWrite += 1
            do { try output(UnsafeRawBufferPointer(start: s.chunk, count: s.length)) } catch { self.error = error }
        }
    }
}

/// A shim return code plus its message buffer.
private struct ShimResult {
    let code: Int32
    let message: [CChar]

    func throwIfFailed(path: String?) throws {
        guard code != Int32(EMU_PNG_OK) else { return }
        throw error(path: path)
    }

    func error(path: String?) -> PNGError {
        let text = message.withUnsafeBufferPointer { buffer -> String in
            let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            return String(decoding: bytes, as: UTF8.self)
        }
        return PNGError(path: path, kind: Self.kind(code),
                        message: text.isEmpty ? "PNG error \(code)" : text)
    }

    private static func kind(_ code: Int32) -> PNGError.Kind {
        switch Int(code) {
        case Int(EMU_PNG_ERR_ARGUMENT): return .invalidArgument
        case Int(EMU_PNG_ERR_OPEN): return .cannotOpen
        case Int(EMU_PNG_ERR_IO): return .io
        case Int(EMU_PNG_ERR_NOT_PNG): return .notPNG
        case Int(EMU_PNG_ERR_CORRUPT): return .corrupt
        case Int(EMU_PNG_ERR_TOO_LARGE): return .tooLarge
        case Int(EMU_PNG_ERR_UNSUPPORTED): return .unsupported
        case Int(EMU_PNG_ERR_NO_MEMORY): return .outOfMemory
        default: return .libpng
        }
    }
}

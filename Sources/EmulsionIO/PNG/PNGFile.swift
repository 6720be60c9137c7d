/// PNGFile.swift — typed, throwing PNG reading and writing for Emulsion.
///
/// What: encode 8- or 16-bit gray/RGB images (with an optional embedded ICC profile) to PNG files or
/// memory, decode any PNG to RGB, and read single-channel gray PNGs as raw Bayer mosaics.
/// Why: PNG is the lossless 16-bit export format next to TIFF, and some raw samples ship as gray PNGs.
/// All libpng work happens in the C target `CPNGShim`, whose functions never let libpng's longjmp
/// reach Swift frames; this file only validates input, moves buffers and turns error codes into
/// `PNGError`.
/// Reference: PNG Specification 2nd ed. (W3C / ISO/IEC 15948:2003) — IHDR (11.2.2), filters (9),
/// iCCP (11.3.3.3); libpng 1.6 manual (libpng-manual.txt). Encoding defaults and the segmented parallel
/// encoder: docs/PNG-ENCODING.md and docs/PERFORMANCE.md.

import CPNGShim
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
import EmulsionCore

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

/// What the encoder needs to know about an image besides its rows: size, depth, channels and the ICC
/// profile. Kept apart from `PNGImage` so rows can come from somewhere other than a whole-image
/// array (the streamed renderer renders each segment's rows just before they are compressed).
public struct PNGLayout: Equatable, Sendable {
    public var width: Int
    public var height: Int
    /// 8 or 16.
    public var bitDepth: Int
    /// 1 or 3.
    public var channels: Int
    public var iccProfile: [UInt8]?
    /// Metadata chunks written after the header and before the image data (streamed encoding;
    /// `emulsion process` puts the capture's Exif and the render's recipe here).
    public var ancillaryChunks: [PNGChunk]

    public init(width: Int, height: Int, bitDepth: Int = 16, channels: Int = 3, iccProfile: [UInt8]? = nil,
                ancillaryChunks: [PNGChunk] = []) {
        self.width = width
        self.height = height
        self.bitDepth = bitDepth
        self.channels = channels
        self.iccProfile = iccProfile
        self.ancillaryChunks = ancillaryChunks
    }

    /// Samples in one row.
    public var rowSamples: Int { width * channels }
}

extension PNGImage {
    public var layout: PNGLayout {
        PNGLayout(width: width, height: height, bitDepth: bitDepth, channels: channels, iccProfile: iccProfile)
    }
}

/// Rows of an image for the segmented encoder. Called with a range of rows, it returns a pointer to
/// the first of them, followed by the others (`PNGLayout.rowSamples` samples each), valid until its
/// next call. The encoder makes one per thread (`PNGFile.encode(_:options:rows:to:)`) and asks it,
/// per segment, for the segment's rows and the row above them (which the up, avg and paeth filters
/// read), so a source may render those rows into one small buffer it reuses.
public typealias PNGRowSource = (Range<Int>) -> UnsafePointer<UInt16>

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
public enum PNGCompressionStrategy: String, CaseIterable, Sendable {
    /// libpng's choice: Z_FILTERED when rows are filtered, Z_DEFAULT_STRATEGY otherwise.
    case automatic
    /// Runs only (Z_RLE): about twice as fast as `automatic` on noisy 16-bit photographs and no
    /// larger; still collapses flat areas. The zlib level (1-9) then does not change the output.
    case rle
    /// Huffman coding only (Z_HUFFMAN_ONLY): as fast as `rle`, but flat areas cost at least 1 bit/byte.
    case huffmanOnly
    /// Emulsion's own coder (CPNGShim/pngsegments.c) at level 1: dynamic-Huffman blocks of
    /// literals, no match search, one table lookup per byte — zlib's `huffmanOnly` output size at
    /// several times its speed (flat areas likewise cost 1 bit/byte). Level 0 still stores; levels
    /// 2-9 ask for matches, so they use zlib as `automatic` does.
    case fastHuffman

    var shimValue: Int32 {
        switch self {
        case .automatic: return Int32(EMU_PNG_STRATEGY_AUTO)
        case .rle: return Int32(EMU_PNG_STRATEGY_RLE)
        case .huffmanOnly: return Int32(EMU_PNG_STRATEGY_HUFFMAN_ONLY)
        case .fastHuffman: return Int32(EMU_PNG_STRATEGY_FAST_HUFFMAN)
        }
    }
}

/// The engine branch's name for `PNGCompressionStrategy`.
public typealias PNGStrategy = PNGCompressionStrategy

/// zlib level, strategy, row filter and threads used when encoding.
///
/// The defaults (level 1 with Emulsion's fast Huffman-only coder, `up` filter, segments compressed
/// on all cores) were chosen by measurement on rendered 16-bit photographs (docs/PERFORMANCE.md,
/// "PNG encoding"; docs/PNG-ENCODING.md): the low byte of a 16-bit sample is mostly sensor noise,
/// so match search buys about 1% (zlib level 6 is ~4× slower than level 1 for that), zlib's
/// Huffman-only and RLE strategies give the same size as level 1, and the fast coder gives that
/// size at several times their speed — close to the cost of storing the data uncompressed
/// (`compressionLevel` 0). Flat areas compress less than with `rle` (1 bit/byte at best).
public struct PNGEncodingOptions: Equatable, Sendable {
    /// zlib compression level 0 (store) ... 9 (smallest, slowest). With `fastHuffman`, 2-9 use zlib.
    public var compressionLevel: Int
    public var filter: PNGFilter
    public var strategy: PNGCompressionStrategy
    /// Threads compressing segments of rows in parallel; 0 means every active core. The bytes do
    /// not depend on it. Ignored (one thread) when `parallel` is off.
    public var threads: Int
    /// Filtered bytes per independently compressed segment (rounded to whole rows). Smaller
    /// segments spread better over threads and cost a little compression (each starts with an
    /// empty dictionary and ends with a 5-byte flush marker); 1 MiB loses < 0.1 %.
    public var segmentBytes: Int
    /// Images with fewer `segmentBytes` segments than this get smaller segments, down to
    /// `smallestSegmentBytes`, so that threads share even a small image: a 0.2 MP image (1.2 MB of
    /// 16-bit rows) made one 1 MiB segment and one of 0.2 MB, so one thread compressed nearly all
    /// of it. Like `segmentBytes` it sets the bytes, whatever the thread count.
    public var minimumSegments: Int
    /// The floor of that split (rounded to whole rows).
    public static let smallestSegmentBytes = 64 << 10
    /// Name stored in the iCCP chunk: 1-79 printable ASCII characters, no leading, trailing or double spaces.
    public var iccProfileName: String
    /// Compress segments on `threads` threads; off: one thread (for callers already encoding
    /// several images at once). The bytes are the same either way.
    public var parallel: Bool

    public init(compressionLevel: Int = 1, filter: PNGFilter = .up, strategy: PNGCompressionStrategy = .fastHuffman,
                threads: Int = 0, segmentBytes: Int = 1 << 20, minimumSegments: Int = 8, iccProfileName: String = "ICC Profile",
                parallel: Bool = true) {
        self.compressionLevel = compressionLevel
        self.filter = filter
        self.strategy = strategy
        self.threads = threads
        self.segmentBytes = segmentBytes
        self.minimumSegments = minimumSegments
        self.iccProfileName = iccProfileName
        self.parallel = parallel
    }

    public static let `default` = PNGEncodingOptions()

    /// Threads the encoder actually uses.
    public var effectiveThreads: Int {
        guard parallel else { return 1 }
        return threads > 0 ? threads : Executor.defaultThreads
    }

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
    /// Writes `image` to `path` (created or replaced), streamed from the segmented encoder (the
    /// same bytes as `encode`). Write, flush and close failures (disk full, EFBIG) throw; a
    /// partially written regular file is removed. For atomic replacement, stream `encode(_:options:to:)`
    /// into a temporary file that is then renamed (Emulsion's AtomicOutput does).
    public static func write(_ image: PNGImage, to path: String,
                             options: PNGEncodingOptions = .default) throws {
        try validate(image, options: options, path: path)
        guard let file = fopen(path, "wb") else {
            throw PNGError(path: path, kind: .cannotOpen, message: "cannot open for writing: \(String(cString: strerror(errno)))")
        }
        var status = stat()
        // Only a regular file we wrote into is removed on failure (never /dev/full or a FIFO).
        let regular = fstat(fileno(file), &status) == 0 && status.st_mode & S_IFMT == S_IFREG
        setvbuf(file, nil, _IOFBF, 1 << 18)
        var closed = false
        do {
            try encode(image, options: options) { buffer in
                guard buffer.count > 0 else { return }
                if fwrite(buffer.baseAddress!, 1, buffer.count, file) != buffer.count {
                    throw PNGError(path: path, kind: .io, message: "write failed: \(String(cString: strerror(errno)))")
                }
            }
            // Buffered data reaches the kernel only here: a full disk or EFBIG often shows up at flush/close.
            if fflush(file) != 0 || ferror(file) != 0 {
                throw PNGError(path: path, kind: .io, message: "write failed: \(String(cString: strerror(errno)))")
            }
            closed = true
            if fclose(file) != 0 {
                throw PNGError(path: path, kind: .io, message: "cannot close file: \(String(cString: strerror(errno)))")
            }
        } catch let error as PNGError {
            if !closed { fclose(file) }
            if regular { unlink(path) }
            throw PNGError(path: path, kind: error.kind, message: error.message)
        } catch {
            if !closed { fclose(file) }
            if regular { unlink(path) }
            throw error
        }
    }

    /// `write` with the segment size given in rows (the png branch's tests name it so).
    static func write(_ image: PNGImage, to path: String, options: PNGEncodingOptions, rowsPerBlock: Int?) throws {
        try write(image, to: path, options: options.withRows(rowsPerBlock, of: image))
    }

    /// `encode` with the segment size given in rows (nil: the default, ~1 MiB per segment).
    static func encode(_ image: PNGImage, options: PNGEncodingOptions, rowsPerBlock: Int?) throws -> [UInt8] {
        try encode(image, options: options.withRows(rowsPerBlock, of: image))
    }

    /// Rows per segment for `image` with the default options.
    static func defaultRowsPerBlock(for image: PNGImage) -> Int {
        segmentRows(for: image.layout, options: .default)
    }

    /// Encodes `image` as PNG bytes in memory (the segmented encoder, `options.effectiveThreads` wide).
    /// `ancillaryChunks` go after the header, as `PNGLayout`'s do.
    public static func encode(_ image: PNGImage, options: PNGEncodingOptions = .default,
                              ancillaryChunks: [PNGChunk] = []) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try encode(image, options: options, ancillaryChunks: ancillaryChunks) { bytes.append(contentsOf: $0) }
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
    /// Segments are compressed on `options.effectiveThreads` threads; the bytes are the same for any count.
    /// An error thrown by `output` stops the encoding and is rethrown.
    public static func encode(_ image: PNGImage, options: PNGEncodingOptions = .default, ancillaryChunks: [PNGChunk] = [],
                              to output: (UnsafeRawBufferPointer) throws -> Void) throws {
        try validate(image, options: options, path: nil)
        var layout = image.layout
        layout.ancillaryChunks = ancillaryChunks
        let rowSamples = layout.rowSamples
        try image.samples.withUnsafeBufferPointer { samples in
            // The rows are already in memory: a segment's rows are a pointer into them, no copy.
            let base = UnsafeSendable(samples.baseAddress!)
            try encodeSegments(layout, options: options, rows: { { base.value + $0.lowerBound * rowSamples } }, to: output)
        }
    }

    /// Encodes an image whose rows come from `makeRows` instead of an array: each encoding thread
    /// calls `makeRows` once (it may be called concurrently) and then asks the source it got for
    /// each segment it compresses. The bytes are those `encode(_:options:to:)` makes from the same
    /// rows; `output` is used as there. This is how `emulsion process` renders and compresses in one
    /// pass without a whole-image buffer (Emulsion's `PNGRender`).
    public static func encode(_ layout: PNGLayout, options: PNGEncodingOptions = .default,
                              rows makeRows: () -> PNGRowSource,
                              to output: (UnsafeRawBufferPointer) throws -> Void) throws {
        try validate(layout, options: options, path: nil)
        try encodeSegments(layout, options: options, rows: makeRows, to: output)
    }

    /// Rows in each segment `encode` compresses for `layout` (the last segment may be shorter).
    public static func segmentRows(for layout: PNGLayout, options: PNGEncodingOptions) -> Int {
        let rows = segmentRows(width: layout.width, channels: layout.channels, bitDepth: layout.bitDepth, segmentBytes: options.segmentBytes)
        // Never larger than asked: `min`; never below the floor unless asked: `max` with it.
        let floor = segmentRows(width: layout.width, channels: layout.channels, bitDepth: layout.bitDepth,
                                segmentBytes: PNGEncodingOptions.smallestSegmentBytes)
        let even = (layout.height + max(1, options.minimumSegments) - 1) / max(1, options.minimumSegments)
        return min(rows, max(even, floor, 1))
    }

    /// The segmented encoder: header, then segments taken in order by `options.effectiveThreads`
    /// threads and written in order by `SegmentQueue`, then the trailer.
    private static func encodeSegments(_ layout: PNGLayout, options: PNGEncodingOptions, rows makeRows: () -> PNGRowSource,
                                       to output: (UnsafeRawBufferPointer) throws -> Void) throws {
        var header: UnsafeMutablePointer<UInt8>? = nil
        var headerLength = 0
        try withEncodeArguments(layout, options: options) { icc, iccLength, name, message in
            emu_png_encode_header(UInt32(layout.width), UInt32(layout.height), Int32(layout.channels), Int32(layout.bitDepth),
                                  icc, iccLength, name, &header, &headerLength, message)
        }.throwIfFailed(path: nil)
        defer { emu_png_free(header) }
        try output(UnsafeRawBufferPointer(start: header, count: headerLength))
        for chunk in layout.ancillaryChunks { try chunk.bytes.withUnsafeBytes { try output($0) } }

        let rowsPerSegment = segmentRows(for: layout, options: options)
        let count = (layout.height + rowsPerSegment - 1) / rowsPerSegment
        let state = SegmentQueue(count: count)
        withoutActuallyEscaping(makeRows) { makeRows in withoutActuallyEscaping(output) { output in
            let work = { (_: Int) in
                let rows = makeRows()
                while let i = state.take() {
                    let first = i * rowsPerSegment
                    let end = min(first + rowsPerSegment, layout.height)
                    // The row above the segment comes along: up, avg and paeth filter against it.
                    let above = first > 0 ? rows(first - 1 ..< end) : nil
                    let segmentRows = above.map { $0 + layout.rowSamples } ?? rows(first ..< end)
                    switch deflate(segmentRows, above: above, layout: layout, rows: first ..< end, index: i, of: count, options: options) {
                    case .success(let segment): state.finished(i, segment, output: output)
                    case .failure(let error):
                        state.fail(i, with: error)
                        return
                    }
                }
            }
            let threads = max(1, min(options.effectiveThreads, count))
            ParallelLoop.run(iterations: threads, work)
        } }
        if let error = state.error { throw error }
        var trailer = [UInt8](repeating: 0, count: Int(EMU_PNG_FINISH_SIZE))
        emu_png_finish_chunks(state.adler, &trailer)
        try trailer.withUnsafeBytes { try output($0) }
    }

    /// Filters and compresses segment `index` (image rows `rows`, held at `samples`) into its IDAT chunk.
    private static func deflate(_ samples: UnsafePointer<UInt16>, above: UnsafePointer<UInt16>?, layout: PNGLayout,
                                rows: Range<Int>, index i: Int, of count: Int, options: PNGEncodingOptions) -> Result<Segment, PNGError> {
        var chunk: UnsafeMutablePointer<UInt8>? = nil
        var length = 0
        var adler: UInt32 = 0
        var rawLength: UInt64 = 0
        var message = [CChar](repeating: 0, count: Int(EMU_PNG_MESSAGE_SIZE))
        let code = emu_png_deflate_rows(
            samples, above, UInt32(layout.width), Int32(layout.channels), Int32(layout.bitDepth),
            UInt32(rows.lowerBound), UInt32(rows.count), options.filter.shimValue,
            Int32(options.compressionLevel), options.strategy.shimValue, i == 0 ? 1 : 0, i == count - 1 ? 1 : 0,
            &chunk, &length, &adler, &rawLength, &message)
        guard code == Int32(EMU_PNG_OK) else {
            emu_png_free(chunk)
            return .failure(ShimResult(code: code, message: message).error(path: nil))
        }
        return .success(Segment(chunk: chunk!, length: length, adler: adler, rawLength: rawLength))
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
        try validate(image.layout, options: options, path: path)
        let (pixels, overflow1) = image.width.multipliedReportingOverflow(by: image.height)
        let (expected, overflow2) = pixels.multipliedReportingOverflow(by: image.channels)
        guard !overflow1, !overflow2, image.samples.count == expected else {
            throw PNGError(path: path, kind: .invalidArgument,
                           message: "\(image.samples.count) samples for a \(image.width)x\(image.height)x\(image.channels) image "
                               + "(expected \(overflow1 || overflow2 ? "too many" : String(expected)))")
        }
    }

    private static func validate(_ image: PNGLayout, options: PNGEncodingOptions, path: String?) throws {
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

    /// Calls `body` with C views of the ICC profile and options; returns the shim's code and message.
    private static func withEncodeArguments(
        _ layout: PNGLayout, options: PNGEncodingOptions,
        _ body: (UnsafePointer<UInt8>?, Int, UnsafePointer<CChar>, UnsafeMutablePointer<CChar>) -> Int32
    ) -> ShimResult {
        var message = [CChar](repeating: 0, count: Int(EMU_PNG_MESSAGE_SIZE))
        let code: Int32 = options.iccProfileName.withCString { name in
            message.withUnsafeMutableBufferPointer { messageBuffer in
                if let icc = layout.iccProfile {
                    return icc.withUnsafeBufferPointer { iccBuffer in
                        body(iccBuffer.baseAddress, iccBuffer.count, name, messageBuffer.baseAddress!)
                    }
                }
                return body(nil, 0, name, messageBuffer.baseAddress!)
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

extension PNGEncodingOptions {
    /// These options with segments of `rows` rows of `image` (nil: unchanged).
    func withRows(_ rows: Int?, of image: PNGImage) -> PNGEncodingOptions {
        guard let rows else { return self }
        var options = self
        options.segmentBytes = max(1, rows) * (image.width * image.channels * image.bitDepth / 8 + 1)
        return options
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
    private let lock = ThreadLock()
    private let count: Int
    private var nextToTake = 0
    private var nextToWrite = 0
    private var waiting: [Int: Segment] = [:]
    private(set) var adler: UInt32 = 1
    private(set) var error: Error?
    private var failedSegment = Int.max

    init(count: Int) { self.count = count }

    deinit { for s in waiting.values { emu_png_free(s.chunk) } }

    func take() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard error == nil, nextToTake < count else { return nil }
        nextToTake += 1
        return nextToTake - 1
    }

    /// Segments are taken in order, so every segment above a failing one is taken and reports
    /// too: keeping the lowest failing segment reports the topmost bad row, as a serial encoder would.
    func fail(_ i: Int, with error: Error) {
        lock.lock(); defer { lock.unlock() }
        if self.error == nil || i < failedSegment { self.error = error; failedSegment = i }
    }

    /// Output runs under the lock: one writer at a time, in segment order.
    func finished(_ i: Int, _ segment: Segment, output: (UnsafeRawBufferPointer) throws -> Void) {
        lock.lock(); defer { lock.unlock() }
        waiting[i] = segment
        while error == nil, let s = waiting.removeValue(forKey: nextToWrite) {
            defer { emu_png_free(s.chunk) }
            adler = nextToWrite == 0 ? s.adler : emu_png_adler32_combine(adler, s.adler, s.rawLength)
            nextToWrite += 1
            do { try output(UnsafeRawBufferPointer(start: s.chunk, count: s.length)) } catch { self.error = error; failedSegment = -1 }
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

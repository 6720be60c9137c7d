/// PNGFile.swift — typed, throwing PNG reading and writing for Emulsion.
///
/// What: encode 8- or 16-bit gray/RGB images (with an optional embedded ICC profile) to PNG files or
/// memory, decode any PNG to RGB, and read single-channel gray PNGs as raw Bayer mosaics.
/// Why: PNG is the lossless 16-bit export format next to TIFF, and some raw samples ship as gray PNGs.
/// All libpng work happens in the C target `CPNGShim`, whose functions never let libpng's longjmp
/// reach Swift frames; this file only validates input, moves buffers and turns error codes into
/// `PNGError`.
/// Reference: PNG Specification 2nd ed. (W3C / ISO/IEC 15948:2003) — IHDR (11.2.2), filters (9),
/// iCCP (11.3.3.3); libpng 1.6 manual (libpng-manual.txt). Encoding defaults: docs/PNG-ENCODING.md.

import CPNGShim
import Dispatch

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

/// PNG row filter (PNG spec section 9). `adaptive` tries all five per row and keeps the one with the
/// smallest sum of absolute filtered values (libpng's heuristic); it is the slowest.
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

/// zlib strategy for the compressed image data (zlib manual, deflateInit2).
public enum PNGCompressionStrategy: String, CaseIterable, Sendable {
    /// libpng's choice: Z_FILTERED when rows are filtered, Z_DEFAULT_STRATEGY otherwise.
    case automatic
    /// Runs only (Z_RLE): about twice as fast as `automatic` on noisy 16-bit photographs and no
    /// larger; still compresses flat areas. The zlib level (1-9) then does not change the output.
    case rle
    /// Huffman coding only (Z_HUFFMAN_ONLY): as fast as `rle`, but flat areas cost at least 1 bit/byte.
    case huffmanOnly

    var shimValue: Int32 {
        switch self {
        case .automatic: return Int32(EMU_PNG_STRATEGY_AUTO)
        case .rle: return Int32(EMU_PNG_STRATEGY_RLE)
        case .huffmanOnly: return Int32(EMU_PNG_STRATEGY_HUFFMAN_ONLY)
        }
    }
}

/// zlib level, row filter and zlib strategy used when encoding.
///
/// The default (level 1, `sub` filter, `rle` strategy) was chosen by measurement on a 4000×3000
/// 16-bit RGB image of smooth gradients plus noise (docs/PNG-ENCODING.md, Benchmarks/png-levels.sh):
/// speed first, because exports run over thousands of files; size second.
public struct PNGEncodingOptions: Equatable, Sendable {
    /// zlib compression level 0 (store) ... 9 (smallest, slowest).
    public var compressionLevel: Int
    public var filter: PNGFilter
    public var strategy: PNGCompressionStrategy
    /// Name stored in the iCCP chunk: 1-79 printable ASCII characters, no leading, trailing or double spaces.
    public var iccProfileName: String
    /// Filter and compress blocks of rows (~4 MiB each) on all cores and join them into one zlib
    /// stream. The file differs byte-wise from libpng's serial output but decodes identically. Turn it
    /// off when several images are already being encoded at once.
    public var parallel: Bool

    public init(compressionLevel: Int = 1, filter: PNGFilter = .sub, strategy: PNGCompressionStrategy = .rle,
                iccProfileName: String = "ICC Profile", parallel: Bool = true) {
        self.compressionLevel = compressionLevel
        self.filter = filter
        self.strategy = strategy
        self.iccProfileName = iccProfileName
        self.parallel = parallel
    }

    public static let `default` = PNGEncodingOptions()
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
    /// Writes `image` to `path` (created or replaced). Write, flush and close failures (disk full,
    /// EFBIG) throw; a partially written regular file is removed. For atomic replacement, `encode`
    /// and write the bytes to a temporary file that is then renamed.
    public static func write(_ image: PNGImage, to path: String,
                             options: PNGEncodingOptions = .default) throws {
        try write(image, to: path, options: options, rowsPerBlock: nil)
    }

    /// Encodes `image` as PNG bytes in memory.
    public static func encode(_ image: PNGImage, options: PNGEncodingOptions = .default) throws -> [UInt8] {
        try encode(image, options: options, rowsPerBlock: nil)
    }

    /// `write` with the parallel block size open to tests (nil: the default, ~4 MiB per block).
    static func write(_ image: PNGImage, to path: String, options: PNGEncodingOptions,
                      rowsPerBlock: Int?) throws {
        try validate(image, options: options, path: path)
        if let blocks = try parallelBlocks(image, options: options, path: path, rowsPerBlock: rowsPerBlock) {
            defer { blocks.release() }
            try withEncodeArguments(image, options: options) { _, icc, iccLength, name, message in
                emu_png_write_blocks_file(path, UInt32(image.width), UInt32(image.height), Int32(image.channels),
                                          Int32(image.bitDepth), icc, iccLength, name,
                                          blocks.pointer, blocks.count, message)
            }.throwIfFailed(path: path)
            return
        }
        try withEncodeArguments(image, options: options) { samples, icc, iccLength, name, message in
            emu_png_write_file(path, samples, UInt32(image.width), UInt32(image.height),
                               Int32(image.channels), Int32(image.bitDepth), icc, iccLength, name,
                               Int32(options.compressionLevel), options.filter.shimValue,
                               options.strategy.shimValue, message)
        }.throwIfFailed(path: path)
    }

    /// `encode` with the parallel block size open to tests (nil: the default, ~4 MiB per block).
    static func encode(_ image: PNGImage, options: PNGEncodingOptions, rowsPerBlock: Int?) throws -> [UInt8] {
        try validate(image, options: options, path: nil)
        var data: UnsafeMutablePointer<UInt8>? = nil
        var length = 0
        defer { emu_png_free(data) }
        if let blocks = try parallelBlocks(image, options: options, path: nil, rowsPerBlock: rowsPerBlock) {
            defer { blocks.release() }
            try withEncodeArguments(image, options: options) { _, icc, iccLength, name, message in
                emu_png_write_blocks_memory(UInt32(image.width), UInt32(image.height), Int32(image.channels),
                                            Int32(image.bitDepth), icc, iccLength, name,
                                            blocks.pointer, blocks.count, &data, &length, message)
            }.throwIfFailed(path: nil)
        } else {
            try withEncodeArguments(image, options: options) { samples, icc, iccLength, name, message in
                emu_png_write_memory(samples, UInt32(image.width), UInt32(image.height),
                                     Int32(image.channels), Int32(image.bitDepth), icc, iccLength, name,
                                     Int32(options.compressionLevel), options.filter.shimValue,
                                     options.strategy.shimValue, &data, &length, message)
            }.throwIfFailed(path: nil)
        }
        guard let data else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: length))
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

// MARK: - Parallel encoding

/// Compressed row blocks owned by the caller until `release()`.
struct PNGBlocks {
    let pointer: UnsafeMutablePointer<emu_png_block>
    let count: Int

    func release() {
        for index in 0..<count { emu_png_free_block(pointer + index) }
        pointer.deallocate()
    }
}

/// Raw pointers handed to `concurrentPerform` workers; each worker touches only its own slots.
private struct BlockJob: @unchecked Sendable {
    let samples: UnsafePointer<UInt16>
    let blocks: UnsafeMutablePointer<emu_png_block>
    let codes: UnsafeMutablePointer<Int32>
    let messages: UnsafeMutablePointer<CChar>
}

extension PNGFile {
    /// About 4 MiB of filtered bytes per block: few enough zlib restarts to cost nothing measurable in
    /// size, enough blocks to keep every core busy on a 24 MP image.
    static func defaultRowsPerBlock(for image: PNGImage) -> Int {
        let rowBytes = image.width * image.channels * (image.bitDepth / 8) + 1
        return max(8, (4 << 20) / rowBytes)
    }

    /// Filters and deflates row blocks on all cores (`DispatchQueue.concurrentPerform`); nil when
    /// `options.parallel` is off or the image is a single block (then libpng encodes it serially).
    static func parallelBlocks(_ image: PNGImage, options: PNGEncodingOptions, path: String?,
                               rowsPerBlock: Int?) throws -> PNGBlocks? {
        guard options.parallel else { return nil }
        let rows = max(1, rowsPerBlock ?? defaultRowsPerBlock(for: image))
        let count = (image.height + rows - 1) / rows
        guard count > 1 else { return nil }

        let blocks = UnsafeMutablePointer<emu_png_block>.allocate(capacity: count)
        blocks.initialize(repeating: emu_png_block(), count: count)
        var codes = [Int32](repeating: 0, count: count)
        let messageSize = Int(EMU_PNG_MESSAGE_SIZE)
        var messages = [CChar](repeating: 0, count: count * messageSize)
        let width = UInt32(image.width), height = UInt32(image.height)
        let channels = Int32(image.channels), depth = Int32(image.bitDepth)
        let level = Int32(options.compressionLevel), filter = options.filter.shimValue
        let strategy = options.strategy.shimValue
        image.samples.withUnsafeBufferPointer { samples in
            codes.withUnsafeMutableBufferPointer { codes in
                messages.withUnsafeMutableBufferPointer { messages in
                    let job = BlockJob(samples: samples.baseAddress!, blocks: blocks, codes: codes.baseAddress!,
                                       messages: messages.baseAddress!)
                    DispatchQueue.concurrentPerform(iterations: count) { index in
                        let first = index * rows
                        let rowCount = min(rows, image.height - first)
                        job.codes[index] = emu_png_deflate_rows(
                            job.samples, width, height, channels, depth, UInt32(first), UInt32(rowCount),
                            level, filter, strategy, job.blocks + index, job.messages + index * messageSize)
                    }
                }
            }
        }
        let result = PNGBlocks(pointer: blocks, count: count)
        // Report the first failing block (the topmost bad row), as the serial path would.
        if let failed = codes.firstIndex(where: { $0 != Int32(EMU_PNG_OK) }) {
            result.release()
            let start = failed * messageSize
            try ShimResult(code: codes[failed], message: Array(messages[start..<start + messageSize]))
                .throwIfFailed(path: path)
        }
        return result
    }
}

/// A shim return code plus its message buffer.
private struct ShimResult {
    let code: Int32
    let message: [CChar]

    func throwIfFailed(path: String?) throws {
        guard code != Int32(EMU_PNG_OK) else { return }
        let text = message.withUnsafeBufferPointer { buffer -> String in
            let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            return String(decoding: bytes, as: UTF8.self)
        }
        throw PNGError(path: path, kind: Self.kind(code),
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

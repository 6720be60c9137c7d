import CJPEGShim

/// How a JPEG is compressed: libjpeg's quality scale, and chroma at full resolution from 90 up.
///
/// Why 4:4:4 from 90: at high qualities 4:2:0's halved chroma is the largest error left (red and
/// blue edges bleed by a pixel), and someone asking for 90+ is asking for that detail; below 90
/// file size matters more. The rule is ours, stated here and in the help.
///
/// Huffman tables fitted to the image (libjpeg's `optimize_coding`) make files 10–25 % smaller
/// but make libjpeg keep every DCT coefficient of the image until the end, 2 bytes per sample:
/// 144 MB at 24 MP with 4:4:4, twice the rest of a render's peak, and the second pass doubled
/// the time (0.20 → 0.40 s wall, 24 MP synthetic, docs/PERFORMANCE.md). So they are fitted up
/// to `optimizedPixels` (6 MP: web and preview sizes, ≤ 36 MB of coefficients), and larger
/// images use the standard tables and stream.
public struct JPEGEncodingOptions: Sendable, Equatable {
    public static let defaultQuality = 92
    public static let optimizedPixels = 6_000_000
    public var quality: Int
    public var fullChroma: Bool { quality >= 90 }

    public init(quality: Int = defaultQuality) {
        self.quality = quality
    }
}

/// A JPEG failure, said in one line.
public struct JPEGError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Baseline 8-bit RGB JPEG writing through libjpeg(-turbo) (`CJPEGShim`), streamed: rows are
/// asked for in order, band by band, and the compressed bytes handed to the output as they come.
/// The file carries the ICC profile (APP2, ICC.1 Annex B.4), the Exif block (APP1, the same TIFF
/// structure `ExifBlock` writes into a PNG's eXIf), an optional XMP packet (APP1, XMP Part 3
/// §1.1.3) and an optional comment (COM).
/// Reference: ITU-T T.81; CIPA DC-008 (Exif); libjpeg-turbo's libjpeg.txt.
public enum JPEGFile {
    /// Rows per call of `rows`.
    public static let bandRows = 64

    /// Encodes a `width` × `height` image whose rows `rows` renders (interleaved RGB, 0…255 in
    /// each `UInt16`; the pointer is read before the next call). An error thrown by `output`
    /// stops the compression and is rethrown.
    public static func encode(width: Int, height: Int, options: JPEGEncodingOptions = JPEGEncodingOptions(),
                              iccProfile: [UInt8]? = nil, exif: [UInt8]? = nil, xmp: [UInt8]? = nil, comment: [UInt8]? = nil,
                              rows: (Range<Int>) throws -> UnsafePointer<UInt16>,
                              to output: (UnsafeRawBufferPointer) throws -> Void) throws {
        try withoutActuallyEscaping(output) { output in
            let sink = Sink(output)
            let context = Unmanaged.passUnretained(sink).toOpaque()
            let write: emu_jpeg_write_fn = { context, bytes, count in
                let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
                do { try sink.output(UnsafeRawBufferPointer(start: bytes, count: count)) } catch {
                    sink.error = error
                    return 1
                }
                return 0
            }
            var message = [CChar](repeating: 0, count: Int(EMU_JPEG_MESSAGE_SIZE))
            func fail(_ code: Int32) throws -> Never {
                if let error = sink.error { throw error }
                throw JPEGError(message: "JPEG encoding failed: " + String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                                + " (code \(code))")
            }
            var encoder: OpaquePointer?
            let begun = (iccProfile ?? []).withUnsafeBufferPointer { icc in
                (exif ?? []).withUnsafeBufferPointer { exifBytes in
                  (xmp ?? []).withUnsafeBufferPointer { xmpBytes in
                    (comment ?? []).withUnsafeBufferPointer { commentBytes in
                        emu_jpeg_begin(&encoder, Int32(clamping: width), Int32(clamping: height), Int32(clamping: options.quality),
                                       options.fullChroma ? 1 : 0, width * height <= JPEGEncodingOptions.optimizedPixels ? 1 : 0,
                                       iccProfile == nil ? nil : icc.baseAddress, icc.count,
                                       exif == nil ? nil : exifBytes.baseAddress, exifBytes.count,
                                       xmp == nil ? nil : xmpBytes.baseAddress, xmpBytes.count,
                                       comment == nil ? nil : commentBytes.baseAddress, commentBytes.count,
                                       write, context, &message)
                    }
                  }
                }
            }
            guard begun == EMU_JPEG_OK, let encoder else { try fail(begun) }
            var first = 0
            while first < height {
                let band = first..<min(height, first + bandRows)
                let pointer: UnsafePointer<UInt16>
                do { pointer = try rows(band) } catch {
                    emu_jpeg_abort(encoder)
                    throw error
                }
                let wrote = emu_jpeg_write_rows(encoder, pointer, Int32(band.count), &message)
                guard wrote == EMU_JPEG_OK else { try fail(wrote) }
                first = band.upperBound
            }
            let finished = emu_jpeg_finish(encoder, &message)
            guard finished == EMU_JPEG_OK else { try fail(finished) }
        }
    }

    private final class Sink {
        let output: (UnsafeRawBufferPointer) throws -> Void
        var error: (any Error)?
        init(_ output: @escaping (UnsafeRawBufferPointer) throws -> Void) { self.output = output }
    }
}

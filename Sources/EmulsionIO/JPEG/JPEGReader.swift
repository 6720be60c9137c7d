import CJPEGShim
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads a JPEG as 8-bit RGB samples with its ICC profile, through libjpeg (CJPEGShim).
///
/// What: baseline or progressive, grey or YCbCr (converted to RGB by libjpeg), the ICC profile
/// reassembled from its APP2 chunks; CMYK/YCCK, images above `maximumPixels` and damaged data
/// (libjpeg's warnings too: a truncated file would otherwise decode with grey where data is
/// missing) fail with one line naming the file.
/// Why: `emulsion compare` judges JPEG outputs — Emulsion's own and other tools' — by colour.
/// Reference: ITU-T T.81 (JPEG); ICC.1:2022 Annex B.4 (the APP2 "ICC_PROFILE" chunks).
/// Colour space: unchanged (the file's encoded samples).
public enum JPEGReader {
    public static let maximumPixels = 400_000_000

    /// Whether `bytes` start like a JPEG (SOI then a marker).
    public static func isJPEG(_ bytes: some Collection<UInt8>) -> Bool {
        Array(bytes.prefix(3)) == [0xFF, 0xD8, 0xFF]
    }

    public static func read(path: String) throws -> PNGImage {
        let bytes: [UInt8]
        do { bytes = try InputFileCheck.contents(of: path, kind: "JPEG") } catch { throw JPEGError(message: "\(path): \(error.problem)") }
        do { return try decode(bytes) } catch let error as JPEGError { throw JPEGError(message: "\(path): \(error.message)") }
    }

    public static func decode(_ bytes: [UInt8]) throws -> PNGImage {
        var image = emu_jpeg_image()
        var message = [CChar](repeating: 0, count: Int(EMU_JPEG_MESSAGE_SIZE))
        let code = bytes.withUnsafeBufferPointer { emu_jpeg_decode($0.baseAddress, $0.count, UInt64(maximumPixels), &image, &message) }
        defer { emu_jpeg_image_free(&image) }
        guard code == Int32(EMU_JPEG_OK), let pixels = image.pixels else {
            throw JPEGError(message: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        let count = Int(image.width) * Int(image.height) * 3
        let samples = UnsafeBufferPointer(start: pixels, count: count).map { UInt16($0) }
        let icc = image.icc.map { Array(UnsafeBufferPointer(start: $0, count: image.icc_size)) }
        return PNGImage(width: Int(image.width), height: Int(image.height), bitDepth: 8, channels: 3, samples: samples, iccProfile: icc)
    }
}

import EmulsionCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Hald CLUT images (Eskil Steenberg's format, as used by RawTherapee's and darktable's film
/// simulations): a square PNG of side L³ holding an L²-point 3-D LUT, pixel i = r + g·N + b·N²
/// (red fastest, rows in order), values scaled to the image's bit depth. Read into a `LUT3D`
/// (the same order as a `.cube`) and written from one.
public enum HaldCLUT {
    /// Level 16 (4096×4096, 16-bit RGB) is about 100 MB of pixels: larger files are refused.
    public static let maximumBytes = 256 << 20

    public static func read(path: String) throws -> LUT3D {
        try LUTFile.check(path, maximumBytes: maximumBytes)
        guard let data = FileManager.default.contents(atPath: path) else { throw LUTError(file: path, message: "cannot be read") }
        return try read(bytes: [UInt8](data), path: path)
    }

    /// A Hald CLUT from a PNG file's bytes (`path` names it in errors).
    public static func read(bytes: [UInt8], path: String) throws -> LUT3D {
        // The header first: a wrong-sized image is refused before its pixels are decoded.
        if bytes.count >= 24 {
            guard bytes.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else {
                throw LUTError(file: path, message: "not a PNG file (a Hald CLUT must be a PNG)")
            }
            let big = { (o: Int) in bytes[o..<o + 4].reduce(0) { $0 << 8 | Int($1) } }
            if String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR" {
                try checkSize(width: big(16), height: big(20), path: path)
            }
        }
        let image: PNGImage
        do { image = try PNGFile.decode(bytes) } catch let e as PNGError {
            throw LUTError(file: path, message: "not a readable Hald CLUT PNG (\(e.message))")
        }
        guard image.channels == 3 else { throw LUTError(file: path, message: "a Hald CLUT must be an RGB image") }
        let level = try checkSize(width: image.width, height: image.height, path: path)
        let maximum: Float = image.bitDepth == 16 ? 65535 : 255
        let values = image.samples.map { Float($0) / maximum }
        // The comment `fileBytes` writes (what the LUT maps from and to) comes back as the LUT's
        // comments, as a `.cube`'s would, so an import finds the encodings it declares.
        let comments = PNGChunk.texts(in: bytes).filter { $0.keyword == "Comment" }
            .flatMap { $0.text.split(separator: "\n").map(String.init) }
        return LUT3D(size: level * level, title: "Hald CLUT level \(level)", values: values, comments: comments)
    }

    /// The Hald level L of a square image of side L³ (L = 2…16), or an error.
    @discardableResult
    static func checkSize(width: Int, height: Int, path: String) throws -> Int {
        guard width == height, let level = (2...16).first(where: { $0 * $0 * $0 == width }) else {
            throw LUTError(file: path, message: "\(width)×\(height) is not a Hald CLUT size (a square of side L³ for L = 2…16, e.g. 512 for level 8)")
        }
        return level
    }

    /// The PNG file of `lut`'s Hald image, 16-bit, with the LUT's title and comments as an
    /// `iTXt` "Comment" (what it maps from and to; a Hald image has nowhere else to say it) and no
    /// ICC profile (its pixels are a table, not colours to manage).
    public static func fileBytes(_ lut: LUT3D) throws -> [UInt8] {
        let comment = ([lut.title] + lut.comments).filter { !$0.isEmpty }.joined(separator: "\n")
        return try PNGFile.encode(try image(lut), ancillaryChunks: comment.isEmpty ? [] : [.internationalText("Comment", comment)])
    }

    /// A Hald image of `lut` (whose size must be a square L², L ≤ 16).
    public static func image(_ lut: LUT3D, bitDepth: Int = 16) throws -> PNGImage {
        guard let level = (2...16).first(where: { $0 * $0 == lut.size }) else {
            throw LUTError(file: "<hald>", message: "LUT size \(lut.size) is not a square (a Hald CLUT needs 4, 9, 16, 25, 36, 49, 64…)")
        }
        let side = level * level * level
        let maximum: Float = bitDepth == 16 ? 65535 : 255
        let samples = lut.values.map { UInt16(min(max($0, 0), 1) * maximum + 0.5) }
        return PNGImage(width: side, height: side, bitDepth: bitDepth, channels: 3, samples: samples)
    }
}

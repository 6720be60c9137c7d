import EmulsionCore

/// Hald CLUT images (Eskil Steenberg's format, as used by RawTherapee's and darktable's film
/// simulations): a square PNG of side L³ holding an L²-point 3-D LUT, pixel i = r + g·N + b·N²
/// (red fastest, rows in order), values scaled to the image's bit depth. Read into a `LUT3D`
/// (the same order as a `.cube`) and written from one.
public enum HaldCLUT {
    public static func read(path: String) throws -> LUT3D {
        let image: PNGImage
        do { image = try PNGFile.read(path: path) } catch let e as PNGError {
            throw LUTError(file: path, message: "not a readable Hald CLUT PNG (\(e.message))")
        }
        guard image.channels == 3 else { throw LUTError(file: path, message: "a Hald CLUT must be an RGB image") }
        guard image.width == image.height, let level = (2...16).first(where: { $0 * $0 * $0 == image.width }) else {
            throw LUTError(file: path, message: "\(image.width)×\(image.height) is not a Hald CLUT size (a square of side L³, e.g. 512 for level 8)")
        }
        let maximum: Float = image.bitDepth == 16 ? 65535 : 255
        let values = image.samples.map { Float($0) / maximum }
        return LUT3D(size: level * level, title: "Hald CLUT level \(level)", values: values)
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

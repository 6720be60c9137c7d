import EmulsionCore

/// An image in memory (a contact sheet, a heat map) written in the format its file name asks for:
/// a JPEG for `.jpg`/`.jpeg` (quality 92, 8-bit: 16-bit samples rounded to 8), an uncompressed
/// TIFF for `.tif`/`.tiff`, a PNG otherwise.
///
/// Why: `preview -o sheet.jpg` wrote PNG bytes under a `.jpg` name, which viewers and web
/// uploads then misread or refuse. (16-bit TIFF samples go in host order under the header's "II":
/// little-endian on every target.)
public enum ImageFile {
    /// The extension of the file `path` names, lower-cased ("" for none): what every check of a
    /// name's format reads.
    public static func fileExtension(of path: String) -> String {
        let name = path.split(separator: "/").last.map { $0.lowercased() } ?? ""
        return name.lastIndex(of: ".").map { String(name[name.index(after: $0)...]) } ?? ""
    }

    /// Whether `path` names a JPEG file.
    public static func namesJPEG(_ path: String) -> Bool { ["jpg", "jpeg"].contains(fileExtension(of: path)) }

    /// Whether `path` names a TIFF file.
    public static func namesTIFF(_ path: String) -> Bool { ["tif", "tiff"].contains(fileExtension(of: path)) }

    /// Whether `path` names a file of a format Emulsion writes: PNG, JPEG or TIFF.
    public static func namesWrittenFormat(_ path: String) -> Bool {
        fileExtension(of: path) == "png" || namesJPEG(path) || namesTIFF(path)
    }

    /// Image formats a file name can ask for that Emulsion does not write. A name asking for one
    /// is refused: `-o shot.webp` wrote PNG bytes under that name, which a viewer or an upload then
    /// misreads. Other extensions ("shot.v2") and none stay PNG, as before.
    static let foreignImageExtensions: Set<String> = [
        "avif", "bmp", "dng", "exr", "gif", "hdr", "heic", "heif", "ico", "j2k", "jp2", "jxl", "pam", "pbm", "pfm", "pgm",
        "pnm", "ppm", "psd", "qoi", "tga", "webp",
    ]

    /// Why `path`, given to `option`, cannot be written (it names an image format Emulsion does
    /// not write), or nil.
    public static func refusal(forName path: String, option: String) -> String? {
        let asked = fileExtension(of: path)
        guard foreignImageExtensions.contains(asked) else { return nil }
        return "\(option) \(path): Emulsion writes PNG (.png), JPEG (.jpg, .jpeg) and TIFF (.tif, .tiff), not " + asked.uppercased()
    }

    /// The bytes of `image` (3 channels) as the file `path` names.
    public static func bytes(_ image: PNGImage, for path: String) throws -> [UInt8] {
        if namesTIFF(path) {
            precondition(image.channels == 3, "a TIFF here is RGB")
            var out = try TIFFFile.header(width: image.width, height: image.height, bitDepth: image.bitDepth,
                                          iccProfile: image.iccProfile ?? [], shot: ShotMetadata(), sRGB: false, software: "Emulsion")
            if image.bitDepth == 8 {
                out += image.samples.map { UInt8(truncatingIfNeeded: $0) }
            } else {
                image.samples.withUnsafeBytes { out += $0 }
            }
            return out
        }
        guard namesJPEG(path) else { return try PNGFile.encode(image) }
        precondition(image.channels == 3, "a JPEG here is RGB")
        var out: [UInt8] = []
        try image.eightBit.samples.withUnsafeBufferPointer { s in
            let rowSamples = 3 * image.width
            try JPEGFile.encode(width: image.width, height: image.height, iccProfile: image.iccProfile,
                                rows: { s.baseAddress! + $0.lowerBound * rowSamples }, to: { out.append(contentsOf: $0) })
        }
        return out
    }
}

extension PNGImage {
    /// An 8-bit copy: 16-bit codes rescaled with rounding, round(v · 255 / 65535), in integers;
    /// an 8-bit image as it is. The ICC profile is kept.
    public var eightBit: PNGImage {
        guard bitDepth == 16 else { return self }
        return PNGImage(width: width, height: height, bitDepth: 8, channels: channels,
                        samples: samples.map { UInt16((UInt32($0) * 255 + 32767) / 65535) }, iccProfile: iccProfile)
    }
}

import EmulsionCore

/// Uncompressed RGB TIFF 6.0 for `emulsion process --format tiff`: 8 or 16 bits per sample,
/// little-endian ("II"), chunky (RGBRGB…), one strip, the ICC profile in tag 34675 and the shot's
/// Exif (the same entries a PNG's eXIf holds) in IFD0, an Exif IFD and, with a location, a GPS IFD.
///
/// Why uncompressed: a TIFF is what editors (Photoshop, Affinity, GIMP, Hugin) take in for more
/// work, where the file is an intermediate; storing is the fastest export there is (FIELD.md:
/// darktable's own TIFF export is its fastest), and every reader handles it.
/// Why one strip: TIFF 6.0 allows it (RowsPerStrip = ImageLength), and the directory can then be
/// written first with the strip's offset known, so the rows stream after it in order.
/// Reference: TIFF Revision 6.0 (Adobe, 1992) §§2, 6, 8; ICC.1:2022 Annex B.4 (tag 34675);
/// CIPA DC-008 (Exif IFD, tag 34665).
public enum TIFFFile {
    /// The bytes before the pixels: header, IFD0 (image tags, ICC profile, the shot's tags) and
    /// the Exif IFD; the strip starts right after them. Throws when the pixels would pass the
    /// 4 GiB a TIFF's 32-bit offsets reach.
    public static func header(width: Int, height: Int, bitDepth: Int, iccProfile: [UInt8],
                              shot meta: ShotMetadata, sRGB: Bool, software: String) throws -> [UInt8] {
        precondition(bitDepth == 8 || bitDepth == 16)
        let shot = ExifBlock.entries(meta, width: width, height: height, sRGB: sRGB, software: software, container: .tiff)
        let stripBytes = width * height * 3 * bitDepth / 8
        guard stripBytes < Int(UInt32.max) - (1 << 20) else {
            throw TIFFError(message: "\(width)×\(height) at \(bitDepth) bits is more than a TIFF's 4 GiB of offsets; write a PNG")
        }
        var ifd0: [DNGWriter.TIFFEntry] = [
            .long(256, [UInt32(width)]), .long(257, [UInt32(height)]),
            .short(258, [UInt16(bitDepth), UInt16(bitDepth), UInt16(bitDepth)]),
            .short(259, [1]), .short(262, [2]), .long(DNGWriter.TIFFBuilder.stripOffsetsTag, [0]),
            .short(277, [3]), .long(278, [UInt32(height)]), .long(279, [UInt32(stripBytes)]), .short(284, [1]),
        ] + shot.ifd0
        if !iccProfile.isEmpty { ifd0.append(.undefined(34675, iccProfile)) }
        precondition(Set(ifd0.map(\.tag)).count == ifd0.count, "a tag written twice")
        // One empty chunk: StripOffsets receives where the pixels will start, the end of these bytes.
        return DNGWriter.TIFFBuilder.build(ifd0: ifd0, exif: shot.exif, gps: shot.gps, chunks: [[]])
    }
}

public struct TIFFError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

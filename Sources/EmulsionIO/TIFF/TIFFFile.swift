import CPNGShim
import EmulsionCore

/// RGB TIFF 6.0 for `emulsion process --format tiff`: 8 or 16 bits per sample, little-endian
/// ("II"), chunky (RGBRGB…), the ICC profile in tag 34675 and the shot's Exif (the same entries a
/// PNG's eXIf holds) in IFD0, an Exif IFD and, with a location, a GPS IFD.
///
/// Why uncompressed by default: a TIFF is what editors (Photoshop, Affinity, GIMP, Hugin) take in
/// for more work, where the file is an intermediate; storing is the fastest export there is
/// (FIELD.md: darktable's own TIFF export is its fastest), and every reader handles it. Then one
/// strip: TIFF 6.0 allows it (RowsPerStrip = ImageLength), and the directory can be written first
/// with the strip's offset known, so the rows stream after it in order.
/// Why deflate as the option: the compression darktable and RawTherapee write, read by libtiff and
/// every editor (an extension to Baseline TIFF, as ExifTool's validation says), with Predictor 2,
/// which makes a photograph's samples small differences. Strips of 64 rows are compressed on the
/// threads that render them; their offsets and lengths are known only once written, so the
/// directory reserves the table and the writer patches it in (`stripTablePositions`).
/// Reference: TIFF Revision 6.0 (Adobe, 1992) §§2, 6, 8, 14 (Predictor); Adobe Photoshop TIFF
/// Technical Notes (2002), "Adobe Deflate" (Compression 8, an RFC 1950 zlib stream per strip);
/// ICC.1:2022 Annex B.4 (tag 34675); CIPA DC-008 (Exif IFD, tag 34665).
public enum TIFFFile {
    /// How the pixels are stored.
    public enum Compression: String, Sendable, CaseIterable {
        /// As they are, in one strip: the fastest export, read by everything.
        case uncompressed = "none"
        /// Adobe Deflate (Compression 8) with Predictor 2, in strips of `deflateStripRows` rows, each
        /// one zlib stream (`deflateStrip`): what darktable's and RawTherapee's compressed TIFFs
        /// use, about two thirds of the size for a photograph. The strip table is written last
        /// (`stripTablePositions`), so the file needs a place it can be patched.
        case deflate
    }

    /// Rows per strip of a deflated TIFF: the streamed render's band (`TIFFRender.bandRows`).
    public static let deflateStripRows = 64

    /// The bytes before the pixels: header, IFD0 (image tags, ICC profile, the shot's tags) and
    /// the Exif IFD; the strips start right after them. Throws when the pixels would pass the
    /// 4 GiB a TIFF's 32-bit offsets reach. For `.deflate`, StripOffsets and StripByteCounts hold
    /// placeholders until the strips are written (`stripTablePositions`).
    public static func header(width: Int, height: Int, bitDepth: Int, iccProfile: [UInt8],
                              shot meta: ShotMetadata, sRGB: Bool, software: String,
                              compression: Compression = .uncompressed) throws -> [UInt8] {
        precondition(bitDepth == 8 || bitDepth == 16)
        let shot = ExifBlock.entries(meta, width: width, height: height, sRGB: sRGB, software: software, container: .tiff)
        let stripBytes = width * height * 3 * bitDepth / 8
        guard stripBytes < Int(UInt32.max) - (1 << 20) else {
            throw TIFFError(message: "\(width)×\(height) at \(bitDepth) bits is more than a TIFF's 4 GiB of offsets; write a PNG")
        }
        let strips = compression == .uncompressed ? 1 : (height + deflateStripRows - 1) / deflateStripRows
        var ifd0: [DNGWriter.TIFFEntry] = [
            .long(256, [UInt32(width)]), .long(257, [UInt32(height)]),
            .short(258, [UInt16(bitDepth), UInt16(bitDepth), UInt16(bitDepth)]),
            .short(259, [compression == .uncompressed ? 1 : 8]), .short(262, [2]),
            .long(DNGWriter.TIFFBuilder.stripOffsetsTag, [UInt32](repeating: 0, count: strips)),
            .short(277, [3]), .long(278, [UInt32(compression == .uncompressed ? height : deflateStripRows)]),
            .long(279, compression == .uncompressed ? [UInt32(stripBytes)] : [UInt32](repeating: 0, count: strips)), .short(284, [1]),
        ] + shot.ifd0
        if compression == .deflate { ifd0.append(.short(317, [2])) }
        if !iccProfile.isEmpty { ifd0.append(.undefined(34675, iccProfile)) }
        if let xmp = XMPRating.packet(rating: meta.rating, labels: meta.labels) { ifd0.append(.byte(700, xmp)) }
        precondition(Set(ifd0.map(\.tag)).count == ifd0.count, "a tag written twice")
        // Empty chunks: StripOffsets receives where the pixels will start, the end of these bytes
        // (each strip's own start is patched in once known, for a deflated file).
        return DNGWriter.TIFFBuilder.build(ifd0: ifd0, exif: shot.exif, gps: shot.gps,
                                           chunks: [[UInt8]](repeating: [], count: strips))
    }

    /// Where in `header` the values of StripOffsets and StripByteCounts lie (each `count` LONGs,
    /// little-endian), for patching a deflated file's strip table once the strips are written.
    public static func stripTablePositions(in header: [UInt8]) -> (offsets: Int, byteCounts: Int) {
        func u16(_ at: Int) -> Int { Int(header[at]) | Int(header[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        let ifd = u32(4)
        var found: [Int: Int] = [:]
        for i in 0..<u16(ifd) {
            let entry = ifd + 2 + 12 * i, tag = u16(entry)
            guard tag == Int(DNGWriter.TIFFBuilder.stripOffsetsTag) || tag == 279 else { continue }
            found[tag] = u32(entry + 4) * 4 <= 4 ? entry + 8 : u32(entry + 8)
        }
        return (found[Int(DNGWriter.TIFFBuilder.stripOffsetsTag)]!, found[279]!)
    }

    /// A deflated strip's bytes (`Compression.deflate`): `rows` rows of `width` RGB pixels of
    /// host-order samples at `samples`, 8-bit ones in 0…255, coded by the PNG segments' fast
    /// Huffman-only coder (`emu_tiff_deflate_strip`).
    public static func deflateStrip(_ samples: UnsafePointer<UInt16>, width: Int, rows: Int, bitDepth: Int) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var length = 0
        var message = [CChar](repeating: 0, count: Int(EMU_PNG_MESSAGE_SIZE))
        let code = emu_tiff_deflate_strip(samples, UInt32(width), UInt32(rows), 3, Int32(bitDepth), &out, &length, &message)
        defer { emu_png_free(out) }
        guard code == Int32(EMU_PNG_OK), let out else {
            throw TIFFError(message: "deflating a TIFF strip failed: " + String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return Array(UnsafeBufferPointer(start: out, count: length))
    }
}

public struct TIFFError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

import EmulsionCore

/// The Exif block an output PNG carries (`eXIf`): what the raw recorded about the shot.
///
/// What: a little-endian TIFF structure (CIPA DC-008 Exif 2.32 §4.5) with IFD0 — Make, Model,
/// Orientation 1 (the pixels are already upright), Software — and an Exif IFD — ExifVersion,
/// ExposureTime, FNumber, ISO, DateTimeOriginal, FocalLength, LensModel, ColorSpace (1 for an sRGB
/// output, 0xFFFF "uncalibrated" for any other: Exif has no code for them, the iCCP profile
/// says what they are) and the pixel dimensions; Artist, Copyright (IFD0) and a GPS IFD
/// (`GPSLocation`) where the raw recorded them. (The rating goes in an XMP packet,
/// `XMPRating.packet`: Exif's Rating tag 0x4746 is Microsoft's, which ExifTool's validation
/// calls non-standard, and cannot say "rejected".) Fields the raw did not record are left out.
/// Why: darktable and RawTherapee keep a photo's capture data in their exports; a library of
/// thousands of renders without it cannot be sorted by date or searched by lens.
/// Written by the same TIFF builder as Emulsion's DNGs (`DNGWriter.TIFFBuilder`).
public enum ExifBlock {
    /// The file the block goes into: Exif asks different tags of each (CIPA DC-008 §4.6.3,
    /// as ExifTool's validation checks them).
    public enum Container: Sendable {
        /// A PNG's eXIf chunk: the shot and the pixel dimensions.
        case png
        /// A JPEG's APP1: also X/YResolution 72 dpi, ResolutionUnit, YCbCrPositioning centred
        /// (IFD0), ComponentsConfiguration Y Cb Cr and FlashpixVersion 1.0 (Exif IFD).
        case jpeg
        /// A TIFF's own directories: X/YResolution and ResolutionUnit (baseline TIFF requires
        /// them), FlashpixVersion, and no PixelX/YDimension (which Exif allows only for
        /// compressed data; the TIFF's ImageWidth/ImageLength say it).
        case tiff
    }

    public static func bytes(_ meta: ShotMetadata, width: Int, height: Int, sRGB: Bool, software: String,
                             container: Container = .png) -> [UInt8] {
        let tags = entries(meta, width: width, height: height, sRGB: sRGB, software: software, container: container)
        return DNGWriter.TIFFBuilder.build(ifd0: tags.ifd0, exif: tags.exif, gps: tags.gps, chunks: [])
    }

    /// The entries of IFD0, of the Exif IFD and of the GPS IFD (a TIFF output puts them in its
    /// own directories).
    static func entries(_ meta: ShotMetadata, width: Int, height: Int, sRGB: Bool, software: String,
                        container: Container) -> (ifd0: [DNGWriter.TIFFEntry], exif: [DNGWriter.TIFFEntry], gps: [DNGWriter.TIFFEntry]) {
        typealias Entry = DNGWriter.TIFFEntry
        var ifd0: [Entry] = [.short(274, [1]), .ascii(305, software), .long(DNGWriter.TIFFBuilder.exifIFDTag, [0])]
        if container != .png { ifd0 += [.rational(282, [72]), .rational(283, [72]), .short(296, [2])] }
        if container == .jpeg { ifd0.append(.short(531, [1])) }
        if !meta.make.isEmpty { ifd0.append(.text(271, meta.make)) }
        if !meta.model.isEmpty { ifd0.append(.text(272, meta.model)) }
        if !meta.artist.isEmpty { ifd0.append(.text(315, meta.artist)) }
        if !meta.copyright.isEmpty { ifd0.append(.text(33432, meta.copyright)) }
        // The capture time as the camera's clock showed it (`CaptureTime`), not read as UTC.
        var exif = DNGWriter.exifEntries(meta, taken: CaptureTime.exif(meta.timestamp))
        exif.append(.short(40961, [sRGB ? 1 : 0xFFFF]))
        if container != .tiff {
            exif.append(.long(40962, [UInt32(clamping: width)]))
            exif.append(.long(40963, [UInt32(clamping: height)]))
        }
        if container == .jpeg { exif.append(.undefined(37121, [1, 2, 3, 0])) }
        if container != .png { exif.append(.undefined(40960, Array("0100".utf8))) }
        return (ifd0, exif, DNGWriter.gpsEntries(meta.location))
    }
}

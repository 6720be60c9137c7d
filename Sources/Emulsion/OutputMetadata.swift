import EmulsionCore
import EmulsionIO

/// What `emulsion process` writes into a PNG beside the pixels and the ICC profile.
///
/// - `eXIf`: the shot as the raw recorded it (`ExifBlock`: camera, exposure, ISO, capture time,
///   lens, artist, GPS location unless `RenderOptions.stripsLocation`), so a library of renders
///   can still be sorted and searched.
/// - `tEXt` Software: "Emulsion".
/// - `iTXt` "Emulsion profile": the look exactly as rendered — every parameter that differs from
///   the built-in defaults after the profile's inheritance and every `--set`, as a profile file
///   (the shipped layout). Saved to a file it renders the same look again
///   (`exiftool -b -EmulsionProfile out.png > look.json`; `emulsion process raw --profile
///   look.json`): a render carries its recipe, which a QA engineer tracing an image back needs.
/// - `tEXt` "Emulsion device": the phone ISP whose precision the render went through, if any.
/// - `iTXt` "XML:com.adobe.xmp": the photographer's rating and colour labels, when the raw or its
///   XMP sidecar has them (`XMPRating.packet`), where darktable, Lightroom and digiKam read them.
/// A JPEG carries the same Exif (APP1), the rating's XMP (APP1) and the recipe as its comment
/// (COM: `exiftool -b -Comment out.jpg > look.json`); not the device. A TIFF carries the Exif and
/// the XMP (tag 700) in its own directories.
/// Golden images and previews carry none of it: they are compared by pixels.
public enum OutputMetadata {
    public static let software = "Emulsion"

    /// The shot as an output of `options` records it: without its location when they strip it.
    public static func shot(_ meta: ShotMetadata, options: RenderOptions) -> ShotMetadata {
        var shot = meta
        if options.stripsLocation { shot.location = nil }
        return shot
    }

    public static func chunks(_ meta: ShotMetadata, options: RenderOptions, width: Int, height: Int) -> [PNGChunk] {
        var chunks = [
            PNGChunk(type: "eXIf", data: exif(meta, options: options, width: width, height: height)),
            PNGChunk.text("Software", software),
        ]
        chunks.append(.internationalText("Emulsion profile", recipe(options)))
        if let xmp = XMPRating.packet(rating: meta.rating, labels: meta.labels) {
            chunks.append(.internationalText("XML:com.adobe.xmp", String(decoding: xmp, as: UTF8.self)))
        }
        if let device = options.device { chunks.append(.text("Emulsion device", device.name)) }
        return chunks
    }

    /// The Exif block (TIFF structure) of an output `width` × `height` in `options`' space.
    public static func exif(_ meta: ShotMetadata, options: RenderOptions, width: Int, height: Int,
                            container: ExifBlock.Container = .png) -> [UInt8] {
        ExifBlock.bytes(shot(meta, options: options), width: width, height: height, sRGB: options.space == .sRGB,
                        software: software, container: container)
    }

    /// The look as rendered, as a profile file's text.
    public static func recipe(_ options: RenderOptions) -> String {
        var look = options.profile
        // Resolved values stand alone: the parent they came from is not needed to read them.
        look.parent = nil
        return ProfileDocument.format(look.document(relativeTo: .defaults))
    }
}

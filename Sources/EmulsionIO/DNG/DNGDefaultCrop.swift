import EmulsionCore

/// The picture area a DNG marks inside its image: DefaultCropOrigin (tag 50719) and
/// DefaultCropSize (50720), and within it DefaultUserCrop (51125), as rectangles of the visible
/// area LibRaw hands over.
///
/// What: DNG 1.6 §4 places the final image area "in raw image coordinates (i.e., before the
/// DefaultScale has been applied), relative to the top-left corner of the ActiveArea rectangle";
/// both tags are SHORT, LONG or RATIONAL pairs (horizontal first). The origin is moved from the
/// ActiveArea's corner to LibRaw's visible area's (its margins, the same corner unless LibRaw
/// crops further), both corners rounded to whole pixels, and the rectangle clipped to the visible
/// area. Nil when the file has neither tag, when the rectangle covers the whole visible area, or
/// when it leaves nothing (a malformed file: the whole area is rendered then).
/// Why: cameras record photosites beyond the picture and mark the picture with these tags — the
/// Pixel 7's DNG keeps an 8-pixel border for its own demosaic and lens warp, Blackmagic's cinema
/// DNGs 16-pixel margins around their 1920×1080 and 4096×2160 frames. darktable, Lightroom and
/// Adobe's DNG SDK render only the marked area; LibRaw 0.20 does not apply it (nor fill its
/// `dng_levels.default_crop`), so Emulsion reads the tags itself.
/// DefaultUserCrop (DNG 1.6) is top, left, bottom, right as fractions of the default crop, with
/// 0 ≤ top < bottom ≤ 1 and 0 ≤ left < right ≤ 1 (else ignored): what a phone set to 16:9 or 1:1,
/// or an editor's saved crop, records so that viewers frame the picture as chosen.
enum DNGDefaultCrop {
    /// The marked areas of the raw directory `raw`, in pixels of a visible area of `width` ×
    /// `height` whose top-left photosite is (`left`, `top`) of the sensor.
    static func rectangles(_ raw: TIFFDirectory, left: Int, top: Int, width: Int, height: Int)
        -> (defaultCrop: ImageRectangle?, userCrop: ImageRectangle?) {
        // The default crop in visible-area pixels, unrounded: x0, y0, width, height.
        var base = (0.0, 0.0, Double(width), Double(height))
        var defaultCrop: ImageRectangle?
        let origin = raw.numbers(50719) ?? [0, 0]
        if origin.count == 2, let size = raw.numbers(50720), size.count == 2 {
            // ActiveArea is top, left, bottom, right.
            let area = raw.integers(50829).flatMap { $0.count == 4 ? $0 : nil } ?? [0, 0, 0, 0]
            let marked = (Double(area[1] - left) + origin[0], Double(area[0] - top) + origin[1], size[0], size[1])
            if let r = rectangle(marked.0, marked.1, marked.0 + marked.2, marked.1 + marked.3, width: width, height: height) {
                defaultCrop = r
                base = marked
            }
        }
        var userCrop: ImageRectangle?
        if let f = raw.numbers(51125), f.count == 4, f.allSatisfy(\.isFinite), 0 <= f[0], f[0] < f[2], f[2] <= 1, 0 <= f[1], f[1] < f[3], f[3] <= 1,
           f != [0, 0, 1, 1] {
            userCrop = rectangle(base.0 + f[1] * base.2, base.1 + f[0] * base.3, base.0 + f[3] * base.2, base.1 + f[2] * base.3,
                                 width: width, height: height)
        }
        return (defaultCrop, userCrop)
    }

    /// Corners rounded to whole pixels and clipped to the visible area; nil when that leaves
    /// nothing or all of it.
    static func rectangle(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, width: Int, height: Int) -> ImageRectangle? {
        guard [x0, y0, x1, y1].allSatisfy({ $0.isFinite && abs($0) < 1e9 }) else { return nil }
        let left = max(0, Int(x0.rounded())), top = max(0, Int(y0.rounded()))
        let right = min(width, Int(x1.rounded())), bottom = min(height, Int(y1.rounded()))
        guard right > left, bottom > top, (left, top, right, bottom) != (0, 0, width, height) else { return nil }
        return ImageRectangle(x: left, y: top, width: right - left, height: bottom - top)
    }
}

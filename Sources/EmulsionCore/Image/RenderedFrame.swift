/// The frame a raw renders to before orientation: its stored size stretched to square pixels
/// (`PixelAspectSource`), and the part of it the file marks as the picture (DNG DefaultCrop,
/// DefaultUserCrop).
///
/// Why one place: the renderer crops the source to this frame, `info` reports its size and a
/// spot white balance given in output pixels maps back through it; each computing it alone is how
/// they would come to disagree by a pixel. Stretching follows `PixelAspectSource` (rows when
/// pixels are taller than wide, aspect < 1; columns when wider), the crop scaled along that axis.
extension RawImage {
    /// Whether the pixel aspect differs enough from 1 to be resampled.
    public var stretchesPixels: Bool {
        let a = metadata.pixelAspect
        return a.isFinite && a > 0 && abs(a - 1) > 1e-3
    }

    /// Width and height after stretching to square pixels.
    public var stretchedSize: (width: Int, height: Int) {
        guard stretchesPixels else { return (width, height) }
        let a = metadata.pixelAspect
        return a < 1 ? (width, Int((Double(height) / a).rounded())) : (Int((Double(width) * a).rounded()), height)
    }

    /// The picture area in the stretched frame, scaled to square pixels: the DNG user crop when
    /// `honoursUserCrop` and the file records one, else its default crop when `honoursDefaultCrop`
    /// and it marks one, else the whole frame.
    public func pictureArea(honoursDefaultCrop: Bool, honoursUserCrop: Bool) -> ImageRectangle {
        let (w, h) = stretchedSize
        guard let crop = (honoursUserCrop ? metadata.userCrop : nil) ?? (honoursDefaultCrop ? metadata.defaultCrop : nil) else {
            return ImageRectangle(x: 0, y: 0, width: w, height: h)
        }
        let sx = Double(w) / Double(width), sy = Double(h) / Double(height)
        let x0 = min(w - 1, Int((Double(crop.x) * sx).rounded())), y0 = min(h - 1, Int((Double(crop.y) * sy).rounded()))
        let x1 = max(x0 + 1, min(w, Int((Double(crop.x + crop.width) * sx).rounded())))
        let y1 = max(y0 + 1, min(h, Int((Double(crop.y + crop.height) * sy).rounded())))
        return ImageRectangle(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }
}

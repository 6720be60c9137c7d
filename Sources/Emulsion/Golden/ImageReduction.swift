import EmulsionIO

/// Shrinks interleaved RGB images by whole-pixel box averaging, and makes 8-bit previews.
///
/// What: `reduced(_:maxSide:)` picks the smallest whole factor f with max(w, h) / f ≤ maxSide,
/// drops the last w mod f columns and h mod f rows, and replaces each f×f block by the rounded mean
/// of its encoded samples (integer arithmetic, so the result is the same on every machine).
/// `preview` reduces and then makes 8-bit copies (`PNGImage.eightBit`: round(v·255/65535)).
/// Why: golden cases keep approved images small (a case's `maxSize`), and the HTML report embeds
/// previews. Averaging encoded values rather than linear light is a deliberate simplification: a
/// golden test needs a deterministic function of the render, and any change to the render's pixels
/// still changes the blocks' means; it does mean a reduced image hides differences finer than a
/// block (docs/GOLDEN.md says so). The ICC profile is kept, so the pixels mean the same colours.
/// Colour space: unchanged (encoded RGB of whatever space the image is in).
public enum ImageReduction {
    /// The whole reduction factor that brings the longer side to at most `maxSide` (1 = unchanged).
    public static func factor(width: Int, height: Int, maxSide: Int) -> Int {
        precondition(maxSide >= 1)
        let longer = max(width, height)
        return max(1, (longer + maxSide - 1) / maxSide)
    }

    /// `image` box-averaged by `factor(…)`; returned unchanged when already small enough.
    public static func reduced(_ image: PNGImage, maxSide: Int) -> PNGImage {
        let f = factor(width: image.width, height: image.height, maxSide: maxSide)
        guard f > 1 else { return image }
        return reduced(image, by: f)
    }

    /// `image` box-averaged over f×f blocks (3 channels).
    public static func reduced(_ image: PNGImage, by f: Int) -> PNGImage {
        precondition(image.channels == 3 && f >= 1)
        let w = max(1, image.width / f), h = max(1, image.height / f)
        let bw = min(f, image.width), bh = min(f, image.height)
        let n = UInt64(bw * bh)
        var out = [UInt16](repeating: 0, count: 3 * w * h)
        image.samples.withUnsafeBufferPointer { s in
            for y in 0..<h {
                for x in 0..<w {
                    var sum: (UInt64, UInt64, UInt64) = (0, 0, 0)
                    for yy in (y * bh)..<(y * bh + bh) {
                        var i = 3 * (yy * image.width + x * bw)
                        for _ in 0..<bw {
                            sum.0 += UInt64(s[i]); sum.1 += UInt64(s[i + 1]); sum.2 += UInt64(s[i + 2])
                            i += 3
                        }
                    }
                    let o = 3 * (y * w + x)
                    out[o] = UInt16((sum.0 + n / 2) / n)
                    out[o + 1] = UInt16((sum.1 + n / 2) / n)
                    out[o + 2] = UInt16((sum.2 + n / 2) / n)
                }
            }
        }
        return PNGImage(width: w, height: h, bitDepth: image.bitDepth, channels: 3, samples: out, iccProfile: image.iccProfile)
    }

    /// A preview for a report: reduced to `maxSide`, 8-bit. An RGB ICC profile is kept; a grey one
    /// (a monochrome TIFF's or JPEG's, whose pixels were expanded to RGB) is dropped, since a
    /// browser refuses an RGB image tagged with a grey profile — the preview then shows as sRGB,
    /// near enough for a grey tone curve.
    public static func preview(_ image: PNGImage, maxSide: Int) -> PNGImage {
        var preview = reduced(image, maxSide: maxSide).eightBit
        if let icc = preview.iccProfile, !(icc.count >= 20 && icc[16..<20].elementsEqual("RGB ".utf8)) {
            preview.iccProfile = nil
        }
        return preview
    }

    /// `preview` encoded as PNG, or nil when it cannot be (a report then says the image is missing).
    public static func previewPNG(_ image: PNGImage, maxSide: Int) -> [UInt8]? {
        try? PNGFile.encode(preview(image, maxSide: maxSide))
    }
}

/// Highlight blend: where a channel went past white, the pixel keeps the brightness and the hue
/// of its unclipped values and takes the (smaller) colourfulness of its clipped values, so
/// bright areas keep their light and fade to white without the casts that clipping one channel
/// gives (cyan where blue clipped first, magenta where green did).
///
/// What: with `p` the demosaiced, white-balanced camera RGB (each channel up to its own clip
/// level, its multiplier over the smallest, ≥ 1) and `c = min(p, 1)`, both split into a mean
/// `Y = (r + g + b) / 3` and a chroma vector `p − Y`:
/// `out = Y_p + (p − Y_p) · |c − Y_c| / |p − Y_p|` wherever some channel of `p` exceeds 1;
/// other pixels are untouched. A fully clipped pixel (`c` = 1, 1, 1) becomes a neutral.
/// Why: `clip` cuts each channel at 1, which changes the ratios between channels and so the hue
/// (a bright blue whose blue channel clips turns cyan). Keeping the direction of the unclipped
/// chroma keeps the hue; shrinking it to the clipped chroma's length desaturates towards white
/// as the clipping gets worse.
/// Reference: dcraw's `blend_highlights` (`-H 2`, D. Coffin), which does the same in a
/// luminance/opponent basis; this is written from that description in the mean/chroma basis.
/// Colour space: white-balanced camera RGB in and out (runs before the camera matrix).
public struct HighlightBlendKernel: PointKernel {
    public init() {}

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ p: RGB<L>, at location: PixelLocation) -> RGB<L> {
        let third = L(repeating: 1.0 / 3)
        let r = p.r.atMost(1), g = p.g.atMost(1), b = p.b.atMost(1)
        let meanP = (p.r + p.g + p.b) * third, meanC = (r + g + b) * third
        let pr = p.r - meanP, pg = p.g - meanP, pb = p.b - meanP
        let cr = r - meanC, cg = g - meanC, cb = b - meanC
        let lengthP = (pr * pr + pg * pg + pb * pb).squareRoot()
        let lengthC = (cr * cr + cg * cg + cb * cb).squareRoot()
        let ratio = lengthC / lengthP.atLeast(1e-12)
        // How far past white the pixel is: > 0 exactly where some channel exceeds 1.
        let over = (p.r - L(repeating: 1)).atLeast(0) + (p.g - L(repeating: 1)).atLeast(0) + (p.b - L(repeating: 1)).atLeast(0)
        return RGB(over.choosing(above: 0, then: meanP + pr * ratio, otherwise: p.r),
                   over.choosing(above: 0, then: meanP + pg * ratio, otherwise: p.g),
                   over.choosing(above: 0, then: meanP + pb * ratio, otherwise: p.b))
    }
}

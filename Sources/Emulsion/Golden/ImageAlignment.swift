import EmulsionIO

/// How `compare` lines up two images of different sizes: renders of one raw by different tools
/// keep different margins (RawTherapee crops 4 pixels a side, dcraw_emu keeps a DNG's border that
/// darktable and Emulsion leave out, darktable's non-square-pixel stretch rounds a pixel apart).
///
/// What: the common area is the smaller width by the smaller height; along each axis the larger
/// image is read from an offset. `centre` takes half the difference (rounded down) — exact for
/// tools that crop evenly. `search` tries every offset within the differences (each at most
/// `searchLimit`) and keeps the one where the two images' luminance (R+G+B codes) agree best by
/// zero-mean normalised cross-correlation over a grid of up to `samplePoints` pixels: correlation
/// rather than a difference, since two tools' renders differ in tone as well as in position. Ties
/// go to the offset nearest the centre.
/// Why here rather than a resize: a comparison should judge the same scene points; scaling one
/// image would blur what is being compared.
public enum ImageAlignment: String, Sendable, CaseIterable {
    case none, centre, search

    /// The largest size difference per axis `search` tries offsets across.
    public static let searchLimit = 64
    /// Sample points per candidate offset (fewer on small images: every pixel of the common area).
    public static let samplePoints = 16_384

    /// Where each image's common area starts, or nil when this alignment does not apply (`none`,
    /// or `search` beyond `searchLimit`). Sizes that already match give zero offsets.
    public func offsets(expected a: PNGImage, actual b: PNGImage) -> (expected: (x: Int, y: Int), actual: (x: Int, y: Int))? {
        let dx = a.width - b.width, dy = a.height - b.height
        if dx == 0 && dy == 0 { return ((0, 0), (0, 0)) }
        switch self {
        case .none:
            return nil
        case .centre:
            return split(dx: dx, dy: dy, shiftX: abs(dx) / 2, shiftY: abs(dy) / 2)
        case .search:
            guard abs(dx) <= Self.searchLimit, abs(dy) <= Self.searchLimit else { return nil }
            var best: (score: Double, distance: Int, x: Int, y: Int)?
            let grid = Self.grid(width: min(a.width, b.width), height: min(a.height, b.height))
            for sy in 0...abs(dy) {
                for sx in 0...abs(dx) {
                    let o = split(dx: dx, dy: dy, shiftX: sx, shiftY: sy)
                    let score = Self.correlation(a, o.expected, b, o.actual, grid)
                    let distance = abs(2 * sx - abs(dx)) + abs(2 * sy - abs(dy))
                    if best == nil || score > best!.score + 1e-12 || (abs(score - best!.score) <= 1e-12 && distance < best!.distance) {
                        best = (score, distance, sx, sy)
                    }
                }
            }
            return best.map { split(dx: dx, dy: dy, shiftX: $0.x, shiftY: $0.y) }
        }
    }

    /// Offsets for a shift of `shiftX`, `shiftY` into whichever image is larger along each axis.
    func split(dx: Int, dy: Int, shiftX: Int, shiftY: Int) -> (expected: (x: Int, y: Int), actual: (x: Int, y: Int)) {
        ((dx > 0 ? shiftX : 0, dy > 0 ? shiftY : 0), (dx < 0 ? shiftX : 0, dy < 0 ? shiftY : 0))
    }

    /// Evenly spread sample points of a `width` × `height` area, at most `samplePoints`.
    static func grid(width: Int, height: Int) -> [(x: Int, y: Int)] {
        let side = Int(Double(samplePoints).squareRoot())
        let xs = Set((0..<min(width, side)).map { $0 * width / min(width, side) }).sorted()
        let ys = Set((0..<min(height, side)).map { $0 * height / min(height, side) }).sorted()
        return ys.flatMap { y in xs.map { (x: $0, y: y) } }
    }

    /// Zero-mean normalised cross-correlation of R+G+B between the two images at the grid points,
    /// each read from its offset; 0 when either is flat there.
    static func correlation(_ a: PNGImage, _ oa: (x: Int, y: Int), _ b: PNGImage, _ ob: (x: Int, y: Int),
                            _ grid: [(x: Int, y: Int)]) -> Double {
        // 8-bit codes scaled to 16 so two depths correlate alike (correlation ignores scale anyway).
        let sa = a.bitDepth == 8 ? 257.0 : 1, sb = b.bitDepth == 8 ? 257.0 : 1
        var sumA = 0.0, sumB = 0.0, sumAA = 0.0, sumBB = 0.0, sumAB = 0.0
        for p in grid {
            let i = 3 * ((p.y + oa.y) * a.width + p.x + oa.x), j = 3 * ((p.y + ob.y) * b.width + p.x + ob.x)
            let va = sa * Double(Int(a.samples[i]) + Int(a.samples[i + 1]) + Int(a.samples[i + 2]))
            let vb = sb * Double(Int(b.samples[j]) + Int(b.samples[j + 1]) + Int(b.samples[j + 2]))
            sumA += va; sumB += vb; sumAA += va * va; sumBB += vb * vb; sumAB += va * vb
        }
        let n = Double(grid.count)
        let covariance = sumAB - sumA * sumB / n, varianceA = sumAA - sumA * sumA / n, varianceB = sumBB - sumB * sumB / n
        guard varianceA > 0, varianceB > 0 else { return 0 }
        return covariance / (varianceA * varianceB).squareRoot()
    }

    /// `image`'s `width` × `height` window from (`x`, `y`) (3 channels), its depth and profile kept.
    static func window(_ image: PNGImage, x: Int, y: Int, width: Int, height: Int) -> PNGImage {
        var samples: [UInt16] = []
        samples.reserveCapacity(3 * width * height)
        for row in y..<(y + height) {
            let start = 3 * (row * image.width + x)
            samples += image.samples[start..<(start + 3 * width)]
        }
        return PNGImage(width: width, height: height, bitDepth: image.bitDepth, channels: 3, samples: samples, iccProfile: image.iccProfile)
    }
}

/// Area reduction: a rendered image made smaller, each output pixel the mean of the source area
/// it covers, averaged in linear light.
///
/// What: output pixel (i, j) covers source x ∈ [i·sx, (i+1)·sx), y ∈ [j·sy, (j+1)·sy) with
/// sx = sourceWidth / width, sy = sourceHeight / height (≥ 1: never enlarges); each source pixel
/// is weighted by the part of it inside that rectangle (a box filter integrated exactly:
/// OpenCV's INTER_AREA, ImageMagick's `-scale`). Separable: a source row's weight times a source
/// column's. Encoded samples are decoded to linear light by `decode` (a table per 16-bit code),
/// averaged, and encoded again by the output space's curve.
/// Why: `emulsion process --max-size` for web sizes and contact prints, as darktable-cli's
/// `--width/--height`. In linear light because averaging encoded values darkens fine detail
/// (a black-and-white line pair would come out as code 0.5, linear 0.21, instead of linear 0.5),
/// and a box because it cannot ring (a Lanczos overshoot clips at the gamut's edge). The whole
/// look — grain, local contrast, vignette — is rendered at full size first, so the small image
/// is the full one made smaller, not a different render.
/// Reference: the area-average resampling of OpenCV `cv::resize(…, INTER_AREA)` for
/// reductions; linear-light averaging per IEC 61966-2-1 (the sRGB decoding) or the output's TRC.
/// Colour space: encoded output RGB (16-bit codes) in; the same space, 8- or 16-bit, out.
public struct AreaReduction: Sendable {
    public let sourceWidth: Int
    public let sourceHeight: Int
    public let width: Int
    public let height: Int
    let columns: Spans
    let rows: Spans

    /// Which source pixels one output pixel reads along an axis, and their weights (summing to 1).
    struct Spans: Sendable {
        var first: [Int] = []
        var offsets: [Int] = []
        var weights: [Float] = []

        init(source n: Int, output m: Int) {
            let step = Double(n) / Double(m)
            for i in 0..<m {
                let a = Double(i) * step, b = i == m - 1 ? Double(n) : Double(i + 1) * step
                let lo = Int(a.rounded(.down)), hi = min(n, Int(b.rounded(.up)))
                let parts = (lo..<hi).map { k in min(b, Double(k + 1)) - max(a, Double(k)) }
                let total = parts.reduce(0, +)
                first.append(lo)
                offsets.append(weights.count)
                weights += parts.map { Float($0 / total) }
            }
            offsets.append(weights.count)
        }

        func range(_ i: Int) -> Range<Int> { offsets[i]..<offsets[i + 1] }
    }

    /// `width` × `height` ≤ the source's, each at least 1.
    public init(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int) {
        precondition(width >= 1 && height >= 1 && width <= sourceWidth && height <= sourceHeight)
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        self.width = width
        self.height = height
        columns = Spans(source: sourceWidth, output: width)
        rows = Spans(source: sourceHeight, output: height)
    }

    /// The size that fits `sourceWidth` × `sourceHeight` inside `maxWidth` × `maxHeight` keeping
    /// its shape (never larger than the source; each side rounded, at least 1).
    public static func fittedSize(sourceWidth: Int, sourceHeight: Int, maxWidth: Int, maxHeight: Int) -> (width: Int, height: Int) {
        let scale = min(1, Double(maxWidth) / Double(sourceWidth), Double(maxHeight) / Double(sourceHeight))
        guard scale < 1 else { return (sourceWidth, sourceHeight) }
        return (min(maxWidth, max(1, Int((Double(sourceWidth) * scale).rounded()))),
                min(maxHeight, max(1, Int((Double(sourceHeight) * scale).rounded()))))
    }

    /// The source rows output rows `outputRows` read.
    public func sourceRows(of outputRows: Range<Int>) -> Range<Int> {
        guard !outputRows.isEmpty else { return 0..<0 }
        let last = outputRows.upperBound - 1
        return rows.first[outputRows.lowerBound]..<(rows.first[last] + rows.range(last).count)
    }

    /// The most source rows any `count` consecutive output rows read.
    public func maximumSourceRows(forOutputRows count: Int) -> Int {
        guard count >= 1 else { return 0 }
        return (0...(height - min(count, height))).map { sourceRows(of: $0..<($0 + min(count, height))).count }.max() ?? 0
    }

    /// Output row `row` from `band`, interleaved 16-bit RGB source rows starting at source row
    /// `bandFirstRow` (it must hold `sourceRows(of: row..<row + 1)`), into `output` (3 · width
    /// samples). `decode` has 65 536 entries (code → linear); `accumulator` holds 3 · sourceWidth
    /// floats of scratch; `encode` is the output curve (linear → encoded); `scale` is 2^bits − 1.
    public func reduceRow(_ row: Int, band: UnsafePointer<UInt16>, bandFirstRow: Int, decode: UnsafePointer<Float>,
                          accumulator: UnsafeMutablePointer<Float>, encode: ExponentCurveTable, scale: Float,
                          into output: UnsafeMutablePointer<UInt16>) {
        let samples = 3 * sourceWidth
        accumulator.update(repeating: 0, count: samples)
        let weights = rows.range(row)
        for (k, w) in zip(rows.first[row]..., rows.weights[weights]) {
            let line = band + (k - bandFirstRow) * samples
            for x in 0..<samples { accumulator[x] += w * decode[Int(line[x])] }
        }
        let pairs = UnsafePointer(encode.pairs.pointer)
        for i in 0..<width {
            var sum = SIMD3<Float>(repeating: 0)
            for (k, w) in zip(columns.first[i]..., columns.weights[columns.range(i)]) {
                let p = accumulator + 3 * k
                sum += w * SIMD3(p[0], p[1], p[2])
            }
            for c in 0..<3 {
                let encoded = encode.lookup(sum[c], in: pairs)
                output[3 * i + c] = UInt16((min(max(encoded, 0), 1) * scale).rounded(.toNearestOrEven))
            }
        }
    }
}

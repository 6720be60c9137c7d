/// The lens warp (`LensWarp`, DNG WarpRectilinear) as a source: each strip of corrected rows is
/// resampled from the rows of the demosaiced frame that its pixels map to.
///
/// What: for every destination pixel the source position of each plane (`LensWarp.Mapping`,
/// once for all three when they share coefficients), clamped to the frame, read with the DNG
/// SDK's bicubic (Keys, A = −0.75) at its 1/32-pixel phase — 4 × 4 taps, edge taps repeated.
/// Results below 0 (the kernel's overshoot beside a dark edge) are set to 0, as the SDK pins
/// them; above, the frame's own range is kept (channels may rise past 1 up to their clip level
/// for the highlight stages, which the SDK's [0, 1] frame does not have).
/// Iteration: the rows each destination row reaches are found once per render (every 8th column
/// and the last, one row of margin), so a strip asks its inner source for exactly the rows it
/// needs and a worker's scratch is sized for the worst strip. Both engines run this same code:
/// the resampling is gathers, which SSE2 cannot vectorise, so the engines agree bitwise here.
/// Reference: DNG specification 1.6 chapter 7 (WarpRectilinear applies to the stage-3 image,
/// after demosaic); DNG SDK dng_filter_warp::ProcessArea and dng_resample_bicubic.
/// Colour space: any linear RGB (the inner source's, untouched).
public struct LensWarpSource: StripSource {
    public let inner: any StripSource
    public let mapping: LensWarp.Mapping
    public var width: Int { inner.width }
    public var height: Int { inner.height }
    /// Inner rows `firstSourceRow[y] ... lastSourceRow[y]` hold every tap destination row y reads.
    let firstSourceRow: [Int32]
    let lastSourceRow: [Int32]

    /// Fractional positions are taken in 32nds, as the SDK's weight tables are.
    static let phases = 32
    /// Weights of taps −1, 0, +1, +2 at phase k / 32, normalised to sum 1.
    public static let weights: [SIMD4<Float>] = (0..<phases).map { k in
        let f = Double(k) / Double(phases)
        let w = SIMD4<Double>(keys(1 + f), keys(f), keys(1 - f), keys(2 - f))
        return SIMD4<Float>(w / w.sum())
    }

    /// Keys' cubic convolution kernel with A = −0.75 (dng_resample_bicubic).
    static func keys(_ t: Double) -> Double {
        let a = -0.75, x = abs(t)
        if x >= 2 { return 0 }
        if x >= 1 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        return ((a + 2) * x - (a + 3)) * x * x + 1
    }

    public init(inner: any StripSource, mapping: LensWarp.Mapping) {
        self.inner = inner
        self.mapping = mapping
        let (w, h) = (inner.width, inner.height)
        var first = [Int32](repeating: 0, count: h), last = [Int32](repeating: 0, count: h)
        var columns = Array(stride(from: 0, to: w, by: 8))
        if columns.last != w - 1 { columns.append(w - 1) }
        let planes = mapping.sharesPosition ? 1 : 3
        for y in 0..<h {
            var low = Double.infinity, high = -Double.infinity
            for x in columns {
                for plane in 0..<planes {
                    let s = mapping.source(x: Double(x), y: Double(y), plane: plane).y
                    low = min(low, s); high = max(high, s)
                }
            }
            (low, high) = (Self.inFrame(SIMD2(0, low), limit: SIMD2(0, Double(h - 1))).y,
                           Self.inFrame(SIMD2(0, high), limit: SIMD2(0, Double(h - 1))).y)
            // Taps reach one row above the floor and two below; one more each side covers what
            // the skipped columns might reach.
            let top = max(Int(low.rounded(.down)) - 2, 0), bottom = min(Int(high.rounded(.down)) + 3, h - 1)
            // Ordered even when no position was a number (low +∞, high −∞); taps stay inside either way.
            first[y] = Int32(min(top, bottom))
            last[y] = Int32(max(top, bottom))
        }
        firstSourceRow = first
        lastSourceRow = last
    }

    /// A position clamped to the frame, as the SDK limits it; one that is not a number (a hostile
    /// file's coefficients overflowing) reads the corner rather than trapping.
    @inline(__always)
    static func inFrame(_ position: SIMD2<Double>, limit: SIMD2<Double>) -> SIMD2<Double> {
        var p = position.replacing(with: 0, where: position .!= position)
        // Snapped to 2⁻²⁰ pixel: a pixel the warp leaves in place (x − c)/R·R + c = x − 1e-15
        // is read at phase 0, not from its neighbour at phase 31/32.
        p = (p * 0x1p20).rounded(.toNearestOrEven) * 0x1p-20
        return p.clamped(lowerBound: .zero, upperBound: limit)
    }

    /// Inner rows destination rows `rows` read.
    func sourceRows(_ rows: Range<Int>) -> ClosedRange<Int> {
        var low = Int32.max, high = Int32.min
        for y in rows {
            low = min(low, firstSourceRow[y]); high = max(high, lastSourceRow[y])
        }
        return Int(low)...Int(high)
    }

    public func makeScratch(stripRows: Int) -> SourceScratch {
        let rows = min(stripRows, height)
        var most = 1
        for start in 0...(height - rows) { most = max(most, sourceRows(start..<(start + rows)).count) }
        return SourceScratch(capacity: 0, inner: inner.makeScratch(stripRows: most),
                             innerStrip: StripStorage(width: inner.width, rows: most))
    }

    public func fill(_ strip: Strip, scratch: SourceScratch, engine: Engine) {
        let rows = sourceRows(strip.firstRow..<(strip.firstRow + strip.rows))
        let source = scratch.innerStrip!.strip(firstRow: rows.lowerBound, rows: rows.count)
        inner.fill(source, scratch: scratch.inner!, engine: engine)
        let sourcePlanes = [source.r, source.g, source.b], outPlanes = [strip.r, strip.g, strip.b]
        let window = Window(width: width, firstRow: rows.lowerBound, lastRow: rows.upperBound,
                            limit: SIMD2(Double(width - 1), Double(height - 1)))
        for row in 0..<strip.rows {
            let y = Double(strip.firstRow + row)
            let out = row * width
            if mapping.sharesPosition {
                for x in 0..<width {
                    let taps = window.taps(mapping.source(x: Double(x), y: y, plane: 0))
                    for c in 0..<3 { outPlanes[c][out + x] = window.sample(sourcePlanes[c], taps) }
                }
            } else {
                for c in 0..<3 {
                    let plane = sourcePlanes[c], o = outPlanes[c] + out
                    for x in 0..<width { o[x] = window.sample(plane, window.taps(mapping.source(x: Double(x), y: y, plane: c))) }
                }
            }
        }
    }

    /// The fetched inner rows and how a position becomes taps on them.
    struct Window {
        let width: Int
        let firstRow: Int, lastRow: Int
        let limit: SIMD2<Double>

        struct Taps {
            /// Column of tap −1, and whether all four columns lie inside the frame.
            var column: Int
            var inside: Bool
            /// Offsets into the fetched strip of the four tap rows.
            var rows: SIMD4<Int32>
            var wx: SIMD4<Float>, wy: SIMD4<Float>
        }

        @inline(__always)
        func taps(_ position: SIMD2<Double>) -> Taps {
            let p = LensWarpSource.inFrame(position, limit: limit)
            let whole = p.rounded(.down)
            let phase = SIMD2<Int>((p - whole) * Double(LensWarpSource.phases))
            let x = Int(whole.x), y = Int(whole.y)
            var rows = SIMD4<Int32>.zero
            for j in 0..<4 { rows[j] = Int32((min(max(y - 1 + j, firstRow), lastRow) - firstRow) * width) }
            return Taps(column: x - 1, inside: x >= 1 && x + 2 < width, rows: rows,
                        wx: LensWarpSource.weights[min(phase.x, LensWarpSource.phases - 1)],
                        wy: LensWarpSource.weights[min(phase.y, LensWarpSource.phases - 1)])
        }

        @inline(__always)
        func sample(_ plane: UnsafeMutablePointer<Float>, _ t: Taps) -> Float {
            var across = SIMD4<Float>.zero
            if t.inside {
                for j in 0..<4 {
                    let row = UnsafeRawPointer(plane + Int(t.rows[j]) + t.column)
                    across += t.wy[j] * row.loadUnaligned(as: SIMD4<Float>.self)
                }
            } else {
                for j in 0..<4 {
                    let row = plane + Int(t.rows[j])
                    for i in 0..<4 { across[i] += t.wy[j] * row[min(max(t.column + i, 0), width - 1)] }
                }
            }
            return max((across * t.wx).sum(), 0)
        }
    }
}

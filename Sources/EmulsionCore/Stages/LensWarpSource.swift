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

    /// `weights`, each phase's four weights and each of them repeated across a vector (entry
    /// 4·k + j is weight j of phase k in every lane): the vertical pass multiplies whole rows of
    /// four taps by one weight without a shuffle per pixel.
    static let broadcastWeights: [SIMD4<Float>] = weights.flatMap { w in (0..<4).map { SIMD4(repeating: w[$0]) } }

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
            for plane in 0..<planes {
                let geometry = mapping.row(Double(y), plane: plane)
                for x in columns {
                    let s = geometry.source(Double(x)).y
                    low = min(low, s); high = max(high, s)
                }
            }
            (low, high) = (Self.inFrame(low, limit: Double(h - 1)), Self.inFrame(high, limit: Double(h - 1)))
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

    /// A coordinate clamped to the frame, as the SDK limits it (one that is not a number, a
    /// hostile file's coefficients overflowing, reads the first pixel rather than trapping), then
    /// snapped to 2⁻²⁰ pixel — adding and taking away 2³² leaves 20 fractional bits — so a pixel
    /// the warp leaves in place, (x − c)/R·R + c = x − 1e-15, is read at phase 0, not from its
    /// neighbour at phase 31/32.
    @inline(__always)
    static func inFrame(_ v: Double, limit: Double) -> Double {
        let clamped = v >= 0 ? (v < limit ? v : limit) : 0
        return (clamped + 0x1p32) - 0x1p32
    }

    /// ⌊v⌋ for 0 ≤ v < 2³¹ on the 2⁻²⁰ grid `inFrame` leaves (or a coarser one). `Int(v)` checks
    /// its range on every call, a fifth of the resampler's time; here half a pixel less half a grid
    /// step is taken away (exactly, on that grid) and 1.5·2⁵² added, which rounds to the nearest
    /// integer — never a tie — and leaves it in the low bits. (1.5·2⁵², not 2⁵²: the sum must stay
    /// in [2⁵², 2⁵³), where doubles are the integers, for v − 0.5 down to −0.5.)
    @inline(__always)
    static func floor(_ v: Double) -> Int {
        Int(truncatingIfNeeded: (v - 0.5 + 0x1p-21 + 0x1.8p52).bitPattern) - 0x4338_0000_0000_0000
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
        // The buffer holds one row's read positions (`Window.locate`): three Int32 per column.
        return SourceScratch(capacity: 3 * width, inner: inner.makeScratch(stripRows: most),
                             innerStrip: StripStorage(width: inner.width, rows: most))
    }

    public func fill(_ strip: Strip, scratch: SourceScratch, engine: Engine) {
        let rows = sourceRows(strip.firstRow..<(strip.firstRow + strip.rows))
        let source = scratch.innerStrip!.strip(firstRow: rows.lowerBound, rows: rows.count)
        inner.fill(source, scratch: scratch.inner!, engine: engine)
        let window = Window(width: width, height: height, firstRow: rows.lowerBound, lastRow: rows.upperBound)
        let located = Window.Located(UnsafeMutableRawPointer(scratch.buffer).bindMemory(to: Int32.self, capacity: 3 * width), width: width)
        Self.weights.withUnsafeBufferPointer { weights in Self.broadcastWeights.withUnsafeBufferPointer { vertical in
            for row in 0..<strip.rows {
                let y = Double(strip.firstRow + row), out = row * width
                // Where the row reads first, then the reads: two loops of independent iterations
                // the processor overlaps, where one loop doing both waited on each pixel's chain of
                // dependent operations (with the scalar floor and the tree sums: 45 → 36 ns/px,
                // one thread, a 12 MP phone capture; docs/PERFORMANCE.md).
                if mapping.sharesPosition {
                    window.locate(mapping.row(y, plane: 0), into: located)
                    let (r, g, b) = (strip.r + out, strip.g + out, strip.b + out)
                    var x = 0
                    // Two pixels an iteration: twice the independent work in flight.
                    while x + 1 < width {
                        let t0 = window.taps(located, x, weights: weights, vertical: vertical)
                        let t1 = window.taps(located, x + 1, weights: weights, vertical: vertical)
                        (r[x], r[x + 1]) = (window.sample(source.r, t0), window.sample(source.r, t1))
                        (g[x], g[x + 1]) = (window.sample(source.g, t0), window.sample(source.g, t1))
                        (b[x], b[x + 1]) = (window.sample(source.b, t0), window.sample(source.b, t1))
                        x += 2
                    }
                    if x < width {
                        let taps = window.taps(located, x, weights: weights, vertical: vertical)
                        (r[x], g[x], b[x]) = (window.sample(source.r, taps), window.sample(source.g, taps), window.sample(source.b, taps))
                    }
                } else {
                    for (c, (from, to)) in [(source.r, strip.r), (source.g, strip.g), (source.b, strip.b)].enumerated() {
                        window.locate(mapping.row(y, plane: c), into: located)
                        let o = to + out
                        for x in 0..<width { o[x] = window.sample(from, window.taps(located, x, weights: weights, vertical: vertical)) }
                    }
                }
            }
        } }
    }

    /// The fetched inner rows and how a position becomes taps on them. Scalar throughout: SIMD
    /// clamps and Double → Int conversions of SIMD types compile to slow lane loops here
    /// (shared/docs/SWIFT-NOTES.md; 80–100 ns/px with them on a 12 MP phone capture).
    struct Window {
        let width: Int
        let firstRow: Int, lastRow: Int
        let limitX: Double, limitY: Double

        init(width: Int, height: Int, firstRow: Int, lastRow: Int) {
            self.width = width
            self.firstRow = firstRow
            self.lastRow = lastRow
            limitX = Double(width - 1)
            limitY = Double(height - 1)
        }

        struct Taps {
            /// Column of tap −1, and whether all four columns lie inside the frame.
            var column: Int
            var inside: Bool
            /// Offsets into the fetched strip of the four tap rows.
            var row0: Int, row1: Int, row2: Int, row3: Int
            var wx: SIMD4<Float>
            /// The vertical weights, each across a vector (`broadcastWeights`).
            var wy: UnsafePointer<SIMD4<Float>>
        }

        /// A row's read positions: for each column the source pixel at or before the position
        /// (x and y) and the two phases (x | y << 8).
        struct Located {
            let column: UnsafeMutablePointer<Int32>, row: UnsafeMutablePointer<Int32>, phase: UnsafeMutablePointer<Int32>

            init(_ buffer: UnsafeMutablePointer<Int32>, width: Int) {
                (column, row, phase) = (buffer, buffer + width, buffer + 2 * width)
            }
        }

        /// The read positions of one destination row, clamped to the frame, as whole pixels and phases.
        func locate(_ geometry: LensWarp.Mapping.Row, into located: Located) {
            for x in 0..<width {
                let position = geometry.source(Double(x))
                let px = LensWarpSource.inFrame(position.x, limit: limitX), py = LensWarpSource.inFrame(position.y, limit: limitY)
                let ix = LensWarpSource.floor(px), iy = LensWarpSource.floor(py)
                // Phases below 32 (p − ⌊p⌋ < 1).
                let phaseX = LensWarpSource.floor((px - Double(ix)) * Double(LensWarpSource.phases))
                let phaseY = LensWarpSource.floor((py - Double(iy)) * Double(LensWarpSource.phases))
                located.column[x] = Int32(truncatingIfNeeded: ix)
                located.row[x] = Int32(truncatingIfNeeded: iy)
                located.phase[x] = Int32(truncatingIfNeeded: phaseX | phaseY << 8)
            }
        }

        @inline(__always)
        func taps(_ located: Located, _ x: Int, weights: UnsafeBufferPointer<SIMD4<Float>>,
                  vertical: UnsafeBufferPointer<SIMD4<Float>>) -> Taps {
            let ix = Int(located.column[x]), iy = Int(located.row[x]), phase = Int(located.phase[x])
            var rows: (Int, Int, Int, Int)
            if iy - 1 >= firstRow && iy + 2 <= lastRow {
                let top = (iy - 1 - firstRow) * width
                rows = (top, top + width, top + 2 * width, top + 3 * width)
            } else {
                @inline(__always) func offset(_ row: Int) -> Int { (min(max(row, firstRow), lastRow) - firstRow) * width }
                rows = (offset(iy - 1), offset(iy), offset(iy + 1), offset(iy + 2))
            }
            return Taps(column: ix - 1, inside: ix >= 1 && ix + 2 < width, row0: rows.0, row1: rows.1, row2: rows.2, row3: rows.3,
                        wx: weights[phase & 0xFF], wy: vertical.baseAddress! + 4 * (phase >> 8))
        }

        @inline(__always)
        func sample(_ plane: UnsafeMutablePointer<Float>, _ t: Taps) -> Float {
            var across: SIMD4<Float>
            if t.inside {
                let base = UnsafeRawPointer(plane + t.column)
                // Summed as a tree: two short chains the processor runs side by side.
                let upper = t.wy[0] * (base + 4 * t.row0).loadUnaligned(as: SIMD4<Float>.self)
                    + t.wy[1] * (base + 4 * t.row1).loadUnaligned(as: SIMD4<Float>.self)
                let lower = t.wy[2] * (base + 4 * t.row2).loadUnaligned(as: SIMD4<Float>.self)
                    + t.wy[3] * (base + 4 * t.row3).loadUnaligned(as: SIMD4<Float>.self)
                across = upper + lower
            } else {
                across = .zero
                for (j, offset) in [t.row0, t.row1, t.row2, t.row3].enumerated() {
                    let row = plane + offset
                    for i in 0..<4 { across[i] += t.wy[j][0] * row[min(max(t.column + i, 0), width - 1)] }
                }
            }
            let products = across * t.wx
            let pairs = products.lowHalf + products.highHalf
            let value = pairs.x + pairs.y
            return value > 0 ? value : 0
        }
    }
}

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
/// needs and a worker's scratch is sized for the worst strip. Each destination row is located
/// (read positions, four columns at a time) and then resampled separably along runs of pixels
/// that share their source rows and vertical phase (`Window.resample`). Both engines run this
/// same code (the horizontal reads are gathers, which SSE2 cannot vectorise), so they agree bitwise.
/// Reference: DNG specification 1.6 chapter 7 (WarpRectilinear applies to the stage-3 image,
/// after demosaic); DNG SDK dng_filter_warp::ProcessArea and dng_resample_bicubic.
/// Colour space: any linear RGB (the inner source's, untouched).
public struct LensWarpSource: StripSource {
    public let inner: any StripSource
    public let mapping: LensWarp.Mapping
    /// The inner source's size, kept: read through its existential, each use is a dynamic call.
    public let width: Int, height: Int
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
        (width, height) = (inner.width, inner.height)
        let (w, h) = (width, height)
        var first = [Int32](repeating: 0, count: h), last = [Int32](repeating: 0, count: h)
        var columns = Array(stride(from: 0, to: w, by: 8))
        if columns.last != w - 1 { columns.append(w - 1) }
        // Four at a time, as the resampler asks (the last group repeats the last column).
        while columns.count % 4 != 0 { columns.append(w - 1) }
        let groups = stride(from: 0, to: columns.count, by: 4).map { SIMD4<Double>(columns[$0..<($0 + 4)].map(Double.init)) }
        let planes = mapping.sharesPosition ? 1 : 3
        for y in 0..<h {
            var low = Double.infinity, high = -Double.infinity
            for plane in 0..<planes {
                let geometry = mapping.row(Double(y), plane: plane)
                for group in groups {
                    // A position that is not a number counts for neither bound.
                    let s = geometry.sources(group).y, number = s .== s
                    low = min(low, s.replacing(with: .infinity, where: .!number).min())
                    high = max(high, s.replacing(with: -.infinity, where: .!number).max())
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
    static func inFrame(_ v: Double, limit: Double) -> Double { inFrame(SIMD4(repeating: v), limit: limit)[0] }

    @inline(__always)
    static func inFrame(_ v: SIMD4<Double>, limit: Double) -> SIMD4<Double> {
        // Written as the two selects x86's minpd and maxpd are (each keeps its second operand
        // when one is not a number), so they compile to them: the earlier `v .>= limit` and
        // `.!(v .>= 0)` masks became a branch per lane.
        var clamped = v
        clamped.replace(with: limit, where: SIMD4(repeating: limit) .< clamped)
        clamped.replace(with: 0, where: .!(clamped .> 0))
        return (clamped + 0x1p32) - 0x1p32
    }

    /// ⌊v⌋ for 0 ≤ v < 2³¹ on the 2⁻²⁰ grid `inFrame` leaves (or a coarser one), as integers and
    /// as doubles. `Int(v)` checks its range on every call, and converting SIMD lanes is a slow
    /// lane loop; here half a pixel less half a grid step is taken away (exactly, on that grid)
    /// and 1.5·2⁵² added, which rounds to the nearest integer — never a tie — and leaves it in
    /// the low bits. (1.5·2⁵², not 2⁵²: the sum must stay in [2⁵², 2⁵³), where doubles are the
    /// integers, for v − 0.5 down to −0.5.)
    @inline(__always)
    static func floor(_ v: SIMD4<Double>) -> (integer: SIMD4<UInt64>, double: SIMD4<Double>) {
        // −0.5 + 2⁻²¹ is one constant: on the grid the sum is exact in either order. The
        // integer is the low 51 bits (a mask, and unsigned lanes so later shifts are SSE2's
        // logical ones: it has no 64-bit arithmetic shift).
        let shifted = v + (-0.5 + 0x1p-21) + 0x1.8p52
        return (unsafeBitCast(shifted, to: SIMD4<UInt64>.self) & 0x7_FFFF_FFFF_FFFF, shifted - 0x1.8p52)
    }

    /// Floats of scratch that hold a row's packed read positions (`Window.locate`).
    static func locatedFloats(_ width: Int) -> Int { 2 * (width + 4) }

    /// Frames with a side of this many pixels or more are not warped: `Window.locate` packs a
    /// column and a row into 24 bits each.
    public static let maximumSide = 1 << 24

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
        // One row's read positions (`Window.locate`: an Int64 per column, two floats' room, and a
        // vector's overrun), then the vertical pass of a run for three channels
        // (`Window.resample`: a row of floats each, with room for a vector's overrun).
        return SourceScratch(capacity: Self.locatedFloats(width) + 3 * (width + Window.overrun), inner: inner.makeScratch(stripRows: most),
                             innerStrip: StripStorage(width: inner.width, rows: most))
    }

    public func fill(_ strip: Strip, scratch: SourceScratch, engine: Engine) {
        let rows = sourceRows(strip.firstRow..<(strip.firstRow + strip.rows))
        let source = scratch.innerStrip!.strip(firstRow: rows.lowerBound, rows: rows.count)
        // Consecutive strips read overlapping inner rows (a strip's taps reach two rows past it,
        // and the lens bends rows): the rows the last strip fetched that this one reads again
        // move to the top, and only the rest are asked of the inner source — which then gets
        // strips that start where its last one ended, the order its own window reuse expects.
        var kept = 0
        let heldFirst = scratch.cachedFirstRow, heldEnd = heldFirst + scratch.cachedRows
        if heldFirst <= rows.lowerBound && rows.lowerBound < heldEnd {
            kept = min(heldEnd, rows.upperBound + 1) - rows.lowerBound
            let skipped = (rows.lowerBound - heldFirst) * width
            if skipped > 0 {
                for plane in [source.r, source.g, source.b] { plane.update(from: plane + skipped, count: kept * width) }
            }
        }
        if kept < rows.count {
            let offset = kept * width
            inner.fill(Strip(width: width, rows: rows.count - kept, firstRow: rows.lowerBound + kept,
                             r: source.r + offset, g: source.g + offset, b: source.b + offset),
                       scratch: scratch.inner!, engine: engine)
        }
        (scratch.cachedFirstRow, scratch.cachedRows) = (rows.lowerBound, rows.count)
        let window = Window(width: width, height: height, firstRow: rows.lowerBound, lastRow: rows.upperBound)
        let located = UnsafeMutableRawPointer(scratch.buffer).bindMemory(to: Int64.self, capacity: width + 4)
        let across = scratch.buffer + Self.locatedFloats(width)
        let from = [source.r, source.g, source.b], to = [strip.r, strip.g, strip.b]
        Self.weights.withUnsafeBufferPointer { weights in
            for row in 0..<strip.rows {
                let y = Double(strip.firstRow + row), out = row * width
                if mapping.sharesPosition {
                    window.locate(mapping.row(y, plane: 0), into: located)
                    window.resample(0..<3, from: from, to: to, at: out, located: located, across: across, weights: weights)
                } else {
                    for c in 0..<3 {
                        window.locate(mapping.row(y, plane: c), into: located)
                        window.resample(c..<(c + 1), from: from, to: to, at: out, located: located, across: across, weights: weights)
                    }
                }
            }
        }
    }

    /// The fetched inner rows and how a row of read positions becomes a row of values. Scalar
    /// where it is not a vector loop: SIMD clamps and Double → Int conversions of SIMD types
    /// compile to slow lane loops here (shared/docs/SWIFT-NOTES.md; 80–100 ns/px with them on a
    /// 12 MP phone capture).
    struct Window {
        let width: Int
        let firstRow: Int, lastRow: Int
        let limitX: Double, limitY: Double
        /// Floats a vertical pass may write past a run's last column (one SIMD8 store).
        static let overrun = 8

        init(width: Int, height: Int, firstRow: Int, lastRow: Int) {
            self.width = width
            self.firstRow = firstRow
            self.lastRow = lastRow
            limitX = Double(width - 1)
            limitY = Double(height - 1)
        }

        /// The read positions of one destination row, clamped to the frame, four columns at a
        /// time (the last group may write up to three columns past the row, which nothing reads), each
        /// packed into one Int64: the source column at or before the position (bits 0–23), the
        /// horizontal phase (24–28), the source row (29–52) and the vertical phase (53–57). One
        /// floor of 32·p per axis gives both the pixel (⌊32p⌋ >> 5) and the phase (⌊32p⌋ & 31);
        /// a packed word is one vector store, where three arrays of lanes took a dozen extractions.
        func locate(_ geometry: LensWarp.Mapping.Row, into located: UnsafeMutablePointer<Int64>) {
            let phases = Double(LensWarpSource.phases)
            var columns = SIMD4<Double>(0, 1, 2, 3)
            var x = 0
            while x < width {
                let position = geometry.sources(columns)
                let px = LensWarpSource.inFrame(position.x, limit: limitX), py = LensWarpSource.inFrame(position.y, limit: limitY)
                let qx = LensWarpSource.floor(px * phases).integer, qy = LensWarpSource.floor(py * phases).integer
                let packed = (qx &>> 5) | (qx & 31) &<< 24 | (qy &>> 5) &<< 29 | (qy & 31) &<< 53
                UnsafeMutableRawPointer(located + x).storeBytes(of: packed, as: SIMD4<UInt64>.self)
                columns += 4
                x += 4
            }
        }

        /// One destination row of the planes `channels` (of `from` into `to`, at offset `out`),
        /// from its read positions. Separable by runs: a lens moves neighbouring pixels alike, so consecutive
        /// pixels mostly read the same four source rows at the same vertical phase. For each such
        /// run the vertical pass (four rows weighted and summed, per source column the run
        /// reaches, eight columns at a time) is done once into `across`, and each pixel of the run
        /// is the horizontal pass: four neighbours of that row, weighted — the same operations in
        /// the same order as a per-pixel 4 × 4 read, a quarter of the work for a run of any
        /// length (with `locate` four columns at a time: 36 → 21 ns/px, one thread, a 12 MP phone
        /// capture whose runs are hundreds of pixels long; packed positions and no tangential
        /// terms where the lens has none, 14 ns/px; `locate` in vector code, four pixels of the
        /// horizontal pass at a time, inner rows fetched once, ~10–11 ns/px: docs/PERFORMANCE.md,
        /// sessions 32 and 33). Taps beyond the frame repeat its edge.
        func resample(_ channels: Range<Int>, from: [UnsafeMutablePointer<Float>], to: [UnsafeMutablePointer<Float>], at out: Int,
                      located: UnsafeMutablePointer<Int64>, across: UnsafeMutablePointer<Float>, weights: UnsafeBufferPointer<SIMD4<Float>>) {
            let columnMask: Int64 = 0xFF_FFFF
            @inline(__always) func line(_ c: Int) -> UnsafeMutablePointer<Float> { across + (c - channels.lowerBound) * (width + Window.overrun) }
            var start = 0
            while start < width {
                // Row and vertical phase: the bits from 29 up.
                let key = located[start] >> 29
                var end = start + 1, low = located[start] & columnMask, high = low
                while end < width && located[end] >> 29 == key {
                    low = min(low, located[end] & columnMask); high = max(high, located[end] & columnMask)
                    end += 1
                }
                let row = key & columnMask, phaseY = key >> 24
                // Source columns the run's taps reach, inside the frame.
                let first = max(Int(low) - 1, 0), last = min(Int(high) + 2, width - 1)
                let wy = weights[Int(phaseY)]
                let (w0, w1, w2, w3) = (SIMD8(repeating: wy[0]), SIMD8(repeating: wy[1]), SIMD8(repeating: wy[2]), SIMD8(repeating: wy[3]))
                @inline(__always) func offset(_ r: Int) -> Int { (min(max(r, firstRow), lastRow) - firstRow) * width }
                let iy = Int(row)
                let (o0, o1, o2, o3) = (offset(iy - 1), offset(iy), offset(iy + 1), offset(iy + 2))
                for c in channels {
                    let source = from[c], line = line(c)
                    var i = first
                    while i <= last {
                        // A vector may read past the row's end into the next row or the strip's
                        // padding, and write past `last`: those lanes are never read.
                        @inline(__always) func load(_ o: Int) -> SIMD8<Float> { UnsafeRawPointer(source + o + i).loadUnaligned(as: SIMD8<Float>.self) }
                        let upper = w0 * load(o0) + w1 * load(o1), lower = w2 * load(o2) + w3 * load(o3)
                        UnsafeMutableRawPointer(line + i).storeBytes(of: upper + lower, as: SIMD8<Float>.self)
                        i += 8
                    }
                }
                // The horizontal pass. Inside the frame, four pixels at a time: their four
                // products summed as one pixel's are ((x + z) + (y + w)), lanes transposed.
                var x = start
                if Int(low) >= 1 && Int(high) + 2 < width {
                    while x + 4 <= end {
                        @inline(__always) func tap(_ k: Int) -> (Int, SIMD4<Float>) {
                            (Int(located[x + k] & columnMask) - 1, weights[Int(located[x + k] >> 24 & 31)])
                        }
                        let (t0, t1, t2, t3) = (tap(0), tap(1), tap(2), tap(3))
                        for c in channels {
                            let line = line(c)
                            @inline(__always) func product(_ t: (Int, SIMD4<Float>)) -> SIMD4<Float> {
                                UnsafeRawPointer(line + t.0).loadUnaligned(as: SIMD4<Float>.self) * t.1
                            }
                            let (p0, p1, p2, p3) = (product(t0), product(t1), product(t2), product(t3))
                            let q01 = SIMD4(lowHalf: p0.lowHalf, highHalf: p1.lowHalf) + SIMD4(lowHalf: p0.highHalf, highHalf: p1.highHalf)
                            let q23 = SIMD4(lowHalf: p2.lowHalf, highHalf: p3.lowHalf) + SIMD4(lowHalf: p2.highHalf, highHalf: p3.highHalf)
                            var values = SIMD4(lowHalf: q01.evenHalf, highHalf: q23.evenHalf) + SIMD4(lowHalf: q01.oddHalf, highHalf: q23.oddHalf)
                            values.replace(with: 0, where: .!(values .> 0))
                            UnsafeMutableRawPointer(to[c] + out + x).storeBytes(of: values, as: SIMD4<Float>.self)
                        }
                        x += 4
                    }
                }
                for c in channels {
                    let line = line(c), destination = to[c] + out
                    for x in x..<end {
                        let ix = Int(located[x] & columnMask)
                        var taps: SIMD4<Float>
                        if ix >= 1 && ix + 2 < width {
                            taps = UnsafeRawPointer(line + ix - 1).loadUnaligned(as: SIMD4<Float>.self)
                        } else {
                            taps = SIMD4(line[min(max(ix - 1, 0), width - 1)], line[min(max(ix, 0), width - 1)],
                                         line[min(max(ix + 1, 0), width - 1)], line[min(max(ix + 2, 0), width - 1)])
                        }
                        let products = taps * weights[Int(located[x] >> 24 & 31)]
                        let pairs = products.lowHalf + products.highHalf
                        let value = pairs.x + pairs.y
                        destination[x] = value > 0 ? value : 0
                    }
                }
                start = end
            }
        }
    }
}

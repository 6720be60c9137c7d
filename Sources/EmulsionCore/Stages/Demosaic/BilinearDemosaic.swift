/// Bilinear demosaic: each missing colour is the mean of the nearest photosites of that colour.
///
/// For Bayer data that is the classic 3×3 rule (cross mean for green at red/blue sites, diagonal
/// mean for blue at red and red at blue, horizontal or vertical pair at green sites). The same
/// rule — mean of same-colour photosites in the 3×3 window, 5×5 where the 3×3 has none — serves
/// any other periodic CFA (X-Trans included) as a fast fallback, reading only photosites inside
/// the image. Bayer borders read the window's mirrored rows and columns. It asks for a Bayer
/// window split into column planes (`readsColumnPlanes`), where its lane groups load each site
/// colour without shuffles, and reads an interleaved one as well.
/// Reference: e.g. Gunturk et al., "Demosaicking: color filter array interpolation", IEEE Signal
/// Processing Magazine 22(1), 2005, §II. Colour space: white-balanced camera RGB in and out.
/// Expected quality: about 30 dB CPSNR on natural images (docs/QUALITY.md once measured).
public struct BilinearDemosaic: LanesDemosaic {
    public init() {}
    public var halo: Int { 2 }
    public var readsColumnPlanes: Bool { true }

    @inline(__always)
    public func interpolate<L: Lanes>(_ w: MosaicWindow, into strip: Strip, lanes _: L.Type) {
        let width = strip.width
        for row in 0..<strip.rows {
            let y = strip.firstRow + row
            let out = row * width
            guard w.cfa.isBayer else {
                for x in 0..<width { genericPixel(w, x: x, y: y, into: strip, at: out + x) }
                continue
            }
            // Bayer: the window is mirrored past the border, so one rule serves every pixel.
            let plan = BayerRowPlan(cfa: w.cfa, row: y)
            switch w.layout {
            case .interleaved:
                plan.dispatch(BayerBilinear.Row<L, InterleavedRow>(
                    above: InterleavedRow(w.row(y - 1)), here: InterleavedRow(w.row(y)), below: InterleavedRow(w.row(y + 1)),
                    width: width, strip: strip, out: out))
            case .columnPlanes:
                func planes(_ y: Int) -> ColumnPlanesRow { ColumnPlanesRow(even: w.row(y), odd: w.row(y) + w.oddPlaneOffset) }
                plan.dispatch(BayerBilinear.Row<L, ColumnPlanesRow>(
                    above: planes(y - 1), here: planes(y), below: planes(y + 1), width: width, strip: strip, out: out))
            }
        }
    }

    /// Mean of same-colour photosites around (x, y), for any CFA and at the image border.
    private func genericPixel(_ w: MosaicWindow, x: Int, y: Int, into strip: Strip, at index: Int) {
        let centre = w.cfa.colour(row: y, column: x)
        var rgb = SIMD3<Float>(repeating: 0)
        for channel in 0..<3 {
            if channel == centre { rgb[channel] = w.photosite(row: y, column: x); continue }
            var radius = 1
            while true {
                var sum: Float = 0
                var n = 0
                for dy in -radius...radius {
                    let yy = y + dy
                    guard yy >= 0, yy < w.imageHeight, w.contains(row: yy) else { continue }
                    for dx in -radius...radius {
                        let xx = x + dx
                        guard xx >= 0, xx < w.width, w.cfa.colour(row: yy, column: xx) == channel else { continue }
                        sum += w.photosite(row: yy, column: xx)
                        n += 1
                    }
                }
                if n > 0 || radius >= 3 { rgb[channel] = n > 0 ? sum / Float(n) : 0; break }
                radius += 1
            }
        }
        strip.r[index] = rgb[0]; strip.g[index] = rgb[1]; strip.b[index] = rgb[2]
    }
}

/// For one Bayer row: which neighbourhood mean gives each output channel at even and odd columns.
struct BayerRowPlan {
    enum Source { case centre, cross, diagonal, horizontal, vertical }
    var even: (Source, Source, Source)
    var odd: (Source, Source, Source)

    /// Runs `body` specialised for this row's layout, so a row loop picks its sources at compile
    /// time: with the plan as a value, each lane group took six jump-table branches (the
    /// bilinear loop's assembly). A Bayer row is one of four layouts (R G, G R, G B, B G).
    @inline(__always)
    func dispatch<B: BayerRowBody>(_ body: B) {
        switch (even.0, odd.0) {
        case (.centre, _): body.run(RedGreenRow.self)
        case (_, .centre): body.run(GreenRedRow.self)
        case (.vertical, _): body.run(GreenBlueRow.self)
        default: body.run(BlueGreenRow.self)
        }
    }

    init(cfa: CFAPattern, row: Int) {
        let e = cfa.colour(row: row, column: 0)
        let o = cfa.colour(row: row, column: 1)
        let other = e == 1 ? o : e  // the row's non-green colour
        func plan(_ site: Int) -> (Source, Source, Source) {
            func source(_ channel: Int) -> Source {
                if channel == site { return .centre }
                if site == 1 { return channel == other ? .horizontal : .vertical }
                return channel == 1 ? .cross : .diagonal
            }
            return (source(0), source(1), source(2))
        }
        even = plan(e)
        odd = plan(o)
    }
}

/// A Bayer row layout as a type: the sources of (R, G, B) at even and odd columns.
protocol BayerRowLayout {
    static var even: (BayerRowPlan.Source, BayerRowPlan.Source, BayerRowPlan.Source) { get }
    static var odd: (BayerRowPlan.Source, BayerRowPlan.Source, BayerRowPlan.Source) { get }
}

/// Sites: red (centre, cross, diagonal); blue (diagonal, cross, centre); green on a red row
/// (horizontal, centre, vertical); green on a blue row (vertical, centre, horizontal).
enum RedGreenRow: BayerRowLayout {
    static var even: (BayerRowPlan.Source, BayerRowPlan.Source, BayerRowPlan.Source) { (.centre, .cross, .diagonal) }
    static var odd: (BayerRowPlan.Source, BayerRowPlan.Source, BayerRowPlan.Source) { (.horizontal, .centre, .vertical) }
}
enum GreenRedRow: BayerRowLayout {
    static var even: (BayerRowPlan.Source, BayerRowPlan.Source, BayerRowPlan.Source) { RedGreenRow.odd }
    static var odd: (BayerRowPlan.Source, BayerRowPlan.Source, BayerRowPlan.Source) { RedGreenRow.even }
}
enum GreenBlueRow: BayerRowLayout {
    static var even: (BayerRowPlan.Source, BayerRowPlan.Source, BayerRowPlan.Source) { (.vertical, .centre, .horizontal) }
    static var odd: (BayerRowPlan.Source, BayerRowPlan.Source, BayerRowPlan.Source) { (.diagonal, .cross, .centre) }
}
enum BlueGreenRow: BayerRowLayout {
    static var even: (BayerRowPlan.Source, BayerRowPlan.Source, BayerRowPlan.Source) { GreenBlueRow.odd }
    static var odd: (BayerRowPlan.Source, BayerRowPlan.Source, BayerRowPlan.Source) { GreenBlueRow.even }
}

/// A row loop generic over the row's layout (`BayerRowPlan.dispatch`).
protocol BayerRowBody {
    func run<R: BayerRowLayout>(_ layout: R.Type)
}

enum BayerBilinear {
    /// One Bayer row: groups of `2 · laneCount` columns split by parity (`columnPairs`), then
    /// the remainder as pairs through the scalar instantiation, then the last column of an odd
    /// width (`lastColumn`): the same operations on the same photosites, so the same bits.
    struct Row<L: Lanes, P: ColumnPairRow>: BayerRowBody {
        let above, here, below: P
        let width: Int
        let strip: Strip
        let out: Int

        @inline(__always)
        func run<R: BayerRowLayout>(_ layout: R.Type) {
            // Wrapping adds: x stays below the row's width, and the overflow checks were a tenth
            // of the lane loop's instructions.
            var x = 0
            while x &+ 2 &* L.laneCount <= width {
                BayerBilinear.columnPairs(above, here, below, x: x, layout: R.self, into: strip, at: out &+ x, L.self)
                x &+= 2 &* L.laneCount
            }
            while x + 2 <= width {
                BayerBilinear.columnPairs(above, here, below, x: x, layout: R.self, into: strip, at: out + x, Float.self)
                x += 2
            }
            if x < width {
                BayerBilinear.lastColumn(above, here, below, x: x, layout: R.self, into: strip, at: out + x)
            }
        }
    }

    /// The estimate `source` names at a site, from the site and its eight neighbours: the mean of
    /// the four edge neighbours (cross), of the four corners (diagonal), of the row pair or the
    /// column pair.
    @inline(__always)
    static func estimate<L: Lanes>(_ source: BayerRowPlan.Source, centre: L, n: L, s: L, w: L, e: L,
                                   nw: L, ne: L, sw: L, se: L) -> L {
        switch source {
        case .centre: return centre
        case .cross: return (n + s + w + e) * L(repeating: 0.25)
        case .diagonal: return (nw + ne + sw + se) * L(repeating: 0.25)
        case .horizontal: return (w + e) * L(repeating: 0.5)
        case .vertical: return (n + s) * L(repeating: 0.5)
        }
    }

    /// Columns x ..< x + 2·laneCount (x even) of one Bayer row, the even and odd columns as
    /// separate lanes: each site colour gets only the estimates its layout picks, where the
    /// kernel before it computed all four means in every lane and selected half of them. Normalise +
    /// demosaic, SIMD: 1.92–2.05 → 1.49–1.62 ns/px (Canon crop, alternating binaries; the scalar
    /// engine 4.3–4.5 → 3.8–3.9, no longer branching on the column's parity). The means are the
    /// earlier kernel's, operand for operand, so the bits are the same. Reads columns
    /// x − 2 … x + 2·laneCount + 1 (the window's padding covers the ends).
    @inline(__always)
    static func columnPairs<R: BayerRowLayout, L: Lanes, P: ColumnPairRow>(_ above: P, _ here: P, _ below: P, x: Int,
                                                                          layout _: R.Type, into strip: Strip, at index: Int,
                                                                          _: L.Type) {
        // Columns x, x+2, … (even) and x+1, x+3, … (odd); `west` are x−1, x+1, … (the odd
        // columns one pair to the left) and `east` x+2, x+4, … (the even columns one pair on).
        let here2: (even: L, odd: L) = here.pairs(at: x), above2: (even: L, odd: L) = above.pairs(at: x)
        let below2: (even: L, odd: L) = below.pairs(at: x)
        let hereWest: L = here.west(at: x), hereEast: L = here.east(at: x)
        let aboveWest: L = above.west(at: x), aboveEast: L = above.east(at: x)
        let belowWest: L = below.west(at: x), belowEast: L = below.east(at: x)
        @inline(__always) func even(_ source: BayerRowPlan.Source) -> L {
            estimate(source, centre: here2.even, n: above2.even, s: below2.even, w: hereWest, e: here2.odd,
                     nw: aboveWest, ne: above2.odd, sw: belowWest, se: below2.odd)
        }
        @inline(__always) func odd(_ source: BayerRowPlan.Source) -> L {
            estimate(source, centre: here2.odd, n: above2.odd, s: below2.odd, w: here2.even, e: hereEast,
                     nw: above2.even, ne: aboveEast, sw: below2.even, se: belowEast)
        }
        L.storeColumnPairs(even: even(R.even.0), odd: odd(R.odd.0), to: strip.r + index)
        L.storeColumnPairs(even: even(R.even.1), odd: odd(R.odd.1), to: strip.g + index)
        L.storeColumnPairs(even: even(R.even.2), odd: odd(R.odd.2), to: strip.b + index)
    }

    /// The row's last column when the width is odd: an even column (pairs start at column 0),
    /// through the same estimates as `columnPairs`' even lanes.
    @inline(__always)
    static func lastColumn<R: BayerRowLayout, P: ColumnPairRow>(_ above: P, _ here: P, _ below: P, x: Int, layout _: R.Type,
                                                                into strip: Strip, at index: Int) {
        // Column x + 1 lies in the padding.
        let h: (even: Float, odd: Float) = here.pairs(at: x), a: (even: Float, odd: Float) = above.pairs(at: x)
        let b: (even: Float, odd: Float) = below.pairs(at: x)
        @inline(__always) func site(_ source: BayerRowPlan.Source) -> Float {
            estimate(source, centre: h.even, n: a.even, s: b.even, w: here.west(at: x), e: h.odd,
                     nw: above.west(at: x), ne: a.odd, sw: below.west(at: x), se: b.odd)
        }
        strip.r[index] = site(R.even.0); strip.g[index] = site(R.even.1); strip.b[index] = site(R.even.2)
    }
}

/// How the Bayer kernel reads one window row (`MosaicWindow.Layout`): for an even column x, the
/// columns x, x+2, … and x+1, x+3, … (`laneCount` of each), the odd columns x−1, x+1, … (each
/// even column's west neighbour) and the even columns x+2, x+4, … (each odd column's east one).
protocol ColumnPairRow {
    func pairs<L: Lanes>(at x: Int) -> (even: L, odd: L)
    func west<L: Lanes>(at x: Int) -> L
    func east<L: Lanes>(at x: Int) -> L
}

/// A row in sensor order: each lane group is split as it loads (`Lanes.loadingColumnPairs`,
/// shuffles), and the west and east neighbours are the halves of two more such loads.
struct InterleavedRow: ColumnPairRow {
    let values: UnsafePointer<Float>
    init(_ values: UnsafeMutablePointer<Float>) { self.values = UnsafePointer(values) }
    @inline(__always) func pairs<L: Lanes>(at x: Int) -> (even: L, odd: L) { L.loadingColumnPairs(values + x) }
    @inline(__always) func west<L: Lanes>(at x: Int) -> L { L.loadingColumnPairs(values + x - 2).odd }
    @inline(__always) func east<L: Lanes>(at x: Int) -> L { L.loadingColumnPairs(values + x + 2).even }
}

/// A row split into column planes: every read is one plain load, the neighbours the same
/// plane one entry over. Source + demosaic, SIMD: see docs/PERFORMANCE.md (run v17).
struct ColumnPlanesRow: ColumnPairRow {
    let even, odd: UnsafePointer<Float>
    init(even: UnsafeMutablePointer<Float>, odd: UnsafeMutablePointer<Float>) {
        self.even = UnsafePointer(even); self.odd = UnsafePointer(odd)
    }
    @inline(__always) func pairs<L: Lanes>(at x: Int) -> (even: L, odd: L) { (L(loading: even + (x >> 1)), L(loading: odd + (x >> 1))) }
    @inline(__always) func west<L: Lanes>(at x: Int) -> L { L(loading: odd + (x >> 1) - 1) }
    @inline(__always) func east<L: Lanes>(at x: Int) -> L { L(loading: even + (x >> 1) + 1) }
}

/// Bilinear demosaic: each missing colour is the mean of the nearest photosites of that colour.
///
/// For Bayer data that is the classic 3×3 rule (cross mean for green at red/blue sites, diagonal
/// mean for blue at red and red at blue, horizontal or vertical pair at green sites). The same
/// rule — mean of same-colour photosites in the 3×3 window, 5×5 where the 3×3 has none — serves
/// any other periodic CFA (X-Trans included) as a fast fallback, reading only photosites inside
/// the image. Bayer borders read the window's mirrored rows and columns.
/// Reference: e.g. Gunturk et al., "Demosaicking: color filter array interpolation", IEEE Signal
/// Processing Magazine 22(1), 2005, §II. Colour space: white-balanced camera RGB in and out.
/// Expected quality: about 30 dB CPSNR on natural images (docs/QUALITY.md once measured).
public struct BilinearDemosaic: LanesDemosaic {
    public init() {}
    public var halo: Int { 2 }

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
            BayerRowPlan(cfa: w.cfa, row: y).dispatch(BayerBilinear.Row<L>(
                above: w.row(y - 1), here: w.row(y), below: w.row(y + 1), width: width, strip: strip, out: out))
        }
    }

    /// Mean of same-colour photosites around (x, y), for any CFA and at the image border.
    private func genericPixel(_ w: MosaicWindow, x: Int, y: Int, into strip: Strip, at index: Int) {
        let centre = w.cfa.colour(row: y, column: x)
        var rgb = SIMD3<Float>(repeating: 0)
        for channel in 0..<3 {
            if channel == centre { rgb[channel] = w.row(y)[x]; continue }
            var radius = 1
            while true {
                var sum: Float = 0
                var n = 0
                for dy in -radius...radius {
                    let yy = y + dy
                    guard yy >= 0, yy < w.imageHeight, w.contains(row: yy) else { continue }
                    let p = w.row(yy)
                    for dx in -radius...radius {
                        let xx = x + dx
                        guard xx >= 0, xx < w.width, w.cfa.colour(row: yy, column: xx) == channel else { continue }
                        sum += p[xx]
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
    /// One Bayer row through `pixel`: lane groups, then the remainder through the scalar
    /// instantiation (the same operations, so the same bits).
    struct Row<L: Lanes>: BayerRowBody {
        let above, here, below: UnsafePointer<Float>
        let width: Int
        let strip: Strip
        let out: Int

        @inline(__always)
        func run<R: BayerRowLayout>(_ layout: R.Type) {
            var x = 0
            while x + L.laneCount <= width {
                BayerBilinear.pixel(above, here, below, x: x, layout: R.self, into: strip, at: out + x, L.self)
                x += L.laneCount
            }
            while x < width {
                BayerBilinear.pixel(above, here, below, x: x, layout: R.self, into: strip, at: out + x, Float.self)
                x += 1
            }
        }
    }

    @inline(__always)
    static func pixel<R: BayerRowLayout, L: Lanes>(_ above: UnsafePointer<Float>, _ here: UnsafePointer<Float>,
                                                   _ below: UnsafePointer<Float>, x: Int, layout _: R.Type,
                                                   into strip: Strip, at index: Int, _: L.Type) {
        let centre = L(loading: here + x)
        let n = L(loading: above + x), s = L(loading: below + x)
        let wv = L(loading: here + x - 1), e = L(loading: here + x + 1)
        let nw = L(loading: above + x - 1), ne = L(loading: above + x + 1)
        let sw = L(loading: below + x - 1), se = L(loading: below + x + 1)
        let quarter = L(repeating: 0.25), half = L(repeating: 0.5)
        let cross = (n + s + wv + e) * quarter
        let diagonal = (nw + ne + sw + se) * quarter
        let horizontal = (wv + e) * half
        let vertical = (n + s) * half
        @inline(__always) func pick(_ source: BayerRowPlan.Source) -> L {
            switch source {
            case .centre: return centre
            case .cross: return cross
            case .diagonal: return diagonal
            case .horizontal: return horizontal
            case .vertical: return vertical
            }
        }
        let r = L.alternating(even: pick(R.even.0), odd: pick(R.odd.0), firstColumn: x)
        let g = L.alternating(even: pick(R.even.1), odd: pick(R.odd.1), firstColumn: x)
        let b = L.alternating(even: pick(R.even.2), odd: pick(R.odd.2), firstColumn: x)
        r.store(to: strip.r + index); g.store(to: strip.g + index); b.store(to: strip.b + index)
    }
}

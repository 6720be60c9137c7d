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
            let above = w.row(y - 1), here = w.row(y), below = w.row(y + 1)
            let plan = BayerRowPlan(cfa: w.cfa, row: y)
            var x = 0
            while x + L.laneCount <= width {
                BayerBilinear.pixel(above, here, below, x: x, plan: plan, into: strip, at: out + x, L.self)
                x += L.laneCount
            }
            while x < width {
                BayerBilinear.pixel(above, here, below, x: x, plan: plan, into: strip, at: out + x, Float.self)
                x += 1
            }
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

enum BayerBilinear {
    @inline(__always)
    static func pixel<L: Lanes>(_ above: UnsafePointer<Float>, _ here: UnsafePointer<Float>, _ below: UnsafePointer<Float>,
                                x: Int, plan: BayerRowPlan, into strip: Strip, at index: Int, _: L.Type) {
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
        let r = L.alternating(even: pick(plan.even.0), odd: pick(plan.odd.0), firstColumn: x)
        let g = L.alternating(even: pick(plan.even.1), odd: pick(plan.odd.1), firstColumn: x)
        let b = L.alternating(even: pick(plan.even.2), odd: pick(plan.odd.2), firstColumn: x)
        r.store(to: strip.r + index); g.store(to: strip.g + index); b.store(to: strip.b + index)
    }
}

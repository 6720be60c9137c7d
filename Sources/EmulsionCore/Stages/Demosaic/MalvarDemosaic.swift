/// Malvar–He–Cutler demosaic: bilinear interpolation corrected by the Laplacian of the colour
/// the photosite did record, as fixed 5×5 linear filters.
///
/// What: for each missing colour, the bilinear estimate plus a gain times the centre channel's
/// discrete Laplacian (gains α = 1/2, β = 5/8, γ = 3/4, the paper's Wiener-optimal values on the
/// Kodak set), which gives four filters, all with integer-over-8 weights:
/// - G at R or B:             (4·C + 2·(N+S+W+E) − (N2+S2+W2+E2)) / 8
/// - R/B at G, along its row:  (5·C + 4·(W+E) − (NW+NE+SW+SE) − (W2+E2) + ½·(N2+S2)) / 8
/// - R/B at G, along its column: the transpose
/// - B at R, R at B:          (6·C + 2·(NW+NE+SW+SE) − 3/2·(N2+S2+W2+E2)) / 8
/// Why: about 4–5 dB CPSNR better than bilinear at nearly its cost, with no decisions, so it is
/// the reference point for the adaptive algorithms (docs/QUALITY.md).
/// Reference: H. S. Malvar, L.-W. He and R. Cutler, "High-quality linear interpolation for
/// demosaicing of Bayer-patterned color images", IEEE ICASSP 2004, vol. 3, pp. 485–488.
/// Bayer only (the filters assume the 2×2 layout); negative results are clamped to 0.
/// Colour space: white-balanced camera RGB in and out.
public struct MalvarDemosaic: LanesDemosaic {
    public init() {}
    public var halo: Int { 2 }

    @inline(__always)
    public func interpolate<L: Lanes>(_ w: MosaicWindow, into strip: Strip, lanes _: L.Type) {
        precondition(w.cfa.isBayer, "Malvar–He–Cutler needs a Bayer layout")
        let width = strip.width
        for row in 0..<strip.rows {
            let y = strip.firstRow + row
            let out = row * width
            let rows = (w.row(y - 2), w.row(y - 1), w.row(y), w.row(y + 1), w.row(y + 2))
            let plan = BayerRowPlan(cfa: w.cfa, row: y & 1)
            var x = 0
            while x + L.laneCount <= width {
                Self.pixel(rows, x: x, plan: plan, into: strip, at: out + x, L.self)
                x += L.laneCount
            }
            while x < width {
                Self.pixel(rows, x: x, plan: plan, into: strip, at: out + x, Float.self)
                x += 1
            }
        }
    }

    typealias Rows = (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                      UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)

    /// One lane group: every filter evaluated, each channel picking its filter by column parity.
    @inline(__always)
    static func pixel<L: Lanes>(_ r: Rows, x: Int, plan: BayerRowPlan, into strip: Strip, at index: Int, _: L.Type) {
        let c = L(loading: r.2 + x)
        let n = L(loading: r.1 + x), s = L(loading: r.3 + x)
        let wv = L(loading: r.2 + x - 1), e = L(loading: r.2 + x + 1)
        let n2 = L(loading: r.0 + x), s2 = L(loading: r.4 + x)
        let w2 = L(loading: r.2 + x - 2), e2 = L(loading: r.2 + x + 2)
        let diagonals = (L(loading: r.1 + x - 1) + L(loading: r.1 + x + 1)) + (L(loading: r.3 + x - 1) + L(loading: r.3 + x + 1))
        let eighth = L(repeating: 0.125)
        let crossSum = (n + s) + (wv + e)
        let far = (n2 + s2) + (w2 + e2)
        let cross = (L(repeating: 4) * c + L(repeating: 2) * crossSum - far) * eighth
        let horizontal = (L(repeating: 5) * c + L(repeating: 4) * (wv + e) - diagonals - (w2 + e2)
                          + L(repeating: 0.5) * (n2 + s2)) * eighth
        let vertical = (L(repeating: 5) * c + L(repeating: 4) * (n + s) - diagonals - (n2 + s2)
                        + L(repeating: 0.5) * (w2 + e2)) * eighth
        let diagonal = (L(repeating: 6) * c + L(repeating: 2) * diagonals - L(repeating: 1.5) * far) * eighth
        @inline(__always) func pick(_ source: BayerRowPlan.Source) -> L {
            switch source {
            case .centre: return c
            case .cross: return cross
            case .diagonal: return diagonal
            case .horizontal: return horizontal
            case .vertical: return vertical
            }
        }
        let red = L.alternating(even: pick(plan.even.0), odd: pick(plan.odd.0), firstColumn: x).atLeast(0)
        let green = L.alternating(even: pick(plan.even.1), odd: pick(plan.odd.1), firstColumn: x).atLeast(0)
        let blue = L.alternating(even: pick(plan.even.2), odd: pick(plan.odd.2), firstColumn: x).atLeast(0)
        red.store(to: strip.r + index); green.store(to: strip.g + index); blue.store(to: strip.b + index)
    }
}

/// Directional colour-difference demosaic for any periodic CFA, written for Fujifilm X-Trans
/// (6×6) and also correct on Bayer: Emulsion's high-quality X-Trans algorithm.
///
/// What:
/// 1. Green at every red/blue photosite from four directions (horizontal, vertical and both
///    diagonals). Along each direction the nearest green on either side (up to three photosites
///    away) gives a distance-weighted estimate; its weight is `1 / (ε + gradient)²`, the
///    gradient being the green difference across the pixel plus the difference to the nearest
///    photosite of the centre's own colour along the same line. Estimates across an edge get
///    almost no weight, so green follows edges in all four orientations X-Trans can resolve.
/// 2. Red and blue at every photosite that lacks them as green plus a colour difference (C − G)
///    taken from the photosites of that colour within two (if none, three) photosites, weighted
///    by inverse squared distance and by green similarity `1 / (ε + |G_o − G|)`, so colour does
///    not bleed across edges.
/// Why: X-Trans has no 2×2 structure for Bayer algorithms; Frank Markesteijn's algorithm
/// (dcraw's `xtrans_interpolate`, darktable, RawTherapee) builds directional green estimates in
/// the same four directions and chooses among them by homogeneity in CIELab. This one is of the
/// same family — directional green, colour differences for red and blue — choosing by gradients
/// instead, which needs no colour conversion and runs in one pass. Quality against bilinear on
/// X-Trans mosaics is in docs/QUALITY.md.
/// Reference: F. Markesteijn's X-Trans demosaic as described in darktable's
/// `demosaic_xtrans` documentation; colour-difference interpolation: Hamilton & Adams, US patent
/// 5,629,734 (1997); both only as background — the weighting here is Emulsion's own.
/// Border: only photosites inside the image are read (X-Trans is not mirror-symmetric).
/// Colour space: white-balanced camera RGB in and out. Engines: one scalar loop (the 6×6 phase
/// tables make lanes impractical), so both engines give the same bits by construction.
public struct DirectionalDemosaic: DemosaicAlgorithm {
    public init() {}
    /// Step 2 reads green up to 3 rows away, which step 1 builds from up to 3 rows further.
    public var halo: Int { 6 }
    public var scratchPlanes: Int { 1 }

    static let eps: Float = 1e-4
    static let directions = [(0, 1), (1, 0), (1, 1), (1, -1)]

    /// Per CFA phase: for each direction, the steps to the nearest green forward and backward and
    /// to the nearest photosite of the centre's colour forward and backward (0 when none within 3).
    struct Phase {
        var colour: Int
        var greenSteps: [(Int, Int)] = []
        var ownSteps: [(Int, Int)] = []
        /// For each colour, offsets (dy, dx, 1/distance²) of photosites of that colour nearby.
        var neighbours: [[(Int, Int, Float)]] = [[], [], []]
    }

    static func phases(_ cfa: CFAPattern) -> [Phase] {
        var out: [Phase] = []
        for py in 0..<cfa.height {
            for px in 0..<cfa.width {
                func colour(_ dy: Int, _ dx: Int) -> Int {
                    cfa.colour(row: (py + dy) % cfa.height + cfa.height, column: (px + dx) % cfa.width + cfa.width)
                }
                var phase = Phase(colour: colour(0, 0))
                for (dy, dx) in directions {
                    func nearest(_ sign: Int, _ wanted: Int) -> Int {
                        for k in 1...3 where colour(sign * k * dy, sign * k * dx) == wanted { return k }
                        return 0
                    }
                    phase.greenSteps.append((nearest(1, 1), nearest(-1, 1)))
                    phase.ownSteps.append((nearest(1, phase.colour), nearest(-1, phase.colour)))
                }
                for c in 0..<3 {
                    for radius in 2...3 {
                        var list: [(Int, Int, Float)] = []
                        for dy in -radius...radius {
                            for dx in -radius...radius where (dy != 0 || dx != 0) && colour(dy, dx) == c {
                                list.append((dy, dx, 1 / Float(dy * dy + dx * dx)))
                            }
                        }
                        if !list.isEmpty { phase.neighbours[c] = list; break }
                    }
                }
                out.append(phase)
            }
        }
        return out
    }

    public func interpolate(_ w: MosaicWindow, into strip: Strip, engine: Engine) {
        // The phase tables are small (36 entries for X-Trans); built per strip they cost far less
        // than the strip itself.
        let phases = Self.phases(w.cfa)
        let cfa = w.cfa
        let width = w.width, height = w.imageHeight
        let green = w.plane(0)
        let s = w.stride, top = w.firstRow
        @inline(__always) func phase(_ y: Int, _ x: Int) -> Phase { phases[(y % cfa.height) * cfa.width + x % cfa.width] }
        @inline(__always) func inside(_ y: Int, _ x: Int) -> Bool { y >= 0 && y < height && x >= 0 && x < width }
        @inline(__always) func value(_ y: Int, _ x: Int) -> Float { w.row(y)[x] }
        @inline(__always) func g(_ y: Int, _ x: Int) -> Float { green[(y - top) * s + x] }

        // Step 1: green everywhere over the strip and 3 rows around it.
        let first = max(0, strip.firstRow - 3), last = min(height, strip.firstRow + strip.rows + 3)
        for y in first..<last {
            for x in 0..<width {
                let p = phase(y, x)
                let centre = value(y, x)
                var estimate = centre
                if p.colour != 1 {
                    var sum: Float = 0, weights: Float = 0
                    for (d, (dy, dx)) in Self.directions.enumerated() {
                        let (kf, kb) = p.greenSteps[d]
                        guard kf > 0, kb > 0, inside(y + kf * dy, x + kf * dx), inside(y - kb * dy, x - kb * dx) else { continue }
                        let gf = value(y + kf * dy, x + kf * dx), gb = value(y - kb * dy, x - kb * dx)
                        let e = (Float(kb) * gf + Float(kf) * gb) / Float(kf + kb)
                        var gradient = Swift.abs(gf - gb)
                        let (jf, jb) = p.ownSteps[d]
                        if jf > 0, inside(y + jf * dy, x + jf * dx) { gradient += Swift.abs(centre - value(y + jf * dy, x + jf * dx)) }
                        if jb > 0, inside(y - jb * dy, x - jb * dx) { gradient += Swift.abs(centre - value(y - jb * dy, x - jb * dx)) }
                        let wgt = 1 / ((Self.eps + gradient) * (Self.eps + gradient))
                        sum += wgt * e
                        weights += wgt
                    }
                    if weights > 0 {
                        estimate = sum / weights
                    } else {
                        // Near a corner: the mean of the green photosites inside the image.
                        var total: Float = 0, n: Float = 0
                        for (dy, dx, _) in p.neighbours[1] where inside(y + dy, x + dx) { total += value(y + dy, x + dx); n += 1 }
                        estimate = n > 0 ? total / n : centre
                    }
                }
                green[(y - top) * s + x] = estimate
            }
        }

        // Step 2: red and blue from colour differences.
        for row in 0..<strip.rows {
            let y = strip.firstRow + row
            for x in 0..<width {
                let p = phase(y, x)
                let gc = g(y, x)
                var rgb = SIMD3<Float>(0, gc, 0)
                for c in [0, 2] {
                    if p.colour == c { rgb[c] = value(y, x); continue }
                    var sum: Float = 0, weights: Float = 0
                    for (dy, dx, inverseDistance) in p.neighbours[c] where inside(y + dy, x + dx) {
                        let go = g(y + dy, x + dx)
                        let wgt = inverseDistance / (Self.eps + Swift.abs(go - gc))
                        sum += wgt * (value(y + dy, x + dx) - go)
                        weights += wgt
                    }
                    rgb[c] = weights > 0 ? Swift.max(0, gc + sum / weights) : gc
                }
                let i = row * strip.width + x
                strip.r[i] = rgb[0]; strip.g[i] = Swift.max(0, rgb[1]); strip.b[i] = rgb[2]
            }
        }
    }
}

/// Highlight reconstruction on the mosaic: a clipped photosite is re-estimated from the colours
/// that did not clip around it ("inpaint opposed"), so clipped highlights regain plausible colour
/// and shape, and where everything clipped they become a neutral white.
///
/// What (on normalised, white-balanced mosaic values, where colour c clips at `clip[c]`, its
/// white balance multiplier scaled so the smallest is 1):
/// 1. `prepare` — once per image — finds photosites that did not clip but touch a clipped one
///    (3×3), and for each colour averages `v − ref`, where `ref` is the mean of the two other
///    ("opposed") colours around it: the chroma of the light at the edge of clipped areas.
/// 2. Per photosite, a clipped value becomes `max(v, ref + chroma[c])`; when every opposed
///    photosite around it clipped too, it becomes `max(clip)` for every colour, i.e. a neutral.
///    The neighbourhood is 3×3, or 5×5 where a colour is missing from the 3×3 (X-Trans).
/// Why: `clip` and `blend` make highlights white; this keeps the colour of a bright light where
/// the sensor recorded some of it (the unclipped channels) and extends the gradient into the
/// clipped core, while a fully clipped core stays neutral — never magenta or cyan.
/// Reference: the "inpaint opposed" idea of darktable's highlight reconstruction (H. Schwalm,
/// darktable 4.2, 2022): clipped photosites from the mean of opposed colours plus a chroma
/// correction measured around clipped segments. Written here from that description; the
/// segmentation darktable adds is not done, the neutral rule for fully clipped areas is Emulsion's.
/// Colour space: white-balanced camera RGB mosaic (before demosaic) in and out; values may end
/// above 1 (scene light above white), which later stages keep until the output encoding clips.
public struct HighlightReconstruction: MosaicStage {
    public let cfa: CFAPattern
    /// Normalised level at which each colour counts as clipped.
    public let threshold: SIMD3<Float>
    /// Value given to fully clipped photosites (the largest clip level).
    public let neutral: Float
    /// Mean `v − ref` per colour at the unclipped edge of clipped areas.
    public let chroma: SIMD3<Float>
    /// Per CFA phase (row-major): for each colour, the offsets of its photosites nearby.
    let neighbours: [[[(Int, Int)]]]

    public var halo: Int { 2 }

    /// The part of a clipped photosite's range that still counts as clipped (DN noise, rounding).
    public static let clippedFraction: Float = 0.99

    public init(cfa: CFAPattern, clipLevels: SIMD3<Float>, chroma: SIMD3<Float>) {
        self.cfa = cfa
        threshold = clipLevels * Self.clippedFraction
        neutral = clipLevels.max()
        self.chroma = chroma
        neighbours = Self.neighbourTable(cfa)
    }

    static func neighbourTable(_ cfa: CFAPattern) -> [[[(Int, Int)]]] {
        var table: [[[(Int, Int)]]] = []
        for py in 0..<cfa.height {
            for px in 0..<cfa.width {
                var perColour: [[(Int, Int)]] = []
                for c in 0..<3 {
                    var list: [(Int, Int)] = []
                    for radius in 1...2 {
                        list = []
                        for dy in -radius...radius {
                            for dx in -radius...radius where (dy != 0 || dx != 0)
                                && cfa.colour(row: py + dy + cfa.height, column: px + dx + cfa.width) == c {
                                list.append((dy, dx))
                            }
                        }
                        if !list.isEmpty { break }
                    }
                    perColour.append(list)
                }
                table.append(perColour)
            }
        }
        return table
    }

    /// Measures the chroma correction on the whole raw (the prepare step; one pass, reading
    /// only around clipped photosites). `normalise(sample, y, x)` is the source's normalisation
    /// without a ceiling below the clip levels.
    public static func prepare(samples: [UInt16], width: Int, height: Int, cfa: CFAPattern,
                               normalisation: RawNormalisation, clipLevels: SIMD3<Float>) -> HighlightReconstruction {
        let threshold = clipLevels * clippedFraction
        let table = neighbourTable(cfa)
        var sum = SIMD3<Double>(repeating: 0), count = SIMD3<Double>(repeating: 0)
        samples.withUnsafeBufferPointer { s in
            func value(_ y: Int, _ x: Int) -> Float {
                let n = normalisation
                let phase = (y % n.periodHeight) * n.rowStride + x % n.periodWidth
                return RawNormalisation.normalise(Float(s[y * width + x]), black: n.blacks[phase], gain: n.gains[phase], ceiling: n.ceiling)
            }
            func clipped(_ y: Int, _ x: Int) -> Bool { value(y, x) >= threshold[cfa.colour(row: y, column: x)] }
            // Rows of "is clipped", three at a time, so each photosite is normalised about twice.
            var marks = [[Bool]](repeating: [Bool](repeating: false, count: width), count: height > 0 ? 3 : 0)
            func mark(_ y: Int) -> [Bool] { (0..<width).map { clipped(y, $0) } }
            guard height >= 3, width >= 3 else { return }
            marks[0] = mark(0); marks[1] = mark(1)
            for y in 1..<(height - 1) {
                marks[(y + 1) % 3] = mark(y + 1)
                let above = marks[(y - 1) % 3], here = marks[y % 3], below = marks[(y + 1) % 3]
                guard above.contains(true) || here.contains(true) || below.contains(true) else { continue }
                for x in 1..<(width - 1) where !here[x] {
                    let touches = above[x - 1] || above[x] || above[x + 1] || here[x - 1] || here[x + 1]
                        || below[x - 1] || below[x] || below[x + 1]
                    guard touches else { continue }
                    let c = cfa.colour(row: y, column: x)
                    let list = table[(y % cfa.height) * cfa.width + x % cfa.width]
                    var ref: Float = 0, parts: Float = 0
                    for o in 0..<3 where o != c {
                        var total: Float = 0, n: Float = 0
                        for (dy, dx) in list[o] where y + dy >= 0 && y + dy < height && x + dx >= 0 && x + dx < width {
                            total += value(y + dy, x + dx); n += 1
                        }
                        if n > 0 { ref += total / n; parts += 1 }
                    }
                    guard parts == 2 else { continue }
                    sum[c] += Double(value(y, x) - ref / 2)
                    count[c] += 1
                }
            }
        }
        var chroma = SIMD3<Float>(repeating: 0)
        for c in 0..<3 where count[c] > 0 { chroma[c] = Float(sum[c] / count[c]) }
        return HighlightReconstruction(cfa: cfa, clipLevels: clipLevels, chroma: chroma)
    }

    public func process(_ input: MosaicWindow, into output: MosaicWindow, engine: Engine) {
        let width = input.width, height = input.imageHeight
        let bayer = cfa.isBayer
        for i in 0..<output.rows {
            let y = output.firstRow + i
            let source = input.row(y), target = output.row(y)
            // Mirrored rows of a non-Bayer layout do not have the layout's colours: they are not
            // reconstructed (no algorithm reads them either).
            let realRow = y >= 0 && y < height
            let py = ((y % cfa.height) + cfa.height) % cfa.height
            for x in 0..<width {
                let v = source[x]
                let c = cfa.colour(row: py, column: x)
                guard v >= threshold[c], bayer || realRow else { target[x] = v; continue }
                let list = neighbours[py * cfa.width + x % cfa.width]
                var ref: Float = 0, parts: Float = 0
                var anyUnclipped = false
                for o in 0..<3 where o != c {
                    var total: Float = 0, n: Float = 0
                    for (dy, dx) in list[o] {
                        let yy = y + dy, xx = x + dx
                        guard bayer || (yy >= 0 && yy < height && xx >= 0 && xx < width) else { continue }
                        let u = input.row(yy)[xx]
                        if u < threshold[o] { anyUnclipped = true }
                        total += u; n += 1
                    }
                    if n > 0 { ref += total / n; parts += 1 }
                }
                if !anyUnclipped {
                    target[x] = Swift.max(v, neutral)
                } else {
                    target[x] = Swift.max(v, ref / Swift.max(parts, 1) + chroma[c])
                }
            }
        }
    }
}

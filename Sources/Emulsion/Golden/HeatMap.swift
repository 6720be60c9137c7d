import EmulsionCore
import EmulsionIO

/// A picture of where two images differ: ΔE00 per pixel mapped to colour, with a legend.
///
/// What: pixels with ΔE00 below `GoldenTolerance.identicalBelow` (0.01) show the approved image as a
/// dim grey (from its L*), so the scene stays recognisable; every other pixel takes a colour from a
/// fixed scale with knots at ΔE00 0, 0.5, 1, 2.3, 5 and 10 (dark blue → blue → cyan → yellow →
/// orange → magenta; 10 and above stay magenta). Knot 2.3 is the default max limit and the point
/// where the scale turns warm. Below the image a legend shows the scale bar with its numbers, a grey
/// "SAME" swatch, and a caption (the case's figures), drawn with `BitmapFont`.
/// When the map is smaller than the image (`maxSide`), each map pixel shows the largest ΔE00 of its
/// block, so a single bad pixel is never averaged away.
/// Why: the numbers say how much changed; the map says where (issue 6). One fixed scale makes maps
/// of different cases and runs comparable.
/// Colour space out: 8-bit sRGB (the sRGB ICC profile is embedded).
public enum HeatMap {
    public typealias Colour = (UInt8, UInt8, UInt8)

    /// ΔE00 knots and their colours, equally spaced along the legend bar.
    public static let knots: [(deltaE: Double, colour: Colour, label: String)] = [
        (0, (30, 40, 150), "0"),
        (0.5, (0, 110, 235), "0.5"),
        (1, (0, 200, 200), "1"),
        (2.3, (245, 225, 0), "2.3"),
        (5, (255, 100, 0), "5"),
        (10, (235, 0, 170), "10+"),
    ]

    /// Legend background and text colours.
    public static let background: Colour = (32, 32, 32)
    public static let textColour: Colour = (235, 235, 235)

    /// The scale colour of `deltaE` (linear between knots, clamped at both ends; NaN is the top colour).
    public static func colour(deltaE: Double) -> Colour {
        guard !deltaE.isNaN else { return knots[knots.count - 1].colour }
        if deltaE <= knots[0].deltaE { return knots[0].colour }
        for k in 1..<knots.count where deltaE < knots[k].deltaE {
            let (a, b) = (knots[k - 1], knots[k])
            return mix(a.colour, b.colour, (deltaE - a.deltaE) / (b.deltaE - a.deltaE))
        }
        return knots[knots.count - 1].colour
    }

    /// The grey an unchanged pixel shows: 30…120 with the approved image's L* 0…100.
    public static func underlay(lightness: Float) -> Colour {
        let l = lightness.isNaN ? 0 : Swift.min(Swift.max(lightness, 0), 100)
        let v = UInt8((30 + l * 0.9).rounded())
        return (v, v, v)
    }

    /// Whether a heat-map colour is the underlay (grey), i.e. the pixel did not change.
    public static func isUnderlay(_ c: Colour) -> Bool { c.0 == c.1 && c.1 == c.2 }

    /// Where the parts of a heat map are.
    public struct Layout: Sendable, Equatable {
        public var width: Int
        public var height: Int
        /// The map of the image (top-left corner and size).
        public var mapX: Int
        public var mapY: Int
        public var mapWidth: Int
        public var mapHeight: Int
        /// Pixels of the comparison per map pixel (each way).
        public var factor: Int
        public var scale: Int
        public var legendY: Int
    }

    static let legendRows = 35 // 4 + 7 (caption) + 3 + 8 (bar) + 2 + 7 (labels) + 4, times the scale
    static func minimumWidth(scale: Int) -> Int { 175 * scale }

    /// The layout for a `width`×`height` comparison; the canvas is widened (map centred) where the
    /// legend or `caption` needs more room than the map.
    public static func layout(width: Int, height: Int, maxSide: Int? = nil, caption: String = "") -> Layout {
        let f = maxSide.map { ImageReduction.factor(width: width, height: height, maxSide: $0) } ?? 1
        let mw = max(1, width / f), mh = max(1, height / f)
        let scale = mw >= 480 ? 2 : 1
        let w = max(mw, minimumWidth(scale: scale), BitmapFont.width(caption, scale: scale) + 8 * scale)
        return Layout(width: w, height: mh + legendRows * scale, mapX: (w - mw) / 2, mapY: 0, mapWidth: mw, mapHeight: mh,
                      factor: f, scale: scale, legendY: mh)
    }

    /// The heat map of `comparison`, at most `maxSide` pixels on the map's longer side.
    public static func canvas(_ comparison: ImageComparison, maxSide: Int? = nil, caption: String) -> (RGBCanvas, Layout) {
        let L = layout(width: comparison.width, height: comparison.height, maxSide: maxSide, caption: caption)
        var canvas = RGBCanvas(width: L.width, height: L.height, fill: background)
        let f = L.factor
        comparison.deltaE.withUnsafeBufferPointer { d in
            comparison.approvedLightness.withUnsafeBufferPointer { l in
                for y in 0..<L.mapHeight {
                    for x in 0..<L.mapWidth {
                        var worst: Float = 0, lightSum: Float = 0
                        for yy in (y * f)..<min(comparison.height, y * f + f) {
                            for xx in (x * f)..<min(comparison.width, x * f + f) {
                                let i = yy * comparison.width + xx
                                let e = d[i]
                                if e.isNaN || e > worst { worst = e.isNaN ? .infinity : e }
                                lightSum += l[i]
                            }
                        }
                        let n = Float(min(f, comparison.height - y * f) * min(f, comparison.width - x * f))
                        let c = Double(worst) < GoldenTolerance.identicalBelow ? underlay(lightness: lightSum / n) : colour(deltaE: Double(worst))
                        canvas.set(L.mapX + x, L.mapY + y, c)
                    }
                }
            }
        }
        drawLegend(&canvas, L, caption: caption)
        return (canvas, L)
    }

    /// The heat map as an 8-bit sRGB PNG image.
    public static func image(_ comparison: ImageComparison, maxSide: Int? = nil, caption: String) throws -> PNGImage {
        let (canvas, _) = self.canvas(comparison, maxSide: maxSide, caption: caption)
        return PNGImage(width: canvas.width, height: canvas.height, bitDepth: 8, channels: 3,
                        samples: canvas.pixels.map { UInt16($0) }, iccProfile: try OutputSpace.sRGB.iccProfile())
    }

    /// Legend bar geometry: the grey swatch, then the bar with the knots equally spaced.
    public static func barGeometry(_ L: Layout) -> (swatchX: Int, swatchWidth: Int, barX: Int, barWidth: Int, y: Int, height: Int) {
        let s = L.scale, pad = 4 * s
        let swatchX = pad, swatchWidth = BitmapFont.width("SAME", scale: s)
        let barX = swatchX + swatchWidth + 10 * s
        let barWidth = L.width - barX - pad - 9 * s // room for half of the last label
        return (swatchX, swatchWidth, barX, barWidth, L.legendY + pad + 10 * s, 8 * s)
    }

    static func drawLegend(_ canvas: inout RGBCanvas, _ L: Layout, caption: String) {
        let s = L.scale, pad = 4 * s
        let maxChars = max(0, (L.width - 2 * pad + s) / (BitmapFont.advance * s))
        var text = caption.uppercased()
        if text.count > maxChars { text = String(text.prefix(max(0, maxChars - 1))) + "." }
        canvas.draw(text, x: pad, y: L.legendY + pad, scale: s, colour: textColour)

        let g = barGeometry(L)
        canvas.fillRect(x: g.swatchX, y: g.y, width: g.swatchWidth, height: g.height, colour: underlay(lightness: 50))
        let labelY = g.y + g.height + 2 * s
        canvas.draw("SAME", x: g.swatchX, y: labelY, scale: s, colour: textColour)
        let segments = Double(knots.count - 1)
        for x in 0..<max(1, g.barWidth) {
            // Position along the bar → ΔE, piecewise linear between equally spaced knots.
            let t = Double(x) / Double(max(1, g.barWidth - 1)) * segments
            let k = min(Int(t), knots.count - 2)
            let e = knots[k].deltaE + (t - Double(k)) * (knots[k + 1].deltaE - knots[k].deltaE)
            canvas.fillRect(x: g.barX + x, y: g.y, width: 1, height: g.height, colour: colour(deltaE: e))
        }
        for (k, knot) in knots.enumerated() {
            let cx = g.barX + Int((Double(k) / segments * Double(max(1, g.barWidth - 1))).rounded())
            canvas.fillRect(x: cx, y: g.y + g.height, width: s, height: 2 * s, colour: textColour)
            let w = BitmapFont.width(knot.label, scale: s)
            let x = min(max(cx - w / 2, 0), L.width - w)
            canvas.draw(knot.label, x: x, y: labelY, scale: s, colour: textColour)
        }
    }

    static func mix(_ a: Colour, _ b: Colour, _ t: Double) -> Colour {
        func m(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8((Double(x) + (Double(y) - Double(x)) * t).rounded()) }
        return (m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
    }
}

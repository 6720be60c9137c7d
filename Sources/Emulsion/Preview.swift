import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Quick looks at many renders of one raw: a reduced raw for speed, and a labelled contact sheet.
public enum Preview {
    /// A smaller raw for previews: whole CFA periods binned into one RGB pixel (each colour's
    /// photosites averaged after black subtraction), then stored as a linear three-channel raw
    /// with black 0. Colour, white balance and metadata are kept, so it renders through the same
    /// stages (no demosaic needed). An image already small enough is returned as is.
    ///
    /// What a phone DNG asks of the render comes along: its lens shading (DNG GainMaps) is
    /// applied to each photosite before binning when `appliesLensShading` (the renderer cannot
    /// apply it to the binned pixels: `RGBSource` has no gain maps), with the white level lowered
    /// so gains above 1 keep their headroom; its lens warp, vignette and picture areas
    /// (DefaultCrop, DefaultUserCrop) are scaled to the binned frame, so a look previews on the picture the
    /// full render makes. (Without them a phone preview showed the corners up to 0.9 EV dark and
    /// the crop moved by its margin.)
    public static func downscaled(_ raw: RawImage, maxSide: Int, appliesLensShading: Bool = true) -> RawImage {
        let period: (Int, Int)
        switch raw.layout {
        case .mosaic(let cfa): period = (cfa.width, cfa.height)
        case .rgb: period = (1, 1)
        }
        let step = max(period.0, period.1)
        var block = max(1, Int((Double(max(raw.width, raw.height)) / Double(max(maxSide, 1))).rounded(.up)))
        block = max(step, (block + step - 1) / step * step)
        if case .rgb = raw.layout, block == 1 { return raw }
        let w = raw.width / block, h = raw.height / block
        guard w >= 1, h >= 1 else { return raw }
        var shading: LensShading?
        if appliesLensShading, case .mosaic = raw.layout { shading = raw.lensShading }
        // The largest gain a photosite can get (each map's largest, multiplied): the headroom kept.
        let headroom = Double(shading.map { $0.maps.reduce(Float(1)) { $0 * max(1, $1.gains.max() ?? 1) } } ?? 1)
        let white = max(1, Int((65535 / headroom).rounded(.down)))
        var samples = [UInt16](repeating: 0, count: 3 * w * h)
        var sums = [SIMD3<Double>](repeating: .zero, count: w), counts = sums
        var gains = [Float](repeating: 1, count: raw.width + 16)
        let columns = shading?.columns(width: raw.width)
        let levels = raw.levels
        raw.samples.withUnsafeBufferPointer { input in
            for oy in 0..<h {
                for i in 0..<w { sums[i] = .zero; counts[i] = .zero }
                for y in (oy * block)..<(oy * block + block) {
                    if let shading, let columns { gains.withUnsafeMutableBufferPointer { shading.rowGains(y: y, columns: columns, into: $0.baseAddress!) } }
                    for x in 0..<(w * block) {
                        let black = Double(levels.black(row: y, column: x))
                        let range = max(Double(levels.white) - black, 1)
                        let ox = x / block
                        switch raw.layout {
                        case .mosaic(let cfa):
                            let c = cfa.colour(row: y, column: x)
                            sums[ox][c] += max(Double(input[y * raw.width + x]) - black, 0) / range * Double(gains[x])
                            counts[ox][c] += 1
                        case .rgb:
                            for c in 0..<3 {
                                sums[ox][c] += max(Double(input[3 * (y * raw.width + x) + c]) - black, 0) / range
                                counts[ox][c] += 1
                            }
                        }
                    }
                }
                for ox in 0..<w {
                    for c in 0..<3 {
                        let mean = counts[ox][c] > 0 ? sums[ox][c] / counts[ox][c] : 0
                        // A hostile file's gain maps can overflow to ∞, and 0 · ∞ is not a number: read as 0.
                        let value = mean * Double(white)
                        samples[3 * (oy * w + ox) + c] = value.isNaN ? 0 : UInt16(min(max(value, 0), 65535) + 0.5)
                    }
                }
            }
        }
        var small = RawImage(width: w, height: h, layout: .rgb, samples: samples, levels: SensorLevels(black: 0, white: Float(white)),
                             colour: raw.colour, metadata: raw.metadata)
        small.lensWarp = raw.lensWarp?.binned(by: block)
        small.lensVignette = raw.lensVignette?.binned(by: block)
        let frame = ImageRectangle(x: 0, y: 0, width: w, height: h)
        small.metadata.defaultCrop = raw.metadata.defaultCrop?.binned(by: block)?.within(frame)
        small.metadata.userCrop = raw.metadata.userCrop?.binned(by: block)?.within(frame)
        return small
    }

    /// `profile` for a render of a reduced image: a spot white balance's rectangle, given in the
    /// full image's output pixels, scaled by `scale` (reduced ÷ full size) so it covers the same
    /// part of the picture. Other profiles are returned as they are.
    public static func scalingSpot(_ profile: Profile, by scale: Double) throws -> Profile {
        guard scale != 1, profile.choice("whiteBalance", "mode") == WhiteBalanceMode.spot.rawValue else { return profile }
        let n = { profile.number("whiteBalance", $0) }
        guard n("spotWidth") >= 1, n("spotHeight") >= 1 else { return profile }
        let x = (n("spotX") * scale).rounded(.down), y = (n("spotY") * scale).rounded(.down)
        let right = ((n("spotX") + n("spotWidth")) * scale).rounded(.up), bottom = ((n("spotY") + n("spotHeight")) * scale).rounded(.up)
        return try profile.applying(overrides: [
            "whiteBalance.spotX=\(Int(x))", "whiteBalance.spotY=\(Int(y))",
            "whiteBalance.spotWidth=\(max(1, Int(right - x)))", "whiteBalance.spotHeight=\(max(1, Int(bottom - y)))",
        ])
    }

    /// Splits a sweep into its `--set` overrides, one per tile: `stage.param=from:to:count` for a
    /// number (count ≥ 2, evenly spaced), or a list `stage.param=a,b,c` of any values but curves
    /// (`demosaic.algorithm=bilinear,malvar,rcd`, `tone.contrast=1,1.3,1.7`), or
    /// `stage.param=all` for every option of a choice or both values of a switch. Every value is
    /// checked here as `--set` checks it, so a bad one is refused before anything renders.
    public static func sweep(_ text: String) throws -> [String] {
        let usage = "expected stage.param=from:to:count, a list a,b,c or all, e.g. tone.contrast=0.8:1.6:5"
        guard let eq = text.firstIndex(of: "=") else { throw RenderError("--sweep \(text): \(usage)") }
        let key = String(text[..<eq])
        let body = String(text[text.index(after: eq)...])
        let (_, declaration) = try StageCatalogue.parameter(key, in: text, from: "--sweep")
        let values: [String]
        switch (declaration.kind, body) {
        case (.curve, _):
            throw RenderError("--sweep \(text): \(key) is a curve; sweep a number, a choice or a switch")
        case (.choice(let options, _), "all"): values = options
        case (.boolean, "all"): values = ["false", "true"]
        case (.number, _) where body.contains(":"):
            let parts = body.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, let a = Double(parts[0]), let b = Double(parts[1]), let n = Int(parts[2]), n >= 2, n <= 64 else {
                throw RenderError("--sweep \(text): expected stage.param=from:to:count with 2 ≤ count ≤ 64, e.g. tone.contrast=0.8:1.6:5")
            }
            values = (0..<n).map { i in
                let v = a + (b - a) * Double(i) / Double(n - 1)
                let rounded = (v * 1e6).rounded() / 1e6
                return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
            }
        default:
            values = body.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
            guard (2...64).contains(values.count), !values.contains("") else {
                throw RenderError("--sweep \(text): \(usage) (2 to 64 values, none empty)")
            }
        }
        for value in values {
            if case .failure(let problem) = declaration.parse(value) { throw RenderError("--sweep \(text): \(key): \(problem.message)") }
        }
        return values.map { "\(key)=\($0)" }
    }

    /// A labelled grid of renders (each 16- or 8-bit sRGB), as an 8-bit sRGB PNG image: tiles in
    /// rows of `columns`, each with its label under it in the built-in bitmap font (`BitmapFont`,
    /// shared with the golden-image heat maps).
    public static func contactSheet(_ tiles: [(label: String, image: RenderedImage)], columns: Int) throws -> PNGImage {
        precondition(!tiles.isEmpty)
        let cols = max(1, min(columns, tiles.count))
        let rows = (tiles.count + cols - 1) / cols
        let tileW = tiles.map(\.image.width).max()!, tileH = tiles.map(\.image.height).max()!
        let scale = max(1, min(3, tileW / 160))
        let labelH = (BitmapFont.glyphHeight + 4) * scale
        let gap = 4 * scale
        var canvas = RGBCanvas(width: cols * tileW + (cols + 1) * gap, height: rows * (tileH + labelH) + (rows + 1) * gap,
                               fill: (24, 24, 24))
        for (n, tile) in tiles.enumerated() {
            let x0 = gap + (n % cols) * (tileW + gap), y0 = gap + (n / cols) * (tileH + labelH + gap)
            let image = tile.image
            let divisor: UInt32 = image.depth == .sixteen ? 257 : 1
            func byte(_ i: Int) -> UInt8 { UInt8(min(255, (UInt32(image.samples[i]) + divisor / 2) / divisor)) }
            for y in 0..<image.height {
                for x in 0..<image.width {
                    let i = 3 * (y * image.width + x)
                    canvas.set(x0 + x, y0 + y, (byte(i), byte(i + 1), byte(i + 2)))
                }
            }
            var label = tile.label
            while BitmapFont.width(label, scale: scale) > tileW && label.count > 4 { label = String(label.dropLast(3)) + ".." }
            canvas.draw(label, x: x0, y: y0 + tileH + 2 * scale, scale: scale, colour: (235, 235, 235))
        }
        return PNGImage(width: canvas.width, height: canvas.height, bitDepth: 8, channels: 3,
                        samples: canvas.pixels.map { UInt16($0) }, iccProfile: try OutputSpace.sRGB.iccProfile())
    }
}

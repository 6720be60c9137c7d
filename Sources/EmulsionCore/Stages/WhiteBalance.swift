/// White balance: which camera RGB counts as neutral, as multipliers for `RawNormalisation`, and
/// — where the camera's XYZ→camera matrices are known — the white's chromaticity, which the DNG
/// colour model needs to pick its matrices (`DNGColourModel`).
///
/// Modes:
/// - `as-shot`: the camera's record (DNG AsShotNeutral; else LibRaw's as-shot multipliers).
/// - presets, as CIE illuminants through the camera matrices: daylight D55, cloudy D65,
///   shade D75, tungsten illuminant A, fluorescent F2 (cool white), flash D55.
///   Without any camera matrix `daylight` falls back to LibRaw's daylight multipliers.
/// - `kelvin`: correlated temperature and tint (Robertson; tint + = magenta) through the
///   dual-illuminant matrices: neutral = XYZtoCamera(T) · XYZ(xy(T, tint)).
/// - `auto`: grey world over CFA cells that are neither clipped (any photosite ≥ 98 % of
///   white) nor dark (brightest colour < 1 % of white), then refined on the cells whose balanced
///   R/G and B/G lie within a window around the current estimate that narrows from ×1.5 to
///   ×1.04 ("grey pixels"; each step keeps at least 1 % of the cells), so saturated objects,
///   clipped highlights and noise do not pull it. A scene with no neutral surfaces fools it,
///   as it fools every grey-world method.
/// - `spot`: the mean camera RGB of a rectangle the user says is neutral.
/// Reference: DNG 1.6 §6 (camera neutral ↔ white xy); CIE 15:2004 (illuminant chromaticities);
/// grey world: G. Buchsbaum, J. Franklin Inst. 310(1), 1980.
public enum WhiteBalance {
    public struct Resolved: Sendable, Equatable {
        /// Multipliers (R, G, B), green = 1.
        public var multipliers: SIMD3<Float>
        /// The white's chromaticity, when the camera's matrices allow it to be known.
        public var white: Chromaticity?
    }

    /// Rectangle in stored raw pixel coordinates.
    public struct Rect: Sendable, Equatable {
        public var x: Int, y: Int, width: Int, height: Int
        public init(x: Int, y: Int, width: Int, height: Int) { self.x = x; self.y = y; self.width = width; self.height = height }
    }

    public enum Failure: Error, Equatable {
        case needsMatrix(String)
        case emptyRegion(String)
    }

    /// CIE chromaticities of the presets (CIE 15:2004 table T.3 and T.8, 2° observer).
    public static func preset(_ mode: WhiteBalanceMode) -> Chromaticity? {
        switch mode {
        case .daylight, .flash: return Chromaticity(x: 0.33242, y: 0.34743)  // D55
        case .cloudy: return Chromaticity(x: 0.31271, y: 0.32902)  // D65
        case .shade: return Chromaticity(x: 0.29902, y: 0.31485)  // D75
        case .tungsten: return Chromaticity(x: 0.44757, y: 0.40745)  // A
        case .fluorescent: return Chromaticity(x: 0.37208, y: 0.37529)  // F2
        default: return nil
        }
    }

    /// The camera's colour model for white balance: its DNG calibrations, else LibRaw's D65 matrix.
    public static func model(_ colour: CameraColour) -> DNGColourModel? {
        if let m = DNGColourModel(colour) { return m }
        if let cm = colour.xyzToCamera, cm.inverse != nil {
            return DNGColourModel(calibrations: [.init(kelvin: 6500, colorMatrix: cm, forwardMatrix: nil, cameraCalibration: .identity)])
        }
        return nil
    }

    public static func resolve(_ raw: RawImage, mode: WhiteBalanceMode, kelvin: Double = 5500, tint: Double = 0,
                               spot: Rect? = nil) throws -> Resolved {
        let c = raw.colour
        let model = model(c)
        func fromNeutral(_ n: SIMD3<Double>) -> Resolved {
            Resolved(multipliers: multipliers(neutral: n), white: model.map { $0.white(neutral: n) })
        }
        func fromWhite(_ xy: Chromaticity) throws -> Resolved {
            guard let model else { throw Failure.needsMatrix("\(mode.rawValue) white balance needs the camera's colour matrix, which this file lacks") }
            return Resolved(multipliers: multipliers(neutral: model.neutral(white: xy)), white: xy)
        }
        switch mode {
        case .asShot:
            if let n = c.asShotNeutral { return fromNeutral(SIMD3<Double>(n)) }
            if let xy = c.asShotWhiteXY, model != nil { return try fromWhite(xy) }
            if let m = c.asShotMultipliers ?? c.daylightMultipliers { return fromNeutral(1 / SIMD3<Double>(m)) }
            return fromNeutral(.one)
        case .daylight where model == nil:
            return Resolved(multipliers: c.daylightMultipliers ?? c.asShotMultipliers ?? .one, white: nil)
        case .daylight, .cloudy, .shade, .tungsten, .fluorescent, .flash:
            return try fromWhite(preset(mode)!)
        case .kelvin:
            return try fromWhite(ColourTemperature.chromaticity(kelvin: kelvin, tint: tint))
        case .auto:
            return fromNeutral(autoNeutral(raw))
        case .spot:
            guard let spot, let n = meanCameraRGB(raw, in: spot) else {
                throw Failure.emptyRegion("spot white balance needs a rectangle inside the image (--wb-rect x,y,w,h)")
            }
            return fromNeutral(n)
        }
    }

    /// Multipliers 1/neutral with green = 1 (neutral components ≤ 0 count as 1).
    public static func multipliers(neutral n: SIMD3<Double>) -> SIMD3<Float> {
        var m = SIMD3<Double>(repeating: 1)
        for i in 0..<3 where n[i] > 0 && n[i].isFinite { m[i] = 1 / n[i] }
        return SIMD3<Float>(m / m.y)
    }

    /// Camera RGB (fraction of white − black, no balance) of each CFA cell, visited with `step`
    /// cells between samples; `body(rgb, clipped)`.
    static func cells(_ raw: RawImage, region: Rect? = nil, maxCells: Int = 250_000,
                      _ body: (SIMD3<Double>, Bool) -> Void) {
        let cw: Int, ch: Int
        switch raw.layout {
        case .mosaic(let cfa): (cw, ch) = (cfa.width, cfa.height)
        case .rgb: (cw, ch) = (1, 1)
        }
        let r = region ?? Rect(x: 0, y: 0, width: raw.width, height: raw.height)
        let x0 = (r.x / cw) * cw, y0 = (r.y / ch) * ch
        let columns = max(0, (r.x + r.width - x0) / cw), rows = max(0, (r.y + r.height - y0) / ch)
        guard columns > 0, rows > 0 else { return }
        let step = max(1, Int((Double(columns * rows) / Double(maxCells)).squareRoot()))
        let white = Double(raw.levels.white)
        raw.samples.withUnsafeBufferPointer { s in
            for cy in stride(from: 0, to: rows, by: step) {
                for cx in stride(from: 0, to: columns, by: step) {
                    var sum = SIMD3<Double>(repeating: 0), count = SIMD3<Double>(repeating: 0)
                    var clipped = false
                    for dy in 0..<ch {
                        for dx in 0..<cw {
                            let y = y0 + cy * ch + dy, x = x0 + cx * cw + dx
                            guard y < raw.height, x < raw.width else { continue }
                            let black = Double(raw.levels.black(row: y, column: x))
                            let range = max(white - black, 1)
                            switch raw.layout {
                            case .mosaic(let cfa):
                                let v = (Double(s[y * raw.width + x]) - black) / range
                                if v >= 0.98 { clipped = true }
                                let colour = cfa.colour(row: y, column: x)
                                sum[colour] += v; count[colour] += 1
                            case .rgb:
                                for k in 0..<3 {
                                    let v = (Double(s[3 * (y * raw.width + x) + k]) - black) / range
                                    if v >= 0.98 { clipped = true }
                                    sum[k] += v; count[k] += 1
                                }
                            }
                        }
                    }
                    guard count.x > 0, count.y > 0, count.z > 0 else { continue }
                    body(sum / count, clipped)
                }
            }
        }
    }

    /// Robust grey world (see the type's documentation).
    public static func autoNeutral(_ raw: RawImage) -> SIMD3<Double> {
        var samples: [SIMD3<Double>] = []
        var fallback: [SIMD3<Double>] = []
        cells(raw) { rgb, clipped in
            guard !clipped else { return }
            fallback.append(rgb)
            if max(rgb.x, rgb.y, rgb.z) >= 0.01 { samples.append(rgb) }
        }
        if samples.count < 64 { samples = fallback }
        guard !samples.isEmpty else { return .one }
        func mean(_ list: [SIMD3<Double>]) -> SIMD3<Double> { list.reduce(.zero, +) / Double(list.count) }
        var neutral = mean(samples)
        for tolerance in [1.5, 1.3, 1.15, 1.08, 1.04] {
            let kept = samples.filter { s in
                let b = s / neutral
                guard b.y > 0 else { return false }
                let rg = b.x / b.y, bg = b.z / b.y
                return rg > 1 / tolerance && rg < tolerance && bg > 1 / tolerance && bg < tolerance
            }
            guard kept.count >= max(16, samples.count / 100) else { break }
            neutral = mean(kept)
        }
        return neutral.y > 0 ? neutral / neutral.y : .one
    }

    /// Mean camera RGB over a rectangle of stored pixels (clipped cells left out), or nil if empty.
    public static func meanCameraRGB(_ raw: RawImage, in rect: Rect) -> SIMD3<Double>? {
        let x0 = max(0, rect.x), y0 = max(0, rect.y)
        let x1 = min(raw.width, rect.x + rect.width), y1 = min(raw.height, rect.y + rect.height)
        guard x1 > x0, y1 > y0 else { return nil }
        var sum = SIMD3<Double>(repeating: 0)
        var n = 0.0
        cells(raw, region: Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0), maxCells: .max) { rgb, clipped in
            guard !clipped else { return }
            sum += rgb; n += 1
        }
        guard n > 0, sum.x > 0, sum.y > 0, sum.z > 0 else { return nil }
        return sum / n
    }
}

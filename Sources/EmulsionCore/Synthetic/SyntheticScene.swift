#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A synthetic raw capture whose true colours are known: a ColorChecker chart, a neutral ramp, six
/// saturated ramps and a smooth sky, photographed by a model camera under D65, as a Bayer `RawImage`.
///
/// What: `SyntheticScene().render()` paints the scene in XYZ, maps every photosite through the
/// camera model (`raw = rawScale · cameraFromXYZ · XYZ`, one CFA colour per photosite), adds
/// black, quantises to 16-bit DN and clips at white. It records the camera's colour like a DNG would
/// (ColorMatrix for D65, AsShotNeutral) and like LibRaw would (`rgb_cam`, multipliers).
/// Why: `emulsion process` with no input renders it, so a fresh clone has something real to process,
/// and tests use it as an input with exact ground truth (`chartPatches`, `sceneXYZ(x:y:)`).
///
/// Camera model: the default matrix is the Canon EOS 5D Mark II ColorMatrix2 (D65) from Adobe DNG
/// Converter as dcraw's and LibRaw's `adobe_coeff` table carry it ({4716, 603, -830, -7798, 15474,
/// 2480, -1496, 1937, 6651} / 10000). `cameraToSRGB` follows LibRaw's `cam_xyz_coeff`: cam_rgb =
/// cam_xyz · xyz_rgb, rows normalised to sum to 1, then inverted (pseudo-inverse of a 3×3). LibRaw's
/// xyz_rgb constant is replaced by the project's own sRGB → XYZ matrix (`RGBPrimaries.sRGB.toXYZ`, same
/// primaries, D65 white differing in the fourth decimal) so that the chart round-trips exactly.
///
/// Exposure: the brightest raw channel of the white patch sits at `whitePatchLevel` (0.8) of
/// white − black (`rawScale`), so the perfect diffuser lands near 0.91 and the grey ramp goes past
/// clipping. A pipeline that white-balances with `asShotMultipliers` (green = 1) and applies
/// `cameraToSRGB`, as LibRaw does, renders every colour at `exposureScale` (≈ 0.91) times its linear
/// sRGB; that scale is recorded as BaselineExposure = −log2(exposureScale) EV, so a pipeline that
/// applies BaselineExposure renders the chart at its reference XYZ (tests of one that does not divide
/// by `exposureScale`).
///
/// Colour spaces: scene colours are XYZ relative to D65 with the Y of the perfect white diffuser = 1
/// (chart values Bradford-adapted from the published D50 Lab, see `ColorCheckerReference`); raw values
/// are camera RGB (sensor primaries), not white-balanced; `cameraToSRGB` maps white-balanced camera
/// RGB to linear sRGB (D65). All pixel coordinates are in the stored image (x right, y down).
///
/// Deterministic: no Foundation randomness. Optional sensor noise comes from a seeded SplitMix64
/// generator and a sum-of-uniforms Gaussian (pure integer and IEEE arithmetic, identical on every
/// platform).
public struct SyntheticScene: Sendable {
    public typealias Rect = ImageRectangle

    /// Where everything sits; derived from the image size only.
    public struct Layout: Sendable, Equatable {
        /// The 24 patches, row-major like `ColorCheckerReference.patches`.
        public var chartPatches: [Rect]
        /// Left → right: reflectance 0 → `greyRampEnd` (a neutral, D65).
        public var greyRamp: Rect
        /// Top → bottom: red, green, blue, cyan, magenta, yellow; each left → right from black to its colour.
        public var colourRamps: [Rect]
        /// A smooth two-dimensional gradient (deep blue at the top, pale at the bottom, brighter to the right).
        public var sky: Rect
    }

    /// One chart patch with everything a test needs to measure a rendering of it.
    public struct ChartPatchTruth: Sendable, Equatable {
        public let reference: ColorCheckerReference.Patch
        /// The whole painted patch.
        public let rect: Rect
        /// The patch inset by 20 % on every side: uniform in the raw and far enough from the edges
        /// that no demosaic or highlight stage reaches across. Measure here.
        public let sampleRect: Rect
        /// Scene XYZ relative to D65, perfect white Y = 1.
        public let xyzD65: SIMD3<Double>
        /// Published CIELAB D50 (the truth to compare ΔE2000 against, after adapting the rendering to D50).
        public var labD50: SIMD3<Double> { reference.labD50 }
        /// Linear sRGB (D65) of `xyzD65`, unclipped: what a neutral pipeline gives after BaselineExposure
        /// (`exposureScale` times this before it).
        public let linearSRGB: SIMD3<Double>
        /// The raw camera RGB of the patch as a fraction of white − black, before white balance
        /// (`rawScale · cameraFromXYZ · xyzD65`).
        public let cameraRGB: SIMD3<Double>
        /// The noiseless sample value in DN of each CFA colour (R, G, B) inside the patch.
        public let expectedDN: SIMD3<UInt16>
    }

    public let width: Int
    public let height: Int
    /// Where everything sits; fixed by the size.
    public let layout: Layout
    public var camera: SyntheticCamera
    /// Reflectance (Y) of the neutral surround between and around everything.
    public var surroundReflectance: Double = 0.18
    /// The grey ramp ends this many times past the reflectance where the first raw channel clips.
    public var greyRampOvershoot: Double = 1.25

    /// Linear sRGB end colours of the six saturated ramps, chosen so that every point of every ramp
    /// is inside the default camera's gamut (no negative raw values) and below clipping.
    public static let colourRampEnds: [(name: String, linearSRGB: SIMD3<Double>)] = [
        ("red", SIMD3(0.90, 0.05, 0.05)), ("green", SIMD3(0.05, 0.90, 0.05)), ("blue", SIMD3(0.05, 0.05, 0.90)),
        ("cyan", SIMD3(0.05, 0.90, 0.90)), ("magenta", SIMD3(0.90, 0.05, 0.90)), ("yellow", SIMD3(0.90, 0.90, 0.05)),
    ]
    /// Linear sRGB of the sky at the top (zenith) and the bottom (horizon), on its left edge.
    public static let skyZenith = SIMD3<Double>(0.05, 0.12, 0.40)
    public static let skyHorizon = SIMD3<Double>(0.45, 0.55, 0.70)
    /// The sky brightens linearly left → right by this factor range.
    public static let skyBrightness: ClosedRange<Double> = 0.85 ... 1.10

    public static let minimumWidth = 240
    public static let minimumHeight = 160

    public init(width: Int = 1200, height: Int = 800, camera: SyntheticCamera = SyntheticCamera()) {
        precondition(width >= Self.minimumWidth && height >= Self.minimumHeight,
                     "synthetic scene needs at least \(Self.minimumWidth)×\(Self.minimumHeight) pixels")
        self.width = width
        self.height = height
        self.camera = camera
        layout = Self.layout(width: width, height: height)
    }

    // MARK: Layout

    static func layout(width: Int, height: Int) -> Layout {
        let mx = max(2, width / 30), my = max(2, height / 20)
        let chartW = width * 3 / 5, chartH = height * 3 / 5
        let pitchX = chartW / ColorCheckerReference.columns, pitchY = chartH / ColorCheckerReference.rows
        let gapX = max(2, pitchX * 3 / 20), gapY = max(2, pitchY * 3 / 20)
        let patches = (0..<24).map { i -> Rect in
            let c = i % ColorCheckerReference.columns, r = i / ColorCheckerReference.columns
            return Rect(x: mx + c * pitchX + gapX / 2, y: my + r * pitchY + gapY / 2,
                        width: pitchX - gapX, height: pitchY - gapY)
        }
        let skyX = mx + chartW + mx
        let sky = Rect(x: skyX, y: my, width: width - mx - skyX, height: chartH)
        let greyY = my + chartH + my / 2
        let grey = Rect(x: mx, y: greyY, width: width - 2 * mx, height: height * 3 / 40)
        let rampsY = grey.maxY + my / 2
        let rampH = (height - my - rampsY) / Self.colourRampEnds.count
        let ramps = (0..<Self.colourRampEnds.count).map {
            Rect(x: mx, y: rampsY + $0 * rampH, width: width - 2 * mx, height: rampH)
        }
        return Layout(chartPatches: patches, greyRamp: grey, colourRamps: ramps, sky: sky)
    }

    // MARK: Camera response

    /// XYZ of the scene illuminant (D65), Y = 1: what a perfect white diffuser reflects.
    public static let whiteXYZ = Chromaticity.d65.xyz

    /// Normalised raw value (fraction of white − black, unclipped, not white-balanced) of a scene XYZ (D65).
    public func cameraRGB(xyz: SIMD3<Double>) -> SIMD3<Double> { rawScale * (camera.cameraFromXYZ * xyz) }

    /// `k` in raw = k · cameraFromXYZ · XYZ: the brightest channel of the white patch reaches
    /// `camera.whitePatchLevel`.
    public var rawScale: Double {
        let w = camera.cameraFromXYZ * ColorCheckerReference.patches[ColorCheckerReference.whiteIndex].xyzD65
        return camera.whitePatchLevel / max(w.x, w.y, w.z)
    }

    /// What a pipeline balancing with `asShotMultipliers` (green = 1) and applying `cameraToSRGB`
    /// renders: `exposureScale · linear sRGB(XYZ)`. It is `rawScale` times the raw green of the
    /// illuminant, because green = 1 white balance keeps the green level of neutrals.
    public var exposureScale: Double { rawScale * (camera.cameraFromXYZ * Self.whiteXYZ).y }

    /// BaselineExposure recorded with the image: the EV that brings the rendering back to reference XYZ.
    public var baselineExposure: Double { -log2(exposureScale) }

    /// Camera RGB of the illuminant, green = 1 (DNG AsShotNeutral).
    public var asShotNeutral: SIMD3<Double> {
        let n = camera.cameraFromXYZ * Self.whiteXYZ
        return n / n.y
    }

    /// White-balance multipliers, 1 / AsShotNeutral (green = 1).
    public var asShotMultipliers: SIMD3<Double> { 1 / asShotNeutral }

    /// White-balanced camera RGB → linear sRGB, LibRaw's `rgb_cam` for this camera.
    public var cameraToSRGB: Matrix3 { SyntheticCamera.cameraToSRGB(cameraFromXYZ: camera.cameraFromXYZ) }

    /// DNG ForwardMatrix: white-balanced reference-camera RGB → XYZ D50, mapping (1,1,1) to the
    /// ICC D50 white (the reference camera is this one with AnalogBalance and CameraCalibration undone).
    public var forwardMatrix: Matrix3 {
        let n = camera.cameraFromXYZ * Self.whiteXYZ
        let abcc = camera.analogBalanceTimesCalibration
        let reference = abcc.inverse! * n
        return ColorCheckerReference.adaptD65ToD50 * camera.cameraFromXYZ.inverse! * abcc * Matrix3.diagonal(reference)
    }

    /// The DNG calibrations this camera records: one at `calibrationIlluminant`, or two at
    /// `bracketingIlluminants` whose ColorMatrices (and ForwardMatrices) differ from the truth
    /// by ±Δ so that only interpolation in 1/CCT at the scene white's temperature (Robertson,
    /// `ColourTemperature`) gives back the true matrix: M₁ = M + (1 − g)Δ, M₂ = M − gΔ.
    public var calibrations: [DNGCalibration] {
        let abcc = camera.analogBalanceTimesCalibration
        let cm = abcc.inverse! * camera.cameraFromXYZ
        let fm = camera.recordsForwardMatrix ? forwardMatrix : nil
        guard camera.bracketingIlluminants.count == 2,
              let t1 = ColourTemperature.kelvin(lightSource: camera.bracketingIlluminants[0]),
              let t2 = ColourTemperature.kelvin(lightSource: camera.bracketingIlluminants[1]), t1 != t2 else {
            return [DNGCalibration(illuminant: camera.calibrationIlluminant, colorMatrix: cm, forwardMatrix: fm,
                                   cameraCalibration: camera.cameraCalibration)]
        }
        let white = ColourTemperature.temperature(of: ColourTemperature.chromaticity(xyz: Self.whiteXYZ)).kelvin
        // Weight of calibration 1 (either order of temperatures).
        let g = (1 / white - 1 / t2) / (1 / t1 - 1 / t2)
        // Δ for ColorMatrix: more red, less blue response (what tungsten calibrations look like);
        // for ForwardMatrix: rows summing to 0, so (1,1,1) still maps to D50.
        let dCM = Matrix3(rowMajor: [0.08, -0.02, 0.01, -0.03, 0.05, 0.02, 0.01, -0.04, -0.09])
        let dFM = Matrix3(rowMajor: [0.04, -0.03, -0.01, -0.02, 0.03, -0.01, 0.01, 0.02, -0.03])
        func plus(_ m: Matrix3, _ d: Matrix3, _ k: Double) -> Matrix3 { Matrix3(rowMajor: (0..<9).map { m.m[$0] + k * d.m[$0] }) }
        return [
            DNGCalibration(illuminant: camera.bracketingIlluminants[0], colorMatrix: plus(cm, dCM, 1 - g),
                           forwardMatrix: fm.map { plus($0, dFM, 1 - g) }, cameraCalibration: camera.cameraCalibration),
            DNGCalibration(illuminant: camera.bracketingIlluminants[1], colorMatrix: plus(cm, dCM, -g),
                           forwardMatrix: fm.map { plus($0, dFM, -g) }, cameraCalibration: camera.cameraCalibration),
        ]
    }

    /// The reflectance at which the first raw channel of a D65 neutral reaches white.
    public var clippingReflectance: Double {
        let n = cameraRGB(xyz: Self.whiteXYZ)
        return 1 / max(n.x, n.y, n.z)
    }

    /// Reflectance at the right end of the grey ramp.
    public var greyRampEnd: Double { greyRampOvershoot * clippingReflectance }

    // MARK: Ground truth

    /// The chart, with rectangles and truth values, row-major.
    public var chartPatches: [ChartPatchTruth] {
        let rects = layout.chartPatches
        let fromXYZ = RGBPrimaries.sRGB.toXYZ.inverse!
        let range = Double(camera.white - camera.black)
        return ColorCheckerReference.patches.map { p in
            let xyz = p.xyzD65
            let cam = cameraRGB(xyz: xyz)
            func dn(_ v: Double) -> UInt16 { quantise(Double(camera.black) + v * range) }
            return ChartPatchTruth(reference: p, rect: rects[p.index], sampleRect: rects[p.index].inset(by: 0.2),
                                   xyzD65: xyz, linearSRGB: fromXYZ * xyz, cameraRGB: cam,
                                   expectedDN: SIMD3(dn(cam.x), dn(cam.y), dn(cam.z)))
        }
    }

    /// The scene colour (XYZ, D65, perfect white Y = 1) seen by photosite (x, y), before the camera.
    public func sceneXYZ(x: Int, y: Int) -> SIMD3<Double> {
        let l = layout
        for (i, r) in l.chartPatches.enumerated() where r.contains(x: x, y: y) {
            return ColorCheckerReference.patches[i].xyzD65
        }
        if l.greyRamp.contains(x: x, y: y) { return greyRampXYZ(column: x, in: l.greyRamp) }
        for (i, r) in l.colourRamps.enumerated() where r.contains(x: x, y: y) {
            return colourRampXYZ(ramp: i, column: x, in: r)
        }
        if l.sky.contains(x: x, y: y) { return skyXYZ(x: x, y: y, in: l.sky) }
        return surroundReflectance * Self.whiteXYZ
    }

    func rampPosition(_ column: Int, in r: Rect) -> Double {
        r.width > 1 ? Double(column - r.x) / Double(r.width - 1) : 0
    }

    func greyRampXYZ(column: Int, in r: Rect) -> SIMD3<Double> {
        rampPosition(column, in: r) * greyRampEnd * Self.whiteXYZ
    }

    func colourRampXYZ(ramp: Int, column: Int, in r: Rect) -> SIMD3<Double> {
        RGBPrimaries.sRGB.toXYZ * (rampPosition(column, in: r) * Self.colourRampEnds[ramp].linearSRGB)
    }

    func skyXYZ(x: Int, y: Int, in r: Rect) -> SIMD3<Double> {
        let t = r.height > 1 ? Double(y - r.y) / Double(r.height - 1) : 0
        let s = rampPosition(x, in: r)
        let b = Self.skyBrightness.lowerBound + s * (Self.skyBrightness.upperBound - Self.skyBrightness.lowerBound)
        let rgb = b * ((1 - t) * Self.skyZenith + t * Self.skyHorizon)
        return RGBPrimaries.sRGB.toXYZ * rgb
    }

    // MARK: Rendering

    /// The capture: a mosaic `RawImage` with levels, colour and metadata filled in.
    public func render() -> RawImage {
        let l = layout
        let black = Double(camera.black), white = Double(camera.white), range = white - black
        let cfa = camera.cfa
        var samples = [UInt16](repeating: 0, count: width * height)
        var noise = camera.noise.map { SyntheticNoise(model: $0) }

        // Normalised raw RGB per pixel, painted region by region (surround first).
        func paint(_ r: Rect, _ rgbAt: (Int, Int) -> SIMD3<Double>) {
            for y in r.y..<r.maxY {
                for x in r.x..<r.maxX {
                    let v = rgbAt(x, y)
                    var signal = v[cfa.colour(row: y, column: x)] * range
                    if noise != nil { signal = noise!.perturb(signal) }
                    samples[y * width + x] = quantise(black + signal, white: white)
                }
            }
        }
        let surround = cameraRGB(xyz: surroundReflectance * Self.whiteXYZ)
        paint(Rect(x: 0, y: 0, width: width, height: height)) { _, _ in surround }
        for (i, r) in l.chartPatches.enumerated() {
            let v = cameraRGB(xyz: ColorCheckerReference.patches[i].xyzD65)
            paint(r) { _, _ in v }
        }
        let greyColumns = (l.greyRamp.x..<l.greyRamp.maxX).map { cameraRGB(xyz: greyRampXYZ(column: $0, in: l.greyRamp)) }
        paint(l.greyRamp) { x, _ in greyColumns[x - l.greyRamp.x] }
        for (i, r) in l.colourRamps.enumerated() {
            let columns = (r.x..<r.maxX).map { cameraRGB(xyz: colourRampXYZ(ramp: i, column: $0, in: r)) }
            paint(r) { x, _ in columns[x - r.x] }
        }
        paint(l.sky) { x, y in cameraRGB(xyz: skyXYZ(x: x, y: y, in: l.sky)) }

        let neutral = asShotNeutral, multipliers = asShotMultipliers
        let colour = CameraColour(
            asShotMultipliers: SIMD3<Float>(multipliers),
            daylightMultipliers: SIMD3<Float>(multipliers),
            cameraToSRGB: cameraToSRGB,
            dngCalibrations: calibrations,
            analogBalance: SIMD3<Float>(camera.analogBalance),
            asShotNeutral: SIMD3<Float>(neutral),
            baselineExposure: Float(baselineExposure))

        var meta = ShotMetadata()
        meta.make = camera.make
        meta.model = camera.model
        meta.software = "Emulsion synthetic scene"
        meta.iso = 100
        meta.shutterSeconds = 1.0 / 125
        meta.aperture = 5.6
        meta.focalLength = 50
        meta.lens = "Synthetic 50mm f/5.6"
        meta.timestamp = 1_717_243_200  // 2024-06-01 12:00:00 UTC, fixed so renders are reproducible
        meta.sensorWidth = width
        meta.sensorHeight = height
        meta.bitsPerSample = max(1, Int(log2(Double(camera.white) + 1).rounded(.up)))
        return RawImage(width: width, height: height, layout: .mosaic(cfa), samples: samples,
                        levels: SensorLevels(black: camera.black, white: camera.white), colour: colour, metadata: meta)
    }

    func quantise(_ dn: Double) -> UInt16 { quantise(dn, white: Double(camera.white)) }

    func quantise(_ dn: Double, white: Double) -> UInt16 {
        UInt16(min(max(dn, 0), white, 65535).rounded())
    }
}

/// The model camera of a `SyntheticScene`.
public struct SyntheticCamera: Sendable, Equatable {
    /// Photon shot noise plus Gaussian read noise, in DN.
    public struct Noise: Sendable, Equatable {
        /// Conversion gain: electrons per DN (shot-noise variance in DN² = signal DN / electronsPerDN).
        public var electronsPerDN: Double
        /// Read noise standard deviation in DN.
        public var readNoiseDN: Double
        public var seed: UInt64

        public init(electronsPerDN: Double = 2, readNoiseDN: Double = 3, seed: UInt64 = 0x5EED) {
            self.electronsPerDN = electronsPerDN
            self.readNoiseDN = readNoiseDN
            self.seed = seed
        }
    }

    public var make = "Emulsion"
    public var model = "Synthetic Chart"
    /// XYZ (D65, white Y = 1) → camera RGB: the DNG ColorMatrix for `calibrationIlluminant`.
    public var cameraFromXYZ: Matrix3 = SyntheticCamera.canonEOS5DMarkIIColorMatrix2
    /// EXIF LightSource of the matrix and of the scene: 21 (D65).
    public var calibrationIlluminant = 21
    public var cfa: CFAPattern = .rggb
    public var black: Float = 256
    /// 14-bit saturation.
    public var white: Float = 16383
    /// Level of the white patch's brightest raw channel, as a fraction of white − black.
    public var whitePatchLevel: Double = 0.8
    /// Also record a DNG ForwardMatrix (consistent with the ColorMatrix) in the calibration.
    public var recordsForwardMatrix = false
    /// Two EXIF LightSource codes: record two calibrations that bracket the true matrix
    /// (`SyntheticScene.calibrations`); empty for one calibration at `calibrationIlluminant`.
    public var bracketingIlluminants: [Int] = []
    /// DNG AnalogBalance to record (the ColorMatrix is divided by it, so colours stay true).
    public var analogBalance = SIMD3<Double>(1, 1, 1)
    /// DNG CameraCalibration to record (likewise divided out of the ColorMatrix).
    public var cameraCalibration: Matrix3 = .identity

    /// AB · CC, what the DNG colour model puts in front of the ColorMatrix.
    public var analogBalanceTimesCalibration: Matrix3 { Matrix3.diagonal(analogBalance) * cameraCalibration }
    /// nil: noiseless, every sample exactly the quantised truth.
    public var noise: Noise? = nil

    public init(cfa: CFAPattern = .rggb, noise: Noise? = nil) {
        self.cfa = cfa
        self.noise = noise
    }

    /// Canon EOS 5D Mark II, Adobe DNG Converter ColorMatrix2 (D65), XYZ → camera, as in dcraw's and
    /// LibRaw's `adobe_coeff` table: { 4716, 603, -830, -7798, 15474, 2480, -1496, 1937, 6651 } / 10000.
    public static let canonEOS5DMarkIIColorMatrix2 = Matrix3(rowMajor: [
        0.4716, 0.0603, -0.0830,
        -0.7798, 1.5474, 0.2480,
        -0.1496, 0.1937, 0.6651,
    ])

    /// White-balanced camera RGB → linear sRGB as LibRaw's `cam_xyz_coeff` derives `rgb_cam`:
    /// cam_rgb = cameraFromXYZ · xyzFromSRGB with each row scaled to sum to 1, then inverted
    /// (LibRaw's pseudo-inverse, which for three colours is the inverse). Rows of the result sum to 1.
    public static func cameraToSRGB(cameraFromXYZ: Matrix3, xyzFromSRGB: Matrix3 = RGBPrimaries.sRGB.toXYZ) -> Matrix3 {
        (cameraFromXYZ * xyzFromSRGB).rowNormalised.inverse!
    }
}

/// Seeded sensor noise: SplitMix64 (Steele, Lea & Flood 2014) for uniform bits, and the
/// Irwin–Hall sum of twelve uniforms minus six for a unit Gaussian (tails cut at ±6σ). Only integer
/// and correctly rounded IEEE operations, so the same seed gives the same samples everywhere.
struct SyntheticNoise {
    var state: UInt64
    let electronsPerDN: Double
    let readVariance: Double

    init(model: SyntheticCamera.Noise) {
        state = model.seed
        electronsPerDN = max(model.electronsPerDN, 1e-9)
        readVariance = model.readNoiseDN * model.readNoiseDN
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func gaussian() -> Double {
        var sum = 0.0
        for _ in 0..<12 { sum += Double(next() >> 11) * 0x1p-53 }
        return sum - 6
    }

    /// `signal` (DN above black) plus shot and read noise.
    mutating func perturb(_ signal: Double) -> Double {
        let variance = max(signal, 0) / electronsPerDN + readVariance
        return signal + variance.squareRoot() * gaussian()
    }
}

/// The DNG specification's camera colour model (chapter 6, "Mapping Camera Color Space to CIE
/// XYZ Space"): dual-illuminant matrices interpolated for the white balance, white point from a
/// camera neutral, and the camera → XYZ (D50) matrix by the ColorMatrix or ForwardMatrix path.
///
/// What, for a white of chromaticity `xy` with correlated temperature `T`:
/// - `g = (1/T − 1/T₂) / (1/T₁ − 1/T₂)` limited to 0…1, with T₁ < T₂ the temperatures of the
///   two CalibrationIlluminants *recorded in the file* (EXIF LightSource codes → kelvin); with
///   one usable calibration, that one alone. ColorMatrix, CameraCalibration and ForwardMatrix
///   are each interpolated `g·M₁ + (1 − g)·M₂`.
/// - `XYZtoCamera = AB · CC · CM` (AnalogBalance as a diagonal).
/// - A camera neutral (AsShotNeutral) gives the white by the spec's iteration: start at D50,
///   `xy ← xy(XYZtoCamera(T(xy))⁻¹ · neutral)` until it settles. AsShotWhiteXY is used as is.
/// - ColorMatrix path: `CameraToXYZ_D50 = Bradford(xy → D50) · XYZtoCamera⁻¹`.
/// - ForwardMatrix path: `CameraToXYZ_D50 = FM · diag(ReferenceNeutral)⁻¹ · (AB · CC)⁻¹`,
///   `ReferenceNeutral = (AB · CC)⁻¹ · CameraNeutral`, FM normalised to map (1,1,1) to D50.
/// Both are returned for white-balanced camera RGB as Emulsion's raw stages produce it
/// (multipliers ∝ 1/neutral, the smallest 1), scaled so the balanced neutral (1, 1, 1) is the
/// D50 white with Y = 1 — the DNG SDK's exposure convention (the neutral that first clips one
/// channel is white), and the one LibRaw's `rgb_cam` path follows.
/// Reference: Adobe DNG Specification 1.6.0.0 (2021), chapter 6; Bradford per ICC.1 Annex E.
public struct DNGColourModel: Sendable {
    public struct Calibration: Sendable {
        public var kelvin: Double
        public var colorMatrix: Matrix3
        public var forwardMatrix: Matrix3?
        public var cameraCalibration: Matrix3
    }

    /// Sorted by temperature; one or two.
    public let calibrations: [Calibration]
    public let analogBalance: SIMD3<Double>

    public enum Path: Sendable { case colorMatrix, forwardMatrix }

    /// The model of a file's DNG calibrations, or nil when it has no usable ColorMatrix.
    /// A calibration whose illuminant has no known temperature is used only when it is the sole one.
    public init?(_ colour: CameraColour) {
        let usable = colour.dngCalibrations.compactMap { c -> (Int, DNGCalibration)? in
            guard let cm = c.colorMatrix, cm.isFinite, cm.inverse != nil else { return nil }
            return (c.illuminant, c)
        }
        var list: [Calibration] = usable.compactMap { code, c in
            guard let k = ColourTemperature.kelvin(lightSource: code) else { return nil }
            return Calibration(kelvin: k, colorMatrix: c.colorMatrix!, forwardMatrix: c.forwardMatrix, cameraCalibration: c.cameraCalibration)
        }
        if list.isEmpty, let (_, c) = usable.first {
            list = [Calibration(kelvin: 5000, colorMatrix: c.colorMatrix!, forwardMatrix: c.forwardMatrix, cameraCalibration: c.cameraCalibration)]
        }
        guard !list.isEmpty else { return nil }
        list.sort { $0.kelvin < $1.kelvin }
        if list.count > 2 { list = [list[0], list[list.count - 1]] }
        if list.count == 2 && list[0].kelvin == list[1].kelvin { list = [list[0]] }
        calibrations = list
        analogBalance = SIMD3<Double>(colour.analogBalance)
    }

    public init(calibrations: [Calibration], analogBalance: SIMD3<Double> = .one) {
        precondition(!calibrations.isEmpty)
        self.calibrations = calibrations.sorted { $0.kelvin < $1.kelvin }
        self.analogBalance = analogBalance
    }

    /// True when every calibration has a ForwardMatrix (the ForwardMatrix path is possible).
    public var hasForwardMatrices: Bool { calibrations.allSatisfy { $0.forwardMatrix != nil } }

    /// Weight of the lower-temperature calibration at `kelvin` (1 at or below T₁, 0 at or above T₂).
    public func weight(kelvin: Double) -> Double {
        guard calibrations.count == 2 else { return 1 }
        let t1 = calibrations[0].kelvin, t2 = calibrations[1].kelvin
        let g = (1 / kelvin - 1 / t2) / (1 / t1 - 1 / t2)
        return min(max(g, 0), 1)
    }

    static func mix(_ a: Matrix3, _ b: Matrix3, _ g: Double) -> Matrix3 {
        Matrix3(rowMajor: (0..<9).map { g * a.m[$0] + (1 - g) * b.m[$0] })
    }

    func interpolated(_ pick: (Calibration) -> Matrix3, kelvin: Double) -> Matrix3 {
        guard calibrations.count == 2 else { return pick(calibrations[0]) }
        return Self.mix(pick(calibrations[0]), pick(calibrations[1]), weight(kelvin: kelvin))
    }

    /// AB · CC at `kelvin`.
    func cameraSide(kelvin: Double) -> Matrix3 {
        Matrix3.diagonal(analogBalance) * interpolated({ $0.cameraCalibration }, kelvin: kelvin)
    }

    /// XYZtoCamera = AB · CC · CM for a white of temperature `kelvin`.
    public func xyzToCamera(kelvin: Double) -> Matrix3 {
        cameraSide(kelvin: kelvin) * interpolated({ $0.colorMatrix }, kelvin: kelvin)
    }

    /// The camera neutral of a white (largest component 1).
    public func neutral(white: Chromaticity) -> SIMD3<Double> {
        let n = xyzToCamera(kelvin: ColourTemperature.temperature(of: white).kelvin) * white.xyz
        return n / max(n.x, n.y, n.z)
    }

    /// The white whose camera neutral is `neutral`, by the DNG iteration.
    public func white(neutral: SIMD3<Double>) -> Chromaticity {
        var xy = Chromaticity.d50
        for _ in 0..<30 {
            let kelvin = ColourTemperature.temperature(of: xy).kelvin
            guard let inverse = xyzToCamera(kelvin: kelvin).inverse else { break }
            let next = ColourTemperature.chromaticity(xyz: inverse * neutral)
            guard next.x.isFinite, next.y.isFinite, next.y > 0 else { break }
            let settled = abs(next.x - xy.x) + abs(next.y - xy.y) < 1e-7
            xy = next
            if settled { break }
        }
        return xy
    }

    /// White-balanced camera RGB (multipliers ∝ 1/neutral, smallest 1) → XYZ relative to D50
    /// (ICC PCS white, Y = 1) for the white `white`; nil when a matrix is singular or the path
    /// needs ForwardMatrices the file lacks.
    public func balancedCameraToXYZD50(white: Chromaticity, path: Path) -> Matrix3? {
        let kelvin = ColourTemperature.temperature(of: white).kelvin
        let toCamera = xyzToCamera(kelvin: kelvin)
        var n = toCamera * white.xyz
        n /= max(n.x, n.y, n.z)
        guard n.x > 0, n.y > 0, n.z > 0 else { return nil }
        let unbalance = Matrix3.diagonal(n)  // balanced → raw camera (scaled so the largest is 1)
        var m: Matrix3
        switch path {
        case .colorMatrix:
            guard let inverse = toCamera.inverse else { return nil }
            m = ChromaticAdaptation.bradford(from: white.xyz, to: iccD50) * inverse * unbalance
        case .forwardMatrix:
            guard hasForwardMatrices, let abccInverse = cameraSide(kelvin: kelvin).inverse else { return nil }
            var fm = interpolated({ $0.forwardMatrix! }, kelvin: kelvin)
            // Normalise so camera (1,1,1) maps to the D50 white, as the DNG SDK does.
            let one = fm * SIMD3<Double>(1, 1, 1)
            guard one.x != 0, one.y != 0, one.z != 0 else { return nil }
            fm = Matrix3.diagonal(iccD50 / one) * fm
            let reference = abccInverse * n
            guard reference.x > 0, reference.y > 0, reference.z > 0 else { return nil }
            m = fm * Matrix3.diagonal(1 / reference) * abccInverse * unbalance
        }
        // The balanced neutral (1, 1, 1) → Y = 1.
        let y = (m * SIMD3<Double>(1, 1, 1)).y
        guard y.isFinite, y > 0 else { return nil }
        m = Matrix3(rowMajor: m.m.map { $0 / y })
        return m.isFinite ? m : nil
    }
}

import XCTest
@testable import EmulsionCore

/// Colour temperature and the DNG colour model's pieces, against independent values.
final class DNGColourTests: XCTestCase {
    /// CCT by Robertson's method from colour-science 0.4.x `uv_to_CCT_Robertson1968` on
    /// `xy_to_UCS_uv(xy)` (typed in); tolerance 2 K (table interpolation differences).
    func testTemperatureOfChromaticity() {
        let cases: [(Double, Double, Double)] = [
            (0.3127, 0.3290, 6503.71), (0.34567, 0.35850, 5001.80), (0.44757, 0.40745, 2855.76),
            (0.3, 0.32, 7354.34), (0.38, 0.37, 3960.71), (0.31, 0.35, 6492.86),
        ]
        for (x, y, kelvin) in cases {
            XCTAssertEqual(ColourTemperature.temperature(of: Chromaticity(x: x, y: y)).kelvin, kelvin, accuracy: 2, "\(x), \(y)")
        }
    }

    /// colour-science `CCT_to_uv_Robertson1968([T, Duv])` → xy: 5000 K on the locus
    /// (0.34510, 0.35162) and Duv +0.01 (towards green) (0.34709, 0.37385), i.e. tint −30 here.
    func testChromaticityOfTemperatureAndTint() {
        let onLocus = ColourTemperature.chromaticity(kelvin: 5000)
        XCTAssertEqual(onLocus.x, 0.34510, accuracy: 2e-4)
        XCTAssertEqual(onLocus.y, 0.35162, accuracy: 2e-4)
        let green = ColourTemperature.chromaticity(kelvin: 5000, tint: -30)
        XCTAssertEqual(green.x, 0.34709, accuracy: 3e-4)
        XCTAssertEqual(green.y, 0.37385, accuracy: 3e-4)
        // Round trip.
        for (k, t) in [(2850.0, 0.0), (4000, 15), (6500, -20), (9000, 5)] {
            let back = ColourTemperature.temperature(of: ColourTemperature.chromaticity(kelvin: k, tint: t))
            XCTAssertEqual(back.kelvin, k, accuracy: k * 1e-3)
            XCTAssertEqual(back.tint, t, accuracy: 0.2)
        }
    }

    /// Interpolation weight (DNG 1.6 §6): linear in 1/T between the recorded illuminants, in
    /// either order, clamped outside them.
    func testInterpolationWeightUsesRecordedIlluminants() {
        let a = Matrix3.identity, b = Matrix3.diagonal(SIMD3(2, 2, 2))
        let model = DNGColourModel(CameraColour(dngCalibrations: [
            DNGCalibration(illuminant: 22, colorMatrix: b, forwardMatrix: nil),  // D75, 7500 K
            DNGCalibration(illuminant: 23, colorMatrix: a, forwardMatrix: nil),  // D50, 5000 K
        ]))!
        XCTAssertEqual(model.calibrations.map(\.kelvin), [5000, 7500])
        XCTAssertEqual(model.weight(kelvin: 5000), 1)
        XCTAssertEqual(model.weight(kelvin: 4000), 1)
        XCTAssertEqual(model.weight(kelvin: 9000), 0)
        let g = (1 / 6000.0 - 1 / 7500.0) / (1 / 5000.0 - 1 / 7500.0)
        XCTAssertEqual(model.weight(kelvin: 6000), g, accuracy: 1e-12)
        XCTAssertEqual(model.xyzToCamera(kelvin: 6000)[0, 0], g * 1 + (1 - g) * 2, accuracy: 1e-12)
    }

    /// The white found from a neutral is a fixed point of the spec's iteration, and AnalogBalance
    /// and CameraCalibration enter as AB · CC · CM.
    func testWhiteFromNeutralAndCalibration() {
        let cm = SyntheticCamera.canonEOS5DMarkIIColorMatrix2
        let ab = SIMD3<Double>(1.1, 1, 0.9)
        let cc = Matrix3(rowMajor: [1.05, 0, 0, 0, 1, 0, 0, 0, 0.95])
        let model = DNGColourModel(calibrations: [
            .init(kelvin: 2850, colorMatrix: Matrix3(rowMajor: cm.m.map { $0 * 1.1 }), forwardMatrix: nil, cameraCalibration: cc),
            .init(kelvin: 6500, colorMatrix: cm, forwardMatrix: nil, cameraCalibration: cc),
        ], analogBalance: ab)
        let white = ColourTemperature.chromaticity(kelvin: 4200, tint: 8)
        let neutral = model.neutral(white: white)
        let expected = Matrix3.diagonal(ab) * cc * model.interpolated({ $0.colorMatrix }, kelvin: ColourTemperature.temperature(of: white).kelvin) * white.xyz
        XCTAssertEqual(neutral.x / neutral.y, expected.x / expected.y, accuracy: 1e-9)
        let back = model.white(neutral: neutral)
        XCTAssertEqual(back.x, white.x, accuracy: 1e-6)
        XCTAssertEqual(back.y, white.y, accuracy: 1e-6)
        // The balanced neutral maps to the D50 white with Y = 1 on the ColorMatrix path.
        let m = model.balancedCameraToXYZD50(white: white, path: .colorMatrix)!
        let w = m * SIMD3<Double>(1, 1, 1)
        XCTAssertEqual(w.x, iccD50.x, accuracy: 1e-9)
        XCTAssertEqual(w.y, 1, accuracy: 1e-12)
        XCTAssertEqual(w.z, iccD50.z, accuracy: 1e-9)
    }

    /// Auto white balance on the synthetic scene (D65 light; saturated ramps, a grey ramp that
    /// clips, shot noise and read noise): the grey-pixel refinement must land on the true neutral
    /// within 2 % per channel although a plain mean of all pixels would not.
    func testAutoWhiteBalanceFindsTheNeutral() {
        var camera = SyntheticCamera()
        camera.noise = SyntheticCamera.Noise()
        let scene = SyntheticScene(width: 300, height: 200, camera: camera)
        let truth = scene.asShotNeutral
        let auto = WhiteBalance.autoNeutral(scene.render())
        for c in 0..<3 { XCTAssertEqual(auto[c] / auto.y, truth[c] / truth.y, accuracy: 0.02 * truth[c] / truth.y, "channel \(c)") }
    }

    /// Kelvin and tint through the matrices: the scene white's own temperature and tint give back
    /// the camera neutral the scene records.
    func testKelvinWhiteBalanceThroughTheMatrix() throws {
        let scene = SyntheticScene(width: 240, height: 160)
        let raw = scene.render()
        let (kelvin, tint) = ColourTemperature.temperature(of: ColourTemperature.chromaticity(xyz: SyntheticScene.whiteXYZ))
        let resolved = try WhiteBalance.resolve(raw, mode: .kelvin, kelvin: kelvin, tint: tint)
        let expected = SIMD3<Float>(scene.asShotMultipliers)
        for c in 0..<3 { XCTAssertEqual(resolved.multipliers[c], expected[c], accuracy: 1e-4 * expected[c]) }
        XCTAssertThrowsError(try WhiteBalance.resolve(RawImage(width: 2, height: 2, layout: .mosaic(.rggb), samples: [0, 0, 0, 0],
                                                               levels: SensorLevels(black: 0, white: 100), colour: CameraColour(),
                                                               metadata: ShotMetadata()), mode: .tungsten))
    }
}

import XCTest
@testable import EmulsionCore

/// The ColorChecker reference data and the synthetic raw scene built from it.
final class SyntheticSceneTests: XCTestCase {
    // MARK: Reference data

    /// colour-science 0.4.7, `CCS_COLOURCHECKERS['ColorChecker24 - After November 2014'].data` (xyY, ICC D50).
    let colourScienceXYY: [Int: SIMD3<Double>] = [
        0: SIMD3(0.43748359776589135, 0.37852284252367574, 0.098324361049038508),  // dark skin
        2: SIMD3(0.27614744043207645, 0.29838157212082628, 0.17855193476567299),  // blue sky
        14: SIMD3(0.56287232272119514, 0.33556280741805006, 0.12780083497363057),  // red
        17: SIMD3(0.20912871882445683, 0.30265801492415445, 0.18060991295576384),  // cyan
        18: SIMD3(0.34891449451162004, 0.36421258000166201, 0.88069032027694338),  // white 9.5
        23: SIMD3(0.34376746726184459, 0.35605762966210502, 0.031513194308909767),  // black 2
    ]

    func testReferenceTableShape() {
        let p = ColorCheckerReference.patches
        XCTAssertEqual(p.count, 24)
        XCTAssertEqual(p.map(\.index), Array(0..<24))
        XCTAssertEqual(p[0].name, "dark skin")
        XCTAssertEqual(p[ColorCheckerReference.whiteIndex].name, "white 9.5 (.05 D)")
        XCTAssertEqual(p[ColorCheckerReference.neutral5Index].name, "neutral 5 (.70 D)")
        XCTAssertEqual(p[23].name, "black 2 (1.5 D)")
        XCTAssertEqual(p[13].row, 2)
        XCTAssertEqual(p[13].column, 1)
        // The neutral row gets darker left to right.
        let neutralY = (18..<24).map { p[$0].xyzD50.y }
        XCTAssertEqual(neutralY, neutralY.sorted(by: >))
    }

    func testD50ValuesMatchColourScience() {
        for (i, expected) in colourScienceXYY {
            let got = ColorCheckerReference.patches[i].xyYD50
            for k in 0..<3 { XCTAssertEqual(got[k], expected[k], accuracy: 2e-6, "patch \(i) component \(k)") }
        }
        // White patch: Y relative to a perfect diffuser of Y = 1.
        XCTAssertEqual(ColorCheckerReference.patches[ColorCheckerReference.whiteIndex].xyzD50.y, 0.880690, accuracy: 1e-6)
    }

    /// colour-science 0.4.7: `chromatic_adaptation(XYZ, xy_to_XYZ(ICC D50), xy_to_XYZ((0.3127, 0.3290)),
    /// method='Von Kries', transform='Bradford')`, printed to six decimals.
    func testD65ValuesMatchColourScienceBradford() {
        let expected: [Int: SIMD3<Double>] = [
            0: SIMD3(0.109341, 0.097089, 0.062982),
            12: SIMD3(0.076922, 0.058964, 0.276134),
            15: SIMD3(0.553347, 0.590066, 0.089134),
            18: SIMD3(0.829761, 0.880154, 0.915403),
        ]
        for (i, e) in expected {
            let got = ColorCheckerReference.patches[i].xyzD65
            for k in 0..<3 { XCTAssertEqual(got[k], e[k], accuracy: 1.5e-6, "patch \(i) component \(k)") }
        }
    }

    func testLabConversionsRoundTrip() {
        for p in ColorCheckerReference.patches {
            let lab = ColorCheckerReference.xyzToLab(p.xyzD50, white: iccD50)
            XCTAssertEqual(lab.x, p.labD50.x, accuracy: 1e-9)
            XCTAssertEqual(lab.y, p.labD50.y, accuracy: 1e-9)
            XCTAssertEqual(lab.z, p.labD50.z, accuracy: 1e-9)
            // D65 and back.
            let back = ColorCheckerReference.xyzToLab(ColorCheckerReference.adaptD65ToD50 * p.xyzD65, white: iccD50)
            XCTAssertLessThan(maxAbs(back - p.labD50), 1e-9, p.name)
        }
        // The dark branch of L* (below L* = 8) round-trips too.
        let dark = SIMD3<Double>(5, 2, -3)
        let xyz = ColorCheckerReference.labToXYZ(dark, white: iccD50)
        XCTAssertLessThan(maxAbs(ColorCheckerReference.xyzToLab(xyz, white: iccD50) - dark), 1e-9)
        XCTAssertEqual(ColorCheckerReference.labToXYZ(SIMD3(100, 0, 0), white: iccD50), iccD50)
    }

    // MARK: Camera model

    func testCameraToSRGBFollowsLibRawAndRowsSumToOne() {
        let scene = SyntheticScene()
        let m = scene.cameraToSRGB
        for r in 0..<3 { XCTAssertEqual(m[r, 0] + m[r, 1] + m[r, 2], 1, accuracy: 1e-12) }
        // LibRaw 0.20 computes rgb_cam with its own xyz_rgb (dcraw's constant); within 1e-3 of ours.
        let libRawXYZRGB = Matrix3(rowMajor: [0.412453, 0.357580, 0.180423, 0.212671, 0.715160, 0.072169,
                                              0.019334, 0.119193, 0.950227])
        let libRaw = SyntheticCamera.cameraToSRGB(cameraFromXYZ: scene.camera.cameraFromXYZ, xyzFromSRGB: libRawXYZRGB)
        for i in 0..<9 { XCTAssertEqual(m.m[i], libRaw.m[i], accuracy: 1e-3) }
        // Measured with raw-identify -v on the written DNG (LibRaw 0.20.2, "Camera2RGB matrix").
        let measured: [Double] = [2.0682, -1.3203, 0.2522, -0.0382, 1.3655, -0.3273, 0.0357, -0.3787, 1.3431]
        for i in 0..<9 { XCTAssertEqual(m.m[i], measured[i], accuracy: 2e-3) }
    }

    func testNeutralAndMultipliers() {
        let scene = SyntheticScene()
        let n = scene.asShotNeutral
        XCTAssertEqual(n.y, 1)
        // 5D Mark II under D65: red and blue weaker than green, as on real Bayer sensors.
        XCTAssertEqual(n.x, 0.388493, accuracy: 1e-5)
        XCTAssertEqual(n.z, 0.720830, accuracy: 1e-5)
        XCTAssertLessThan(maxAbs(scene.asShotMultipliers * n - SIMD3(repeating: 1)), 1e-12)
        // The forward matrix sends balanced white to the D50 white.
        XCTAssertLessThan(maxAbs(scene.forwardMatrix * SIMD3(1, 1, 1) - iccD50), 1e-12)
    }

    /// Every patch, balanced and mapped through `cameraToSRGB` (and, separately, through the forward
    /// matrix), comes back to its published Lab within 0.01: the camera model loses nothing.
    func testChartRoundTripsThroughCameraModel() {
        let scene = SyntheticScene()
        let toXYZ = RGBPrimaries.sRGB.toXYZ
        for t in scene.chartPatches {
            let balanced = scene.asShotMultipliers * t.cameraRGB
            let srgb = scene.cameraToSRGB * balanced
            XCTAssertLessThan(maxAbs(srgb / scene.exposureScale - t.linearSRGB), 1e-9, t.reference.name)
            let lab = ColorCheckerReference.xyzToLab(ColorCheckerReference.adaptD65ToD50 * (toXYZ * t.linearSRGB), white: iccD50)
            XCTAssertLessThan(maxAbs(lab - t.labD50), 0.01, t.reference.name)
            let viaForward = scene.forwardMatrix * balanced / scene.exposureScale
            let lab2 = ColorCheckerReference.xyzToLab(viaForward, white: iccD50)
            XCTAssertLessThan(maxAbs(lab2 - t.labD50), 0.01, t.reference.name)
        }
        XCTAssertEqual(scene.baselineExposure, -log2(scene.exposureScale))
        XCTAssertGreaterThan(scene.baselineExposure, 0)
    }

    // MARK: The rendered mosaic

    func testPatchCentresHoldExpectedCameraRGBForEveryBayerLayout() {
        for (name, cfa) in CFAPattern.bayerLayouts {
            let scene = SyntheticScene(width: 480, height: 320, camera: SyntheticCamera(cfa: cfa))
            let raw = scene.render()
            XCTAssertEqual(raw.layout, .mosaic(cfa))
            let range = Double(raw.levels.white - raw.levels.meanBlack)
            for t in scene.chartPatches {
                XCTAssertGreaterThanOrEqual(t.sampleRect.width, 8)
                for y in t.sampleRect.y..<t.sampleRect.maxY {
                    for x in t.sampleRect.x..<t.sampleRect.maxX {
                        let c = cfa.colour(row: y, column: x)
                        let s = raw.samples[y * raw.width + x]
                        guard s == t.expectedDN[c] else {
                            return XCTFail("\(name) \(t.reference.name) (\(x), \(y)): \(s) ≠ \(t.expectedDN[c])")
                        }
                    }
                }
                // The quantised DN is the camera RGB to half a DN.
                let centreX = t.rect.x + t.rect.width / 2, centreY = t.rect.y + t.rect.height / 2
                let c = cfa.colour(row: centreY, column: centreX)
                let normalised = (Double(raw.samples[centreY * raw.width + centreX]) - Double(raw.levels.meanBlack)) / range
                XCTAssertEqual(normalised, t.cameraRGB[c], accuracy: 0.5 / range)
            }
        }
    }

    func testExposureClippingAndRamps() {
        let scene = SyntheticScene()
        let raw = scene.render()
        let l = scene.layout
        let white = scene.chartPatches[ColorCheckerReference.whiteIndex]
        XCTAssertEqual(white.cameraRGB.max(), 0.8, accuracy: 1e-12)
        // The grey ramp starts at black and ends clipped in at least one colour (green).
        let row = l.greyRamp.y + l.greyRamp.height / 2
        let first = raw.samples[row * raw.width + l.greyRamp.x]
        XCTAssertEqual(Float(first), raw.levels.meanBlack)
        let lastColumns = (l.greyRamp.maxX - 2)..<l.greyRamp.maxX
        XCTAssertTrue(lastColumns.contains { Float(raw.samples[row * raw.width + $0]) == raw.levels.white })
        XCTAssertGreaterThan(scene.greyRampEnd, 1)
        // No sample anywhere exceeds white or falls below black (noiseless).
        XCTAssertTrue(raw.samples.allSatisfy { Float($0) >= raw.levels.meanBlack && Float($0) <= raw.levels.white })
        // Saturated ramps and sky stay inside the camera's gamut and below clipping.
        for (i, r) in l.colourRamps.enumerated() {
            let end = scene.cameraRGB(xyz: scene.sceneXYZ(x: r.maxX - 1, y: r.y))
            XCTAssertGreaterThan(end.min(), 0, SyntheticScene.colourRampEnds[i].name)
            XCTAssertLessThan(end.max(), 1, SyntheticScene.colourRampEnds[i].name)
        }
        for (x, y) in [(l.sky.x, l.sky.y), (l.sky.maxX - 1, l.sky.maxY - 1), (l.sky.x, l.sky.maxY - 1)] {
            let v = scene.cameraRGB(xyz: scene.sceneXYZ(x: x, y: y))
            XCTAssertGreaterThan(v.min(), 0)
            XCTAssertLessThan(v.max(), 1)
        }
    }

    func testLayoutIsInsideTheFrameAndDoesNotOverlap() {
        for (w, h) in [(1200, 800), (240, 160), (999, 701), (640, 640)] {
            let scene = SyntheticScene(width: w, height: h)
            let l = scene.layout
            let all = l.chartPatches + [l.greyRamp, l.sky] + l.colourRamps
            for r in all {
                XCTAssertTrue(r.x >= 0 && r.y >= 0 && r.maxX <= w && r.maxY <= h && r.width > 0 && r.height > 0, "\(r) in \(w)×\(h)")
            }
            for i in all.indices {
                for j in all.indices where j > i {
                    let a = all[i], b = all[j]
                    let overlap = a.x < b.maxX && b.x < a.maxX && a.y < b.maxY && b.y < a.maxY
                    XCTAssertFalse(overlap, "\(a) overlaps \(b) in \(w)×\(h)")
                }
            }
            // Patches are separated by surround (a gap of at least two pixels).
            XCTAssertGreaterThanOrEqual(l.chartPatches[1].x - l.chartPatches[0].maxX, 2)
            XCTAssertGreaterThanOrEqual(l.chartPatches[6].y - l.chartPatches[0].maxY, 2)
        }
    }

    func testSceneXYZMatchesTruthAndSurround() {
        let scene = SyntheticScene()
        for t in scene.chartPatches {
            XCTAssertEqual(scene.sceneXYZ(x: t.sampleRect.x, y: t.sampleRect.y), t.xyzD65)
            XCTAssertEqual(scene.sceneXYZ(x: t.rect.x, y: t.rect.y), t.xyzD65)
        }
        XCTAssertEqual(scene.sceneXYZ(x: 0, y: 0), 0.18 * SyntheticScene.whiteXYZ)
    }

    func testColourAndMetadataRecorded() throws {
        let scene = SyntheticScene(width: 240, height: 160)
        let raw = scene.render()
        XCTAssertEqual(raw.width, 240)
        XCTAssertEqual(raw.height, 160)
        XCTAssertEqual(raw.samples.count, 240 * 160)
        XCTAssertEqual(raw.levels, SensorLevels(black: 256, white: 16383))
        XCTAssertEqual(raw.metadata.make, "Emulsion")
        XCTAssertEqual(raw.metadata.model, "Synthetic Chart")
        XCTAssertEqual(raw.metadata.iso, 100)
        XCTAssertEqual(raw.metadata.bitsPerSample, 14)
        let c = raw.colour
        let n = try XCTUnwrap(c.asShotNeutral)
        let m = try XCTUnwrap(c.asShotMultipliers)
        XCTAssertEqual(m.y, 1)
        XCTAssertEqual(Double(n.x), scene.asShotNeutral.x, accuracy: 1e-6)
        XCTAssertEqual(Double(m.z * n.z), 1, accuracy: 1e-6)
        XCTAssertEqual(c.cameraToSRGB, scene.cameraToSRGB)
        XCTAssertEqual(c.dngCalibrations.count, 1)
        XCTAssertEqual(c.dngCalibrations[0].illuminant, 21)
        XCTAssertEqual(c.dngCalibrations[0].colorMatrix, SyntheticCamera.canonEOS5DMarkIIColorMatrix2)
        XCTAssertNil(c.dngCalibrations[0].forwardMatrix)
        XCTAssertEqual(Double(c.baselineExposure), scene.baselineExposure, accuracy: 1e-6)

        var camera = SyntheticCamera()
        camera.recordsForwardMatrix = true
        let withFM = SyntheticScene(width: 240, height: 160, camera: camera).render()
        XCTAssertEqual(withFM.colour.dngCalibrations[0].forwardMatrix, scene.forwardMatrix)
    }

    func testRenderIsDeterministicAndNoiseIsSeeded() {
        let plain = SyntheticScene(width: 240, height: 160)
        XCTAssertEqual(plain.render().samples, plain.render().samples)

        let noisy = SyntheticScene(width: 480, height: 320, camera: SyntheticCamera(noise: .init(seed: 7)))
        let a = noisy.render().samples
        XCTAssertEqual(a, noisy.render().samples)
        let other = SyntheticScene(width: 480, height: 320, camera: SyntheticCamera(noise: .init(seed: 8)))
        XCTAssertNotEqual(a, other.render().samples)

        // Noise statistics on the neutral 5 patch's green photosites: mean at the truth, and the
        // spread the shot + read model predicts (within 10 %).
        let t = noisy.chartPatches[ColorCheckerReference.neutral5Index]
        let cfa = noisy.camera.cfa
        var values: [Double] = []
        for y in t.rect.y..<t.rect.maxY {
            for x in t.rect.x..<t.rect.maxX where cfa.colour(row: y, column: x) == 1 {
                values.append(Double(a[y * noisy.width + x]))
            }
        }
        let mean = values.reduce(0, +) / Double(values.count)
        let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
        let signal = t.cameraRGB.y * Double(noisy.camera.white - noisy.camera.black)
        let noise = noisy.camera.noise!
        let predicted = (signal / noise.electronsPerDN + noise.readNoiseDN * noise.readNoiseDN).squareRoot()
        XCTAssertEqual(mean, signal + Double(noisy.camera.black), accuracy: 4 * predicted / Double(values.count).squareRoot() + 0.5)
        XCTAssertEqual(sd, predicted, accuracy: 0.1 * predicted)
    }

    func testRectInset() {
        let r = SyntheticScene.Rect(x: 10, y: 20, width: 100, height: 50)
        XCTAssertEqual(r.inset(by: 0.2), SyntheticScene.Rect(x: 30, y: 30, width: 60, height: 30))
        XCTAssertTrue(r.contains(x: 10, y: 20))
        XCTAssertFalse(r.contains(x: 110, y: 20))
    }

    private func maxAbs(_ v: SIMD3<Double>) -> Double { max(abs(v.x), abs(v.y), abs(v.z)) }
}

import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// Vignetting correction from DNG FixVignetteRadial (`LensVignette`, `LensVignetteSource`).
///
/// References: the DNG 1.6 specification's FixVignetteRadial (chapter 7, opcode 3) for the gain
/// — 1 + k0 r² + … + k4 r¹⁰, r from the optical centre (relative to the image area) over the
/// distance to its farthest corner — with the DNG SDK's conventions (r at pixel centres, rows
/// scaled by the pixel aspect), written out again here from the text for the first test; and the
/// renders themselves for what must not change (strips, engines, orientation, the file round
/// trip). Tolerances: against the formula in doubles, 1e-12 (the mapping) and 1e-6 relative (the
/// source, which evaluates the polynomial in Float); the corrected scene against the scene,
/// stated where measured.
final class LensVignetteTests: OutputFileTestCase {
    static let coefficients = [0.3, -0.1, 0.05, 0.02, -0.01]

    /// The gain of pixel (x, y) as the specification and the SDK define it, in doubles.
    static func specified(_ k: [Double], centreX: Double, centreY: Double, area: (Int, Int), offset: (Int, Int),
                          aspect: Double, x: Int, y: Int) -> Double {
        let (w, h) = (Double(area.0), Double(area.1))
        // The centre in area pixels (Lerp of the area's edges, right and bottom exclusive).
        let (cx, cy) = (centreX * w, centreY * h)
        let radius = hypot(max(cx, w - cx), max(cy, h - cy) / aspect)
        let dx = (Double(x + offset.0) + 0.5 - cx) / radius, dy = (Double(y + offset.1) + 0.5 - cy) / aspect / radius
        let r2 = dx * dx + dy * dy
        return 1 + k[0] * r2 + k[1] * pow(r2, 2) + k[2] * pow(r2, 3) + k[3] * pow(r2, 4) + k[4] * pow(r2, 5)
    }

    /// Off-centre, on a frame that starts inside its area, square and non-square pixels: the
    /// mapping's gain is the formula's (1e-12), and the source multiplies each channel of a flat
    /// field by it (1e-6 relative: the polynomial in Float).
    func testTheGainIsTheSpecifications() throws {
        let (w, h) = (96, 64)
        for aspect in [1.0, 0.5, 2.0] {
            let vignette = try XCTUnwrap(LensVignette(coefficients: Self.coefficients, centreX: 0.4, centreY: 0.65,
                                                      imageWidth: w + 10, imageHeight: h + 6, offsetX: 4, offsetY: 3))
            let mapping = vignette.mapping(pixelAspect: aspect)
            var samples = [UInt16](repeating: 0, count: 3 * w * h)
            for i in 0..<(w * h) { samples[3 * i] = 8000; samples[3 * i + 1] = 16000; samples[3 * i + 2] = 24000 }
            let flat = RGBSource(raw: samples, width: w, height: h,
                                 channels: RawNormalisation.forRGB(levels: SensorLevels(black: 0, white: 65535), multipliers: .one))
            let out = TestSupport.renderSource(LensVignetteSource(inner: flat, mapping: mapping))
            var worstMapping = 0.0, worstSource = 0.0, strongest = 1.0
            for y in 0..<h {
                for x in 0..<w {
                    let want = Self.specified(Self.coefficients, centreX: 0.4, centreY: 0.65, area: (w + 10, h + 6), offset: (4, 3),
                                              aspect: aspect, x: x, y: y)
                    worstMapping = max(worstMapping, abs(mapping.gain(x: x, y: y) - want))
                    strongest = max(strongest, want)
                    for c in 0..<3 {
                        let value = Double(out[3 * (y * w + x) + c]), expected = Double(8000 * (c + 1)) / 65535 * want
                        worstSource = max(worstSource, abs(value / expected - 1))
                    }
                }
            }
            XCTAssertLessThanOrEqual(worstMapping, 1e-12, "aspect \(aspect)")
            XCTAssertLessThanOrEqual(worstSource, 1e-6, "aspect \(aspect)")
            XCTAssertGreaterThan(strongest, 1.1, "the corners are corrected by more than the tolerance")
        }
    }

    /// Emulsion's synthetic chart (darkened 0.6×) with vignetting put in (each photosite divided by the gain at
    /// its place: −1 EV at the corners), rendered with the opcode: the chart as rendered without
    /// any, in linear light within 0.004 of full scale per pixel (measured 0.0029: the gain
    /// changes by up to 0.6 % from one pixel to the next at the corners, and the demosaic mixes
    /// neighbours divided by their own gains, which at a patch's edge is ~0.5 % of the bright
    /// side; plus the samples' rounding, a DN times the gain) and within 0.2 % on average over the
    /// top-left corner. With `opcodes.vignette=false` that corner stays dark (under 0.7 of the chart).
    func testTheChartComesBackFromItsVignetting() throws {
        var raw = SyntheticScene(width: 480, height: 320).render()
        // Darkened so no photosite clips: where the chart clips, the vignetted capture would not
        // (its highlights would render otherwise, which is not what this test is about).
        for y in 0..<raw.height {
            for x in 0..<raw.width {
                let s = Double(raw.samples[y * raw.width + x]), black = Double(raw.levels.black(row: y, column: x))
                raw.samples[y * raw.width + x] = UInt16((black + max(s - black, 0) * 0.6).rounded())
            }
        }
        let plainRender = try Renderer.render(raw, options: RenderOptions(threads: 2))
        let vignette = try XCTUnwrap(LensVignette(coefficients: [0.8, 0.2, 0, 0, 0], centreX: 0.5, centreY: 0.5,
                                                  imageWidth: raw.width, imageHeight: raw.height))
        let mapping = vignette.mapping(pixelAspect: 1)
        for y in 0..<raw.height {
            for x in 0..<raw.width {
                let s = Double(raw.samples[y * raw.width + x]), black = Double(raw.levels.black(row: y, column: x))
                raw.samples[y * raw.width + x] = UInt16((black + (s - black) / mapping.gain(x: x, y: y)).rounded())
            }
        }
        raw.lensVignette = vignette
        let corrected = try Renderer.render(raw, options: RenderOptions(threads: 2))
        let skipped = try Renderer.render(raw, options: RenderOptions(profile: try Profile.defaults.applying(overrides: ["opcodes.vignette=false"]),
                                                                      threads: 2))
        var worst = 0.0, cornerRatio = 0.0, correctedRatio = 0.0, cornerCount = 0.0
        for y in 0..<raw.height {
            for x in 0..<raw.width {
                for c in 0..<3 {
                    let i = 3 * (y * raw.width + x)
                    let want = TestSupport.sRGBToLinear(Double(plainRender.samples[i + c]) / 65535)
                    let got = TestSupport.sRGBToLinear(Double(corrected.samples[i + c]) / 65535)
                    worst = max(worst, abs(got - want))
                    if x < 40 && y < 40 && want > 0.02 {
                        cornerRatio += TestSupport.sRGBToLinear(Double(skipped.samples[i + c]) / 65535) / want
                        correctedRatio += got / want
                        cornerCount += 1
                    }
                }
            }
        }
        XCTAssertLessThanOrEqual(worst, 0.004, "corrected against the chart without vignetting, linear")
        XCTAssertGreaterThan(cornerCount, 100)
        XCTAssertEqual(correctedRatio / cornerCount, 1, accuracy: 0.002, "the corrected corner, on average")
        XCTAssertLessThan(cornerRatio / cornerCount, 0.7, "uncorrected corners are dark, or this test checks nothing")
        print(String(format: "vignette: corrected worst %.5f (linear); corrected top-left corner %.5f, uncorrected %.3f of the chart",
                     worst, correctedRatio / cornerCount, cornerRatio / cornerCount))
    }

    /// Strips of any height and both engines give the same bits; coefficients a damaged file may
    /// hold (finite, overflowing once multiplied) give finite, non-negative values.
    func testStripsEnginesAndHostileCoefficients() throws {
        let source = LensWarpTests.rampSource()
        let vignette = try XCTUnwrap(LensVignette(coefficients: Self.coefficients, centreX: 0.3, centreY: 0.8,
                                                  imageWidth: LensWarpTests.width, imageHeight: LensWarpTests.height))
        let corrected = LensVignetteSource(inner: source, mapping: vignette.mapping(pixelAspect: 1))
        let reference = TestSupport.renderSource(corrected, stripRows: LensWarpTests.height)
        for rows in [1, 2, 5, 16, 64] {
            XCTAssertTrue(TestSupport.renderSource(corrected, stripRows: rows) == reference, "\(rows)-row strips")
        }
        XCTAssertTrue(TestSupport.renderSource(corrected, engine: .scalar, stripRows: 7) == reference, "scalar engine")
        XCTAssertFalse(TestSupport.renderSource(source) == reference, "the vignette changes the values")
        for k in [[1e308, 1e308, -1e308, 1e308, 1e308], [-1e300, 0, 0, 0, 0], [.greatestFiniteMagnitude, 0, 0, 0, -.greatestFiniteMagnitude]] {
            for (w, h) in [(LensWarpTests.width, LensWarpTests.height), (1, 9), (9, 1), (1, 1)] {
                let v = try XCTUnwrap(LensVignette(coefficients: k, centreX: 1, centreY: 0, imageWidth: w, imageHeight: h,
                                                   offsetX: 1_000_000, offsetY: -1_000_000))
                for aspect in [1.0, 0.5, .nan] {
                    let out = TestSupport.renderSource(LensVignetteSource(inner: LensWarpTests.rampSource(width: w, height: h),
                                                                          mapping: v.mapping(pixelAspect: aspect)), stripRows: 3)
                    XCTAssertTrue(out.allSatisfy { $0.isFinite && $0 >= 0 }, "\(w)×\(h) \(k)")
                }
            }
        }
        XCTAssertNil(LensVignette(coefficients: [.nan, 0, 0, 0, 0], centreX: 0.5, centreY: 0.5, imageWidth: 4, imageHeight: 4))
        XCTAssertNil(LensVignette(coefficients: [0, 0, 0, 0], centreX: 0.5, centreY: 0.5, imageWidth: 4, imageHeight: 4))
        XCTAssertNil(LensVignette(coefficients: [0, 0, 0, 0, 0], centreX: 1.5, centreY: 0.5, imageWidth: 4, imageHeight: 4))
    }

    /// A linear raw with a vignette and the three-plane warp, in every orientation: each upright
    /// render is the normal one turned (a transposition must swap the vignette's centre, area and
    /// offsets as the warp's). Bound: one 16-bit code, as the warp's own orientation test.
    func testEveryOrientationIsTheNormalRenderTurned() throws {
        let (w, h) = (LensWarpTests.width, LensWarpTests.height)
        var raw = texturedLinearRaw(width: w, height: h)
        raw.lensWarp = LensWarpTests.threePlanes
        let options = RenderOptions(profile: try Profile.defaults.applying(overrides: ["crop.dngDefault=false"]), threads: 2)
        for precedes in [false, true] {
            raw.metadata.orientation = .normal
            raw.lensVignette = LensVignette(coefficients: Self.coefficients, centreX: 0.35, centreY: 0.6, imageWidth: w + 10,
                                            imageHeight: h + 6, offsetX: 4, offsetY: 3, precedesWarp: precedes)
            let normal = try Renderer.render(raw, options: options)
            for orientation in Orientation.allCases where orientation != .normal {
                raw.metadata.orientation = orientation
                let turned = try Renderer.render(raw, options: options)
                XCTAssertLessThanOrEqual(worstDifference(turned, normal, orientation, width: w, height: h), 1,
                                         "\(orientation), vignette \(precedes ? "before" : "after") the warp")
            }
        }
    }

    /// The list's order decides where the vignette applies: before the warp it multiplies the
    /// demosaiced frame the warp then reads (so it moves with the warp), after it the corrected
    /// frame. The render plan nests the sources so, and the two renders differ.
    func testTheListOrderIsKept() throws {
        var raw = RawImage(width: 64, height: 48, layout: .rgb, samples: [UInt16](repeating: 20000, count: 3 * 64 * 48),
                           levels: SensorLevels(black: 0, white: 65535), colour: CameraColour(asShotMultipliers: .one), metadata: ShotMetadata())
        raw.lensWarp = LensWarp(planes: [.init(radial: [0.85, 0.1, 0, 0])], centreX: 0.5, centreY: 0.5, imageWidth: 64, imageHeight: 48)
        var renders: [[UInt16]] = []
        for precedes in [true, false] {
            raw.lensVignette = LensVignette(coefficients: [0.6, 0, 0, 0, 0], centreX: 0.2, centreY: 0.3, imageWidth: 64, imageHeight: 48,
                                            precedesWarp: precedes)
            let plan = try RenderPlan(raw: raw, options: RenderOptions())
            if precedes {
                XCTAssertTrue((plan.source as? LensWarpSource)?.inner is LensVignetteSource, "\(type(of: plan.source))")
            } else {
                XCTAssertTrue((plan.source as? LensVignetteSource)?.inner is LensWarpSource, "\(type(of: plan.source))")
            }
            renders.append(try Renderer.render(raw, options: RenderOptions()).samples)
        }
        XCTAssertFalse(renders[0] == renders[1])
    }

    /// A DNG written with the vignette in OpcodeList3, alone or beside the warp in either order,
    /// reads back with it; `info` says it is applied; `opcodes.vignette=false` renders as the raw
    /// without one; coefficients that change nothing are not applied (and said so).
    func testTheVignetteTravelsThroughADNG() throws {
        var raw = ChartReport.chartScene.raw
        let warp = LensWarp(planes: [.init(radial: [0.98, 0.02, 0, 0])], centreX: 0.5, centreY: 0.5, imageWidth: raw.width, imageHeight: raw.height)
        let applied = "OpcodeList3: FixVignetteRadial — applied (vignetting; opcodes.vignette=false to skip)"
        let warpApplied = "OpcodeList3: WarpRectilinear — applied (lens distortion; opcodes.warp=false to skip)"
        for (withWarp, precedes) in [(false, false), (true, false), (true, true)] {
            raw.lensWarp = withWarp ? warp : nil
            raw.lensVignette = LensVignette(coefficients: Self.coefficients, centreX: 0.45, centreY: 0.55, imageWidth: raw.width,
                                            imageHeight: raw.height, precedesWarp: precedes)
            let path = dir.appendingPathComponent("vignette-\(withWarp)-\(precedes).dng")
            try DNGWriter.write(raw, to: path)
            let back = try RawFile.read(path: path.path)
            XCTAssertEqual(back.lensVignette, raw.lensVignette, "warp \(withWarp), before it \(precedes)")
            XCTAssertEqual(back.lensWarp, raw.lensWarp)
            XCTAssertEqual(back.metadata.opcodes, !withWarp ? [applied] : precedes ? [applied, warpApplied] : [warpApplied, applied])
            var plain = back
            plain.lensVignette = nil
            let without = try Renderer.render(plain, options: RenderOptions(threads: 2)).samples
            let skipped = RenderOptions(profile: try Profile.defaults.applying(overrides: ["opcodes.vignette=false"]), threads: 2)
            XCTAssertTrue(try Renderer.render(back, options: skipped).samples == without, "opcodes.vignette=false")
            XCTAssertFalse(try Renderer.render(back, options: RenderOptions(threads: 2)).samples == without, "applied")
        }
        raw.lensWarp = nil
        raw.lensVignette = LensVignette(coefficients: [0, 0, 0, 0, 0], centreX: 0.5, centreY: 0.5, imageWidth: raw.width, imageHeight: raw.height)
        let path = dir.appendingPathComponent("identity.dng")
        try DNGWriter.write(raw, to: path)
        let back = try RawFile.read(path: path.path)
        XCTAssertNil(back.lensVignette)
        XCTAssertEqual(back.metadata.opcodes, ["OpcodeList3: FixVignetteRadial — ignored (optional)"])
        // The decode worker carries it: `info` through the CLI on the first file above.
        let info = try emulsion(["info", dir.appendingPathComponent("vignette-false-false.dng").path])
        XCTAssertTrue(info.stdout.contains(applied), info.stdout)
    }

    /// `LensVignette.binned` (previews): a binned pixel's gain is the full vignette's at the
    /// centre of the pixels it bins, within 2·10⁻³ (the area rounds to whole binned pixels).
    func testBinnedVignetteMatchesTheFull() throws {
        let full = try XCTUnwrap(LensVignette(coefficients: Self.coefficients, centreX: 0.47, centreY: 0.53, imageWidth: 642,
                                              imageHeight: 482, offsetX: 10, offsetY: 8))
        let block = 4
        let small = try XCTUnwrap(full.binned(by: block)).mapping(pixelAspect: 1), fullMapping = full.mapping(pixelAspect: 1)
        var worst = 0.0
        for v in stride(from: 0, to: 115, by: 7) {
            for u in stride(from: 0, to: 155, by: 9) {
                // The binned pixel's centre, u + ½, is the full frame's block·u + block/2.
                let r = fullMapping.radius
                let dx = (Double(block * u) + Double(block) / 2 - fullMapping.centre.x) / r
                let dy = (Double(block * v) + Double(block) / 2 - fullMapping.centre.y) / r
                worst = max(worst, abs(small.gain(x: u, y: v) - full.gain(r2: dx * dx + dy * dy)))
            }
        }
        XCTAssertLessThanOrEqual(worst, 2e-3)
    }
}

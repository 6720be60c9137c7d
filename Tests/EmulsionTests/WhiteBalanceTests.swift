@testable import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// White balance on the real colour-chart DNG (Canon EOS Kiss X4, Magic Lantern): the six grey
/// patches of the ColorChecker's bottom row, measured as CIELab (D65) means of 30×30 pixels in a
/// crop of the chart. The camera's as-shot balance does not match the light on the chart (it
/// renders the greys warm, a* ≈ +15, b* ≈ +17) and a grey world is pulled by the blue window
/// behind it; a spot balance on the third grey makes all greys neutral — the test of the matrix
/// and of the spot path. Tolerance: |a*|, |b*| ≤ 1.5 for the three brightest greys (the darker
/// three drift to a* ≈ −2.5, an additive green offset — flare or black level — reported in docs/QUALITY.md).
final class WhiteBalanceTests: XCTestCase {
    static let greyCentres = [704, 814, 924, 1034, 1144, 1254].map { ($0 - 600, 930 - 850) }

    func greys(_ raw: RawImage, _ overrides: [String]) throws -> [CIELab] {
        let profile = try Profile.defaults.applying(overrides: overrides)
        let image = try Renderer.render(raw, options: RenderOptions(profile: profile, space: .sRGB))
        return Self.greyCentres.map { cx, cy in
            var sum = SIMD3<Double>(repeating: 0)
            for y in (cy - 15)..<(cy + 15) {
                for x in (cx - 15)..<(cx + 15) {
                    let i = 3 * (y * image.width + x)
                    sum += SIMD3((0..<3).map { TestSupport.sRGBToLinear(Double(image.samples[i + $0]) / 65535) })
                }
            }
            return TestSupport.labFromLinearSRGB(sum / 900)
        }
    }

    func testCanonChartGreys() throws {
        let name = "canon-eos_kiss_x4-colorchart_crop.dng"
        let url = TestSupport.samplesDirectory.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            if TestSupport.inCI { XCTFail("missing sample \(name)") }
            throw XCTSkip("missing sample \(name)")
        }
        // The bottom chart row: columns 600…1399, rows 850…1009 of the visible image (RGGB kept).
        let raw = try RawFile.read(path: url.path).cropped(x: 600, y: 850, width: 800, height: 160)
        var report: [String] = []
        func describe(_ label: String, _ labs: [CIELab]) -> String {
            label + ": " + labs.map { String(format: "L %.1f a %+.2f b %+.2f", $0.L, $0.a, $0.b) }.joined(separator: " | ")
        }
        for matrix in ["libraw", "dng-color-matrix"] {
            let spot = ["whiteBalance.mode=spot", "whiteBalance.spotX=309", "whiteBalance.spotY=65",
                        "whiteBalance.spotWidth=30", "whiteBalance.spotHeight=30", "camera.matrix=\(matrix)"]
            let labs = try greys(raw, spot)
            report.append(describe("spot on grey 3, \(matrix)", labs))
            for lab in labs.prefix(3) {
                XCTAssertLessThanOrEqual(abs(lab.a), 1.5, "\(matrix): \(lab)")
                XCTAssertLessThanOrEqual(abs(lab.b), 1.5, "\(matrix): \(lab)")
            }
            report.append(describe("as-shot, \(matrix)", try greys(raw, ["camera.matrix=\(matrix)"])))
        }
        print("Canon chart greys (CIELab D65):\n  " + report.joined(separator: "\n  "))
    }

    /// The spot rectangle is given in output pixels: undoing each orientation must land on the
    /// stored pixels that end up inside it.
    func testSpotRectangleFollowsOrientation() {
        var raw = SyntheticScene(width: 240, height: 160).render().cropped(x: 0, y: 0, width: 20, height: 12)
        for orientation in Orientation.allCases {
            raw.metadata.orientation = orientation
            let (w, h) = (raw.width, raw.height)
            let upright = orientation.orientedSize(width: w, height: h)
            let map = orientation.indexMap(width: w, height: h)
            let rect = (x: 3, y: 2, width: 5, height: 4)
            let stored = RenderPlan.storedRect(raw, x: rect.x, y: rect.y, width: rect.width, height: rect.height,
                                               picture: raw.pictureArea(honoursDefaultCrop: true, honoursUserCrop: true))
            for py in 0..<h {
                for px in 0..<w {
                    let i = map.start + px * map.strideX + py * map.strideY
                    let (u, v) = (i % upright.width, i / upright.width)
                    let wanted = u >= rect.x && u < rect.x + rect.width && v >= rect.y && v < rect.y + rect.height
                    let got = px >= stored.x && px < stored.x + stored.width && py >= stored.y && py < stored.y + stored.height
                    XCTAssertEqual(wanted, got, "\(orientation) stored (\(px), \(py))")
                }
            }
        }
    }

    /// A lens warp moves what the user sees: the spot rectangle, in output pixels, must read the
    /// photosites the warp brings there. Emulsion's synthetic chart at 960×640 with a warp that
    /// magnifies 1.25× about the centre (kr0 = 0.8: output (u, v) reads c + 0.8 · ((u, v) − c),
    /// DNG 1.6 §7 WarpRectilinear): a rectangle inside patch 7 as rendered gives the multipliers
    /// of patch 7's own photosites (within 0.5 %: both read the same uniform patch, through
    /// different samples of its noise). Read without the warp, the same rectangle lies over
    /// patches 0 and 6 and the gaps between them (multipliers off by more than 5 %).
    func testSpotRectangleFollowsTheLensWarp() throws {
        let scene = SyntheticScene(width: 960, height: 640)
        var raw = scene.render()
        raw.lensWarp = LensWarp(planes: [LensWarp.Coefficients(radial: [0.8, 0, 0, 0])], centreX: 0.5, centreY: 0.5,
                                imageWidth: raw.width, imageHeight: raw.height)
        XCTAssertNotNil(raw.lensWarp)
        let patch = scene.layout.chartPatches[7]
        // Patch 7 as rendered, kept 12 output pixels inside its edges.
        func output(_ p: Int, _ c: Double) -> Int { Int((c + (Double(p) - c) / 0.8).rounded()) }
        let (u0, u1) = (output(patch.x, 480) + 12, output(patch.maxX, 480) - 12)
        let (v0, v1) = (output(patch.y, 320) + 12, output(patch.maxY, 320) - 12)
        let spot = ["whiteBalance.mode=spot", "whiteBalance.spotX=\(u0)", "whiteBalance.spotY=\(v0)",
                    "whiteBalance.spotWidth=\(u1 - u0)", "whiteBalance.spotHeight=\(v1 - v0)"]
        let warped = try RenderPlan.whiteBalance(raw, profile: try Profile.defaults.applying(overrides: spot)).multipliers
        let inset = patch.inset(by: 0.2)
        let truth = try WhiteBalance.resolve(raw, mode: .spot, kelvin: 5000, tint: 0,
                                             spot: WhiteBalance.Rect(x: inset.x, y: inset.y, width: inset.width, height: inset.height)).multipliers
        let unwarped = try WhiteBalance.resolve(raw, mode: .spot, kelvin: 5000, tint: 0,
                                                spot: WhiteBalance.Rect(x: u0, y: v0, width: u1 - u0, height: v1 - v0)).multipliers
        // The largest relative difference of the two balances' channel ratios (green as 1).
        func worst(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> Float {
            let ratio = (a / a.y) / (b / b.y)
            return (0..<3).map { abs(ratio[$0] - 1) }.max()!
        }
        XCTAssertLessThanOrEqual(worst(warped, truth), 0.005, "warped \(warped), patch 7 \(truth)")
        XCTAssertGreaterThan(worst(unwarped, truth), 0.05, "the rectangle read without the warp must miss the patch for this test to mean anything")
        // Without the warp applied (opcodes.warp=false), the rectangle is read where it is.
        let plain = try RenderPlan.whiteBalance(raw, profile: try Profile.defaults.applying(overrides: spot + ["opcodes.warp=false"])).multipliers
        XCTAssertEqual(plain, unwarped)
    }

    /// `preview` renders a reduced image; a spot rectangle given in the full image's pixels must
    /// cover the same part of the picture there (`Preview.scalingSpot`). Emulsion's synthetic
    /// chart at 960×640, balanced on neutral 6.5's patch, reduced to at most 120 pixels (8×8
    /// bins): neutral 5 must come out neutral, |a*|, |b*| ≤ 1.5 as in `testCanonChartGreys`.
    /// Unscaled, the rectangle lay outside the 120×80 image and the render failed; a zero-sized
    /// one balanced on the corner pixel of the reduced image.
    func testSpotRectangleFollowsAPreviewReduction() throws {
        let scene = SyntheticScene(width: 960, height: 640)
        let raw = scene.render()
        let small = Preview.downscaled(raw, maxSide: 120)
        XCTAssertEqual(small.width, 120)
        let spot = scene.layout.chartPatches[20].inset(by: 0.2)
        let profile = try Profile.defaults.applying(overrides: [
            "whiteBalance.mode=spot", "whiteBalance.spotX=\(spot.x)", "whiteBalance.spotY=\(spot.y)",
            "whiteBalance.spotWidth=\(spot.width)", "whiteBalance.spotHeight=\(spot.height)",
        ])
        let scale = Double(small.width) / Double(raw.width)
        let image = try Renderer.render(small, options: RenderOptions(profile: try Preview.scalingSpot(profile, by: scale), space: .sRGB))
        let grey = scene.layout.chartPatches[21].inset(by: 0.25)
        var sum = SIMD3<Double>(repeating: 0), n = 0.0
        for y in Int(Double(grey.y) * scale)..<Int(Double(grey.maxY) * scale) {
            for x in Int(Double(grey.x) * scale)..<Int(Double(grey.maxX) * scale) {
                let i = 3 * (y * image.width + x)
                sum += SIMD3((0..<3).map { TestSupport.sRGBToLinear(Double(image.samples[i + $0]) / 65535) }); n += 1
            }
        }
        XCTAssertGreaterThan(n, 4)
        let lab = TestSupport.labFromLinearSRGB(sum / n)
        XCTAssertLessThanOrEqual(abs(lab.a), 1.5, "\(lab)")
        XCTAssertLessThanOrEqual(abs(lab.b), 1.5, "\(lab)")
        // No rectangle (the defaults' 0 × 0) is refused on a reduced image as on the full one.
        let none = try Profile.defaults.applying(overrides: ["whiteBalance.mode=spot"])
        for image in [raw, small] {
            XCTAssertThrowsError(try Renderer.render(image, options: RenderOptions(profile: none))) { error in
                XCTAssertTrue("\(error)".contains("spot white balance needs a rectangle"), "\(error)")
            }
        }
    }
}

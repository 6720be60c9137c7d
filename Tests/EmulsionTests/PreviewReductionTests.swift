@testable import Emulsion
import EmulsionCore
import EmulsionTestSupport
import XCTest

/// `Preview.downscaled` (what `emulsion preview` renders) against the full render of the same
/// raw: a phone DNG's lens shading, lens warp and picture area must come out in the preview as in
/// the render. Reference: the full render itself (`Renderer.render`, which the other tests hold to
/// the DNG specification), binned in linear light to the preview's pixels.
final class PreviewReductionTests: XCTestCase {
    /// Emulsion's synthetic phone capture at 640 × 480 (shading up to 1.9× at the red corners,
    /// the Pixel 7's warp) with a default crop, previewed at 160 pixels (4 × 4 bins). Mean linear
    /// RGB over a 5 × 5 grid of regions of the picture: within 5 % of the full render's (what
    /// remains is binning before the demosaic against after it, at the edges of patches and of
    /// the colour stripes: measured worst 3.1 %, red, in a region over the stripes). Without the gain maps the corners are 25 % and more darker (checked, so the
    /// comparison can fail); before the fix the crop also sat 4 preview pixels off.
    func testPhonePreviewMatchesTheFullRender() throws {
        var raw = SyntheticPhoneCapture.render(width: 640, height: 480)
        raw.metadata.defaultCrop = ImageRectangle(x: 16, y: 12, width: 600, height: 450)
        let small = Preview.downscaled(raw, maxSide: 160)
        XCTAssertEqual(small.width, 160)
        XCTAssertEqual(small.metadata.defaultCrop, ImageRectangle(x: 4, y: 3, width: 150, height: 113))
        XCTAssertNotNil(small.lensWarp)
        let options = RenderOptions(profile: try Profile.defaults.applying(overrides: []), space: .sRGB)
        let full = try Renderer.render(raw, options: options)
        let preview = try Renderer.render(small, options: options)
        XCTAssertEqual(full.width, 600)
        XCTAssertEqual(preview.width, 150)
        let unshaded = try Renderer.render(Preview.downscaled(raw, maxSide: 160, appliesLensShading: false), options: options)

        func mean(_ image: RenderedImage, _ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int) -> SIMD3<Double> {
            var sum = SIMD3<Double>(repeating: 0)
            for y in y0..<y1 {
                for x in x0..<x1 {
                    let i = 3 * (y * image.width + x)
                    sum += SIMD3((0..<3).map { TestSupport.sRGBToLinear(Double(image.samples[i + $0]) / 65535) })
                }
            }
            return sum / Double((x1 - x0) * (y1 - y0))
        }
        var worst = 0.0, darkest = 1.0
        for gy in 0..<5 {
            for gx in 0..<5 {
                // Preview pixels of this region, and the full render's pixels they bin.
                let (x0, x1) = (gx * 30, gx * 30 + 30), (y0, y1) = (gy * 22, gy * 22 + 22)
                let got = mean(preview, x0, y0, x1, y1), want = mean(full, 4 * x0, 4 * y0, 4 * x1, 4 * y1)
                let error = ((got - want) / (want + 0.01)).replacing(with: 0, where: got .== want)
                worst = max(worst, (0..<3).map { abs(error[$0]) }.max()!)
                if (gx == 0 || gx == 4) && (gy == 0 || gy == 4) {
                    let plain = mean(unshaded, x0, y0, x1, y1)
                    darkest = min(darkest, (0..<3).map { plain[$0] / want[$0] }.min()!)
                }
            }
        }
        XCTAssertLessThanOrEqual(worst, 0.05, "preview against the full render")
        XCTAssertLessThan(darkest, 0.75, "without the gain maps the corners must be darker, or this test checks nothing")
        print(String(format: "phone preview vs full render: worst %.4f; unshaded corners %.3f of the render", worst, darkest))
    }

    /// Gain maps a hostile file may carry: every gain finite (what `GainMap.isValid` admits) but
    /// two maps of 3·10³⁸ on every photosite, whose product is ∞, on photosites at or below black
    /// (0 · ∞ is not a number). The preview must still be made, every sample a number (it trapped
    /// converting NaN to UInt16 before the check).
    func testHostileGainMapsDoNotTrapThePreview() throws {
        var raw = SyntheticPhoneCapture.render(width: 240, height: 160)
        for i in stride(from: 0, to: raw.samples.count, by: 7) { raw.samples[i] = 0 }
        let huge = GainMap(top: 0, left: 0, bottom: 160, right: 240, plane: 0, planes: 1, rowPitch: 1, columnPitch: 1,
                           pointsV: 2, pointsH: 2, spacingV: 1, spacingH: 1, originV: 0, originH: 0, mapPlanes: 1,
                           gains: [3e38, 3e38, 3e38, 3e38])
        XCTAssertTrue(huge.isValid)
        raw.lensShading = LensShading(maps: [huge, huge], imageWidth: 240, imageHeight: 160)
        XCTAssertNotNil(raw.lensShading)
        let small = Preview.downscaled(raw, maxSide: 60)
        XCTAssertEqual(small.width, 60)
        XCTAssertEqual(small.samples.count, 3 * 60 * 40)
    }

    /// `LensWarp.binned`: a binned pixel reads where the full warp sends the centre of the pixels
    /// it bins, scaled: positions within 0.05 binned pixels over a grid (the area rounds to whole
    /// binned pixels, 642 / 4 → 161, which moves r's normalisation by 0.3 %), on a strong warp
    /// with tangential terms and an offset frame.
    func testBinnedWarpMapsAsTheFullWarp() throws {
        let coefficients = LensWarp.Coefficients(radial: [0.92, 0.05, -0.01, 0.002], tangentialX: 0.003, tangentialY: -0.002)
        let warp = try XCTUnwrap(LensWarp(planes: [coefficients], centreX: 0.47, centreY: 0.53, imageWidth: 660, imageHeight: 500,
                                           offsetX: 10, offsetY: 8))
        let block = 4
        let small = try XCTUnwrap(warp.binned(by: block)).mapping(pixelAspect: 1), fullMap = warp.mapping(pixelAspect: 1)
        var worst = 0.0
        let half = Double(block - 1) / 2
        for v in stride(from: 0, to: 120, by: 7) {
            for u in stride(from: 0, to: 160, by: 9) {
                let fullSource = fullMap.source(x: Double(u * block) + half, y: Double(v * block) + half, plane: 0)
                let want = (fullSource - half) / Double(block)
                let got = small.source(x: Double(u), y: Double(v), plane: 0)
                worst = max(worst, abs(got.x - want.x), abs(got.y - want.y))
            }
        }
        XCTAssertLessThanOrEqual(worst, 0.05)
        // Strong enough that the positions differ from the identity's by pixels.
        XCTAssertGreaterThan(abs(small.source(x: 0, y: 0, plane: 0).x), 3)
    }
}

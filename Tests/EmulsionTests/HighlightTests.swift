import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// Highlight modes on a real clipped light: the Raspberry Pi global-shutter sample (a blue-white
/// light spot on black; green and blue clip in its core, red does not). Measured on a 300×300
/// crop around the clipped area, rendered at −2 EV without BaselineExposure so that the output
/// encoding's own clipping at white does not mix into what the highlight stage did.
///
/// "Clipped pixels": those with a clipped photosite (≥ 99 % of white) in their 3×3 raw
/// neighbourhood. CIELab (D65) hue bands: magenta 320–360°, cyan 170–225°, counted where C* > 10.
/// Reference values were measured with this test (docs/QUALITY.md): clip leaves 3.4 % of the clipped
/// pixels cyan (a bright azure whose blue channel clipped first); blend and reconstruct leave
/// under 0.1 %. Tolerances: 0.5 % for blend and reconstruct; 30° between the reconstructed hue and
/// the hue of the unclipped light just outside (measured 22°).
final class HighlightTests: XCTestCase {
    struct Measurement {
        var clippedPixels = 0
        var magenta = 0.0, cyan = 0.0
        var medianChroma = 0.0, medianHue = 0.0
        var ringHue = 0.0
    }

    func measure(_ raw: RawImage, mode: String) throws -> Measurement {
        let profile = try Profile.defaults.applying(overrides: ["highlights.mode=\(mode)", "exposure.baseline=false", "exposure.ev=-2"])
        let image = try Renderer.render(raw, options: RenderOptions(profile: profile, space: .sRGB))
        guard case .mosaic(let cfa) = raw.layout else { throw XCTSkip("not a mosaic") }
        let w = raw.width, h = raw.height
        // Clipped photosites, then pixels with one in 3×3 ("clipped") and in 13×13 but not 3×3 ("ring").
        var clipped = [Bool](repeating: false, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                let black = raw.levels.black(row: y, column: x)
                clipped[y * w + x] = Float(raw.samples[y * w + x]) - black >= 0.99 * (raw.levels.white - black)
            }
        }
        _ = cfa
        func near(_ x: Int, _ y: Int, _ r: Int) -> Bool {
            for yy in max(0, y - r)...min(h - 1, y + r) {
                for xx in max(0, x - r)...min(w - 1, x + r) where clipped[yy * w + xx] { return true }
            }
            return false
        }
        var m = Measurement()
        var chroma: [Double] = [], hues: [Double] = [], ringHues: [Double] = []
        for y in 0..<h {
            for x in 0..<w {
                let i = 3 * (y * w + x)
                let rgb = SIMD3((0..<3).map { TestSupport.sRGBToLinear(Double(image.samples[i + $0]) / 65535) })
                let lab = TestSupport.labFromLinearSRGB(rgb)
                let c = (lab.a * lab.a + lab.b * lab.b).squareRoot()
                var hue = atan2(lab.b, lab.a) * 180 / .pi
                if hue < 0 { hue += 360 }
                if near(x, y, 1) {
                    m.clippedPixels += 1
                    chroma.append(c)
                    hues.append(hue)
                    if c > 10 && hue >= 320 { m.magenta += 1 }
                    if c > 10 && hue >= 170 && hue <= 225 { m.cyan += 1 }
                } else if near(x, y, 6) && c > 10 {
                    ringHues.append(hue)
                }
            }
        }
        func median(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.sorted()[v.count / 2] }
        m.magenta /= Double(max(m.clippedPixels, 1))
        m.cyan /= Double(max(m.clippedPixels, 1))
        m.medianChroma = median(chroma)
        m.medianHue = median(hues)
        m.ringHue = median(ringHues)
        return m
    }

    func testRaspberryPiLightSpot() throws {
        let name = "raspberrypi-gs_camera_imx296-lightspot.dng"
        let url = TestSupport.samplesDirectory.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            if TestSupport.inCI { XCTFail("missing sample \(name)") }
            throw XCTSkip("missing sample \(name)")
        }
        // The clipped photosites span rows 494–758, columns 609–869; even offsets keep BGGR.
        let raw = try RawFile.read(path: url.path).cropped(x: 590, y: 480, width: 300, height: 300)
        var report: [String] = []
        var results: [String: Measurement] = [:]
        for mode in ["clip", "blend", "reconstruct"] {
            let m = try measure(raw, mode: mode)
            results[mode] = m
            report.append(String(format: "%@: %d clipped pixels, magenta %.4f, cyan %.4f, median C* %.1f, median hue %.0f° (light outside %.0f°)",
                                 mode, m.clippedPixels, m.magenta, m.cyan, m.medianChroma, m.medianHue, m.ringHue))
        }
        print("Raspberry Pi light spot:\n  " + report.joined(separator: "\n  "))
        let clip = results["clip"]!, blend = results["blend"]!, reconstruct = results["reconstruct"]!
        XCTAssertGreaterThan(clip.clippedPixels, 50_000)
        XCTAssertLessThan(clip.medianChroma, 2, "clip keeps clipped areas neutral")
        XCTAssertEqual(clip.magenta, 0, accuracy: 0.005)
        for (mode, m) in [("blend", blend), ("reconstruct", reconstruct)] {
            XCTAssertLessThan(m.magenta + m.cyan, 0.005, "\(mode): magenta or cyan in clipped areas")
        }
        XCTAssertLessThan(blend.medianChroma, 2, "blend fades clipped areas to neutral")
        XCTAssertGreaterThan(reconstruct.medianChroma, 10, "reconstruct recovers the light's colour")
        XCTAssertLessThan(abs(reconstruct.medianHue - reconstruct.ringHue), 30, "reconstructed hue follows the unclipped light")
    }
}

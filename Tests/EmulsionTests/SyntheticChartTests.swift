import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The synthetic chart round trip: a scene whose true colours are known (X-Rite ColorChecker,
/// "after November 2014" CIELAB D50 values) is rendered to raw through a known camera matrix,
/// written as a DNG, read back through LibRaw and rendered with the neutral profile. The patch
/// means, decoded through the embedded ICC profile's own maths (`EncodedToLab`), must come back
/// within mean ΔE2000 ≤ 2 (issue 2). The residual is bilinear interpolation's and the camera
/// matrix's 16-bit rounding in the DNG; patches are measured in their inner 60% only.
final class SyntheticChartTests: XCTestCase {
    func renderChart(cfa: CFAPattern, space: OutputSpace = .sRGB) throws -> (SyntheticScene, RenderedImage) {
        var camera = SyntheticCamera()
        camera.cfa = cfa
        let scene = SyntheticScene(width: 480, height: 320, camera: camera)
        let dir = TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dng = dir.appendingPathComponent("chart.dng")
        try DNGWriter.write(scene.render(), to: dng)
        let raw = try RawFile.read(path: dng.path)
        let profile = try ProfileLoader(searchDirectories: [TestSupport.repositoryRoot.appendingPathComponent("Profiles")]).load("neutral")
        return (scene, try Renderer.render(raw, options: RenderOptions(profile: profile, space: space)))
    }

    func patchStatistics(_ scene: SyntheticScene, _ image: RenderedImage) throws -> DeltaEStatistics {
        let toLab = try EncodedToLab(image.space)
        var pairs: [(CIELab, CIELab)] = []
        for truth in scene.chartPatches {
            let r = truth.sampleRect
            var sum = SIMD3<Double>(repeating: 0)
            var n = 0.0
            for y in r.y..<(r.y + r.height) {
                for x in r.x..<(r.x + r.width) {
                    let i = 3 * (y * image.width + x)
                    sum += SIMD3(Double(image.samples[i]), Double(image.samples[i + 1]), Double(image.samples[i + 2])) / 65535
                    n += 1
                }
            }
            let reference = CIELab(L: truth.labD50.x, a: truth.labD50.y, b: truth.labD50.z)
            pairs.append((reference, toLab.lab(fromEncoded: sum / n)))
        }
        return DeltaEStatistics(pairs: pairs, threshold: 2)
    }

    func testChartRoundTripsInEveryBayerLayout() throws {
        for cfa in [CFAPattern.rggb, .bggr, .grbg, .gbrg] {
            let (scene, image) = try renderChart(cfa: cfa)
            let stats = try patchStatistics(scene, image)
            print("synthetic chart \(cfa.name), neutral, sRGB: \(stats)")
            XCTAssertLessThanOrEqual(stats.mean, 2, "\(cfa.name): \(stats)")
        }
    }

    func testChartRoundTripsInWideSpaces() throws {
        for space in [OutputSpace.displayP3, .rec2020, .proPhoto, .adobeRGB] {
            let (scene, image) = try renderChart(cfa: .rggb, space: space)
            let stats = try patchStatistics(scene, image)
            print("synthetic chart RGGB, neutral, \(space.rawValue): \(stats)")
            XCTAssertLessThanOrEqual(stats.mean, 2, "\(space.rawValue): \(stats)")
            // Every patch is inside these gamuts, so nothing clips: what is left is the DNG's
            // rational matrix and 16-bit quantisation, measured at ≈ 0.08 ΔE2000 at most.
            XCTAssertLessThanOrEqual(stats.max, 0.5, "\(space.rawValue): \(stats)")
        }
    }
}

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

    static func patchStatistics(_ scene: SyntheticScene, _ image: RenderedImage) throws -> DeltaEStatistics {
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
            let stats = try Self.patchStatistics(scene, image)
            print("synthetic chart \(cfa.name), neutral, sRGB: \(stats)")
            XCTAssertLessThanOrEqual(stats.mean, 2, "\(cfa.name): \(stats)")
        }
    }

    func testChartRoundTripsInWideSpaces() throws {
        for space in [OutputSpace.displayP3, .rec2020, .proPhoto, .adobeRGB] {
            let (scene, image) = try renderChart(cfa: .rggb, space: space)
            let stats = try Self.patchStatistics(scene, image)
            print("synthetic chart RGGB, neutral, \(space.rawValue): \(stats)")
            XCTAssertLessThanOrEqual(stats.mean, 2, "\(space.rawValue): \(stats)")
            // Every patch is inside these gamuts, so nothing clips: what is left is the DNG's
            // rational matrix and 16-bit quantisation, measured at ≈ 0.08 ΔE2000 at most.
            XCTAssertLessThanOrEqual(stats.max, 0.5, "\(space.rawValue): \(stats)")
        }
    }
}

/// Issue 4's check of the DNG colour maths: the synthetic chart from a camera that records two
/// calibrations under D50 and D75 (neither StdA nor D65; their ColorMatrices and ForwardMatrices
/// straddle the true ones so that only 1/CCT interpolation at the scene white gives them back),
/// an AnalogBalance and a CameraCalibration, written as a DNG and read back through LibRaw.
/// Every demosaic, both DNG matrix paths: mean ΔE2000 ≤ 1.0 and max ≤ 3 (issue 4), measured in
/// Rec.2020 output so that no patch is out of gamut.
final class DNGColourChartTests: XCTestCase {
    func testDualIlluminantChartForEveryDemosaicAndBothPaths() throws {
        var report: [String] = []
        for cfa in [CFAPattern.rggb, DNGColourChartTests.xTrans] {
            var camera = SyntheticCamera()
            camera.cfa = cfa
            camera.bracketingIlluminants = [23, 22]
            camera.recordsForwardMatrix = true
            camera.analogBalance = SIMD3(1.05, 1, 0.97)
            camera.cameraCalibration = Matrix3(rowMajor: [1.02, 0, 0, 0, 1, 0, 0, 0, 0.98])
            let scene = SyntheticScene(width: 360, height: 240, camera: camera)
            let dir = TestSupport.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let dng = dir.appendingPathComponent("chart.dng")
            try DNGWriter.write(scene.render(), to: dng)
            let raw = try RawFile.read(path: dng.path)
            XCTAssertEqual(raw.colour.dngCalibrations.map(\.illuminant), [23, 22])
            XCTAssertEqual(Double(raw.colour.analogBalance.x), 1.05, accuracy: 1e-4)
            let demosaics = cfa.isBayer ? ["bilinear", "malvar", "rcd"] : ["bilinear", "directional"]
            for demosaic in demosaics {
                for path in ["dng-color-matrix", "dng-forward-matrix"] {
                    let profile = try Profile.defaults.applying(overrides: ["demosaic.algorithm=\(demosaic)", "camera.matrix=\(path)"])
                    // Rec.2020 holds every patch (sRGB clips the cyan patch, ΔE 3.5 from gamut alone).
                    let image = try Renderer.render(raw, options: RenderOptions(profile: profile, space: .rec2020))
                    let stats = try SyntheticChartTests.patchStatistics(scene, image)
                    report.append("\(cfa.name) \(demosaic) \(path): \(stats)")
                    XCTAssertLessThanOrEqual(stats.mean, 1.0, "\(cfa.name) \(demosaic) \(path): \(stats)")
                    XCTAssertLessThanOrEqual(stats.max, 3.0, "\(cfa.name) \(demosaic) \(path): \(stats)")
                }
            }
        }
        print("dual-illuminant synthetic chart (mean ≤ 1, max ≤ 3):\n  " + report.joined(separator: "\n  "))
    }

    static let xTrans = CFAPattern(width: 6, height: 6, colours: [
        1, 1, 0, 1, 1, 2,  1, 1, 2, 1, 1, 0,  2, 0, 1, 0, 2, 1,
        1, 1, 2, 1, 1, 0,  1, 1, 0, 1, 1, 2,  0, 2, 1, 2, 0, 1,
    ])
}

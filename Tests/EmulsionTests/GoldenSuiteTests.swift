import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The project's own golden suite, `Tests/Golden/core`: the synthetic chart and real samples through
/// the shipped profiles, checked on every test run. When a change to the engine, a look or the raw
/// side changes renders on purpose, re-approve with `emulsion golden record Tests/Golden/core`
/// (docs/GOLDEN.md) and commit the new approved images with the change.
final class GoldenSuiteTests: XCTestCase {
    static let suiteDirectory = TestSupport.repositoryRoot.appendingPathComponent("Tests/Golden/core")

    var out: URL!
    override func setUpWithError() throws { out = TestSupport.temporaryDirectory("emulsion-golden-core") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: out) }

    func loadSuite() throws -> GoldenSuite { try GoldenSuite.load(Self.suiteDirectory.path) }

    /// Samples come from TestSupport's folder. Without it, locally, only the synthetic cases run
    /// (and the test says so); in CI every case must run.
    func runnableCases(_ suite: GoldenSuite) throws -> [GoldenCase] {
        if FileManager.default.fileExists(atPath: TestSupport.samplesDirectory.path) { return suite.cases }
        if TestSupport.inCI { XCTFail("raw samples missing at \(TestSupport.samplesDirectory.path)") }
        let synthetic = suite.cases.filter { if case .syntheticChart = $0.input { return true } else { return false } }
        print("GoldenSuiteTests: samples missing; checking only the \(synthetic.count) synthetic cases")
        return synthetic
    }

    func runner(_ suite: GoldenSuite, overrides: [String] = []) -> GoldenRunner {
        GoldenFixture.runner(suite, overrides: overrides, out: out,
                             environment: ["EMULSION_SAMPLES": TestSupport.samplesDirectory.path])
    }

    func testCoreSuitePasses() throws {
        let suite = try loadSuite()
        let report = runner(suite).check(try runnableCases(suite))
        for r in report.results {
            print("golden \(r.verdict.tag) \(r.goldenCase.name): \(r.message)")
            XCTAssertTrue(r.verdict.passed, """
                \(r.goldenCase.name): \(r.verdict.rawValue): \(r.message) \(r.notes.joined(separator: "; "))
                actual: \(r.actualPath ?? "-") heat map: \(r.heatMapPath ?? "-")
                If this change to the renders is intended, re-approve: emulsion golden record Tests/Golden/core (docs/GOLDEN.md).
                """)
        }
        XCTAssertEqual(report.exitCode, 0)
    }

    /// "Every shipped look × several samples and the synthetic chart" (issue 6): each profile in
    /// Profiles/ has a chart case and at least two sample cases.
    func testEveryShippedProfileIsCovered() throws {
        let suite = try loadSuite()
        for name in GoldenFixture.profiles.availableNames() {
            let cases = suite.cases.filter { $0.profile == name }
            let charts = cases.filter { if case .syntheticChart = $0.input { return true } else { return false } }
            XCTAssertGreaterThanOrEqual(charts.count, 1, "profile \(name) has no synthetic-chart case in Tests/Golden/core/golden.json; add one and run `emulsion golden record Tests/Golden/core`")
            XCTAssertGreaterThanOrEqual(cases.count - charts.count, 2, "profile \(name) needs at least two sample cases in Tests/Golden/core/golden.json")
        }
    }

    /// Every committed approved image is checked by a case (none left behind by a rename).
    func testEveryApprovedImageBelongsToACase() throws {
        XCTAssertEqual(try loadSuite().orphanedApprovedImages, [])
    }

    /// Approved images are committed: each well under 300 KB, all together under 3 MB.
    func testApprovedImagesStaySmall() throws {
        let suite = try loadSuite()
        var total = 0
        for c in suite.cases {
            let url = suite.approvedURL(c)
            let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
            XCTAssertLessThan(size, 300_000, "\(url.path): \(size) bytes; lower the case's maxSize")
            total += size
        }
        XCTAssertLessThan(total, 3_000_000, "approved images total \(total) bytes")
    }

    /// A deliberate one-unit change to a tone parameter (+0.1 EV exposure, a what-if override) fails
    /// the chart and a real sample, and the heat map shows where: every pixel the change can move
    /// (not clipped at white in the approved image) is coloured, and the clipped end of the grey
    /// ramp, which the brighter exposure cannot change, stays grey.
    func testOneUnitToneChangeFailsAndTheHeatMapShowsWhere() throws {
        let suite = try loadSuite()
        var names = ["chart-neutral"]
        if FileManager.default.fileExists(atPath: TestSupport.samplesDirectory.path) { names.append("lg-g4-neutral") }
        let report = runner(suite, overrides: ["exposure.ev=0.1"]).check(try suite.select(names))
        for r in report.results {
            XCTAssertEqual(r.verdict, .fail, "\(r.goldenCase.name): \(r.message)")
        }
        XCTAssertEqual(report.exitCode, 1)

        let chart = report.results[0]
        let approved = try PNGFile.read(path: chart.approvedPath)
        let heat = try PNGFile.read(path: try XCTUnwrap(chart.heatMapPath))
        XCTAssertEqual(chart.actualPath, out.appendingPathComponent("chart-neutral/actual.png").path)
        XCTAssertGreaterThan(heat.height, approved.height, "legend below the map")
        let mapX = (heat.width - approved.width) / 2
        var movable = 0, movableColoured = 0, clipped = 0, clippedGrey = 0
        for y in 0..<approved.height {
            for x in 0..<approved.width {
                let i = 3 * (y * approved.width + x)
                let rgb = approved.samples[i..<(i + 3)]
                let j = 3 * (y * heat.width + x + mapX)
                let grey = heat.samples[j] == heat.samples[j + 1] && heat.samples[j + 1] == heat.samples[j + 2]
                if rgb.allSatisfy({ $0 == 65535 }) {
                    clipped += 1
                    if grey { clippedGrey += 1 }
                } else if rgb.allSatisfy({ $0 > 0 && $0 < 65000 }) {
                    movable += 1
                    if !grey { movableColoured += 1 }
                }
            }
        }
        XCTAssertGreaterThan(movable, approved.width * approved.height / 2)
        XCTAssertGreaterThanOrEqual(Double(movableColoured), 0.99 * Double(movable), "heat map coloured where the image can change")
        XCTAssertGreaterThan(clipped, 100, "the chart's grey ramp runs past clipping")
        XCTAssertGreaterThanOrEqual(Double(clippedGrey), 0.99 * Double(clipped), "heat map grey where the image is clipped")
        // Each map pixel is exactly the scale colour of that pixel's ΔE00 (recomputed here from the
        // written actual image), so the map shows where and how much.
        let actual = try PNGFile.read(path: try XCTUnwrap(chart.actualPath))
        let comparison = try ImageComparison(approved: approved, approvedSpace: .sRGB, actual: actual, actualSpace: .sRGB, threshold: 2.3)
        XCTAssertEqual(comparison.statistics, chart.statistics)
        var mismatched = 0
        for y in 0..<approved.height {
            for x in 0..<approved.width {
                let e = Double(comparison.deltaE[y * approved.width + x])
                let expected = e < GoldenTolerance.identicalBelow ? HeatMap.underlay(lightness: comparison.approvedLightness[y * approved.width + x])
                    : HeatMap.colour(deltaE: e)
                let j = 3 * (y * heat.width + x + mapX)
                if (UInt8(heat.samples[j]), UInt8(heat.samples[j + 1]), UInt8(heat.samples[j + 2])) != expected { mismatched += 1 }
            }
        }
        XCTAssertEqual(mismatched, 0)
    }
}

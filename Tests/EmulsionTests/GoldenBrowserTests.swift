import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The HTML report in a real browser: headless Chromium (Debian `chromium`, installed by
/// `.ci/setup --tests`) loads the report from disk, then
/// 1. `--dump-dom` after the load event: the report's own script has counted the decoded images
///    (`naturalWidth > 0`) and must say all of them are displayed;
/// 2. `--screenshot`: the page is not blank, and the most frequent colours of the embedded heat map
///    and approved preview appear on screen (`--force-color-profile=srgb` makes sRGB pixels land
///    unchanged; the report scales images with `image-rendering: pixelated`, which keeps colours).
final class GoldenBrowserTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = TestSupport.temporaryDirectory("emulsion-golden-html") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func chromium() throws -> String {
        for name in ["chromium", "chromium-browser", "google-chrome"] { if let p = TestSupport.which(name) { return p } }
        if TestSupport.inCI { XCTFail("chromium is required in CI (.ci/setup --tests installs it)") }
        throw XCTSkip("chromium not installed (apt-get install chromium, or run .ci/setup --tests)")
    }

    func testReportDisplaysItsImagesInHeadlessChromium() throws {
        let browser = try chromium()
        let suiteDir = dir.appendingPathComponent("suite")
        let chart = GoldenFixture.smallChart
        let recorded = try GoldenFixture.suite(in: suiteDir, cases: #"[ { "name": "same", "input": "\#(chart)" }, { "name": "brighter", "input": "\#(chart)" } ]"#,
                                               defaults: #"{ "maxSize": 120 }"#)
        _ = GoldenFixture.runner(recorded).record(recorded.cases)
        let suite = try GoldenFixture.suite(in: suiteDir, cases: #"""
            [ { "name": "same", "input": "\#(chart)" }, { "name": "brighter", "input": "\#(chart)", "set": ["exposure.ev=0.5"] } ]
            """#, defaults: #"{ "maxSize": 120 }"#)
        let report = GoldenFixture.runner(suite, out: dir.appendingPathComponent("out"), previewSize: 240).check(suite.cases)
        XCTAssertEqual(report.results.map(\.verdict), [.identical, .fail])
        let html = dir.appendingPathComponent("report.html")
        try GoldenHTMLReport.html(report).write(to: html, atomically: false, encoding: .utf8)
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-color-profile=srgb",
                      "--user-data-dir=\(dir.appendingPathComponent("chromium-profile").path)"]

        let dom = try TestSupport.run(browser, common + ["--dump-dom", html.absoluteString], timeout: 120)
        XCTAssertEqual(dom.status, 0, dom.stderr)
        XCTAssertTrue(dom.stdout.contains("6 of 6 images displayed"), "image status: \(imageStatus(dom.stdout))")
        XCTAssertTrue(dom.stdout.contains("data-shown=\"6\""), imageStatus(dom.stdout))

        let shot = dir.appendingPathComponent("shot.png")
        let s = try TestSupport.run(browser, common + ["--screenshot=\(shot.path)", "--window-size=1200,1600", html.absoluteString], timeout: 120)
        XCTAssertEqual(s.status, 0, s.stderr)
        let screen = try PNGFile.read(path: shot.path)
        let onScreen = colourCounts(screen)
        XCTAssertGreaterThan(onScreen.count, 300, "the screenshot is not blank")

        // The failing case's heat map (the first section: worst first) and its approved image.
        let failing = try XCTUnwrap(report.results.first { $0.verdict == .fail })
        let heat = try PNGFile.decode(try XCTUnwrap(failing.previews?.heatMap))
        let heatColours = colourCounts(heat).filter { !($0.key.r == $0.key.g && $0.key.g == $0.key.b) }
        let approved = try PNGFile.decode(try XCTUnwrap(failing.previews?.approved))
        for (name, colours) in [("heat map", heatColours), ("approved image", colourCounts(approved))] {
            let top = colours.sorted { $0.value > $1.value }.prefix(12).map(\.key)
            let found = top.filter { c in onScreen.keys.contains { abs(Int($0.r) - Int(c.r)) <= 2 && abs(Int($0.g) - Int(c.g)) <= 2 && abs(Int($0.b) - Int(c.b)) <= 2 } }
            XCTAssertGreaterThanOrEqual(found.count, top.count * 3 / 4, "\(name): \(found.count) of its \(top.count) main colours on screen")
        }
    }

    /// `compare --html`'s page in the same browser: every embedded image decodes — among them the
    /// previews of a monochrome TIFF pair tagged with a grey profile, which the previews leave out
    /// (an RGB PNG tagged grey is what a browser would refuse).
    func testComparisonReportDisplaysItsImagesInHeadlessChromium() throws {
        let browser = try chromium()
        guard let convert = TestSupport.which("convert") else {
            if TestSupport.inCI { XCTFail("ImageMagick's convert missing (.ci/setup --tests installs it)") }
            throw XCTSkip("ImageMagick's convert not installed")
        }
        let greyICC = dir.appendingPathComponent("grey.icc")
        try Data(try CompareTests.greyProfile()).write(to: greyICC)
        var results: [ImageFileComparison.Result] = []
        for (name, a, b) in [("mono.tif", "gray(46%)", "gray(40%)"), ("colour.png", "rgb(120,90,60)", "rgb(128,90,60)")] {
            let paths = ["a", "b"].map { dir.appendingPathComponent("\($0)-\(name)").path }
            let grey = name.hasSuffix(".tif") ? ["-colorspace", "Gray", "-profile", greyICC.path] : []
            for (path, colour) in zip(paths, [a, b]) {
                let made = try TestSupport.run(convert, ["-size", "64x48", "xc:\(colour)"] + grey + ["-depth", "16", path])
                XCTAssertEqual(made.status, 0, made.stderr)
            }
            results.append(ImageFileComparison.compare(name: name, expected: paths[0], actual: paths[1], tolerance: GoldenTolerance(),
                                                       heatMap: nil, previewSize: 120, threads: 1))
        }
        XCTAssertEqual(results.map(\.verdict), [.fail, .fail])
        let html = dir.appendingPathComponent("compare.html")
        try ComparisonHTMLReport.html(results, expected: "a", actual: "b", tolerance: GoldenTolerance(), seconds: 0)
            .write(to: html, atomically: false, encoding: .utf8)
        let dom = try TestSupport.run(browser, ["--headless", "--no-sandbox", "--disable-gpu", "--force-color-profile=srgb",
                                                "--user-data-dir=\(dir.appendingPathComponent("chromium-profile").path)",
                                                "--dump-dom", html.absoluteString], timeout: 120)
        XCTAssertEqual(dom.status, 0, dom.stderr)
        XCTAssertTrue(dom.stdout.contains("6 of 6 images displayed"), "image status: \(imageStatus(dom.stdout))")
    }

    func imageStatus(_ dom: String) -> String {
        guard let r = dom.range(of: "<p id=\"image-status\"") else { return "no #image-status in the DOM" }
        return String(dom[r.lowerBound...].prefix(200))
    }

    struct RGB: Hashable { let r, g, b: UInt16 }

    func colourCounts(_ image: PNGImage) -> [RGB: Int] {
        var counts: [RGB: Int] = [:]
        for i in stride(from: 0, to: image.samples.count, by: 3) {
            counts[RGB(r: image.samples[i], g: image.samples[i + 1], b: image.samples[i + 2]), default: 0] += 1
        }
        return counts
    }
}

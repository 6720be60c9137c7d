import CLCMS2
import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// Temporary golden suites for the tests: a manifest written from a JSON fragment, renders of the
/// smallest synthetic chart (240×160) reduced to 60×40, so a case costs a fraction of a second.
enum GoldenFixture {
    static let profiles = ProfileLoader(searchDirectories: [TestSupport.repositoryRoot.appendingPathComponent("Profiles")])
    static let smallChart = "synthetic:chart@240x160"

    /// Writes `golden.json` with `cases` (a JSON array) and optional `defaults`, and loads it.
    static func suite(in dir: URL, cases: String, defaults: String = #"{ "maxSize": 60 }"#, extra: String = "") throws -> GoldenSuite {
        let manifest = """
            { "schemaVersion": 1, \(extra) "defaults": \(defaults), "cases": \(cases) }
            """
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try manifest.write(to: dir.appendingPathComponent("golden.json"), atomically: false, encoding: .utf8)
        return try GoldenSuite.load(dir.path)
    }

    static func runner(_ suite: GoldenSuite, overrides: [String] = [], out: URL? = nil, previewSize: Int? = nil,
                       environment: [String: String] = ProcessInfo.processInfo.environment) -> GoldenRunner {
        GoldenRunner(renderer: GoldenRenderer(suite: suite, profiles: profiles, extraOverrides: overrides, environment: environment),
                     threads: 2, outputDirectory: out, previewSize: previewSize)
    }

    /// A uniform 3-channel image.
    static func uniform(_ w: Int, _ h: Int, _ rgb: (UInt16, UInt16, UInt16), bits: Int = 16, space: OutputSpace = .sRGB) throws -> PNGImage {
        var samples: [UInt16] = []
        for _ in 0..<(w * h) { samples += [rgb.0, rgb.1, rgb.2] }
        return PNGImage(width: w, height: h, bitDepth: bits, channels: 3, samples: samples, iccProfile: try space.iccProfile())
    }
}

/// The golden-image feature's parts: the fast Lab decoding, the comparison and its verdicts, the
/// heat map, the manifest, record and check on small temporary suites, and the JUnit/HTML writers.
final class GoldenTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = TestSupport.temporaryDirectory("emulsion-golden") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    // MARK: Lab decoding and comparison

    /// The table path must be bitwise `EncodedToLab` (which ColourManagementTests checks against
    /// LittleCMS): same stored curve and matrix, same operation order. Every space, both depths,
    /// the end codes and 2000 seeded random pixels; exact equality, no tolerance.
    func testEncodedLabDecoderIsExactlyEncodedToLab() throws {
        var rng = SplitMix64(seed: 6)
        for space in OutputSpace.allCases {
            let reference = try EncodedToLab(space)
            for bits in [8, 16] {
                let decoder = try EncodedLabDecoder(space: space, bitDepth: bits)
                let maxCode = UInt16((1 << bits) - 1)
                var codes: [(UInt16, UInt16, UInt16)] = [(0, 0, 0), (maxCode, maxCode, maxCode), (maxCode, 0, 0), (1, 2, 3)]
                for _ in 0..<2000 { codes.append((rng.code(maxCode), rng.code(maxCode), rng.code(maxCode))) }
                for (r, g, b) in codes {
                    let fast = decoder.lab(r, g, b)
                    let slow = reference.lab(fromEncoded: SIMD3(Double(r), Double(g), Double(b)) / Double(maxCode))
                    XCTAssertEqual(fast, slow, "\(space.rawValue) \(bits)-bit (\(r), \(g), \(b))")
                }
            }
        }
    }

    /// A uniform shift: every pixel's ΔE00 equals the formula on the two decoded colours.
    func testComparisonOfUniformImagesIsTheFormula() throws {
        let a = try GoldenFixture.uniform(7, 5, (30000, 32000, 28000))
        let b = try GoldenFixture.uniform(7, 5, (30500, 32000, 27000))
        let c = try ImageComparison(approved: a, approvedSpace: .sRGB, actual: b, actualSpace: .sRGB, threshold: 1)
        let toLab = try EncodedToLab(.sRGB)
        let expected = toLab.lab(fromEncoded: SIMD3(30000, 32000, 28000) / 65535)
            .deltaE2000(to: toLab.lab(fromEncoded: SIMD3(30500, 32000, 27000) / 65535))
        XCTAssertEqual(c.statistics.count, 35)
        XCTAssertEqual(c.statistics.mean, expected, accuracy: 1e-12)
        XCTAssertEqual(c.statistics.max, expected, accuracy: 1e-12)
        XCTAssertEqual(c.statistics.fractionAbove, expected > 1 ? 1 : 0)
        XCTAssertEqual(c.deltaE.count, 35)
        XCTAssertEqual(Double(c.deltaE[17]), expected, accuracy: 1e-5)

        let same = try ImageComparison(approved: a, approvedSpace: .sRGB, actual: a, actualSpace: .sRGB, threshold: 1)
        XCTAssertEqual(same.statistics.max, 0)
        XCTAssertThrowsError(try ImageComparison(approved: a, approvedSpace: .sRGB, actual: try GoldenFixture.uniform(5, 7, (0, 0, 0)),
                                                 actualSpace: .sRGB, threshold: 1)) { error in
            XCTAssertTrue("\(error)".contains("7×5") && "\(error)".contains("5×7"), "\(error)")
        }
    }

    /// The same colour in two spaces or depths compares colorimetrically (near 0, not by codes).
    func testComparisonAcrossSpacesAndDepthsIsColorimetric() throws {
        let srgb = try GoldenFixture.uniform(4, 4, (40000, 30000, 20000))
        let lab = try EncodedToLab(.sRGB).lab(fromEncoded: SIMD3(40000, 30000, 20000) / 65535)
        // The same colour encoded in Display P3: through XYZ D50 and the P3 profile's inverse.
        let p3 = try OutputSpace.displayP3.embeddedProfile()
        let linear = p3.linearToPCS.inverse! * lab.xyz(white: iccD50)
        let codes = (0..<3).map { UInt16((p3.transferCurve.encode(linear[$0]) * 65535).rounded()) }
        let inP3 = try GoldenFixture.uniform(4, 4, (codes[0], codes[1], codes[2]), space: .displayP3)
        let c = try ImageComparison(approved: srgb, approvedSpace: .sRGB, actual: inP3, actualSpace: .displayP3, threshold: 1)
        XCTAssertLessThan(c.statistics.max, 0.01, "same colour, 16-bit rounding only")
        let eight = srgb.eightBit
        let d = try ImageComparison(approved: srgb, approvedSpace: .sRGB, actual: eight, actualSpace: .sRGB, threshold: 1)
        XCTAssertLessThan(d.statistics.max, 0.5, "8-bit rounding of a mid colour is well under a JND")
        XCTAssertGreaterThan(d.statistics.max, 0)
    }

    /// Verdict boundaries: identical below 0.01; pass needs mean ≤ 0.77 and max ≤ 2.3 (inclusive,
    /// as darktable-tests); either beyond fails; an optional p95 limit; NaN never passes.
    func testVerdictBoundaries() {
        func verdict(_ d: [Double], _ t: GoldenTolerance = GoldenTolerance()) -> GoldenVerdict {
            GoldenRunner.judge(DeltaEStatistics(differences: d, threshold: t.threshold), t).0
        }
        XCTAssertEqual(verdict([0, 0.0099]), .identical)
        XCTAssertEqual(verdict([0, 0.01]), .pass)
        XCTAssertEqual(verdict([0.77, 0.77]), .pass)
        XCTAssertEqual(verdict([0.78, 0.78]), .fail)
        XCTAssertEqual(verdict([0, 0, 0, 2.3]), .pass)
        XCTAssertEqual(verdict([0, 0, 0, 2.31]), .fail)
        XCTAssertEqual(verdict([0, .nan]), .fail)
        XCTAssertEqual(verdict(Array(repeating: 0.5, count: 10), GoldenTolerance(p95: 0.4)), .fail)
        XCTAssertEqual(verdict([0.9, 0.9], GoldenTolerance(mean: 1, max: 1)), .pass)
        let (_, message) = GoldenRunner.judge(DeltaEStatistics(differences: [0.5, 3], threshold: 2.3), GoldenTolerance())
        XCTAssertTrue(message.contains("max > 2.3") && message.contains("50% of pixels above 2.3"), message)
    }

    // MARK: Reduction and heat map

    func testBoxReductionAveragesWholeBlocks() {
        // 5×3 image, factor 2 → 2×1; the last column and row are dropped.
        var samples: [UInt16] = []
        for y in 0..<3 { for x in 0..<5 { samples += [UInt16(x * 10 + y), 100, UInt16(x)] } }
        let image = PNGImage(width: 5, height: 3, bitDepth: 16, channels: 3, samples: samples)
        XCTAssertEqual(ImageReduction.factor(width: 5, height: 3, maxSide: 2), 3)
        let r = ImageReduction.reduced(image, by: 2)
        XCTAssertEqual([r.width, r.height], [2, 1])
        // Block (0,0): x 0–1, y 0–1 → red values 0, 10, 1, 11 → mean 5.5 → 6 (round half up).
        XCTAssertEqual(Array(r.samples[0..<3]), [6, 100, 1])
        // Block (1,0): x 2–3 → red 20, 30, 21, 31 → 25.5 → 26; blue 2, 3, 2, 3 → 2.5 → 3.
        XCTAssertEqual(Array(r.samples[3..<6]), [26, 100, 3])
        XCTAssertEqual(PNGImage(width: 1, height: 1, bitDepth: 16, channels: 3, samples: [0, 65535, 32896]).eightBit.samples, [0, 255, 128])
    }

    func testHeatMapColoursAndLegend() throws {
        XCTAssertTrue(HeatMap.colour(deltaE: 0) == HeatMap.knots[0].colour)
        XCTAssertTrue(HeatMap.colour(deltaE: 2.3) == HeatMap.knots[3].colour)
        XCTAssertTrue(HeatMap.colour(deltaE: 50) == HeatMap.knots[5].colour)
        XCTAssertTrue(HeatMap.colour(deltaE: .nan) == HeatMap.knots[5].colour)
        for e in stride(from: 0.0, through: 12, by: 0.05) {
            XCTAssertFalse(HeatMap.isUnderlay(HeatMap.colour(deltaE: e)), "scale colour at \(e) must not look unchanged (grey)")
        }
        XCTAssertTrue(HeatMap.isUnderlay(HeatMap.underlay(lightness: 42)))

        // 100×60 comparison, one hot pixel at (37, 21) and a mild region; a map reduced to 20 px wide
        // keeps the hot pixel (max pooling), and the unchanged area shows the grey underlay.
        let w = 100, h = 60
        var a = try GoldenFixture.uniform(w, h, (30000, 30000, 30000))
        var b = a
        let hot = 3 * (21 * w + 37)
        b.samples[hot] = 60000
        for y in 40..<60 { for x in 0..<50 { b.samples[3 * (y * w + x) + 2] = 30300 } }
        a.iccProfile = try OutputSpace.sRGB.iccProfile()
        let c = try ImageComparison(approved: a, approvedSpace: .sRGB, actual: b, actualSpace: .sRGB, threshold: 2.3)
        let caption = "ΔE2000 mean 0.12 p95 0.5 max 9.87"
        XCTAssertTrue(BitmapFont.covers(caption) && HeatMap.knots.allSatisfy { BitmapFont.covers($0.label) } && BitmapFont.covers("SAME"))
        let (canvas, L) = HeatMap.canvas(c, maxSide: 20, caption: caption)
        XCTAssertEqual([L.mapWidth, L.mapHeight, L.factor], [20, 12, 5])
        let hotMap = canvas.get(L.mapX + 37 / 5, L.mapY + 21 / 5)
        XCTAssertTrue(hotMap == HeatMap.colour(deltaE: Double(c.deltaE[21 * w + 37])), "hot pixel survives pooling: \(hotMap)")
        XCTAssertTrue(HeatMap.isUnderlay(canvas.get(L.mapX + 15, L.mapY + 2)))
        XCTAssertFalse(HeatMap.isUnderlay(canvas.get(L.mapX + 2, L.mapY + 10)), "mild region is coloured")
        // The legend: text pixels in the caption row, the bar's colours along its row.
        var textPixels = 0
        for y in L.legendY..<(L.legendY + 12) { for x in 0..<L.width where canvas.get(x, y) == HeatMap.textColour { textPixels += 1 } }
        XCTAssertGreaterThan(textPixels, 100, "caption drawn")
        let g = HeatMap.barGeometry(L)
        XCTAssertTrue(canvas.get(g.barX, g.y + 1) == HeatMap.knots[0].colour)
        XCTAssertTrue(canvas.get(g.barX + g.barWidth - 1, g.y + 1) == HeatMap.knots[5].colour)
        XCTAssertGreaterThanOrEqual(L.width, BitmapFont.width(caption) + 8, "canvas widened for the caption")

        let png = try HeatMap.image(c, caption: caption)
        XCTAssertEqual(png.bitDepth, 8)
        XCTAssertEqual(png.iccProfile, try OutputSpace.sRGB.iccProfile())
        XCTAssertNoThrow(try PNGFile.decode(try PNGFile.encode(png)))
    }

    func testFontGlyphsAreDistinct() {
        let chars = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.,:-+%<>=/()Δ≤≥×")
        XCTAssertTrue(BitmapFont.covers(String(chars)))
        XCTAssertFalse(BitmapFont.covers("€"))
        XCTAssertEqual(Set(chars.map { BitmapFont.glyph($0) }).count, chars.count, "every glyph differs")
        for ch in chars { XCTAssertTrue(BitmapFont.glyph(ch).allSatisfy { $0 < 32 }, "\(ch) is 5 columns wide") }
        XCTAssertEqual(BitmapFont.glyph("a"), BitmapFont.glyph("A"))
    }

    // MARK: Manifest

    func testManifestErrorsNameTheKeyPath() throws {
        func error(_ cases: String, defaults: String = "{}", extra: String = "") -> String {
            do { _ = try GoldenFixture.suite(in: dir, cases: cases, defaults: defaults, extra: extra); return "no error" } catch { return "\(error)" }
        }
        var e = error(#"[{"name": "a", "input": "x.dng", "spcae": "srgb"}]"#)
        XCTAssertTrue(e.contains("golden.json: cases[0].spcae: unknown key"), e)
        e = error(#"[{"name": "a", "input": "x.dng"}, {"name": "a", "input": "y.dng"}]"#)
        XCTAssertTrue(e.contains("cases[1].name") && e.contains("used by another case"), e)
        e = error(#"[{"name": "a", "input": "x.dng", "space": "cmyk"}]"#)
        XCTAssertTrue(e.contains("cases[0].space") && e.contains("display-p3"), e)
        e = error(#"[{"name": "a/b", "input": "x.dng"}]"#)
        XCTAssertTrue(e.contains("cases[0].name"), e)
        e = error(#"[{"name": "a", "input": "synthetic:sky"}]"#)
        XCTAssertTrue(e.contains("cases[0].input") && e.contains("unknown synthetic scene"), e)
        e = error(#"[{"name": "a", "input": "x.dng", "tolerance": {"maxx": 3}}]"#)
        XCTAssertTrue(e.contains("cases[0].tolerance.maxx"), e)
        e = error(#"[{"name": "a", "input": "x.dng"}]"#, defaults: #"{"bits": 12}"#)
        XCTAssertTrue(e.contains("defaults.bits"), e)
        try #"{"schemaVersion": 2, "cases": []}"#.write(to: dir.appendingPathComponent("golden.json"), atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try GoldenSuite.load(dir.path)) { XCTAssertTrue("\($0)".contains("schemaVersion: version 2 is newer"), "\($0)") }
        try #"{"schemaVersion": 1}"#.write(to: dir.appendingPathComponent("golden.json"), atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try GoldenSuite.load(dir.path)) { XCTAssertTrue("\($0)".contains("cases: missing"), "\($0)") }
        try "{ not json".write(to: dir.appendingPathComponent("golden.json"), atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try GoldenSuite.load(dir.path)) { XCTAssertTrue("\($0)".contains("not valid JSON"), "\($0)") }
        XCTAssertThrowsError(try GoldenSuite.load(dir.appendingPathComponent("nowhere").path)) { XCTAssertTrue("\($0)".contains("no such suite folder")) }
    }

    func testManifestDefaultsInputsAndSelection() throws {
        let suite = try GoldenFixture.suite(in: dir, cases: """
            [ { "name": "chart", "input": "synthetic:chart", "set": ["exposure.ev=0.5"], "tolerance": { "max": 3 } },
              { "name": "chart-p3", "input": "synthetic:chart@300x200", "space": "display-p3", "bits": 8, "maxSize": 100 },
              { "name": "file", "input": "$EMULSION_SAMPLES/x.dng", "profile": "looks/mine.json", "engine": "scalar" } ]
            """, defaults: #"{ "maxSize": 60, "set": ["exposure.baseline=false"], "tolerance": { "mean": 0.5 } }"#,
            extra: #""variables": { "EMULSION_SAMPLES": "../samples" },"#)
        let chart = suite.cases[0], p3 = suite.cases[1], file = suite.cases[2]
        XCTAssertEqual(chart.input, .syntheticChart(width: 1200, height: 800))
        XCTAssertEqual(chart.overrides, ["exposure.baseline=false", "exposure.ev=0.5"])
        XCTAssertEqual(chart.tolerance, GoldenTolerance(mean: 0.5, max: 3))
        XCTAssertEqual(chart.maxSize, 60)
        XCTAssertEqual(p3.input, .syntheticChart(width: 300, height: 200))
        XCTAssertEqual(p3.space, .displayP3)
        XCTAssertEqual(p3.depth, .eight)
        XCTAssertEqual(p3.maxSize, 100)
        XCTAssertEqual(file.engine, .scalar)
        XCTAssertEqual(suite.profileReference(file), dir.appendingPathComponent("looks/mine.json").path)
        XCTAssertEqual(suite.profileReference(chart), "neutral")

        let parent = dir.deletingLastPathComponent().path
        XCTAssertEqual(try suite.inputPath("$EMULSION_SAMPLES/x.dng", environment: [:]), parent + "/samples/x.dng")
        XCTAssertEqual(try suite.inputPath("${EMULSION_SAMPLES}/x.dng", environment: ["EMULSION_SAMPLES": "/data"]), "/data/x.dng")
        XCTAssertEqual(try suite.inputPath("raws/a.nef", environment: [:]), dir.appendingPathComponent("raws/a.nef").path)
        XCTAssertThrowsError(try suite.inputPath("$NOPE/a.dng", environment: [:])) { XCTAssertTrue("\($0)".contains("$NOPE is not set"), "\($0)") }

        XCTAssertEqual(try suite.select(["chart*"]).map(\.name), ["chart", "chart-p3"])
        XCTAssertEqual(try suite.select([]).count, 3)
        XCTAssertThrowsError(try suite.select(["nope"])) { XCTAssertTrue("\($0)".contains("no case matches \"nope\""), "\($0)") }
    }

    /// `dcp`, `crop` and `aspect` in a case: parsed with key paths in their errors, and rendered
    /// as `process` renders them (the same `RenderOptions`: a crop's size, the Pixel's own
    /// camera profile through `dcp: embedded`, a .dcp named relative to the suite).
    func testCameraProfilesAndCropsInCases() throws {
        func error(_ cases: String) -> String {
            do { _ = try GoldenFixture.suite(in: dir, cases: cases); return "no error" } catch { return "\(error)" }
        }
        var e = error(#"[{"name": "a", "input": "x.dng", "crop": "1,2,3"}]"#)
        XCTAssertTrue(e.contains("cases[0].crop: --crop 1,2,3: expected x,y,w,h"), e)
        e = error(#"[{"name": "a", "input": "x.dng", "aspect": "16:0"}]"#)
        XCTAssertTrue(e.contains("cases[0].aspect"), e)
        e = error(#"[{"name": "a", "input": "x.dng", "crop": "0,0,9,9", "aspect": "1:1"}]"#)
        XCTAssertTrue(e.contains("cases[0]: use either crop or aspect, not both"), e)
        let pixel = TestSupport.samplesDirectory.appendingPathComponent("google-pixel_7-digizoom_crop.dng").path
        guard FileManager.default.fileExists(atPath: pixel) else {
            if TestSupport.inCI { XCTFail("sample missing") }
            throw XCTSkip("sample missing")
        }
        let suite = try GoldenFixture.suite(in: dir, cases: """
            [ { "name": "square", "input": "\(GoldenFixture.smallChart)", "aspect": "1:1", "maxSize": 1000 },
              { "name": "window", "input": "\(GoldenFixture.smallChart)", "crop": "10,20,50,40", "maxSize": 1000 },
              { "name": "own", "input": "\(pixel)", "dcp": "embedded", "maxSize": 1000 },
              { "name": "named", "input": "\(pixel)", "dcp": "profiles/pixel.dng", "maxSize": 1000 },
              { "name": "chart-own", "input": "\(GoldenFixture.smallChart)", "dcp": "embedded" } ]
            """, defaults: #"{ "crop": "" }"#)
        XCTAssertEqual(suite.cases[0].crop, .aspect(1, 1))
        XCTAssertEqual(suite.cases[2].optionsSummary, "profile neutral, srgb 16-bit, maxSize 1000, dcp embedded")
        XCTAssertEqual(suite.cases[1].optionsSummary, "profile neutral, srgb 16-bit, maxSize 1000, crop 10,20,50,40")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("profiles"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: pixel, toPath: dir.appendingPathComponent("profiles/pixel.dng").path)
        let renderer = GoldenRenderer(suite: suite, profiles: GoldenFixture.profiles)
        let square = try renderer.render(suite.cases[0]), window = try renderer.render(suite.cases[1])
        XCTAssertEqual([square.width, square.height], [160, 160])
        XCTAssertEqual([window.width, window.height], [50, 40])
        var options = RenderOptions(threads: 1)
        options.cameraProfile = try DCPFile.read(path: pixel)
        let expected = try Renderer.render(try RawFile.read(path: pixel), options: options).pngImage
        XCTAssertTrue(try renderer.render(suite.cases[2]).samples == expected.samples, "dcp embedded is the DNG's own profile")
        XCTAssertTrue(try renderer.render(suite.cases[3]).samples == expected.samples, "the same profile named by path")
        XCTAssertThrowsError(try renderer.render(suite.cases[4])) {
            XCTAssertTrue("\($0)".contains("dcp embedded needs a raw file as input"), "\($0)")
        }
    }

    // MARK: Record and check

    /// Record writes new approved images, leaves identical ones untouched and says how changed ones
    /// differed; check then reports identical, and a changed case fails with actual + heat map written.
    func testRecordThenCheck() throws {
        let cases = #"[ { "name": "a", "input": "\#(GoldenFixture.smallChart)" }, { "name": "b", "input": "\#(GoldenFixture.smallChart)", "space": "adobe-rgb" } ]"#
        var suite = try GoldenFixture.suite(in: dir, cases: cases)
        var outcomes = GoldenFixture.runner(suite).record(suite.cases)
        XCTAssertEqual(outcomes.map(\.change), [.new, .new])
        XCTAssertEqual(outcomes[0].size?.width, 60)
        let approvedA = suite.approvedURL(suite.cases[0])
        let stamp = try FileManager.default.attributesOfItem(atPath: approvedA.path)[.modificationDate] as! Date
        let approvedPNG = try PNGFile.read(path: approvedA.path)
        XCTAssertEqual(approvedPNG.bitDepth, 16)
        XCTAssertEqual(approvedPNG.iccProfile, try OutputSpace.sRGB.iccProfile())

        var report = GoldenFixture.runner(suite).check(suite.cases)
        XCTAssertEqual(report.results.map(\.verdict), [.identical, .identical])
        XCTAssertEqual(report.exitCode, 0)
        XCTAssertNil(report.results[0].actualPath, "nothing written when identical")

        outcomes = GoldenFixture.runner(suite).record(suite.cases)
        XCTAssertEqual(outcomes.map(\.change), [.unchanged, .unchanged])
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: approvedA.path)[.modificationDate] as! Date, stamp)

        // Case b now renders 0.3 EV brighter: check fails it, record re-approves it and says how it differed.
        let approvedBBytes = try Data(contentsOf: suite.approvedURL(suite.cases[1]))
        suite = try GoldenFixture.suite(in: dir, cases: cases.replacingOccurrences(of: #""space": "adobe-rgb""#, with: #""space": "adobe-rgb", "set": ["exposure.ev=0.3"]"#))
        report = GoldenFixture.runner(suite).check(suite.cases)
        XCTAssertEqual(report.results.map(\.verdict), [.identical, .fail])
        XCTAssertEqual(report.exitCode, 1)
        let b = report.results[1]
        XCTAssertGreaterThan(b.statistics!.mean, 0.77)
        XCTAssertEqual(b.actualPath, dir.appendingPathComponent("b/actual.png").path)
        XCTAssertEqual(b.heatMapPath, dir.appendingPathComponent("b/heatmap.png").path)
        XCTAssertEqual(try PNGFile.read(path: b.actualPath!).bitDepth, 16)
        XCTAssertTrue(FileManager.default.fileExists(atPath: b.heatMapPath!))
        XCTAssertEqual(try Data(contentsOf: suite.approvedURL(suite.cases[1])), approvedBBytes, "check never records")
        outcomes = GoldenFixture.runner(suite).record([suite.cases[1]])
        guard case .changed(let how) = outcomes[0].change else { return XCTFail("\(outcomes[0].change)") }
        XCTAssertTrue(how.contains("was fail") && how.contains("mean"), how)
        report = GoldenFixture.runner(suite).check(suite.cases)
        XCTAssertEqual(report.results.map(\.verdict), [.identical, .identical])
        XCTAssertFalse(FileManager.default.fileExists(atPath: b.actualPath!), "stale actual removed once identical")
        XCTAssertFalse(FileManager.default.fileExists(atPath: b.heatMapPath!), "stale heat map removed once identical")
    }

    /// Missing, unreadable and wrongly sized approved images and a missing input are verdicts, not
    /// crashes; errors make exit code 2, a size mismatch alone 1.
    func testBrokenCasesGetClearVerdicts() throws {
        let suite = try GoldenFixture.suite(in: dir, cases: """
            [ { "name": "ok", "input": "\(GoldenFixture.smallChart)" },
              { "name": "missing-approved", "input": "\(GoldenFixture.smallChart)" },
              { "name": "garbage-approved", "input": "\(GoldenFixture.smallChart)" },
              { "name": "wrong-size", "input": "\(GoldenFixture.smallChart)" },
              { "name": "missing-input", "input": "raws/nothing.dng" },
              { "name": "bad-override", "input": "\(GoldenFixture.smallChart)", "set": ["exposure.ev=99"] } ]
            """)
        let out = dir.appendingPathComponent("out")
        let runner = GoldenFixture.runner(suite, out: out)
        _ = runner.record([suite.cases[0]])
        for name in ["garbage-approved", "wrong-size", "missing-input", "bad-override"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        try "not a png".write(to: dir.appendingPathComponent("garbage-approved/approved.png"), atomically: false, encoding: .utf8)
        try PNGFile.write(try GoldenFixture.uniform(10, 10, (1, 2, 3)), to: dir.appendingPathComponent("wrong-size/approved.png").path)
        try FileManager.default.copyItem(at: suite.approvedURL(suite.cases[0]), to: dir.appendingPathComponent("missing-input/approved.png"))
        try FileManager.default.copyItem(at: suite.approvedURL(suite.cases[0]), to: dir.appendingPathComponent("bad-override/approved.png"))

        let report = runner.check(suite.cases)
        let verdicts = Dictionary(uniqueKeysWithValues: report.results.map { ($0.goldenCase.name, $0) })
        XCTAssertEqual(verdicts["ok"]?.verdict, .identical)
        XCTAssertEqual(verdicts["missing-approved"]?.verdict, .noApproved)
        XCTAssertTrue(verdicts["missing-approved"]!.message.contains("golden record"), verdicts["missing-approved"]!.message)
        XCTAssertEqual(verdicts["missing-approved"]?.actualPath, out.appendingPathComponent("missing-approved/actual.png").path,
                       "the render is kept for inspection before recording")
        XCTAssertEqual(verdicts["garbage-approved"]?.verdict, .unreadableApproved)
        XCTAssertTrue(verdicts["garbage-approved"]!.message.contains("garbage-approved/approved.png"), verdicts["garbage-approved"]!.message)
        XCTAssertEqual(verdicts["wrong-size"]?.verdict, .sizeMismatch)
        XCTAssertTrue(verdicts["wrong-size"]!.message.contains("approved 10×10, actual 60×40"), verdicts["wrong-size"]!.message)
        XCTAssertEqual(verdicts["missing-input"]?.verdict, .cannotRender)
        XCTAssertTrue(verdicts["missing-input"]!.message.contains("raws/nothing.dng: no such file"), verdicts["missing-input"]!.message)
        XCTAssertEqual(verdicts["bad-override"]?.verdict, .cannotRender)
        XCTAssertTrue(verdicts["bad-override"]!.message.contains("exposure.ev"), verdicts["bad-override"]!.message)
        for r in report.results { XCTAssertFalse(r.message.contains("\n"), "one line: \(r.message)") }
        XCTAssertEqual(report.exitCode, 2)
        XCTAssertEqual(report.worstFirst.last?.goldenCase.name, "ok")

        let onlyMismatch = runner.check(suite.cases.filter { ["ok", "wrong-size"].contains($0.name) })
        XCTAssertEqual(onlyMismatch.exitCode, 1)
    }

    /// The approved image's own ICC profile decides how it is decoded; a different space is noted.
    /// (Full size: a reduction averages encoded values, which differs between encodings at edges.)
    func testApprovedInAnotherSpaceIsComparedColorimetrically() throws {
        var suite = try GoldenFixture.suite(in: dir, cases: #"[ { "name": "a", "input": "\#(GoldenFixture.smallChart)", "space": "rec2020" } ]"#, defaults: "{}")
        _ = GoldenFixture.runner(suite).record(suite.cases)
        suite = try GoldenFixture.suite(in: dir, cases: #"[ { "name": "a", "input": "\#(GoldenFixture.smallChart)", "space": "prophoto" } ]"#, defaults: "{}")
        let r = GoldenFixture.runner(suite, out: dir.appendingPathComponent("out")).check(suite.cases).results[0]
        XCTAssertTrue(r.notes.contains { $0.contains("approved image is in rec2020") }, "\(r.notes)")
        // Both spaces hold the chart's colours: only 16-bit rounding through two curves differs…
        let s = try XCTUnwrap(r.statistics)
        XCTAssertLessThan(s.percentile95, 0.01, r.message)
        XCTAssertLessThan(s.mean, 0.05, r.message)
        // …except where bilinear demosaicing puts colour fringes outside Rec.2020, which clips them
        // and ProPhoto does not: every pixel that differs visibly is clipped in one of the two.
        let approved = try PNGFile.read(path: r.approvedPath), actual = try PNGFile.read(path: try XCTUnwrap(r.actualPath))
        let c = try ImageComparison(approved: approved, approvedSpace: .rec2020, actual: actual, actualSpace: .proPhoto, threshold: 2.3)
        for i in 0..<(approved.width * approved.height) where c.deltaE[i] > 0.05 {
            let codes = approved.samples[(3 * i)..<(3 * i + 3)] + actual.samples[(3 * i)..<(3 * i + 3)]
            XCTAssertTrue(codes.contains(0) || codes.contains(65535), "pixel \(i): ΔE00 \(c.deltaE[i]) without clipping")
        }
    }

    /// An approved image re-saved by another tool into another profile (not one of Emulsion's)
    /// is decoded through that profile by LittleCMS and compared by colour, with a note: here
    /// the sRGB approval converted by LittleCMS into a profile of Display P3's primaries made
    /// in the test (its codes differ from sRGB's by several ΔE00 when read as sRGB, which is what
    /// the check did before). Only 16-bit rounding stays: max below 0.05 ΔE00 (sRGB lies inside P3,
    /// so nothing clips).
    func testApprovedInAForeignProfileIsDecodedThroughIt() throws {
        let suite = try GoldenFixture.suite(in: dir, cases: #"[ { "name": "a", "input": "\#(GoldenFixture.smallChart)" } ]"#, defaults: "{}")
        _ = GoldenFixture.runner(suite).record(suite.cases)
        let path = dir.appendingPathComponent("a/approved.png").path
        var approved = try PNGFile.read(path: path)
        // Display P3's primaries and white with sRGB's curve, described as nothing Emulsion writes.
        var white = cmsCIExyY(x: 0.3127, y: 0.3290, Y: 1)
        var primaries = cmsCIExyYTRIPLE(Red: cmsCIExyY(x: 0.680, y: 0.320, Y: 1), Green: cmsCIExyY(x: 0.265, y: 0.690, Y: 1),
                                        Blue: cmsCIExyY(x: 0.150, y: 0.060, Y: 1))
        var parameters: [Double] = [2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045]
        let curve = try XCTUnwrap(cmsBuildParametricToneCurve(nil, 4, &parameters))
        defer { cmsFreeToneCurve(curve) }
        var curves: [OpaquePointer?] = [curve, curve, curve]
        let foreign = try XCTUnwrap(cmsCreateRGBProfile(&white, &primaries, &curves))
        defer { cmsCloseProfile(foreign) }
        var size: cmsUInt32Number = 0
        XCTAssertEqual(cmsSaveProfileToMem(foreign, nil, &size), 1)
        var bytes = [UInt8](repeating: 0, count: Int(size))
        XCTAssertEqual(cmsSaveProfileToMem(foreign, &bytes, &size), 1)
        let emulsionSRGB = try ICCProfile(bytes: try OutputSpace.sRGB.iccProfile())
        let transform = try XCTUnwrap(cmsCreateTransform(emulsionSRGB.handle, emulsion_TYPE_RGB_16, foreign, emulsion_TYPE_RGB_16,
                                                         UInt32(INTENT_RELATIVE_COLORIMETRIC), UInt32(cmsFLAGS_NOOPTIMIZE)))
        defer { cmsDeleteTransform(transform) }
        var converted = approved.samples
        approved.samples.withUnsafeBufferPointer { source in
            converted.withUnsafeMutableBufferPointer { cmsDoTransform(transform, source.baseAddress, $0.baseAddress, UInt32(source.count / 3)) }
        }
        withExtendedLifetime(emulsionSRGB) {}
        let asSRGB = try ImageComparison(approved: PNGImage(width: approved.width, height: approved.height, bitDepth: 16, channels: 3,
                                                            samples: converted, iccProfile: nil), approvedSpace: .sRGB,
                                         actual: approved, actualSpace: .sRGB, threshold: 2.3)
        XCTAssertGreaterThan(asSRGB.statistics.max, 2.3, "the converted codes must not pass as sRGB")
        approved.samples = converted
        approved.iccProfile = bytes
        try PNGFile.write(approved, to: path)
        let r = GoldenFixture.runner(suite, out: dir.appendingPathComponent("out")).check(suite.cases).results[0]
        XCTAssertTrue(r.verdict.passed, r.message)
        XCTAssertLessThan(try XCTUnwrap(r.statistics).max, 0.05, r.message)
        XCTAssertTrue(r.notes.contains { $0.contains("not one of Emulsion's profiles: compared colorimetrically through LittleCMS") }, "\(r.notes)")
    }

    // MARK: Writers

    func testJUnitXMLIsWellFormedWithFailuresAndErrors() throws {
        let suite = try GoldenFixture.suite(in: dir, cases: """
            [ { "name": "good", "input": "\(GoldenFixture.smallChart)" }, { "name": "bad.odd", "input": "\(GoldenFixture.smallChart)" },
              { "name": "none", "input": "\(GoldenFixture.smallChart)" } ]
            """)
        let runner = GoldenFixture.runner(suite, out: dir.appendingPathComponent("out"))
        _ = runner.record(Array(suite.cases.prefix(2)))
        var report = runner.check(suite.cases)
        // Make "bad.odd" a failure by hand, with characters XML must escape.
        report.results[1].verdict = .fail
        report.results[1].message = "max 3 > 2.3 & \"quoted\" <tag>\u{1}"
        let xml = GoldenJUnitReport.xml(report)
        let counter = ElementCounter()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = counter
        XCTAssertTrue(parser.parse(), "well-formed: \(parser.parserError.map { "\($0)" } ?? "") \n\(xml)")
        XCTAssertEqual(counter.counts["testcase"], 3)
        XCTAssertEqual(counter.counts["failure"], 1)
        XCTAssertEqual(counter.counts["error"], 1)
        XCTAssertEqual(counter.attributes["testsuite"]?["failures"], "1")
        XCTAssertEqual(counter.attributes["testsuite"]?["errors"], "1")
        XCTAssertEqual(counter.failureMessage, "max 3 > 2.3 & \"quoted\" <tag>")
    }

    func testHTMLIsSelfContainedAndWorstFirst() throws {
        let suite = try GoldenFixture.suite(in: dir, cases: """
            [ { "name": "same", "input": "\(GoldenFixture.smallChart)" }, { "name": "brighter", "input": "\(GoldenFixture.smallChart)" },
              { "name": "unrecorded", "input": "\(GoldenFixture.smallChart)" } ]
            """)
        _ = GoldenFixture.runner(suite).record(Array(suite.cases.prefix(2)))
        let changed = try GoldenFixture.suite(in: dir, cases: """
            [ { "name": "same", "input": "\(GoldenFixture.smallChart)" }, { "name": "brighter", "input": "\(GoldenFixture.smallChart)", "set": ["exposure.ev=0.2"] },
              { "name": "unrecorded", "input": "\(GoldenFixture.smallChart)" } ]
            """)
        let report = GoldenFixture.runner(changed, out: dir.appendingPathComponent("out"), previewSize: 200).check(changed.cases)
        let html = GoldenHTMLReport.html(report)
        let order = ["id=\"case-unrecorded\"", "id=\"case-brighter\"", "id=\"case-same\""].map { html.range(of: $0)!.lowerBound }
        XCTAssertEqual(order, order.sorted(), "errors, then failures, then identical")
        // 3 (same) + 3 (brighter) + 1 (unrecorded: actual only) embedded images, no external resources.
        XCTAssertEqual(html.components(separatedBy: "src=\"data:image/png;base64,").count - 1, 7)
        XCTAssertFalse(html.contains("http://") || html.contains("https://") || html.contains("<link"), "self-contained")
        XCTAssertTrue(html.contains("no approved image"))
    }
}

/// Counts XML elements for the JUnit tests (golden check's and compare's).
final class ElementCounter: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]
    var attributes: [String: [String: String]] = [:]
    var failureMessage: String?

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes attributeDict: [String: String] = [:]) {
        counts[name, default: 0] += 1
        attributes[name] = attributeDict
        if name == "failure" { failureMessage = attributeDict["message"] }
    }
}

extension SplitMix64 {
    /// A random code 0…maxCode, for repeatable random colours.
    mutating func code(_ maxCode: UInt16) -> UInt16 { UInt16(next() % (UInt64(maxCode) + 1)) }
}

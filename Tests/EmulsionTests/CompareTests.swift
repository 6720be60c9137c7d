import CLCMS2
@testable import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif

/// `emulsion compare`: images decoded through whatever ICC profile they carry, folders paired
/// by relative path, verdicts and exit codes as a QA script needs them.
final class CompareTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = TestSupport.temporaryDirectory("emulsion-compare") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Random 16-bit codes, tagged with `space`'s own profile.
    func noise(_ w: Int, _ h: Int, space: OutputSpace, seed: UInt64) throws -> PNGImage {
        var generator = SplitMix64(seed: seed)
        let samples = (0..<(3 * w * h)).map { _ in UInt16(truncatingIfNeeded: generator.next()) }
        return PNGImage(width: w, height: h, bitDepth: 16, channels: 3, samples: samples, iccProfile: try space.iccProfile())
    }

    /// A profile that is not byte-for-byte one of Emulsion's goes through LittleCMS. Two oracles:
    /// each output space's own profile with its header's creator field changed (the same
    /// colorimetry in other bytes), and LittleCMS's built-in sRGB (written independently of
    /// Emulsion's). Decoded by LittleCMS, the same codes must give what Emulsion's exact
    /// matrix/TRC decoding gives: below 0.01 ΔE00 (what golden checks call identical; measured
    /// ≤ 3·10⁻⁵ for the altered profiles and for LittleCMS's sRGB: LittleCMS evaluates the
    /// curves in single precision, and its sRGB's colorants round to the same s15.16 values).
    func testLittleCMSDecodingAgreesWithTheExactDecoder() throws {
        for space in OutputSpace.allCases {
            let image = try noise(64, 48, space: space, seed: 7)
            var altered = image
            var bytes = try space.iccProfile()
            bytes[80] ^= 0x20 // the profile creator signature: no colour meaning
            altered.iccProfile = bytes
            let (decoder, note) = try ImageLabDecoder.forImage(altered)
            XCTAssertNil(note)
            guard case .icc = decoder else { XCTFail("\(space): expected the LittleCMS route"); continue }
            let c = try ImageComparison(approved: image, decodedBy: try ImageLabDecoder.forImage(image).decoder,
                                        actual: altered, decodedBy: decoder, threshold: 0.01, threads: 2)
            XCTAssertLessThan(c.statistics.max, 0.01, "\(space)")
        }
        let builtIn = try XCTUnwrap(cmsCreate_sRGBProfile())
        defer { cmsCloseProfile(builtIn) }
        var size: cmsUInt32Number = 0
        XCTAssertEqual(cmsSaveProfileToMem(builtIn, nil, &size), 1)
        var lcmsSRGB = [UInt8](repeating: 0, count: Int(size))
        XCTAssertEqual(cmsSaveProfileToMem(builtIn, &lcmsSRGB, &size), 1)
        let image = try noise(64, 48, space: .sRGB, seed: 8)
        var retagged = image
        retagged.iccProfile = lcmsSRGB
        let c = try ImageComparison(approved: image, decodedBy: try ImageLabDecoder.forImage(image).decoder,
                                    actual: retagged, decodedBy: try ImageLabDecoder.forImage(retagged).decoder, threshold: 0.01, threads: 2)
        XCTAssertLessThan(c.statistics.max, 0.01)
        // An 8-bit image through LittleCMS: codes widened by 257, the same colours as 16-bit.
        var eight = try GoldenFixture.uniform(4, 4, (200, 100, 50), bits: 8)
        eight.iccProfile = lcmsSRGB
        let sixteen = try GoldenFixture.uniform(4, 4, (200 * 257, 100 * 257, 50 * 257))
        let d = try ImageComparison(approved: sixteen, decodedBy: try ImageLabDecoder.forImage(sixteen).decoder,
                                    actual: eight, decodedBy: try ImageLabDecoder.forImage(eight).decoder, threshold: 0.01, threads: 1)
        XCTAssertLessThan(d.statistics.max, 0.01)
        // A grey image's profile (gamma 2.2, D50 white) decodes the expanded samples' first
        // channel: grey code c is L* = 116·((c/255)^2.2)^(1/3) − 16 with a = b = 0 (CIE 15:2004),
        // to LittleCMS's precision. Any other kind of profile is refused by name.
        let grayBytes = try Self.greyProfile()
        var greyImage = try GoldenFixture.uniform(2, 2, (100, 100, 100), bits: 8)
        greyImage.iccProfile = grayBytes
        guard case .icc(let transform, _) = try ImageLabDecoder.forImage(greyImage).decoder else { return XCTFail("grey: expected LittleCMS") }
        var lab = [Double](repeating: 0, count: 12)
        greyImage.samples.withUnsafeBufferPointer { s in lab.withUnsafeMutableBufferPointer { transform.lab(s, into: $0) } }
        let expectedL = 116 * pow(pow(100.0 / 255, 2.2), 1.0 / 3) - 16
        XCTAssertEqual(lab[0], expectedL, accuracy: 0.01); XCTAssertEqual(lab[1], 0, accuracy: 0.01); XCTAssertEqual(lab[2], 0, accuracy: 0.01)
        XCTAssertEqual(lab[9], expectedL, accuracy: 0.01)
        let labHandle = try XCTUnwrap(cmsCreateLab4Profile(nil)) // a Lab profile stands in for any non-RGB, non-grey one (CMYK…)
        defer { cmsCloseProfile(labHandle) }
        XCTAssertEqual(cmsSaveProfileToMem(labHandle, nil, &size), 1)
        var labBytes = [UInt8](repeating: 0, count: Int(size))
        XCTAssertEqual(cmsSaveProfileToMem(labHandle, &labBytes, &size), 1)
        eight.iccProfile = labBytes
        XCTAssertThrowsError(try ImageLabDecoder.forImage(eight)) { XCTAssertTrue("\($0)".contains("is not for RGB or grey images"), "\($0)") }
    }

    /// A grey ICC profile made by LittleCMS: gamma 2.2, D50 white.
    static func greyProfile() throws -> [UInt8] {
        let gamma = cmsBuildGamma(nil, 2.2)
        let gray = try XCTUnwrap(cmsCreateGrayProfile(cmsD50_xyY(), gamma))
        cmsFreeToneCurve(gamma)
        defer { cmsCloseProfile(gray) }
        var size: cmsUInt32Number = 0
        XCTAssertEqual(cmsSaveProfileToMem(gray, nil, &size), 1)
        var bytes = [UInt8](repeating: 0, count: Int(size))
        XCTAssertEqual(cmsSaveProfileToMem(gray, &bytes, &size), 1)
        return bytes
    }

    func emulsion(_ arguments: [String]) throws -> TestSupport.RunResult {
        try TestSupport.run(CLITests.builtBinary(), arguments, timeout: 300)
    }

    func write(_ image: PNGImage, _ relative: String, in folder: String) throws {
        let url = dir.appendingPathComponent(folder).appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try PNGFile.write(image, to: url.path)
    }

    /// Two folders as a QA script compares two builds' outputs. The expected ΔE00 of a uniform
    /// pair is computed from the two colours with `EncodedToLab` and `deltaE2000` (tested against
    /// Sharma, Wu and Dalal's data in ColourTests): the command must report exactly it, as mean and max.
    func testFoldersArePairedJudgedAndSummarised() throws {
        let grey = try GoldenFixture.uniform(8, 6, (30000, 30000, 30000))
        let warmer = try GoldenFixture.uniform(8, 6, (31500, 30000, 28000))
        try write(grey, "same.png", in: "a"); try write(grey, "same.png", in: "b")
        try write(grey, "shoot/warm.png", in: "a"); try write(warmer, "shoot/warm.png", in: "b")
        try write(grey, "only-expected.png", in: "a"); try write(grey, "only-actual.png", in: "b")
        try write(grey, "small.png", in: "a"); try write(try GoldenFixture.uniform(4, 6, (30000, 30000, 30000)), "small.png", in: "b")
        var untagged = grey
        untagged.iccProfile = nil
        try write(grey, "untagged.png", in: "a"); try write(untagged, "untagged.png", in: "b")
        try "not an image".write(to: dir.appendingPathComponent("a/notes.txt"), atomically: false, encoding: .utf8)
        let lab = EncodedToLab(try OutputSpace.sRGB.embeddedProfile())
        let expected = lab.lab(fromEncoded: SIMD3(30000, 30000, 30000) / 65535)
            .deltaE2000(to: lab.lab(fromEncoded: SIMD3(31500, 30000, 28000) / 65535))
        XCTAssertGreaterThan(expected, 2.3, "the pair must break the default max")

        let a = dir.appendingPathComponent("a").path, b = dir.appendingPathComponent("b").path
        let heat = dir.appendingPathComponent("heat").path
        var r = try emulsion(["compare", a, b, "--heat-map", heat])
        XCTAssertEqual(r.status, 1, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        // Worst first: the missing files, the size mismatch, the failure; then the passing pairs.
        XCTAssertTrue(lines[0].hasPrefix("ONLY-IN-"), r.stdout)
        XCTAssertTrue(lines.contains("ONLY-IN-EXPECTED  only-expected.png: not in the actual folder \(b)"), r.stdout)
        XCTAssertTrue(lines.contains("ONLY-IN-ACTUAL  only-actual.png: not in the expected folder \(a)"), r.stdout)
        XCTAssertTrue(lines.contains("SIZE-MISMATCH  small.png: size differs: expected 8×6, actual 4×6"), r.stdout)
        let fail = try XCTUnwrap(lines.first { $0.hasPrefix("FAIL  shoot/warm.png: ") }, r.stdout)
        let figure = GoldenFormat.number(expected)
        XCTAssertTrue(fail.contains("mean \(figure), p95 \(figure), max \(figure) ΔE00, 100% of pixels above 2.3; over the limit: mean > 0.77, max > 2.3"), fail)
        XCTAssertTrue(lines.contains("IDENTICAL  same.png: mean 0, p95 0, max 0 ΔE00, 0% of pixels above 2.3"), r.stdout)
        XCTAssertTrue(lines.contains("    actual: no ICC profile: decoded as sRGB"), r.stdout)
        XCTAssertEqual(lines.last, "6 files: 2 identical, 1 fail, 1 size-mismatch, 1 only-in-expected, 1 only-in-actual (limits: mean ≤ 0.77, max ≤ 2.3)")
        // A heat map for the pair that differs, mirroring the folders; none for identical pairs.
        XCTAssertEqual(try PNGFile.read(path: heat + "/shoot/warm.png").bitDepth, 8)
        XCTAssertFalse(FileManager.default.fileExists(atPath: heat + "/same.png"))

        // Limits are options; --only-failures keeps the summary.
        r = try emulsion(["compare", a + "/shoot/warm.png", b + "/shoot/warm.png", "--max", "\(expected + 0.01)", "--mean", "\(expected + 0.01)"])
        XCTAssertEqual(r.status, 0, r.stdout)
        XCTAssertTrue(r.stdout.hasPrefix("PASS  \(a)/shoot/warm.png: "), r.stdout)
        r = try emulsion(["compare", a, b, "--only-failures"])
        XCTAssertFalse(r.stdout.contains("IDENTICAL"), r.stdout)
        XCTAssertTrue(r.stdout.contains("6 files: 2 identical"), r.stdout)

        // JUnit XML for CI reporters: one test case per pair, the four that do not pass as failures.
        let junit = dir.appendingPathComponent("compare.xml").path
        r = try emulsion(["compare", a, b, "--junit", junit])
        XCTAssertEqual(r.status, 1)
        let counter = ElementCounter()
        let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: junit)))
        parser.delegate = counter
        XCTAssertTrue(parser.parse(), "well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
        XCTAssertEqual(counter.counts["testcase"], 6)
        XCTAssertEqual(counter.counts["failure"], 4)
        XCTAssertNil(counter.counts["error"])
        XCTAssertEqual(counter.attributes["testsuite"]?["failures"], "4")

        // JSON for scripts.
        r = try emulsion(["compare", a, b, "--json"])
        XCTAssertEqual(r.status, 1)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["passed"] as? Bool, false)
        let results = try XCTUnwrap(json["results"] as? [[String: Any]])
        XCTAssertEqual(results.count, 6)
        let warm = try XCTUnwrap(results.first { $0["name"] as? String == "shoot/warm.png" })
        XCTAssertEqual(warm["verdict"] as? String, "fail")
        XCTAssertEqual(try XCTUnwrap(warm["max"] as? Double), expected, accuracy: 1e-9)

        // Exit 2 and one line naming the file when an image cannot be read; a folder against a file.
        try Data("\u{89}PNG\r\n\u{1a}\n".utf8).write(to: URL(fileURLWithPath: b + "/same.png"))
        r = try emulsion(["compare", a + "/same.png", b + "/same.png"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stdout.hasPrefix("UNREADABLE  \(a)/same.png: \(b)/same.png: "), r.stdout)
        r = try emulsion(["compare", a, b + "/shoot/warm.png"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("\(a) is a folder and \(b)/shoot/warm.png is not"), r.stderr)
        r = try emulsion(["compare", a, b, "--max", "-1"])
        XCTAssertEqual(r.status, 64)
    }

    /// `--html`: one self-contained page, sections worst first for the pairs that differ (identical
    /// ones are table rows only), each with the expected and actual previews and the heat map; a
    /// grey-tagged pair's previews carry no profile (a browser refuses an RGB image tagged grey,
    /// see GoldenBrowserTests); `--html-images` bounds the embedded images; the JSON is unchanged.
    func testHTMLReportShowsWhatDiffersWorstFirst() throws {
        let grey = try GoldenFixture.uniform(40, 30, (30000, 30000, 30000))
        try write(grey, "same.png", in: "a"); try write(grey, "same.png", in: "b")
        try write(grey, "warm.png", in: "a"); try write(try GoldenFixture.uniform(40, 30, (31500, 30000, 28000)), "warm.png", in: "b")
        try write(grey, "nearly.png", in: "a"); try write(try GoldenFixture.uniform(40, 30, (30100, 30000, 29900)), "nearly.png", in: "b")
        try write(grey, "small.png", in: "a"); try write(try GoldenFixture.uniform(20, 30, (30000, 30000, 30000)), "small.png", in: "b")
        try write(grey, "only-expected.png", in: "a")
        // A monochrome TIFF pair tagged with a grey profile, as ImageMagick writes it (libpng
        // refuses a grey profile in an RGB PNG, so no PNG of this kind exists).
        guard let convert = TestSupport.which("convert") else {
            if TestSupport.inCI { XCTFail("ImageMagick's convert missing (.ci/setup --tests installs it)") }
            throw XCTSkip("ImageMagick's convert not installed")
        }
        let greyICC = dir.appendingPathComponent("grey.icc")
        try Data(try Self.greyProfile()).write(to: greyICC)
        for (folder, level) in [("a", "46%"), ("b", "40%")] {
            let made = try TestSupport.run(convert, ["-size", "40x30", "xc:gray(\(level))", "-colorspace", "Gray", "-depth", "16",
                                                     "-profile", greyICC.path, dir.appendingPathComponent("\(folder)/mono.tif").path])
            XCTAssertEqual(made.status, 0, made.stderr)
        }
        let a = dir.appendingPathComponent("a").path, b = dir.appendingPathComponent("b").path
        let html = dir.appendingPathComponent("report.html").path

        var r = try emulsion(["compare", a, b, "--html", html, "--preview-size", "20"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stdout.contains("HTML report: \(html)"), r.stdout)
        var page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertFalse(page.contains("http://") || page.contains("https://") || page.contains("<link"), "self-contained")
        XCTAssertTrue(page.contains("<p class=\"summary exit-1\">6 files: 1 identical, 1 pass, 2 fail, 1 size-mismatch, 1 only-in-expected"), page.prefix(2000).description)
        let headings = try NSRegularExpression(pattern: #"<h2><span class="badge ([a-z-]+)">[^<]*</span> ([^<]+)</h2>"#)
            .matches(in: page, range: NSRange(page.startIndex..., in: page))
            .map { m in (1...2).map { String(page[Range(m.range(at: $0), in: page)!]) }.joined(separator: " ") }
        XCTAssertEqual(headings, ["only-in-expected only-expected.png", "size-mismatch small.png", "fail mono.tif", "fail warm.png", "pass nearly.png"],
                       "worst first (mono.tif's max is the larger), no section for the identical pair")
        XCTAssertTrue(page.contains("<td>same.png</td>"), "the identical pair is a table row")
        // Section order: small.png (expected, actual: no heat map), then mono, warm, nearly
        // (expected, actual, heat map), the previews reduced to 20 pixels a side (40×30 → 20×15;
        // heat maps are widened by their caption).
        let previews = try embeddedImages(page)
        XCTAssertEqual(previews.count, 11)
        let heatMaps: Set<Int> = [4, 7, 10]
        for (i, preview) in previews.enumerated() where !heatMaps.contains(i) {
            XCTAssertEqual(preview.width * 100 + preview.height, i == 1 ? 1015 : 2015, "preview \(i): \(preview.width)×\(preview.height)")
        }
        let sRGB = try OutputSpace.sRGB.iccProfile()
        XCTAssertEqual(previews.indices.filter { previews[$0].iccProfile == nil }, [2, 3], "mono's previews drop the grey profile; the rest keep sRGB")
        XCTAssertEqual(previews.filter { $0.iccProfile == sRGB }.count, 9)

        r = try emulsion(["compare", a, b, "--html", html, "--preview-size", "20", "--html-images", "1", "--json"])
        XCTAssertEqual(r.status, 1, r.stderr)
        page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertEqual(try embeddedImages(page).count, 2, "only the worst differing pair (small.png) keeps its images")
        XCTAssertTrue(page.contains("Images embedded for the 1 worst of 4 pairs that differ (--html-images 1)."), page.prefix(3000).description)
        XCTAssertTrue(page.contains("not embedded"))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        XCTAssertFalse(r.stdout.contains("previews") || r.stdout.contains("HTML report"), "the JSON stays as it was")
        XCTAssertEqual((json["results"] as? [Any])?.count, 6)

        // An HTML file that cannot be written: exit 2, one line naming it, no file.
        let unwritable = dir.appendingPathComponent("no-such-folder/report.html").path
        r = try emulsion(["compare", a + "/warm.png", b + "/warm.png", "--html", unwritable])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(unwritable), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: unwritable))
    }

    /// `--match-stem`: two tools' outputs of the same raws differ in extension; paired by
    /// relative path without it, the same pixels as PNG and TIFF are identical. Two files of one
    /// side with one stem are refused by name, and so is the flag without two folders.
    func testMatchStemPairsFilesOfDifferentFormats() throws {
        let grey = try GoldenFixture.uniform(8, 6, (30000, 20000, 10000))
        try write(grey, "shoot/shot.png", in: "a")
        let tiff = dir.appendingPathComponent("b/shoot/shot.tif")
        try FileManager.default.createDirectory(at: tiff.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(try ImageFile.bytes(grey, for: tiff.path)).write(to: tiff)
        let a = dir.appendingPathComponent("a").path, b = dir.appendingPathComponent("b").path
        var r = try emulsion(["compare", a, b])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("2 files: 1 only-in-expected, 1 only-in-actual"), r.stdout)
        r = try emulsion(["compare", a, b, "--match-stem"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("IDENTICAL  shoot/shot.png ↔ shoot/shot.tif: "), r.stdout)
        try write(grey, "shoot/shot.jpg", in: "x")
        try FileManager.default.moveItem(atPath: dir.appendingPathComponent("x/shoot/shot.jpg").path, toPath: a + "/shoot/shot.jpg")
        r = try emulsion(["compare", a, b, "--match-stem"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("shoot/shot.jpg and shoot/shot.png have the same name without extension"), r.stderr)
        r = try emulsion(["compare", a + "/shoot/shot.png", tiff.path, "--match-stem"])
        XCTAssertEqual(r.status, 64, r.stderr)
    }

    /// `--align`: the window is cut from the larger image by the test itself, so the offset is
    /// known exactly; `search` must find it even when the tone differs (codes scaled by 0.9: the
    /// correlation ignores scale), `centre` takes half the difference, `none` fails the pair, and
    /// beyond 64 pixels `search` does not try. Then a real case: RawTherapee crops 4 pixels a side
    /// (FIELD.md), so its TIFF of the Canon chart lines up at (4, 4) of Emulsion's render.
    func testAlignmentFindsTheCommonArea() throws {
        let big = try noise(60, 40, space: .sRGB, seed: 7)
        let piece = ImageAlignment.window(big, x: 3, y: 5, width: 52, height: 30)
        var darker = piece
        darker.samples = darker.samples.map { UInt16(Double($0) * 0.9) }
        try write(big, "big.png", in: "a"); try write(piece, "piece.png", in: "a"); try write(darker, "darker.png", in: "a")
        let a = dir.appendingPathComponent("a").path
        var r = try emulsion(["compare", a + "/big.png", a + "/piece.png"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.hasPrefix("SIZE-MISMATCH"), r.stdout)
        r = try emulsion(["compare", a + "/big.png", a + "/piece.png", "--align", "search"])
        XCTAssertEqual(r.status, 0, r.stdout)
        XCTAssertTrue(r.stdout.hasPrefix("IDENTICAL"), r.stdout)
        XCTAssertTrue(r.stdout.contains("compared the common 52×30, expected from (3, 5), actual from (0, 0) (--align search)"), r.stdout)
        r = try emulsion(["compare", a + "/darker.png", a + "/big.png", "--align", "search"])
        XCTAssertTrue(r.stdout.contains("expected from (0, 0), actual from (3, 5)"), r.stdout)
        r = try emulsion(["compare", a + "/big.png", a + "/piece.png", "--align", "centre"])
        XCTAssertEqual(r.status, 1, r.stdout)
        XCTAssertTrue(r.stdout.contains("expected from (4, 5), actual from (0, 0) (--align centre)"), r.stdout)
        let far = ImageAlignment.window(try noise(140, 40, space: .sRGB, seed: 8), x: 0, y: 0, width: 140, height: 40)
        try write(far, "far.png", in: "a")
        r = try emulsion(["compare", a + "/far.png", a + "/piece.png", "--align", "search"])
        XCTAssertTrue(r.stdout.hasPrefix("SIZE-MISMATCH") && r.stdout.contains("--align search does not try"), r.stdout)

        let rawtherapee = try tool("rawtherapee-cli")
        let input = try sample("canon-eos_kiss_x4-colorchart_crop.dng")
        let ours = dir.appendingPathComponent("emulsion.png").path, theirs = dir.appendingPathComponent("rawtherapee.tif").path
        XCTAssertEqual(try emulsion(["process", input, "-o", ours]).status, 0)
        let settings = dir.appendingPathComponent("rt").path
        _ = try TestSupport.run(rawtherapee, ["-q", "-Y", "-t", "-b16", "-o", theirs, "-c", input], timeout: 300,
                                environment: ["RT_SETTINGS": settings, "RT_CACHE": settings + "/cache"])
        r = try emulsion(["compare", ours, theirs, "--align", "search"])
        XCTAssertTrue(r.stdout.contains("sizes differ (expected 1734×1156, actual 1726×1148): compared the common 1726×1148, "
                                        + "expected from (4, 4), actual from (0, 0)"), r.stdout + r.stderr)
    }

    /// The PNG images a report embeds as data: URIs, decoded.
    func embeddedImages(_ page: String) throws -> [PNGImage] {
        try page.components(separatedBy: "src=\"data:image/png;base64,").dropFirst().map { chunk in
            let base64 = String(chunk.prefix { $0 != "\"" })
            return try PNGFile.decode(Array(try XCTUnwrap(Data(base64Encoded: base64))))
        }
    }

    /// Renders of one raw into two output spaces: the same colours in other codes, so the
    /// comparison is colorimetric. Not zero: the sRGB render clips what Display P3 holds (the
    /// chart's saturated patches; measured mean 0.042, max 4.3 on 0.23% of pixels), so the
    /// limit is on the mean, 0.1. Compared as codes the two would differ by several ΔE00 everywhere.
    func testRendersInTwoSpacesCompareByColour() throws {
        let input = try sample("canon-eos_kiss_x4-colorchart_crop.dng")
        let srgb = dir.appendingPathComponent("srgb.png").path, p3 = dir.appendingPathComponent("p3.png").path
        XCTAssertEqual(try emulsion(["process", input, "-o", srgb]).status, 0)
        XCTAssertEqual(try emulsion(["process", input, "-o", p3, "--space", "display-p3"]).status, 0)
        // A TIFF of the same render holds the same pixels (Emulsion's deflated TIFF, read back by
        // TIFFReader): identical to the PNG, and a folder pairs .tif files too.
        let tiff = dir.appendingPathComponent("tiff/srgb.tif").path
        try FileManager.default.createDirectory(atPath: dir.appendingPathComponent("tiff").path, withIntermediateDirectories: true)
        XCTAssertEqual(try emulsion(["process", input, "-o", tiff]).status, 0)
        var same = try emulsion(["compare", srgb, tiff])
        XCTAssertEqual(same.status, 0, same.stdout + same.stderr)
        XCTAssertTrue(same.stdout.hasPrefix("IDENTICAL  \(srgb): "), same.stdout)
        let other = dir.appendingPathComponent("tiff-p3").path
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        XCTAssertEqual(try emulsion(["process", input, "-o", other + "/srgb.tif", "--space", "display-p3"]).status, 0)
        same = try emulsion(["compare", dir.appendingPathComponent("tiff").path, other, "--heat-map", dir.appendingPathComponent("heat").path])
        XCTAssertEqual(same.status, 1, same.stdout)
        XCTAssertTrue(same.stdout.hasPrefix("FAIL  srgb.tif: "), same.stdout)
        XCTAssertTrue(same.stdout.contains("heat map: \(dir.appendingPathComponent("heat").path)/srgb.tif.png"), same.stdout)
        // A JPEG of the same render: read through libjpeg, compared by colour with its 8 bits noted.
        let jpeg = dir.appendingPathComponent("srgb.jpg").path
        XCTAssertEqual(try emulsion(["process", input, "-o", jpeg]).status, 0)
        same = try emulsion(["compare", srgb, jpeg])
        XCTAssertTrue([0, 1].contains(same.status) && same.stdout.contains("    expected is 16-bit, actual 8-bit"), same.stdout + same.stderr)
        let r = try emulsion(["compare", srgb, p3, "--json"])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let result = try XCTUnwrap((json["results"] as? [[String: Any]])?.first)
        XCTAssertLessThan(try XCTUnwrap(result["mean"] as? Double), 0.1, r.stdout)
        XCTAssertTrue((result["notes"] as? [String] ?? []).contains("expected is srgb, actual display-p3: compared colorimetrically"), r.stdout)
    }
}

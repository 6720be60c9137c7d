import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The look-authoring commands as a user runs them.
final class LookCLITests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = TestSupport.temporaryDirectory("emulsion-look-cli") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func emulsion(_ arguments: [String]) throws -> TestSupport.RunResult {
        return try TestSupport.run(CLITests.builtBinary(), arguments, timeout: 300,
                                   environment: ["EMULSION_PROFILES": TestSupport.repositoryRoot.appendingPathComponent("Profiles").path])
    }

    func assertOneLineError(_ r: TestSupport.RunResult, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(r.status, 0, file: file, line: line)
        let lines = r.stderr.split(separator: "\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines.count, 1, r.stderr, file: file, line: line)
        for m in mentions { XCTAssertTrue(r.stderr.contains(m), "\(r.stderr) should mention \(m)", file: file, line: line) }
    }

    func testPreviewContactSheetAndSweep() throws {
        let sheet = dir.appendingPathComponent("sheet.png").path
        var r = try emulsion(["preview", "--profiles", "all", "--size", "64", "-o", sheet])
        XCTAssertEqual(r.status, 0, r.stderr)
        let png = try PNGFile.read(path: sheet)
        XCTAssertEqual(png.bitDepth, 8)
        XCTAssertNotNil(png.iccProfile)
        XCTAssertTrue(r.stdout.contains("8 renders") || r.stdout.contains(" renders"), r.stdout)
        let strip = dir.appendingPathComponent("strip.png").path
        r = try emulsion(["preview", "--profile", "leica-authentic", "--sweep", "tone.contrast=0.8:1.6:5", "--size", "64", "-o", strip])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("5 renders"), r.stdout)
        // Tiles narrower than their labels: the labels are clipped (this trapped below ~30 px).
        r = try emulsion(["preview", "--profiles", "neutral,leica-vibrant", "--size", "16", "-o", dir.appendingPathComponent("tiny.png").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try emulsion(["preview", "--sweep", "tone.contrast=0.8:9:3", "--size", "64", "-o", dir.appendingPathComponent("bad.png").path])
        assertOneLineError(r, mentions: ["tone.contrast", "out of range"])
    }

    func testDiffNewSetAndValidate() throws {
        var r = try emulsion(["profile", "diff", "neutral", "leica-vibrant"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("tone.curve") && r.stdout.contains("none") && r.stdout.contains("filmic"), r.stdout)
        let path = dir.appendingPathComponent("mine.json").path
        r = try emulsion(["profile", "new", "mine", "--from", "leica-vibrant", "-o", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try emulsion(["profile", "set", path, "tone.contrast=1.45", "hsl.blueHue=-6", "description=My look"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.contains("\"extends\": \"leica-vibrant\""), text)
        XCTAssertTrue(text.contains("\"contrast\": 1.45"), text)
        r = try emulsion(["profile", "diff", "leica-vibrant", path])
        XCTAssertTrue(r.stdout.contains("2 parameters differ"), r.stdout)
        // A bad value is refused and the file stays as it was.
        r = try emulsion(["profile", "set", path, "tone.contrast=7"])
        assertOneLineError(r, mentions: [path, "tone.contrast", "0.5…3"])
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), text)
        r = try emulsion(["profile", "set", path, "lut.file=missing.cube"])
        assertOneLineError(r, mentions: [path, "lut.file", "no such file"])
        r = try emulsion(["profile", "validate", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        // Through a link, the edit reaches the file it points to and the link stays a link.
        let link = dir.appendingPathComponent("link.json").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)
        r = try emulsion(["profile", "set", link, "tone.contrast=1.2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(try String(contentsOfFile: path, encoding: .utf8).contains("\"contrast\": 1.2"))
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), path)
        // A file that is not JSON is named with the place of the problem, and left as it was
        // (it printed Foundation's DecodingError, without the file, before JSONText).
        let broken = dir.appendingPathComponent("broken.json").path
        try "{\n  \"schemaVersion\": 1,\n  \"name\": \"b\"\n  \"tone\": {}\n}\n".write(toFile: broken, atomically: false, encoding: .utf8)
        r = try emulsion(["profile", "set", broken, "tone.contrast=1.2"])
        assertOneLineError(r, mentions: [broken, "line 4, column 3", "expected ',' or '}' after the value of \"name\""])
        XCTAssertFalse(try String(contentsOfFile: broken, encoding: .utf8).contains("contrast"))
        // A stage without a parameter is a malformed assignment, not an unknown stage.
        r = try emulsion(["profile", "set", path, "tone=1"])
        assertOneLineError(r, mentions: [path, "expected stage.parameter=value, got \"tone=1\""])
    }

    func testChartReportsPerPatchDeltaE() throws {
        var r = try emulsion(["profile", "chart", "film-slide", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONDecoder().decode(ChartReport.self, from: Data(r.stdout.utf8))
        XCTAssertEqual(report.patches.count, 24)
        XCTAssertGreaterThan(report.mean, 3)
        r = try emulsion(["profile", "chart", "neutral"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("mean ΔE00 0.00"), r.stdout)
    }

    func testExportAndImport() throws {
        let cube = dir.appendingPathComponent("look.cube").path
        var r = try emulsion(["profile", "export", "zeiss-natural", "--cube", "17", "-o", cube])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lut = try LUT3D.readCube(path: cube)
        XCTAssertEqual(lut.size, 17)
        XCTAssertTrue(lut.comments.contains { $0.hasPrefix("Input: srgb") }, "\(lut.comments)")
        let look = dir.appendingPathComponent("imported.json").path
        r = try emulsion(["profile", "import", cube, "-o", look])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try emulsion(["profile", "export", "--import", cube, "-o", dir.appendingPathComponent("again.json").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        // The imported look renders (the small chart keeps this quick in debug builds) and is
        // close to the look it came from.
        r = try emulsion(["profile", "chart", look, "--against", "zeiss-natural", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertLessThan(try JSONDecoder().decode(ChartReport.self, from: Data(r.stdout.utf8)).mean, 0.5)
        try "LUT_3D_SIZE 2\n0 0 0\n".write(toFile: cube, atomically: false, encoding: .utf8)
        r = try emulsion(["profile", "chart", look])
        assertOneLineError(r, mentions: [look, "lut.file", "expected 8 entries"])
    }
}

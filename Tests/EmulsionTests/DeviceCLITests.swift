import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// Device mode's commands as a user runs them: `process --device`, `device list/report`,
/// `profile export --device`, and their one-line errors. Input: the 240×160 synthetic chart as a DNG.
final class DeviceCLITests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = TestSupport.temporaryDirectory("emulsion-device-cli") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// The CLI beside the test bundle (missing: skipped locally; in CI the run itself fails).
    func emulsion(_ arguments: [String]) throws -> TestSupport.RunResult {
        let binary = try CLITests.builtBinary()
        let profiles = TestSupport.repositoryRoot.appendingPathComponent("Profiles").path
        return try TestSupport.run(binary, arguments, timeout: 300, environment: ["EMULSION_PROFILES": profiles])
    }

    func chartDNG() throws -> String {
        let path = dir.appendingPathComponent("chart.dng").path
        try DNGWriter.write(ChartReport.chartScene.raw, to: URL(fileURLWithPath: path))
        return path
    }

    func assertOneLineError(_ r: TestSupport.RunResult, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(r.status, 0, file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").filter { !$0.isEmpty }.count, 1, r.stderr, file: file, line: line)
        for m in mentions { XCTAssertTrue(r.stderr.contains(m), "\(r.stderr) should mention \(m)", file: file, line: line) }
    }

    func testProcessReportAndExportWithADevice() throws {
        let raw = try chartDNG()
        var r = try emulsion(["device", "list"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("mid-range") && r.stdout.contains("CCM Q3.7"), r.stdout)

        let out = dir.appendingPathComponent("mid.png").path
        r = try emulsion(["process", raw, "--profile", "leica-authentic", "--device", "mid-range", "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let png = try PNGFile.read(path: out)
        XCTAssertTrue(png.samples.allSatisfy { $0 % 257 == 0 }, "8-bit encoded words in a 16-bit PNG")

        let heat = dir.appendingPathComponent("heat.png").path, picture = dir.appendingPathComponent("g.png").path
        r = try emulsion(["device", "report", raw, "--profile", "film-slide", "--device", "mid-range", "--heat-map", heat,
                          "--gradient-picture", picture])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("ΔE00 mean") && r.stdout.contains("sky gradient"), r.stdout)
        XCTAssertNoThrow(try PNGFile.read(path: heat))
        XCTAssertEqual(try PNGFile.read(path: picture).width, 512)

        let cube = dir.appendingPathComponent("slide.cube").path
        r = try emulsion(["profile", "export", "film-slide", "--device", "flagship", "-o", cube, "--raw", raw])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try LUT3D.readCube(path: cube).size, 33)
        let tables = try String(contentsOfFile: dir.appendingPathComponent("slide.device.json").path, encoding: .utf8)
        XCTAssertTrue(tables.contains("\"Q4.11\"") && tables.contains("\"codes\""), tables)

        // The issue's own spelling: a bare --cube means "as a LUT, the device's size".
        let midCube = dir.appendingPathComponent("mid.cube").path
        r = try emulsion(["profile", "export", "film-slide", "--device", "mid-range", "--cube", "-o", midCube])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try LUT3D.readCube(path: midCube).size, 17)

        // A LUT and its codes are one set: an existing codes file refuses the export before the
        // .cube is written (no half set is left behind).
        let lone = dir.appendingPathComponent("lone.cube").path
        try "{}".write(toFile: dir.appendingPathComponent("lone.device.json").path, atomically: true, encoding: .utf8)
        r = try emulsion(["profile", "export", "film-slide", "--device", "mid-range", "-o", lone])
        assertOneLineError(r, mentions: ["lone.device.json", "already exists"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: lone), "no .cube without its codes")

        r = try emulsion(["profile", "export", "film-slide", "--device", "flagship", "--cube", "17", "-o", cube, "--overwrite"])
        assertOneLineError(r, mentions: ["--cube", "33³"])
        r = try emulsion(["process", raw, "--device", "pixel", "-o", dir.appendingPathComponent("x.png").path])
        assertOneLineError(r, mentions: ["pixel", "no such device", "mid-range"])
        let bad = dir.appendingPathComponent("bad.json").path
        try #"{"schemaVersion": 1, "name": "b", "description": "", "rounding": "floor", "headroom": 4, "linear": "float", "ccm": {"format": "Q9"}, "toneTable": "float", "lut": "float", "encoded": "float"}"#
            .write(toFile: bad, atomically: true, encoding: .utf8)
        r = try emulsion(["device", "report", raw, "--device", bad])
        assertOneLineError(r, mentions: [bad, "ccm.format", "Q9"])
    }
}

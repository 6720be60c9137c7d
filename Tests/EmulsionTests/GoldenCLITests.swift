import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// `emulsion golden check|report|record` as a user runs them: exit codes 0/1/2, loud record output,
/// the files written, and one-line errors for unusable suites.
final class GoldenCLITests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = TestSupport.temporaryDirectory("emulsion-golden-cli") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    @discardableResult
    func emulsion(_ arguments: [String]) throws -> TestSupport.RunResult {
        return try TestSupport.run(CLITests.builtBinary(), arguments, timeout: 180,
                                   environment: ["EMULSION_PROFILES": TestSupport.repositoryRoot.appendingPathComponent("Profiles").path])
    }

    func writeSuite(_ cases: String) throws {
        try #"{ "schemaVersion": 1, "defaults": { "maxSize": 60 }, "cases": \#(cases) }"#
            .write(to: dir.appendingPathComponent("golden.json"), atomically: false, encoding: .utf8)
    }

    func testRecordCheckReportExitCodes() throws {
        let chart = GoldenFixture.smallChart
        try writeSuite(#"[ { "name": "a", "input": "\#(chart)" }, { "name": "b", "input": "\#(chart)", "space": "display-p3" } ]"#)
        var r = try emulsion(["golden", "check", dir.path])
        XCTAssertEqual(r.status, 2, "nothing approved yet: \(r.stdout)")
        XCTAssertTrue(r.stdout.contains("NO-APPROVED"), r.stdout)

        r = try emulsion(["golden", "record", dir.path, "--case", "a"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("NEW        a"), r.stdout)
        XCTAssertTrue(r.stdout.contains("RECORDED 1 approved image"), r.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("b/approved.png").path), "--case limits record")
        r = try emulsion(["golden", "record", dir.path])
        XCTAssertTrue(r.stdout.contains("unchanged  a") && r.stdout.contains("NEW        b"), r.stdout)

        r = try emulsion(["golden", "check", dir.path, "--junit", dir.appendingPathComponent("junit.xml").path])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("IDENTICAL   a"), r.stdout)
        XCTAssertTrue(try String(contentsOf: dir.appendingPathComponent("junit.xml"), encoding: .utf8).contains("<testcase classname=\"golden."))

        let out = dir.appendingPathComponent("out")
        let html = dir.appendingPathComponent("report.html")
        r = try emulsion(["golden", "report", dir.path, "--set", "exposure.ev=0.3", "--out", out.path, "-o", html.path])
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("what-if") && r.stdout.contains("FAIL"), r.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("a/heatmap.png").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("b/actual.png").path))
        XCTAssertTrue(try String(contentsOf: html, encoding: .utf8).contains("What-if run"))
        r = try emulsion(["golden", "check", dir.path])
        XCTAssertEqual(r.status, 0, "a what-if never records: \(r.stdout)")

        // --out naming a file is refused before any case renders; a case folder that cannot be
        // made is one plain note (it printed Foundation's error dump).
        r = try emulsion(["golden", "check", dir.path, "--out", html.path])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("--out \(html.path): exists and is not a folder"), r.stderr)
        let blocked = dir.appendingPathComponent("blocked")
        try FileManager.default.createDirectory(at: blocked, withIntermediateDirectories: false)
        try Data().write(to: blocked.appendingPathComponent("a"))
        r = try emulsion(["golden", "check", dir.path, "--set", "exposure.ev=0.3", "--out", blocked.path, "--case", "a"])
        XCTAssertTrue(r.stdout.contains("note: could not write the actual image or heat map in \(blocked.path)/a: File exists"), r.stdout)
        XCTAssertFalse(r.stdout.contains("NSCocoaErrorDomain"), r.stdout)

        // A case renamed in the manifest leaves its old approved image behind: check, report and
        // record name it (nothing checks it any more); the exit code and the file are unchanged.
        try writeSuite(#"[ { "name": "a2", "input": "\#(chart)" }, { "name": "b", "input": "\#(chart)", "space": "display-p3" } ]"#)
        r = try emulsion(["golden", "record", dir.path, "--case", "a2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let orphan = "note: a/approved.png belongs to no case in golden.json (renamed or removed?); nothing checks it"
        XCTAssertTrue(r.stdout.contains(orphan), r.stdout)
        r = try emulsion(["golden", "report", dir.path, "-o", html.path])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertEqual(r.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("note: ") }, [orphan], r.stdout)
        XCTAssertTrue(try String(contentsOf: html, encoding: .utf8).contains("a/approved.png belongs to no case"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("a/approved.png").path))
    }

    func testUnusableSuitesAreOneLineErrorsWithExitCode2() throws {
        try writeSuite(#"[ { "name": "a", "input": "\#(GoldenFixture.smallChart)", "bits": 10 } ]"#)
        for (arguments, mention) in [(["golden", "check", dir.path], "cases[0].bits"),
                                     (["golden", "check", dir.appendingPathComponent("nope").path], "no such suite folder")] {
            let r = try emulsion(arguments)
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(mention), r.stderr)
        }
        try writeSuite(#"[ { "name": "a", "input": "\#(GoldenFixture.smallChart)" }, { "name": "gone", "input": "missing.dng" } ]"#)
        for (arguments, mention) in [(["golden", "check", dir.path, "--case", "zzz"], "no case matches \"zzz\""),
                                     (["golden", "check", dir.path, "--set", "exposure.evv=1"], "exposure.evv")] {
            let r = try emulsion(arguments)
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(mention), r.stderr)
        }
        var r = try emulsion(["golden", "record", dir.path])
        XCTAssertEqual(r.status, 2, "a case that cannot be recorded: \(r.stdout)")
        XCTAssertTrue(r.stdout.contains("FAILED     gone") && r.stdout.contains("missing.dng: no such file"), r.stdout)
        XCTAssertTrue(r.stdout.contains("NEW        a"), "the other cases are still recorded: \(r.stdout)")
        r = try emulsion(["golden", "check", dir.path])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stdout.contains("ERROR       gone") && r.stdout.contains("IDENTICAL   a"), r.stdout)
    }

    /// A case can render through a phone ISP's precision (`device`, as `process --device`), so a
    /// suite guards what a look becomes on the device, not only in float. The reference for
    /// "through the device": the same render `emulsion process --device` writes.
    func testCasesRenderThroughADevice() throws {
        let chart = GoldenFixture.smallChart
        try writeSuite(#"""
            [ { "name": "float", "input": "\#(chart)", "profile": "film-slide" },
              { "name": "isp", "input": "\#(chart)", "profile": "film-slide", "device": "mid-range" } ]
            """#)
        var r = try emulsion(["golden", "record", dir.path])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let float = try PNGFile.read(path: dir.appendingPathComponent("float/approved.png").path)
        let isp = try PNGFile.read(path: dir.appendingPathComponent("isp/approved.png").path)
        XCTAssertNotEqual(float.samples, isp.samples, "the device's precision must show in the render")
        // The device case moved to float fails against its approved image: the device is part
        // of what the suite guards.
        try writeSuite(#"""
            [ { "name": "float", "input": "\#(chart)", "profile": "film-slide" },
              { "name": "isp", "input": "\#(chart)", "profile": "film-slide", "device": "" } ]
            """#)
        r = try emulsion(["golden", "check", dir.path])
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("IDENTICAL   float"), r.stdout)
        XCTAssertFalse(r.stdout.contains("IDENTICAL   isp"), r.stdout)
        // An unknown device is a case that cannot render (exit 2), named; a wrong type is a manifest error.
        try writeSuite(#"[ { "name": "isp", "input": "\#(chart)", "device": "no-such-phone" } ]"#)
        r = try emulsion(["golden", "check", dir.path])
        XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("no-such-phone: no such device"), r.stdout)
        try writeSuite(#"[ { "name": "isp", "input": "\#(chart)", "device": 3 } ]"#)
        r = try emulsion(["golden", "check", dir.path])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("cases[0].device: expected a string, got a number"), r.stderr)
    }
}

import Emulsion
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest
@testable import EmulsionCore

/// Hostile profiles (issue 7): at least 50 broken files — malformed JSON, wrong types, non-finite
/// and out-of-range numbers, unknown keys, `extends` cycles and missing parents — each rejected
/// with a one-line `ProfileError` naming the file, the key path where there is one, and the problem.
/// Broken `.cube` and Hald CLUT files named by a profile's `lut.file` are part of the set: they are
/// found when the profile is checked (`LookPlan.checkFiles`, which `process` and `profile validate`
/// run before any input), and the error names the profile, `lut.file`, the LUT file and the problem.
final class HostileProfileTests: XCTestCase {
    func testFiftyBrokenProfilesAreRejectedClearly() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("emulsion-bad-profiles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let valid = #"{"schemaVersion": 1, "name": "ok", "description": "fine", "exposure": {"ev": 0.5, "baseline": true}, "whiteBalance": {"mode": "daylight"}}"#

        // (file text, expected key path, words the message must contain)
        var cases: [(String, String, String)] = []
        // Malformed JSON: every truncation of a valid file at 20 positions.
        for cut in stride(from: 1, to: valid.count - 1, by: max(1, valid.count / 20)).prefix(20) {
            cases.append((String(valid.prefix(cut)), "", "not valid JSON"))
        }
        cases += [
            ("", "", "not valid JSON"),
            ("[]", "", "expected a JSON object"),
            ("42", "", "expected a JSON object"),
            ("null", "", "expected a JSON object"),
            (#"{"schemaVersion": 1, "name": "x", "exposure": {"ev": NaN}}"#, "", "not valid JSON"),
            (#"{"schemaVersion": 1, "name": "x", "exposure": {"ev": Infinity}}"#, "", "not valid JSON"),
            (#"{"schemaVersion": 1, "name": "x", "exposure": {"ev": 1e999}}"#, "exposure.ev", "beyond the range of a double"),
            // JSONDecoder kept the first of two equal keys silently; a leading zero read as a
            // number beyond Double; a trailing comma passed (and fails in jq and Python).
            (#"{"schemaVersion": 1, "name": "x", "tone": {"contrast": 1.5}, "tone": {"contrast": 2.5}}"#, "tone", "appears twice, at line 1, column 35 and line 1, column 62"),
            (#"{"schemaVersion": 1, "name": "x", "exposure": {"ev": 01}}"#, "", "line 1, column 54: a number with a leading zero"),
            (#"{"schemaVersion": 1, "name": "x", "exposure": {"ev": 1},}"#, "", "line 1, column 56: a ',' before '}'"),
            (#"{"schemaVersion": 1, "name": "x", "exposure": {"ev": -1e999}}"#, "exposure.ev", ""),
            (#"{"schemaVersion": 1, "name": "x", "exposure": {"ev": 10.0001}}"#, "exposure.ev", "out of range"),
            (#"{"schemaVersion": 1, "name": "x", "exposure": {"ev": -11}}"#, "exposure.ev", "out of range"),
            (#"{"schemaVersion": 1, "name": "x", "exposure": {"ev": "1"}}"#, "exposure.ev", "got a string"),
            (#"{"schemaVersion": 1, "name": "x", "exposure": {"ev": true}}"#, "exposure.ev", "got a boolean"),
            (#"{"schemaVersion": 1, "name": "x", "exposure": {"ev": [1]}}"#, "exposure.ev", "got an array"),
            (#"{"schemaVersion": 1, "name": "x", "exposure": {"ev": null}}"#, "exposure.ev", "got null"),
            (#"{"schemaVersion": 1, "name": "x", "exposure": {"baseline": 1}}"#, "exposure.baseline", "true or false"),
            (#"{"schemaVersion": 1, "name": "x", "exposure": 3}"#, "exposure", "expected an object"),
            (#"{"schemaVersion": 1, "name": "x", "exposure": {"EV": 1}}"#, "exposure.EV", "unknown parameter"),
            (#"{"schemaVersion": 1, "name": "x", "exposure ": {"ev": 1}}"#, "exposure ", "unknown key"),
            (#"{"schemaVersion": 1, "name": "x", "whiteBalance": {"mode": "As-Shot"}}"#, "whiteBalance.mode", "not known"),
            (#"{"schemaVersion": 1, "name": "x", "whiteBalance": {"mode": ""}}"#, "whiteBalance.mode", "not known"),
            (#"{"schemaVersion": 1, "name": "x", "demosaic": {"algorithm": 1}}"#, "demosaic.algorithm", "expected one of"),
            (#"{"schemaVersion": 1, "name": "x", "tonecurve": {}}"#, "tonecurve", "unknown key"),
            (#"{"schemaVersion": 1}"#, "name", "missing"),
            (#"{"schemaVersion": 1, "name": 5}"#, "name", "expected a string"),
            (#"{"schemaVersion": 1, "name": "x", "description": {}}"#, "description", "expected a string"),
            (#"{"name": "x"}"#, "schemaVersion", "missing"),
            (#"{"schemaVersion": "1", "name": "x"}"#, "schemaVersion", "expected a number"),
            (#"{"schemaVersion": 1.5, "name": "x"}"#, "schemaVersion", "whole number"),
            (#"{"schemaVersion": 0, "name": "x"}"#, "schemaVersion", "whole number"),
            (#"{"schemaVersion": 99, "name": "x"}"#, "schemaVersion", "newer"),
            // libFuzzer finding (fuzz-findings/crash-08d8dfd7…): Int(1.8e60) trapped.
            (#"{"schemaVersion": 177777777777777777777777777777777777777777777777777777777777, "name": "x"}"#, "schemaVersion", "whole number"),
            (#"{"schemaVersion": 1, "name": "x", "extends": 3}"#, "extends", "expected a string"),
            (#"{"schemaVersion": 1, "name": "x", "extends": "ghost"}"#, "extends", "ghost"),
            (#"{"schemaVersion": 1, "name": "x", "extends": "self-loop"}"#, "extends", "cycle"),
        ]
        try #"{"schemaVersion": 1, "name": "self-loop", "extends": "self-loop"}"#.write(to: dir.appendingPathComponent("self-loop.json"), atomically: false, encoding: .utf8)
        for i in 0..<5 {
            try #"{"schemaVersion": 1, "name": "ring\#(i)", "extends": "ring\#((i + 1) % 5)"}"#
                .write(to: dir.appendingPathComponent("ring\(i).json"), atomically: false, encoding: .utf8)
        }
        cases.append((#"{"schemaVersion": 1, "name": "x", "extends": "ring0"}"#, "extends", "cycle"))
        XCTAssertGreaterThanOrEqual(cases.count, 50)

        let loader = ProfileLoader(searchDirectories: [dir])
        for (i, (text, keyPath, words)) in cases.enumerated() {
            let url = dir.appendingPathComponent("case\(i).json")
            try text.write(to: url, atomically: false, encoding: .utf8)
            XCTAssertThrowsError(try loader.load(url.path), "case \(i) accepted: \(text)") { error in
                guard let e = error as? ProfileError else { return XCTFail("case \(i): \(error)") }
                // A cycle is reported where it closes; the message then lists the chain from this file.
                if words == "cycle" { XCTAssertTrue(e.description.contains(url.lastPathComponent), "case \(i): \(e)") }
                else { XCTAssertEqual(e.file, url.path, "case \(i) names the wrong file: \(e)") }
                XCTAssertEqual(e.keyPath, keyPath, "case \(i): \(e)")
                if !words.isEmpty { XCTAssertTrue(e.description.contains(words), "case \(i): \(e)") }
                XCTAssertFalse(e.description.contains("\n"), "case \(i): more than one line: \(e)")
            }
        }
    }

    func testBrokenLUTFilesAreRejectedClearly() throws {
        let dir = TestSupport.temporaryDirectory("emulsion-bad-luts")
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ text: String) throws -> String {
            let url = dir.appendingPathComponent(name)
            try text.write(to: url, atomically: false, encoding: .utf8)
            return url.path
        }
        func png(_ name: String, width: Int, height: Int, bitDepth: Int = 8, channels: Int = 3) throws -> String {
            let path = dir.appendingPathComponent(name).path
            let image = PNGImage(width: width, height: height, bitDepth: bitDepth, channels: channels,
                                 samples: [UInt16](repeating: 100, count: width * height * channels))
            try PNGFile.write(image, to: path)
            return path
        }
        let identity2 = LUT3D.identity(size: 2).cubeText()
        let entries2 = identity2.split(separator: "\n").filter { $0.first?.isNumber == true }.joined(separator: "\n")
        let goodHald = try png("good.png", width: 8, height: 8)
        let haldBytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: goodHald)))
        // A PNG whose IHDR claims 100000×100000: refused from the header, before any decoding.
        var absurd = haldBytes
        for (offset, value) in [(16, 100_000), (20, 100_000)] { for k in 0..<4 { absurd[offset + k] = UInt8(truncatingIfNeeded: value >> (24 - 8 * k)) } }
        let fifo = dir.appendingPathComponent("pipe.cube").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("folder.cube"), withIntermediateDirectories: true)

        // (LUT file as the profile names it, what the message must contain). A missing file or a
        // folder is refused by the loader itself; the rest by the file check.
        let cases: [(String, String)] = [
            ("missing.cube", "no such file"),
            ("missing.png", "no such file"),
            (dir.appendingPathComponent("folder.cube").path, "no such file"),
            (fifo, "is a FIFO (named pipe), not a LUT file"),
            (try write("empty.cube", ""), "empty file"),
            (try write("blank.cube", "\n\n# only a comment\n"), "no LUT_3D_SIZE"),
            (try write("prose.cube", "This is not a LUT.\n"), "unknown keyword"),
            (try write("twonumbers.cube", "LUT_3D_SIZE 2\n0 0\n"), "line 2: expected three numbers"),
            (try write("fournumbers.cube", "LUT_3D_SIZE 2\n0 0 0 0\n"), "expected three numbers"),
            (try write("words.cube", "LUT_3D_SIZE 2\n0 zero 0\n"), "expected three numbers"),
            (try write("huge.cube", "LUT_3D_SIZE 100000\n0 0 0\n"), "LUT_3D_SIZE must be a whole number 2…256"),
            (try write("one.cube", "LUT_3D_SIZE 1\n0 0 0\n"), "LUT_3D_SIZE must be"),
            (try write("negative.cube", "LUT_3D_SIZE -17\n"), "LUT_3D_SIZE must be"),
            (try write("fraction.cube", "LUT_3D_SIZE 2.5\n"), "LUT_3D_SIZE must be"),
            (try write("nosize.cube", "LUT_3D_SIZE\n"), "LUT_3D_SIZE must be"),
            (try write("twosizes.cube", "LUT_3D_SIZE 2\nLUT_3D_SIZE 3\n"), "a second LUT_3D_SIZE"),
            (try write("wrongsize.cube", "LUT_3D_SIZE 3\n" + entries2 + "\n"), "expected 27 entries for LUT_3D_SIZE 3, found 8"),
            (try write("surplus.cube", identity2 + "0.5 0.5 0.5\n"), "more than 8 entries"),
            (try write("truncated.cube", String(identity2.prefix(identity2.count - 30))), "entries for LUT_3D_SIZE 2"),
            (try write("nan.cube", "LUT_3D_SIZE 2\nnan 0 0\n"), "not finite"),
            (try write("inf.cube", "LUT_3D_SIZE 2\n0 inf 0\n"), "not finite"),
            (try write("overflow.cube", "LUT_3D_SIZE 2\n0 0 1e999\n"), "not finite"),
            (try write("early.cube", "0 0 0\nLUT_3D_SIZE 2\n"), "data before LUT_3D_SIZE"),
            (try write("oned.cube", "LUT_1D_SIZE 1024\n"), "1-D LUTs are not supported"),
            (try write("domain.cube", "LUT_3D_SIZE 2\nDOMAIN_MIN 1 1 1\nDOMAIN_MAX 0 0 0\n" + entries2 + "\n"), "DOMAIN_MAX must exceed DOMAIN_MIN"),
            (try write("domaininf.cube", "LUT_3D_SIZE 2\nDOMAIN_MAX 1 inf 1\n"), "DOMAIN_MAX needs three finite numbers"),
            (try write("domainnan.cube", "LUT_3D_SIZE 2\nDOMAIN_MIN nan 0 0\n"), "DOMAIN_MIN needs three finite numbers"),
            (try write("range.cube", "LUT_3D_INPUT_RANGE 0\n"), "LUT_3D_INPUT_RANGE needs two finite numbers"),
            (try { let p = dir.appendingPathComponent("binary.cube"); try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) }).write(to: p); return p.path }(), "line"),
            (try png("square100.png", width: 100, height: 100), "100×100 is not a Hald CLUT size"),
            (try png("wide.png", width: 64, height: 8), "64×8 is not a Hald CLUT size"),
            (try png("one.png", width: 1, height: 1), "1×1 is not a Hald CLUT size"),
            (try png("almost.png", width: 26, height: 26, bitDepth: 16), "26×26 is not a Hald CLUT size"),
            (try write("text.png", "not a picture at all, just some words\n"), "not a PNG file"),
            (try { let p = dir.appendingPathComponent("cut.png"); try Data(haldBytes.prefix(haldBytes.count - 20)).write(to: p); return p.path }(), "not a readable Hald CLUT PNG"),
            (try { let p = dir.appendingPathComponent("absurd.png"); try Data(absurd).write(to: p); return p.path }(), "100000×100000 is not a Hald CLUT size"),
            (try write("short.png", "\u{89}PN"), "not a readable Hald CLUT PNG"),
        ]
        XCTAssertGreaterThanOrEqual(cases.count, 30)
        let loader = ProfileLoader(searchDirectories: [dir])
        for (i, (lut, words)) in cases.enumerated() {
            let url = dir.appendingPathComponent("lut\(i).json")
            let document: [String: Any] = ["schemaVersion": 1, "name": "lut\(i)", "lut": ["file": lut]]
            try JSONSerialization.data(withJSONObject: document).write(to: url)
            let started = Date()
            XCTAssertThrowsError(try LookPlan.checkFiles(try loader.load(url.path)), "case \(i) accepted: \(lut)") { error in
                guard let e = error as? ProfileError else { return XCTFail("case \(i): \(error)") }
                XCTAssertEqual(e.file, url.path, "case \(i) names the wrong profile: \(e)")
                XCTAssertEqual(e.keyPath, "lut.file", "case \(i): \(e)")
                XCTAssertTrue(e.message.contains(URL(fileURLWithPath: lut, relativeTo: dir).lastPathComponent), "case \(i) does not name the LUT file: \(e)")
                XCTAssertTrue(e.message.contains(words), "case \(i): expected \"\(words)\" in: \(e)")
                XCTAssertFalse(e.description.contains("\n"), "case \(i): more than one line: \(e)")
            }
            // A FIFO opened for reading would block; an absurd size must not be allocated.
            XCTAssertLessThan(Date().timeIntervalSince(started), 30, "case \(i) took too long")
        }
        // The good Hald file and a good .cube pass the same check.
        for lut in [goodHald, try write("good.cube", identity2)] {
            let url = dir.appendingPathComponent("good-\(URL(fileURLWithPath: lut).pathExtension).json")
            try JSONSerialization.data(withJSONObject: ["schemaVersion": 1, "name": "good", "lut": ["file": lut]] as [String: Any]).write(to: url)
            XCTAssertNoThrow(try LookPlan.checkFiles(try loader.load(url.path)))
        }
    }

    /// Through the CLI: a broken LUT stops `process` before any input, in one line, exit 2, no output.
    func testBrokenLUTStopsTheCLIBeforeAnyInput() throws {
        let binary = try CLITests.builtBinary()
        let dir = TestSupport.temporaryDirectory("emulsion-bad-lut-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let lut = dir.appendingPathComponent("bad.cube")
        try "LUT_3D_SIZE 2\n0 0 nan\n".write(to: lut, atomically: false, encoding: .utf8)
        let profile = dir.appendingPathComponent("look.json")
        try #"{"schemaVersion": 1, "name": "look", "lut": {"file": "bad.cube"}}"#.write(to: profile, atomically: false, encoding: .utf8)
        let r = try TestSupport.run(binary, ["process", "--profile", profile.path, "--out-dir", dir.appendingPathComponent("out").path],
                                    timeout: 120)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderr, "emulsion: \(profile.path): lut.file: \(lut.path): line 2: entry \"0 0 nan\" is not finite\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
        let v = try TestSupport.run(binary, ["profile", "validate", profile.path], timeout: 60)
        XCTAssertEqual(v.status, 1)
        XCTAssertTrue(v.stderr.contains("lut.file") && v.stderr.contains("not finite"), v.stderr)
    }
}

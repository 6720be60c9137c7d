import Foundation
import XCTest
@testable import EmulsionCore

/// Hostile profiles (issue 7): at least 50 broken files — malformed JSON, wrong types, non-finite
/// and out-of-range numbers, unknown keys, `extends` cycles and missing parents — each rejected
/// with a one-line `ProfileError` naming the file, the key path where there is one, and the problem.
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
            (#"{"schemaVersion": 1, "name": "x", "exposure": {"ev": 1e999}}"#, "exposure.ev", ""),
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
}

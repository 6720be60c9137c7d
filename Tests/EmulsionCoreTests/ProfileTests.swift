import Foundation
import XCTest
@testable import EmulsionCore

final class ProfileTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("emulsion-profiles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func write(_ name: String, _ text: String) {
        try! text.write(to: directory.appendingPathComponent(name + ".json"), atomically: false, encoding: .utf8)
    }

    var loader: ProfileLoader { ProfileLoader(searchDirectories: [directory]) }

    func expectError(_ name: String, keyPath: String, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try loader.load(name), file: file, line: line) { error in
            guard let e = error as? ProfileError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(e.keyPath, keyPath, file: file, line: line)
            XCTAssertTrue(e.description.contains(text), "\(e)", file: file, line: line)
            XCTAssertTrue(e.file.hasSuffix(".json") || e.file == name, "\(e)", file: file, line: line)
            XCTAssertFalse(e.description.contains("\n"), file: file, line: line)
        }
    }

    func testShippedNeutralProfileLoads() throws {
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Profiles")
        let p = try ProfileLoader(searchDirectories: [shipped]).load("neutral")
        XCTAssertEqual(p.name, "neutral")
        XCTAssertEqual(p, Profile(name: "neutral", summary: p.summary, parent: nil, origin: p.origin, values: Profile.defaults.values))
    }

    func testDefaultsFillMissingKeysAndExtendsInherits() throws {
        write("base", #"{"schemaVersion": 1, "name": "base", "exposure": {"ev": 1.5}}"#)
        write("child", #"{"schemaVersion": 1, "name": "child", "extends": "base", "whiteBalance": {"mode": "daylight"}}"#)
        let p = try loader.load("child")
        XCTAssertEqual(p.number("exposure", "ev"), 1.5)
        XCTAssertEqual(p.option("whiteBalance", "mode", as: WhiteBalanceMode.self), .daylight)
        XCTAssertEqual(p.flag("exposure", "baseline"), true, "default")
    }

    func testStrictValidation() {
        write("typo", #"{"schemaVersion": 1, "name": "t", "exposure": {"evv": 1}}"#)
        expectError("typo", keyPath: "exposure.evv", contains: "unknown parameter")
        write("stage", #"{"schemaVersion": 1, "name": "t", "exposur": {"ev": 1}}"#)
        expectError("stage", keyPath: "exposur", contains: "unknown key")
        write("range", #"{"schemaVersion": 1, "name": "t", "exposure": {"ev": 99}}"#)
        expectError("range", keyPath: "exposure.ev", contains: "out of range")
        write("type", #"{"schemaVersion": 1, "name": "t", "exposure": {"ev": "one"}}"#)
        expectError("type", keyPath: "exposure.ev", contains: "got a string")
        write("choice", #"{"schemaVersion": 1, "name": "t", "demosaic": {"algorithm": "magic"}}"#)
        expectError("choice", keyPath: "demosaic.algorithm", contains: "\"bilinear\"")
        write("version", #"{"schemaVersion": 7, "name": "t"}"#)
        expectError("version", keyPath: "schemaVersion", contains: "newer")
        write("noversion", #"{"name": "t"}"#)
        expectError("noversion", keyPath: "schemaVersion", contains: "missing")
        write("json", #"{"schemaVersion": 1, "name": "#)
        expectError("json", keyPath: "", contains: "not valid JSON")
        write("a", #"{"schemaVersion": 1, "name": "a", "extends": "b"}"#)
        write("b", #"{"schemaVersion": 1, "name": "b", "extends": "a"}"#)
        expectError("a", keyPath: "extends", contains: "cycle")
        write("orphan", #"{"schemaVersion": 1, "name": "o", "extends": "missing-parent"}"#)
        expectError("orphan", keyPath: "extends", contains: "missing-parent")
        expectError("nonexistent", keyPath: "", contains: "no such profile")
    }

    func testOverrides() throws {
        let p = try Profile.defaults.applying(overrides: ["exposure.ev=-2.5", "whiteBalance.mode=daylight"])
        XCTAssertEqual(p.number("exposure", "ev"), -2.5)
        XCTAssertThrowsError(try Profile.defaults.applying(overrides: ["exposure.ev=20"]))
        XCTAssertThrowsError(try Profile.defaults.applying(overrides: ["exposure.nope=1"]))
        XCTAssertThrowsError(try Profile.defaults.applying(overrides: ["exposure"]))
        // Each refusal says what was wrong: a malformed assignment is not blamed on a stage.
        let expected: [(String, String)] = [
            ("exposure", "--set: exposure: expected stage.parameter=value"),
            ("exposure=1", "--set: expected stage.parameter=value, got \"exposure=1\""),
            ("=1", "--set: expected stage.parameter=value, got \"=1\""),
            ("exposure.ev.x=1", "--set: expected stage.parameter=value, got \"exposure.ev.x=1\""),
            ("exposure.=1", "--set: expected stage.parameter=value, got \"exposure.=1\""),
            ("expo.ev=1", "--set: expo.ev: unknown stage; stages: "),
            ("exposure.nope=1", "--set: exposure.nope: unknown parameter; parameters of exposure: "),
        ]
        for (assignment, message) in expected {
            XCTAssertThrowsError(try Profile.defaults.applying(overrides: [assignment])) {
                XCTAssertTrue("\($0)".hasPrefix(message), "\($0)")
            }
        }
    }
}

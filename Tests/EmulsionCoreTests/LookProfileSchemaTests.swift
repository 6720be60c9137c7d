import Foundation
import XCTest
@testable import EmulsionCore

/// The look stages' parameters in profile files: defaults are the identity, files and curves
/// validate strictly, and the tools' formatter writes files that read back to the same profile.
final class LookProfileSchemaTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("emulsion-looks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func write(_ name: String, _ text: String) { try! text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8) }
    var loader: ProfileLoader { ProfileLoader(searchDirectories: [directory]) }

    func expectError(_ name: String, keyPath: String, contains texts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try loader.load(name), file: file, line: line) { error in
            guard let e = error as? ProfileError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(e.keyPath, keyPath, "\(e)", file: file, line: line)
            for t in texts { XCTAssertTrue(e.description.contains(t), "\(e) should mention \(t)", file: file, line: line) }
            XCTAssertTrue(e.file.hasSuffix(".json"), "\(e)", file: file, line: line)
            XCTAssertFalse(e.description.contains("\n"), file: file, line: line)
        }
    }

    func testLookStagesAreDeclaredAfterExposureWithDefaults() {
        let names = StageCatalogue.all.map(\.name)
        XCTAssertEqual(Array(names.prefix(4)), ["whiteBalance", "highlights", "demosaic", "exposure"])
        for stage in StageCatalogue.lookStages {
            XCTAssertTrue(names.contains(stage.name))
            for p in stage.parameters {
                if case .number(let range, let d) = p.kind { XCTAssertTrue(range.contains(d), "\(stage.name).\(p.name)") }
                XCTAssertFalse(p.summary.isEmpty)
            }
        }
        XCTAssertEqual(Set(names).count, names.count, "stage names are unique")
    }

    func testLUTFileIsResolvedAgainstTheProfileAndMissingFilesAreNamed() throws {
        write("look.cube", LUT3D.identity(size: 2).cubeText())
        write("withlut.json", #"{"schemaVersion": 1, "name": "l", "lut": {"file": "look.cube", "input": "rec2020"}}"#)
        let p = try loader.load("withlut")
        XCTAssertEqual(p.file("lut", "file"), directory.appendingPathComponent("look.cube").standardizedFileURL.path)
        write("missing.json", #"{"schemaVersion": 1, "name": "m", "lut": {"file": "nope.cube"}}"#)
        expectError("missing", keyPath: "lut.file", contains: ["nope.cube", "no such file", ".cube or .png"])
        write("ext.json", #"{"schemaVersion": 1, "name": "m", "lut": {"file": "look.txt"}}"#)
        expectError("ext", keyPath: "lut.file", contains: ["unsupported extension"])
        write("enc.json", #"{"schemaVersion": 1, "name": "m", "lut": {"input": "log"}}"#)
        expectError("enc", keyPath: "lut.input", contains: ["\"srgb\"", "\"rec2020\""])
        XCTAssertThrowsError(try Profile.defaults.applying(overrides: ["lut.file=/no/such.cube"])) { e in
            XCTAssertTrue("\(e)".hasPrefix("--set: lut.file: /no/such.cube: no such file"), "\(e)")
        }
    }

    func testCurvePointsValidate() throws {
        write("curve.json", #"{"schemaVersion": 1, "name": "c", "tone": {"points": [[0, 0.02], [0.5, 0.5], [1, 1]]}}"#)
        XCTAssertEqual(try loader.load("curve").curve("tone", "points").count, 3)
        write("order.json", #"{"schemaVersion": 1, "name": "c", "tone": {"points": [[0.5, 0], [0.2, 1]]}}"#)
        expectError("order", keyPath: "tone.points", contains: ["x must increase"])
        write("range.json", #"{"schemaVersion": 1, "name": "c", "tone": {"points": [[0, 0], [1, 2]]}}"#)
        expectError("range", keyPath: "tone.points", contains: ["[x, y]"])
        write("type.json", #"{"schemaVersion": 1, "name": "c", "tone": {"points": 3}}"#)
        expectError("type", keyPath: "tone.points", contains: ["got a number"])
        write("tone.json", #"{"schemaVersion": 1, "name": "c", "tone": {"contrast": 9}}"#)
        expectError("tone", keyPath: "tone.contrast", contains: ["out of range", "0.5…3"])
        let p = try Profile.defaults.applying(overrides: ["tone.points=0:0.05,0.5:0.5,1:0.95", "tone.curve=filmic"])
        XCTAssertEqual(p.curve("tone", "points"), [.init(x: 0, y: 0.05), .init(x: 0.5, y: 0.5), .init(x: 1, y: 0.95)])
        XCTAssertThrowsError(try Profile.defaults.applying(overrides: ["tone.points=0:0.05,0.5"]))
        XCTAssertThrowsError(try Profile.defaults.applying(overrides: ["tone.curve=sigmoidal"]))
    }

    /// `ProfileDocument.format` output parses back to the same resolved profile.
    func testFormattedDocumentsReadBack() throws {
        let p = try Profile.defaults.applying(overrides: ["tone.curve=filmic", "tone.contrast=1.35", "hsl.blueHue=-7.5",
                                                          "tone.points=0:0.03,1:0.97", "grain.amount=0.02"])
        let text = ProfileDocument.format(p.document(relativeTo: Profile.defaults))
        XCTAssertTrue(text.contains("\"contrast\": 1.35"), text)
        write("formatted.json", text)
        var back = try loader.load("formatted")
        back.origin = p.origin
        back.name = p.name; back.summary = p.summary
        XCTAssertEqual(back.values, p.values)
    }

    /// Every shipped profile decodes and validates, and neutral sets no look stage.
    func testShippedProfilesValidate() throws {
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Profiles")
        let loader = ProfileLoader(searchDirectories: [shipped])
        let names = loader.availableNames()
        for required in ["neutral", "leica-authentic", "leica-vibrant", "leica-monochrome", "hasselblad-natural", "zeiss-natural",
                         "film-slide", "film-chrome"] {
            XCTAssertTrue(names.contains(required), "Profiles/\(required).json missing")
        }
        for name in names {
            let p = try loader.load(name)
            XCTAssertEqual(p.name, name)
            XCTAssertGreaterThan(p.summary.count, 60, "\(name) needs a description of its intent")
        }
        let neutral = try loader.load("neutral")
        for stage in StageCatalogue.lookStages {
            for param in stage.parameters { XCTAssertEqual(neutral.value(stage.name, param.name), param.defaultValue) }
        }
    }
}

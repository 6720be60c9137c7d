import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// Several looks in one batch (`emulsion process --profile a,b`): each raw is decoded once and
/// rendered through every look, each output exactly what a run with that look alone writes.
final class BatchLooksTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = TestSupport.temporaryDirectory("emulsion-looks") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    static var profiles: ProfileLoader {
        ProfileLoader(searchDirectories: [TestSupport.repositoryRoot.appendingPathComponent("Profiles")])
    }

    func testEachRawIsDecodedOnceForAllItsLooks() throws {
        let samples = TestSupport.samplesDirectory
        let source = samples.appendingPathComponent("lg-g4_h815-lossy_linear.dng")
        guard FileManager.default.fileExists(atPath: source.path) else {
            if TestSupport.inCI { XCTFail("sample missing") }
            throw XCTSkip("sample missing")
        }
        let input = dir.appendingPathComponent("shot.dng")
        try FileManager.default.copyItem(at: source, to: input)
        let names = ["leica-authentic", "film-chrome", "neutral"]
        let looks = try names.map { RenderOptions(profile: try Self.profiles.load($0), threads: 1) }
        let items = try Batch.plan(inputs: [InputFolders.Found(path: input.path)], output: nil, outputDirectory: dir.path,
                                   shard: nil, looks: names)
        XCTAssertEqual(items.map { URL(fileURLWithPath: $0.output).lastPathComponent },
                       ["shot-leica-authentic.png", "shot-film-chrome.png", "shot-neutral.png"])
        XCTAssertEqual(items.map(\.look), [0, 1, 2])
        // After the first look is written the input becomes garbage: a second decode would fail.
        let outcomes = Batch.run(items, looks: looks, overwrite: false, pixelLimit: RawFile.defaultPixelLimit, concurrency: 1) { done, _, _ in
            if done == 1 { try? Data(repeating: 0xAB, count: 4096).write(to: input) }
        }
        for outcome in outcomes {
            guard case .written = outcome else { return XCTFail("\(outcome)") }
        }
        // Each output is the one the look alone renders (one file: `Processor.process`).
        for (item, options) in zip(items, looks) {
            let alone = dir.appendingPathComponent("alone.png").path
            _ = try Processor.process(input: source.path, output: alone, options: options, overwrite: true)
            XCTAssertTrue(try Data(contentsOf: URL(fileURLWithPath: alone)) == Data(contentsOf: URL(fileURLWithPath: item.output)),
                          item.output)
        }
        // A raw that cannot be decoded fails every look with the one error, decoded once: the
        // garbage input now fails, and its second and third looks report the first's message.
        let again = try Batch.plan(inputs: [InputFolders.Found(path: input.path)], output: nil,
                                   outputDirectory: dir.appendingPathComponent("again").path, shard: nil, looks: names)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("again"), withIntermediateDirectories: true)
        var messages: [String] = []
        for outcome in Batch.run(again, looks: looks, overwrite: false, pixelLimit: RawFile.defaultPixelLimit, concurrency: 1,
                                 progress: { done, _, _ in if done == 1 { try? Data().write(to: input) } }) {
            guard case .failed(_, let message) = outcome else { return XCTFail("\(outcome)") }
            messages.append(message)
        }
        XCTAssertEqual(messages.count, 3)
        XCTAssertEqual(Set(messages).count, 1, "\(messages)")
        XCTAssertFalse(messages[0].contains("empty"), "the input was emptied after the first look: decoded again")
        // One output file for several looks cannot be named.
        XCTAssertThrowsError(try Batch.plan(inputs: [InputFolders.Found(path: input.path)], output: dir.appendingPathComponent("x.png").path,
                                            outputDirectory: nil, shard: nil, looks: names))
    }
}

import EmulsionCore
import EmulsionTestSupport
import Foundation
import XCTest

extension XCTestCase {
    /// The `emulsion` binary the decode worker runs (`swift build` builds it): missing fails the
    /// test in CI and skips it elsewhere.
    func builtEmulsionBinary() throws -> String {
        let binary = TestSupport.emulsionBinary
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            if TestSupport.inCI { XCTFail("emulsion binary not built at \(binary)") }
            throw XCTSkip("emulsion binary not built at \(binary)")
        }
        return binary
    }

    /// Every field a worker's wire carries, equal to the in-process decode's.
    func assertSameImage(_ image: RawImage, _ reference: RawImage, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(image.width, reference.width, name, file: file, line: line)
        XCTAssertEqual(image.height, reference.height, name, file: file, line: line)
        XCTAssertEqual(image.layout, reference.layout, name, file: file, line: line)
        XCTAssertTrue(image.samples == reference.samples, "\(name): samples differ", file: file, line: line)
        XCTAssertEqual(image.levels, reference.levels, name, file: file, line: line)
        XCTAssertEqual(image.colour, reference.colour, name, file: file, line: line)
        XCTAssertEqual(image.metadata, reference.metadata, name, file: file, line: line)
        XCTAssertEqual(image.lensShading?.maps, reference.lensShading?.maps, name, file: file, line: line)
        XCTAssertEqual(image.lensShading.map { [$0.offsetX, $0.offsetY, $0.imageWidth, $0.imageHeight] },
                       reference.lensShading.map { [$0.offsetX, $0.offsetY, $0.imageWidth, $0.imageHeight] }, name, file: file, line: line)
    }

    /// A file a fast path declined, decoded through the worker, ends as LibRaw alone ends it: the
    /// same samples, or the same error.
    func assertSameOutcome(_ got: Result<RawImage, any Error>, asLibRaw expected: Result<RawImage, any Error>,
                           file: StaticString = #filePath, line: UInt = #line) {
        switch (got, expected) {
        case (.success(let got), .success(let expected)): XCTAssertTrue(got.samples == expected.samples, file: file, line: line)
        case (.failure(let got), .failure(let expected)): XCTAssertEqual("\(got)", "\(expected)", file: file, line: line)
        case (let got, let expected): XCTFail("through the worker \(got), LibRaw alone \(expected)", file: file, line: line)
        }
    }
}

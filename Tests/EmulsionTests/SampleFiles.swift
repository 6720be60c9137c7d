import EmulsionTestSupport
import Foundation
import XCTest

extension XCTestCase {
    /// The path of the real sample `name` (`../shared/raw-samples`, or `$EMULSION_SAMPLES`): a
    /// missing one fails the test in CI and skips it elsewhere.
    func sample(_ name: String) throws -> String {
        let path = TestSupport.samplesDirectory.appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: path) else {
            if TestSupport.inCI { XCTFail("sample \(name) missing") }
            throw XCTSkip("sample \(name) missing")
        }
        return path
    }

    /// The path of the peer tool `name` (darktable-cli, rawtherapee-cli, exiftool…): a missing one
    /// fails the test in CI and skips it elsewhere.
    func tool(_ name: String) throws -> String {
        if let path = TestSupport.which(name) { return path }
        if TestSupport.inCI { XCTFail("\(name) is required in CI (.ci/setup --tests installs it)") }
        throw XCTSkip("\(name) not installed")
    }
}

import EmulsionTestSupport
import Foundation
import XCTest

/// What the output-format tests share: a scratch folder, the built CLI, and the independent
/// tools (ExifTool, ImageMagick) that CI installs and a local run may lack.
class OutputFileTestCase: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = TestSupport.temporaryDirectory("emulsion-output") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func emulsion(_ arguments: [String]) throws -> TestSupport.RunResult {
        guard FileManager.default.isExecutableFile(atPath: TestSupport.emulsionBinary) else {
            if TestSupport.inCI { XCTFail("emulsion binary not built") }
            throw XCTSkip("emulsion binary not built")
        }
        return try TestSupport.run(TestSupport.emulsionBinary, arguments,
                                   environment: ["EMULSION_PROFILES": TestSupport.repositoryRoot.appendingPathComponent("Profiles").path])
    }
}

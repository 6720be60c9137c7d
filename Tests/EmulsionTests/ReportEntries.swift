import Foundation
import XCTest

extension XCTestCase {
    /// The entries of the `--report` JSON at `path` (`BatchReport`: an array of objects).
    func reportEntries(_ path: String) throws -> [[String: Any]] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [[String: Any]], "a report at \(path)")
    }
}

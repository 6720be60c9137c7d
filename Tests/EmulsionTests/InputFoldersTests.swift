import Emulsion
import EmulsionTestSupport
import Foundation
import XCTest

/// How `InputFolders.expand` walks a tree when a subfolder cannot be listed: the rest of the tree
/// is still found, the folder is named with its reason, and a named folder that cannot be listed
/// (or yields nothing but unlistable subfolders) is an error naming it. The listing is injected,
/// so the failures do not depend on who runs the tests (root lists a mode-000 folder);
/// CLITests.testAnUnlistableSubfolderIsReportedAndTheRestRendered covers the file system's own.
final class InputFoldersTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = TestSupport.temporaryDirectory("emulsion-folders") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func make(_ paths: [String]) throws {
        for path in paths {
            let url = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("raw".utf8).write(to: url)
        }
    }

    /// The file system's listing, except that `denied` folders fail as EACCES does.
    private func listing(denying denied: Set<String>) -> (String) throws -> [String] {
        return { folder in
            if denied.contains(folder) { throw POSIXError(.EACCES) }
            return try FileManager.default.contentsOfDirectory(atPath: folder)
        }
    }

    func testAnUnlistableSubfolderIsReturnedAndTheWalkGoesOn() throws {
        try make(["card/a.dng", "card/100A/b.dng", "card/101B/c.dng", "card/101B/deep/d.dng", "card/102C/e.NEF"])
        let card = dir.appendingPathComponent("card").path
        let denied = card + "/101B"
        let found = try InputFolders.expand([card], recursive: true, listing: listing(denying: [denied]))
        XCTAssertEqual(found.files.map { URL(fileURLWithPath: $0.path).lastPathComponent }, ["a.dng", "b.dng", "e.NEF"])
        XCTAssertEqual(found.files.map(\.subfolder), ["", "100A", "102C"])
        XCTAssertEqual(found.unlisted, [InputFolders.Unlisted(folder: denied, reason: "Permission denied")])
        XCTAssertEqual(found.unlisted[0].message, "\(denied): cannot list this folder: Permission denied")
        // Without --recursive no subfolder is listed, so none can fail.
        let flat = try InputFolders.expand([card], listing: listing(denying: [denied]))
        XCTAssertEqual(flat.paths, [card + "/a.dng"])
        XCTAssertEqual(flat.unlisted, [])
        // Everything listable: nothing unlisted, every file found, in name order.
        XCTAssertEqual(try InputFolders.expand([card], recursive: true).files.count, 5)
    }

    func testANamedFolderThatCannotBeListedOrYieldsNothingIsAnError() throws {
        try make(["card/100A/b.dng", "card/101B/c.dng"])
        let card = dir.appendingPathComponent("card").path
        XCTAssertThrowsError(try InputFolders.expand([card], recursive: true, listing: listing(denying: [card]))) {
            XCTAssertEqual("\($0)", "\(card): cannot list this folder: Permission denied")
        }
        // Every subfolder unlistable: no file found, and the error says why.
        XCTAssertThrowsError(try InputFolders.expand([card], recursive: true,
                                                     listing: listing(denying: [card + "/100A", card + "/101B"]))) {
            XCTAssertEqual("\($0)", "\(card): a folder with no raw files in it or in the subfolders that could be listed "
                           + "(\(card)/100A: cannot list this folder: Permission denied, and 1 more)")
        }
    }
}

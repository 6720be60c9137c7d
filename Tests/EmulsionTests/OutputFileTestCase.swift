import EmulsionCore
import EmulsionTestSupport
import Foundation
import XCTest

/// What the output-format tests share: a scratch folder, the built CLI, and the independent
/// tools (ExifTool, ImageMagick) that CI installs and a local run may lack, and where a stored
/// rectangle lands upright.
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

    /// Where stored rectangle `r` of a `width` × `height` stored image lands upright (EXIF 2.32
    /// Orientation: 6 turns the stored image 90° clockwise, so stored (x, y) is upright (H−1−y, x)).
    func upright(_ r: ImageRectangle, _ o: Orientation, width w: Int, height h: Int) -> ImageRectangle {
        switch o {
        case .normal: return r
        case .mirrorHorizontal: return ImageRectangle(x: w - r.x - r.width, y: r.y, width: r.width, height: r.height)
        case .rotate180: return ImageRectangle(x: w - r.x - r.width, y: h - r.y - r.height, width: r.width, height: r.height)
        case .mirrorVertical: return ImageRectangle(x: r.x, y: h - r.y - r.height, width: r.width, height: r.height)
        case .transpose: return ImageRectangle(x: r.y, y: r.x, width: r.height, height: r.width)
        case .rotate90Clockwise: return ImageRectangle(x: h - r.y - r.height, y: r.x, width: r.height, height: r.width)
        case .transverse: return ImageRectangle(x: h - r.y - r.height, y: w - r.x - r.width, width: r.height, height: r.width)
        case .rotate90CounterClockwise: return ImageRectangle(x: r.y, y: w - r.x - r.width, width: r.height, height: r.width)
        }
    }
}

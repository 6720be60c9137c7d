import Emulsion
import EmulsionCore
import EmulsionTestSupport
import Foundation
import XCTest

/// What the output-format tests share: a scratch folder, the built CLI, and the independent
/// tools (ExifTool, ImageMagick) that CI installs and a local run may lack, where a stored
/// rectangle lands upright, and how far a turned render is from the normal one.
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

    /// A textured linear (three-channel) raw, no two neighbours alike: for renders compared
    /// across orientations.
    func texturedLinearRaw(width w: Int, height h: Int) -> RawImage {
        var samples = [UInt16](repeating: 0, count: 3 * w * h)
        for y in 0..<h { for x in 0..<w { for c in 0..<3 {
            let v = 0.45 + 0.2 * sin(Double(x) / Double(5 + c)) + 0.2 * cos(Double(y) / 4 + Double(x) / 9)
            samples[3 * (y * w + x) + c] = UInt16(v * 60000)
        } } }
        return RawImage(width: w, height: h, layout: .rgb, samples: samples, levels: SensorLevels(black: 0, white: 65535),
                        colour: CameraColour(asShotMultipliers: .one), metadata: ShotMetadata())
    }

    /// The largest difference, in output codes, between `normal` (a render of a `width` ×
    /// `height` stored raw with no orientation) and `turned` (the same raw rendered upright
    /// through `orientation`), pixel for pixel where each stored pixel lands.
    func worstDifference(_ turned: RenderedImage, _ normal: RenderedImage, _ orientation: Orientation, width w: Int, height h: Int) -> Int {
        var worst = 0
        for y in 0..<h { for x in 0..<w {
            let u = upright(ImageRectangle(x: x, y: y, width: 1, height: 1), orientation, width: w, height: h)
            for c in 0..<3 {
                let a = Int(turned.samples[3 * (u.y * turned.width + u.x) + c]), b = Int(normal.samples[3 * (y * w + x) + c])
                worst = max(worst, abs(a - b))
            }
        } }
        return worst
    }
}

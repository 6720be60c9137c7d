import EmulsionCore
@testable import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The JPEG reader against ImageMagick's own decode of the same files (its libjpeg through its
/// own code): the same RGB samples exactly and the same ICC profile, for baseline, progressive,
/// subsampled and grey files; damaged and CMYK files refused in one line.
final class JPEGReaderTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = TestSupport.temporaryDirectory("emulsion-jpeg-reader") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testReadsWhatImageMagickReads() throws {
        guard let convert = TestSupport.which("convert") else {
            if TestSupport.inCI { XCTFail("ImageMagick's convert missing") }
            throw XCTSkip("ImageMagick missing")
        }
        var generator = SplitMix64(seed: 3)
        let (w, h) = (61, 37)
        var samples: [UInt16] = []
        for y in 0..<h { for x in 0..<w { for c in 0..<3 {
            samples.append(y % 4 == 0 ? UInt16(generator.next() % 256) : UInt16((x * 4 + y * 2 + c * 40) % 256))
        } } }
        let icc = try OutputSpace.displayP3.iccProfile()
        let source = dir.appendingPathComponent("source.png").path
        try PNGFile.write(PNGImage(width: w, height: h, bitDepth: 8, channels: 3, samples: samples, iccProfile: icc), to: source)
        for (name, options) in [("baseline", ["-quality", "95", "-sampling-factor", "1x1"]), ("subsampled", ["-quality", "80", "-sampling-factor", "2x2"]),
                                ("progressive", ["-interlace", "JPEG"]), ("grey", ["-colorspace", "Gray"])] {
            let jpeg = dir.appendingPathComponent("\(name).jpg").path, decoded = dir.appendingPathComponent("\(name)-im.png").path
            XCTAssertEqual(try TestSupport.run(convert, [source] + options + [jpeg]).status, 0)
            XCTAssertEqual(try TestSupport.run(convert, [jpeg, "-type", "TrueColor", "PNG24:" + decoded]).status, 0)
            let ours = try JPEGReader.read(path: jpeg), theirs = try PNGFile.read(path: decoded)
            XCTAssertEqual(ours.width, w, name); XCTAssertEqual(ours.height, h, name); XCTAssertEqual(ours.bitDepth, 8, name)
            XCTAssertTrue(ours.samples == theirs.samples, "\(name): samples differ from ImageMagick's decode")
            if name != "grey" { XCTAssertEqual(ours.iccProfile, icc, name) }
        }
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.appendingPathComponent("baseline.jpg").path)))
        XCTAssertThrowsError(try JPEGReader.decode(Array(good.prefix(good.count * 2 / 3)))) {
            XCTAssertTrue("\($0)".contains("Premature end of JPEG file"), "\($0)")
        }
        let cmyk = dir.appendingPathComponent("cmyk.jpg").path
        XCTAssertEqual(try TestSupport.run(convert, [source, "-colorspace", "CMYK", cmyk]).status, 0)
        XCTAssertThrowsError(try JPEGReader.read(path: cmyk)) { XCTAssertEqual("\($0)", "\(cmyk): CMYK JPEGs are not supported (RGB or grey only)") }
        XCTAssertThrowsError(try JPEGReader.read(path: dir.appendingPathComponent("missing.jpg").path)) {
            XCTAssertTrue("\($0)".hasSuffix("missing.jpg: no such file"), "\($0)")
        }
    }
}

import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// `--crop` and `--aspect` (`OutputCrop`, `CroppedSource`).
///
/// References: the full render itself — a crop under a look with no position-dependent stage
/// must be exactly (bitwise) that window of the full-size output, in every orientation and with
/// non-square pixels, since the same rows are demosaiced from the same whole-sensor white
/// balance; a vignette must be centred on the crop, checked by the symmetry of a flat field; the
/// aspect rectangles by arithmetic written out in the test.
final class CropTests: OutputFileTestCase {
    /// Rows `y ..< y + height`, columns `x ..< x + width` of an RGB image `imageWidth` wide.
    static func window(_ samples: [UInt16], imageWidth: Int, x: Int, y: Int, width: Int, height: Int) -> [UInt16] {
        var out: [UInt16] = []
        for row in y..<(y + height) {
            let start = 3 * (row * imageWidth + x)
            out += samples[start..<(start + 3 * width)]
        }
        return out
    }

    func window(_ image: RenderedImage, x: Int, y: Int, width: Int, height: Int) -> [UInt16] {
        Self.window(image.samples, imageWidth: image.width, x: x, y: y, width: width, height: height)
    }

    func testACropIsItsWindowOfTheFullRenderInEveryOrientation() throws {
        var raw = ChartReport.chartScene.raw
        let rects = [(0, 0, 17, 9), (31, 14, 64, 40), (5, 7, 1, 1)]
        for orientation in Orientation.allCases {
            raw.metadata.orientation = orientation
            for engine in [Engine.simd, .scalar] {
                let options = RenderOptions(engine: engine, threads: 2)
                let full = try Renderer.render(raw, options: options)
                for (x, y, w, h) in rects + [(full.width - 23, full.height - 11, 23, 11)] {
                    var cropped = options
                    cropped.crop = .rectangle(x: x, y: y, width: w, height: h)
                    let part = try Renderer.render(raw, options: cropped)
                    XCTAssertEqual([part.width, part.height], [w, h])
                    XCTAssertTrue(part.samples == window(full, x: x, y: y, width: w, height: h), "\(orientation) \(engine) \((x, y, w, h))")
                }
            }
        }
        // Non-square photosites (the D1X's rows are stretched 2×): the crop is of the stretched picture.
        let nef = try RawFile.read(path: try sample("nikon-d1x-lossy.nef"))
        let full = try Renderer.render(nef, options: RenderOptions())
        var options = RenderOptions()
        options.crop = .rectangle(x: 100, y: 333, width: 250, height: 101)
        XCTAssertTrue(try Renderer.render(nef, options: options).samples == window(full, x: 100, y: 333, width: 250, height: 101))
    }

    /// A flat grey field through a vignette, cropped off-centre: the output is symmetric about the
    /// crop's centre (left–right and top–bottom), so the fall-off is the crop's, not the frame's,
    /// and the corners are darker than the centre.
    func testAVignetteIsCentredOnTheCrop() throws {
        var raw = ChartReport.chartScene.raw
        raw.samples = [UInt16](repeating: UInt16(raw.levels.white * 0.2), count: raw.samples.count)
        var options = RenderOptions(profile: try Profile.defaults.applying(overrides: ["vignette.amount=-1.5"]))
        options.crop = .rectangle(x: 3, y: 2, width: 60, height: 40)
        let image = try Renderer.render(raw, options: options)
        func at(_ x: Int, _ y: Int) -> SIMD3<Int> {
            let k = 3 * (y * image.width + x)
            return SIMD3(Int(image.samples[k]), Int(image.samples[k + 1]), Int(image.samples[k + 2]))
        }
        for (x, y) in [(0, 0), (5, 3), (12, 30), (29, 19)] {
            let mirrors = [at(image.width - 1 - x, y), at(x, image.height - 1 - y), at(image.width - 1 - x, image.height - 1 - y)]
            // One 16-bit code: the kernel's float distance of mirrored pixels may round apart.
            let here = at(x, y)
            for m in mirrors {
                let difference = m &- here
                XCTAssertLessThanOrEqual(max(abs(difference.x), abs(difference.y), abs(difference.z)), 1, "(\(x), \(y))")
            }
        }
        XCTAssertLessThan(at(0, 0).x, at(30, 20).x - 1000, "corners darker than the centre")
        // The same window of the uncropped render is not symmetric: the test tells the two apart.
        options.crop = nil
        let full = try Renderer.render(raw, options: options)
        let framed = window(full, x: 3, y: 2, width: 60, height: 40)
        XCTAssertGreaterThan(abs(Int(framed[0]) - Int(framed[3 * 59])), 100, "the frame's vignette seen through the window")
    }

    func testAspectRectanglesFollowThePicture() throws {
        func rect(_ crop: OutputCrop, _ w: Int, _ h: Int) throws -> [Int] {
            let r = try crop.rectangle(inWidth: w, height: h)
            return [r.x, r.y, r.width, r.height]
        }
        // 4000 × 3000 at 16:9: full width, 4000 · 9 / 16 = 2250 rows, (3000 − 2250) / 2 = 375 above.
        XCTAssertEqual(try rect(.aspect(16, 9), 4000, 3000), [0, 375, 4000, 2250])
        // The same setting on a portrait picture is 9:16; written 9:16 it is the same.
        XCTAssertEqual(try rect(.aspect(16, 9), 3000, 4000), [375, 0, 2250, 4000])
        XCTAssertEqual(try rect(.aspect(9, 16), 4000, 3000), [0, 375, 4000, 2250])
        XCTAssertEqual(try rect(.aspect(1, 1), 4000, 3000), [500, 0, 3000, 3000])
        // 2.39:1 on 6000 × 4000: 6000 / 2.39 = 2510.46 → 2510 rows, 745 above.
        XCTAssertEqual(try rect(.aspect(2.39, 1), 6000, 4000), [0, 745, 6000, 2510])
        // The picture's own shape leaves it whole; a square picture takes a landscape crop.
        XCTAssertEqual(try rect(.aspect(4, 3), 4000, 3000), [0, 0, 4000, 3000])
        XCTAssertEqual(try rect(.aspect(3, 2), 900, 900), [0, 150, 900, 600])
        XCTAssertThrowsError(try rect(.rectangle(x: 1, y: 0, width: 4000, height: 10), 4000, 3000)) {
            XCTAssertEqual("\($0)", "--crop 1,0,4000,10: the rectangle reaches past the 4000×3000 picture")
        }
        // Sides and corners as large as an Int holds are refused, not summed past its range.
        for (x, y, w, h) in [(Int.max, 0, 1, 1), (0, Int.max, 1, Int.max), (0, 0, Int.max, 1), (1, 1, 4000, 3000)] {
            XCTAssertThrowsError(try rect(.rectangle(x: x, y: y, width: w, height: h), 4000, 3000), "\((x, y, w, h))")
        }
        for bad in ["16", "16:0", "a:b", "-1:2", "1:1000", "inf:1"] {
            XCTAssertThrowsError(try OutputCrop(parsingAspect: bad), bad)
        }
        for bad in ["1,2,3", "0,0,0,5", "-1,0,5,5", "1,2,3,x"] {
            XCTAssertThrowsError(try OutputCrop(parsingRectangle: bad), bad)
        }
    }

    /// From the command line: a crop of a portrait phone capture is its window of the full output,
    /// `--max-size` fits the crop, the Exif says the size written, a crop past the picture fails
    /// that file alone, and `--crop` with `--aspect` is a usage error.
    func testCropFromTheCommandLine() throws {
        let exiftool = try tool("exiftool")
        let input = try sample("google-pixel_7-digizoom_crop.dng")  // stored on its side (orientation 8)
        let full = dir.appendingPathComponent("full.png").path, part = dir.appendingPathComponent("part.png").path
        var r = try emulsion(["process", input, "-o", full])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try emulsion(["process", input, "-o", part, "--crop", "40,300,200,120"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let whole = try PNGFile.read(path: full), piece = try PNGFile.read(path: part)
        XCTAssertEqual([piece.width, piece.height], [200, 120])
        let expected = Self.window(whole.samples, imageWidth: whole.width, x: 40, y: 300, width: 200, height: 120)
        XCTAssertTrue(piece.samples == expected)
        let square = dir.appendingPathComponent("square.jpg").path
        r = try emulsion(["process", input, "-o", square, "--aspect", "1:1", "--max-size", "100"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try TestSupport.run(exiftool, ["-s3", "-ImageSize", "-ExifImageWidth", "-ExifImageHeight", square]).stdout, "100x100\n100\n100\n")
        r = try emulsion(["process", input, "-o", dir.appendingPathComponent("past.png").path, "--crop", "300,0,100,10"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr, "emulsion: \(input): --crop 300,0,100,10: the rectangle reaches past the 366×494 picture\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("past.png").path))
        r = try emulsion(["process", input, "-o", dir.appendingPathComponent("huge.png").path, "--crop", "9223372036854775807,0,1,1"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.hasSuffix("the rectangle reaches past the 366×494 picture\n"), r.stderr)
        r = try emulsion(["process", input, "-o", part, "--crop", "0,0,1,1", "--aspect", "1:1"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("use either --crop or --aspect, not both"), r.stderr)
    }
}

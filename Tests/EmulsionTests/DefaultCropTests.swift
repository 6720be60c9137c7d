import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The picture area a DNG marks (DefaultCropOrigin / DefaultCropSize, `DNGDefaultCrop`), rendered
/// as darktable and Adobe's DNG SDK render it: only that area; and within it the user crop
/// (DefaultUserCrop).
///
/// References: the tags as ExifTool reads them from every sample DNG (an independent reader);
/// the DNG 1.6 specification for their meaning (origin relative to the ActiveArea's corner, in
/// stored raw pixels); and, for the pixels, the render with `crop.dngDefault=false` itself — the
/// marked area must be exactly (bitwise) its window, in every orientation, since the same rows
/// are demosaiced from the same white balance. Where that window lies in the upright output is
/// written out per orientation from the EXIF definitions, not taken from the renderer's own maps.
final class DefaultCropTests: OutputFileTestCase {
    func testTheMarkedAreaIsItsWindowOfTheWholeRenderInEveryOrientation() throws {
        var raw = ChartReport.chartScene.raw
        // Margins of 6, 3, 2 and 5 pixels: no two alike, so a mirrored or swapped window shows.
        let marked = ImageRectangle(x: 6, y: 2, width: raw.width - 9, height: raw.height - 7)
        raw.metadata.defaultCrop = marked
        let whole = RenderOptions(profile: try Profile.defaults.applying(overrides: ["crop.dngDefault=false"]), threads: 2)
        for orientation in Orientation.allCases {
            raw.metadata.orientation = orientation
            let full = try Renderer.render(raw, options: whole)
            let picture = try Renderer.render(raw, options: RenderOptions(threads: 2))
            let r = upright(marked, orientation, width: raw.width, height: raw.height)
            XCTAssertEqual([picture.width, picture.height], [r.width, r.height], "\(orientation)")
            XCTAssertTrue(picture.samples == CropTests.window(full.samples, imageWidth: full.width, x: r.x, y: r.y, width: r.width, height: r.height),
                          "\(orientation): the marked area at \(r)")
            // --crop is of the picture: its rectangle is counted from the marked area's corner.
            var cropped = RenderOptions(threads: 2)
            cropped.crop = .rectangle(x: 3, y: 1, width: 20, height: 10)
            let part = try Renderer.render(raw, options: cropped)
            XCTAssertTrue(part.samples == CropTests.window(full.samples, imageWidth: full.width, x: r.x + 3, y: r.y + 1, width: 20, height: 10),
                          "\(orientation): --crop inside the marked area")
            // A spot white balance in output pixels of the picture reads the same photosites as
            // the same spot, moved by the margins, in output pixels of the whole area.
            func spot(_ x: Int, _ y: Int, _ overrides: [String]) throws -> RenderedImage {
                try Renderer.render(raw, options: RenderOptions(profile: try Profile.defaults.applying(overrides: overrides + [
                    "whiteBalance.mode=spot", "whiteBalance.spotX=\(x)", "whiteBalance.spotY=\(y)",
                    "whiteBalance.spotWidth=7", "whiteBalance.spotHeight=5"]), threads: 2))
            }
            let spotted = try spot(10, 12, [])
            let spottedWhole = try spot(10 + r.x, 12 + r.y, ["crop.dngDefault=false"])
            XCTAssertTrue(spotted.samples == CropTests.window(spottedWhole.samples, imageWidth: spottedWhole.width, x: r.x, y: r.y,
                                                              width: r.width, height: r.height), "\(orientation): spot white balance")
        }
    }

    /// DefaultUserCrop (DNG 1.6: the aspect a phone was set to) within the default crop: the
    /// render is its window of the whole render in every orientation; `crop.dngUser=false` gives
    /// the default crop's window, both flags off the whole area.
    func testTheUserCropIsRenderedWithinTheDefaultCrop() throws {
        var raw = ChartReport.chartScene.raw
        let marked = ImageRectangle(x: 6, y: 2, width: raw.width - 9, height: raw.height - 7)
        let chosen = ImageRectangle(x: 11, y: 4, width: raw.width - 30, height: raw.height - 17)
        (raw.metadata.defaultCrop, raw.metadata.userCrop) = (marked, chosen)
        func options(_ overrides: [String]) throws -> RenderOptions {
            RenderOptions(profile: try Profile.defaults.applying(overrides: overrides), threads: 2)
        }
        for orientation in Orientation.allCases {
            raw.metadata.orientation = orientation
            let full = try Renderer.render(raw, options: try options(["crop.dngDefault=false", "crop.dngUser=false"]))
            for (overrides, area) in [([String](), chosen), (["crop.dngUser=false"], marked)] {
                let image = try Renderer.render(raw, options: try options(overrides))
                let r = upright(area, orientation, width: raw.width, height: raw.height)
                XCTAssertEqual([image.width, image.height], [r.width, r.height], "\(orientation) \(overrides)")
                XCTAssertTrue(image.samples == CropTests.window(full.samples, imageWidth: full.width, x: r.x, y: r.y, width: r.width, height: r.height),
                              "\(orientation) \(overrides): the window at \(r)")
            }
        }
    }

    /// A piece cut from a raw (`RawImage.cropped`, the benchmark's crops) carries the part of the
    /// marked area inside it, counted from its own corner; none when the piece lies inside it.
    func testAPieceOfARawKeepsItsPartOfTheMarkedArea() {
        var raw = ChartReport.chartScene.raw
        raw.metadata.defaultCrop = ImageRectangle(x: 6, y: 2, width: raw.width - 9, height: raw.height - 7)
        XCTAssertEqual(raw.cropped(x: 4, y: 1, width: 20, height: 10).metadata.defaultCrop, ImageRectangle(x: 2, y: 1, width: 18, height: 9))
        XCTAssertNil(raw.cropped(x: 10, y: 10, width: 20, height: 10).metadata.defaultCrop)
        raw.metadata.userCrop = ImageRectangle(x: 12, y: 8, width: 10, height: 10)
        XCTAssertEqual(raw.cropped(x: 10, y: 10, width: 20, height: 10).metadata.userCrop, ImageRectangle(x: 2, y: 0, width: 10, height: 8))
    }

    /// Non-square photosites: the marked area is stretched with the picture (rows doubled at
    /// aspect 0.5, as the Nikon D1X's).
    func testTheMarkedAreaStretchesWithNonSquarePixels() throws {
        var raw = ChartReport.chartScene.raw
        raw.metadata.pixelAspect = 0.5
        raw.metadata.defaultCrop = ImageRectangle(x: 4, y: 3, width: raw.width - 10, height: raw.height - 8)
        let full = try Renderer.render(raw, options: RenderOptions(profile: try Profile.defaults.applying(overrides: ["crop.dngDefault=false"])))
        let picture = try Renderer.render(raw, options: RenderOptions())
        XCTAssertEqual([full.width, full.height], [raw.width, 2 * raw.height])
        XCTAssertEqual([picture.width, picture.height], [raw.width - 10, 2 * (raw.height - 8)])
        XCTAssertTrue(picture.samples == CropTests.window(full.samples, imageWidth: full.width, x: 4, y: 6, width: raw.width - 10,
                                                          height: 2 * (raw.height - 8)))
    }

    /// Every sample DNG's marked area as ExifTool reads the tags (relative to the ActiveArea,
    /// which for these files is LibRaw's visible area too); nil where it is the whole area.
    func testSampleDNGsAgreeWithExifTool() throws {
        let exiftool = try tool("exiftool")
        let names = try FileManager.default.contentsOfDirectory(atPath: TestSupport.samplesDirectory.path).filter { $0.hasSuffix(".dng") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 7)
        var marked: [String: ImageRectangle] = [:]
        for name in names {
            let path = try sample(name)
            let r = try TestSupport.run(exiftool, ["-j", "-n", "-DefaultCropOrigin", "-DefaultCropSize", path])
            let tags = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])?.first)
            let raw = try RawFile.read(path: path)
            func pair(_ key: String) -> [Int]? {
                (tags[key] as? String).map { $0.split(separator: " ").compactMap { Double($0).map { Int($0.rounded()) } } }
            }
            var expected: ImageRectangle?
            if let size = pair("DefaultCropSize") {
                let origin = pair("DefaultCropOrigin") ?? [0, 0]
                let r = ImageRectangle(x: origin[0], y: origin[1], width: size[0], height: size[1])
                if r != ImageRectangle(x: 0, y: 0, width: raw.width, height: raw.height) { expected = r }
            }
            XCTAssertEqual(raw.metadata.defaultCrop, expected, name)
            if let expected { marked[name] = expected }
        }
        // The three that mark a smaller picture, as darktable renders them (366×494 for the Pixel).
        XCTAssertEqual(marked["google-pixel_7-digizoom_crop.dng"], ImageRectangle(x: 8, y: 8, width: 494, height: 366))
        XCTAssertEqual(marked["blackmagic-pocket_cinema_camera-frame.dng"], ImageRectangle(x: 16, y: 16, width: 1920, height: 1080))
        XCTAssertEqual(marked["blackmagic-pocket_cinema_camera_4k-frame.dng"], ImageRectangle(x: 16, y: 8, width: 4096, height: 2160))
    }

    /// Through the CLI and its decode worker (the crop crosses the worker's protocol): the Pixel
    /// renders 366×494 — the whole render's window at (8, 8) — `info` says so, and
    /// `crop.dngDefault=false` keeps the margins. A DNG written with a marked area reads back.
    func testTheCommandLineRendersThePictureArea() throws {
        let input = try sample("google-pixel_7-digizoom_crop.dng")
        let picture = dir.appendingPathComponent("picture.png").path, whole = dir.appendingPathComponent("whole.png").path
        XCTAssertEqual(try emulsion(["process", input, "-o", picture]).status, 0)
        XCTAssertEqual(try emulsion(["process", input, "-o", whole, "--set", "crop.dngDefault=false"]).status, 0)
        let a = try PNGFile.read(path: picture), b = try PNGFile.read(path: whole)
        XCTAssertEqual([a.width, a.height, b.width, b.height], [366, 494, 382, 510])
        XCTAssertTrue(a.samples == CropTests.window(b.samples, imageWidth: b.width, x: 8, y: 8, width: 366, height: 494))
        let info = try emulsion(["info", input])
        XCTAssertTrue(info.stdout.contains("Default crop:    494×366 at (8, 8) of the visible area"), info.stdout)
        XCTAssertTrue(info.stdout.contains("Output size:     366×494 "), info.stdout)

        // Both tags through a file: DefaultUserCrop's fractions of the default crop (top 0.1,
        // left 0.125, bottom 0.6, right 0.625 of 40×30 from (5, 1)) read back as the rectangle.
        var raw = ChartReport.chartScene.raw
        raw.metadata.defaultCrop = ImageRectangle(x: 5, y: 1, width: 40, height: 30)
        raw.metadata.userCrop = ImageRectangle(x: 10, y: 4, width: 20, height: 15)
        let dng = dir.appendingPathComponent("marked.dng")
        try DNGWriter.write(raw, to: dng)
        let back = try RawFile.read(path: dng.path).metadata
        XCTAssertEqual(back.defaultCrop, raw.metadata.defaultCrop)
        XCTAssertEqual(back.userCrop, raw.metadata.userCrop)
        for (overrides, size) in [([String](), [20, 15]), (["--set", "crop.dngUser=false"], [40, 30])] {
            let out = dir.appendingPathComponent("marked-\(size[0]).png").path
            XCTAssertEqual(try emulsion(["process", dng.path, "-o", out] + overrides).status, 0)
            let marked = try PNGFile.read(path: out)
            XCTAssertEqual([marked.width, marked.height], size, "\(overrides)")
        }
        XCTAssertTrue(try emulsion(["info", dng.path]).stdout.contains("User crop:       20×15 at (10, 4) of the visible area"))
    }
}

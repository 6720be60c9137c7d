import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// JPEG output (`--format jpeg`, `-o NAME.jpg`; `JPEGRender`, `JPEGFile`).
///
/// References: ExifTool (Phil Harvey) validates the file and reads its ICC profile, Exif and
/// comment; ImageMagick decodes it (its own libjpeg decode, not our encoder) for the pixels, which
/// are held to the 8-bit PNG of the same render. Tolerance: PSNR ≥ 40 dB at the default quality
/// 92 with 4:4:4 chroma (JPEG's quantisation is the only difference; measured 42–46 dB on the
/// samples below), ≥ 30 dB at quality 60 with 4:2:0.
final class JPEGOutputTests: OutputFileTestCase {
    /// 8-bit RGB of any image file, decoded by ImageMagick.
    func decoded(_ path: String) throws -> (width: Int, height: Int, samples: [UInt8]) {
        let convert = try tool("convert"), identify = try tool("identify")
        let size = try TestSupport.run(identify, ["-format", "%w %h", path]).stdout.split(separator: " ").compactMap { Int($0) }
        let out = dir.appendingPathComponent("decoded.rgb").path
        let r = try TestSupport.run(convert, [path, "-depth", "8", "rgb:\(out)"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return (size[0], size[1], [UInt8](try Data(contentsOf: URL(fileURLWithPath: out))))
    }

    func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
        precondition(a.count == b.count)
        let mse = zip(a, b).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1), 2) } / Double(a.count)
        return 10 * log10(255 * 255 / max(mse, 1e-12))
    }

    func testJPEGHoldsTheRenderItsProfileExifAndRecipe() throws {
        let exiftool = try tool("exiftool")
        let input = try sample("canon-eos_kiss_x4-colorchart_crop.dng")
        let jpeg = dir.appendingPathComponent("shot.jpg").path, png = dir.appendingPathComponent("shot.png").path
        var r = try emulsion(["process", input, "-o", jpeg, "--profile", "leica-authentic", "--set", "exposure.ev=0.2", "--max-size", "800"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("800×533, 8-bit srgb"), r.stdout)
        r = try emulsion(["process", input, "-o", png, "--profile", "leica-authentic", "--set", "exposure.ev=0.2", "--max-size", "800", "--bits", "8"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let a = try decoded(jpeg), b = try decoded(png)
        XCTAssertTrue(a.width == 800 && a.height == 533 && a.samples.count == b.samples.count)
        let quality = psnr(a.samples, b.samples)
        print("JPEG q92 4:4:4 vs PNG 8-bit: PSNR \(String(format: "%.2f", quality)) dB")
        XCTAssertGreaterThanOrEqual(quality, 40)
        // ExifTool finds nothing missing or malformed (JPEG-only required tags included).
        let validation = try TestSupport.run(exiftool, ["-validate", "-warning", "-a", jpeg])
        XCTAssertTrue(validation.stdout.contains(": OK"), validation.stdout)
        let tags = try TestSupport.run(exiftool, ["-s3", "-ICC_Profile:ProfileDescription", "-Make", "-ExifImageWidth", "-YCbCrSubSampling", jpeg])
        XCTAssertEqual(tags.stdout, "Emulsion sRGB\nCanon\n800\nYCbCr4:4:4 (1 1)\n")
        // The comment is the recipe: saved as a profile, it renders the same JPEG again.
        let recipe = try TestSupport.run(exiftool, ["-b", "-Comment", jpeg])
        let look = dir.appendingPathComponent("look.json").path
        try recipe.stdout.write(toFile: look, atomically: false, encoding: .utf8)
        XCTAssertTrue(recipe.stdout.contains("\"ev\": 0.2"), recipe.stdout)
        let again = dir.appendingPathComponent("again.jpg").path
        r = try emulsion(["process", input, "-o", again, "--profile", look, "--max-size", "800"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try decoded(again).samples, a.samples)
        // Below quality 90 chroma is halved; the pixels are still the render's.
        let low = dir.appendingPathComponent("low.jpg").path
        r = try emulsion(["process", input, "-o", low, "--profile", "leica-authentic", "--set", "exposure.ev=0.2", "--max-size", "800", "--quality", "60"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try TestSupport.run(exiftool, ["-s3", "-YCbCrSubSampling", low]).stdout, "YCbCr4:2:0 (2 2)\n")
        XCTAssertGreaterThanOrEqual(psnr(try decoded(low).samples, b.samples), 30)
        XCTAssertLessThan(try FileManager.default.attributesOfItem(atPath: low)[.size] as! Int,
                          try FileManager.default.attributesOfItem(atPath: jpeg)[.size] as! Int)
    }

    /// A folder to JPEGs is named .jpg; what cannot be a JPEG is refused before any decode.
    func testFormatChoicesAndRefusals() throws {
        let input = try sample("apple-quicktake_100-test100.qtk")
        var r = try emulsion(["process", input, "--out-dir", dir.path, "--format", "jpeg"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("apple-quicktake_100-test100.jpg").path))
        for (arguments, problem) in [(["-o", "x.jpg", "--bits", "16"], "a JPEG holds 8 bits"),
                                     (["-o", "x.png", "--quality", "80"], "--quality is for JPEG"),
                                     (["-o", "x.png", "--format", "jpeg"], "names a PNG file but --format is jpeg"),
                                     (["-o", "x.jpg", "--quality", "0"], "--quality must be 1…100"),
                                     (["-o", "x.tif", "--png-level", "9"], "--png-level is for PNG output")] {
            r = try emulsion(["process", input] + arguments.map { $0.hasPrefix("x.") ? dir.appendingPathComponent($0).path : $0 })
            XCTAssertEqual(r.status, 64, "\(arguments)")
            XCTAssertTrue(r.stderr.contains(problem), r.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.jpg").path))
    }

    /// Images made in memory (contact sheets, heat maps) follow their file name: `preview -o
    /// sheet.jpg` wrote PNG bytes under a .jpg name. 16-bit samples go into a JPEG rounded to 8,
    /// into a TIFF as they are.
    func testImagesInMemoryFollowTheirFileName() throws {
        let flat = PNGImage(width: 32, height: 16, bitDepth: 16, channels: 3,
                            samples: (0..<(32 * 16)).flatMap { _ in [UInt16(65535), UInt16(32896), UInt16(0)] })
        XCTAssertEqual(Array(try ImageFile.bytes(flat, for: "a/sheet.png").prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssertEqual(Array(try ImageFile.bytes(flat, for: "a/sheet").prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        for name in ["sheet.JPG", "sheet.jpeg"] {
            let bytes = try ImageFile.bytes(flat, for: name)
            XCTAssertEqual(Array(bytes.prefix(3)), [0xFF, 0xD8, 0xFF], name)
            let path = dir.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            // 32896/65535 · 255 = 128.0: a flat field survives JPEG to within a code.
            let pixels = try decoded(path).samples
            let expected = (0..<pixels.count).map { [255, 128, 0][$0 % 3] }
            XCTAssertTrue(zip(pixels, expected).allSatisfy { abs(Int($0) - $1) <= 1 }, name)
        }
        // A .tif is an uncompressed TIFF whose samples libtiff reads back exactly.
        let tiffPath = dir.appendingPathComponent("sheet.tif").path
        let tiff = try ImageFile.bytes(flat, for: tiffPath)
        XCTAssertEqual(Array(tiff.prefix(4)), [0x49, 0x49, 42, 0])
        try Data(tiff).write(to: URL(fileURLWithPath: tiffPath))
        let out = dir.appendingPathComponent("tiff.rgb").path
        XCTAssertEqual(try TestSupport.run(try tool("convert"), [tiffPath, "-depth", "16", "-endian", "LSB", "rgb:\(out)"]).status, 0)
        XCTAssertTrue([UInt8](try Data(contentsOf: URL(fileURLWithPath: out))) == flat.samples.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        let raw = try sample("apple-quicktake_100-test100.qtk")
        let sheet = dir.appendingPathComponent("sheet.jpg").path
        let r = try emulsion(["preview", raw, "--profiles", "neutral,film-chrome", "--size", "64", "-o", sheet])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: sheet)).prefix(3)), [0xFF, 0xD8, 0xFF])
    }

    /// Rendering the next band on another thread changes nothing; a failing output stops the
    /// encoder with the output's own error; what libjpeg cannot hold is refused in one line.
    func testBandsAheadWriteFailuresAndLimits() throws {
        let raw = ChartReport.chartScene.raw
        let options = RenderOptions(depth: .eight, threads: 1)
        func bytes(threads: Int, fit: OutputFit? = nil) throws -> [UInt8] {
            var out: [UInt8] = []
            try JPEGRender(raw, options: options, metadata: true, fit: fit).encode(jpeg: JPEGEncodingOptions(), threads: threads) {
                out.append(contentsOf: $0)
            }
            return out
        }
        let one = try bytes(threads: 1)
        XCTAssertEqual(Array(one.prefix(4)), [0xFF, 0xD8, 0xFF, 0xE1], "SOI, then the Exif APP1")
        XCTAssertEqual(Array(one.suffix(2)), [0xFF, 0xD9])
        XCTAssertTrue(try bytes(threads: 2) == one)
        XCTAssertTrue(try bytes(threads: 3, fit: try OutputFit(maxWidth: 100, maxHeight: 100)) == bytes(threads: 1, fit: try OutputFit(maxWidth: 100, maxHeight: 100)))
        struct Full: Error {}
        var calls = 0
        XCTAssertThrowsError(try JPEGRender(raw, options: options).encode(jpeg: JPEGEncodingOptions(quality: 100), threads: 2) { _ in
            calls += 1
            throw Full()
        }) { XCTAssertTrue($0 is Full, "\($0)") }
        XCTAssertEqual(calls, 1, "nothing is written after a failure")
        XCTAssertThrowsError(try JPEGRender(raw, options: RenderOptions(depth: .sixteen, threads: 1))) {
            XCTAssertTrue("\($0)".contains("8 bits"), "\($0)")
        }
        XCTAssertThrowsError(try JPEGFile.encode(width: 70_000, height: 10, rows: { _ in fatalError("no rows") }, to: { _ in })) {
            XCTAssertTrue("\($0)".contains("65500"), "\($0)")
        }
        XCTAssertThrowsError(try JPEGFile.encode(width: 10, height: 10, options: JPEGEncodingOptions(quality: 0), rows: { _ in fatalError("no rows") }, to: { _ in }))
    }
}

import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// TIFF output (`--format tiff`, `-o NAME.tif`, `--tiff-compression`; `TIFFRender`, `TIFFFile`).
///
/// References: ImageMagick (libtiff) reads the pixels, which must equal the PNG of the same
/// render sample for sample (both are lossless views of the same rows); ExifTool validates the
/// directories and reads the ICC profile and the shot's tags.
final class TIFFOutputTests: OutputFileTestCase {
    /// The samples of a TIFF as libtiff (through ImageMagick) reads them, at `bits` per sample.
    func samples(ofTIFF path: String, bits: Int) throws -> [UInt16] {
        let out = dir.appendingPathComponent("read.rgb").path
        let r = try TestSupport.run(try tool("convert"), [path, "-depth", "\(bits)", "-endian", "MSB", "rgb:\(out)"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: out)))
        return bits == 8 ? bytes.map(UInt16.init) : stride(from: 0, to: bytes.count, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
    }

    func testTIFFHoldsThePNGsPixelsItsProfileAndExif() throws {
        let exiftool = try tool("exiftool")
        for (name, extra, bits) in [("google-pixel_7-digizoom_crop.dng", ["--profile", "leica-vibrant"], 16),
                                    ("canon-eos_kiss_x4-colorchart_crop.dng", ["--max-size", "500", "--bits", "8", "--space", "display-p3"], 8)] {
            let input = try sample(name)
            let tiff = dir.appendingPathComponent("\(bits).tif").path, png = dir.appendingPathComponent("\(bits).png").path
            var r = try emulsion(["process", input, "-o", tiff] + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            r = try emulsion(["process", input, "-o", png] + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            let reference = try PNGFile.read(path: png)
            XCTAssertTrue(try samples(ofTIFF: tiff, bits: bits) == reference.samples, "\(name): the TIFF's pixels are the PNG's")
            // The Pixel records a GPS fix time, and ExifTool asks a TIFF's GPS IFD for a
            // GPSProcessingMethod, which Emulsion cannot know (LocationMetadataTests).
            let validation = try TestSupport.run(exiftool, ["-validate", "-warning", "-a", tiff])
            let warnings = validation.stdout.split(separator: "\n").filter { $0.contains("Warning") && !$0.contains("Validate") }
            XCTAssertTrue(validation.stdout.contains(": OK") || warnings.count == 1 && warnings[0].contains("GPSProcessingMethod"),
                          validation.stdout)
            let tags = try TestSupport.run(exiftool, ["-s3", "-ICC_Profile:ProfileDescription", "-BitsPerSample", "-ImageSize", "-Compression", "-n", tiff])
            let lines = tags.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, 4, tags.stdout)
            XCTAssertTrue(lines[0].hasPrefix("Emulsion"), tags.stdout)
            XCTAssertEqual(Array(lines.dropFirst()), ["\(bits) \(bits) \(bits)", "\(reference.width) \(reference.height)", "1"], tags.stdout)
        }
    }

    /// `--tiff-compression deflate`: Adobe Deflate with Predictor 2 in 64-row strips, the last one
    /// shorter. libtiff (through ImageMagick) must read the PNG's samples back exactly, 8 and 16
    /// bits; ExifTool reads Compression 8, Predictor 2 and RowsPerStrip 64. (ExifTool's validation
    /// checks Baseline TIFF, whose compressions are 1, 2, 5, 6 and 32773: it names Deflate, an
    /// extension libtiff and every editor read, and nothing else.)
    func testDeflatedTIFFHoldsThePNGsPixels() throws {
        let exiftool = try tool("exiftool")
        for (name, extra, bits) in [("google-pixel_7-digizoom_crop.dng", ["--profile", "leica-vibrant"], 16),
                                    ("canon-eos_kiss_x4-colorchart_crop.dng", ["--max-size", "500", "--bits", "8"], 8)] {
            let input = try sample(name)
            let tiff = dir.appendingPathComponent("z\(bits).tif").path, plain = dir.appendingPathComponent("u\(bits).tif").path
            let png = dir.appendingPathComponent("\(bits).png").path
            for (path, more) in [(tiff, ["--tiff-compression", "deflate"]), (plain, []), (png, [])] {
                let r = try emulsion(["process", input, "-o", path] + extra + more)
                XCTAssertEqual(r.status, 0, r.stderr)
            }
            let reference = try PNGFile.read(path: png)
            XCTAssertNotEqual(reference.height % 64, 0, "the last strip is a short one")
            XCTAssertTrue(try samples(ofTIFF: tiff, bits: bits) == reference.samples, "\(name): the deflated TIFF's pixels are the PNG's")
            let sizes = try [tiff, plain].map { try XCTUnwrap(FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) }
            XCTAssertLessThan(sizes[0], sizes[1] * 9 / 10, "\(name): compressed")
            let tags = try TestSupport.run(exiftool, ["-s3", "-n", "-Compression", "-Predictor", "-RowsPerStrip", tiff])
            XCTAssertEqual(tags.stdout, "8\n2\n64\n")
            let validation = try TestSupport.run(exiftool, ["-validate", "-warning", "-a", tiff])
            let warnings = validation.stdout.split(separator: "\n").filter { $0.contains("Warning") && !$0.contains("Validate") }
            XCTAssertTrue(warnings.allSatisfy { $0.contains("Compression") || $0.contains("GPSProcessingMethod") }, validation.stdout)
        }
        // Where the strip table cannot be written last: standard output, or no file to patch.
        let input = try sample("kodak-dc50-sample.kdc")
        var r = try emulsion(["process", input, "-o", "-", "--format", "tiff", "--tiff-compression", "deflate"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("write it to a file, not standard output"), r.stderr)
        r = try emulsion(["process", input, "-o", dir.appendingPathComponent("x.png").path, "--tiff-compression", "deflate"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("--tiff-compression is for TIFF output"), r.stderr)
        let render = try TIFFRender(ChartReport.chartScene.raw, options: RenderOptions(threads: 1), compression: .deflate)
        XCTAssertThrowsError(try render.encode(threads: 1, to: { _ in XCTFail("nothing written") })) {
            XCTAssertTrue("\($0)".contains("write it to a file, not a pipe"), "\($0)")
        }
    }

    /// Groups of bands rendered on several threads write the same file as one thread; a failing
    /// output stops the render with its own error; a folder of raws to TIFF is named .tif.
    func testThreadsFailuresAndNames() throws {
        let raw = ChartReport.chartScene.raw
        func bytes(threads: Int) throws -> [UInt8] {
            var out: [UInt8] = []
            try TIFFRender(raw, options: RenderOptions(threads: 1)).encode(threads: threads) { out.append(contentsOf: $0) }
            return out
        }
        let one = try bytes(threads: 1)
        XCTAssertEqual(Array(one.prefix(4)), [0x49, 0x49, 42, 0])
        XCTAssertEqual(one.count % 2, 0)
        XCTAssertTrue(try bytes(threads: 3) == one)
        // Deflated, the strips and their table are the same however many threads made them.
        func deflated(threads: Int) throws -> [UInt8] {
            var out: [UInt8] = []
            try TIFFRender(raw, options: RenderOptions(threads: 1), compression: .deflate).encode(threads: threads, to: { out.append(contentsOf: $0) },
                                                                                                  patch: { out.replaceSubrange($0..<($0 + $1.count), with: $1) })
            return out
        }
        let packed = try deflated(threads: 1)
        XCTAssertTrue(try deflated(threads: 3) == packed)
        XCTAssertLessThan(packed.count, one.count)
        struct Full: Error {}
        var calls = 0
        XCTAssertThrowsError(try TIFFRender(raw, options: RenderOptions(threads: 1)).encode(threads: 2) { _ in
            calls += 1
            if calls == 2 { throw Full() }
        }) { XCTAssertTrue($0 is Full, "\($0)") }
        XCTAssertEqual(calls, 2)
        let r = try emulsion(["process", try sample("kodak-dc50-sample.kdc"), "--out-dir", dir.path, "--format", "tiff"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("kodak-dc50-sample.tif").path))
    }
}

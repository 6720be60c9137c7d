import EmulsionCore
@testable import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The TIFF reader against an independent writer: ImageMagick (libtiff) writes the same pixels
/// with every compression, predictor, byte order, depth and channel layout the reader takes, and
/// the reader must give back exactly the samples and the ICC profile it was given.
final class TIFFReaderTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = TestSupport.temporaryDirectory("emulsion-tiff-reader") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func convert() throws -> String {
        guard let convert = TestSupport.which("convert") else {
            if TestSupport.inCI { XCTFail("ImageMagick's convert missing") }
            throw XCTSkip("ImageMagick missing")
        }
        return convert
    }

    /// Random samples with smooth parts (so LZW and Deflate find runs) and noise (so they do not only find runs).
    func image(_ w: Int, _ h: Int, bits: Int) throws -> PNGImage {
        var generator = SplitMix64(seed: UInt64(bits))
        let top = bits == 8 ? 255 : 65535
        var samples: [UInt16] = []
        for y in 0..<h { for x in 0..<w { for c in 0..<3 {
            let smooth = (x * 7 + y * 3 + c * 50) * top / (w * 7 + h * 3 + 150)
            samples.append(UInt16(y % 3 == 0 ? Int(generator.next() % UInt64(top + 1)) : smooth))
        } } }
        return PNGImage(width: w, height: h, bitDepth: bits, channels: 3, samples: samples, iccProfile: try OutputSpace.displayP3.iccProfile())
    }

    func testReadsWhatLibTIFFWrites() throws {
        let convert = try convert()
        for bits in [8, 16] {
            let source = try image(67, 45, bits: bits)
            let png = dir.appendingPathComponent("source-\(bits).png").path
            try PNGFile.write(source, to: png)
            let variants: [(String, [String])] = [
                ("none", ["-compress", "None"]), ("lzw", ["-compress", "LZW"]), ("zip", ["-compress", "Zip"]),
                ("packbits", ["-compress", "RLE"]), ("lzw-predictor", ["-compress", "LZW", "-define", "tiff:predictor=2"]),
                ("zip-predictor", ["-compress", "Zip", "-define", "tiff:predictor=2"]),
                ("big-endian", ["-compress", "Zip", "-endian", "MSB"]),
                ("strips-of-7", ["-compress", "LZW", "-define", "tiff:rows-per-strip=7"]),
                ("alpha", ["-compress", "Zip", "-alpha", "on"]),
            ]
            for (name, options) in variants {
                let tif = dir.appendingPathComponent("\(name)-\(bits).tif").path
                let r = try TestSupport.run(convert, [png] + options + ["-depth", "\(bits)", tif])
                XCTAssertEqual(r.status, 0, r.stderr)
                let read = try TIFFReader.read(path: tif)
                XCTAssertEqual(read.width, 67, name); XCTAssertEqual(read.height, 45, name)
                XCTAssertEqual(read.bitDepth, bits, name)
                XCTAssertTrue(read.samples == source.samples, "\(name), \(bits)-bit: samples differ")
                XCTAssertEqual(read.iccProfile, source.iccProfile, "\(name), \(bits)-bit: ICC profile")
            }
        }
        // Grey expands to RGB.
        let grey = dir.appendingPathComponent("grey.tif").path
        XCTAssertEqual(try TestSupport.run(convert, ["-size", "5x3", "gradient:black-white", "-depth", "16", "-compress", "LZW", grey]).status, 0)
        let g = try TIFFReader.read(path: grey)
        XCTAssertEqual(g.width, 5)
        let neutral = stride(from: 0, to: g.samples.count, by: 3).allSatisfy { (i: Int) -> Bool in
            g.samples[i] == g.samples[i + 1] && g.samples[i] == g.samples[i + 2]
        }
        XCTAssertTrue(neutral)
        XCTAssertEqual(g.samples.first, 0); XCTAssertEqual(g.samples.last, 65535) // black at the top
    }

    /// What the reader refuses, it names; truncated and mutated files throw, never trap.
    func testRefusesWhatItCannotReadInOneLine() throws {
        let convert = try convert()
        let png = dir.appendingPathComponent("s.png").path
        try PNGFile.write(try image(20, 16, bits: 16), to: png)
        func tiff(_ options: [String]) throws -> String {
            let path = dir.appendingPathComponent("v\(options.joined()).tif").path
            let r = try TestSupport.run(convert, [png] + options + [path])
            XCTAssertEqual(r.status, 0, r.stderr)
            return path
        }
        for (options, words) in [(["-compress", "JPEG", "-depth", "8"], "compression 7 (JPEG)"),
                                 (["-define", "tiff:tile-geometry=16x16"], "tiled TIFFs"),
                                 (["-interlace", "Plane"], "planar TIFFs"),
                                 (["-define", "quantum:format=floating-point", "-depth", "32"], "floating point")] {
            let path = try tiff(options)
            XCTAssertThrowsError(try TIFFReader.read(path: path), "\(options)") {
                let text = "\($0)"
                XCTAssertTrue(text.hasPrefix(path + ": ") && text.contains(words) && !text.contains("\n"), text)
            }
        }
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try tiff(["-compress", "LZW"]))))
        for cut in [4, 9, 100, good.count / 2, good.count - 1] {
            XCTAssertThrowsError(try TIFFReader.decode(Array(good.prefix(cut))), "cut at \(cut)")
        }
        var generator = SplitMix64(seed: 99)
        for _ in 0..<3000 {
            var bytes = good
            for _ in 0..<(1 + Int(generator.next() % 8)) {
                let at = Int(generator.next() % UInt64(bytes.count))
                bytes[at] = UInt8(truncatingIfNeeded: generator.next())
            }
            _ = try? TIFFReader.decode(bytes)
        }
        XCTAssertThrowsError(try TIFFReader.decode(Array("II+\0 a BigTIFF".utf8))) { XCTAssertTrue("\($0)".contains("BigTIFF"), "\($0)") }
        XCTAssertThrowsError(try TIFFReader.decode(Array("plain text, no TIFF".utf8))) { XCTAssertEqual("\($0)", "not a TIFF file") }
    }
}

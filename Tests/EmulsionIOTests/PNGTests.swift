/// PNGTests.swift — tests for EmulsionIO's PNG reader/writer (PNGFile, CPNGShim).
///
/// What: exact 8/16-bit round trips, iCCP preservation, cross-checks with ImageMagick, error paths
/// (unwritable destinations, truncated/corrupt/non-PNG input, absurd sizes), gray mosaic reading,
/// and an opt-in encoding-speed report.
/// Where expectations come from:
/// - Round trips: PNG is lossless (PNG spec 2nd ed., section 4), so decoded samples must equal the input.
/// - Hand-built PNGs (`TinyPNG` below) follow the spec's chunk layout (5.3), IHDR (11.2.2), sample
///   packing (7.2) and palette expansion (11.2.3) and use stored (uncompressed) deflate blocks
///   (RFC 1950/1951), so their expected pixels are known without libpng.
/// - ImageMagick (`identify`, `convert`) is an independent decoder: it must report our depth, size and
///   ICC profile, and its raw gray dump of the shared Bayer sample must equal what we read.
/// - The shared sample /work/shared/raw-samples/unknown-fcam_sensor-halide_bayer_small.png is documented
///   as a 16-bit gray PNG of 256x344 pixels.
/// - Error strings are strerror(3) texts ("No such file or directory", ...).
import Foundation
import XCTest
@testable import EmulsionIO

final class PNGTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("emulsion-png-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory {
            _ = chmod(directory.path, 0o755)
            try? FileManager.default.removeItem(at: directory)
        }
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    // MARK: - Round trips

    func test16BitRGBRoundTripIsExact() throws {
        let image = Synthetic.rgb(width: 67, height: 41, bitDepth: 16)
        // Byte-order traps: a little-endian mix-up turns 0x00FF into 0xFF00.
        XCTAssertTrue(image.samples.contains(0x00FF) && image.samples.contains(0xFF00))
        let file = path("rgb16.png")
        try PNGFile.write(image, to: file)
        let back = try PNGFile.read(path: file)
        XCTAssertEqual(back.width, 67)
        XCTAssertEqual(back.height, 41)
        XCTAssertEqual(back.bitDepth, 16)
        XCTAssertEqual(back.channels, 3)
        XCTAssertNil(back.iccProfile)
        XCTAssertEqual(back.samples, image.samples)
        XCTAssertEqual(back, image)
    }

    func test8BitRGBRoundTripIsExact() throws {
        let image = Synthetic.rgb(width: 50, height: 33, bitDepth: 8)
        XCTAssertEqual(image.samples.max(), 255)
        let file = path("rgb8.png")
        try PNGFile.write(image, to: file)
        let back = try PNGFile.read(path: file)
        XCTAssertEqual(back.bitDepth, 8)
        XCTAssertEqual(back, image)
    }

    func testEveryFilterAndLevelRoundTripsInMemory() throws {
        for depth in [8, 16] {
            let image = Synthetic.rgb(width: 31, height: 17, bitDepth: depth)
            for filter in PNGFilter.allCases {
                for strategy in PNGCompressionStrategy.allCases {
                    for level in [0, 1, 3, 6, 9] {
                        let options = PNGEncodingOptions(compressionLevel: level, filter: filter, strategy: strategy)
                        let bytes = try PNGFile.encode(image, options: options)
                        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
                        XCTAssertEqual(try PNGFile.decode(bytes), image, "depth \(depth) \(filter) \(strategy) \(level)")
                    }
                }
            }
        }
    }

    func testDefaultOptionsCompressFlatAreas() throws {
        // Since the engine merge the default is the fast Huffman-only coder (docs/PNG-ENCODING.md):
        // it finds no runs, so a flat area (a clipped sky, a black border) costs at least 1 bit per
        // byte — 1/8 of the samples plus block headers; Z_RLE still collapses it (with the `sub`
        // or `up` filter a flat row is all zeros after the first pixel, one long run per row).
        let flat = PNGImage(width: 512, height: 512, bitDepth: 16, channels: 3,
                            samples: [UInt16](repeating: 0xFFFF, count: 512 * 512 * 3))
        let bytes = try PNGFile.encode(flat)
        XCTAssertLessThan(bytes.count, flat.samples.count * 2 * 13 / 100, "\(bytes.count) bytes")
        XCTAssertEqual(try PNGFile.decode(bytes), flat)
        let rle = try PNGFile.encode(flat, options: PNGEncodingOptions(strategy: .rle))
        XCTAssertLessThan(rle.count, flat.samples.count * 2 / 100, "\(rle.count) bytes")
        XCTAssertEqual(try PNGFile.decode(rle), flat)
        XCTAssertEqual(PNGEncodingOptions.default,
                       PNGEncodingOptions(compressionLevel: 1, filter: .up, strategy: .fastHuffman))
    }

    /// The fast Huffman coder writes four literals a step where every code fits 14 bits and three
    /// where one needs 15 (four such would overflow its 64-bit accumulator). Its histogram reads
    /// the first 256 bytes of every 1024: here those bytes are drawn with Fibonacci frequencies,
    /// a Huffman tree as deep as there are symbols, so the lengths are limited to 15, and every
    /// other byte is 255, which the histogram never sees and so gets one of the longest codes —
    /// runs of 15-bit literals, as a noisy area after a flat one can give. (Four a step on these
    /// fails to decode.) Noise gives short codes and the four-literal loop. Each must decode
    /// (libpng and zlib) to the image written, across several 512 KiB blocks.
    func testFastHuffmanRoundTripsWithLongAndShortCodes() throws {
        var fibonacci = [1, 1]
        while fibonacci.count < 24 { fibonacci.append(fibonacci[fibonacci.count - 1] + fibonacci[fibonacci.count - 2]) }
        let skewed = fibonacci.enumerated().flatMap { [UInt8](repeating: UInt8($0.offset), count: $0.element) }
        var state: UInt32 = 7
        func next() -> UInt32 { state = state &* 1_664_525 &+ 1_013_904_223; return state >> 8 }
        let width = 600, height = 800, rowBytes = 3 * width + 1  // the filter type byte, then the samples
        // Byte k of the one segment (rowsPerBlock: height) is sample k − (k / rowBytes + 1).
        var longCodes = [UInt16](repeating: 255, count: width * height * 3)
        for k in 0..<(rowBytes * height) where k % 1024 < 256 && k % rowBytes != 0 {
            longCodes[k - (k / rowBytes + 1)] = UInt16(skewed[Int(next()) % skewed.count])
        }
        let noise = (0..<(width * height * 3)).map { _ in UInt16(next() & 0xFF) }
        for (name, samples) in [("long codes", longCodes), ("noise", noise)] {
            let image = PNGImage(width: width, height: height, bitDepth: 8, channels: 3, samples: samples)
            let options = PNGEncodingOptions(compressionLevel: 1, filter: .none, strategy: .fastHuffman)
            XCTAssertEqual(try PNGFile.decode(PNGFile.encode(image, options: options, rowsPerBlock: height)), image, name)
        }
    }

    func testGray16RoundTripAndExpansionToRGB() throws {
        let gray = Synthetic.gray(width: 40, height: 30)
        let file = path("gray16.png")
        try PNGFile.write(gray, to: file)
        XCTAssertEqual(try PNGFile.readGrayMosaic(path: file), gray)
        // The general reader expands gray to RGB with R = G = B.
        let rgb = try PNGFile.read(path: file)
        XCTAssertEqual(rgb.channels, 3)
        XCTAssertEqual(rgb.bitDepth, 16)
        XCTAssertEqual(rgb.samples, gray.samples.flatMap { [$0, $0, $0] })
    }

    // MARK: - Parallel (row-block) encoding

    func testParallelBlocksRoundTripForEveryLayoutFilterAndStrategy() throws {
        // Block sizes 1, 3 and 7 rows over 23 rows: single-row blocks, a short last block, and
        // up/paeth/adaptive filters that must see the row above across each block boundary.
        let images = [Synthetic.rgb(width: 29, height: 23, bitDepth: 16), Synthetic.rgb(width: 29, height: 23, bitDepth: 8),
                      Synthetic.gray(width: 29, height: 23)]
        for image in images {
            for filter in PNGFilter.allCases {
                for strategy in PNGCompressionStrategy.allCases {
                    for level in [0, 1, 6] {
                        for rows in [1, 3, 7] {
                            let options = PNGEncodingOptions(compressionLevel: level, filter: filter, strategy: strategy)
                            let bytes = try PNGFile.encode(image, options: options, rowsPerBlock: rows)
                            let back = image.channels == 1 ? try PNGFile.decodeGrayMosaic(bytes) : try PNGFile.decode(bytes)
                            XCTAssertEqual(back, image, "\(image.channels)ch \(image.bitDepth)-bit \(filter) \(strategy) L\(level) \(rows) rows")
                        }
                    }
                }
            }
        }
    }

    func testParallelOutputIsReadByImageMagickAndKeepsTheProfile() throws {
        var image = Synthetic.rgb(width: 37, height: 31, bitDepth: 16)
        image.iccProfile = TestICC.rgbDisplayProfile()
        let file = path("parallel.png")
        try PNGFile.write(image, to: file, options: .default, rowsPerBlock: 4)
        let back = try PNGFile.read(path: file)
        XCTAssertEqual(back, image)
        guard let convert = Tool.find("convert") else { throw XCTSkip("ImageMagick convert is absent") }
        // An independent inflater must accept the joined stream (8 IDAT chunks, one zlib stream).
        let raw = try Tool.runData(convert, [file, "-depth", "16", "-endian", "MSB", "rgb:-"])
        let samples = stride(from: 0, to: raw.count - 1, by: 2).map { UInt16(raw[$0]) << 8 | UInt16(raw[$0 + 1]) }
        XCTAssertEqual(samples, image.samples)
        let report = try Tool.run(Tool.find("identify")!, ["-verbose", file])
        XCTAssertTrue(report.contains("Profile-icc: \(image.iccProfile!.count) bytes"), report)
    }

    func testParallelAndSerialAgreeOnALargerImage() throws {
        let image = Synthetic.photo(width: 600, height: 400)
        let serial = try PNGFile.encode(image, options: PNGEncodingOptions(parallel: false))
        let parallel = try PNGFile.encode(image, options: .default, rowsPerBlock: 50)
        XCTAssertEqual(try PNGFile.decode(serial), image)
        XCTAssertEqual(try PNGFile.decode(parallel), image)
        // Eight independent zlib blocks cost a few bytes each, not a measurable ratio.
        XCTAssertLessThan(abs(Double(parallel.count) / Double(serial.count) - 1), 0.01,
                          "serial \(serial.count) bytes, parallel \(parallel.count) bytes")
        // The default block size splits a 24 MP-class image but leaves small ones to libpng.
        let rows24MP = PNGFile.defaultRowsPerBlock(for: PNGImage(width: 6000, height: 4000, samples: []))
        XCTAssertGreaterThanOrEqual(4000 / rows24MP, 16, "\(rows24MP) rows per block")
        XCTAssertGreaterThan(PNGFile.defaultRowsPerBlock(for: PNGImage(width: 64, height: 64, samples: [])), 64)
    }

    func testParallelErrorsMatchSerialOnes() throws {
        var image = Synthetic.rgb(width: 5, height: 30, bitDepth: 8)
        image.samples[(20 * 5 + 1) * 3] = 999
        image.samples[(2 * 5 + 4) * 3 + 2] = 300
        XCTAssertThrowsError(try PNGFile.encode(image, options: .default, rowsPerBlock: 4)) {
            XCTAssertEqual("\($0)", "<memory>: sample value 300 at row 2, column 4 exceeds 255 for an 8-bit PNG")
        }
        let missing = path("no/such/dir/out.png")
        XCTAssertThrowsError(try PNGFile.write(Synthetic.gray(width: 8, height: 8), to: missing, options: .default,
                                               rowsPerBlock: 2)) {
            XCTAssertEqual("\($0)", "\(missing): cannot open for writing: No such file or directory")
        }
        if FileManager.default.fileExists(atPath: "/dev/full") {
            XCTAssertThrowsError(try PNGFile.write(Synthetic.rgb(width: 64, height: 64, bitDepth: 16), to: "/dev/full",
                                                   options: .default, rowsPerBlock: 8)) {
                XCTAssertTrue("\($0)".contains("No space left on device"), "\($0)")
            }
        }
    }

    // MARK: - ICC profiles

    func testICCProfileReadsBackIdentical() throws {
        let profile = TestICC.rgbDisplayProfile()
        var image = Synthetic.rgb(width: 16, height: 9, bitDepth: 16)
        image.iccProfile = profile
        let file = path("icc.png")
        try PNGFile.write(image, to: file, options: PNGEncodingOptions(iccProfileName: "Emulsion test RGB"))
        let back = try PNGFile.read(path: file)
        XCTAssertEqual(back.iccProfile, profile)
        XCTAssertEqual(back.samples, image.samples)
        // The in-memory path keeps it too, and a gray image takes a GRAY profile.
        var gray = Synthetic.gray(width: 8, height: 8)
        gray.iccProfile = TestICC.grayProfile()
        XCTAssertEqual(try PNGFile.decodeGrayMosaic(PNGFile.encode(gray)).iccProfile, gray.iccProfile)
    }

    func testInvalidICCProfileIsRejectedNotDropped() throws {
        var image = Synthetic.rgb(width: 4, height: 4, bitDepth: 8)
        image.iccProfile = [UInt8](repeating: 0x41, count: 200)
        XCTAssertThrowsError(try PNGFile.encode(image)) { error in
            XCTAssertEqual((error as? PNGError)?.kind, .invalidArgument)
            XCTAssertEqual("\(error)", "<memory>: ICC profile rejected by libpng: "
                + "profile 'ICC Profile': 'AAAA': length does not match profile")
        }
        image.iccProfile = TestICC.rgbDisplayProfile()
        XCTAssertNoThrow(try PNGFile.encode(image))
        XCTAssertThrowsError(try PNGFile.encode(image, options: PNGEncodingOptions(iccProfileName: "")))
        XCTAssertThrowsError(try PNGFile.encode(image, options: PNGEncodingOptions(iccProfileName: "Caf\u{E9}")))
        // An RGB profile on a gray image is inconsistent (PNG spec 11.3.3.3).
        var gray = Synthetic.gray(width: 4, height: 4)
        gray.iccProfile = TestICC.rgbDisplayProfile()
        let file = path("gray-with-rgb-profile.png")
        XCTAssertThrowsError(try PNGFile.write(gray, to: file)) { error in
            XCTAssertTrue("\(error)".hasPrefix(file + ": "), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: file), "a failed write must not leave a file")
    }

    // MARK: - ImageMagick cross-checks

    func testImageMagickReportsDepthSizeAndProfile() throws {
        let identify = try XCTUnwrap(Tool.find("identify"), "ImageMagick") // skipped below if absent
        for depth in [8, 16] {
            var image = Synthetic.rgb(width: 23, height: 19, bitDepth: depth)
            image.iccProfile = TestICC.rgbDisplayProfile()
            let file = path("im\(depth).png")
            try PNGFile.write(image, to: file)
            let report = try Tool.run(identify, ["-verbose", file])
            XCTAssertTrue(report.contains("Geometry: 23x19+0+0"), report)
            XCTAssertTrue(report.contains("Depth: \(depth)-bit"), report)
            XCTAssertTrue(report.contains("Profile-icc: \(image.iccProfile!.count) bytes"), report)
        }
    }

    func testImageMagickAgreesOnTheSharedBayerSample() throws {
        let sample = "/work/shared/raw-samples/unknown-fcam_sensor-halide_bayer_small.png"
        guard FileManager.default.fileExists(atPath: sample) else { throw XCTSkip("\(sample) is absent") }
        let mosaic = try PNGFile.readGrayMosaic(path: sample)
        XCTAssertEqual(mosaic.width, 256)
        XCTAssertEqual(mosaic.height, 344)
        XCTAssertEqual(mosaic.bitDepth, 16)
        XCTAssertEqual(mosaic.channels, 1)
        XCTAssertEqual(mosaic.samples.count, 256 * 344)
        XCTAssertGreaterThan(mosaic.samples.max() ?? 0, 255, "16-bit data should use more than 8 bits")
        XCTAssertEqual(try PNGFile.read(path: sample).samples, mosaic.samples.flatMap { [$0, $0, $0] })

        guard let convert = Tool.find("convert") else { throw XCTSkip("ImageMagick convert is absent") }
        let raw = try Tool.runData(convert, [sample, "-depth", "16", "-endian", "MSB", "gray:-"])
        XCTAssertEqual(raw.count, 256 * 344 * 2)
        let reference = stride(from: 0, to: raw.count - 1, by: 2).map { UInt16(raw[$0]) << 8 | UInt16(raw[$0 + 1]) }
        XCTAssertEqual(mosaic.samples, reference)
    }

    // MARK: - Reading other PNG kinds (hand-built, independent of libpng's encoder)

    func testReadsPaletteGrayAlphaRGBAAndLowBitGray() throws {
        // Palette, 8-bit: indices 0,1,2,1 over a 3-entry palette.
        let palette = TinyPNG.build(width: 2, height: 2, bitDepth: 8, colorType: 3,
                                    rows: [[0, 1], [2, 1]],
                                    extraChunks: [("PLTE", [255, 0, 0, 0, 128, 0, 1, 2, 3])])
        XCTAssertEqual(try PNGFile.decode(palette).samples,
                       [255, 0, 0, 0, 128, 0, 1, 2, 3, 0, 128, 0])

        // Gray+alpha 16-bit: alpha is dropped, gray becomes RGB.
        let grayAlpha = TinyPNG.build(width: 2, height: 1, bitDepth: 16, colorType: 4,
                                      rows: [[0x12, 0x34, 0xFF, 0xFF, 0xAB, 0xCD, 0x00, 0x00]])
        let ga = try PNGFile.decode(grayAlpha)
        XCTAssertEqual(ga.bitDepth, 16)
        XCTAssertEqual(ga.samples, [0x1234, 0x1234, 0x1234, 0xABCD, 0xABCD, 0xABCD])

        // RGBA 8-bit: alpha is dropped, colour is not premultiplied.
        let rgba = TinyPNG.build(width: 1, height: 2, bitDepth: 8, colorType: 6,
                                 rows: [[10, 20, 30, 0], [40, 50, 60, 128]])
        XCTAssertEqual(try PNGFile.decode(rgba).samples, [10, 20, 30, 40, 50, 60])

        // 1-bit gray 0b1010_0000 for 3 pixels: 1,0,1 scaled to 255,0,255.
        let bilevel = TinyPNG.build(width: 3, height: 1, bitDepth: 1, colorType: 0, rows: [[0b1010_0000]])
        let bl = try PNGFile.decode(bilevel)
        XCTAssertEqual(bl.bitDepth, 8)
        XCTAssertEqual(bl.samples, [255, 255, 255, 0, 0, 0, 255, 255, 255])

        // The mosaic reader accepts only single-channel gray.
        XCTAssertThrowsError(try PNGFile.decodeGrayMosaic(rgba)) { error in
            XCTAssertEqual((error as? PNGError)?.kind, .unsupported)
            XCTAssertTrue("\(error)".contains("grayscale"), "\(error)")
        }
    }

    func testReadsInterlacedPNG() throws {
        guard let convert = Tool.find("convert") else { throw XCTSkip("ImageMagick convert is absent") }
        let image = Synthetic.rgb(width: 13, height: 11, bitDepth: 16)
        let plain = path("plain.png"), interlaced = path("interlaced.png")
        try PNGFile.write(image, to: plain)
        _ = try Tool.run(convert, [plain, "-interlace", "PNG", interlaced])
        let data = try Array(Data(contentsOf: URL(fileURLWithPath: interlaced)))
        XCTAssertEqual(data[28], 1, "IHDR interlace method should be Adam7")
        XCTAssertEqual(try PNGFile.read(path: interlaced).samples, image.samples)
    }

    // MARK: - Errors

    func testWritingIntoMissingDirectoryThrowsWithPath() throws {
        let file = path("does/not/exist/out.png")
        XCTAssertThrowsError(try PNGFile.write(Synthetic.rgb(width: 2, height: 2, bitDepth: 8), to: file)) { error in
            let error = error as? PNGError
            XCTAssertEqual(error?.kind, .cannotOpen)
            XCTAssertEqual(error?.description, "\(file): cannot open for writing: No such file or directory")
        }
        // A regular file where a directory should be.
        let notDirectory = path("plain-file")
        try Data("x".utf8).write(to: URL(fileURLWithPath: notDirectory))
        XCTAssertThrowsError(try PNGFile.write(Synthetic.gray(width: 2, height: 2), to: notDirectory + "/out.png")) {
            XCTAssertEqual("\($0)", "\(notDirectory)/out.png: cannot open for writing: Not a directory")
        }
    }

    func testWritingIntoReadOnlyDirectoryThrowsWithPath() throws {
        let readOnly = path("read-only")
        try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: false)
        XCTAssertEqual(chmod(readOnly, 0o555), 0)
        if access(readOnly, W_OK) == 0 {
            throw XCTSkip("permissions are not enforced for this user (root?)")
        }
        let file = readOnly + "/out.png"
        XCTAssertThrowsError(try PNGFile.write(Synthetic.rgb(width: 2, height: 2, bitDepth: 16), to: file)) {
            XCTAssertEqual("\($0)", "\(file): cannot open for writing: Permission denied")
        }
    }

    func testFullDiskIsReportedAsFailure() throws {
        // /dev/full accepts open but fails every write with ENOSPC: the error surfaces at write or flush.
        guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full") }
        XCTAssertThrowsError(try PNGFile.write(Synthetic.rgb(width: 64, height: 64, bitDepth: 16), to: "/dev/full")) {
            XCTAssertEqual(($0 as? PNGError)?.kind, .io)
            XCTAssertTrue("\($0)".hasPrefix("/dev/full: "), "\($0)")
            XCTAssertTrue("\($0)".contains("No space left on device"), "\($0)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: "/dev/full"), "never unlink a device")
    }

    func testTruncatedPNGThrows() throws {
        let valid = try PNGFile.encode(Synthetic.rgb(width: 40, height: 30, bitDepth: 16),
                                       options: PNGEncodingOptions(compressionLevel: 0, filter: .none))
        XCTAssertNoThrow(try PNGFile.decode(valid))
        // Cut inside the signature, IHDR, IDAT, before the IEND chunk and by one byte.
        for length in [1, 7, 8, 20, 33, 50, valid.count / 2, valid.count - 12, valid.count - 1] {
            let cut = Array(valid.prefix(length))
            XCTAssertThrowsError(try PNGFile.decode(cut), "first \(length) bytes") { error in
                let kind = (error as? PNGError)?.kind
                XCTAssertTrue(kind == .corrupt || kind == .notPNG, "\(length): \(error)")
            }
            let file = path("cut-\(length).png")
            try Data(cut).write(to: URL(fileURLWithPath: file))
            XCTAssertThrowsError(try PNGFile.read(path: file)) { error in
                XCTAssertTrue("\(error)".hasPrefix(file + ": "), "\(error)")
            }
            XCTAssertThrowsError(try PNGFile.readGrayMosaic(path: file))
        }
        // A representative message.
        let file = path("cut-\(valid.count / 2).png")
        XCTAssertThrowsError(try PNGFile.read(path: file)) {
            XCTAssertEqual("\($0)", "\(file): unexpected end of file (truncated PNG)")
        }
    }

    func testCorruptedDataThrows() throws {
        let valid = try PNGFile.encode(Synthetic.rgb(width: 20, height: 20, bitDepth: 8))
        // Inside IDAT: depending on the byte, zlib's stream or Adler-32 check, a row filter byte or the
        // chunk CRC no longer makes sense; libpng reports whichever it meets first.
        var bytes = valid
        bytes[bytes.count / 2] ^= 0x5A
        XCTAssertThrowsError(try PNGFile.decode(bytes)) { error in
            XCTAssertEqual((error as? PNGError)?.kind, .corrupt)
            XCTAssertTrue("\(error)".hasPrefix("<memory>: invalid PNG data: "), "\(error)")
        }
        // The IHDR chunk's CRC (bytes 29-32, after signature 8 + length 4 + type 4 + data 13).
        bytes = valid
        bytes[30] ^= 0x01
        XCTAssertThrowsError(try PNGFile.decode(bytes)) { error in
            XCTAssertEqual("\(error)", "<memory>: invalid PNG data: IHDR: CRC error")
        }
    }

    func testTextEmptyAndMissingFilesThrow() throws {
        let text = path("notes.png")
        try Data("This is a text file, not an image.\n".utf8).write(to: URL(fileURLWithPath: text))
        XCTAssertThrowsError(try PNGFile.read(path: text)) {
            XCTAssertEqual(($0 as? PNGError)?.kind, .notPNG)
            XCTAssertEqual("\($0)", "\(text): not a PNG file (no PNG signature)")
        }
        let empty = path("empty.png")
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        XCTAssertThrowsError(try PNGFile.read(path: empty)) {
            XCTAssertEqual("\($0)", "\(empty): not a PNG file (file is empty)")
        }
        XCTAssertThrowsError(try PNGFile.readGrayMosaic(path: empty))
        XCTAssertThrowsError(try PNGFile.decode([]))
        let missing = path("missing.png")
        XCTAssertThrowsError(try PNGFile.read(path: missing)) {
            XCTAssertEqual("\($0)", "\(missing): cannot open for reading: No such file or directory")
        }
        XCTAssertThrowsError(try PNGFile.read(path: directory.path)) {
            XCTAssertEqual(($0 as? PNGError)?.kind, .cannotOpen)
        }
    }

    func testAbsurdDimensionsAreRejectedBeforeAllocating() throws {
        // 30000 x 20000 = 600 MP, with one tiny (wrong) row of data: must fail on size, not memory.
        let huge = TinyPNG.build(width: 30000, height: 20000, bitDepth: 16, colorType: 2, rows: [[0, 0]])
        XCTAssertThrowsError(try PNGFile.decode(huge)) { error in
            XCTAssertEqual((error as? PNGError)?.kind, .tooLarge)
            XCTAssertEqual("\(error)", "<memory>: image is 30000x20000 pixels (600 MP), above the 400 MP limit")
        }
    }

    func testInvalidImagesAreRejectedBeforeEncoding() throws {
        var image = Synthetic.rgb(width: 3, height: 3, bitDepth: 8)
        image.samples[13] = 256
        XCTAssertThrowsError(try PNGFile.encode(image)) {
            XCTAssertEqual(($0 as? PNGError)?.kind, .invalidArgument)
            XCTAssertTrue("\($0)".contains("sample value 256 at row 1, column 1 exceeds 255"), "\($0)")
        }
        let file = path("bad.png")
        XCTAssertThrowsError(try PNGFile.write(image, to: file))
        XCTAssertFalse(FileManager.default.fileExists(atPath: file), "a failed write must not leave a file")

        let short = PNGImage(width: 4, height: 4, samples: [UInt16](repeating: 0, count: 47))
        XCTAssertThrowsError(try PNGFile.encode(short)) {
            XCTAssertEqual("\($0)", "<memory>: 47 samples for a 4x4x3 image (expected 48)")
        }
        let badDepth = PNGImage(width: 1, height: 1, bitDepth: 12, channels: 1, samples: [0])
        XCTAssertThrowsError(try PNGFile.encode(badDepth))
        XCTAssertThrowsError(try PNGFile.encode(Synthetic.gray(width: 2, height: 2),
                                                options: PNGEncodingOptions(compressionLevel: 10)))
    }

    // MARK: - Speed report (prints only; opt-in)

    /// Encodes a 4000x3000 16-bit RGB image of smooth gradients plus noise at zlib levels 1, 3, 6
    /// with filters none/sub/up/paeth (and adaptive), then with the RLE and Huffman-only strategies,
    /// stored (level 0), and the default serially and in parallel, printing wall seconds, MB/s of raw
    /// input, compressed size and the process CPU seconds of the fastest of two runs.
    /// Run through Benchmarks/png-levels.sh (release build, EMULSION_PNG_BENCH=1).
    func testEncodingSpeedReport() throws {
        guard ProcessInfo.processInfo.environment["EMULSION_PNG_BENCH"] != nil else {
            throw XCTSkip("set EMULSION_PNG_BENCH=1 (see Benchmarks/png-levels.sh)")
        }
        let width = 4000, height = 3000
        let image = Synthetic.photo(width: width, height: height)
        let megabytes = Double(image.samples.count * 2) / 1e6
        print(String(format: "PNG encode, %dx%d 16-bit RGB (%.0f MB raw), in memory", width, height, megabytes))
        print("cores: \(ProcessInfo.processInfo.activeProcessorCount)")
        print("level filter   strategy    blocks     seconds    MB/s   size MB  ratio  CPU s")
        // EMULSION_PNG_BENCH=parallel: only the default, serial against parallel, three times each.
        let onlyDefault = ProcessInfo.processInfo.environment["EMULSION_PNG_BENCH"] == "parallel"
        var configurations: [PNGEncodingOptions] = onlyDefault ? [] : [1, 3, 6].flatMap { level in
            [PNGFilter.none, .sub, .up, .paeth].map {
                PNGEncodingOptions(compressionLevel: level, filter: $0, strategy: .automatic, parallel: false)
            }
        }
        if !onlyDefault {
            configurations.append(PNGEncodingOptions(compressionLevel: 1, filter: .adaptive, strategy: .automatic, parallel: false))
        }
        for strategy in onlyDefault ? [] : [PNGCompressionStrategy.rle, .huffmanOnly] {
            for filter in [PNGFilter.none, .sub, .up, .paeth, .adaptive] {
                configurations.append(PNGEncodingOptions(compressionLevel: 1, filter: filter, strategy: strategy, parallel: false))
            }
        }
        if !onlyDefault {
            configurations.append(PNGEncodingOptions(compressionLevel: 0, filter: .none, strategy: .automatic, parallel: false))
        }
        // The default, serial (libpng's row loop) and parallel (row blocks on all cores), alternated.
        for _ in 0..<(onlyDefault ? 3 : 2) {
            configurations.append(PNGEncodingOptions(parallel: false))
            configurations.append(PNGEncodingOptions.default)
        }
        for options in configurations {
            var best = Double.infinity, bestCPU = 0.0
            var size = 0
            for _ in 0..<2 {
                let start = DispatchTime.now().uptimeNanoseconds, startCPU = processCPUSeconds()
                size = try PNGFile.encode(image, options: options).count
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                if seconds < best { (best, bestCPU) = (seconds, processCPUSeconds() - startCPU) }
            }
            let label = options.filter.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0) + " "
                + options.strategy.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
                + (options.parallel ? " parallel" : " serial  ")
            print(String(format: "%5d ", options.compressionLevel) + label + String(format: " %8.3f %7.1f %9.2f %6.3f %8.3f",
                         best, megabytes / best, Double(size) / 1e6, Double(size) / (megabytes * 1e6), bestCPU))
        }
        for parallel in [false, true] {
            let bytes = try PNGFile.encode(image, options: PNGEncodingOptions(parallel: parallel))
            let start = DispatchTime.now().uptimeNanoseconds
            let decoded = try PNGFile.decode(bytes)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            XCTAssertEqual(decoded.samples, image.samples)
            print("decode (default options, \(parallel ? "parallel" : "serial")): "
                + String(format: "%.3f s, %.1f MB/s", seconds, megabytes / seconds))
        }
    }

    /// Text chunks read back (`PNGChunk.texts`): tEXt and uncompressed iTXt, by keyword, in order;
    /// a chunk cut short ends the scan without a trap.
    func testTextChunksReadBack() throws {
        let image = PNGImage(width: 2, height: 1, bitDepth: 8, channels: 3, samples: [1, 2, 3, 4, 5, 6])
        let bytes = try PNGFile.encode(image, ancillaryChunks: [.text("Software", "Emulsion"), .internationalText("Comment", "Input: srgb\nÜber")])
        let texts = PNGChunk.texts(in: bytes)
        XCTAssertEqual(texts.map(\.keyword), ["Software", "Comment"])
        XCTAssertEqual(texts.map(\.text), ["Emulsion", "Input: srgb\nÜber"])
        XCTAssertEqual(try PNGFile.decode(bytes).samples, image.samples)
        for cut in stride(from: 0, to: bytes.count, by: 7) { _ = PNGChunk.texts(in: Array(bytes.prefix(cut))) }
    }
}

// MARK: - Helpers

/// CPU time of the whole process (all threads), to tell parallel work from waiting for a busy core.
func processCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Deterministic synthetic images.
enum Synthetic {
    /// Gradients covering the full range plus byte-order trap values.
    static func rgb(width: Int, height: Int, bitDepth: Int) -> PNGImage {
        let maximum = (1 << bitDepth) - 1
        var samples = [UInt16]()
        samples.reserveCapacity(width * height * 3)
        var state: UInt32 = 12345
        for y in 0..<height {
            for x in 0..<width {
                state = state &* 1_664_525 &+ 1_013_904_223
                samples.append(UInt16(x * maximum / max(width - 1, 1)))
                samples.append(UInt16(y * maximum / max(height - 1, 1)))
                samples.append(UInt16(Int(state >> 16) & maximum))
            }
        }
        samples[0] = 0
        samples[1] = UInt16(maximum)
        if bitDepth == 16 { samples[3] = 0x00FF; samples[4] = 0xFF00 }
        return PNGImage(width: width, height: height, bitDepth: bitDepth, channels: 3, samples: samples)
    }

    static func gray(width: Int, height: Int) -> PNGImage {
        let samples = (0..<(width * height)).map { UInt16(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        return PNGImage(width: width, height: height, bitDepth: 16, channels: 1, samples: samples)
    }

    /// A photo-like 16-bit RGB image: smooth gradients and soft blobs plus per-sample noise
    /// (uniform sum of two, sigma about 75 codes, i.e. ~0.1% of full scale: a clean low-ISO export).
    static func photo(width: Int, height: Int) -> PNGImage {
        var samples = [UInt16](repeating: 0, count: width * height * 3)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        samples.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                let fy = Double(y) / Double(height)
                for x in 0..<width {
                    let fx = Double(x) / Double(width)
                    let blob = 0.5 + 0.5 * sin(fx * 7.0 + fy * 3.0) * cos(fy * 5.0 - fx * 2.0)
                    let base = [0.15 + 0.6 * fx * blob, 0.1 + 0.7 * fy * (1 - blob * 0.5), 0.2 + 0.5 * blob]
                    for c in 0..<3 {
                        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                        let a = Double((state >> 40) & 0xFF), b = Double((state >> 48) & 0xFF)
                        let noise = (a + b - 255.0) * 1.04 // sum of two uniforms, sigma ≈ 75
                        let value = base[c] * 65535.0 + noise
                        out[(y * width + x) * 3 + c] = UInt16(max(0, min(65535, value)))
                    }
                }
            }
        }
        return PNGImage(width: width, height: height, bitDepth: 16, channels: 3, samples: samples)
    }
}

/// Minimal, valid ICC v2 profiles built by hand (ICC.1:2001-04 layout: 128-byte header, tag table,
/// 4-byte aligned tag data), so the test needs no profile files.
enum TestICC {
    static func rgbDisplayProfile() -> [UInt8] {
        let d50: [Double] = [0.9642, 1.0, 0.8249]
        return build(colourSpace: "RGB ", tags: [
            ("desc", description("Emulsion test RGB")),
            ("cprt", text("No copyright, test data")),
            ("wtpt", xyz(d50)),
            ("rXYZ", xyz([0.4361, 0.2225, 0.0139])),
            ("gXYZ", xyz([0.3851, 0.7169, 0.0971])),
            ("bXYZ", xyz([0.1431, 0.0606, 0.7141])),
            ("rTRC", gammaCurve(2.2)),
            ("gTRC", gammaCurve(2.2)),
            ("bTRC", gammaCurve(2.2)),
        ])
    }

    static func grayProfile() -> [UInt8] {
        build(colourSpace: "GRAY", tags: [
            ("desc", description("Emulsion test gray")),
            ("cprt", text("No copyright, test data")),
            ("wtpt", xyz([0.9642, 1.0, 0.8249])),
            ("kTRC", gammaCurve(1.0)),
        ])
    }

    private static func build(colourSpace: String, tags: [(String, [UInt8])]) -> [UInt8] {
        var table = be32(UInt32(tags.count))
        var data = [UInt8]()
        var offset = 128 + 4 + 12 * tags.count
        for (signature, body) in tags {
            table += ascii(signature) + be32(UInt32(offset)) + be32(UInt32(body.count))
            var padded = body
            while padded.count % 4 != 0 { padded.append(0) }
            data += padded
            offset += padded.count
        }
        var header = [UInt8](repeating: 0, count: 128)
        func put(_ bytes: [UInt8], at index: Int) { header.replaceSubrange(index..<index + bytes.count, with: bytes) }
        put(be32(UInt32(offset)), at: 0)
        put(be32(0x0210_0000), at: 8)                  // version 2.1
        put(ascii("mntr"), at: 12)                      // display device class
        put(ascii(colourSpace), at: 16)
        put(ascii("XYZ "), at: 20)                      // profile connection space
        put([0x07, 0xE8, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0], at: 24) // 2024-01-01 00:00:00
        put(ascii("acsp"), at: 36)
        put(s15f16([0.9642, 1.0, 0.8249]), at: 68)     // PCS illuminant D50
        return header + table + data
    }

    private static func xyz(_ v: [Double]) -> [UInt8] { ascii("XYZ ") + be32(0) + s15f16(v) }
    private static func gammaCurve(_ gamma: Double) -> [UInt8] {
        let g = UInt16(gamma * 256)
        return ascii("curv") + be32(0) + be32(1) + [UInt8(g >> 8), UInt8(g & 0xFF)]
    }
    private static func text(_ s: String) -> [UInt8] { ascii("text") + be32(0) + ascii(s) + [0] }
    private static func description(_ s: String) -> [UInt8] {
        ascii("desc") + be32(0) + be32(UInt32(s.utf8.count + 1)) + ascii(s) + [0]
            + be32(0) + be32(0) + [0, 0, 0] + [UInt8](repeating: 0, count: 67)
    }
    private static func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }
    private static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    private static func s15f16(_ v: [Double]) -> [UInt8] { v.flatMap { be32(UInt32(bitPattern: Int32(($0 * 65536).rounded()))) } }
}

/// Builds PNG files by hand with stored (uncompressed) deflate blocks and filter type 0 on each row.
enum TinyPNG {
    static func build(width: Int, height: Int, bitDepth: Int, colorType: Int, rows: [[UInt8]],
                      extraChunks: [(String, [UInt8])] = []) -> [UInt8] {
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height))
            + [UInt8(bitDepth), UInt8(colorType), 0, 0, 0])
        for (type, body) in extraChunks { png += chunk(type, body) }
        let raw: [UInt8] = rows.flatMap { [UInt8(0)] + $0 }
        png += chunk("IDAT", zlibStored(raw))
        png += chunk("IEND", [])
        return png
    }

    private static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var index = 0
        repeat {
            let count = min(65535, data.count - index)
            let final: UInt8 = index + count == data.count ? 1 : 0
            out += [final, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            out += data[index..<index + count]
            index += count
        } while index < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return out + be32(b << 16 | a)
    }

    private static func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + body
        return be32(UInt32(body.count)) + typed + be32(crc32(typed))
    }

    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        return ~crc
    }

    private static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
}

/// Finding and running external tools (ImageMagick).
enum Tool {
    static func find(_ name: String) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        String(decoding: try runData(tool, arguments), as: UTF8.self)
    }

    static func runData(_ tool: String, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PNGError(path: tool, kind: .io, message: "exited with status \(process.terminationStatus)")
        }
        return data
    }
}

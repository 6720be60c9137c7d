import EmulsionCore
@testable import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The DNG writer: the file's structure read back with a small TIFF parser, then LibRaw's own tools
/// (`raw-identify`, `dcraw_emu`, from Debian's libraw-bin) as independent readers. The LibRaw checks
/// are skipped where those tools are not installed.
final class DNGWriterTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("DNGWriterTests-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: Structure

    func testFileStructureAndTagValues() throws {
        let scene = SyntheticScene(width: 240, height: 160, camera: SyntheticCamera(cfa: .gbrg))
        let raw = scene.render()
        let bytes = try DNGWriter.encode(raw)
        let tiff = try MiniTIFF(bytes)

        XCTAssertEqual(Array(bytes[0..<4]), [0x49, 0x49, 42, 0])
        let ifd0 = try tiff.ifd(at: tiff.firstIFDOffset)
        XCTAssertEqual(ifd0.tags, ifd0.tags.sorted(), "IFD0 tags ascending")
        XCTAssertTrue(ifd0.entries.values.allSatisfy { $0.valueOffset.map { $0 % 2 == 0 } ?? true }, "word-aligned values")
        XCTAssertEqual(ifd0.nextIFD, 0)

        XCTAssertEqual(ifd0.integers(254), [0])
        XCTAssertEqual(ifd0.integers(256), [240])
        XCTAssertEqual(ifd0.integers(257), [160])
        XCTAssertEqual(ifd0.integers(258), [16])
        XCTAssertEqual(ifd0.integers(259), [1])
        XCTAssertEqual(ifd0.integers(262), [32803])
        XCTAssertEqual(ifd0.integers(274), [1])
        XCTAssertEqual(ifd0.integers(277), [1])
        XCTAssertEqual(ifd0.integers(278), [160])
        XCTAssertEqual(ifd0.integers(279), [240 * 160 * 2])
        XCTAssertEqual(ifd0.integers(284), [1])
        XCTAssertEqual(ifd0.integers(33421), [2, 2])
        XCTAssertEqual(ifd0.integers(33422), [1, 2, 0, 1])  // G B / R G
        XCTAssertEqual(ifd0.integers(50706), [1, 4, 0, 0])
        XCTAssertEqual(ifd0.integers(50707), [1, 1, 0, 0])
        XCTAssertEqual(ifd0.string(271), "Emulsion")
        XCTAssertEqual(ifd0.string(272), "Synthetic Chart")
        XCTAssertEqual(ifd0.string(50708), "Emulsion Synthetic Chart")
        XCTAssertEqual(ifd0.string(306), "2024:06:01 12:00:00")
        XCTAssertNil(ifd0.entries[50713], "a single black needs no BlackLevelRepeatDim")
        XCTAssertEqual(ifd0.integers(50714), [256])
        XCTAssertEqual(ifd0.integers(50717), [16383])
        XCTAssertEqual(ifd0.integers(50778), [21])
        XCTAssertEqual(ifd0.entries[50721]?.type, 10, "ColorMatrix1 is SRATIONAL")
        let cm = try XCTUnwrap(ifd0.reals(50721))
        for i in 0..<9 { XCTAssertEqual(cm[i], SyntheticCamera.canonEOS5DMarkIIColorMatrix2.m[i], accuracy: 1e-6) }
        XCTAssertEqual(ifd0.entries[50728]?.type, 5, "AsShotNeutral is RATIONAL")
        let neutral = try XCTUnwrap(ifd0.reals(50728))
        for i in 0..<3 { XCTAssertEqual(neutral[i], scene.asShotNeutral[i], accuracy: 1e-6) }
        XCTAssertEqual(try XCTUnwrap(ifd0.reals(50730))[0], scene.baselineExposure, accuracy: 1e-6)
        XCTAssertNil(ifd0.entries[50964], "no ForwardMatrix unless the camera records one")

        // The strip is the samples, little-endian, at an aligned offset.
        let offset = try XCTUnwrap(ifd0.integers(273)?.first)
        XCTAssertEqual(offset % 2, 0)
        XCTAssertEqual(offset + 240 * 160 * 2, bytes.count)
        let decoded = (0..<raw.samples.count).map { UInt16(bytes[offset + 2 * $0]) | UInt16(bytes[offset + 2 * $0 + 1]) << 8 }
        XCTAssertEqual(decoded, raw.samples)

        // Exif IFD.
        let exifOffset = try XCTUnwrap(ifd0.integers(34665)?.first)
        let exif = try tiff.ifd(at: exifOffset)
        XCTAssertEqual(exif.tags, exif.tags.sorted())
        XCTAssertEqual(exif.integers(34855), [100])
        XCTAssertEqual(try XCTUnwrap(exif.reals(33434))[0], 1.0 / 125, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(exif.reals(33437))[0], 5.6, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(exif.reals(37386))[0], 50, accuracy: 1e-6)
        XCTAssertEqual(exif.string(36867), "2024:06:01 12:00:00")
        XCTAssertEqual(exif.integers(36864), Array("0230".utf8).map(Int.init))
    }

    func testPerPositionBlackForwardMatrixAndSecondCalibration() throws {
        var camera = SyntheticCamera(cfa: .rggb)
        camera.recordsForwardMatrix = true
        let scene = SyntheticScene(width: 240, height: 160, camera: camera)
        var raw = scene.render()
        raw.levels = SensorLevels(blackTileWidth: 2, blackTileHeight: 2, blackTile: [250, 256, 257.5, 262], white: 16000)
        raw.colour.dngCalibrations.insert(DNGCalibration(illuminant: 17, colorMatrix: .identity, forwardMatrix: nil,
                                                         cameraCalibration: .diagonal(SIMD3(1.01, 1, 0.99))), at: 0)
        raw.colour.analogBalance = SIMD3(1, 1, 1.05)
        raw.metadata.orientation = .rotate90Clockwise
        let ifd0 = try MiniTIFF(DNGWriter.encode(raw)).ifd(at: 8)
        XCTAssertEqual(ifd0.integers(50713), [2, 2])
        XCTAssertEqual(ifd0.entries[50714]?.type, 5, "fractional blacks are written as RATIONAL")
        XCTAssertEqual(ifd0.reals(50714), [250, 256, 257.5, 262])
        XCTAssertEqual(ifd0.integers(50717), [16000])
        XCTAssertEqual(ifd0.integers(50778), [17])
        XCTAssertEqual(ifd0.integers(50779), [21])
        XCTAssertEqual(ifd0.reals(50721), Matrix3.identity.m)
        XCTAssertEqual(try XCTUnwrap(ifd0.reals(50723))[0], 1.01, accuracy: 1e-9)
        XCTAssertNil(ifd0.entries[50724], "identity CameraCalibration is not written")
        let cm2 = try XCTUnwrap(ifd0.reals(50722))
        let fm2 = try XCTUnwrap(ifd0.reals(50965))
        for i in 0..<9 {
            XCTAssertEqual(cm2[i], SyntheticCamera.canonEOS5DMarkIIColorMatrix2.m[i], accuracy: 1e-6)
            XCTAssertEqual(fm2[i], scene.forwardMatrix.m[i], accuracy: 1e-6)
        }
        XCTAssertNil(ifd0.entries[50964])
        XCTAssertEqual(try XCTUnwrap(ifd0.reals(50727))[2], 1.05, accuracy: 1e-6)
        XCTAssertEqual(ifd0.integers(274), [6])
    }

    func testLinearRawLayout() throws {
        let raw = RawImage(width: 4, height: 2, layout: .rgb, samples: Array(0..<24).map { UInt16($0 * 100) },
                           levels: SensorLevels(black: 0, white: 4095), colour: CameraColour(asShotMultipliers: SIMD3(2, 1, 1.5)),
                           metadata: ShotMetadata())
        let bytes = try DNGWriter.encode(raw)
        let ifd0 = try MiniTIFF(bytes).ifd(at: 8)
        XCTAssertEqual(ifd0.integers(262), [34892])
        XCTAssertEqual(ifd0.integers(277), [3])
        XCTAssertEqual(ifd0.integers(258), [16, 16, 16])
        XCTAssertEqual(ifd0.integers(50714), [0, 0, 0])
        XCTAssertNil(ifd0.entries[33422])
        XCTAssertEqual(ifd0.string(271), "Unknown")
        XCTAssertNil(ifd0.entries[306], "no timestamp, no DateTime")
        let neutral = try XCTUnwrap(ifd0.reals(50728))
        XCTAssertEqual(neutral[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(neutral[1], 1, accuracy: 1e-6)
        XCTAssertEqual(neutral[2], 1 / 1.5, accuracy: 1e-6)
        XCTAssertEqual(bytes.count, try XCTUnwrap(ifd0.integers(273)?.first) + 48)
    }

    func testFailuresAreOneLine() throws {
        let scene = SyntheticScene(width: 240, height: 160)
        let url = directory.appendingPathComponent("missing/sub/dir/x.dng")
        XCTAssertThrowsError(try DNGWriter.write(scene.render(), to: url)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.hasPrefix("cannot write DNG \(url.path)"), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
        var broken = scene.render()
        broken.samples.removeLast()
        XCTAssertThrowsError(try DNGWriter.encode(broken)) { error in
            XCTAssertEqual((error as? DNGWriter.Failure)?.message, "cannot write DNG: 38399 samples for 240×160×1")
        }
    }

    func testExifDate() {
        XCTAssertEqual(DNGWriter.exifDate(0), "1970:01:01 00:00:00")
        XCTAssertEqual(DNGWriter.exifDate(951_782_400 + 3661), "2000:02:29 01:01:01")
        XCTAssertEqual(DNGWriter.exifDate(1_717_243_200), "2024:06:01 12:00:00")
        XCTAssertEqual(DNGWriter.exifDate(-1), "1969:12:31 23:59:59")
        XCTAssertEqual(DNGWriter.exifDate(4_102_444_799), "2099:12:31 23:59:59")
    }

    func testRationalEncoding() {
        XCTAssertTrue(DNGWriter.TIFFEntry.fraction(0.4716, limit: Double(Int32.max)) == (471_600, 1_000_000))
        XCTAssertTrue(DNGWriter.TIFFEntry.fraction(-0.7798, limit: Double(Int32.max)) == (-779_800, 1_000_000))
        // Large values give up decimals rather than overflow.
        XCTAssertTrue(DNGWriter.TIFFEntry.fraction(65535.5, limit: Double(Int32.max)) == (655_355_000, 10_000))
    }

    // MARK: LibRaw reads it

    func testRawIdentifyReadsEveryBayerLayout() throws {
        let tool = try requireTool("raw-identify")
        for (name, cfa) in CFAPattern.bayerLayouts.sorted(by: { $0.key < $1.key }) {
            let scene = SyntheticScene(width: 480, height: 320, camera: SyntheticCamera(cfa: cfa))
            let url = directory.appendingPathComponent("\(name).dng")
            try DNGWriter.write(scene.render(), to: url)
            let out = try run(tool, ["-v", url.path])
            XCTAssertTrue(out.contains("Camera: Emulsion Synthetic Chart"), out)
            XCTAssertTrue(out.contains("DNG Version: 1.4.0.0"), out)
            XCTAssertTrue(out.contains("Timestamp: Sat Jun  1 12:00:00 2024"), out)
            XCTAssertTrue(out.contains("Full size:    480 x 320"), out)
            XCTAssertTrue(out.contains("Image size:   480 x 320"), out)
            XCTAssertTrue(out.contains("Raw colors: 3"), out)
            XCTAssertTrue(out.contains("Filter pattern: " + String(repeating: name, count: 4)), "\(name): \(out)")
            XCTAssertTrue(out.contains("black: 256"), out)
            XCTAssertTrue(out.contains("ISO speed: 100"), out)
            XCTAssertTrue(out.contains("Shutter: 1/125.0"), out)
            XCTAssertTrue(out.contains("DNG Illuminant 1: D65"), out)
            XCTAssertTrue(out.contains("Baseline exposure: \(fixed(scene.baselineExposure, 3))"), out)
            XCTAssertTrue(out.contains("0.4716\t0.0603\t-0.0830"), out)
            // LibRaw's rgb_cam from our ColorMatrix agrees with the scene's cameraToSRGB.
            let rgbCam = try XCTUnwrap(matrix(after: "Camera2RGB matrix", in: out))
            for i in 0..<9 { XCTAssertEqual(rgbCam[i], scene.cameraToSRGB.m[i], accuracy: 2e-3, "rgb_cam[\(i)]") }
            // As-shot white balance = 1 / AsShotNeutral.
            let asShot = try XCTUnwrap(out.split(separator: "\n").first { $0.contains("As shot") })
            let coeffs = asShot.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Double($0) }
            XCTAssertGreaterThanOrEqual(coeffs.count, 3)
            for c in 0..<3 { XCTAssertEqual(coeffs[c], scene.asShotMultipliers[c], accuracy: 1e-4, asShot.description) }
        }
    }

    func testRawIdentifyReadsPerPositionBlack() throws {
        let tool = try requireTool("raw-identify")
        var raw = SyntheticScene(width: 240, height: 160).render()
        raw.levels = SensorLevels(blackTileWidth: 2, blackTileHeight: 2, blackTile: [250, 256, 258, 262], white: 16383)
        let url = directory.appendingPathComponent("black.dng")
        try DNGWriter.write(raw, to: url)
        let out = try run(tool, ["-v", url.path])
        XCTAssertTrue(out.contains("BlackLevelRepeatDim: 2 x 2"), out)
        XCTAssertTrue(out.contains("cblack[6 .. 9]: 250 256 258 262"), out)
    }

    /// `dcraw_emu` demosaics the file; its linear 16-bit output at the patch centres is the truth:
    /// raw colour (`-o 0`) gives the balanced camera RGB (checks black, white and multipliers), sRGB
    /// (`-o 1`) gives `exposureScale ·` linear sRGB of the published colour (checks the matrix).
    func testDcrawEmuRendersTheChart() throws {
        let tool = try requireTool("dcraw_emu")
        let scene = SyntheticScene(width: 480, height: 320)
        let url = directory.appendingPathComponent("chart.dng")
        try DNGWriter.write(scene.render(), to: url)

        // The plain command from the design notes. dcraw_emu exits 0 even on failure: check the file.
        _ = try run(tool, ["-w", "-4", "-T", url.path])
        let plain = url.appendingPathExtension("tiff")
        XCTAssertTrue(FileManager.default.fileExists(atPath: plain.path), "dcraw_emu wrote no image")
        let plainImage = try MiniTIFF.readRGB16(Array(try Data(contentsOf: plain)))
        XCTAssertEqual(plainImage.width, 480)
        XCTAssertEqual(plainImage.height, 320)

        // Raw colour, bilinear, true white level (-c 0).
        let rawOut = directory.appendingPathComponent("raw.tiff")
        _ = try run(tool, ["-w", "-o", "0", "-q", "0", "-c", "0", "-4", "-T", "-Z", rawOut.path, url.path])
        let rawImage = try MiniTIFF.readRGB16(Array(try Data(contentsOf: rawOut)))
        for t in scene.chartPatches {
            let expected = scene.asShotMultipliers * t.cameraRGB
            let got = rawImage.mean(in: t.sampleRect) / 65535
            for c in 0..<3 {
                XCTAssertEqual(got[c], min(expected[c], 1), accuracy: 2e-4, "\(t.reference.name) raw channel \(c)")
            }
        }
        // The clipped end of the grey ramp reaches full scale in green: white level read right.
        let ramp = scene.layout.greyRamp
        let end = rawImage.mean(in: SyntheticScene.Rect(x: ramp.maxX - 6, y: ramp.y + 2, width: 4, height: ramp.height - 4))
        XCTAssertEqual(end.y, 65535, accuracy: 1)

        // sRGB output.
        let srgbOut = directory.appendingPathComponent("srgb.tiff")
        _ = try run(tool, ["-w", "-o", "1", "-q", "0", "-c", "0", "-4", "-T", "-Z", srgbOut.path, url.path])
        let srgbImage = try MiniTIFF.readRGB16(Array(try Data(contentsOf: srgbOut)))
        for t in scene.chartPatches {
            let expected = scene.exposureScale * t.linearSRGB
            let got = srgbImage.mean(in: t.sampleRect) / 65535
            for c in 0..<3 {
                XCTAssertEqual(got[c], min(max(expected[c], 0), 1), accuracy: 2e-3, "\(t.reference.name) sRGB channel \(c)")
            }
        }
    }

    // MARK: Helpers

    func requireTool(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw XCTSkip("\(name) not installed (Debian package libraw-bin)")
    }

    func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["TZ"] = "UTC"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, "\(tool) \(arguments): \(text)")
        return text
    }

    /// The 3×3 matrix printed on the three lines after `title` by raw-identify.
    func matrix(after title: String, in text: String) -> [Double]? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let i = lines.firstIndex(where: { $0.hasPrefix(title) }), i + 3 < lines.count else { return nil }
        let values = lines[(i + 1)...(i + 3)].flatMap { $0.split(separator: "\t").compactMap { Double($0) } }
        return values.count == 9 ? values : nil
    }

    func fixed(_ v: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", v) }
}

/// Just enough of a little-endian TIFF reader to check what the writer wrote and what dcraw_emu wrote.
struct MiniTIFF {
    struct Failure: Error, CustomStringConvertible { let description: String }

    struct Entry {
        let type: Int
        let count: Int
        let valueOffset: Int?  // nil when inline
        let bytes: [UInt8]
    }

    struct IFD {
        var entries: [Int: Entry] = [:]
        var tags: [Int] = []
        var nextIFD = 0

        func integers(_ tag: Int) -> [Int]? {
            guard let e = entries[tag] else { return nil }
            switch e.type {
            case 1, 7: return e.bytes.map(Int.init)
            case 3: return (0..<e.count).map { Int(u16(e.bytes, 2 * $0)) }
            case 4: return (0..<e.count).map { Int(u32(e.bytes, 4 * $0)) }
            default: return nil
            }
        }

        func reals(_ tag: Int) -> [Double]? {
            guard let e = entries[tag] else { return nil }
            switch e.type {
            case 5: return (0..<e.count).map { Double(u32(e.bytes, 8 * $0)) / Double(u32(e.bytes, 8 * $0 + 4)) }
            case 10:
                return (0..<e.count).map {
                    Double(Int32(bitPattern: u32(e.bytes, 8 * $0))) / Double(Int32(bitPattern: u32(e.bytes, 8 * $0 + 4)))
                }
            default: return integers(tag)?.map(Double.init)
            }
        }

        func string(_ tag: Int) -> String? {
            guard let e = entries[tag], e.type == 2 else { return nil }
            return String(decoding: e.bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    let bytes: [UInt8]
    let firstIFDOffset: Int

    init(_ bytes: [UInt8]) throws {
        guard bytes.count >= 8, bytes[0] == 0x49, bytes[1] == 0x49, u16(bytes, 2) == 42 else {
            throw Failure(description: "not a little-endian TIFF")
        }
        self.bytes = bytes
        firstIFDOffset = Int(u32(bytes, 4))
    }

    func ifd(at offset: Int) throws -> IFD {
        guard offset + 2 <= bytes.count else { throw Failure(description: "IFD offset \(offset) past the end") }
        let n = Int(u16(bytes, offset))
        var ifd = IFD()
        let sizes = [1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8, 11: 4, 12: 8]
        for i in 0..<n {
            let p = offset + 2 + 12 * i
            let tag = Int(u16(bytes, p)), type = Int(u16(bytes, p + 2)), count = Int(u32(bytes, p + 4))
            guard let size = sizes[type] else { throw Failure(description: "tag \(tag): unknown type \(type)") }
            let length = size * count
            let at = length <= 4 ? p + 8 : Int(u32(bytes, p + 8))
            guard at + length <= bytes.count else { throw Failure(description: "tag \(tag) value past the end") }
            ifd.entries[tag] = Entry(type: type, count: count, valueOffset: length <= 4 ? nil : at,
                                     bytes: Array(bytes[at..<(at + length)]))
            ifd.tags.append(tag)
        }
        ifd.nextIFD = Int(u32(bytes, offset + 2 + 12 * n))
        return ifd
    }

    struct RGB16 {
        let width: Int
        let height: Int
        let samples: [UInt16]

        func mean(in r: SyntheticScene.Rect) -> SIMD3<Double> {
            var sum = SIMD3<Double>(repeating: 0)
            for y in r.y..<r.maxY {
                for x in r.x..<r.maxX {
                    let i = 3 * (y * width + x)
                    sum += SIMD3(Double(samples[i]), Double(samples[i + 1]), Double(samples[i + 2]))
                }
            }
            return sum / Double(r.area)
        }
    }

    /// An uncompressed, interleaved 16-bit RGB TIFF (one contiguous run of strips), as dcraw_emu writes.
    static func readRGB16(_ bytes: [UInt8]) throws -> RGB16 {
        let tiff = try MiniTIFF(bytes)
        let ifd = try tiff.ifd(at: tiff.firstIFDOffset)
        guard let w = ifd.integers(256)?.first, let h = ifd.integers(257)?.first,
              ifd.integers(258)?.allSatisfy({ $0 == 16 }) == true, ifd.integers(277)?.first == 3,
              ifd.integers(259)?.first ?? 1 == 1, let start = ifd.integers(273)?.first
        else { throw Failure(description: "not an uncompressed 16-bit RGB TIFF") }
        let count = w * h * 3
        guard start + 2 * count <= bytes.count else { throw Failure(description: "pixel data past the end") }
        let samples = (0..<count).map { u16(bytes, start + 2 * $0) }
        return RGB16(width: w, height: h, samples: samples)
    }
}

private func u16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
private func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
    UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
}

/// Lossless JPEG tiles (`DNGWriter.SampleStorage.losslessJPEGTiles`, `LosslessJPEGEncoder`) and
/// GainMap opcodes, read back by LibRaw's own unpack (an independent T.81 decoder: LibRaw 0.20's
/// `lossless_dng_load_raw`) and by Emulsion's tile decoder. Tolerance: none; the storage is lossless.
final class DNGWriterTileTests: XCTestCase {
    /// A phone capture whose size leaves partial tiles on the right and at the bottom (600 × 400
    /// in 256 × 192 tiles: the last column 88 wide, the last row 16 high); every other tile codes
    /// each component with its own Huffman table, as in a Pixel's DNG.
    func testPhoneCaptureTilesAndGainMapsReadBackExactly() throws {
        let directory = TestSupport.temporaryDirectory("dng-tiles")
        defer { try? FileManager.default.removeItem(at: directory) }
        let capture = SyntheticPhoneCapture.render(width: 600, height: 400)
        let url = directory.appendingPathComponent("phone.dng")
        try DNGWriter.write(capture, to: url, storage: .losslessJPEGTiles(width: SyntheticPhoneCapture.tileWidth,
                                                                          height: SyntheticPhoneCapture.tileHeight))
        let probe = RawFile.LosslessTilesProbe()
        let ours = try RawFile.$losslessTilesProbe.withValue(probe) { try RawFile.read(path: url.path) }
        XCTAssertTrue(probe.used, "the tiles take Emulsion's LJ92 decoder")
        let libRaw = try RawFile.readWithLibRawUnpack(path: url.path)
        XCTAssertEqual(ours.width, 600)
        XCTAssertEqual(ours.height, 400)
        XCTAssertTrue(libRaw.samples == capture.samples, "LibRaw's decode of the tiles differs from what was written")
        XCTAssertTrue(ours.samples == capture.samples, "Emulsion's decode of the tiles differs from what was written")
        XCTAssertEqual(ours.lensShading?.maps, capture.lensShading?.maps, "the GainMaps read back as written")
        XCTAssertEqual(ours.lensShading?.maps.count, 4)

        // The same image as an uncompressed strip reads back with the same metadata.
        let plain = directory.appendingPathComponent("plain.dng")
        try DNGWriter.write(capture, to: plain)
        let strip = try RawFile.read(path: plain.path)
        XCTAssertTrue(strip.samples == ours.samples)
        XCTAssertEqual(strip.levels, ours.levels)
        XCTAssertEqual(strip.colour, ours.colour)
        XCTAssertEqual(strip.lensShading?.maps, ours.lensShading?.maps)
    }

    /// The corners are darkened by the lens and the gain maps undo it: the corrected mosaic
    /// matches the plain scene within the noise (same seed, so the same noise before shading).
    func testTheGainMapsUndoThePhonesShading() {
        let capture = SyntheticPhoneCapture.render(width: 400, height: 300)
        var camera = SyntheticCamera(noise: .init())
        camera.model = "Synthetic Phone"
        let scene = SyntheticScene(width: 400, height: 300, camera: camera).render()
        let shading = try! XCTUnwrap(capture.lensShading)
        let black = Float(256)
        // Corner photosite (red at 0,0 of RGGB): darkened by 1 + 0.9.
        let corner = (Float(capture.samples[0]) - black) / (Float(scene.samples[0]) - black)
        XCTAssertEqual(corner, 1 / 1.9, accuracy: 0.02)
        var worst: Float = 0
        for y in stride(from: 0, to: 300, by: 7) {
            for x in stride(from: 0, to: 400, by: 5) {
                let map = shading.maps[(y & 1) * 2 + (x & 1)]
                let gain = map.gain(row: y, column: x, imageWidth: 400, imageHeight: 300)
                let corrected = (Float(capture.samples[y * 400 + x]) - black) * gain + black
                // Rounding to whole DN after dividing by the gain: at most half a DN times the gain.
                worst = max(worst, abs(corrected - Float(scene.samples[y * 400 + x])) / gain)
            }
        }
        XCTAssertLessThanOrEqual(worst, 0.5 + 1e-3)
    }

    /// Code lengths stay within 16 bits for a steeply skewed histogram (T.81 K.3), the all-ones
    /// code stays unused, and the codes are prefix-free.
    func testHuffmanTableLimitsLengthsAndIsPrefixFree() {
        let frequencies = (0..<17).map { 1 << (20 - $0) }
        let table = LosslessJPEGEncoder.HuffmanTable(frequencies: frequencies)
        XCTAssertEqual(table.lengths.max(), 16)
        XCTAssertEqual(table.symbols.count, 17)
        var kraft = 0.0
        for s in 0..<17 {
            kraft += pow(2, -Double(table.lengths[s]))
            XCTAssertNotEqual(table.codes[s], (1 << table.lengths[s]) - 1, "symbol \(s) took the all-ones code")
            for t in 0..<17 where t != s && table.lengths[t] >= table.lengths[s] {
                XCTAssertNotEqual(table.codes[t] >> (table.lengths[t] - table.lengths[s]), table.codes[s], "\(s) prefixes \(t)")
            }
        }
        XCTAssertLessThan(kraft, 1)
        // The most frequent category gets the shortest code.
        XCTAssertEqual(table.lengths[0], table.lengths.min())
    }

    /// A tile with every category 0…15 (15-bit extremes next to flat runs) through Emulsion's
    /// decoder, with one table for both components and with one each.
    func testEveryCategoryRoundTrips() throws {
        var rng = SplitMix64(seed: 77)
        let width = 32, height = 24
        var tile: [UInt16] = []
        for i in 0..<(width * height) {
            let value: Int
            if i % 11 == 0 { value = rng.below(1 << 15) }
            else if i % 7 == 0 { value = 32767 }
            else if i % 5 == 0 { value = 0 }
            else { value = 1 << (i % 15) }
            tile.append(UInt16(value))
        }
        // The odd columns (component 2) made flatter, so that its own table differs.
        for i in stride(from: 1, to: tile.count, by: 2) where i % 3 != 0 { tile[i] = 1000 }
        for tables in [LosslessJPEGEncoder.Tables.shared, .perComponent] {
            let bytes = tile.withUnsafeBufferPointer {
                LosslessJPEGEncoder.encode($0, width: width, height: height, precision: 15, tables: tables)
            }
            // T.81 B.2.3: the scan names each component's table (Td, the high nibble); LibRaw
            // ignores it and takes slot c for component c, so only the bytes show it.
            let sos = try XCTUnwrap((0..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA })
            XCTAssertEqual(Array(bytes[(sos + 5)..<(sos + 9)]), [1, 0x00, 2, tables == .shared ? 0x00 : 0x10], "\(tables)")
            var decoded: [UInt16] = []
            let ok = bytes.withUnsafeBufferPointer { b -> Bool in
                guard let jpeg = LosslessJPEG(b) else { return false }
                // LibRaw's slots: component c reads slot c; per component, the two differ.
                XCTAssertEqual(jpeg.tables[0] == jpeg.tables[1], tables == .shared, "\(tables)")
                return jpeg.decode(b, dngVersion: 0x0104_0000) { row, _ in decoded += UnsafeBufferPointer(start: row, count: width) }
            }
            XCTAssertTrue(ok, "\(tables)")
            XCTAssertEqual(decoded, tile, "\(tables)")
        }
    }
}

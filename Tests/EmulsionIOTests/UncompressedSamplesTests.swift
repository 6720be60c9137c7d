import EmulsionCore
@testable import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The uncompressed-DNG fast path (`UncompressedSamples`) against LibRaw's own unpack.
///
/// Reference: LibRaw 0.20 itself (`RawFile.readWithLibRawUnpack`), an independent decoder of the
/// same bytes. Tolerance: none; the fast path exists only where the result is the same image
/// (samples, levels, colour, metadata), so every field must be equal.
final class UncompressedSamplesTests: XCTestCase {
    func assertSameAsLibRaw(_ url: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let fast = try RawFile.read(path: url.path)
        let reference = try RawFile.readWithLibRawUnpack(path: url.path)
        XCTAssertEqual(fast.width, reference.width, file: file, line: line)
        XCTAssertEqual(fast.height, reference.height, file: file, line: line)
        XCTAssertEqual(fast.layout, reference.layout, file: file, line: line)
        XCTAssertTrue(fast.samples == reference.samples, "\(url.lastPathComponent): samples differ from LibRaw's", file: file, line: line)
        XCTAssertEqual(fast.levels, reference.levels, file: file, line: line)
        XCTAssertEqual(fast.colour, reference.colour, file: file, line: line)
        XCTAssertEqual(fast.metadata, reference.metadata, file: file, line: line)
    }

    /// Camera-written uncompressed DNGs: Magic Lantern's packed 14-bit with margins, PiDNG's packed 10-bit.
    func testRealSamplesTakeTheFastPathAndAgreeWithLibRaw() throws {
        var fast: [String] = []
        for sample in TestSupport.rawSamples() where sample.name.lowercased().hasSuffix(".dng") {
            let stored = try RawFile.readDeferringSamples(path: sample.url.path).1?.uncompressed
            guard stored != nil else { continue }
            fast.append(sample.name)
            try assertSameAsLibRaw(sample.url)
        }
        let expected = ["canon-eos_kiss_x4-colorchart_crop.dng", "raspberrypi-gs_camera_imx296-lightspot.dng"]
        let present = expected.filter { name in TestSupport.rawSamples().contains { $0.name == name } }
        if present.isEmpty && !TestSupport.inCI { throw XCTSkip("samples missing") }
        XCTAssertEqual(fast.sorted(), present.sorted(), "which samples take the fast path")
    }

    /// Synthetic DNGs covering what the camera files do not: 16-bit in both byte orders, 12-bit,
    /// margins (ActiveArea), several contiguous strips.
    func testSyntheticVariantsAgreeWithLibRaw() throws {
        let directory = TestSupport.temporaryDirectory("uncompressed")
        defer { try? FileManager.default.removeItem(at: directory) }
        let variants: [MiniDNG] = [
            MiniDNG(bits: 16, bigEndian: false),
            MiniDNG(bits: 16, bigEndian: true),
            MiniDNG(bits: 16, bigEndian: false, activeArea: [2, 4, 38, 54]),
            MiniDNG(bits: 16, bigEndian: true, activeArea: [2, 4, 38, 54], rowsPerStrip: 7),
            MiniDNG(bits: 12, bigEndian: false),
            MiniDNG(bits: 12, bigEndian: true, activeArea: [0, 3, 40, 59], rowsPerStrip: 5),
            MiniDNG(bits: 14, bigEndian: false, width: 61),
            MiniDNG(bits: 10, bigEndian: true, width: 63, activeArea: [1, 1, 39, 62]),
            // Visible rows starting on a byte (four samples a load), with widths leaving 1–3 after the groups.
            MiniDNG(bits: 14, bigEndian: false, width: 63, activeArea: [0, 4, 40, 63]),
            MiniDNG(bits: 10, bigEndian: false, width: 62, activeArea: [2, 4, 38, 62]),
            MiniDNG(bits: 12, bigEndian: true, width: 61, activeArea: [0, 2, 40, 61]),
        ]
        for (i, dng) in variants.enumerated() {
            let url = directory.appendingPathComponent("v\(i).dng")
            try Data(dng.bytes()).write(to: url)
            let stored = try RawFile.readDeferringSamples(path: url.path).1?.uncompressed
            XCTAssertNotNil(stored, "variant \(i) (\(dng.bits)-bit) should take the fast path")
            try assertSameAsLibRaw(url)
            // The in-memory entry point reads the same samples.
            let fromBytes = try RawFile.read(bytes: dng.bytes(), label: "v\(i).dng")
            XCTAssertTrue(fromBytes.samples == (try RawFile.read(path: url.path)).samples)
        }
    }

    /// Strips that are not back to back are LibRaw's to read (it reads from the first strip on).
    func testNonContiguousStripsFallBackToLibRaw() throws {
        let url = TestSupport.temporaryDirectory("uncompressed").appendingPathComponent("gap.dng")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try Data(MiniDNG(bits: 16, bigEndian: false, rowsPerStrip: 10, gapBetweenStrips: 2).bytes()).write(to: url)
        let stored = try RawFile.readDeferringSamples(path: url.path).1?.uncompressed
        XCTAssertNil(stored)
    }

    /// A file cut inside its samples is refused with the one-line error LibRaw gives for packed
    /// samples (its 16-bit loader reads past the end without complaint and fills zeros).
    func testTruncatedSamplesAreRefused() throws {
        let bytes = MiniDNG(bits: 16, bigEndian: false).bytes()
        let stored = UncompressedSamples(offset: bytes.count - 100, rawWidth: 64, rawHeight: 40, bitsPerSample: 16,
                                         bigEndian: false, top: 0, left: 0, width: 64, height: 40)
        XCTAssertThrowsError(try stored.read(bytes: bytes, label: "cut.dng")) { error in
            XCTAssertEqual("\(error)", "cut.dng: truncated raw data (unexpected end of file)")
        }
        for dng in [MiniDNG(bits: 16, bigEndian: false), MiniDNG(bits: 12, bigEndian: true)] {
            let whole = dng.bytes()
            for length in [whole.count - 1, whole.count / 2] {
                XCTAssertThrowsError(try RawFile.read(bytes: Array(whole.prefix(length)), label: "cut.dng")) { error in
                    XCTAssertEqual("\(error)", "cut.dng: truncated raw data (unexpected end of file)")
                }
            }
        }
    }

    /// The worker's deferred samples arrive in the parent identical to an in-process decode.
    func testIsolatedDecoderReadsDeferredSamplesFromTheFile() throws {
        let url = TestSupport.temporaryDirectory("uncompressed").appendingPathComponent("w.dng")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try Data(MiniDNG(bits: 16, bigEndian: true, activeArea: [2, 4, 38, 54]).bytes()).write(to: url)
        let (header, deferred) = try RawFile.readDeferringSamples(path: url.path)
        let stored = deferred?.uncompressed
        XCTAssertTrue(header.samples.isEmpty)
        let expected = try RawFile.readWithLibRawUnpack(path: url.path)
        XCTAssertTrue(try XCTUnwrap(stored).read(path: url.path) == expected.samples)
    }
}

/// A minimal uncompressed CFA DNG (TIFF 6.0 + DNG 1.4 tags) with deterministic pseudo-random
/// samples, written by hand so byte order, bit depth, strips and margins can vary.
struct MiniDNG {
    var bits: Int
    var bigEndian: Bool
    var width = 64
    var height = 40
    /// ActiveArea (top, left, bottom, right), or nil.
    var activeArea: [Int]? = nil
    var rowsPerStrip: Int? = nil
    var gapBetweenStrips = 0

    func samples() -> [UInt16] {
        var rng = SplitMix64(seed: UInt64(bits * 1000 + width))
        let limit = UInt16((1 << bits) - 1)
        return (0..<(width * height)).map { _ in UInt16.random(in: 0...limit, using: &rng) }
    }

    func pixelRows() -> [[UInt8]] {
        let s = samples()
        return (0..<height).map { y in
            var row: [UInt8] = []
            if bits == 16 {
                for x in 0..<width {
                    let v = s[y * width + x]
                    row += bigEndian ? [UInt8(v >> 8), UInt8(v & 0xff)] : [UInt8(v & 0xff), UInt8(v >> 8)]
                }
            } else {
                var acc: UInt64 = 0, n = 0
                for x in 0..<width {
                    acc = acc << UInt64(bits) | UInt64(s[y * width + x]); n += bits
                    while n >= 8 { row.append(UInt8((acc >> UInt64(n - 8)) & 0xff)); n -= 8 }
                }
                if n > 0 { row.append(UInt8((acc << UInt64(8 - n)) & 0xff)) }
            }
            return row
        }
    }

    func bytes() -> [UInt8] {
        let rows = pixelRows()
        let perStrip = rowsPerStrip ?? height
        var strips: [[UInt8]] = []
        var y = 0
        while y < height { strips.append(rows[y..<min(height, y + perStrip)].flatMap { $0 }); y += perStrip }
        // (tag, type, values): type 3 SHORT, 4 LONG, 1 BYTE, 2 ASCII, 10 SRATIONAL.
        var entries: [(Int, Int, [Int])] = [
            (254, 4, [0]), (256, 4, [width]), (257, 4, [height]), (258, 3, [bits]), (259, 3, [1]), (262, 3, [32803]),
            (271, 2, Array("Emulsion".utf8).map(Int.init) + [0]), (272, 2, Array("MiniDNG".utf8).map(Int.init) + [0]),
            (273, 4, Array(repeating: 0, count: strips.count)), (277, 3, [1]), (278, 4, [perStrip]),
            (279, 4, strips.map(\.count)), (33421, 3, [2, 2]), (33422, 1, [0, 1, 1, 2]), (50706, 1, [1, 4, 0, 0]),
            (50708, 2, Array("Emulsion MiniDNG".utf8).map(Int.init) + [0]), (50714, 3, [64]), (50717, 3, [(1 << bits) - 1]),
            (50721, 10, [10000, 10000, -2000, 10000, -3000, 10000, -1000, 10000, 11000, 10000, 1000, 10000, -500, 10000, 1000, 10000, 6000, 10000]),
            (50778, 3, [21]),
        ]
        if let a = activeArea { entries.append((50829, 4, a)) }
        entries.sort { $0.0 < $1.0 }
        func u16(_ v: Int) -> [UInt8] { bigEndian ? [UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] : [UInt8(v & 0xff), UInt8(v >> 8 & 0xff)] }
        func u32(_ v: Int) -> [UInt8] {
            let b = [UInt8(v & 0xff), UInt8(v >> 8 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 24 & 0xff)]
            return bigEndian ? b.reversed() : b
        }
        func payload(_ type: Int, _ values: [Int]) -> [UInt8] {
            switch type {
            case 1, 2: return values.map { UInt8($0) }
            case 3: return values.flatMap(u16)
            default: return values.flatMap { u32($0 & 0xffff_ffff) }
            }
        }
        let ifdOffset = 8
        let ifdSize = 2 + 12 * entries.count + 4
        var extra: [UInt8] = []
        var extraOffsets: [Int: Int] = [:]
        let extraStart = ifdOffset + ifdSize
        for (tag, type, values) in entries where payload(type, values).count > 4 {
            extraOffsets[tag] = extraStart + extra.count
            extra += payload(type, values)
            if extra.count % 2 == 1 { extra.append(0) }
        }
        var stripOffsets: [Int] = []
        var pixelStart = extraStart + extra.count
        for strip in strips { stripOffsets.append(pixelStart); pixelStart += strip.count + gapBetweenStrips }
        var out: [UInt8] = bigEndian ? [0x4D, 0x4D, 0, 42] : [0x49, 0x49, 42, 0]
        out += u32(ifdOffset)
        out += u16(entries.count)
        for (tag, type, original) in entries {
            let values = tag == 273 ? stripOffsets : original
            let p = payload(type, values)
            out += u16(tag) + u16(type) + u32(type == 10 ? values.count / 2 : values.count)
            if tag == 273 && p.count > 4 {
                out += u32(extraOffsets[tag]!)
            } else if p.count <= 4 {
                out += p + Array(repeating: 0, count: 4 - p.count)
            } else {
                out += u32(extraOffsets[tag]!)
            }
        }
        out += u32(0)
        // Strip offsets written late: patch them into the extra area when they did not fit inline.
        if let at = extraOffsets[273] {
            let patched = payload(4, stripOffsets)
            extra.replaceSubrange((at - extraStart)..<(at - extraStart + patched.count), with: patched)
        }
        out += extra
        for strip in strips { out += strip + Array(repeating: 0, count: gapBetweenStrips) }
        return out
    }
}

import EmulsionCore
@testable import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The LJ92 tile fast path (`LosslessDNGTiles`, `LosslessJPEG`) against LibRaw's own unpack.
///
/// Reference: LibRaw 0.20 (`RawFile.readWithLibRawUnpack`, its `lossless_dng_load_raw`), an
/// independent implementation of ITU-T T.81 Annex H decoding of the same bytes. Tolerance: none;
/// the fast path exists only where the result is bit-identical, so every field must be equal.
final class LosslessJPEGTests: XCTestCase {
    static let lj92Samples = ["blackmagic-pocket_cinema_camera_4k-frame.dng", "blackmagic-pocket_cinema_camera-frame.dng",
                              "google-pixel_7-digizoom_crop.dng"]

    /// Reads `url` and says whether the LJ92 tile path decoded it.
    func readProbing(_ url: URL) throws -> (RawImage, Bool) {
        let probe = RawFile.LosslessTilesProbe()
        let image = try RawFile.$losslessTilesProbe.withValue(probe) { try RawFile.read(path: url.path) }
        return (image, probe.used)
    }

    func testLJ92SamplesTakeTheFastPathAndAgreeWithLibRaw() throws {
        var fast: [String] = []
        for sample in TestSupport.rawSamples() where sample.name.lowercased().hasSuffix(".dng") {
            let (image, used) = try readProbing(sample.url)
            guard used else { continue }
            fast.append(sample.name)
            let reference = try RawFile.readWithLibRawUnpack(path: sample.url.path)
            XCTAssertEqual(image.width, reference.width, sample.name)
            XCTAssertEqual(image.height, reference.height, sample.name)
            XCTAssertEqual(image.layout, reference.layout, sample.name)
            XCTAssertEqual(image.samples.count, reference.samples.count, sample.name)
            XCTAssertTrue(image.samples == reference.samples, "\(sample.name): samples differ from LibRaw's")
            XCTAssertEqual(image.levels, reference.levels, sample.name)
            XCTAssertEqual(image.colour, reference.colour, sample.name)
            XCTAssertEqual(image.metadata, reference.metadata, sample.name)
            XCTAssertEqual(image.lensShading == nil, reference.lensShading == nil, sample.name)
        }
        let present = Self.lj92Samples.filter { name in TestSupport.rawSamples().contains { $0.name == name } }
        if present.count < Self.lj92Samples.count && TestSupport.inCI {
            XCTFail("LJ92 samples missing: \(Set(Self.lj92Samples).subtracting(present).sorted())")
        }
        if present.isEmpty { throw XCTSkip("LJ92 samples missing") }
        XCTAssertEqual(fast.sorted(), present.sorted(), "which samples take the LJ92 fast path")
    }

    /// The Blackmagic files carry a LinearizationTable: the fast path must apply LibRaw's curve,
    /// not pass the decoded values through (this guards the comparison above against a curve
    /// that happens to be the identity).
    func testBlackmagicCurveIsNotIdentity() throws {
        guard let sample = TestSupport.rawSamples().first(where: { $0.name == "blackmagic-pocket_cinema_camera-frame.dng" }) else {
            if TestSupport.inCI { XCTFail("sample missing") }
            throw XCTSkip("sample missing")
        }
        let image = try RawFile.read(path: sample.url.path)
        XCTAssertGreaterThan(image.samples.max() ?? 0, 4095, "12-bit data mapped through the table exceeds 12 bits")
    }

    /// Mutated and truncated tile data never crash: each read gives an image or a `RawFileError`.
    /// LibRaw's own result on a damaged file is not required to match (it may differ on corrupt
    /// data); where our decoder is unsure it leaves the file to LibRaw anyway.
    func testMutatedTileDataNeverCrashes() throws {
        var checked = 0
        for (name, rounds) in [("google-pixel_7-digizoom_crop.dng", 60), ("blackmagic-pocket_cinema_camera-frame.dng", 10)] {
            guard let sample = TestSupport.rawSamples().first(where: { $0.name == name }) else {
                if TestSupport.inCI { XCTFail("\(name) missing") }
                continue
            }
            let original = [UInt8](try Data(contentsOf: sample.url))
            let cfa = TIFFDirectory.all(original).filter { $0.numbers(262)?.first == 32803 }
            let offsets = try XCTUnwrap(cfa.first?.numbers(324)).map { Int($0) }
            let counts = try XCTUnwrap(cfa.first?.numbers(325)).map { Int($0) }
            var rng = SplitMix64(seed: 0x4C4A_3932)
            for round in 0..<rounds {
                var bytes = original
                let t = rng.below(offsets.count)
                let start = offsets[t], length = counts[t]
                switch round % 4 {
                case 0:  // a few random bytes anywhere in the tile, header included
                    for _ in 0..<(1 + rng.below(4)) { bytes[start + rng.below(length)] = UInt8(rng.below(256)) }
                case 1:  // the JPEG header only
                    bytes[start + rng.below(min(length, 200))] = UInt8(rng.below(256))
                case 2:  // the file cut inside this tile
                    bytes = Array(bytes.prefix(start + rng.below(length)))
                default:  // a run of zeros or of 0xFF
                    let at = start + rng.below(length), run = 1 + rng.below(64)
                    let fill: UInt8 = rng.below(2) == 0 ? 0 : 0xFF
                    for i in at..<min(at + run, bytes.count) { bytes[i] = fill }
                }
                do {
                    let image = try RawFile.read(bytes: bytes, label: "mutated.dng")
                    XCTAssertEqual(image.samples.count, image.width * image.height)
                } catch is RawFileError {
                    // refused with a one-line error: fine
                }
                checked += 1
            }
        }
        if checked == 0 { throw XCTSkip("LJ92 samples missing") }
    }

    /// Header edge cases: `LosslessJPEG` refuses what it cannot decode with certainty.
    func testMalformedHeadersAreRefused() {
        func parse(_ b: [UInt8]) -> LosslessJPEG? { b.withUnsafeBufferPointer { LosslessJPEG($0) } }
        XCTAssertNil(parse([]))
        XCTAssertNil(parse([0xFF, 0xD8]))
        XCTAssertNil(parse([0xFF, 0xD8, 0xFF, 0xC3, 0x00, 0x01]))  // segment length below 2
        XCTAssertNil(parse([0xFF, 0xD8, 0xFF, 0xC3, 0x00, 0x40, 0x10]))  // segment past the end
        // SOF3 and SOS with no Huffman table: LibRaw refuses (huff[0] missing).
        let sof: [UInt8] = [0xFF, 0xC3, 0x00, 0x0B, 12, 0x00, 0x02, 0x00, 0x02, 0x01, 0x00, 0x11, 0x00]
        let sos: [UInt8] = [0xFF, 0xDA, 0x00, 0x08, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00]
        XCTAssertNil(parse([0xFF, 0xD8] + sof + sos))
        // With a one-code table it parses; the data then decodes or is refused, never traps.
        let dht: [UInt8] = [0xFF, 0xC4, 0x00, 0x14, 0x00, 1] + [UInt8](repeating: 0, count: 15) + [0]
        let stream = [0xFF, 0xD8] + sof + dht + sos + [0x00, 0x00, 0xFF, 0xD9]
        let jpeg = parse(stream)
        XCTAssertNotNil(jpeg)
        var values: [UInt16] = []
        let ok = stream.withUnsafeBufferPointer { b in
            jpeg?.decode(b, dngVersion: 0x0104_0000) { row, _ in values += UnsafeBufferPointer(start: row, count: 2) } ?? false
        }
        XCTAssertTrue(ok)
        XCTAssertEqual(values, [2048, 2048, 2048, 2048], "all differences 0 from the initial predictor 2^(12-1)")
    }
}

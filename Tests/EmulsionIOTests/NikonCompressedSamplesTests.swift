import EmulsionCore
import EmulsionTestSupport
import Foundation
import XCTest
@testable import EmulsionIO

/// The compressed-NEF fast path (`NikonCompressedSamples`) against LibRaw's own unpack.
///
/// Reference: LibRaw 0.20 (`RawFile.readWithLibRawUnpack`, its `nikon_load_raw`) decoding the
/// same bytes. Tolerance: none; the fast path exists only where the result is bit-identical, so
/// every field must be equal. Damaged streams must either decode identically or be handed back
/// to LibRaw (which then reports its own error or result).
final class NikonCompressedSamplesTests: XCTestCase {
    static let sample = "nikon-d1x-lossy.nef"

    func readProbing(_ path: String) throws -> (RawImage, RawFile.LosslessTilesProbe) {
        let probe = RawFile.LosslessTilesProbe()
        let image = try RawFile.$nikonProbe.withValue(probe) { try RawFile.read(path: path) }
        return (image, probe)
    }

    func samplePath() throws -> String {
        guard let sample = TestSupport.rawSamples().first(where: { $0.name == Self.sample }) else {
            if TestSupport.inCI { XCTFail("\(Self.sample) missing from the raw samples") }
            throw XCTSkip("\(Self.sample) not present")
        }
        return sample.url.path
    }

    func testTheNEFDecodesAsLibRawDecodesIt() throws {
        let path = try samplePath()
        let (image, probe) = try readProbing(path)
        XCTAssertTrue(probe.used, "the lossy NEF should take the fast path")
        let reference = try RawFile.readWithLibRawUnpack(path: path)
        XCTAssertEqual(image.width, reference.width)
        XCTAssertEqual(image.height, reference.height)
        XCTAssertEqual(image.layout, reference.layout)
        XCTAssertTrue(image.samples == reference.samples, "samples differ from LibRaw's")
        XCTAssertEqual(image.levels, reference.levels)
        XCTAssertEqual(image.colour, reference.colour)
        XCTAssertEqual(image.metadata, reference.metadata)
    }

    /// The decode worker leaves the NEF's samples to its parent (`DeferredSamples.nikon`): the
    /// image the parent assembles is LibRaw's, and a stream the decoder declines (cut short) goes
    /// back to a worker running LibRaw's unpack, with LibRaw's outcome.
    func testTheDecodeWorkerLeavesTheNEFStreamToItsParent() throws {
        let path = try samplePath()
        guard case .nikon = try RawFile.readDeferringSamples(path: path).1 else {
            return XCTFail("the worker should defer the NEF's samples")
        }
        let binary = try builtEmulsionBinary()
        let worker = RawDecoder.isolated(executable: binary, timeout: 60)
        let probe = RawFile.LosslessTilesProbe()
        let image = try RawFile.$nikonProbe.withValue(probe) { try worker.decode(path: path, pixelLimit: RawFile.defaultPixelLimit) }
        XCTAssertTrue(probe.used, "the parent should have decoded the stream")
        let reference = try RawFile.readWithLibRawUnpack(path: path)
        XCTAssertTrue(image.samples == reference.samples, "samples differ from LibRaw's")
        XCTAssertEqual(image.levels, reference.levels)
        XCTAssertEqual(image.colour, reference.colour)
        XCTAssertEqual(image.metadata, reference.metadata)

        let directory = TestSupport.temporaryDirectory("nef-worker")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cut = directory.appendingPathComponent("cut.nef")
        try Data(try Data(contentsOf: URL(fileURLWithPath: path)).dropLast(3_000)).write(to: cut)
        let declined = RawFile.LosslessTilesProbe()
        let fromWorker = Result { try RawFile.$nikonProbe.withValue(declined) { try worker.decode(path: cut.path, pixelLimit: RawFile.defaultPixelLimit) } }
        XCTAssertTrue(declined.declined, "a stream cut short should go back to LibRaw")
        assertSameOutcome(fromWorker, asLibRaw: Result { try RawFile.readWithLibRawUnpack(path: cut.path) })
    }

    func testTreeTablesAreCanonicalAndFilledInOrder() {
        // Canonical Huffman codes (ITU-T T.81 Annex C order), each spread over the lookup table.
        // The 12-bit lossy tree: one 2-bit code ("00" → 5), five 3-bit codes from "010", one code
        // each of 4…9 bits and two of 10 bits: 14 codes (Kraft sum exactly 1), the 14th symbol the
        // zero byte after the 13 listed (LibRaw's rows are 32 bytes).
        let (bits, entries) = NikonCompressedSamples.table(NikonCompressedSamples.trees[0])
        XCTAssertEqual(bits, 10)
        XCTAssertEqual(entries[0], 2 << 8 | 5)
        XCTAssertEqual(entries[255], 2 << 8 | 5)
        XCTAssertEqual(entries[256], 3 << 8 | 4)
        XCTAssertEqual(entries[1022], 10 << 8 | 12)
        XCTAssertEqual(entries[1023], 10 << 8 | 0)
        XCTAssertFalse(entries.contains(0), "a complete code leaves no entry empty")
        // Every tree: the codes fill the table from its start; entries past the last code (a tree
        // whose code is incomplete) stay empty (no bits, symbol 0), as LibRaw's table leaves them.
        for tree in NikonCompressedSamples.trees {
            let (_, table) = NikonCompressedSamples.table(tree)
            let used = (1...16).reduce(0) { $0 + tree.counts[$1 - 1] * (table.count >> $1) }
            XCTAssertTrue(table[used...].allSatisfy { $0 == 0 })
            XCTAssertFalse(table[..<used].contains(0))
        }
    }

    func testDamagedStreamsDecodeIdenticallyOrGoBackToLibRaw() throws {
        // Bytes flipped inside the Huffman stream, and the file cut inside it: either the fast
        // path's samples equal LibRaw's, or it declines and LibRaw's outcome is the result.
        let path = try samplePath()
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let directory = TestSupport.temporaryDirectory("nef")
        defer { try? FileManager.default.removeItem(at: directory) }
        var random = SplitMix64(seed: 34713)
        var used = 0, declined = 0
        for trial in 0..<12 {
            var bytes = original
            if trial < 8 {
                for _ in 0..<4 {
                    let at = Int.random(in: 100_000..<bytes.count, using: &random)
                    bytes[at] ^= UInt8.random(in: 1...255, using: &random)
                }
            } else {
                bytes.removeLast(Int.random(in: 1_000..<2_000_000, using: &random))
            }
            let url = directory.appendingPathComponent("damaged-\(trial).nef")
            try Data(bytes).write(to: url)
            let fast = Result { try readProbing(url.path) }
            let reference = Result { try RawFile.readWithLibRawUnpack(path: url.path) }
            switch (fast, reference) {
            case (.success(let (image, probe)), .success(let expected)):
                if probe.used { used += 1 } else { declined += 1 }
                XCTAssertTrue(image.samples == expected.samples, "trial \(trial): samples differ from LibRaw's")
            case (.failure, .failure):
                declined += 1
            case (.success, .failure(let error)):
                XCTFail("trial \(trial): the fast path decoded a file LibRaw refuses (\(error))")
            case (.failure(let error), .success):
                XCTFail("trial \(trial): refused a file LibRaw decodes (\(error))")
            }
        }
        print("damaged NEFs: \(used) decoded by the fast path, \(declined) handed to LibRaw or refused by both")
    }
}

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

    /// The decode worker leaves LJ92 (and DCT) tiles to its parent (`DeferredSamples.losslessTiles`,
    /// the curve sent after the header): the image the parent assembles is LibRaw's, bit for bit,
    /// the Blackmagic files' LinearizationTable included; and tiles the decoder declines (a file
    /// cut inside them) go back to a worker running LibRaw's unpack, with LibRaw's outcome.
    func testTheDecodeWorkerLeavesTheTilesToItsParent() throws {
        let binary = try builtEmulsionBinary()
        let worker = RawDecoder.isolated(executable: binary, timeout: 60)
        let samples = TestSupport.rawSamples().filter { Self.lj92Samples.contains($0.name) }
        if samples.count < Self.lj92Samples.count && TestSupport.inCI { XCTFail("LJ92 samples missing") }
        if samples.isEmpty { throw XCTSkip("LJ92 samples missing") }
        for sample in samples {
            guard case .losslessTiles(let tiles) = try RawFile.readDeferringSamples(path: sample.url.path).1 else {
                XCTFail("\(sample.name): the worker should defer the tiles"); continue
            }
            // The Pixel crop has no LinearizationTable: its tiles carry no curve; the Blackmagic
            // frames carry theirs whole.
            XCTAssertEqual(tiles.curve.count, sample.name.hasPrefix("google") ? 0 : 0x10000, sample.name)
            let probe = RawFile.LosslessTilesProbe()
            let image = try RawFile.$losslessTilesProbe.withValue(probe) { try worker.decode(path: sample.url.path, pixelLimit: RawFile.defaultPixelLimit) }
            XCTAssertTrue(probe.used, "\(sample.name): the parent should have decoded the tiles")
            let reference = try RawFile.readWithLibRawUnpack(path: sample.url.path)
            XCTAssertTrue(image.samples == reference.samples, "\(sample.name): samples differ from LibRaw's")
            XCTAssertEqual(image.levels, reference.levels, sample.name)
            XCTAssertEqual(image.colour, reference.colour, sample.name)
            XCTAssertEqual(image.metadata, reference.metadata, sample.name)
            XCTAssertEqual(image.lensShading?.maps.map(\.gains), reference.lensShading?.maps.map(\.gains), sample.name)
        }

        guard let sample = samples.first(where: { $0.name == "blackmagic-pocket_cinema_camera-frame.dng" }) else { return }
        let directory = TestSupport.temporaryDirectory("lj92-worker")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cut = directory.appendingPathComponent("cut.dng")
        let bytes = try Data(contentsOf: sample.url)
        try Data(bytes.prefix(bytes.count * 3 / 4)).write(to: cut)
        let declined = RawFile.LosslessTilesProbe()
        let fromWorker = Result { try RawFile.$losslessTilesProbe.withValue(declined) { try worker.decode(path: cut.path, pixelLimit: RawFile.defaultPixelLimit) } }
        XCTAssertTrue(declined.declined, "tiles cut short should go back to LibRaw")
        assertSameOutcome(fromWorker, asLibRaw: Result { try RawFile.readWithLibRawUnpack(path: cut.path) })
    }

    /// Without a curve (the identity, as the parent is given it for a phone DNG) the tiles come
    /// out as the JPEG decoded them: mapped through a file's own curve afterwards they are that
    /// file's samples with the curve, on every LJ92 sample, so both layouts' copies (LJ92 rows
    /// and the Blackmagic 4K's DCT blocks) put each value where the lookups do. Reference: the
    /// curve path, itself compared with LibRaw above. Tolerance: none.
    func testTilesWithoutACurveAreTheTilesBeforeIt() throws {
        let samples = TestSupport.rawSamples().filter { Self.lj92Samples.contains($0.name) }
        if samples.count < Self.lj92Samples.count && TestSupport.inCI { XCTFail("LJ92 samples missing") }
        if samples.isEmpty { throw XCTSkip("LJ92 samples missing") }
        for sample in samples {
            guard case .losslessTiles(var tiles) = try RawFile.readDeferringSamples(path: sample.url.path).1,
                  let file = FileBytes(path: sample.url.path) else {
                XCTFail("\(sample.name): the tiles should be deferred"); continue
            }
            // The Pixel crop's curve is the identity, left out: given as a table here.
            let curve = tiles.curve.isEmpty ? RawFile.identityCurve : tiles.curve
            tiles.curve = curve
            guard let withCurve = tiles.decode(file: file) else { XCTFail("\(sample.name): decode with the curve"); continue }
            tiles.curve = []
            guard let without = tiles.decode(file: file) else { XCTFail("\(sample.name): decode without a curve"); continue }
            XCTAssertTrue(without.map { curve[Int($0)] } == withCurve, "\(sample.name): the copies put values elsewhere than the lookups")
        }
    }

    /// The worker's answer carries LibRaw's curve only where it changes something: none for the
    /// Pixel crop (no LinearizationTable: the tiles take the identity without a table), all 65 536 values for
    /// the Blackmagic frames; either way the parent's image is the in-process one.
    func testTheAnswerCarriesTheCurveOnlyWhereItIsNotTheIdentity() throws {
        let samples = TestSupport.rawSamples().filter { Self.lj92Samples.contains($0.name) }
        if samples.isEmpty { throw XCTSkip("LJ92 samples missing") }
        let directory = TestSupport.temporaryDirectory("lj92-answer")
        defer { try? FileManager.default.removeItem(at: directory) }
        for sample in samples {
            let url = directory.appendingPathComponent("answer")
            FileManager.default.createFile(atPath: url.path, contents: nil)
            let handle = try FileHandle(forWritingTo: url)
            XCTAssertEqual(IsolatedDecoding.serve(path: sample.url.path, pixelLimit: RawFile.defaultPixelLimit, to: handle.fileDescriptor), 0)
            try handle.close()
            let answer = try [UInt8](Data(contentsOf: url))
            let headerAt = IsolatedDecoding.magic.count + 1
            let valuesAt = headerAt + 8 + Int(IsolatedDecoding.length(answer[headerAt...]))
            let values = Int(IsolatedDecoding.length(answer[valuesAt...]))
            let identity = sample.name.hasPrefix("google-pixel")
            XCTAssertEqual(values, identity ? 0 : 0x10000, sample.name)
            XCTAssertEqual(answer.count, valuesAt + 8 + 2 * values, sample.name)
            let parsed = try XCTUnwrap(answer.withUnsafeBytes { try IsolatedDecoding.parse($0, path: sample.url.path) })
            let reference = try RawFile.read(path: sample.url.path)
            XCTAssertTrue(parsed.samples == reference.samples, sample.name)
            XCTAssertEqual(parsed.levels, reference.levels, sample.name)
        }
        // A curve of any other length is refused.
        let pixel = try XCTUnwrap(samples.first { $0.name.hasPrefix("google-pixel") })
        let url = directory.appendingPathComponent("answer")
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: 0)
        _ = IsolatedDecoding.serve(path: pixel.url.path, pixelLimit: RawFile.defaultPixelLimit, to: handle.fileDescriptor)
        try handle.close()
        var answer = try [UInt8](Data(contentsOf: url))
        answer.removeLast(8)
        IsolatedDecoding.appendLength(2, to: &answer)
        answer += [0, 0, 1, 0]
        XCTAssertThrowsError(try answer.withUnsafeBytes { try IsolatedDecoding.parse($0, path: pixel.url.path) })
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

    /// Damaged entropy data, where Emulsion's decoder still accepts a tile, gives LibRaw's values
    /// exactly (a differential test: the fast path claims LibRaw's result, not just no crash).
    /// Damage: flipped bits, a byte set to 0xFF (a marker or a stuffed FF where none was), and a
    /// restart marker written into the data, in the tiles of a synthetic phone capture (predictor
    /// 1, one table per tile: the quick loop) and of the Pixel crop. Whatever is declined goes to
    /// LibRaw, so equality is required of every outcome where both decoders return samples.
    func testDamagedTilesDecodeAsLibRawDecodesThem() throws {
        let directory = TestSupport.temporaryDirectory("lj92-damage")
        defer { try? FileManager.default.removeItem(at: directory) }
        var sources: [[UInt8]] = [try DNGWriter.encode(SyntheticPhoneCapture.render(width: 520, height: 400),
                                                       storage: .losslessJPEGTiles(width: 256, height: 192))]
        if let pixel = TestSupport.rawSamples().first(where: { $0.name == "google-pixel_7-digizoom_crop.dng" }) {
            sources.append([UInt8](try Data(contentsOf: pixel.url)))
        } else if TestSupport.inCI {
            XCTFail("google-pixel_7-digizoom_crop.dng missing")
        }
        var rng = SplitMix64(seed: 0xDA_4A6E)
        var compared = 0, accepted = 0
        for (index, original) in sources.enumerated() {
            let cfa = TIFFDirectory.all(original).filter { $0.numbers(262)?.first == 32803 }
            let offsets = try XCTUnwrap(cfa.first?.numbers(324)).map { Int($0) }
            let counts = try XCTUnwrap(cfa.first?.numbers(325)).map { Int($0) }
            for round in 0..<40 {
                var bytes = original
                let t = rng.below(offsets.count)
                // Past the JPEG header (DHT, SOF, SOS: well under 200 bytes here), inside the data.
                let start = offsets[t] + 200, length = counts[t] - 200 - 2
                guard length > 16 else { continue }
                let at = start + rng.below(length)
                switch round % 3 {
                case 0: for _ in 0..<(1 + rng.below(3)) { bytes[start + rng.below(length)] ^= UInt8(1 << rng.below(8)) }
                case 1: bytes[at] = 0xFF
                default: bytes[at] = 0xFF; bytes[at + 1] = UInt8(0xD0 + rng.below(8))
                }
                let url = directory.appendingPathComponent("damaged-\(index)-\(round).dng")
                try Data(bytes).write(to: url)
                let probe = RawFile.LosslessTilesProbe()
                guard let ours = try? RawFile.$losslessTilesProbe.withValue(probe, operation: { try RawFile.read(path: url.path) }),
                      let libRaw = try? RawFile.readWithLibRawUnpack(path: url.path) else { continue }
                compared += 1
                if probe.used { accepted += 1 }
                XCTAssertTrue(ours.samples == libRaw.samples, "source \(index), round \(round): samples differ from LibRaw's")
            }
        }
        XCTAssertGreaterThan(accepted, 10, "damaged tiles the fast path still decodes")
    }

    /// `fastTable`, built code by code, equals its definition window by window (the reference
    /// below: each 12-bit window decoded through the lookup table on its own) for random valid
    /// Huffman tables of every maximum length, with the LJ92 and the DCT AC symbol readings.
    func testFastTableMatchesTheWindowByWindowDefinition() {
        func reference(_ table: [UInt16], maxLength: Int, magnitudeBits: (Int) -> Int?) -> [Int32] {
            let fastBits = LosslessJPEG.fastBits
            return (0..<(1 << fastBits)).map { window -> Int32 in
                let index = maxLength <= fastBits ? window >> (fastBits - maxLength) : window << (maxLength - fastBits)
                guard index < table.count else { return 0 }
                let entry = Int(table[index])
                let length = entry >> 8, symbol = entry & 0xFF
                guard length > 0, let size = magnitudeBits(symbol), length + size <= fastBits else { return 0 }
                let value = size == 0 ? 0 : LosslessJPEG.extended((window >> (fastBits - length - size)) & ((1 << size) - 1), bits: size)
                return Int32(value) << 12 | Int32(symbol) << 4 | Int32(length + size)
            }
        }
        var rng = SplitMix64(seed: 2024)
        var checked = 0
        for trial in 0..<400 {
            // Code counts per length with room left in the code space (Kraft sum ≤ 1).
            var counts = [UInt8](repeating: 0, count: 16)
            var room = 1 << 16  // in units of 2^-16
            let longest = 1 + trial % 16
            for length in 1...longest {
                let unit = 1 << (16 - length)
                let most = min(room / unit, length == longest ? 12 : 4)
                let n = length == longest ? max(1, rng.below(most + 1)) : rng.below(most + 1)
                guard n * unit <= room, n > 0 else { continue }
                counts[length - 1] = UInt8(n)
                room -= n * unit
            }
            let total = counts.reduce(0) { $0 + Int($1) }
            guard total > 0 else { continue }
            let symbols = (0..<total).map { _ in UInt8(rng.below(2) == 0 ? rng.below(17) : rng.below(256)) }
            let dht: [UInt8] = [0xFF, 0xC4, UInt8((19 + total) >> 8), UInt8((19 + total) & 0xFF), 0x00] + counts + symbols
            let sof: [UInt8] = [0xFF, 0xC3, 0x00, 0x0B, 12, 0x00, 0x02, 0x00, 0x02, 0x01, 0x01, 0x11, 0x00]
            let sos: [UInt8] = [0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00]
            let stream: [UInt8] = [0xFF, 0xD8] + dht + sof + sos + [0, 0, 0xFF, 0xD9]
            guard let jpeg = stream.withUnsafeBufferPointer({ LosslessJPEG($0) }) else { continue }
            let table = jpeg.tables[0], maxLength = jpeg.maxLengths[0]
            let lj92: (Int) -> Int? = { $0 < 16 ? $0 : nil }
            let ac: (Int) -> Int? = { $0 & 15 }
            XCTAssertEqual(LosslessJPEG.fastTable(table, maxLength: maxLength, magnitudeBits: lj92),
                           reference(table, maxLength: maxLength, magnitudeBits: lj92), "trial \(trial), LJ92")
            XCTAssertEqual(LosslessJPEG.fastTable(table, maxLength: maxLength, magnitudeBits: ac),
                           reference(table, maxLength: maxLength, magnitudeBits: ac), "trial \(trial), DCT AC")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 300)
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

/// Synthetic tiled LJ92 DNGs for what the camera samples do not cover (they use predictors 6 and
/// 1, no restart intervals): every predictor, restart intervals, JPEG rows that span two tile
/// rows, edge tiles that extend past the image, 12 and 16 bits, with and without a
/// LinearizationTable. Each must take the fast path and equal LibRaw's decode exactly.
final class LosslessJPEGSyntheticTests: XCTestCase {
    /// Where clrs² × wide equals the raw width LibRaw lays each JPEG row out differently (it
    /// copies clrs times as many values): the fast path declines and LibRaw decodes.
    func testLibRawsWideRowCaseFallsBack() throws {
        let url = TestSupport.temporaryDirectory("lj92").appendingPathComponent("wide.dng")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try Data(MiniLJ92DNG(psv: 1, bits: 12, clrs: 2, seed: 40).bytes()).write(to: url)
        let probe = RawFile.LosslessTilesProbe()
        let image = try RawFile.$losslessTilesProbe.withValue(probe) { try RawFile.read(path: url.path) }
        XCTAssertFalse(probe.used)
        XCTAssertTrue(probe.declined)
        XCTAssertTrue(image.samples == (try RawFile.readWithLibRawUnpack(path: url.path)).samples)
    }

    /// Two tiles decoded together (`LosslessJPEG.decodeTogether`, what `LosslessDNGTiles` does
    /// with pairs of phone-DNG tiles) against each decoded alone (`decode`, itself compared with
    /// LibRaw above): the same rows and the same verdict, with restarts, 16-bit samples whose
    /// code and magnitude exceed the quick window, stuffed bytes, and a stream cut short.
    /// Called directly, so the pair path is checked whatever the machine's core count (the tile
    /// decoder pairs tiles only when there are at least two per core).
    func testTilesDecodedTogetherMatchEachDecodedAlone() throws {
        let shapes = [MiniLJ92DNG(psv: 1, bits: 12, clrs: 2, width: 64, seed: 41),
                      MiniLJ92DNG(psv: 1, bits: 16, clrs: 1, restartRows: 3, linearise: false, seed: 42),
                      MiniLJ92DNG(psv: 1, bits: 14, clrs: 1, restartRows: 1, seed: 43),
                      MiniLJ92DNG(psv: 1, bits: 16, clrs: 2, width: 64, height: 40, tileWidth: 64, tileLength: 20, seed: 44),
                      MiniLJ92DNG(psv: 1, bits: 16, clrs: 2, restartRows: 4, twoTables: true, seed: 46)]
        func alone(_ bytes: [UInt8]) -> (ok: Bool, rows: [[UInt16]]) {
            guard let jpeg = LosslessJPEG(bytes.withUnsafeBufferPointer { $0 }) else { return (false, []) }
            var rows: [[UInt16]] = []
            let ok = bytes.withUnsafeBufferPointer { b in
                jpeg.decode(b, dngVersion: 0x0104_0000) { row, _ in rows.append(Array(UnsafeBufferPointer(start: row, count: jpeg.wide * jpeg.clrs))) }
            }
            return (ok, rows)
        }
        // Each shape's first two tiles; then a tile of one table beside a tile of two, both ways
        // round (a Pixel DNG mixes them: some of its tiles give both components the same table).
        var pairs = shapes.map { shape in (shape, shape.values().prefix(2).map(shape.encode)) }
        let one = MiniLJ92DNG(psv: 1, bits: 16, clrs: 2, seed: 47), two = MiniLJ92DNG(psv: 1, bits: 16, clrs: 2, twoTables: true, seed: 48)
        pairs.append((one, [one.encode(one.values()[0]), two.encode(two.values()[1])]))
        pairs.append((one, [two.encode(two.values()[0]), one.encode(one.values()[1])]))
        var stuffed = 0
        for (n, (shape, whole)) in pairs.enumerated() {
            XCTAssertEqual(whole.count, 2)
            stuffed += whole.joined().indices.dropLast().filter { whole.joined()[$0] == 0xFF }.count
            // Whole streams, then the second cut in its entropy-coded data.
            for streams in [whole, [whole[0], Array(whole[1].prefix(whole[1].count * 2 / 3))]] {
                let expected = streams.map(alone)
                let (first, second) = try (XCTUnwrap(LosslessJPEG(streams[0].withUnsafeBufferPointer { $0 })),
                                           XCTUnwrap(LosslessJPEG(streams[1].withUnsafeBufferPointer { $0 })))
                var rows: [[[UInt16]]] = [[], []]
                let together = streams[0].withUnsafeBufferPointer { a in
                    streams[1].withUnsafeBufferPointer { b in
                        LosslessJPEG.decodeTogether(first, a, second, b, dngVersion: 0x0104_0000,
                                                    rows: { row, _ in rows[0].append(Array(UnsafeBufferPointer(start: row, count: first.wide * first.clrs))) },
                                                    { row, _ in rows[1].append(Array(UnsafeBufferPointer(start: row, count: second.wide * second.clrs))) })
                    }
                }
                XCTAssertEqual(together, expected[0].ok && expected[1].ok, "shape \(n), \(streams[1].count) bytes")
                if expected[0].ok && expected[1].ok {
                    XCTAssertEqual(rows[0], expected[0].rows, "shape \(n): first stream")
                    XCTAssertEqual(rows[1], expected[1].rows, "shape \(n): second stream")
                    XCTAssertEqual(rows[0].count, shape.tileLength)
                }
            }
        }
        XCTAssertGreaterThan(stuffed, 0, "the streams should hold stuffed FF bytes")
        // Any other predictor is left to `decode`, stream by stream.
        let other = MiniLJ92DNG(psv: 2, bits: 12, clrs: 1, seed: 45)
        let streams = other.values().prefix(2).map(other.encode)
        let (p, q) = try (XCTUnwrap(LosslessJPEG(streams[0].withUnsafeBufferPointer { $0 })), XCTUnwrap(LosslessJPEG(streams[1].withUnsafeBufferPointer { $0 })))
        let declined = streams[0].withUnsafeBufferPointer { a in
            streams[1].withUnsafeBufferPointer { b in LosslessJPEG.decodeTogether(p, a, q, b, dngVersion: 0x0104_0000, rows: { _, _ in }, { _, _ in }) }
        }
        XCTAssertNil(declined)
        // The two-table streams above did take the alternating layout.
        let twoTable = try XCTUnwrap(LosslessJPEG(pairs[pairs.count - 1].1[0].withUnsafeBufferPointer { $0 }))
        XCTAssertNotEqual(twoTable.tables[0], twoTable.tables[1])
        XCTAssertEqual(twoTable.maxLengths, [5, 6])
    }

    func testEveryPredictorAndRestartAgreesWithLibRaw() throws {
        let directory = TestSupport.temporaryDirectory("lj92")
        defer { try? FileManager.default.removeItem(at: directory) }
        var variants: [MiniLJ92DNG] = []
        for psv in 1...7 {
            variants.append(MiniLJ92DNG(psv: psv, bits: 12, clrs: 2, width: 62, seed: UInt64(psv)))
            variants.append(MiniLJ92DNG(psv: psv, bits: 16, clrs: 1, restartRows: 3, linearise: false, seed: UInt64(10 + psv)))
        }
        variants.append(MiniLJ92DNG(psv: 1, bits: 14, clrs: 1, width: 60, height: 38, restartRows: 1, seed: 30))
        variants.append(MiniLJ92DNG(psv: 6, bits: 12, clrs: 2, width: 58, height: 40, linearise: false, seed: 31))
        // A table per component (Pixel DNGs): predictor 1 takes `decodeLeftPredicted` with the two
        // tables alternating; predictor 4 takes the general loop.
        // (Widths of 64 would be LibRaw's wide-row case, which the fast path leaves to LibRaw.)
        variants.append(MiniLJ92DNG(psv: 1, bits: 16, clrs: 2, width: 62, restartRows: 3, linearise: false, twoTables: true, seed: 32))
        variants.append(MiniLJ92DNG(psv: 1, bits: 12, clrs: 2, width: 60, twoTables: true, seed: 33))
        variants.append(MiniLJ92DNG(psv: 4, bits: 14, clrs: 2, width: 58, twoTables: true, seed: 34))
        for (i, dng) in variants.enumerated() {
            let bytes = dng.bytes()
            let url = directory.appendingPathComponent("lj\(i).dng")
            try Data(bytes).write(to: url)
            let probe = RawFile.LosslessTilesProbe()
            let fast = try RawFile.$losslessTilesProbe.withValue(probe) { try RawFile.read(path: url.path) }
            XCTAssertTrue(probe.used, "variant \(i) (psv \(dng.psv), \(dng.bits)-bit) should take the fast path")
            let reference = try RawFile.readWithLibRawUnpack(path: url.path)
            XCTAssertTrue(fast.samples == reference.samples, "variant \(i) (psv \(dng.psv)): samples differ from LibRaw's")
            XCTAssertEqual(fast.levels, reference.levels)
            XCTAssertEqual(fast.metadata, reference.metadata)
            // The encoder's own values, through the curve, are what both decoders must give.
            XCTAssertTrue(fast.samples == dng.expected(), "variant \(i) (psv \(dng.psv)): samples differ from the encoded ones")
        }
    }
}

/// A tiled, compression-7 CFA DNG with an LJ92 encoder written for the test (ITU-T T.81 H.1,
/// every predictor, with LibRaw's restart semantics: column-0 predictors reset to 2^(P−1) at
/// restart rows), writing its bits through `LosslessJPEGEncoder.BitWriter`.
struct MiniLJ92DNG {
    var psv: Int
    var bits: Int
    var clrs: Int
    var width = 64
    var height = 40
    var tileWidth = 32
    var tileLength = 20
    var restartRows: Int? = nil
    var linearise = true
    /// Two components with a table each (as Google's Pixel DNGs store their tiles): component 1
    /// codes categories 0–3 in 3 bits and the rest in 6 (table 0: every category in 5), so a
    /// sample decoded with the other component's table or longest code length goes wrong.
    var twoTables = false
    var seed: UInt64

    var tilesAcross: Int { (width + tileWidth - 1) / tileWidth }
    var tilesDown: Int { (height + tileLength - 1) / tileLength }

    /// Sensor values of the whole tile grid (edge tiles included).
    func values() -> [[UInt16]] {
        var rng = SplitMix64(seed: seed)
        let limit = (1 << bits) - 1
        return (0..<(tilesAcross * tilesDown)).map { _ in
            var v = rng.below(limit + 1)
            return (0..<(tileWidth * tileLength)).map { _ in
                // A random walk with occasional jumps: both small and large differences.
                v = rng.below(8) == 0 ? rng.below(limit + 1) : min(limit, max(0, v + rng.below(65) - 32))
                return UInt16(v)
            }
        }
    }

    var curve: [UInt16] {
        (0..<(1 << bits)).map { (v: Int) -> UInt16 in
            let mapped: Int = linearise ? min(65535, v * 3 / 2 + 7) : v
            return UInt16(mapped)
        }
    }

    func expected() -> [UInt16] {
        let tiles = values(), c = curve
        var out = [UInt16](repeating: 0, count: width * height)
        for t in 0..<tiles.count {
            let trow = t / tilesAcross * tileLength, tcol = t % tilesAcross * tileWidth
            for y in 0..<tileLength where trow + y < height {
                for x in 0..<tileWidth where tcol + x < width {
                    out[(trow + y) * width + tcol + x] = c[Int(tiles[t][y * tileWidth + x])]
                }
            }
        }
        return out
    }

    /// Component `c`'s Huffman code and its length for a difference category (0–16).
    func code(_ category: Int, component c: Int) -> (code: Int, length: Int) {
        guard twoTables && c == 1 else { return (category, 5) }
        return category < 4 ? (category, 3) : (32 + category - 4, 6)
    }

    /// One tile as an LJ92 stream: `clrs` components of `tileWidth / clrs` columns, one JPEG row
    /// per tile row; 17 categories, each a 5-bit code (`code(_:component:)` with `twoTables`).
    func encode(_ tile: [UInt16]) -> [UInt8] {
        let wide = tileWidth / clrs, high = tileLength
        var out: [UInt8] = [0xFF, 0xD8]
        func segment(_ marker: UInt8, _ body: [UInt8]) {
            let length = body.count + 2
            out += [0xFF, marker, UInt8(length >> 8), UInt8(length & 0xFF)]
            out += body
        }
        var sof: [UInt8] = [UInt8(bits)]
        sof += [UInt8(high >> 8), UInt8(high & 0xFF)]
        sof += [UInt8(wide >> 8), UInt8(wide & 0xFF), UInt8(clrs)]
        for c in 0..<clrs { sof += [UInt8(c + 1), 0x11, 0] }
        segment(0xC3, sof)
        var counts = [UInt8](repeating: 0, count: 16)
        counts[4] = 17
        segment(0xC4, [0x00] + counts + (0...16).map { UInt8($0) })
        if twoTables {
            var second = [UInt8](repeating: 0, count: 16)
            second[2] = 4
            second[5] = 13
            segment(0xC4, [0x01] + second + (0...16).map { UInt8($0) })
        }
        if let r = restartRows { segment(0xDD, [UInt8((r * wide) >> 8), UInt8((r * wide) & 0xFF)]) }
        var sos: [UInt8] = [UInt8(clrs)]
        for c in 0..<clrs { sos += [UInt8(c + 1), twoTables ? UInt8(c << 4) : 0x00] }
        segment(0xDA, sos + [UInt8(psv), 0, 0])
        // The product encoder's bit writer: MSB first, FF stuffed, the last byte padded with ones.
        var writer = LosslessJPEGEncoder.BitWriter()
        func put(_ v: Int, _ count: Int) { writer.write(UInt32(truncatingIfNeeded: v), length: count) }
        let rowValues = wide * clrs
        var vpred = [Int](repeating: 0, count: clrs)
        var marker = 0
        for jrow in 0..<high {
            if jrow == 0 || restartRows.map({ jrow % $0 == 0 }) == true {
                if jrow > 0 { writer.finish(); writer.bytes += [0xFF, UInt8(0xD0 + marker % 8)]; marker += 1 }
                for c in 0..<clrs { vpred[c] = 1 << (bits - 1) }
            }
            for i in 0..<rowValues {
                let c = i % clrs
                let value = Int(tile[jrow * rowValues + i])
                var pred: Int
                if i < clrs {
                    pred = vpred[c]; vpred[c] = value
                } else {
                    let left = Int(tile[jrow * rowValues + i - clrs])
                    pred = left
                    if jrow > 0 {
                        pred = LosslessJPEG.prediction(psv, left: left, up: Int(tile[(jrow - 1) * rowValues + i]),
                                                       upLeft: Int(tile[(jrow - 1) * rowValues + i - clrs]))
                    }
                }
                var diff = (value - pred) & 0xFFFF
                if diff >= 32768 { diff -= 65536 }
                if diff == -32768 { let c16 = code(16, component: c); put(c16.code, c16.length); continue }
                let magnitude = abs(diff)
                let category = magnitude == 0 ? 0 : (Int.bitWidth - magnitude.leadingZeroBitCount)
                let symbol = code(category, component: c)
                put(symbol.code, symbol.length)
                put(diff < 0 ? diff + (1 << category) - 1 : diff, category)
            }
        }
        writer.finish()
        return out + writer.bytes + [0xFF, 0xD9]
    }

    func bytes() -> [UInt8] {
        let tiles = values().map(encode)
        func build(_ offsets: [Int]) -> ([UInt8], Int) {
            var entries: [(Int, Int, [Int])] = [
                (254, 4, [0]), (256, 4, [width]), (257, 4, [height]), (258, 3, [bits]), (259, 3, [7]), (262, 3, [32803]),
                (271, 2, Array("Emulsion".utf8).map(Int.init) + [0]), (272, 2, Array("MiniLJ92".utf8).map(Int.init) + [0]),
                (277, 3, [1]), (322, 3, [tileWidth]), (323, 3, [tileLength]), (324, 4, offsets), (325, 4, tiles.map(\.count)),
                (33421, 3, [2, 2]), (33422, 1, [0, 1, 1, 2]), (50706, 1, [1, 4, 0, 0]),
                (50708, 2, Array("Emulsion MiniLJ92".utf8).map(Int.init) + [0]), (50714, 3, [64]), (50717, 3, [65535]),
                (50721, 10, [10000, 10000, -2000, 10000, -3000, 10000, -1000, 10000, 11000, 10000, 1000, 10000, -500, 10000, 1000, 10000, 6000, 10000]),
                (50778, 3, [21]),
            ]
            if linearise { entries.append((50712, 3, curve.map(Int.init))) }
            entries.sort { $0.0 < $1.0 }
            func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8 & 0xff)] }
            func u32(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 24 & 0xff)] }
            func payload(_ type: Int, _ values: [Int]) -> [UInt8] {
                switch type {
                case 1, 2: return values.map { UInt8($0) }
                case 3: return values.flatMap(u16)
                default: return values.flatMap { u32($0 & 0xffff_ffff) }
                }
            }
            let extraStart = 8 + 2 + 12 * entries.count + 4
            var out: [UInt8] = [0x49, 0x49, 42, 0] + u32(8) + u16(entries.count)
            var extra: [UInt8] = []
            for (tag, type, values) in entries {
                let p = payload(type, values)
                out += u16(tag) + u16(type) + u32(type == 10 ? values.count / 2 : values.count)
                if p.count <= 4 {
                    out += p + Array(repeating: 0, count: 4 - p.count)
                } else {
                    out += u32(extraStart + extra.count)
                    extra += p
                    if extra.count % 2 == 1 { extra.append(0) }
                }
            }
            out += u32(0) + extra
            return (out, out.count)
        }
        let (_, headerSize) = build(Array(repeating: 0, count: tiles.count))
        var offsets: [Int] = []
        var at = headerSize
        for t in tiles { offsets.append(at); at += t.count }
        return build(offsets).0 + tiles.flatMap { $0 }
    }
}

extension LosslessJPEGTests {
    /// The DCT decode's vector rounding against LibRaw's C expression, `LIM((int)(x + 0.5), 0,
    /// 65535)` with x widened to double (`roundedSample`, what the loop computed per value
    /// before): exact, on the values where the two could part — halves, the ends of the range,
    /// int's range (past it the cast gives INT_MIN and so 0), NaN, infinities, −0, subnormals —
    /// and on random floats of every magnitude.
    func testDCTRoundingIsLibRawsExpression() {
        var values: [Float] = [.nan, -.nan, .infinity, -.infinity, 0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                               0.5, -0.5, 0.49999997, -0.49999997, 1.5, 2.5, -1, -1.5, 65534.5, 65535, 65535.49, 65535.5, 65536,
                               65536.5, 1e6, 2_147_483_520, 2_147_483_648, 4_294_967_296, 1e30, -2_147_483_648, -1e30,
                               .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        values += (0..<200).map { Float($0) * 0.25 - 10 }
        var state: UInt32 = 12345
        for _ in 0..<20_000 {
            state = state &* 1_664_525 &+ 1_013_904_223
            values.append(Float(bitPattern: state))
        }
        while values.count % 8 != 0 { values.append(0.5) }
        for i in Swift.stride(from: 0, to: values.count, by: 8) {
            let lanes = SIMD8<Float>((0..<8).map { values[i + $0] })
            let got = LosslessJPEG.roundedSamples(lanes)
            for k in 0..<8 where got[k] != LosslessJPEG.roundedSample(values[i + k]) {
                XCTFail("\(values[i + k]): \(got[k]), LibRaw's expression \(LosslessJPEG.roundedSample(values[i + k]))")
            }
        }
    }
}

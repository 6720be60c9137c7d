import CPNGShim
import EmulsionTestSupport
import XCTest
@testable import EmulsionIO

/// The segmented, parallel PNG encoder (PNGFile.encode, CPNGShim/pngsegments.c): every
/// combination decodes back exactly through libpng (which checks every chunk CRC and zlib checks
/// the Adler-32 trailer), the file does not depend on the number of threads, and its structure is
/// what the PNG specification asks (signature, IHDR first, iCCP before the image data, IDAT
/// chunks consecutive, IEND last).
final class PNGSegmentTests: XCTestCase {
    /// Chunk types in file order, with their data lengths.
    func chunks(_ bytes: [UInt8]) -> [(type: String, length: Int)] {
        var out: [(String, Int)] = []
        var i = 8
        while i + 12 <= bytes.count {
            let length = Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            out.append((String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self), length))
            i += 12 + length
        }
        XCTAssertEqual(i, bytes.count, "chunks do not end at the end of the file")
        return out
    }

    func testEverySettingRoundTripsAcrossManySegments() throws {
        for depth in [8, 16] {
            var image = Synthetic.rgb(width: 37, height: 29, bitDepth: depth)
            image.iccProfile = TestICC.rgbDisplayProfile()
            for filter in PNGFilter.allCases {
                for strategy in PNGStrategy.allCases {
                    for level in [0, 1, 6, 9] {
                        // ~3 rows per segment: segment seams between rows with every filter.
                        let options = PNGEncodingOptions(compressionLevel: level, filter: filter, strategy: strategy,
                                                         threads: 3, segmentBytes: 3 * (37 * 3 * depth / 8 + 1))
                        let bytes = try PNGFile.encode(image, options: options)
                        XCTAssertEqual(try PNGFile.decode(bytes), image, "depth \(depth) \(filter) \(strategy) level \(level)")
                    }
                }
            }
        }
        let gray = Synthetic.gray(width: 5, height: 40)
        XCTAssertEqual(try PNGFile.decodeGrayMosaic(PNGFile.encode(gray, options: PNGEncodingOptions(threads: 2, segmentBytes: 1))), gray)
    }

    /// The chunk CRC (carry-less folding where the CPU has PCLMULQDQ, zlib elsewhere) against the
    /// bit-at-a-time CRC-32 of the PNG specification's annex D (reflected polynomial 0xEDB88320):
    /// every length 0…300 from four alignments (the folding takes 64 bytes and more; the tail goes
    /// through zlib), longer buffers, and continuing a CRC. Exact: CRCs have no tolerance.
    func testChunkCRCAgreesWithTheSpecificationsBitwiseCRC() {
        func reference(_ crc: UInt32, _ bytes: ArraySlice<UInt8>) -> UInt32 {
            var c = ~crc
            for byte in bytes {
                c ^= UInt32(byte)
                for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            }
            return ~c
        }
        var random = SplitMix64(seed: 3309)
        let bytes = (0..<70_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        let lengths = Array(0...300) + [1_023, 1_024, 4_096 + 48, 65_536 + 7, 69_000]
        for offset in 0..<4 {
            for length in lengths {
                let slice = bytes[offset..<(offset + length)]
                let start = UInt32(truncatingIfNeeded: length &* 2_654_435_761)
                let ours = slice.withUnsafeBufferPointer { emu_png_crc32(start, $0.baseAddress, $0.count) }
                XCTAssertEqual(ours, reference(start, slice), "length \(length), offset \(offset)")
            }
        }
        // The check value of the CRC-32 catalogue: "123456789" → 0xCBF43926.
        XCTAssertEqual(Array("123456789".utf8).withUnsafeBufferPointer { emu_png_crc32(0, $0.baseAddress, $0.count) }, 0xCBF4_3926)
    }

    func testBytesDoNotDependOnThreads() throws {
        let image = Synthetic.photo(width: 300, height: 200)
        let one = try PNGFile.encode(image, options: PNGEncodingOptions(threads: 1, segmentBytes: 20_000))
        for threads in [2, 3, 8] {
            XCTAssertEqual(try PNGFile.encode(image, options: PNGEncodingOptions(threads: threads, segmentBytes: 20_000)), one, "\(threads) threads")
        }
        XCTAssertEqual(try PNGFile.decode(one), image)
    }

    /// A small image is split into `minimumSegments` segments (never below 64 KiB) so that
    /// threads share it; a large one keeps `segmentBytes`; an explicit size at or below the floor
    /// is kept. The bytes stay the same for any thread count.
    func testSmallImagesAreSplitForTheThreads() throws {
        let image = Synthetic.rgb(width: 382, height: 510, bitDepth: 16)  // the Pixel crop's size: 1.17 MB of rows
        let rowBytes = 382 * 6 + 1
        let idat = { (bytes: [UInt8]) in self.chunks(bytes).filter { $0.type == "IDAT" }.map(\.length) }
        let one = try PNGFile.encode(image, options: PNGEncodingOptions(threads: 1))
        // 510 rows in eight: 64 rows (147 KB) per segment, and the trailer's IDAT.
        XCTAssertEqual(PNGFile.segmentRows(for: image.layout, options: .default), 64)
        XCTAssertEqual(idat(one).count, 8 + 1)
        for threads in [2, 3, 8] {
            XCTAssertEqual(try PNGFile.encode(image, options: PNGEncodingOptions(threads: threads)), one, "\(threads) threads")
        }
        XCTAssertEqual(try PNGFile.decode(one), image)
        // The floor: a 100-row image keeps segments of 64 KiB (28 rows), not 13 rows.
        let short = PNGLayout(width: 382, height: 100)
        XCTAssertEqual(PNGFile.segmentRows(for: short, options: .default), (64 << 10) / rowBytes)
        // Large images: 1 MiB segments, as before.
        let large = PNGLayout(width: 4000, height: 3000)
        XCTAssertEqual(PNGFile.segmentRows(for: large, options: .default), (1 << 20) / (4000 * 6 + 1))
        // Asked for: kept, below the floor as above it where the image has enough of them.
        XCTAssertEqual(PNGFile.segmentRows(for: image.layout, options: PNGEncodingOptions(segmentBytes: 10 * rowBytes)), 10)
        XCTAssertEqual(PNGFile.segmentRows(for: image.layout, options: PNGEncodingOptions(segmentBytes: 50 * rowBytes)), 50)
        XCTAssertEqual(PNGFile.segmentRows(for: image.layout, options: PNGEncodingOptions(minimumSegments: 1)), (1 << 20) / rowBytes)
    }

    func testChunkStructure() throws {
        var image = Synthetic.photo(width: 100, height: 64)
        image.iccProfile = TestICC.rgbDisplayProfile()
        let rowBytes = 100 * 6 + 1
        let bytes = try PNGFile.encode(image, options: PNGEncodingOptions(threads: 2, segmentBytes: 10 * rowBytes))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let list = chunks(bytes)
        XCTAssertEqual(list.map(\.type), ["IHDR", "iCCP"] + Array(repeating: "IDAT", count: 7 + 1) + ["IEND"])
        XCTAssertEqual(list[list.count - 2].length, 4, "the last IDAT holds the Adler-32 trailer")
        // zlib header (RFC 1950): deflate, 32 KiB window, check bits.
        let firstIDAT = 8 + list.prefix(2).reduce(0) { $0 + 12 + $1.length } + 8
        XCTAssertEqual(bytes[firstIDAT], 0x78)
        XCTAssertEqual((Int(bytes[firstIDAT]) << 8 | Int(bytes[firstIDAT + 1])) % 31, 0)
        // The libpng row writer gives the same pixels.
        let path = TestSupport.temporaryDirectory("png-seg").appendingPathComponent("a.png").path
        try PNGFile.write(image, to: path)
        XCTAssertEqual(try PNGFile.read(path: path), try PNGFile.decode(bytes))
    }

    /// From fuzzing pngsegments.c (`.ci/fuzz.sh png`): its one artefact was an image one pixel
    /// wide cut into 2,270 segments of 64 rows, slow only under the fuzzer's instrumentation. The
    /// same shape, smaller: thousands of tiny segments must still join into one valid stream.
    func testThousandsOfTinySegmentsJoin() throws {
        let image = Synthetic.rgb(width: 1, height: 20_000, bitDepth: 16)
        let bytes = try PNGFile.encode(image, options: PNGEncodingOptions(threads: 2, segmentBytes: 8 * (6 + 1)))
        XCTAssertGreaterThanOrEqual(chunks(bytes).filter { $0.type == "IDAT" }.count, 2_500)
        XCTAssertEqual(try PNGFile.decode(bytes), image)
    }

    func testOneRowAndOnePixelImages() throws {
        for (w, h) in [(2, 1), (2, 7), (9, 1)] {
            let image = Synthetic.rgb(width: w, height: h, bitDepth: 16)
            XCTAssertEqual(try PNGFile.decode(PNGFile.encode(image, options: PNGEncodingOptions(threads: 4, segmentBytes: 1))), image)
        }
        let pixel = Synthetic.gray(width: 1, height: 1)
        XCTAssertEqual(try PNGFile.decodeGrayMosaic(PNGFile.encode(pixel, options: PNGEncodingOptions(threads: 4))), pixel)
    }

    func testOutputErrorStopsEncodingAndIsRethrown() {
        struct Full: Error {}
        var calls = 0
        XCTAssertThrowsError(try PNGFile.encode(Synthetic.photo(width: 64, height: 64),
                                                options: PNGEncodingOptions(threads: 2, segmentBytes: 400)) { _ in
            calls += 1
            if calls == 3 { throw Full() }
        }) { XCTAssertTrue($0 is Full, "\($0)") }
        XCTAssertEqual(calls, 3, "no output after the failing piece")
    }
}

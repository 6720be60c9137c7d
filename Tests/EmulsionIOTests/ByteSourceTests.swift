import Dispatch
@testable import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// `FileBytes` (reads through `pread`) against the same bytes held in an array, the other
/// `ByteSource`. Reference: the file's own bytes as written; no tolerance.
final class ByteSourceTests: XCTestCase {
    func makeFile(_ bytes: [UInt8]) throws -> URL {
        let url = TestSupport.temporaryDirectory("bytesource").appendingPathComponent("f.bin")
        try Data(bytes).write(to: url)
        return url
    }

    func testFileBytesAgreeWithTheArray() throws {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let url = try makeFile(bytes)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let file = try XCTUnwrap(FileBytes(path: url.path))
        XCTAssertEqual(file.count, bytes.count)
        for (offset, count) in [(0, 1), (0, 300_000), (65_535, 2), (123_457, 70_001), (299_999, 1)] {
            XCTAssertEqual(file.bytes(offset, count), bytes.bytes(offset, count), "\(offset) +\(count)")
            var copied = [UInt8](repeating: 0xAA, count: count), fromArray = [UInt8](repeating: 0x55, count: count)
            copied.withUnsafeMutableBytes { file.copyBytes(offset, into: $0) }
            fromArray.withUnsafeMutableBytes { bytes.copyBytes(offset, into: $0) }
            XCTAssertEqual(copied, Array(bytes[offset..<(offset + count)]), "\(offset) +\(count)")
            XCTAssertEqual(fromArray, copied, "\(offset) +\(count)")
            XCTAssertEqual(file[offset], bytes[offset])
        }
    }

    /// `MappedFile` as the worker's `ByteSource` gives what `FileBytes` gives, inside the file and
    /// past either end (zeros, where `FileBytes` reads nothing).
    func testMappedBytesAgreeWithFileBytes() throws {
        let bytes = (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 7) }
        let url = try makeFile(bytes)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let file = try XCTUnwrap(FileBytes(path: url.path)), mapped = try XCTUnwrap(MappedFile(path: url.path))
        XCTAssertEqual(mapped.count, file.count)
        for (offset, count) in [(0, 1), (0, 150_000), (65_535, 2), (123_457, 26_543), (149_999, 1), (149_990, 20), (150_000, 5),
                                (200_000, 3), (0, 0)] {
            XCTAssertEqual(mapped.bytes(offset, count), file.bytes(offset, count), "\(offset) +\(count)")
            var fromMapping = [UInt8](repeating: 0xAA, count: count), fromFile = [UInt8](repeating: 0x55, count: count)
            fromMapping.withUnsafeMutableBytes { mapped.copyBytes(offset, into: $0) }
            fromFile.withUnsafeMutableBytes { file.copyBytes(offset, into: $0) }
            XCTAssertEqual(fromMapping, fromFile, "\(offset) +\(count)")
            XCTAssertEqual(mapped[offset], file[offset], "\(offset)")
        }
        XCTAssertEqual(mapped[-1], 0)
        // A DNG's directories read the same through either.
        for sample in TestSupport.rawSamples() where sample.name.hasSuffix(".dng") {
            let path = sample.url.path
            let a = TIFFDirectory.all(try XCTUnwrap(FileBytes(path: path))), b = TIFFDirectory.all(try XCTUnwrap(MappedFile(path: path)))
            XCTAssertEqual(a.map { $0.entries.keys.sorted() }, b.map { $0.entries.keys.sorted() }, sample.name)
        }
    }

    /// The LJ92 tiles are read by several threads at once (`LosslessDNGTiles.decode`).
    func testConcurrentCopiesGiveEachRangeItsBytes() throws {
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let url = try makeFile(bytes)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let file = try XCTUnwrap(FileBytes(path: url.path))
        let ranges = (0..<64).map { (($0 * 3_001) % 190_000, 1_000 + $0 * 97) }
        let results = UnsafeMutablePointer<Bool>.allocate(capacity: ranges.count)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: ranges.count) { i in
            let (offset, count) = ranges[i]
            var out = [UInt8](repeating: 0, count: count)
            out.withUnsafeMutableBytes { file.copyBytes(offset, into: $0) }
            results[i] = out == Array(bytes[offset..<(offset + count)])
        }
        XCTAssertTrue((0..<ranges.count).allSatisfy { results[$0] })
    }

    /// A file cut while it is read gives zeros past its new end (never a crash, never stale
    /// buffer contents).
    func testBytesPastAShrunkFilesEndAreZero() throws {
        let bytes = [UInt8](repeating: 0x7F, count: 10_000)
        let url = try makeFile(bytes)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let file = try XCTUnwrap(FileBytes(path: url.path))
        XCTAssertEqual(truncate(url.path, 4_000), 0)
        var out = [UInt8](repeating: 0xAA, count: 2_000)
        out.withUnsafeMutableBytes { file.copyBytes(3_000, into: $0) }
        XCTAssertEqual(Array(out[0..<1_000]), [UInt8](repeating: 0x7F, count: 1_000))
        XCTAssertEqual(Array(out[1_000...]), [UInt8](repeating: 0, count: 1_000))
        XCTAssertEqual(file.bytes(3_000, 2_000), out)
    }

    /// `MappedFile` holds the file's bytes; a page past the end of a file cut while mapped raises
    /// SIGBUS (in a forked child here), which is why only the decode worker maps files.
    func testAMappedFileHoldsTheBytesAndACutOneRaisesSIGBUS() throws {
        let bytes = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let url = try makeFile(bytes)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let mapped = try XCTUnwrap(MappedFile(path: url.path))
        XCTAssertEqual(mapped.count, bytes.count)
        XCTAssertEqual(Array(UnsafeRawBufferPointer(start: mapped.base, count: mapped.count)), bytes)
        XCTAssertNil(MappedFile(path: url.deletingLastPathComponent().path), "a folder")
        XCTAssertEqual(truncate(url.path, 4_000), 0)
        let base = UInt(bitPattern: mapped.base)
        let child = try WorkerProcess.forked {
            let byte = UnsafePointer<UInt8>(bitPattern: base)!.advanced(by: 12_288).pointee
            return Int32(byte)
        }
        XCTAssertEqual(child.waitForExit().signal, SIGBUS)
    }

    /// The decode worker's reading of a DNG (LibRaw on a mapping) gives what reading it through
    /// LibRaw's file stream gives, for every DNG sample.
    func testAMappedDNGReadsAsTheFileDoes() throws {
        let dngs = TestSupport.rawSamples().filter { $0.name.lowercased().hasSuffix(".dng") }
        if dngs.isEmpty { throw XCTSkip("no DNG samples") }
        for sample in dngs {
            let (streamed, streamedDeferred) = try RawFile.readDeferringSamples(path: sample.url.path)
            let (mapped, mappedDeferred) = try RawFile.readDeferringSamples(path: sample.url.path, mapping: true)
            XCTAssertEqual(mapped.width, streamed.width, sample.name)
            XCTAssertEqual(mapped.height, streamed.height, sample.name)
            XCTAssertEqual(mapped.layout, streamed.layout, sample.name)
            XCTAssertTrue(mapped.samples == streamed.samples, sample.name)
            XCTAssertEqual(mapped.levels, streamed.levels, sample.name)
            XCTAssertEqual(mapped.colour, streamed.colour, sample.name)
            XCTAssertEqual(mapped.metadata, streamed.metadata, sample.name)
            XCTAssertEqual(mapped.lensShading?.maps.map(\.gains), streamed.lensShading?.maps.map(\.gains), sample.name)
            XCTAssertEqual(mappedDeferred, streamedDeferred, sample.name)
        }
    }
}

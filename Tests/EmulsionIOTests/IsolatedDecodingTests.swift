import EmulsionCore
@testable import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The decode worker's wire (`IsolatedDecoding`): what the parent assembles from the worker's
/// header, deferred samples and shading maps must be the image an in-process decode gives.
///
/// Reference: `RawFile.read` in this process (the same decoder, no wire). Tolerance: none; the
/// wire carries integers, strings and the gains' bit patterns, so every field must be equal.
final class IsolatedDecodingTests: XCTestCase {
    func testEverySampleDecodesThroughTheWorkerAsInProcess() throws {
        let binary = try builtEmulsionBinary()
        let worker = RawDecoder.isolated(executable: binary, timeout: 60)
        var shaded = 0
        for sample in TestSupport.rawSamples() {
            let path = sample.url.path
            let expected = Result { try RawFile.read(path: path) }
            let got = Result { try worker.decode(path: path, pixelLimit: RawFile.defaultPixelLimit) }
            switch (got, expected) {
            case (.success(let image), .success(let reference)):
                assertSameImage(image, reference, sample.name)
                if reference.lensShading != nil { shaded += 1 }
            case (.failure(let a), .failure(let b)):
                XCTAssertEqual("\(a)", "\(b)", sample.name)
            case (let a, let b):
                XCTFail("\(sample.name): through the worker \(a), in process \(b)")
            }
        }
        if TestSupport.inCI { XCTAssertGreaterThan(shaded, 0, "no sample carried gain maps over the wire") }
    }

    func testShadingMapsCrossTheWireBitForBit() throws {
        // Gains chosen to trip a decimal round trip: a subnormal, −0, the largest Float, and
        // values with no short decimal form.
        let gains: [Float] = [1, .leastNonzeroMagnitude, -0.0, .greatestFiniteMagnitude, 1.0 / 3, Float(bitPattern: 0x3F80_0001)]
        let map = GainMap(top: 0, left: 0, bottom: 10, right: 10, plane: 0, planes: 1, rowPitch: 2, columnPitch: 2,
                          pointsV: 2, pointsH: 3, spacingV: 1, spacingH: 0.5, originV: 0, originH: 0, mapPlanes: 1, gains: gains)
        let shading = try XCTUnwrap(LensShading(maps: [map], offsetX: 3, offsetY: 4, imageWidth: 40, imageHeight: 30))
        let bytes = try JSONEncoder().encode(IsolatedDecoding.ShadingWire(shading))
        let back = try XCTUnwrap(try JSONDecoder().decode(IsolatedDecoding.ShadingWire.self, from: bytes).shading())
        XCTAssertEqual(back.maps.first?.gains.map(\.bitPattern), gains.map(\.bitPattern))
        XCTAssertEqual(back.maps, shading.maps)
        XCTAssertEqual([back.offsetX, back.offsetY, back.imageWidth, back.imageHeight], [3, 4, 40, 30])
    }

    /// The worker's answer for `sample` (`serve`), split into its parts.
    private func answerParts(_ path: String) throws -> [[UInt8]] {
        let directory = TestSupport.temporaryDirectory("answer-parts")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("answer")
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        _ = IsolatedDecoding.serve(path: path, pixelLimit: RawFile.defaultPixelLimit, to: handle.fileDescriptor)
        try handle.close()
        let answer = try [UInt8](Data(contentsOf: url))
        var parts: [[UInt8]] = []
        var start = 0
        while start < answer.count {
            let end = try answer.withUnsafeBytes { try IsolatedDecoding.Part($0, at: start, path: path).values.upperBound }
            parts.append(Array(answer[start..<end]))
            start = end
        }
        return parts
    }

    /// Samples read ahead (where the worker's first part said they lie) are the image's only when
    /// the image's part says the same; otherwise they are read again. A wrong part ahead, a second
    /// one, or one before an error changes nothing but what it must.
    ///
    /// Reference: `RawFile.read` in this process. Tolerance: none (the same samples).
    func testSamplesReadAheadAreUsedOnlyWhereTheImageSaysTheSame() throws {
        guard let pixel = TestSupport.rawSamples().first(where: { $0.name == "google-pixel_7-digizoom_crop.dng" }) else {
            if TestSupport.inCI { XCTFail("sample missing") }
            throw XCTSkip("no Pixel sample")
        }
        let path = pixel.url.path
        let reference = try RawFile.read(path: path)
        let parts = try answerParts(path)
        XCTAssertEqual(parts.count, 2)
        XCTAssertTrue(IsolatedDecoding.isSamplesAhead(parts[0]))
        XCTAssertFalse(IsolatedDecoding.isSamplesAhead(parts[1]))
        // The whole answer, and the image's part after its samples were read ahead.
        assertSameImage(try XCTUnwrap(try (parts[0] + parts[1]).withUnsafeBytes { try IsolatedDecoding.parse($0, path: path) }), reference, "whole")
        let ahead = try parts[0].withUnsafeBytes { try IsolatedDecoding.readAhead($0, path: path) }
        assertSameImage(try XCTUnwrap(try parts[1].withUnsafeBytes { try IsolatedDecoding.parse($0, path: path, ahead: ahead) }), reference, "ahead")

        // Marked samples ahead are what the image gets when the places agree, and are ignored when not.
        let marked = [UInt16](repeating: 7, count: reference.samples.count)
        let agreeing = IsolatedDecoding.SamplesAhead(deferred: ahead.deferred, samples: .success(marked))
        XCTAssertTrue(try parts[1].withUnsafeBytes { try IsolatedDecoding.parse($0, path: path, ahead: agreeing) }?.samples == marked)
        guard case .losslessTiles(var tiles) = ahead.deferred else { return XCTFail("the Pixel crop's tiles were not deferred") }
        tiles.offsets[0] += 1
        let elsewhere = IsolatedDecoding.SamplesAhead(deferred: .losslessTiles(tiles), samples: .success(marked))
        XCTAssertTrue(try parts[1].withUnsafeBytes { try IsolatedDecoding.parse($0, path: path, ahead: elsewhere) }?.samples == reference.samples)
        // A read ahead that failed fails the image it agrees with, as the read would have.
        struct Failed: Error {}
        let failed = IsolatedDecoding.SamplesAhead(deferred: ahead.deferred, samples: .failure(Failed()))
        XCTAssertThrowsError(try parts[1].withUnsafeBytes { try IsolatedDecoding.parse($0, path: path, ahead: failed) }) {
            XCTAssertTrue($0 is Failed)
        }

        func problem(_ bytes: [UInt8], ahead: IsolatedDecoding.SamplesAhead? = nil) -> String {
            switch Result(catching: { try bytes.withUnsafeBytes { try IsolatedDecoding.parse($0, path: path, ahead: ahead) } }) {
            case .success: return "no error"
            case .failure(let error): return (error as? RawFileError)?.problem ?? "\(error)"
            }
        }
        XCTAssertEqual(problem(parts[0] + parts[0] + parts[1]), "decoder process returned malformed output")
        XCTAssertEqual(problem(parts[0] + parts[1], ahead: ahead), "decoder process returned malformed output")
        var error = IsolatedDecoding.magic + [1]
        IsolatedDecoding.appendLength(4, to: &error)
        error += Array("bad!".utf8)
        XCTAssertEqual(problem(parts[0] + error), "bad!")
        XCTAssertEqual(problem(error, ahead: ahead), "bad!")
        // A part ahead whose header is not a place, or whose curve is cut, is malformed.
        var garbled = parts[0]
        garbled[IsolatedDecoding.magic.count + 1 + 8] ^= 0xFF
        XCTAssertEqual(problem(garbled + parts[1]), "decoder process returned malformed output")
        XCTAssertEqual(problem(Array(parts[0].dropLast(8)) + parts[1]), "decoder process returned malformed output")
    }
}

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
        var writer = WireWriter()
        writer.shading(shading)
        let back = try writer.bytes.withUnsafeBytes { buffer in
            var reader = WireReader(bytes: buffer)
            return try reader.shading()
        }
        XCTAssertEqual(back.maps.first?.gains.map(\.bitPattern), gains.map(\.bitPattern))
        XCTAssertEqual(back.maps, shading.maps)
        XCTAssertEqual([back.offsetX, back.offsetY, back.imageWidth, back.imageHeight], [3, 4, 40, 30])
    }

    /// A handle made ahead (`RawFile.prepareSpareHandle`, what the decode worker does while it
    /// waits for a request) is the next decode's, once, and decodes as a fresh one does.
    func testASpareHandleIsUsedOnceAndDecodesAsAFreshOne() throws {
        let samples = TestSupport.rawSamples().filter { $0.name.hasSuffix(".dng") || $0.name.hasSuffix(".nef") }.prefix(3)
        if samples.isEmpty && !TestSupport.inCI { throw XCTSkip("samples missing") }
        XCTAssertFalse(samples.isEmpty)
        for sample in samples {
            let fresh = try RawFile.read(path: sample.url.path)
            RawFile.prepareSpareHandle()
            RawFile.prepareSpareHandle()  // (a second call keeps the one handle)
            let spare = try RawFile.read(path: sample.url.path)
            XCTAssertNil(RawFile.SpareHandle.shared.take(), "\(sample.name): the decode took the spare handle")
            XCTAssertEqual(spare.samples, fresh.samples, sample.name)
            XCTAssertEqual(spare.colour, fresh.colour, sample.name)
            XCTAssertEqual(spare.metadata, fresh.metadata, sample.name)
            XCTAssertEqual(spare.levels, fresh.levels, sample.name)
        }
    }
}

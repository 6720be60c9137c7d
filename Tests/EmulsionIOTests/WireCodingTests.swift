import EmulsionCore
@testable import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The decode worker's header format (`WireCoding`).
///
/// References: Codable's own contract (a value decoded from what it encoded is the value) and
/// JSON, the format it replaced: every header decodes to what Foundation's JSON coder gives for
/// the same header. No tolerance: floats travel as bit patterns. Hostile bytes (the parent reads
/// what a worker that parsed an untrusted file wrote) must give an error, never a trap.
final class WireCodingTests: XCTestCase {
    struct Sample: Codable, Equatable {
        enum Kind: Codable, Equatable { case plain, tagged(String, Int), nested([Sample]) }
        var integers: [Int64] = [.min, -1, 0, 1, .max]
        var unsigned: [UInt64] = [0, .max]
        var small: [Int8] = [-128, 127]
        var floats: [Float] = [-0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.infinity, 1 / 3]
        var doubles: [Double] = [-0.0, .leastNonzeroMagnitude, .pi, .infinity]
        var text = "grün, 緑, 🟩"
        var bytes = Data([0, 255, 1, 254])
        var missing: Int? = nil
        var present: Float? = 2.5
        var flag = true
        var kind: Kind = .plain
        var table: [String: [Double]] = ["a": [1, 2], "b": []]
    }

    func roundTrip<T: Codable>(_ value: T) throws -> (T, [UInt8]) {
        let bytes = try WireCoding.encode(value)
        let back = try bytes.withUnsafeBytes { try WireCoding.decode(T.self, from: $0) }
        return (back, bytes)
    }

    func testValuesComeBackExactly() throws {
        var value = Sample()
        value.kind = .nested([Sample(kind: .tagged("inner", -7)), Sample(missing: 3, present: nil)])
        let (back, _) = try roundTrip(value)
        XCTAssertEqual(back, value)
        XCTAssertEqual(back.floats.map(\.bitPattern), value.floats.map(\.bitPattern), "-0 and every float by its bits")
        // A NaN's payload too (Equatable cannot see it).
        let nan = Float(bitPattern: 0x7FC0_1234)
        XCTAssertEqual(try roundTrip([nan]).0.map(\.bitPattern), [0x7FC0_1234])
    }

    /// Every raw sample's header (what the worker sends) decodes to what JSON gives for it.
    func testSampleHeadersDecodeAsJSONDoes() throws {
        var checked = 0
        for sample in TestSupport.rawSamples() {
            guard let (image, deferred) = try? RawFile.readDeferringSamples(path: sample.url.path) else { continue }
            var raw = image
            raw.samples = []
            let shading = raw.lensShading.map(IsolatedDecoding.ShadingWire.init)
            raw.lensShading = nil
            let header = IsolatedDecoding.Header(image: raw, deferredSamples: deferred, shading: shading)
            let (back, bytes) = try roundTrip(header)
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys  // (dictionaries are unordered)
            let json = try JSONDecoder().decode(IsolatedDecoding.Header.self, from: encoder.encode(header))
            XCTAssertEqual(String(decoding: try encoder.encode(back), as: UTF8.self), String(decoding: try encoder.encode(json), as: UTF8.self),
                           sample.name)
            XCTAssertEqual(try WireCoding.encode(back), bytes, "\(sample.name): encoding is deterministic")
            checked += 1
        }
        if checked == 0 && !TestSupport.inCI { throw XCTSkip("samples missing") }
        XCTAssertGreaterThan(checked, 0)
    }

    /// Damaged headers: cut anywhere, bytes flipped, counts and lengths made huge, nesting made
    /// deep. Each decode throws or gives a value; none traps, none allocates what the bytes
    /// cannot hold.
    func testDamagedBytesThrowAndNeverTrap() throws {
        var value = Sample()
        value.kind = .nested([Sample(kind: .tagged("x", 1))])
        let bytes = try WireCoding.encode(value)
        func attempt(_ damaged: [UInt8]) -> Bool {
            (try? damaged.withUnsafeBytes { try WireCoding.decode(Sample.self, from: $0) }) != nil
        }
        for length in 0..<bytes.count { XCTAssertFalse(attempt(Array(bytes.prefix(length))), "cut at \(length)") }
        XCTAssertFalse(attempt(bytes + [0]), "a byte too many")
        var random = SplitMix64(seed: 5)
        for _ in 0..<3000 {
            var damaged = bytes
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                damaged[Int.random(in: 0..<damaged.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            _ = attempt(damaged)
        }
        // A count of 2³² − 1 items in a few bytes, and arrays nested 10 000 deep.
        XCTAssertFalse(attempt([WireValue.Tag.array.rawValue, 0xFF, 0xFF, 0xFF, 0xFF, 0]))
        XCTAssertFalse(attempt([WireValue.Tag.string.rawValue, 0xFF, 0xFF, 0xFF, 0xFF]))
        let deep = [UInt8]((0..<10_000).flatMap { _ in [WireValue.Tag.array.rawValue, 1, 0, 0, 0] }) + [WireValue.Tag.null.rawValue]
        XCTAssertFalse(attempt(deep))
        // A key given twice.
        let twice: [UInt8] = [WireValue.Tag.object.rawValue, 2, 0, 0, 0, 1, 0, 0, 0, 0x61, WireValue.Tag.null.rawValue,
                              1, 0, 0, 0, 0x61, WireValue.Tag.null.rawValue]
        XCTAssertThrowsError(try twice.withUnsafeBytes { try WireCoding.decode([String: Int?].self, from: $0) })
    }
}

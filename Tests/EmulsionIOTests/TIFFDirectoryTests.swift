import EmulsionCore
@testable import EmulsionIO
import Foundation
import XCTest

/// TIFF values that cannot be counts or offsets (NaN, 1e300, fractions, negatives) where a
/// reader expects them: they must make the value absent, never trap. TIFF 6.0 §2 allows any
/// field type in any tag; a hostile file uses that.
final class TIFFDirectoryTests: XCTestCase {
    /// Little-endian TIFF, one IFD: SubIFDs (330) as a DOUBLE NaN, ActiveArea (50829) as FLOATs
    /// with a NaN, StripOffsets (273) as a DOUBLE 1e300, and an ordinary SHORT.
    func hostileTIFF() -> [UInt8] {
        var out: [UInt8] = [0x49, 0x49, 42, 0, 8, 0, 0, 0]
        func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8 & 0xff)] }
        func u32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(v >> (8 * $0) & 0xff) } }
        let entries = 4
        let extra = 8 + 2 + 12 * entries + 4
        let nanDouble = withUnsafeBytes(of: Double.nan.bitPattern.littleEndian) { Array($0) }
        let hugeDouble = withUnsafeBytes(of: (1e300 as Double).bitPattern.littleEndian) { Array($0) }
        let floats = [Float(1), .nan, -3, 2.5].flatMap { f in withUnsafeBytes(of: f.bitPattern.littleEndian) { Array($0) } }
        out += u16(entries)
        out += u16(258) + u16(3) + u32(1) + u16(16) + u16(0)
        out += u16(273) + u16(12) + u32(1) + u32(extra + 8)
        out += u16(330) + u16(12) + u32(1) + u32(extra)
        out += u16(50829) + u16(11) + u32(4) + u32(extra + 16)
        out += u32(0)
        out += nanDouble + hugeDouble + floats
        return out
    }

    func testNonIntegerValuesAreAbsentNotTrapping() throws {
        let directories = TIFFDirectory.all(hostileTIFF())
        XCTAssertEqual(directories.count, 1, "the NaN SubIFD offset is not followed")
        let d = try XCTUnwrap(directories.first)
        XCTAssertEqual(d.integers(258), [16])
        XCTAssertNil(d.integers(273))
        XCTAssertNil(d.integers(330))
        XCTAssertNil(d.integers(50829))
        XCTAssertNil(DNGOpcodes.read(bytes: hostileTIFF())?.activeArea)
    }

    /// A GainMap opcode whose grid (pointsV · pointsH · mapPlanes, each a 32-bit field, DNG 1.6
    /// §7) overflows a 64-bit count: the map is left out, nothing traps. It did trap before.
    func testGainMapWhoseGridOverflowsIsLeftOut() throws {
        let big = Int(UInt32.max)
        for (v, h, planes) in [(big, big, big), (big, big, 1), (1 << 31, 1 << 31, 4)] {
            let map = GainMap(top: 0, left: 0, bottom: 2, right: 2, plane: 0, planes: 1, rowPitch: 1, columnPitch: 1, pointsV: v,
                              pointsH: h, spacingV: 1, spacingH: 1, originV: 0, originH: 0, mapPlanes: planes, gains: [1, 1, 1, 1])
            XCTAssertFalse(map.isValid)
            XCTAssertEqual(map.transposed.gains, map.gains, "an invalid map stays as it is when transposed")
            var opcodes = DNGOpcodes()
            opcodes.parse(DNGOpcodes.listBytes(gainMaps: [map]), list: 2)
            XCTAssertEqual(opcodes.records.map(\.name), ["GainMap"])
            XCTAssertEqual(opcodes.gainMaps, [])
        }
        XCTAssertNil(GainMap.valueCount(1 << 32, 1 << 31, 1))
        XCTAssertEqual(GainMap.valueCount(3, 5, 2), 30)
    }
}

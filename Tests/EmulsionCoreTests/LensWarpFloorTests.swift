@testable import EmulsionCore
import XCTest

/// The resampler's magic-number floor and snap (`LensWarpSource.floor`, `inFrame`), against
/// Foundation's own `rounded(.down)` on every kind of value the resampler gives them: zero, just
/// above and below integers on the 2⁻²⁰ grid, phases times 32, the largest frame coordinates.
/// No tolerance: a floor is exact or wrong (an off-by-one reads the neighbouring pixel, or a
/// weight table entry before the table).
final class LensWarpFloorTests: XCTestCase {
    func testTheFloorIsExactOnTheGrid() {
        let step = 0x1p-20
        var values: [Double] = [0, step, 0.5, 1 - step, 1, 1 + step, 31 + 31 * 0x1p-5, 2_147_483_647, 2_147_483_647 - step]
        for k in [1.0, 2, 3, 255, 4095, 8191, 65_535, 1_000_000] { values += [k - step, k, k + step, k + 0.5, k - 0.5] }
        var state: UInt64 = 7
        for _ in 0..<100_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            values.append(Double(state >> 40) * step)  // 0 ..< 2^4 on the grid, fine fractions
            values.append(Double(state >> 33) * 0x1p-10)  // up to 2^21, coarser grid
        }
        while values.count % 4 != 0 { values.append(0) }
        for i in stride(from: 0, to: values.count, by: 4) {
            let v = SIMD4(values[i..<(i + 4)])
            let floor = LensWarpSource.floor(v)
            for k in 0..<4 {
                XCTAssertEqual(Int(floor.integer[k]), Int(v[k].rounded(.down)), "\(v[k])")
                XCTAssertEqual(floor.double[k], v[k].rounded(.down), "\(v[k])")
            }
        }
    }

    func testInFrameClampsSnapsAndSurvivesNonNumbers() {
        XCTAssertEqual(LensWarpSource.inFrame(.nan, limit: 99), 0)
        XCTAssertEqual(LensWarpSource.inFrame(-.infinity, limit: 99), 0)
        XCTAssertEqual(LensWarpSource.inFrame(.infinity, limit: 99), 99)
        XCTAssertEqual(LensWarpSource.inFrame(-0.25, limit: 99), 0)
        XCTAssertEqual(LensWarpSource.inFrame(120, limit: 99), 99)
        // A position a rounding error below an integer is that integer (read at phase 0).
        XCTAssertEqual(LensWarpSource.inFrame(37 - 1e-12, limit: 99), 37)
        XCTAssertEqual(LensWarpSource.inFrame(37.25, limit: 99), 37.25)
    }
}

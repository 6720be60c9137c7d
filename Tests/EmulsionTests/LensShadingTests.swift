import Emulsion
@testable import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// DNG GainMap (OpcodeList2) lens shading: decoding on the Pixel 7 sample, interpolation, and
/// its effect through the mosaic source.
final class LensShadingTests: XCTestCase {
    /// The Pixel 7 file carries four GainMaps (one per Bayer phase, pitch 2, 29 × 40 points over
    /// the whole 510 × 382 active area) and a WarpRectilinear in OpcodeList3. Values checked
    /// against a direct big-endian decode of the tag (Python `struct`, docs/QUALITY.md): the red
    /// map (phase 0,0) runs 1.061 … 1.076, 1.061 at the centre point and 1.075 at the corner.
    func testPixel7GainMapsAreDecodedAndPlaced() throws {
        let name = "google-pixel_7-digizoom_crop.dng"
        let url = TestSupport.samplesDirectory.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            if TestSupport.inCI { XCTFail("missing sample \(name)") }
            throw XCTSkip("missing sample \(name)")
        }
        let opcodes = try XCTUnwrap(DNGOpcodes.read(path: url.path))
        XCTAssertEqual(opcodes.records.map(\.name), ["GainMap", "GainMap", "GainMap", "GainMap", "WarpRectilinear"])
        XCTAssertEqual(opcodes.records.map(\.list), [2, 2, 2, 2, 3])
        XCTAssertEqual(opcodes.activeArea, [0, 0, 382, 510])
        let red = opcodes.gainMaps[0]
        XCTAssertEqual([red.top, red.left, red.bottom, red.right, red.rowPitch, red.columnPitch, red.pointsV, red.pointsH], [0, 0, 382, 510, 2, 2, 29, 40])
        XCTAssertEqual(red.gains.min()!, 1.061, accuracy: 5e-4)
        XCTAssertEqual(red.gains.max()!, 1.076, accuracy: 5e-4)
        XCTAssertEqual(red.gains[0], 1.075, accuracy: 5e-4)
        XCTAssertEqual(red.gains[14 * 40 + 20], 1.061, accuracy: 5e-4)
        XCTAssertEqual([opcodes.gainMaps[1].left, opcodes.gainMaps[2].top], [1, 1])

        let raw = try RawFile.read(path: url.path)
        let shading = try XCTUnwrap(raw.lensShading)
        XCTAssertEqual(shading.maps.count, 4)
        var row = [Float](repeating: 0, count: raw.width)
        row.withUnsafeMutableBufferPointer { shading.rowGains(y: 0, width: raw.width, into: $0.baseAddress!) }
        // Row 0, column 0 is red (RGGB): the red map's corner value; column 1 green (second map).
        XCTAssertEqual(row[0], red.gains[0], accuracy: 1e-6)
        XCTAssertEqual(row[1], opcodes.gainMaps[1].gains[0], accuracy: 2e-4)
        XCTAssertTrue(raw.metadata.opcodes.contains { $0.contains("WarpRectilinear — applied") })
    }

    /// The row gains through columns worked out once (`LensShading.columns`, what the mosaic
    /// source uses) equal the per-photosite `GainMap.gain` formula bit for bit: random maps with
    /// pitches 1–3, origins and spacings that put columns past both grid edges (clamped), several
    /// map planes, and a crop offset. Exact: the same float operations in the same order.
    func testPrecomputedColumnsGiveTheSameGains() {
        var random = SplitMix64(seed: 9)
        for trial in 0..<40 {
            let w = Int.random(in: 5...90, using: &random), h = Int.random(in: 5...60, using: &random)
            var maps: [GainMap] = []
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let pv = Int.random(in: 1...7, using: &random), ph = Int.random(in: 1...9, using: &random)
                let planes = Int.random(in: 1...3, using: &random)
                let top = Int.random(in: 0...3, using: &random), left = Int.random(in: 0...3, using: &random)
                maps.append(GainMap(top: top, left: left, bottom: h + 4, right: w + 4, plane: 0, planes: 1,
                                    rowPitch: Int.random(in: 1...3, using: &random), columnPitch: Int.random(in: 1...3, using: &random),
                                    pointsV: pv, pointsH: ph, spacingV: Double.random(in: 0.05...0.6, using: &random),
                                    spacingH: Double.random(in: 0.05...0.6, using: &random),
                                    originV: Double.random(in: -0.2...0.3, using: &random), originH: Double.random(in: -0.2...0.3, using: &random),
                                    mapPlanes: planes, gains: (0..<(pv * ph * planes)).map { _ in Float.random(in: 0.5...2, using: &random) }))
            }
            let (dx, dy) = (trial % 3, trial % 2)
            let shading = LensShading(maps: maps, offsetX: dx, offsetY: dy, imageWidth: w + 4, imageHeight: h + 4)!
            assertRowGainsAreGainMaps(shading, columns: shading.columns(width: w), width: w, height: h, "trial \(trial)")
        }
    }

    /// `rowGains` through `columns` for visible rows 0..<height against the reference, bit for
    /// bit: each photosite's product of `GainMap.gain` over the maps that cover it.
    func assertRowGainsAreGainMaps(_ shading: LensShading, columns: LensShading.Columns, width w: Int, height h: Int,
                                   _ label: String, line: UInt = #line) {
        let (dx, dy) = (shading.offsetX, shading.offsetY)
        var planned = [Float](repeating: 0, count: w)
        for y in 0..<h {
            var direct = [Float](repeating: 1, count: w)
            for m in shading.maps where y + dy >= m.top && y + dy < m.bottom && (y + dy - m.top) % m.rowPitch == 0 {
                for x in 0..<w where x + dx >= m.left && x + dx < m.right && (x + dx - m.left) % m.columnPitch == 0 {
                    direct[x] *= m.gain(row: y + dy, column: x + dx, imageWidth: shading.imageWidth, imageHeight: shading.imageHeight)
                }
            }
            planned.withUnsafeMutableBufferPointer { shading.rowGains(y: y, columns: columns, into: $0.baseAddress!) }
            XCTAssertEqual(direct.map(\.bitPattern), planned.map(\.bitPattern), "\(label), row \(y)", line: line)
        }
    }

    /// Bayer layouts (four maps, one per CFA position, pitch 2, as phones write them), whose rows
    /// `rowGains` writes interleaved in one pass: bit for bit the per-photosite `GainMap.gain`,
    /// for odd and even widths, crop offsets that swap which map lands on even columns, and
    /// grids with one to several points and planes.
    func testBayerRowsGiveTheSameGains() {
        var random = SplitMix64(seed: 12)
        for (trial, w) in [7, 8, 9, 16, 40, 41, 63, 130].enumerated() {
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let h = 9
                let pv = 1 + trial % 5, ph = 1 + (trial * 3) % 7, planes = 1 + trial % 2
                let maps = (0..<4).map { phase in
                    GainMap(top: phase / 2, left: phase % 2, bottom: h + 2, right: w + 2, plane: 0, planes: 1,
                            rowPitch: 2, columnPitch: 2, pointsV: pv, pointsH: ph,
                            spacingV: 1 / Double(max(pv - 1, 1)), spacingH: 1 / Double(max(ph - 1, 1)), originV: 0, originH: 0,
                            mapPlanes: planes, gains: (0..<(pv * ph * planes)).map { _ in Float.random(in: 0.5...2, using: &random) })
                }
                let shading = LensShading(maps: maps, offsetX: dx, offsetY: dy, imageWidth: w + 2, imageHeight: h + 2)!
                assertRowGainsAreGainMaps(shading, columns: shading.columns(width: w), width: w, height: h,
                                          "width \(w), offset (\(dx), \(dy))")
            }
        }
    }

    /// A map with 10⁵ grid rows (a few hundred KB in a file) gets no per-render table (it would
    /// hold more grid rows than the image has rows), and maps over the table budget interpolate
    /// from the grid directly: both bit for bit `GainMap.gain`, as everywhere.
    func testTallGridsAndTightBudgetsGiveTheSameGains() {
        var random = SplitMix64(seed: 77)
        let w = 40, h = 30
        func check(_ shading: LensShading, budget: Int, _ label: String, line: UInt = #line) {
            assertRowGainsAreGainMaps(shading, columns: shading.columns(width: w, budget: budget), width: w, height: h, label, line: line)
        }
        let tall = GainMap(top: 0, left: 0, bottom: h, right: w, plane: 0, planes: 1, rowPitch: 1, columnPitch: 1,
                           pointsV: 100_000, pointsH: 2, spacingV: 1.0 / 99_999, spacingH: 1, originV: 0, originH: 0, mapPlanes: 1,
                           gains: (0..<200_000).map { _ in Float.random(in: 0.5...2, using: &random) })
        let shading = LensShading(maps: [tall], imageWidth: w, imageHeight: h)!
        let plan = shading.columns(width: w).maps[0]
        XCTAssertTrue(plan.across.isEmpty, "no table of 10⁵ grid rows")
        check(shading, budget: LensShading.acrossBudget, "tall grid")
        // Bayer maps over a budget of nothing, and with room for the first map only.
        let bayer = (0..<4).map { phase in
            GainMap(top: phase / 2, left: phase % 2, bottom: h, right: w, plane: 0, planes: 1, rowPitch: 2, columnPitch: 2,
                    pointsV: 5, pointsH: 7, spacingV: 0.25, spacingH: 1.0 / 6, originV: 0, originH: 0, mapPlanes: 1,
                    gains: (0..<35).map { _ in Float.random(in: 0.5...2, using: &random) })
        }
        let bayerShading = LensShading(maps: bayer, imageWidth: w, imageHeight: h)!
        check(bayerShading, budget: 0, "no budget")
        check(bayerShading, budget: 5 * w / 2, "budget for one map")
        XCTAssertTrue(bayerShading.columns(width: w, budget: 0).maps.allSatisfy { $0.across.isEmpty })
    }

    /// End to end, as a phone file travels: the phone capture stored in LJ92 tiles, decoded by
    /// Emulsion's tile decoder and rendered. Its uniform grey surround comes out as bright in a
    /// corner as in the middle of the top edge with the gain maps applied (within 2%: shot noise
    /// on 8×8 boxes and rounding), and clearly darker in the corner without them (the lens's
    /// shading: 1.75 against 1.375 in green, about 10% once display-encoded), so the first
    /// check cannot pass by accident.
    func testThePhoneCaptureRendersEvenlyLit() throws {
        let directory = TestSupport.temporaryDirectory("phone-render")
        defer { try? FileManager.default.removeItem(at: directory) }
        let w = 480, h = 360
        let url = directory.appendingPathComponent("phone.dng")
        try DNGWriter.write(SyntheticPhoneCapture.render(width: w, height: h), to: url,
                            storage: .losslessJPEGTiles(width: SyntheticPhoneCapture.tileWidth, height: SyntheticPhoneCapture.tileHeight))
        let raw = try RawFile.read(path: url.path)
        XCTAssertNotNil(raw.lensShading)
        func cornerOverEdge(_ profile: Profile) throws -> Double {
            let image = try Renderer.render(raw, options: RenderOptions(profile: profile))
            func green(x: Int, y: Int) -> Double {
                var sum = 0.0
                for j in y..<(y + 8) { for i in x..<(x + 8) { sum += Double(image.samples[3 * (j * image.width + i) + 1]) } }
                return sum / 64
            }
            return green(x: 2, y: 2) / green(x: image.width / 2 - 4, y: 2)
        }
        XCTAssertEqual(try cornerOverEdge(.defaults), 1, accuracy: 0.02, "gain maps applied")
        XCTAssertLessThan(try cornerOverEdge(Profile.defaults.applying(overrides: ["opcodes.gainMap=false"])), 0.93,
                          "without the gain maps the corner is the lens's")
    }

    /// A synthetic map: corners ×2, centre ×1, linear in between. A flat mosaic comes out scaled
    /// by exactly the interpolated gain, in both engines.
    func testGainMapScalesTheMosaic() {
        let w = 40, h = 30
        let gains: [Float] = [2, 1.5, 2, 1.5, 1, 1.5, 2, 1.5, 2]
        let map = GainMap(top: 0, left: 0, bottom: h, right: w, plane: 0, planes: 1, rowPitch: 1, columnPitch: 1,
                          pointsV: 3, pointsH: 3, spacingV: 0.5, spacingH: 0.5, originV: 0, originH: 0, mapPlanes: 1, gains: gains)
        let shading = LensShading(maps: [map], imageWidth: w, imageHeight: h)!
        XCTAssertEqual(map.gain(row: 15, column: 20, imageWidth: w, imageHeight: h), 1, accuracy: 1e-6)
        XCTAssertEqual(map.gain(row: 0, column: 0, imageWidth: w, imageHeight: h), 2, accuracy: 1e-6)
        XCTAssertEqual(map.gain(row: 0, column: 10, imageWidth: w, imageHeight: h), 1.75, accuracy: 1e-6)
        let raw = [UInt16](repeating: 100, count: w * h)
        let cfa = CFAPattern.rggb
        let n = RawNormalisation(levels: SensorLevels(black: 0, white: 1000), multipliers: .one, cfa: cfa, ceiling: 4)
        let source = MosaicSource(raw: raw, width: w, height: h, cfa: cfa, normalisation: n, demosaic: BilinearDemosaic(),
                                  lensShading: shading)
        let storage = StripStorage(width: w, rows: h)
        let a = storage.strip(firstRow: 0, rows: h)
        source.fill(a, scratch: source.makeScratch(stripRows: h), engine: .scalar)
        let scalar = (0..<(w * h)).map { a.g[$0] }
        source.fill(a, scratch: source.makeScratch(stripRows: h), engine: .simd)
        XCTAssertEqual(scalar.map(\.bitPattern), (0..<(w * h)).map { a.g[$0].bitPattern })
        // Green at a green site is its own sample: 0.1 × gain there.
        XCTAssertEqual(a.g[1], 0.1 * map.gain(row: 0, column: 1, imageWidth: w, imageHeight: h), accuracy: 1e-6)
        XCTAssertEqual(a.g[15 * w + 20], 0.1 * map.gain(row: 15, column: 20, imageWidth: w, imageHeight: h), accuracy: 1e-6)
        withExtendedLifetime(storage) {}
    }
}

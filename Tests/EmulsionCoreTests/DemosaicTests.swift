import EmulsionTestSupport
import XCTest
@testable import EmulsionCore

/// Bilinear demosaic checked against its definition (mean of same-colour neighbours), and the
/// whole mosaic source checked for engine agreement on all four Bayer layouts and X-Trans.
final class DemosaicTests: XCTestCase {
    static let xTrans = CFAPattern(width: 6, height: 6, colours: [
        1, 1, 0, 1, 1, 2,  1, 1, 2, 1, 1, 0,  2, 0, 1, 0, 2, 1,
        1, 1, 2, 1, 1, 0,  1, 1, 0, 1, 1, 2,  0, 2, 1, 2, 0, 1,
    ])

    func mosaic(width: Int, height: Int, cfa: CFAPattern, value: (Int, Int, Int) -> Float) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: width * height)
        for y in 0..<height { for x in 0..<width { out[y * width + x] = UInt16(value(x, y, cfa.colour(row: y, column: x))) } }
        return out
    }
}

extension DemosaicTests {
    func source(_ raw: [UInt16], _ w: Int, _ h: Int, _ cfa: CFAPattern,
                _ algorithm: any DemosaicAlgorithm = BilinearDemosaic()) -> MosaicSource {
        let n = RawNormalisation(levels: SensorLevels(black: 0, white: 1000), multipliers: .one, cfa: cfa)
        return MosaicSource(raw: raw, width: w, height: h, cfa: cfa, normalisation: n, demosaic: algorithm)
    }

    static let algorithms: [(String, any DemosaicAlgorithm)] = [("bilinear", BilinearDemosaic()), ("malvar", MalvarDemosaic()),
                                                                ("rcd", RCDDemosaic()), ("directional", DirectionalDemosaic())]

    func algorithms(for cfa: CFAPattern) -> [(String, any DemosaicAlgorithm)] {
        cfa.isBayer ? Self.algorithms : Self.algorithms.filter { $0.0 == "bilinear" || $0.0 == "directional" }
    }

    func testFlatFieldStaysFlatInEveryLayout() {
        for cfa in [CFAPattern.rggb, .bggr, .grbg, .gbrg, Self.xTrans] {
            for (name, algorithm) in algorithms(for: cfa) {
                let raw = mosaic(width: 29, height: 23, cfa: cfa) { _, _, c in [200, 500, 800][c] }
                let out = TestSupport.renderSource(source(raw, 29, 23, cfa, algorithm), engine: .simd)
                for i in 0..<(29 * 23) {
                    XCTAssertEqual(out[3 * i], 0.2, accuracy: 1e-5, "\(name) \(cfa.name) R at \(i)")
                    XCTAssertEqual(out[3 * i + 1], 0.5, accuracy: 1e-5, "\(name) \(cfa.name) G at \(i)")
                    XCTAssertEqual(out[3 * i + 2], 0.8, accuracy: 1e-5, "\(name) \(cfa.name) B at \(i)")
                }
            }
        }
    }

    /// Malvar–He–Cutler reproduces any quadratic-free linear ramp exactly (its filters are
    /// bilinear plus a zero-mean Laplacian term), including at the mirrored border.
    func testMalvarLinearRampIsExact() {
        for cfa in [CFAPattern.rggb, .bggr, .grbg, .gbrg] {
            let raw = mosaic(width: 40, height: 20, cfa: cfa) { x, y, _ in Float(100 + 10 * x + 7 * y) }
            let out = TestSupport.renderSource(source(raw, 40, 20, cfa, MalvarDemosaic()), engine: .simd)
            for y in 2..<18 {
                for x in 2..<38 {
                    let expected = Float(100 + 10 * x + 7 * y) / 1000
                    for c in 0..<3 { XCTAssertEqual(out[3 * (y * 40 + x) + c], expected, accuracy: 1e-5, "\(cfa.name) (\(x),\(y)) c\(c)") }
                }
            }
        }
    }

    /// A linear ramp is reproduced exactly by bilinear interpolation away from the border.
    func testLinearRampIsExactInTheInterior() {
        for cfa in [CFAPattern.rggb, .bggr, .grbg, .gbrg] {
            let raw = mosaic(width: 40, height: 20, cfa: cfa) { x, y, _ in Float(10 * x + 7 * y) }
            let out = TestSupport.renderSource(source(raw, 40, 20, cfa), engine: .simd)
            for y in 1..<19 {
                for x in 1..<39 {
                    let expected = Float(10 * x + 7 * y) / 1000
                    for c in 0..<3 { XCTAssertEqual(out[3 * (y * 40 + x) + c], expected, accuracy: 1e-5, "\(cfa.name) (\(x),\(y)) c\(c)") }
                }
            }
        }
    }

    func testEnginesAgreeBitwise() {
        var state: UInt32 = 99
        for cfa in [CFAPattern.rggb, .bggr, .grbg, .gbrg, Self.xTrans] {
            let raw = mosaic(width: 53, height: 31, cfa: cfa) { _, _, _ in
                state = state &* 1664525 &+ 1013904223
                return Float(state >> 22)
            }
            for (name, algorithm) in algorithms(for: cfa) {
                let s = source(raw, 53, 31, cfa, algorithm)
                // Different engines and different strip heights: the same bits.
                let a = TestSupport.renderSource(s, engine: .scalar), b = TestSupport.renderSource(s, engine: .simd, stripRows: 4)
                XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), "\(name) \(cfa.name)")
            }
        }
    }

    func testClippedPhotositesBecomeWhiteNotMagenta() {
        // Every photosite at white: after white balance (multipliers ≥ 1) and the clip, all 1.
        let cfa = CFAPattern.rggb
        let raw = [UInt16](repeating: 4000, count: 16 * 16)
        let n = RawNormalisation(levels: SensorLevels(black: 100, white: 4000), multipliers: SIMD3(2.1, 1, 1.6), cfa: cfa)
        for (name, algorithm) in Self.algorithms {
            let out = TestSupport.renderSource(MosaicSource(raw: raw, width: 16, height: 16, cfa: cfa, normalisation: n, demosaic: algorithm), engine: .simd)
            XCTAssertTrue(out.allSatisfy { abs($0 - 1) < 1e-5 }, name)
        }
    }
}

/// Highlight stages: engine agreement and the neutral rule for fully clipped areas.
final class HighlightStageTests: XCTestCase {
    func testBlendKernelEnginesAgree() {
        let width = 37, rows = 5
        let storageA = StripStorage(width: width, rows: rows), storageB = StripStorage(width: width, rows: rows)
        defer { withExtendedLifetime((storageA, storageB)) {} }
        let a = storageA.strip(firstRow: 0, rows: rows), b = storageB.strip(firstRow: 0, rows: rows)
        var state: UInt32 = 7
        for i in 0..<(width * rows) {
            for plane in [(a.r, b.r), (a.g, b.g), (a.b, b.b)] {
                state = state &* 1664525 &+ 1013904223
                let v = Float(state >> 8) / Float(1 << 24) * 3 - 0.2
                plane.0[i] = v; plane.1[i] = v
            }
        }
        HighlightBlendKernel().run(over: a, engine: .scalar)
        HighlightBlendKernel().run(over: b, engine: .simd)
        for i in 0..<(width * rows) {
            XCTAssertEqual([a.r[i], a.g[i], a.b[i]].map(\.bitPattern), [b.r[i], b.g[i], b.b[i]].map(\.bitPattern))
        }
    }

    func testFullyClippedAreasAreNeutralInEveryMode() {
        let cfa = CFAPattern.grbg
        let multipliers = SIMD3<Float>(2.1, 1, 1.6)
        let levels = SensorLevels(black: 100, white: 4000)
        // A clipped disc on a mid-grey-ish coloured ground.
        let w = 40, h = 36
        var raw = [UInt16](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                let inside = (x - 20) * (x - 20) + (y - 18) * (y - 18) < 144
                raw[y * w + x] = inside ? 4000 : UInt16(100 + [900, 1500, 700][cfa.colour(row: y, column: x)])
            }
        }
        let clipLevels = multipliers / multipliers.min()
        for ceiling in [Float(1), clipLevels.max()] {
            let n = RawNormalisation(levels: levels, multipliers: multipliers, cfa: cfa, ceiling: ceiling)
            let stage: (any MosaicStage)? = ceiling == 1 ? nil
                : HighlightReconstruction.prepare(samples: raw, width: w, height: h, cfa: cfa, normalisation: n, clipLevels: clipLevels)
            for algorithm in [BilinearDemosaic(), RCDDemosaic()] as [any DemosaicAlgorithm] {
                let source = MosaicSource(raw: raw, width: w, height: h, cfa: cfa, normalisation: n, demosaic: algorithm, mosaicStage: stage)
                let a = TestSupport.renderSource(source, engine: .scalar), b = TestSupport.renderSource(source, engine: .simd, stripRows: 5)
                XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), "engines, ceiling \(ceiling)")
                // The disc's centre: all three channels equal.
                let i = 3 * (18 * w + 20)
                XCTAssertEqual(a[i], a[i + 1], accuracy: 1e-5)
                XCTAssertEqual(a[i + 2], a[i + 1], accuracy: 1e-5)
                XCTAssertGreaterThanOrEqual(a[i + 1], 1 - 1e-5)
            }
        }
    }
}

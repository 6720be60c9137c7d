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

    func render(_ source: any StripSource, engine: Engine, stripRows: Int = 7) -> [Float] {
        let storage = StripStorage(width: source.width, rows: stripRows)
        let scratch = source.makeScratch(stripRows: stripRows)
        var out = [Float](repeating: 0, count: 3 * source.width * source.height)
        var y = 0
        while y < source.height {
            let strip = storage.strip(firstRow: y, rows: min(stripRows, source.height - y))
            source.fill(strip, scratch: scratch, engine: engine)
            for i in 0..<strip.count {
                out[3 * (y * source.width + i)] = strip.r[i]
                out[3 * (y * source.width + i) + 1] = strip.g[i]
                out[3 * (y * source.width + i) + 2] = strip.b[i]
            }
            y += strip.rows
        }
        return out
    }

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
                let out = render(source(raw, 29, 23, cfa, algorithm), engine: .simd)
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
            let out = render(source(raw, 40, 20, cfa, MalvarDemosaic()), engine: .simd)
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
            let out = render(source(raw, 40, 20, cfa), engine: .simd)
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
                let a = render(s, engine: .scalar), b = render(s, engine: .simd, stripRows: 4)
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
            let out = render(MosaicSource(raw: raw, width: 16, height: 16, cfa: cfa, normalisation: n, demosaic: algorithm), engine: .simd)
            XCTAssertTrue(out.allSatisfy { abs($0 - 1) < 1e-5 }, name)
        }
    }
}

import EmulsionTestSupport
import XCTest
@testable import EmulsionCore

/// Scalar (`Float`) and SIMD (`SIMDLanes`) instantiations of the same kernels must give the
/// same bits: both run the same IEEE operations in the same order with no fused multiply-add
/// (see Engine/Lanes.swift), so the tolerance here is exactly zero.
final class EngineAgreementTests: XCTestCase {
    /// Values that break careless kernels: NaN, ±Inf, −0, negatives, subnormals, far above white.
    static let adversarial: [Float] = [
        .nan, .infinity, -.infinity, -0.0, 0, -1, -1e-30, .leastNonzeroMagnitude, 1e-40, 1e-7, 0.5, 0.999_999,
        1, 1.000_001, 4, 1e6, .greatestFiniteMagnitude, 0.018, 0.0031308, 0.25,
    ]

    static func makeStrip(width: Int, rows: Int, seed: UInt64) -> (StripStorage, Strip) {
        let storage = StripStorage(width: width, rows: rows)
        let strip = storage.strip(firstRow: 0, rows: rows)
        var state = seed
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 1.4 - 0.2
        }
        for i in 0..<(width * rows) {
            let pick = Int(state % 7)
            strip.r[i] = pick == 0 ? Self.adversarial[i % Self.adversarial.count] : next()
            strip.g[i] = next()
            strip.b[i] = pick == 1 ? Self.adversarial[(i * 7) % Self.adversarial.count] : next()
            _ = next()
        }
        return (storage, strip)
    }

    static func assertSameBits(_ kernel: any PointKernel, width: Int = 37, rows: Int = 5, file: StaticString = #filePath, line: UInt = #line) {
        let (s1, a) = Self.makeStrip(width: width, rows: rows, seed: 42)
        let (s2, b) = Self.makeStrip(width: width, rows: rows, seed: 42)
        kernel.run(over: a, engine: .scalar)
        kernel.run(over: b, engine: .simd)
        for i in 0..<(width * rows) {
            for (x, y) in [(a.r[i], b.r[i]), (a.g[i], b.g[i]), (a.b[i], b.b[i])] where x.bitPattern != y.bitPattern {
                XCTFail("pixel \(i): scalar \(x) vs simd \(y)", file: file, line: line)
                return
            }
        }
        withExtendedLifetime((s1, s2)) {}
    }

    func testColourMatrixAgrees() {
        Self.assertSameBits(ColourMatrixKernel(Matrix3(rowMajor: [1.7, -0.5, -0.2, -0.3, 1.6, -0.3, 0.05, -0.6, 1.55])))
    }

    func testOutputEncodingAgrees() {
        let kernel = OutputEncodingKernel(toOutput: WorkingSpace.fromLinearSRGB.inverse!) { x in
            x <= 0.0031308 ? 12.92 * x : 1.055 * Foundation.pow(x, 1 / 2.4) - 0.055
        }
        Self.assertSameBits(kernel)
        Self.assertSameBits(kernel, width: 8, rows: 1)
        Self.assertSameBits(kernel, width: 3, rows: 2)
    }

    func testOutputEncodingIsClampedAndFinite() {
        let kernel = OutputEncodingKernel(toOutput: .identity) { $0 }
        let (storage, strip) = Self.makeStrip(width: 64, rows: 2, seed: 7)
        kernel.run(over: strip, engine: .simd)
        for i in 0..<strip.count {
            for v in [strip.r[i], strip.g[i], strip.b[i]] {
                XCTAssertTrue(v >= 0 && v <= 1, "encoded value \(v) outside [0, 1]")
            }
        }
        withExtendedLifetime(storage) {}
    }

    func testClampPolicyMapsNaNToLowerBound() {
        XCTAssertEqual(Float.nan.clamped(0, 1), 0)
        let v = SIMD8<Float>(.nan, -1, 2, 0.5, .infinity, -.infinity, -0.0, 1).clamped(0, 1)
        XCTAssertEqual(v, SIMD8<Float>(0, 0, 1, 0.5, 1, 0, 0, 1))
    }

    func testAlternatingLanesFollowColumnParity() {
        let even = SIMD8<Float>(repeating: 1), odd = SIMD8<Float>(repeating: 2)
        XCTAssertEqual(SIMD8.alternating(even: even, odd: odd, firstColumn: 4), SIMD8(1, 2, 1, 2, 1, 2, 1, 2))
        XCTAssertEqual(SIMD8.alternating(even: even, odd: odd, firstColumn: 3), SIMD8(2, 1, 2, 1, 2, 1, 2, 1))
        XCTAssertEqual(Float.alternating(even: 1, odd: 2, firstColumn: 3), 2)
    }
}

/// Every `Lanes` requirement and every stage, at every SIMD width the engine can run (4, 8, 16),
/// against the scalar instantiation: bit for bit, on adversarial values. Tolerance zero — the
/// vector and scalar code run the same IEEE operations in the same order (Engine/Lanes.swift).
final class LaneWidthAgreementTests: XCTestCase {
    static let adversarial = EngineAgreementTests.adversarial + [
        -.leastNormalMagnitude, .leastNormalMagnitude, -.leastNonzeroMagnitude, 0.5, 1.5, 2.5, 4094.5, 4095, 65535,
        Float(bitPattern: 0x7FC0_0001), Float(bitPattern: 0xFFC0_0000), -2, 3, 0.25, 1e-20, -1e20,
    ]

    func withEveryWidth(_ body: (SIMDWidth) throws -> Void) rethrows {
        let saved = SIMDWidth.selected
        defer { SIMDWidth.selected = saved }
        for width in SIMDWidth.allCases {
            SIMDWidth.selected = width
            try body(width)
        }
    }

    /// `values` padded to a multiple of 16, so every width sees every value in every lane position.
    func lanesOf(_ values: [Float]) -> [Float] {
        var v = values
        for shift in 1..<16 { v += values.indices.map { values[($0 + shift) % values.count] } }
        while v.count % 16 != 0 { v.append(0.5) }
        return v
    }

    func check<L: Lanes>(_: L.Type, _ values: [Float], file: StaticString = #filePath, line: UInt = #line,
                         _ what: String, _ vector: (L) -> L, _ scalar: (Float) -> Float) {
        values.withUnsafeBufferPointer { p in
            var i = 0
            while i + L.laneCount <= values.count {
                var out = [Float](repeating: 0, count: L.laneCount)
                out.withUnsafeMutableBufferPointer { vector(L(loading: p.baseAddress! + i)).store(to: $0.baseAddress!) }
                for k in 0..<L.laneCount {
                    let expected = scalar(values[i + k])
                    if out[k].bitPattern != expected.bitPattern {
                        XCTFail("\(what) \(L.self) of \(values[i + k]): vector \(out[k]) scalar \(expected)", file: file, line: line)
                        return
                    }
                }
                i += L.laneCount
            }
        }
    }

    /// The lanes of `v`, in order.
    static func lanes<L: Lanes>(_ v: L) -> [Float] {
        var out = [Float](repeating: 0, count: L.laneCount)
        out.withUnsafeMutableBufferPointer { v.store(to: $0.baseAddress!) }
        return out
    }

    func checkRequirements<L: Lanes>(_ type: L.Type) {
        let values = lanesOf(Self.adversarial)
        check(type, values, "clamped") { $0.clamped(0, 1) } _: { $0.clamped(0, 1) }
        check(type, values, "clamped(-1, 4)") { $0.clamped(-1, 4) } _: { $0.clamped(-1, 4) }
        check(type, values, "atLeast") { $0.atLeast(0) } _: { $0.atLeast(0) }
        check(type, values, "atMost") { $0.atMost(1) } _: { $0.atMost(1) }
        check(type, values, "choosing") { $0.choosing(above: 0.5, then: $0 * L(repeating: 2), otherwise: L(repeating: -3)) }
            _: { $0.choosing(above: 0.5, then: $0 * 2, otherwise: -3) }
        check(type, values, "squareRoot") { $0.squareRoot() } _: { $0.squareRoot() }
        check(type, values, "arithmetic") { ($0 * L(repeating: 1.7) + L(repeating: 0.3)) / ($0 - L(repeating: 2)) }
            _: { ($0 * 1.7 + 0.3) / ($0 - 2) }
        // Floor and lookup: the documented domains, with exact integers, halves and cell ends.
        var positions: [Float] = [0, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 4093.5, 4094, 4094.25, 4094.5, 4094.75, 4095]
        var state: UInt32 = 99
        for _ in 0..<200 {
            state = state &* 1_664_525 &+ 1_013_904_223
            positions.append(Float(state >> 8) / Float(1 << 24) * 4095)
        }
        let p = lanesOf(positions)
        check(type, p, "floored") { $0.floored() } _: { $0.floored() }
        check(type, lanesOf(positions.map { $0 * 1000 }), "floored large") { $0.floored() } _: { $0.floored() }
        let table = FloatTable((0..<4096).map { Float(($0 * 7919) % 4096) / 4096 - 0.25 })
        check(type, p, "interpolated") { $0.interpolated(in: table.pointer, count: 4096) }
            _: { $0.interpolated(in: table.pointer, count: 4096) }
        check(type, lanesOf(positions.map { $0.rounded(.down) }), "gathered") { $0.gathered(from: table.pointer) }
            _: { $0.gathered(from: table.pointer) }
        // Neighbouring pairs, each half against the scalar reads (index 4094 reads the last two entries).
        let starts = lanesOf(positions.map { min($0.rounded(.down), 4094) })
        check(type, starts, "gatheredPairs.0") { $0.gatheredPairs(from: table.pointer).0 } _: { table.pointer[Int($0)] }
        check(type, starts, "gatheredPairs.1") { $0.gatheredPairs(from: table.pointer).1 } _: { table.pointer[Int($0) + 1] }
        // Records of four floats (1024 of them in the same table), each field against the scalar read.
        let records = lanesOf(positions.map { ($0 / 4).rounded(.down) })
        check(type, records, "gatheredRecords.0") { $0.gatheredRecords(from: table.pointer).0 } _: { table.pointer[4 * Int($0)] }
        check(type, records, "gatheredRecords.1") { $0.gatheredRecords(from: table.pointer).1 } _: { table.pointer[4 * Int($0) + 1] }
        check(type, records, "gatheredRecords.2") { $0.gatheredRecords(from: table.pointer).2 } _: { table.pointer[4 * Int($0) + 2] }
        // The select-written clamp of the hue kernels gives the clamp's values, NaN and −0 included.
        for (lower, upper): (Float, Float) in [(0, 1), (-1, 4), (-LookMath.limit, LookMath.limit)] {
            check(type, values, "clampedBySelect(\(lower), \(upper))") { LookMath.clampedBySelect($0, lower, upper) }
                _: { $0.clamped(lower, upper) }
        }
        // Quantisation, 16 and 8 bits.
        for scale: Float in [65535, 255] {
            var got = [UInt16](repeating: 0, count: L.laneCount)
            values.withUnsafeBufferPointer { v in
                var i = 0
                while i + L.laneCount <= values.count {
                    got.withUnsafeMutableBufferPointer { L(loading: v.baseAddress! + i).storeQuantised(scale: scale, to: $0.baseAddress!) }
                    var words = [UInt32](repeating: 0, count: L.laneCount)
                    words.withUnsafeMutableBufferPointer { L(loading: v.baseAddress! + i).storeQuantisedWords(scale: scale, to: $0.baseAddress!) }
                    for k in 0..<L.laneCount {
                        var expected: UInt16 = 0
                        values[i + k].storeQuantised(scale: scale, to: &expected)
                        XCTAssertEqual(got[k], expected, "storeQuantised \(L.self) \(values[i + k]) scale \(scale)")
                        XCTAssertEqual(UInt16(truncatingIfNeeded: words[k]), expected, "storeQuantisedWords \(L.self) \(values[i + k])")
                    }
                    i += L.laneCount
                }
            }
        }
        // Column pairs: lane k of `even` is value 2k, of `odd` value 2k + 1; the store is the inverse.
        values.withUnsafeBufferPointer { v in
            var i = 0
            while i + 2 * L.laneCount <= values.count {
                let (e, o) = L.loadingColumnPairs(v.baseAddress! + i)
                let evens = Self.lanes(e), odds = Self.lanes(o)
                XCTAssertEqual(evens.map(\.bitPattern), (0..<L.laneCount).map { values[i + 2 * $0].bitPattern }, "loadingColumnPairs \(L.self) even")
                XCTAssertEqual(odds.map(\.bitPattern), (0..<L.laneCount).map { values[i + 2 * $0 + 1].bitPattern }, "loadingColumnPairs \(L.self) odd")
                var back = [Float](repeating: 0, count: 2 * L.laneCount)
                back.withUnsafeMutableBufferPointer { L.storeColumnPairs(even: e, odd: o, to: $0.baseAddress!) }
                XCTAssertEqual(back.map(\.bitPattern), values[i ..< i + 2 * L.laneCount].map(\.bitPattern), "storeColumnPairs \(L.self)")
                i += 2 * L.laneCount
            }
            // Sample pairs: lane k of `even` is sample 2k converted exactly, of `odd` sample 2k + 1
            // (samples at both ends of the 16-bit range, so a sign or a swapped half shows).
            let samples: [UInt16] = (0..<(4 * L.laneCount)).map { UInt16(truncatingIfNeeded: $0 &* 40503 &+ ($0 & 1) * 0x8000) } + [65535, 0]
            samples.withUnsafeBufferPointer { s in
                var j = 0
                while j + 2 * L.laneCount <= samples.count {
                    let (e, o) = L.loadingSamplePairs(s.baseAddress! + j)
                    XCTAssertEqual(Self.lanes(e), (0..<L.laneCount).map { Float(samples[j + 2 * $0]) }, "loadingSamplePairs \(L.self) even")
                    XCTAssertEqual(Self.lanes(o), (0..<L.laneCount).map { Float(samples[j + 2 * $0 + 1]) }, "loadingSamplePairs \(L.self) odd")
                    j += 2
                }
            }
            // allLanesBelow: the lanes' own compares, all of them (NaN is never below).
            i = 0
            while i + L.laneCount <= values.count {
                for threshold: Float in [0, 0.5, 1, 4095, .infinity] {
                    let expected = values[i ..< i + L.laneCount].allSatisfy { $0 < threshold }
                    XCTAssertEqual(L(loading: v.baseAddress! + i).allLanesBelow(threshold), expected,
                                   "allLanesBelow(\(threshold)) \(L.self) of \(values[i ..< i + L.laneCount])")
                }
                i += 1
            }
        }
        let even = L(repeating: 1), odd = L(repeating: 2)
        for first in 0..<3 {
            var out = [Float](repeating: 0, count: L.laneCount)
            out.withUnsafeMutableBufferPointer { L.alternating(even: even, odd: odd, firstColumn: first).store(to: $0.baseAddress!) }
            XCTAssertEqual(out, (0..<L.laneCount).map { Float.alternating(even: 1, odd: 2, firstColumn: first + $0) })
        }
    }

    /// `doubled` dispatch: twice the selected width, capped at 16 lanes; the scalar engine stays scalar.
    func testDoubledDispatchPicksTwiceTheWidth() {
        final class Recorder: LanesBody {
            var lanes = 0
            func run<L: Lanes>(_: L.Type) { lanes = L.laneCount }
        }
        let recorder = Recorder()
        var seen: [SIMDWidth: (Int, Int)] = [:]
        withEveryWidth { width in
            Engine.simd.dispatch(recorder); let plain = recorder.lanes
            Engine.simd.dispatch(recorder, doubled: true)
            seen[width] = (plain, recorder.lanes)
        }
        XCTAssertEqual(seen[.four]?.0, 4); XCTAssertEqual(seen[.four]?.1, 8)
        XCTAssertEqual(seen[.eight]?.0, 8); XCTAssertEqual(seen[.eight]?.1, 16)
        XCTAssertEqual(seen[.sixteen]?.0, 16); XCTAssertEqual(seen[.sixteen]?.1, 16)
        Engine.scalar.dispatch(recorder, doubled: true)
        XCTAssertEqual(recorder.lanes, 1)
        XCTAssertTrue(HueSatLumKernel.runsDoubleWidth)
        XCTAssertFalse(ToneCurveKernel.runsDoubleWidth)
    }

    func testEveryLanesRequirementAgreesWithScalar() {
        checkRequirements(SIMD4<Float>.self)
        checkRequirements(SIMD8<Float>.self)
        checkRequirements(SIMD16<Float>.self)
    }

    func testQuantisationIsRoundToNearestOfTheClampedValue() {
        // Reference: the definition, in double precision (exact for these values).
        for v: Float in [0, 1, 0.5, 1e-6, 0.99999, 0.123456, 7.62951e-6, 2.2888e-5] {
            var q: UInt16 = 0
            v.storeQuantised(scale: 65535, to: &q)
            XCTAssertEqual(Double(q), (Double(v) * 65535).rounded(.toNearestOrEven), "\(v)")
        }
        var q: UInt16 = 7
        Float.nan.storeQuantised(scale: 65535, to: &q); XCTAssertEqual(q, 0)
        Float.infinity.storeQuantised(scale: 65535, to: &q); XCTAssertEqual(q, 65535)
        (-Float.infinity).storeQuantised(scale: 255, to: &q); XCTAssertEqual(q, 0)
        Float(3).storeQuantised(scale: 255, to: &q); XCTAssertEqual(q, 255)
    }

    func testPointKernelsAgreeAtEveryWidth() {
        let base = EngineAgreementTests.self
        let kernels: [any PointKernel] = [
            ColourMatrixKernel(Matrix3(rowMajor: [1.7, -0.5, -0.2, -0.3, 1.6, -0.3, 0.05, -0.6, 1.55])),
            OutputEncodingKernel(toOutput: WorkingSpace.fromLinearSRGB.inverse!) { x in
                x <= 0.0031308 ? 12.92 * x : 1.055 * Foundation.pow(x, 1 / 2.4) - 0.055
            },
            OutputEncodingKernel(toOutput: .identity) { Foundation.pow($0, 1 / 2.2) },
        ]
        withEveryWidth { width in
            for kernel in kernels {
                for (w, rows) in [(37, 5), (16, 1), (3, 2), (64, 3)] {
                    base.assertSameBits(kernel, width: w, rows: rows)
                }
            }
        }
    }

    func testRawNormalisationAgreesOnEverySampleValue() {
        // Every 16-bit value, with a 2×2 black tile of fractional levels, white below the maximum
        // (values far above white), unequal multipliers and a ceiling above 1.
        let width = 256, height = 256
        let raw = (0..<(width * height)).map { UInt16(truncatingIfNeeded: ($0 &* 40503) & 0xFFFF) }
        let levels = SensorLevels(blackTileWidth: 2, blackTileHeight: 2, blackTile: [1024.55, 1024.73, 1023.78, 1023.93], white: 16368)
        for cfa in [CFAPattern.rggb, .gbrg, DemosaicTests.xTrans] {
            let n = RawNormalisation(levels: levels, multipliers: SIMD3(2.1, 1, 1.6), cfa: cfa, ceiling: 1.25)
            let source = MosaicSource(raw: raw, width: width, height: height, cfa: cfa, normalisation: n, demosaic: BilinearDemosaic())
            var expected = [Float](repeating: 0, count: width * height)
            expected.withUnsafeMutableBufferPointer { source.normalise(rows: 0..<height, into: $0.baseAddress!, engine: .scalar) }
            withEveryWidth { lanes in
                var got = [Float](repeating: 0, count: width * height)
                got.withUnsafeMutableBufferPointer { source.normalise(rows: 0..<height, into: $0.baseAddress!, engine: .simd) }
                XCTAssertTrue(zip(got, expected).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(cfa.name), \(lanes) lanes")
            }
        }
    }

    /// MosaicSource gives the bilinear demosaic a Bayer window split into column planes (and an
    /// interleaved one after a mosaic stage). Both must give the same bits: the planes' rows are
    /// normalised with the same operations on the same constants and the kernel takes the same
    /// means of the same photosites. Compared whole source against whole source, both engines,
    /// every lane width, on widths down to 1 (the planes' mirrored padding and the columns left
    /// after the lane groups), black tiles 2, 4 and 3 wide (the split tables' phases, which step
    /// by the lane count modulo the period), samples above white, and lens shading.
    func testColumnPlanesGiveTheInterleavedWindowsBits() {
        let tiles: [SensorLevels] = [
            SensorLevels(blackTileWidth: 2, blackTileHeight: 2, blackTile: [1024.55, 1024.73, 1023.78, 1023.93], white: 4000),
            SensorLevels(blackTileWidth: 4, blackTileHeight: 1, blackTile: [60, 61.5, 63, 64.25], white: 4000),
            SensorLevels(blackTileWidth: 3, blackTileHeight: 1, blackTile: [60, 70, 80], white: 4000),
        ]
        for cfa in [CFAPattern.rggb, .bggr, .grbg, .gbrg] {
            for (t, levels) in tiles.enumerated() {
                for width in [1, 2, 3, 7, 16, 17, 38, 45] {
                    let height = 11
                    var state = UInt32(width * 31 + t)
                    let raw = (0..<(width * height)).map { _ -> UInt16 in
                        state = state &* 1_664_525 &+ 1_013_904_223
                        return UInt16(truncatingIfNeeded: state >> 19)  // 0 … 8191: black, mid-range and above white
                    }
                    let gains: [Float] = [2, 1.5, 1.25, 1.5, 1, 1.5, 2, 1.5, 1.75]
                    let map = GainMap(top: 0, left: 0, bottom: height, right: width, plane: 0, planes: 1, rowPitch: 1, columnPitch: 1,
                                      pointsV: 3, pointsH: 3, spacingV: 0.5, spacingH: 0.5, originV: 0, originH: 0,
                                      mapPlanes: 1, gains: gains)
                    for shading in [nil, LensShading(maps: [map], imageWidth: width, imageHeight: height)] {
                        let n = RawNormalisation(levels: levels, multipliers: SIMD3(2.1, 1, 1.6), cfa: cfa, ceiling: 1.25)
                        let planes = MosaicSource(raw: raw, width: width, height: height, cfa: cfa, normalisation: n,
                                                  demosaic: BilinearDemosaic(), lensShading: shading)
                        XCTAssertEqual(planes.layout, .columnPlanes)
                        var interleaved = planes
                        interleaved.layout = .interleaved
                        let expected = TestSupport.renderSource(interleaved, engine: .scalar, stripRows: 4)
                        let label = "\(cfa.name), black tile \(t), width \(width), shading \(shading != nil)"
                        for engine in [Engine.scalar, .simd] {
                            withEveryWidth { lanes in
                                let got = TestSupport.renderSource(planes, engine: engine, stripRows: 4)
                                let first = got.indices.first { got[$0].bitPattern != expected[$0].bitPattern }
                                XCTAssertNil(first, "\(label), \(engine), \(lanes) lanes: value \(first ?? 0)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// A window laid out as MosaicSource lays it out — `halo` = 2 mirrored rows above and below,
    /// `pad` = 2 mirrored columns each side (ASan caught an earlier test reading outside an
    /// unpadded buffer) — with `value(i)` at mirrored image index i, and the bilinear demosaic of
    /// it through `engine` as interleaved RGB.
    struct BilinearWindow {
        static let halo = 2, pad = 2
        let width: Int, rows: Int, cfa: CFAPattern
        var values: [Float]

        init(width: Int, rows: Int, cfa: CFAPattern, value: (Int) -> Float) {
            self.width = width; self.rows = rows; self.cfa = cfa
            let stride = width + 2 * Self.pad
            func mirror(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }
            values = [Float](repeating: 0, count: (rows + 2 * Self.halo) * stride + 16)
            for r in 0..<(rows + 2 * Self.halo) {
                for c in 0..<stride { values[r * stride + c] = value(mirror(r - Self.halo, rows) * width + mirror(c - Self.pad, width)) }
            }
        }

        /// Photosite (x, y) of the image, −2 ≤ x < width + 2, −2 ≤ y < rows + 2.
        func at(_ y: Int, _ x: Int) -> Float { values[(y + Self.halo) * (width + 2 * Self.pad) + x + Self.pad] }

        mutating func demosaic(_ engine: Engine) -> [Float] {
            let (width, rows, cfa) = (width, rows, cfa)
            return values.withUnsafeMutableBufferPointer { buffer in
                let window = MosaicWindow(values: buffer.baseAddress! + Self.pad, width: width, imageHeight: rows, firstRow: -Self.halo,
                                          rows: rows + 2 * Self.halo, pad: Self.pad, cfa: cfa)
                let storage = StripStorage(width: width, rows: rows)
                let strip = storage.strip(firstRow: 0, rows: rows)
                BilinearDemosaic().interpolate(window, into: strip, engine: engine)
                return (0..<(rows * width)).flatMap { [strip.r[$0], strip.g[$0], strip.b[$0]] }
            }
        }
    }

    /// The bilinear demosaic against its definition, computed here per pixel in Float with the
    /// same operand order (so the same bits, NaN payloads aside): the mean of the four edge
    /// neighbours (green at red/blue sites), of the four corners (blue at red, red at blue), of the
    /// row pair or the column pair (red and blue at green sites, by the row's colour). Guards the
    /// column-pair kernel, which both engines share, against the per-pixel rule it replaced.
    func testBilinearDemosaicMatchesItsDefinitionBitwise() {
        for cfa in [CFAPattern.rggb, .bggr, .grbg, .gbrg] {
            for width in [5, 18, 19, 41, 64] {
                let rows = 7
                var state = UInt32(width)
                // Mostly ordinary values, with the adversarial ones mixed in.
                var window = BilinearWindow(width: width, rows: rows, cfa: cfa) { i in
                    state = state &* 1_664_525 &+ 1_013_904_223
                    return i % 5 == 0 ? Self.adversarial[(i * 7 + width) % Self.adversarial.count] : Float(state >> 8) / Float(1 << 24)
                }
                func at(_ y: Int, _ x: Int) -> Float { window.at(y, x) }
                var expected = [Float]()
                for y in 0..<rows {
                    for x in 0..<width {
                        let site = cfa.colour(row: y, column: x)
                        let n = at(y - 1, x), s = at(y + 1, x), w = at(y, x - 1), e = at(y, x + 1)
                        let cross = (n + s + w + e) * 0.25
                        let diagonal = (at(y - 1, x - 1) + at(y - 1, x + 1) + at(y + 1, x - 1) + at(y + 1, x + 1)) * 0.25
                        let horizontal = (w + e) * 0.5, vertical = (n + s) * 0.5
                        for channel in 0..<3 {
                            if channel == site { expected.append(at(y, x)) }
                            else if site == 1 { expected.append(cfa.colour(row: y, column: x + 1) == channel ? horizontal : vertical) }
                            else { expected.append(channel == 1 ? cross : diagonal) }
                        }
                    }
                }
                let scalar = window.demosaic(.scalar)
                for i in expected.indices where !(expected[i].isNaN && scalar[i].isNaN) && expected[i].bitPattern != scalar[i].bitPattern {
                    XCTFail("\(cfa.name) width \(width), value \(i): definition \(expected[i]) scalar engine \(scalar[i])")
                    return
                }
                withEveryWidth { lanes in
                    let simd = window.demosaic(.simd)
                    for i in expected.indices where !(expected[i].isNaN && simd[i].isNaN) && expected[i].bitPattern != simd[i].bitPattern {
                        XCTFail("\(cfa.name) width \(width), \(lanes) lanes, value \(i): definition \(expected[i]) simd \(simd[i])")
                        return
                    }
                }
            }
        }
    }

    func testBilinearDemosaicAgreesOnAdversarialWindows() {
        // Demosaic straight from a window of adversarial floats (NaN, ±Inf, −0, subnormals…),
        // every layout, odd widths so every lane position meets the row remainder.
        for cfa in [CFAPattern.rggb, .bggr, .grbg, .gbrg, DemosaicTests.xTrans] {
            for width in [5, 19, 41] {
                var window = BilinearWindow(width: width, rows: 9, cfa: cfa) { Self.adversarial[($0 * 7 + width) % Self.adversarial.count] }
                let scalar = window.demosaic(.scalar)
                withEveryWidth { lanes in
                    let simd = window.demosaic(.simd)
                    for i in scalar.indices where scalar[i].bitPattern != simd[i].bitPattern {
                        XCTFail("\(cfa.name) width \(width), \(lanes) lanes, value \(i): scalar \(scalar[i]) simd \(simd[i])")
                        return
                    }
                }
            }
        }
    }

    func testOutputEncodingKnowsWhetherItStaysInTheUnitRange() {
        // The fused sink drops its clamp only for kernels that say so (PointKernel.staysInUnitRange).
        XCTAssertTrue(OutputEncodingKernel(toOutput: .identity) { Foundation.pow($0, 1 / 2.2) }.staysInUnitRange)
        XCTAssertFalse(OutputEncodingKernel(toOutput: .identity) { 1.5 * $0 - 0.2 }.staysInUnitRange)
        XCTAssertFalse(ColourMatrixKernel(.identity).staysInUnitRange)
    }

    func testSinkAgreesAndFusionChangesNothingInEveryOrientation() {
        // One encoding inside [0, 1] (the fused sink skips its clamp) and one leaving it (it keeps it).
        for kernel in [OutputEncodingKernel(toOutput: .identity) { Foundation.pow($0, 1 / 2.2) },
                       OutputEncodingKernel(toOutput: .identity) { 1.5 * $0 - 0.2 }] {
            sinkAgrees(kernel)
        }
    }

    func sinkAgrees(_ kernel: OutputEncodingKernel) {
        let base = EngineAgreementTests.self
        // Widths with and without a remainder after the lane groups.
        for (orientation, w) in Orientation.allCases.flatMap({ o in [21, 16].map { (o, $0) } }) {
            for depth in [OutputSink.Depth.sixteen, .eight] {
                let h = 6
                func render(_ engine: Engine, fused: Bool) -> [UInt16] {
                    let (storage, strip) = base.makeStrip(width: w, rows: h, seed: 5)
                    defer { withExtendedLifetime(storage) {} }
                    let sink = OutputSink(sourceWidth: w, sourceHeight: h, orientation: orientation, depth: depth)
                    if fused {
                        kernel.run(over: strip, into: sink, engine: engine)
                    } else {
                        kernel.run(over: strip, engine: engine)
                        sink.write(strip, engine: engine)
                    }
                    return sink.takeSamples()
                }
                let reference = render(.scalar, fused: false)
                XCTAssertEqual(render(.scalar, fused: true), reference, "\(orientation) \(depth) scalar fused")
                withEveryWidth { lanes in
                    XCTAssertEqual(render(.simd, fused: false), reference, "\(orientation) \(depth) \(lanes)")
                    XCTAssertEqual(render(.simd, fused: true), reference, "\(orientation) \(depth) \(lanes) fused")
                }
                // The orientation map: stored (x, y) lands where Orientation.indexMap says.
                let (ow, _) = orientation.orientedSize(width: w, height: h)
                let map = orientation.indexMap(width: w, height: h)
                let (storage, strip) = base.makeStrip(width: w, rows: h, seed: 5)
                kernel.run(over: strip, engine: .scalar)
                for y in 0..<h {
                    for x in 0..<w {
                        let o = map.start + x * map.strideX + y * map.strideY
                        for (c, plane) in [strip.r, strip.g, strip.b].enumerated() {
                            var q: UInt16 = 0
                            plane[y * w + x].storeQuantised(scale: depth == .sixteen ? 65535 : 255, to: &q)
                            XCTAssertEqual(reference[3 * o + c], q, "\(orientation) (\(x), \(y)) → \(o % ow), \(o / ow), channel \(c)")
                        }
                    }
                }
                withExtendedLifetime(storage) {}
            }
        }
    }

    func testScheduleDoesNotChangeTheBits() {
        // Threads, strip height, band hand-out and sink fusion are schedule, not algorithm: the
        // output must not depend on them. Mosaics with halos of 1-10 rows (bilinear, Malvar, RCD with
        // its scratch planes) exercise the mirrored window and its reuse from strip to strip.
        let (w, h) = (53, 70)
        var state: UInt32 = 3
        let raw = (0..<(w * h)).map { _ -> UInt16 in state = state &* 1_664_525 &+ 1_013_904_223; return UInt16(state >> 20) }
        let n = RawNormalisation(levels: SensorLevels(black: 64, white: 4000), multipliers: SIMD3(2, 1, 1.5), cfa: .grbg)
        let kernels: [any PointKernel] = [
            ColourMatrixKernel(Matrix3(rowMajor: [1.7, -0.5, -0.2, -0.3, 1.6, -0.3, 0.05, -0.6, 1.55])),
            OutputEncodingKernel(toOutput: .identity) { Foundation.pow($0, 1 / 2.2) },
        ]
        let demosaics: [any DemosaicAlgorithm] = [BilinearDemosaic(), MalvarDemosaic(), RCDDemosaic()]
        for demosaic in demosaics {
            let source = MosaicSource(raw: raw, width: w, height: h, cfa: .grbg, normalisation: n, demosaic: demosaic)
            func render(_ executor: Executor) -> [UInt16] {
                let sink = OutputSink(sourceWidth: w, sourceHeight: h, orientation: .rotate90Clockwise, depth: .sixteen)
                executor.run(source: source, kernels: kernels, sink: sink)
                return sink.takeSamples()
            }
            let name = String(describing: type(of: demosaic))
            let reference = render(Executor(engine: .scalar, threads: 1, stripRows: 70, fuseSink: false))
            for threads in [1, 2, 3] {
                for rows in [1, 2, 3, 16, 32] {
                    for fuse in [true, false] {
                        XCTAssertEqual(render(Executor(engine: .scalar, threads: threads, stripRows: rows, fuseSink: fuse)), reference,
                                       "\(name) scalar \(threads) threads, \(rows) rows, fused \(fuse)")
                    }
                }
            }
            withEveryWidth { width in
                for threads in [1, 2] {
                    for rows in [1, 3, 16] {
                        for fuse in [true, false] {
                            XCTAssertEqual(render(Executor(engine: .simd, threads: threads, stripRows: rows, fuseSink: fuse)), reference,
                                           "\(name) SIMD \(width.rawValue) lanes, \(threads) threads, \(rows) rows, fused \(fuse)")
                        }
                    }
                }
            }
        }
    }
}

/// Fusion in `PointStageChain`: matrices fold into each other and into the output encoding, and a
/// curve on encoded values folds into the encoding's table. Folded and unfolded chains must give
/// the same picture within the stated bound, and each, on its own, bit-identical engines.
final class FusionTests: XCTestCase {
    static let contrast: @Sendable (Double) -> Double = { v in
        // A smooth S-curve with lifted black: 0.02 + 0.96 · smoothstep, pivot 0.5.
        0.02 + 0.96 * v * v * (3 - 2 * v)
    }

    func run(_ kernels: [any PointKernel], engine: Engine, seed: UInt64 = 9) -> [Float] {
        let (storage, strip) = EngineAgreementTests.makeStrip(width: 61, rows: 9, seed: seed)
        defer { withExtendedLifetime(storage) {} }
        for k in kernels { k.run(over: strip, engine: engine) }
        return (0..<strip.count).flatMap { [strip.r[$0], strip.g[$0], strip.b[$0]] }
    }

    func chain() -> PointStageChain {
        var chain = PointStageChain()
        chain.append(.matrix(Matrix3(rowMajor: [1.7, -0.5, -0.2, -0.3, 1.6, -0.3, 0.05, -0.6, 1.55])))
        chain.append(.matrix(Matrix3.diagonal(SIMD3(repeating: 1.4))))
        chain.append(.output(OutputEncodingKernel(toOutput: WorkingSpace.fromLinearSRGB.inverse!) { x in
            x <= 0.0031308 ? 12.92 * x : 1.055 * Foundation.pow(x, 1 / 2.4) - 0.055
        }))
        chain.append(.encodedCurve(ChannelCurveKernel(Self.contrast)))
        return chain
    }

    func testFusionFoldsEverythingIntoOneKernel() {
        let fused = chain().fusedKernels()
        XCTAssertEqual(fused.count, 1, "two matrices, the encoding and its curve should be one kernel")
        XCTAssertTrue(fused.first is OutputEncodingKernel)
        XCTAssertEqual(chain().unfusedKernels().count, 4)
        // A curve with no encoding before it runs as its own kernel.
        var alone = PointStageChain()
        alone.append(.encodedCurve(ChannelCurveKernel(Self.contrast)))
        XCTAssertTrue(alone.fusedKernels().first is ChannelCurveKernel)
    }

    func testFusedAndUnfusedAgreeAndEachIsBitIdenticalAcrossEngines() {
        let fused = chain().fusedKernels(), unfused = chain().unfusedKernels()
        let a = run(fused, engine: .scalar), b = run(unfused, engine: .scalar)
        XCTAssertEqual(a.map(\.bitPattern), run(fused, engine: .simd).map(\.bitPattern), "fused: engines differ")
        XCTAssertEqual(b.map(\.bitPattern), run(unfused, engine: .simd).map(\.bitPattern), "unfused: engines differ")
        // Bound: both chains interpolate the encoding's table; the fused one interpolates curve ∘
        // encoding between the same points, the unfused one applies the curve (slope ≤ 1.44) to
        // the interpolated encoding. They differ by at most the curve's slope times the encoding
        // table's own interpolation error (≤ 7.9e-6 for sRGB, at its break; ColourManagementTests)
        // ≈ 1.1e-5, plus the curve table's (h²/8 · |f''| ≈ 4e-8) and float rounding of one folded
        // matrix against three (~1e-7). 1.5e-5 is one 16-bit code.
        // Compared where the inputs are ordinary numbers: with ±Inf or values near Float.max, one
        // product of the folded matrices and three products of the separate ones meet different
        // overflows and Inf − Inf (NaN, clipped to 0, against ±Inf, clipped to 1). That is fusion
        // changing the arithmetic, not an engine difference; both are still bit-identical above.
        let (storage, input) = EngineAgreementTests.makeStrip(width: 61, rows: 9, seed: 9)
        let ordinary = (0..<input.count).map { i in [input.r[i], input.g[i], input.b[i]].allSatisfy { $0.isFinite && abs($0) < 1e6 } }
        withExtendedLifetime(storage) {}
        var worst: Float = 0
        for (i, (x, y)) in zip(a, b).enumerated() where ordinary[i / 3] { worst = max(worst, abs(x - y)) }
        XCTAssertGreaterThan(ordinary.filter { $0 }.count, 400)
        XCTAssertLessThan(worst, 1.5e-5)
        print("fused vs unfused chain: max |Δ| \(worst)")
        // Black (all channels 0 before the curve) maps to the curve's lifted black in both.
        let black = OutputEncodingKernel(toOutput: .identity) { $0 }.composing(ChannelCurveKernel(Self.contrast))
        let p = black.apply(RGB<Float>(0, 0, 0), at: PixelLocation(x: 0, y: 0))
        XCTAssertEqual(p.r, 0.02, accuracy: 1e-7)
    }
}

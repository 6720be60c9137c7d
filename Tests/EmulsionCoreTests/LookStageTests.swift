import Foundation
import EmulsionTestSupport
import XCTest
@testable import EmulsionCore

/// The look stages' kernels and their prepared constants. Engine agreement is exact (tolerance
/// zero, the rule of Engine/Lanes.swift); the maths checks cite where their expectations come from.
final class LookStageTests: XCTestCase {
    static let adversarial: [Float] = [.nan, .infinity, -.infinity, -0.0, 0, -1, -1e-30, 1e-40, 1e-7, 0.5, 1, 4, 1e6, 0.18, 0.02]

    func makeStrip(width: Int, rows: Int, seed: UInt64, scale: Float = 1.4) -> (StripStorage, Strip) {
        let storage = StripStorage(width: width, rows: rows)
        let strip = storage.strip(firstRow: 0, rows: rows)
        var state = seed
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * scale - 0.1
        }
        for i in 0..<(width * rows) {
            let pick = Int(state % 9)
            strip.r[i] = pick == 0 ? Self.adversarial[i % Self.adversarial.count] : next()
            strip.g[i] = next()
            strip.b[i] = pick == 1 ? Self.adversarial[(i * 7) % Self.adversarial.count] : next()
            _ = next()
        }
        return (storage, strip)
    }

    func assertSameBits(_ kernel: any PointKernel, width: Int = 37, rows: Int = 5, file: StaticString = #filePath, line: UInt = #line) {
        let (s1, a) = makeStrip(width: width, rows: rows, seed: 42)
        let (s2, b) = makeStrip(width: width, rows: rows, seed: 42)
        kernel.run(over: a, engine: .scalar)
        kernel.run(over: b, engine: .simd)
        for i in 0..<(width * rows) {
            for (x, y) in [(a.r[i], b.r[i]), (a.g[i], b.g[i]), (a.b[i], b.b[i])] where x.bitPattern != y.bitPattern {
                XCTFail("\(type(of: kernel)) pixel \(i): scalar \(x) vs simd \(y)", file: file, line: line)
                return
            }
            XCTAssertTrue(b.r[i].isFinite && b.g[i].isFinite && b.b[i].isFinite, "\(type(of: kernel)) pixel \(i) not finite", file: file, line: line)
        }
        withExtendedLifetime((s1, s2)) {}
    }

    var lookProfile: Profile {
        try! Profile.defaults.applying(overrides: [
            "hsl.greenHue=20", "hsl.blueSaturation=0.5", "hsl.redLuminance=-0.5", "hsl.shadows=0.3",
            "skinProtection.amount=0.8", "colour.saturation=1.3", "colour.vibrance=0.4",
            "splitToning.shadowSaturation=0.4", "splitToning.highlightSaturation=0.3", "highlightRollOff.enabled=true",
        ])
    }

    /// Inputs at and around the limits the shortcuts below reason about (LookMath.limit = 65536).
    static let edges: [Float] = adversarial + [65536, -65536, 65537, -65537, Float(65536).nextDown, 1e30, -1e30,
                                               .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude]

    /// ToneCurve's rgb path skips `finite` when its table ends within half the limit: the result
    /// must be the full path's, bit for bit, for every input (the argument is in ToneCurve.apply).
    func testToneCurveWithoutFiniteGivesTheSameBits() {
        let curves: [ToneCurveKernel.Params] = [
            .init(), .init(pivot: 0.5, whitePoint: 10), .init(pivot: 0.05, whitePoint: 1), .init(curve: .none),
            .init(points: [.init(x: 0, y: 0.05), .init(x: 0.5, y: 0.55), .init(x: 1, y: 0.95)]),
        ]
        for params in curves {
            let kernel = ToneCurveKernel(params)
            XCTAssertTrue(kernel.endsWithinLimit, "\(params): the shortcut should apply to the profile's ranges")
            for x in Self.edges {
                let full = kernel.lookup(LookMath.finite(RGB<Float>(x, x, x)).r)
                let short = kernel.apply(RGB<Float>(x, x, x), at: PixelLocation(x: 0, y: 0)).r
                XCTAssertEqual(short.bitPattern, full.bitPattern, "\(params) at \(x): \(short) vs \(full)")
            }
        }
    }

    /// The tone table against the curve it samples, evaluated in double precision
    /// (`ToneCurveKernel.curve`), on 40 000 inputs spaced evenly in log x over the table's 32
    /// octaves and evenly in x, for the default curve, the ends of the parameters' ranges and two
    /// custom curves. Two bounds, each about twice the worst error measured when written (printed
    /// below):
    /// - display-linear: 4·10⁻⁴ (measured 1.8·10⁻⁴, at the near-corner of the sharpest shoulder,
    ///   where linear interpolation over cells 0.54% wide cuts the corner);
    /// - sRGB-encoded (IEC 61966-2-1), what an sRGB output shows: 2·10⁻⁴, a twentieth of an 8-bit
    ///   step (measured 7.9·10⁻⁵, the same place). The table indexed by √x with 4096 entries that
    ///   this one replaced was finer there (7.8·10⁻⁶) but reached 5.8·10⁻⁴ at the black point of
    ///   the low-contrast, wide-range curve, where its cells were six times wider (here 3·10⁻⁵).
    func testToneTableFollowsItsCurve() {
        let curves: [ToneCurveKernel.Params] = [
            .init(), .init(contrast: 1.7, toe: 0.8, shoulder: 0.1), .init(contrast: 0.8, toe: 0, shoulder: 1),
            .init(contrast: 3, toe: 0, shoulder: 0, blackPoint: 16, whitePoint: 1), .init(contrast: 0.5, blackPoint: 2, whitePoint: 10),
            .init(pivot: 0.5, whitePoint: 10), .init(pivot: 0.05, whitePoint: 1), .init(curve: .none),
            .init(points: [.init(x: 0, y: 0.05), .init(x: 0.5, y: 0.55), .init(x: 1, y: 0.95)]),
            .init(points: [.init(x: 0, y: 0), .init(x: 0.25, y: 0.15), .init(x: 0.75, y: 0.9), .init(x: 1, y: 1)]),
        ]
        func sRGB(_ y: Double) -> Double { y <= 0.0031308 ? 12.92 * max(y, 0) : 1.055 * pow(y, 1 / 2.4) - 0.055 }
        var worst = (linear: 0.0, encoded: 0.0)
        for params in curves {
            let kernel = ToneCurveKernel(params), curve = ToneCurveKernel.curve(params)
            var linear = (error: 0.0, x: 0.0), encoded = (error: 0.0, x: 0.0)
            for i in 0...40_000 {
                let x = Double(Float(i.isMultiple(of: 2) ? curve.maximum * pow(2, -32 * Double(i) / 40_000)
                                                         : curve.maximum * Double(i) / 40_000))
                let y = Double(kernel.lookup(Float(x))), exact = curve.evaluate(x)
                if abs(y - exact) > linear.error { linear = (abs(y - exact), x) }
                let e = abs(sRGB(y) - sRGB(exact))
                if e > encoded.error { encoded = (e, x) }
            }
            XCTAssertLessThan(linear.error, 4e-4, "\(params): display-linear, worst at x = \(linear.x)")
            XCTAssertLessThan(encoded.error, 2e-4, "\(params): sRGB-encoded, worst at x = \(encoded.x)")
            worst = (max(worst.linear, linear.error), max(worst.encoded, encoded.error))
        }
        print("tone table vs curve: worst display-linear \(worst.linear), sRGB-encoded \(worst.encoded)")
    }

    /// Split toning's highlight weight against its definition in SplitToning's doc comment (the
    /// Lightroom-style split point 0.5 − 0.3·balance, a smoothstep ±0.35 around it), evaluated in
    /// Double here. The kernel's Float cubic differs by rounding only: k and c are rounded to Float
    /// and each of its five operations rounds once, so the tolerance is 1e-6 (about 8 ulps of 1).
    /// The weight must also stay in [0, 1] and reach 0 and 1 exactly outside the transition.
    func testSplitToningWeightIsItsSmoothstep() throws {
        for balance in [-1.0, -0.4, 0, 0.25, 1] {
            let profile = try Profile.defaults.applying(overrides: ["splitToning.highlightSaturation=0.5", "splitToning.balance=\(balance)"])
            let kernel = SplitToningKernel(.init(profile))
            let start = 0.5 - 0.3 * balance - 0.35
            for i in 0...2000 {
                let t = Float(i) / 2000
                let position = (Double(t) - start) / 0.7
                let u = min(max(position, 0), 1)
                let expected = u * u * (3 - 2 * u)
                let got = kernel.highlightWeight(t)
                XCTAssertEqual(Double(got), expected, accuracy: 1e-6, "balance \(balance), t = \(t)")
                XCTAssertTrue((0...1).contains(got), "balance \(balance), t = \(t): \(got)")
                // Clear of the ends (by more than k and c's rounding moves them), the clamp makes them exact.
                if position < -1e-5 || position > 1 + 1e-5 { XCTAssertEqual(Double(got), u, "balance \(balance), t = \(t)") }
            }
        }
    }

    /// Film grain's weight against its definition in FilmGrain's doc comment, amount · (¼ + ¾ ·
    /// 4t(1 − t)), in Double. The Float form rounds the two constants and four operations, each
    /// within half an ulp of a value of at most 3 · amount (the bump; the weight itself peaks at
    /// amount): tolerance 1e-6 · amount.
    func testFilmGrainWeightIsItsQuadratic() {
        for amount in [0.01, 0.2, 0.5, 1] {
            let kernel = FilmGrainKernel(.init(amount: amount, size: 1.5, seed: 3))
            for i in 0...2000 {
                let t = Float(i) / 2000
                let expected = amount * (0.25 + 0.75 * 4 * Double(t) * (1 - Double(t)))
                XCTAssertEqual(Double(kernel.weight(t)), expected, accuracy: 1e-6 * amount, "amount \(amount), t = \(t)")
            }
        }
    }

    /// HighlightRollOff skips the clamp of t = m / (m + ceiling) for a positive ceiling: t must
    /// already be in [0, 1] for every input, so clamping would change no bit.
    func testHighlightRollOffPositionNeedsNoClamp() {
        for ceiling: Float in [0.5, 1, 64, 1e-40, .infinity] {
            for r in Self.edges {
                for g in [Float(0), -1, 1e6, .nan] {
                    let p = LookMath.finite(RGB<Float>(r, g, 0.25))
                    let m = LookMath.maximum(p.r, LookMath.maximum(p.g, p.b)).atLeast(0)
                    let t = m / (m + ceiling)
                    XCTAssertEqual(t.clamped(0, 1).bitPattern, t.bitPattern, "ceiling \(ceiling), r \(r), g \(g): t = \(t)")
                }
            }
        }
    }

    /// HighlightRollOff skips its two lookups where a whole lane group lies below
    /// `untouchedBelow`, using k = 1 and d = +0 instead. The table must give exactly those there,
    /// and the kernel must give the lookup path's bits for pixels on both sides of the start.
    func testHighlightRollOffSkipGivesTheLookupBits() {
        // The profile's ranges: start 0.1–0.95, ceiling 0.5–64, desaturation 0–1.
        for (start, ceiling, desaturation) in [(0.1, 0.5, 0.0), (0.6, 1.0, 0.5), (0.7, 1.4, 0.6), (0.95, 64.0, 1.0)] {
            let profile = try! Profile.defaults.applying(overrides: [
                "highlightRollOff.enabled=true", "highlightRollOff.start=\(start)", "highlightRollOff.ceiling=\(ceiling)",
                "highlightRollOff.desaturation=\(desaturation)",
            ])
            let kernel = HighlightRollOffKernel(.init(profile))
            XCTAssertGreaterThan(kernel.untouchedBelow, 0, "start \(start): the table should begin with untouched cells")
            var positions: [Float] = [0, kernel.untouchedBelow.nextDown]
            var p: Float = 0
            while p < kernel.untouchedBelow { positions.append(p); p += 0.125 }
            for position in positions {
                let k = position.interpolated(in: kernel.scale.pointer, count: HighlightRollOffKernel.count)
                let d = position.interpolated(in: kernel.desaturation.pointer, count: HighlightRollOffKernel.count)
                XCTAssertEqual(k.bitPattern, Float(1).bitPattern, "start \(start) position \(position): k = \(k)")
                XCTAssertEqual(d.bitPattern, Float(0).bitPattern, "start \(start) position \(position): d = \(d)")
            }
            // The kernel against the lookup path written out, across the start and the edges.
            let s = Float(start * ceiling)
            let around: [Float] = [0, -0.0, 1e-30, s * 0.5, s.nextDown, s, s.nextUp, s * 1.01, Float(ceiling), 1e6, -1]
            let levels: [Float] = around + Self.edges
            let others: [Float] = [0, s * 0.9, s * 1.1, .nan]
            for r in levels {
                for g in others {
                    let input = RGB<Float>(r, g, 0.05)
                    let q0 = LookMath.finite(input)
                    let m = LookMath.maximum(q0.r, LookMath.maximum(q0.g, q0.b)).atLeast(0)
                    let position = m / (m + kernel.ceiling) * Float(HighlightRollOffKernel.count - 1)
                    let k = position.interpolated(in: kernel.scale.pointer, count: HighlightRollOffKernel.count)
                    let d = position.interpolated(in: kernel.desaturation.pointer, count: HighlightRollOffKernel.count)
                    let q = RGB(q0.r * k, q0.g * k, q0.b * k)
                    let y = LookMath.luminance(q)
                    let full: [Float] = [q.r + d * (y - q.r), q.g + d * (y - q.g), q.b + d * (y - q.b)]
                    let out = kernel.apply(input, at: PixelLocation(x: 0, y: 0))
                    let got: [Float] = [out.r, out.g, out.b]
                    for (a, b) in zip(got, full) {
                        XCTAssertEqual(a.bitPattern, b.bitPattern, "start \(start), pixel (\(r), \(g)): \(a) vs \(b)")
                    }
                }
            }
        }
    }

    func testEveryLookKernelAgreesBitwise() throws {
        let p = lookProfile
        let skin = SkinProtection.prepare(.init(p))
        assertSameBits(HueSatLumKernel(.init(p), skin: skin))
        assertSameBits(ColourSaturationKernel(saturation: 1.3, vibrance: 0.4, skin: skin))
        assertSameBits(SplitToningKernel(.init(p)))
        assertSameBits(HighlightRollOffKernel(.init(p)))
        assertSameBits(ToneCurveKernel(.init()))
        assertSameBits(ToneCurveKernel(.init(method: .ratio)))
        assertSameBits(ToneCurveKernel(.init(points: [.init(x: 0, y: 0.05), .init(x: 0.5, y: 0.55), .init(x: 1, y: 0.95)])))
        assertSameBits(VignetteKernel(.init(amount: -1.5), LookContext(width: 37, height: 5)))
        assertSameBits(FilmGrainKernel(.init(amount: 0.2, size: 1.5, seed: 3)))
        assertSameBits(FilmGrainKernel(.init(amount: 0.2, size: 1.5, seed: 3)), width: 300, rows: 3)
        let surround = LocalContrastSurround(width: 37, height: 5, cell: 4, gridWidth: 10, gridHeight: 2,
                                             values: (0..<20).map { 0.05 + Float($0) * 0.02 })
        assertSameBits(LocalContrastKernel(.init(amount: 0.5, radius: 0.05), surround: surround))
        let lut = Self.warpedLUT(size: 9)
        let srgb: (Double) -> Double = { x in x <= 0.0031308 ? 12.92 * x : 1.055 * pow(x, 1 / 2.4) - 0.055 }
        let encode = OutputEncodingKernel(toOutput: WorkingSpace.fromLinearSRGB.inverse!, curve: srgb)
        let decode: (Double) -> Double = { v in v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4) }
        assertSameBits(LookLUTKernel(lut: lut, encode: encode, decode: decode, outputToWorking: WorkingSpace.fromLinearSRGB, strength: 1))
        assertSameBits(LookLUTKernel(lut: lut, encode: encode, decode: decode, outputToWorking: WorkingSpace.fromLinearSRGB, strength: 0.6))
    }

    /// The local contrast's surround read from rows interpolated across beforehand must give the
    /// bits the four-value gather gives: the same float operations in the same order (see
    /// `LocalContrastKernel`), so the tolerance is zero. Covers a one-column and a one-row grid
    /// (whose pair reads run past a row or into the table's padding, multiplied by a fraction of 0).
    func testLocalContrastAcrossRowsMatchGather() {
        for (width, rows, cell, gw, gh) in [(37, 23, 4, 10, 6), (37, 9, 40, 1, 1), (5, 30, 3, 2, 10), (37, 5, 40, 1, 1)] {
            let surround = LocalContrastSurround(width: width, height: rows, cell: cell, gridWidth: gw, gridHeight: gh,
                                                 values: (0..<(gw * gh)).map { 0.03 + Float(($0 * 7) % 11) * 0.031 })
            let params = LocalContrastKernel.Params(amount: 0.7, radius: 0.05)
            let across = LocalContrastKernel(params, surround: surround, interpolatedAcross: true)
            let gather = LocalContrastKernel(params, surround: surround, interpolatedAcross: false)
            XCTAssertNotNil(across.acrossRows)
            XCTAssertNil(gather.acrossRows)
            for engine in [Engine.scalar, .simd] {
                let (s1, a) = makeStrip(width: width, rows: rows, seed: 9)
                let (s2, b) = makeStrip(width: width, rows: rows, seed: 9)
                across.run(over: a, engine: engine)
                gather.run(over: b, engine: engine)
                for i in 0..<(width * rows) {
                    for (x, y) in [(a.r[i], b.r[i]), (a.g[i], b.g[i]), (a.b[i], b.b[i])] where x.bitPattern != y.bitPattern {
                        XCTFail("\(width)×\(rows) grid \(gw)×\(gh), \(engine), pixel \(i): across \(x) vs gather \(y)")
                        return
                    }
                }
                withExtendedLifetime((s1, s2)) {}
            }
            assertSameBits(across, width: width, rows: rows)
        }
        // The memory rule: rows only for cells of 4 pixels or more (a partial last grid row too).
        let coarse = LocalContrastSurround(width: 37, height: 23, cell: 4, gridWidth: 10, gridHeight: 6, values: .init(repeating: 0.2, count: 60))
        let fine = LocalContrastSurround(width: 37, height: 23, cell: 3, gridWidth: 13, gridHeight: 8, values: .init(repeating: 0.2, count: 104))
        XCTAssertNotNil(LocalContrastKernel(.init(amount: 0.2, radius: 0.05), surround: coarse).acrossRows)
        XCTAssertNil(LocalContrastKernel(.init(amount: 0.2, radius: 0.05), surround: fine).acrossRows)
    }

    /// A LUT that is far from the identity (so every tetrahedron case matters).
    static func warpedLUT(size n: Int) -> LUT3D {
        var lut = LUT3D.identity(size: n)
        for i in stride(from: 0, to: lut.values.count, by: 3) {
            let r = lut.values[i], g = lut.values[i + 1], b = lut.values[i + 2]
            lut.values[i] = r * r * 0.9 + 0.05 * b
            lut.values[i + 1] = (g + 0.2 * r).squareRoot() * 0.8
            lut.values[i + 2] = b * (1 - 0.3 * g) + 0.1
        }
        return lut
    }

    /// RGB → HSV → RGB is the identity (DNG SDK hexcone formulas) to float rounding.
    func testHSVRoundTrip() {
        var state: UInt64 = 9
        for _ in 0..<2000 {
            var c = SIMD3<Float>()
            for k in 0..<3 { state = state &* 6364136223846793005 &+ 1; c[k] = Float(state >> 40) / Float(1 << 24) * 2 }
            let p = RGB<Float>(c.x, c.y, c.z)
            let hsv = LookMath.hsv(p)
            XCTAssertTrue(hsv.h >= 0 && hsv.h < 6, "\(hsv.h)")
            let q = LookMath.rgb(h: hsv.h, s: hsv.s, v: hsv.v)
            XCTAssertEqual(q.r, p.r, accuracy: 2e-6 * max(1, c.max())); XCTAssertEqual(q.g, p.g, accuracy: 2e-6 * max(1, c.max()))
            XCTAssertEqual(q.b, p.b, accuracy: 2e-6 * max(1, c.max()))
        }
        // Pure primaries land on sextants 0, 2 and 4 (DNG_RGBtoHSV).
        XCTAssertEqual(LookMath.hsv(RGB<Float>(1, 0, 0)).h, 0)
        XCTAssertEqual(LookMath.hsv(RGB<Float>(0, 1, 0)).h, 2)
        XCTAssertEqual(LookMath.hsv(RGB<Float>(0, 0, 1)).h, 4)
    }

    /// Per-hue controls move only their own hues: a blue shift leaves a red and a grey unchanged,
    /// and the identity table is skipped altogether.
    func testHueTableShiftsOnlyItsHue() throws {
        XCTAssertNil(HueSatLumKernel.prepare(.init(Profile.defaults), skin: .off))
        let p = try Profile.defaults.applying(overrides: ["hsl.blueHue=20"])
        let k = HueSatLumKernel(.init(p), skin: .off)
        let red = RGB<Float>(0.5, 0.05, 0.03), grey = RGB<Float>(0.2, 0.2, 0.2), blue = RGB<Float>(0.02, 0.05, 0.6)
        let r2 = k.apply(red, at: .init(x: 0, y: 0)), g2 = k.apply(grey, at: .init(x: 0, y: 0)), b2 = k.apply(blue, at: .init(x: 0, y: 0))
        XCTAssertEqual(r2.r, red.r, accuracy: 1e-5); XCTAssertEqual(r2.g, red.g, accuracy: 1e-5); XCTAssertEqual(r2.b, red.b, accuracy: 1e-5)
        XCTAssertEqual(g2.r, 0.2); XCTAssertEqual(g2.g, 0.2); XCTAssertEqual(g2.b, 0.2)
        let h1 = LookMath.hsv(blue).h * 60, h2 = LookMath.hsv(b2).h * 60
        XCTAssertEqual(h2 - h1, 20, accuracy: 0.5, "a saturated blue moves by the full shift")
    }

    /// The filmic curve keeps the pivot, has the requested log-log slope there, is monotone, and
    /// reaches black and white at the stated scene levels (the definitions in ToneCurve.swift).
    func testFilmicCurveMeetsItsDefinition() {
        for contrast in [0.8, 1.2, 1.7] {
            for toe in [0.0, 0.5] {
                let params = ToneCurveKernel.Params(contrast: contrast, toe: toe, shoulder: 0.5, blackPoint: 9, whitePoint: 4)
                let curve = ToneCurveKernel.curve(params)
                let p = 0.18
                XCTAssertEqual(curve.evaluate(p), p, accuracy: 1e-4, "pivot kept (c \(contrast), toe \(toe))")
                let h = 1e-3
                let slope = (log(curve.evaluate(p * exp(h))) - log(curve.evaluate(p * exp(-h)))) / (2 * h)
                XCTAssertEqual(slope, contrast, accuracy: 0.01 * contrast, "log-log slope at the pivot")
                XCTAssertEqual(curve.evaluate(p * pow(2, 4)), contrast >= 1 ? 1 : curve.evaluate(p * pow(2, 4)), accuracy: 1e-6)
                XCTAssertEqual(curve.evaluate(p * pow(2, -9)), 0)
                var last = -1.0
                for i in 0...2000 {
                    let y = curve.evaluate(Double(i) / 2000 * curve.maximum)
                    XCTAssertGreaterThanOrEqual(y, last, "monotone"); last = y
                }
            }
        }
    }

    func testMonotoneCubicStaysMonotoneAndInterpolates() {
        let c = MonotoneCubic([.init(x: 0, y: 0), .init(x: 0.3, y: 0.1), .init(x: 0.35, y: 0.6), .init(x: 1, y: 0.65)])
        XCTAssertEqual(c.evaluate(0.3), 0.1, accuracy: 1e-12)
        XCTAssertEqual(c.evaluate(0.35), 0.6, accuracy: 1e-12)
        var last = -1.0
        for i in 0...1000 { let y = c.evaluate(Double(i) / 1000); XCTAssertGreaterThanOrEqual(y, last - 1e-12); last = y }
    }

    /// Tetrahedral interpolation is exact for an affine map (each tetrahedron's blend is linear
    /// and agrees at the corners — Kasson et al. 1995), so a LUT of an affine map reproduces it.
    func testTetrahedralInterpolationIsExactForAffineMaps() {
        var lut = LUT3D.identity(size: 5)
        for i in stride(from: 0, to: lut.values.count, by: 3) {
            let r = lut.values[i], g = lut.values[i + 1], b = lut.values[i + 2]
            lut.values[i] = 0.7 * r + 0.2 * g + 0.05
            lut.values[i + 1] = 0.1 * r + 0.6 * g + 0.3 * b
            lut.values[i + 2] = 0.9 * b - 0.1 * r + 0.1
        }
        let k = LookLUTKernel(lut: lut, encode: OutputEncodingKernel(toOutput: .identity) { $0 }, decode: { $0 },
                              outputToWorking: .identity, strength: 1)
        var state: UInt64 = 5
        for _ in 0..<500 {
            var c = SIMD3<Float>()
            for j in 0..<3 { state = state &* 6364136223846793005 &+ 1; c[j] = Float(state >> 40) / Float(1 << 24) }
            let q = k.interpolate(RGB<Float>(c.x, c.y, c.z))
            XCTAssertEqual(q.r, 0.7 * c.x + 0.2 * c.y + 0.05, accuracy: 2e-6)
            XCTAssertEqual(q.g, 0.1 * c.x + 0.6 * c.y + 0.3 * c.z, accuracy: 2e-6)
            XCTAssertEqual(q.b, 0.9 * c.z - 0.1 * c.x + 0.1, accuracy: 2e-6)
        }
    }

    func testCubeTextRoundTripsAndErrorsNameTheLine() throws {
        var lut = Self.warpedLUT(size: 4)
        lut.title = "warped"
        lut.comments = ["a comment"]
        let back = try LUT3D.parseCube(lut.cubeText(), file: "w.cube")
        XCTAssertEqual(back.size, 4)
        XCTAssertEqual(back.title, "warped")
        XCTAssertEqual(back.comments, ["a comment"])
        for (a, b) in zip(back.values, lut.values) { XCTAssertEqual(a, b, accuracy: 5e-7) }
        // Domain bounds are written so they read back (six decimals made 1e-7 and 2e-7 both 0,
        // an empty domain the reader refused; seen while writing the cube fuzz target's write-read check).
        var fine = LUT3D.identity(size: 2)
        fine.domainMin = SIMD3(repeating: 1e-7); fine.domainMax = SIMD3(1, 2e-7, 0.25)
        let fineBack = try LUT3D.parseCube(fine.cubeText(), file: "d.cube")
        XCTAssertEqual(fineBack.domainMin, fine.domainMin)
        XCTAssertEqual(fineBack.domainMax, fine.domainMax)
        XCTAssertTrue(LUT3D.identity(size: 2).cubeText().contains("DOMAIN_MAX 1.000000 1.000000 1.000000\n"))
        XCTAssertThrowsError(try LUT3D.parseCube("LUT_1D_SIZE 16\n", file: "x.cube")) { e in
            XCTAssertTrue("\(e)".hasPrefix("x.cube: line 1:"), "\(e)")
        }
        XCTAssertThrowsError(try LUT3D.parseCube("LUT_3D_SIZE 2\n0 0 0\n1 1\n", file: "x.cube")) { e in
            XCTAssertTrue("\(e)".contains("line 3"), "\(e)")
        }
        XCTAssertThrowsError(try LUT3D.parseCube("LUT_3D_SIZE 2\n0 0 0\n", file: "x.cube")) { e in
            XCTAssertTrue("\(e)".contains("expected 8 entries"), "\(e)")
        }
    }

    /// The byte-level `.cube` reader (`CubeText.swift`) against the string reader it keeps for
    /// every unusual line, used alone as the oracle: the same LUT or the same error for valid
    /// files written in several styles and for every one-byte mutation of a small file (a
    /// separator, sign, exponent, hex float, NUL, non-ASCII byte or line break put anywhere).
    func testCubeBytesReadAsTheStringReaderReadsThem() throws {
        func oracle(_ bytes: [UInt8]) -> Result<LUT3D, LUTError> {
            var reader = CubeReader(file: "o.cube")
            var lines: [[UInt8]] = []
            var current: [UInt8] = []
            var i = 0
            while i < bytes.count {
                if bytes[i] == 0x0A || bytes[i] == 0x0D {
                    lines.append(current); current = []
                    if bytes[i] == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A { i += 1 }
                } else {
                    current.append(bytes[i])
                }
                i += 1
            }
            lines.append(current)
            do {
                for line in lines {
                    reader.lineNumber += 1
                    try reader.read(String(decoding: line, as: UTF8.self), bytesLeft: bytes.count)
                }
                return .success(try reader.finish())
            } catch let e as LUTError { return .failure(e) } catch { fatalError("\(error)") }
        }
        func parsed(_ bytes: [UInt8]) -> Result<LUT3D, LUTError> {
            do { return .success(try LUT3D.parseCube(bytes: bytes, file: "o.cube")) } catch let e as LUTError { return .failure(e) } catch { fatalError("\(error)") }
        }
        let styles = [
            "LUT_3D_SIZE 2\n0 0 0\n1 0 0\n0 1 0\n1 1 0\n0 0 1\n1 0 1\n0 1 1\n1 1 1\n",
            "# c\r\nTITLE \"t\"\r\nLUT_3D_SIZE 2\r\n\t0.5 +.25 1e-3\r\n  1 0x1p-2 0  \r\n0 1 0\r\n1 1 0\r\n0 0 1\r\n1 0 1\r\n0 1 1\r\n1 1 1",
            "LUT_3D_SIZE 2\rDOMAIN_MIN 0 0 0\rDOMAIN_MAX 2 2 2\r-0 0 0\r1 0 0\r0 1 0\r1 1 0\r0 0 1\r1 0 1\r0 1 1\r1 1 1e-45\r",
        ]
        var mutations = 0
        for style in styles {
            let bytes = Array(style.utf8)
            XCTAssertNoThrow(try parsed(bytes).get(), style)
            XCTAssertEqual(try parsed(bytes).get(), try oracle(bytes).get())
            for position in 0...bytes.count {
                for replacement: [UInt8] in [[0x20], [0x09], [0x0D], [0x0A], [0x2D], [0x2B], [0x2E], [0x65], [0x78], [0x30], [0x39],
                                             [0x6E], [0x23], [0xC3, 0xA9], [0x00], [0xA0], [0x31, 0x65, 0x39, 0x39]] {
                    var mutated = bytes
                    if position < bytes.count { mutated.replaceSubrange(position...position, with: replacement) } else { mutated += replacement }
                    let (a, b) = (parsed(mutated), oracle(mutated))
                    XCTAssertEqual("\(a)", "\(b)", String(decoding: mutated, as: UTF8.self))
                    mutations += 1
                }
            }
        }
        XCTAssertGreaterThan(mutations, 3000)
        // Windows line breaks count once in error lines too.
        XCTAssertThrowsError(try LUT3D.parseCube(bytes: Array("LUT_3D_SIZE 2\r\n0 0 0\r\n1 1\r\n".utf8), file: "x.cube")) { e in
            XCTAssertTrue("\(e)".contains("line 3"), "\(e)")
        }
    }

    /// The writer's "%.6f" against glibc's printf (`CFormat`), including exact ties at the
    /// seventh decimal ((2m + 1)/128), −0, negatives that round to zero and large values.
    func testCubeNumbersAreWrittenAsPrintfWritesThem() {
        var generator = SplitMix64(seed: 6)
        var values: [Float] = [0, -0, 1, -1, 0.5, 1e-7, -1e-7, 5e-7, -5e-7, 4.9999997e-7, 123456.79, 9.99e8, 2e9, -3e12, .infinity, .nan]
        values += (0..<256).map { Float(2 * $0 + 1) / 128 } + (0..<256).map { -Float(2 * $0 + 1) / 128 }
        values += (0..<5000).map { _ in Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &generator)) }
        values += (0..<5000).map { _ in Float.random(in: -2...2, using: &generator) }
        for v in values {
            var out: [UInt8] = []
            LUT3D.appendFixed6(v, to: &out)
            XCTAssertEqual(String(decoding: out, as: UTF8.self), CFormat.string("%.6f", Double(v)), "\(v)")
        }
    }

    /// Grain: the same seed gives the same field bit for bit, another seed another field; the
    /// tile has the variance it claims (½ each, so the two tiles sum to unit variance).
    func testGrainIsSeededAndRepeatable() {
        let a = FilmGrainKernel.tile(size: 61, sigma: 0.7, seed: 42, salt: 1)
        let b = FilmGrainKernel.tile(size: 61, sigma: 0.7, seed: 42, salt: 1)
        let c = FilmGrainKernel.tile(size: 61, sigma: 0.7, seed: 43, salt: 1)
        XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern))
        XCTAssertNotEqual(a, c)
        let stride = 61 + FilmGrainKernel.padding
        let values = (0..<61).flatMap { y in (0..<61).map { x in Double(a[y * stride + x]) } }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        XCTAssertEqual(variance, 0.5, accuracy: 1e-4)
        XCTAssertEqual(a[5 * stride + 61 + 3], a[5 * stride + 3], "padding repeats the row start")
    }

    /// Vignette: no change at the centre, `amount` stops at the corners.
    func testVignetteGainAtCentreAndCorner() {
        let k = VignetteKernel(.init(amount: -1, midpoint: 0.3, roundness: 0.5), LookContext(width: 101, height: 61))
        let one = RGB<Float>(1, 1, 1)
        XCTAssertEqual(k.apply(one, at: .init(x: 50, y: 30)).r, 1, accuracy: 1e-6)
        XCTAssertEqual(k.apply(one, at: .init(x: 0, y: 0)).r, 0.5, accuracy: 0.02)
    }

    /// Saturation and vibrance keep luminance (Y of Rec.2020) and greys.
    func testSaturationKeepsLuminanceAndGreys() {
        let k = ColourSaturationKernel(saturation: 1.4, vibrance: 0.5, skin: .off)
        let c = RGB<Float>(0.4, 0.2, 0.1)
        let q = k.apply(c, at: .init(x: 0, y: 0))
        XCTAssertEqual(LookMath.luminance(q), LookMath.luminance(c), accuracy: 1e-6)
        XCTAssertGreaterThan(q.r - q.b, c.r - c.b)
        let g = k.apply(RGB<Float>(0.3, 0.3, 0.3), at: .init(x: 0, y: 0))
        XCTAssertEqual(g.r, 0.3, accuracy: 1e-7); XCTAssertEqual(g.b, 0.3, accuracy: 1e-7)
    }

    /// Skin protection: full weight at the skin hue, none on blue, none on grey.
    func testSkinWeight() throws {
        let skin = SkinProtection.prepare(.init(try Profile.defaults.applying(overrides: ["skinProtection.amount=1"])))
        XCTAssertEqual(skin.weight(h: Float(23.0 / 60), s: Float(0.5)), 1, accuracy: 1e-6)
        XCTAssertEqual(skin.weight(h: Float(4), s: Float(0.5)), 0)
        XCTAssertEqual(skin.weight(h: Float(23.0 / 60), s: Float(0)), 0)
    }
}

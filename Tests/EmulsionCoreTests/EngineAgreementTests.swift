import XCTest
@testable import EmulsionCore

/// Scalar (`Float`) and SIMD (`SIMD8<Float>`) instantiations of the same kernels must give the
/// same bits: both run the same IEEE operations in the same order with no fused multiply-add
/// (see Engine/Lanes.swift), so the tolerance here is exactly zero.
final class EngineAgreementTests: XCTestCase {
    /// Values that break careless kernels: NaN, ±Inf, −0, negatives, subnormals, far above white.
    static let adversarial: [Float] = [
        .nan, .infinity, -.infinity, -0.0, 0, -1, -1e-30, .leastNonzeroMagnitude, 1e-40, 1e-7, 0.5, 0.999_999,
        1, 1.000_001, 4, 1e6, .greatestFiniteMagnitude, 0.018, 0.0031308, 0.25,
    ]

    func makeStrip(width: Int, rows: Int, seed: UInt64) -> (StripStorage, Strip) {
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

    func assertSameBits(_ kernel: any PointKernel, width: Int = 37, rows: Int = 5, file: StaticString = #filePath, line: UInt = #line) {
        let (s1, a) = makeStrip(width: width, rows: rows, seed: 42)
        let (s2, b) = makeStrip(width: width, rows: rows, seed: 42)
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
        assertSameBits(ColourMatrixKernel(Matrix3(rowMajor: [1.7, -0.5, -0.2, -0.3, 1.6, -0.3, 0.05, -0.6, 1.55])))
    }

    func testOutputEncodingAgrees() {
        let kernel = OutputEncodingKernel(toOutput: WorkingSpace.fromLinearSRGB.inverse!) { x in
            x <= 0.0031308 ? 12.92 * x : 1.055 * Foundation.pow(x, 1 / 2.4) - 0.055
        }
        assertSameBits(kernel)
        assertSameBits(kernel, width: 8, rows: 1)
        assertSameBits(kernel, width: 3, rows: 2)
    }

    func testOutputEncodingIsClampedAndFinite() {
        let kernel = OutputEncodingKernel(toOutput: .identity) { $0 }
        let (storage, strip) = makeStrip(width: 64, rows: 2, seed: 7)
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

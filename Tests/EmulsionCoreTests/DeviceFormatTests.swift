import EmulsionCore
import Foundation
import XCTest

/// Device mode's number formats against hand-computed values (issue 9): Q formats (rounding
/// modes, ties, negatives, saturation at both limits), unsigned normalised words, the quantise
/// kernel (both engines, bitwise), the tone-table kernel, and the strict device-file loader.
/// Every expected value below is worked out by hand in the comment beside it; comparisons are
/// exact (the formats are exact binary fractions).
final class DeviceFormatTests: XCTestCase {
    func testQ4_10RoundsByModeAndSaturates() {
        let q = QFormat(integerBits: 4, fractionBits: 10)
        XCTAssertEqual(q.wordBits, 15)
        XCTAssertEqual(q.minimumCode, -16384)
        XCTAssertEqual(q.maximumCode, 16383)
        // 1.2345 · 1024 = 1264.128 → 1264 by every mode; 1264 / 1024 = 1.234375.
        for mode in DeviceRounding.allCases {
            XCTAssertEqual(q.code(1.2345, rounding: mode), 1264)
            XCTAssertEqual(q.quantised(1.2345, rounding: mode), 1.234375)
        }
        // Ties: 2.5/1024 · 1024 = 2.5 → half-even 2, half-up 3, floor 2; 3.5 → 4, 4, 3.
        XCTAssertEqual(q.code(2.5 / 1024, rounding: .halfEven), 2)
        XCTAssertEqual(q.code(2.5 / 1024, rounding: .halfUp), 3)
        XCTAssertEqual(q.code(2.5 / 1024, rounding: .floor), 2)
        XCTAssertEqual(q.code(3.5 / 1024, rounding: .halfEven), 4)
        XCTAssertEqual(q.code(3.5 / 1024, rounding: .halfUp), 4)
        XCTAssertEqual(q.code(3.5 / 1024, rounding: .floor), 3)
        // Negative ties: −2.5 → half-even −2, half-up ⌊−2.0⌋ = −2, floor −3.
        XCTAssertEqual(q.code(-2.5 / 1024, rounding: .halfEven), -2)
        XCTAssertEqual(q.code(-2.5 / 1024, rounding: .halfUp), -2)
        XCTAssertEqual(q.code(-2.5 / 1024, rounding: .floor), -3)
        // A negative coefficient: −0.7 · 1024 = −716.8 → −717 (nearest, both) and ⌊−716.8⌋ = −717.
        XCTAssertEqual(q.code(-0.7, rounding: .halfEven), -717)
        XCTAssertEqual(q.quantised(-0.7, rounding: .halfUp), -717.0 / 1024)
        XCTAssertEqual(q.code(-0.7, rounding: .floor), -717)
        // −0.3 · 1024 = −307.2 → nearest −307, floor −308.
        XCTAssertEqual(q.code(-0.3, rounding: .halfUp), -307)
        XCTAssertEqual(q.code(-0.3, rounding: .floor), -308)
        // Saturation: the largest value is 16383 / 1024 = 15.9990234375; 16 and 20 clamp to it;
        // −16 is exactly the lowest code, −20 clamps to it; NaN is 0.
        XCTAssertEqual(q.quantised(15.9990234375, rounding: .halfEven), 15.9990234375)
        XCTAssertEqual(q.code(16, rounding: .halfEven), 16383)
        XCTAssertEqual(q.quantised(20, rounding: .halfUp), 15.9990234375)
        XCTAssertEqual(q.quantised(-16, rounding: .floor), -16)
        XCTAssertEqual(q.code(-20, rounding: .halfEven), -16384)
        XCTAssertEqual(q.code(.infinity, rounding: .floor), 16383)
        XCTAssertEqual(q.code(.nan, rounding: .halfUp), 0)
    }

    func testOtherQFormats() {
        // Q3.7 (the mid-range CCM): 0.3 · 128 = 38.4 → 38 (0.296875); −1.55 · 128 = −198.4 →
        // nearest −198, floor −199; limits ±8: 1023 / 128 = 7.9921875 and −1024 / 128 = −8.
        let q37 = QFormat(integerBits: 3, fractionBits: 7)
        XCTAssertEqual(q37.quantised(0.3, rounding: .halfUp), 0.296875)
        XCTAssertEqual(q37.code(-1.55, rounding: .halfEven), -198)
        XCTAssertEqual(q37.code(-1.55, rounding: .halfUp), -198)
        XCTAssertEqual(q37.code(-1.55, rounding: .floor), -199)
        XCTAssertEqual(q37.quantised(9, rounding: .floor), 7.9921875)
        XCTAssertEqual(q37.quantised(-9, rounding: .floor), -8)
        // Q0.15 (CMSIS q15): 1.0 saturates to 32767 / 32768; −1.0 is −32768 exactly.
        let q15 = QFormat(integerBits: 0, fractionBits: 15)
        XCTAssertEqual(q15.code(1.0, rounding: .halfEven), 32767)
        XCTAssertEqual(q15.quantised(1.0, rounding: .halfEven), 0.999969482421875)
        XCTAssertEqual(q15.code(-1.0, rounding: .halfEven), -32768)
        // Q4.11 (the flagship CCM): 1.8 · 2048 = 3686.4 → 3686; −0.55 · 2048 = −1126.4 → −1126.
        let q411 = QFormat(integerBits: 4, fractionBits: 11)
        XCTAssertEqual(q411.wordBits, 16)
        XCTAssertEqual(q411.code(1.8, rounding: .halfUp), 3686)
        XCTAssertEqual(q411.code(-0.55, rounding: .halfUp), -1126)
    }

    func testQFormatParsing() {
        XCTAssertEqual(QFormat(parsing: "Q4.10"), QFormat(integerBits: 4, fractionBits: 10))
        XCTAssertEqual(QFormat(parsing: "Q0.15"), QFormat(integerBits: 0, fractionBits: 15))
        for bad in ["Q4", "4.10", "Q4.0", "Q16.2", "Q-1.3", "Q4.10.1", "Q.10", "Q4.", "Q4.x", "Q٤.10"] {
            XCTAssertNil(QFormat(parsing: bad), bad)
        }
    }

    func testUNormWords() {
        // 8 bits over [0, 1]: 0.5 · 255 = 127.5 → half-even 128, half-up 128, floor 127.
        let u8 = UNormFormat(bits: 8)
        XCTAssertEqual(u8.code(0.5, rounding: .halfEven), 128)
        XCTAssertEqual(u8.code(0.5, rounding: .halfUp), 128)
        XCTAssertEqual(u8.code(0.5, rounding: .floor), 127)
        XCTAssertEqual(u8.value(code: 51), 0.2) // 51 / 255
        XCTAssertEqual(u8.code(1.2, rounding: .halfEven), 255)
        XCTAssertEqual(u8.code(-0.1, rounding: .halfEven), 0)
        XCTAssertEqual(u8.code(.nan, rounding: .floor), 0)
        // 12 bits over [0, 4]: 1.0 · 4095 / 4 = 1023.75 → nearest 1024, floor 1023.
        let u12 = UNormFormat(bits: 12, range: 4)
        XCTAssertEqual(u12.code(1, rounding: .halfUp), 1024)
        XCTAssertEqual(u12.code(1, rounding: .floor), 1023)
        XCTAssertEqual(u12.value(code: 4095), 4)
        XCTAssertEqual(u12.code(5, rounding: .floor), 4095)
    }

    func testQuantiseKernelHandValues() {
        func run(_ k: QuantiseKernel, _ x: Float) -> Float { k.apply(RGB(x, x, x), at: PixelLocation(x: 0, y: 0)).r }
        // 8 bits over [0, 1], scale 255: 0.5 → 127.5 → 128/255 or 127/255; saturation and NaN → 0.
        let even = QuantiseKernel(bits: 8, rounding: .halfEven)
        let up = QuantiseKernel(bits: 8, rounding: .halfUp)
        let floor = QuantiseKernel(bits: 8, rounding: .floor)
        XCTAssertEqual(run(even, 0.5), Float(128) / 255)
        XCTAssertEqual(run(up, 0.5), Float(128) / 255)
        XCTAssertEqual(run(floor, 0.5), Float(127) / 255)
        // The limits: 1 stays 1; above saturates to 1; below (and NaN, −∞) to 0.
        XCTAssertEqual(run(even, 1), 1)
        XCTAssertEqual(run(floor, 2), 1)
        XCTAssertEqual(run(up, -3), 0)
        XCTAssertEqual(run(even, .nan), 0)
        XCTAssertEqual(run(even, -.infinity), 0)
        XCTAssertEqual(run(floor, .infinity), 1)
        // 12 bits over [0, 4], scale 4095/4 = 1023.75: x = 1 → 1023.75 → nearest 1024, floor 1023.
        let linearEven = QuantiseKernel(bits: 12, range: 4, rounding: .halfEven)
        let linearFloor = QuantiseKernel(bits: 12, range: 4, rounding: .floor)
        XCTAssertEqual(run(linearEven, 1), Float(1024) / 1023.75)
        XCTAssertEqual(run(linearFloor, 1), Float(1023) / 1023.75)
        XCTAssertEqual(run(linearFloor, 9), 4)
        // An exact tie in the kernel: 1 bit over [0, 2] (scale 0.5): x = 1 → 0.5 → half-even 0,
        // half-up 1 (→ 2), floor 0; 1.9 → 0.95 → floor 0; x = 3 clamps to 2 → code 1 → 2.
        XCTAssertEqual(run(QuantiseKernel(bits: 1, range: 2, rounding: .halfEven), 1), 0)
        XCTAssertEqual(run(QuantiseKernel(bits: 1, range: 2, rounding: .halfUp), 1), 2)
        XCTAssertEqual(run(QuantiseKernel(bits: 1, range: 2, rounding: .floor), 1.9), 0)
        XCTAssertEqual(run(QuantiseKernel(bits: 1, range: 2, rounding: .floor), 3), 2)
        // The kernel's code agrees with UNormFormat where the product is exact (x = k / 64 over 8 bits).
        for mode in DeviceRounding.allCases {
            let k = QuantiseKernel(bits: 8, rounding: mode)
            for i in 0...64 {
                let x = Float(i) / 64
                XCTAssertEqual(run(k, x), Float(UNormFormat(bits: 8).code(Double(x), rounding: mode)) / 255, "\(mode) \(x)")
            }
        }
    }

    func testQuantiseAndTableKernelsAgreeAcrossEngines() {
        var values: [Float] = [.nan, -.infinity, .infinity, -1, -0.0, 0, 1e-30, 0.5, 1, 3.999, 4, 5, 0.18, 0.0625]
        var state: UInt32 = 12345
        for _ in 0..<1000 {
            state = state &* 1_664_525 &+ 1_013_904_223
            values.append(Float(state >> 8) / Float(1 << 24) * 5 - 0.5)
        }
        while values.count % 16 != 0 { values.append(0.25) }
        let table = DeviceToneTableKernel(values: (0..<256).map { Float(($0 * 37) % 1024) / 1023 }, range: 4)
        var kernels: [any PointKernel] = [table]
        for mode in DeviceRounding.allCases {
            kernels.append(QuantiseKernel(bits: 12, range: 4, rounding: mode))
            kernels.append(QuantiseKernel(bits: 8, rounding: mode))
            kernels.append(QuantiseKernel(bits: 22, range: 1, rounding: mode))
        }
        for kernel in kernels {
            let n = values.count
            let a = StripStorage(width: n, rows: 1), b = StripStorage(width: n, rows: 1)
            let sa = a.strip(firstRow: 0, rows: 1), sb = b.strip(firstRow: 0, rows: 1)
            for i in 0..<n {
                sa.r[i] = values[i]; sa.g[i] = values[(i + 1) % n]; sa.b[i] = values[(i + 2) % n]
                sb.r[i] = values[i]; sb.g[i] = values[(i + 1) % n]; sb.b[i] = values[(i + 2) % n]
            }
            kernel.run(over: sa, engine: .scalar)
            for width in [SIMDWidth.four, .eight, .sixteen] {
                let previous = SIMDWidth.selected
                SIMDWidth.selected = width
                for i in 0..<n { sb.r[i] = values[i]; sb.g[i] = values[(i + 1) % n]; sb.b[i] = values[(i + 2) % n] }
                kernel.run(over: sb, engine: .simd)
                SIMDWidth.selected = previous
                for i in 0..<n {
                    XCTAssertEqual(sa.r[i].bitPattern, sb.r[i].bitPattern, "\(type(of: kernel)) lanes \(width) value \(values[i])")
                    XCTAssertEqual(sa.b[i].bitPattern, sb.b[i].bitPattern)
                }
            }
            withExtendedLifetime((a, b)) {}
        }
    }

    func testToneTableInterpolatesLinearlyBetweenEntries() {
        // Entries 0, 0.25, 1 over [0, 4]: x = 2 is entry 1 exactly; x = 1 is halfway → 0.125;
        // x = 3 → 0.625; beyond 4 stays at 1; negative and NaN at 0.
        let k = DeviceToneTableKernel(values: [0, 0.25, 1], range: 4)
        func run(_ x: Float) -> Float { k.apply(RGB(x, x, x), at: PixelLocation(x: 0, y: 0)).g }
        XCTAssertEqual(run(2), 0.25)
        XCTAssertEqual(run(1), 0.125)
        XCTAssertEqual(run(3), 0.625)
        XCTAssertEqual(run(9), 1)
        XCTAssertEqual(run(-1), 0)
        XCTAssertEqual(run(.nan), 0)
    }

    // MARK: Device files

    static let devicesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Profiles/devices")

    func testShippedDevicesLoad() throws {
        let loader = DeviceLoader(searchDirectories: [Self.devicesDirectory])
        XCTAssertEqual(loader.availableNames(), ["flagship", "ideal", "mid-range"])
        let flagship = try loader.load("flagship"), mid = try loader.load("mid-range")
        XCTAssertEqual(flagship.lut, .init(size: 33, bits: 12))
        XCTAssertEqual(mid.lut, .init(size: 17, bits: 10))
        XCTAssertEqual(mid.ccm, QFormat(integerBits: 3, fractionBits: 7))
        XCTAssertEqual(mid.rounding, .floor)
        // Each shipped file explains every number.
        for d in [flagship, mid] {
            XCTAssertEqual(Set(d.reasoning.keys), Set(DeviceLoader.blocks + ["rounding", "headroom"]), d.name)
            XCTAssertFalse(d.isIdeal)
        }
        XCTAssertTrue(try loader.load("ideal").isIdeal)
    }

    func testDeviceFilesAreValidatedStrictly() throws {
        let good: [String: Any] = [
            "schemaVersion": 1, "name": "t", "description": "d", "rounding": "floor", "headroom": 4,
            "linear": ["bits": 12], "ccm": ["format": "Q3.7"], "toneTable": ["entries": 256, "bits": 10],
            "lut": ["size": 17, "bits": 10], "encoded": "float",
        ]
        func error(_ change: (inout [String: Any]) -> Void) -> String {
            var doc = good
            change(&doc)
            let data = try! JSONSerialization.data(withJSONObject: doc)
            do { _ = try DeviceLoader(searchDirectories: []).parse(data, file: "dev.json"); return "accepted" } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(error { _ in }, "accepted")
        XCTAssertEqual(error { $0["colour"] = 1 }, "dev.json: colour: unknown key; allowed: " + DeviceLoader.topKeys.joined(separator: ", "))
        XCTAssertEqual(error { $0["ccm"] = nil }, "dev.json: ccm: missing; expected an object or \"float\"")
        XCTAssertEqual(error { $0["ccm"] = ["format": "Q3"] },
                       "dev.json: ccm.format: expected Qm.n with m 0…15 and n 1…24, got \"Q3\"")
        XCTAssertEqual(error { $0["ccm"] = ["format": "Q3.7", "rows": 3] }, "dev.json: ccm.rows: unknown key; allowed: format")
        XCTAssertEqual(error { $0["headroom"] = 3 }, "dev.json: headroom: expected a power of two 1…64, got 3")
        XCTAssertEqual(error { $0["rounding"] = "nearest" }, "dev.json: rounding: unknown value \"nearest\"; allowed: half-even, half-up, floor")
        XCTAssertEqual(error { $0["lut"] = ["size": 17.5, "bits": 10] }, "dev.json: lut.size: expected a whole number 2…129, got 17.5")
        XCTAssertEqual(error { $0["lut"] = ["size": 17] }, "dev.json: lut.bits: missing; expected a whole number 1…22")
        XCTAssertEqual(error { $0["linear"] = ["bits": 23] }, "dev.json: linear.bits: expected a whole number 1…22, got 23")
        XCTAssertEqual(error { $0["linear"] = 12 }, "dev.json: linear: expected an object (bits) or \"float\", got a number")
        XCTAssertEqual(error { $0["lut"] = "float" }, "dev.json: toneTable: a tone table needs a 3-D LUT after it (its output is the LUT's input encoding); set lut or make toneTable \"float\"")
        XCTAssertEqual(error { $0["reasoning"] = ["ccm": 1] }, "dev.json: reasoning.ccm: expected a string, got a number")
        XCTAssertEqual(error { $0["reasoning"] = ["grain": "x"] }, "dev.json: reasoning.grain: unknown key; allowed: linear, ccm, toneTable, lut, encoded, rounding, headroom")
        XCTAssertEqual(error { $0["schemaVersion"] = 2 }, "dev.json: schemaVersion: expected 1, got 2")
        XCTAssertThrowsError(try DeviceLoader(searchDirectories: []).parse(Data("{".utf8), file: "x.json")) {
            XCTAssertTrue("\($0)".hasPrefix("x.json: is not valid JSON"), "\($0)")
        }
        XCTAssertThrowsError(try DeviceLoader(searchDirectories: [Self.devicesDirectory]).load("pixel")) {
            XCTAssertEqual("\($0)", "pixel: no such device; available: flagship, ideal, mid-range")
        }
    }
}

import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// DNG camera profiles (`--dcp`): reading RawTherapee's packaged DCPs (Debian rawtherapee-data,
/// installed by `.ci/setup --tests`), the HueSatMap kernel's maths, and a render of the real
/// chart with the profile made for its camera (Canon EOS 550D = Kiss X4).
final class CameraProfileTests: XCTestCase {
    static let directory = "/usr/share/rawtherapee/dcpprofiles"

    func profile(_ name: String) throws -> CameraProfile {
        let path = "\(Self.directory)/\(name).dcp"
        guard FileManager.default.fileExists(atPath: path) else {
            if TestSupport.inCI { XCTFail("rawtherapee-data is required in CI (\(path))") }
            throw XCTSkip("rawtherapee-data not installed")
        }
        return try DCPFile.read(path: path)
    }

    /// Tag values as a direct decode of the files shows them (Python `struct`): the 550D profile has
    /// one D50 ColorMatrix and a 6×6×3 HueSatMap; the 5D Mark II one two calibrations (StdA, D50)
    /// with ForwardMatrices, two 90×30×1 HueSatMaps and a ProfileToneCurve.
    func testReadsRawTherapeeProfiles() throws {
        let p550 = try profile("Canon EOS 550D")
        XCTAssertEqual(p550.calibrations.map(\.illuminant), [23])
        XCTAssertEqual(p550.hueSatMaps.map { [$0.hues, $0.saturations, $0.values] }, [[6, 6, 3]])
        XCTAssertNil(p550.calibrations[0].forwardMatrix)
        let p5d = try profile("Canon EOS 5D Mark II")
        XCTAssertEqual(p5d.calibrations.map(\.illuminant), [17, 23])
        XCTAssertTrue(p5d.calibrations.allSatisfy { $0.forwardMatrix != nil })
        XCTAssertEqual(p5d.hueSatMaps.map { [$0.hues, $0.saturations, $0.values] }, [[90, 30, 1], [90, 30, 1]])
        XCTAssertEqual(p5d.toneCurve.count, 2)
        XCTAssertThrowsError(try DCPFile.read(path: "/etc/hostname"))
        // What cannot be a profile is named before it is read (a FIFO would block the read).
        let dir = TestSupport.temporaryDirectory("emulsion-dcp")
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = dir.appendingPathComponent("empty.dcp").path, fifo = dir.appendingPathComponent("pipe.dcp").path
        FileManager.default.createFile(atPath: empty, contents: Data())
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        for (path, problem) in [(dir.appendingPathComponent("none.dcp").path, "no such file"), (dir.path, "is a directory, not a camera profile"),
                                (empty, "empty file (0 bytes)"), (fifo, "is a FIFO (named pipe), not a camera profile")] {
            XCTAssertThrowsError(try DCPFile.read(path: path)) { XCTAssertEqual("\($0)", "\(path): \(problem)") }
        }
    }

    func table(hues: Int = 6, saturations: Int = 3, values: Int = 2, shift: Float = 0, sat: Float = 1, val: Float = 1) -> CameraProfile.HSVTable {
        let n = hues * saturations * values
        return CameraProfile.HSVTable(hues: hues, saturations: saturations, values: values,
                                      data: (0..<n).flatMap { _ in [shift, sat, val] }, sRGBEncoded: false)
    }

    func run(_ k: HueSatMapKernel, _ rgb: SIMD3<Float>) -> SIMD3<Float> {
        let q = k.apply(RGB<Float>(rgb.x, rgb.y, rgb.z), at: PixelLocation(x: 0, y: 0))
        return SIMD3(q.r, q.g, q.b)
    }

    /// An identity table leaves colours alone; a +120° hue shift turns red into green and green
    /// into blue; a saturation scale of 0 makes grey of the same value (DNG HSV: value = max).
    func testHueSatMapMaths() throws {
        let identity = try XCTUnwrap(HueSatMapKernel(table()))
        for rgb in [SIMD3<Float>(0.2, 0.5, 0.9), SIMD3(0.7, 0.1, 0.3), SIMD3(0.4, 0.4, 0.4), SIMD3(0, 0, 0), SIMD3(1.5, 0.2, 0.1)] {
            let out = run(identity, rgb)
            for c in 0..<3 { XCTAssertEqual(out[c], rgb[c], accuracy: 1e-5 * max(1, rgb[c]), "\(rgb)") }
        }
        let rotate = try XCTUnwrap(HueSatMapKernel(table(shift: 120)))
        XCTAssertEqual(run(rotate, SIMD3(0.8, 0, 0)), SIMD3(0, 0.8, 0))
        XCTAssertEqual(run(rotate, SIMD3(0, 0.5, 0)), SIMD3(0, 0, 0.5))
        let grey = try XCTUnwrap(HueSatMapKernel(table(sat: 0)))
        XCTAssertEqual(run(grey, SIMD3(0.2, 0.6, 0.4)), SIMD3(0.6, 0.6, 0.6))
    }

    func testHueSatMapEnginesAgree() throws {
        var state: UInt32 = 3
        func next() -> Float { state = state &* 1664525 &+ 1013904223; return Float(state >> 8) / Float(1 << 24) }
        var data: [Float] = []
        for _ in 0..<(90 * 30 * 2) {
            let shift: Float = next() * 40 - 20
            let sat: Float = 0.8 + next() * 0.4
            let val: Float = 0.9 + next() * 0.2
            data += [shift, sat, val]
        }
        let k = try XCTUnwrap(HueSatMapKernel(CameraProfile.HSVTable(hues: 90, saturations: 30, values: 2, data: data, sRGBEncoded: true)))
        let width = 45, rows = 4
        let sa = StripStorage(width: width, rows: rows), sb = StripStorage(width: width, rows: rows)
        let a = sa.strip(firstRow: 0, rows: rows), b = sb.strip(firstRow: 0, rows: rows)
        let special: [Float] = [.nan, .infinity, -1, 0, 1e-30, 1, 2, 0.5]
        for i in 0..<(width * rows) {
            for (x, y) in [(a.r, b.r), (a.g, b.g), (a.b, b.b)] {
                let v = i % 11 == 0 ? special[i % special.count] : next() * 1.3
                x[i] = v; y[i] = v
            }
        }
        k.run(over: a, engine: .scalar)
        k.run(over: b, engine: .simd)
        for i in 0..<(width * rows) {
            XCTAssertEqual([a.r[i], a.g[i], a.b[i]].map(\.bitPattern), [b.r[i], b.g[i], b.b[i]].map(\.bitPattern), "pixel \(i)")
        }
        withExtendedLifetime((sa, sb)) {}
    }

    /// The Canon chart with its camera's DCP and a spot balance on a grey: greys stay neutral
    /// (the tables must not tint neutrals), same tolerance as `WhiteBalanceTests`.
    func testCanonChartWithItsProfile() throws {
        let dcp = try profile("Canon EOS 550D")
        let name = "canon-eos_kiss_x4-colorchart_crop.dng"
        let url = TestSupport.samplesDirectory.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            if TestSupport.inCI { XCTFail("missing sample \(name)") }
            throw XCTSkip("missing sample \(name)")
        }
        let raw = try RawFile.read(path: url.path).cropped(x: 600, y: 850, width: 800, height: 160)
        let profile = try Profile.defaults.applying(overrides: ["whiteBalance.mode=spot", "whiteBalance.spotX=309", "whiteBalance.spotY=65",
                                                                 "whiteBalance.spotWidth=30", "whiteBalance.spotHeight=30"])
        let image = try Renderer.render(raw, options: RenderOptions(profile: profile, space: .sRGB, cameraProfile: dcp))
        var report: [String] = []
        for (i, (cx, cy)) in WhiteBalanceTests.greyCentres.enumerated() {
            var sum = SIMD3<Double>(repeating: 0)
            for y in (cy - 15)..<(cy + 15) {
                for x in (cx - 15)..<(cx + 15) {
                    let k = 3 * (y * image.width + x)
                    sum += SIMD3((0..<3).map { TestSupport.sRGBToLinear(Double(image.samples[k + $0]) / 65535) })
                }
            }
            let lab = TestSupport.labFromLinearSRGB(sum / 900)
            report.append(String(format: "a %+.2f b %+.2f", lab.a, lab.b))
            if i < 3 {
                XCTAssertLessThanOrEqual(abs(lab.a), 1.5, "grey \(i): \(lab)")
                XCTAssertLessThanOrEqual(abs(lab.b), 1.5, "grey \(i): \(lab)")
            }
        }
        print("Canon chart greys with Canon EOS 550D.dcp: " + report.joined(separator: " | "))
    }
}

/// ProfileToneCurve: the spline passes through its points and is exact on straight lines.
final class ToneCurveTests: XCTestCase {
    func testSplineThroughPoints() throws {
        let line = try XCTUnwrap(ProfileToneCurveKernel(points: [SIMD2(0, 0), SIMD2(0.5, 0.5), SIMD2(1, 1)]))
        for i in stride(from: 0, to: 4096, by: 97) { XCTAssertEqual(line.table[i], Float(i) / 4095, accuracy: 1e-6) }
        let points: [SIMD2<Float>] = [SIMD2(0, 0), SIMD2(0.2, 0.1), SIMD2(0.5, 0.6), SIMD2(1, 1)]
        let s = try XCTUnwrap(ProfileToneCurveKernel(points: points))
        for p in points {
            let i = Int((p.x * 4095).rounded())
            XCTAssertEqual(s.table[i], p.y, accuracy: 2e-3, "\(p)")
        }
        XCTAssertNil(ProfileToneCurveKernel(points: [SIMD2(0.3, 0.3)]))
    }
}

import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// Device mode end to end (issue 9): the ideal device is the normal engine bit for bit; devices
/// quantise where they declare (fusion stops at every word, the CCM lands on its Q grid, LUT
/// entries on their bit grid); both engines agree in device mode; the report and the export hold
/// what they say. Renders use the 240×160 synthetic chart (debug builds are slow).
final class DeviceTests: XCTestCase {
    static let root = TestSupport.repositoryRoot
    static var profiles: ProfileLoader { ProfileLoader(searchDirectories: [root.appendingPathComponent("Profiles")]) }
    static var devices: DeviceLoader { DeviceLoader(searchDirectories: [root.appendingPathComponent("Profiles/devices")]) }
    static var chart: RawImage { ChartReport.chartScene.raw }

    func render(_ raw: RawImage, _ profile: Profile, device: DeviceDescription?, engine: Engine = .simd,
                space: OutputSpace = .sRGB, threads: Int = 1) throws -> RenderedImage {
        var options = RenderOptions(profile: profile, space: space, engine: engine, threads: threads)
        options.device = device
        return try Renderer.render(raw, options: options)
    }

    /// Every shipped look (local contrast, vignette, grain, monochrome matrices included) and a
    /// camera-profile-free raw with exposure: the ideal device gives exactly the normal bits.
    func testIdealDeviceIsBitwiseTheNormalEngine() throws {
        for name in Self.profiles.availableNames() {
            let look = try Self.profiles.load(name)
            let normal = try render(Self.chart, look, device: nil)
            let ideal = try render(Self.chart, look, device: .ideal)
            XCTAssertEqual(normal.samples, ideal.samples, name)
        }
        // Another space and the scalar engine, with an exposure change and highlight blending.
        let look = try Self.profiles.load("leica-vibrant").applying(overrides: ["exposure.ev=0.5", "highlights.mode=blend"])
        XCTAssertEqual(try render(Self.chart, look, device: nil, engine: .scalar, space: .displayP3).samples,
                       try render(Self.chart, look, device: .ideal, engine: .scalar, space: .displayP3).samples)
        // The ideal chain is the normal chain: same kernels after fusion.
        var options = RenderOptions(profile: look, threads: 1)
        let normal = try RenderPlan(raw: Self.chart, options: options).chain.fusedKernels().map { "\(type(of: $0))" }
        options.device = .ideal
        XCTAssertEqual(try RenderPlan(raw: Self.chart, options: options).chain.fusedKernels().map { "\(type(of: $0))" }, normal)
    }

    func testFusionStopsAtQuantisationPoints() {
        var chain = PointStageChain()
        let scale = Matrix3.diagonal(SIMD3(repeating: 2))
        chain.append(.matrix(scale))
        chain.append(.matrix(scale))
        chain.append(.kernel(QuantiseKernel(bits: 10, rounding: .halfEven)))
        chain.append(.matrix(scale))
        chain.append(.output(OutputEncodingKernel(toOutput: .identity) { $0 }))
        let fused = chain.fusedKernels()
        // The two matrices before the word fuse (×4); the one after it moves into the encoding only.
        XCTAssertEqual(fused.count, 3)
        XCTAssertEqual((fused[0] as? ColourMatrixKernel)?.matrix, Matrix3.diagonal(SIMD3(repeating: 4)))
        XCTAssertTrue(fused[1] is QuantiseKernel)
        XCTAssertEqual((fused[2] as? OutputEncodingKernel)?.toOutput.matrix, scale)
    }

    func testDeviceChainQuantisesWhereDeclared() throws {
        let mid = try Self.devices.load("mid-range")
        var options = RenderOptions(profile: try Self.profiles.load("leica-authentic"), threads: 1)
        options.device = mid
        let kernels = try RenderPlan(raw: Self.chart, options: options).chain.fusedKernels()
        let words = kernels.compactMap { $0 as? QuantiseKernel }
        // Source word, after the CCM, after local contrast, after vignette: 12-bit over [0, 4];
        // after the tone table and after the LUT: 8-bit over [0, 1].
        XCTAssertEqual(words.map(\.bits), [12, 12, 12, 12, 8, 8])
        XCTAssertEqual(words.map(\.range), [4, 4, 4, 4, 1, 1])
        XCTAssertTrue(words.allSatisfy { $0.rounding == .floor })
        XCTAssertTrue(kernels.first is QuantiseKernel)
        let ccm = try XCTUnwrap(kernels[1] as? ColourMatrixKernel)
        for c in ccm.matrix.m { XCTAssertEqual(c * 128, (c * 128).rounded(), "CCM coefficient \(c) is not on the Q3.7 grid") }
        let table = try XCTUnwrap(kernels.compactMap { $0 as? DeviceToneTableKernel }.first)
        XCTAssertEqual(table.table.count, 256)
        for v in table.table.values { XCTAssertEqual(Double(v) * 1023, (Double(v) * 1023).rounded(), accuracy: 1e-3) }
        let lut = try XCTUnwrap(kernels.compactMap { $0 as? DeviceLUTKernel }.first)
        XCTAssertEqual(lut.lut.size, 17)
        for v in lut.lut.red.values + lut.lut.blue.values { XCTAssertEqual(Double(v) * 1023, (Double(v) * 1023).rounded(), accuracy: 1e-3) }
        // The render's output takes at most 256 levels per channel (the 8-bit encoded word).
        let image = try render(Self.chart, options.profile, device: mid)
        for c in 0..<3 {
            let levels = Set(stride(from: c, to: image.samples.count, by: 3).map { image.samples[$0] })
            XCTAssertLessThanOrEqual(levels.count, 256)
            for v in levels { XCTAssertEqual(Int(v) % 257, 0, "16-bit code \(v) is not an 8-bit level") }
        }
    }

    /// Without a 3-D LUT the colour stages run as kernels, each followed by a linear word, then the
    /// output encoding and the encoded word.
    func testDeviceWithoutLUTQuantisesBetweenColourStages() throws {
        let device = DeviceDescription(name: "no-lut", rounding: .halfUp, headroom: 4, linearBits: 14, encodedBits: 10)
        var options = RenderOptions(profile: try Self.profiles.load("film-slide"), threads: 1)
        options.device = device
        let kernels = try RenderPlan(raw: Self.chart, options: options).chain.fusedKernels()
        // word, CCM, word, then (roll-off, per-hue table, saturation, tone curve) each + word, encoding, word.
        let names = kernels.map { "\(type(of: $0))" }
        XCTAssertEqual(names, ["QuantiseKernel", "ColourMatrixKernel", "QuantiseKernel",
                               "HighlightRollOffKernel", "QuantiseKernel", "HueSatLumKernel", "QuantiseKernel",
                               "ColourSaturationKernel", "QuantiseKernel", "ToneCurveKernel", "QuantiseKernel",
                               "OutputEncodingKernel", "QuantiseKernel"])
        XCTAssertEqual((kernels.last as? QuantiseKernel)?.bits, 10)
        let image = try render(Self.chart, options.profile, device: device)
        XCTAssertLessThanOrEqual(Set(stride(from: 0, to: image.samples.count, by: 3).map { image.samples[$0] }).count, 1024)
    }

    func testEnginesAgreeBitwiseInDeviceMode() throws {
        for (device, look) in [("mid-range", "leica-authentic"), ("flagship", "film-chrome")] {
            let d = try Self.devices.load(device), p = try Self.profiles.load(look)
            XCTAssertEqual(try render(Self.chart, p, device: d, engine: .scalar).samples,
                           try render(Self.chart, p, device: d, engine: .simd, threads: 2).samples, "\(look) on \(device)")
        }
    }

    /// The report's figures are what they claim: the float gradient is smooth, the mid-range one
    /// has fewer levels (8-bit output) and larger steps, the flagship is closer to float than the
    /// mid-range. (The ideal device's report is all zeros by the bitwise test above.)
    func testReportFigures() throws {
        let look = try Self.profiles.load("leica-vibrant")
        let mid = try DeviceReport(raw: Self.chart, input: "chart", profile: look, device: try Self.devices.load("mid-range"), threads: 2)
        let flagship = try DeviceReport(raw: Self.chart, input: "chart", profile: look, device: try Self.devices.load("flagship"), threads: 2)
        print(mid.text, flagship.text, separator: "\n")
        // 16-bit float output of a 1024-pixel gradient: nearly every pixel differs from the last.
        XCTAssertGreaterThan(mid.floatGradient.levels, 1000)
        XCTAssertLessThanOrEqual(mid.floatGradient.widestRun, 2)
        XCTAssertLessThan(mid.deviceGradient.levels, mid.floatGradient.levels / 3)
        XCTAssertGreaterThan(mid.deviceGradient.maxStep, mid.floatGradient.maxStep)
        XCTAssertGreaterThan(mid.comparison.statistics.mean, flagship.comparison.statistics.mean)
        XCTAssertGreaterThan(flagship.comparison.statistics.mean, 0)
        let heat = try mid.heatMap()
        XCTAssertGreaterThanOrEqual(heat.width, 240) // widened for the legend where needed
        let picture = try mid.gradientPicture(start: 0, width: 256, rows: 8)
        XCTAssertEqual(picture.width, 256)
        XCTAssertEqual(picture.height, 18)
    }

    func testExportHoldsTheDevicesFormats() throws {
        let look = try Self.profiles.load("film-slide")
        let mid = try Self.devices.load("mid-range")
        let files = try DeviceExport.export(profile: look, device: mid, raw: Self.chart, rawName: "chart", cubeFileName: "x.cube")
        XCTAssertEqual(files.lut.size, 17)
        // Entries as a .cube carries them (6 decimals) are still 10-bit codes when read back.
        let reread = try LUT3D.parseCube(files.lut.cubeText(), file: "x.cube")
        for v in reread.values { XCTAssertEqual(Double(v) * 1023, (Double(v) * 1023).rounded(), accuracy: 0.001) }
        guard case .object(let doc) = files.tables, case .object(let ccm)? = doc["ccm"], case .array(let matrices)? = ccm["matrices"],
              case .object(let tone)? = doc["toneTable"], case .array(let codes)? = tone["codes"] else {
            return XCTFail("unexpected JSON: \(files.tables)")
        }
        XCTAssertEqual(ccm["format"], .string("Q3.7"))
        XCTAssertEqual(matrices.count, 1)
        guard case .array(let first) = matrices[0] else { return XCTFail() }
        XCTAssertEqual(first.count, 9)
        // The exported codes are the coefficients the render uses (value = code / 128), in range.
        var options = RenderOptions(profile: look, threads: 1)
        options.device = mid
        let kernels = try RenderPlan(raw: Self.chart, options: options).chain.fusedKernels()
        let used = try XCTUnwrap(kernels.compactMap { $0 as? ColourMatrixKernel }.first).matrix.m
        for (code, value) in zip(first, used) {
            guard case .number(let c) = code else { return XCTFail() }
            XCTAssertEqual(c / 128, value)
            XCTAssertTrue((-1024...1023).contains(Int(c)))
        }
        XCTAssertEqual(codes.count, 256)
        XCTAssertEqual(codes.first, .number(0))
        XCTAssertEqual(codes.last, .number(1023))
        XCTAssertThrowsError(try DeviceExport.export(profile: look, device: .ideal, raw: Self.chart, rawName: "chart", cubeFileName: "x.cube"))
    }
}

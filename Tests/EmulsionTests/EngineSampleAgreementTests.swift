import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import XCTest
@testable import Emulsion

/// The whole pipeline (raw normalisation, demosaic or RGB source, pixel-aspect resampling, camera
/// matrix, exposure, output encoding, quantisation, orientation) gives bit-identical 16-bit output
/// with the scalar and the SIMD engine (every SIMD width), one and two threads, on every real
/// sample in shared/raw-samples. Tolerance zero: see Engine/Lanes.swift for why it can be.
///
/// Reduced work for a debug build: samples of at most `fullLimit` pixels are rendered whole;
/// larger ones are cut to a `crop` × `crop` window at the image centre, built as a RawImage of its
/// own (origin a multiple of 12, so every CFA period — Bayer 2, X-Trans 6 — and black-level tile
/// keeps its phase). The window is a smaller image through the same code, not a subsample of one
/// render, so bit identity of the two engines on it is the full claim for that input.
final class EngineSampleAgreementTests: XCTestCase {
    static let fullLimit = 210_000
    static let crop = 240

    func crop(_ raw: RawImage) -> RawImage {
        guard raw.width * raw.height > Self.fullLimit else { return raw }
        let w = min(raw.width, Self.crop), h = min(raw.height, Self.crop)
        let x0 = (raw.width - w) / 2 / 12 * 12, y0 = (raw.height - h) / 2 / 12 * 12
        let channels = raw.layout == .rgb ? 3 : 1
        var samples = [UInt16]()
        samples.reserveCapacity(w * h * channels)
        for y in y0..<(y0 + h) {
            let start = (y * raw.width + x0) * channels
            samples += raw.samples[start..<(start + w * channels)]
        }
        return RawImage(width: w, height: h, layout: raw.layout, samples: samples, levels: raw.levels,
                        colour: raw.colour, metadata: raw.metadata)
    }

    func render(_ raw: RawImage, engine: Engine, threads: Int, width: SIMDWidth = SIMDLanes.laneCount == 4 ? .four : .eight) throws -> [UInt16] {
        let saved = SIMDWidth.selected
        SIMDWidth.selected = width
        defer { SIMDWidth.selected = saved }
        return try Renderer.render(raw, options: RenderOptions(engine: engine, threads: threads)).samples
    }

    func assertAgreement(_ raw: RawImage, _ name: String) throws {
        let reference = try render(raw, engine: .scalar, threads: 1)
        XCTAssertFalse(reference.isEmpty)
        var variants: [(String, [UInt16])] = [("scalar, 2 threads", try render(raw, engine: .scalar, threads: 2))]
        for width in SIMDWidth.allCases {
            variants.append(("SIMD \(width.rawValue) lanes, 1 thread", try render(raw, engine: .simd, threads: 1, width: width)))
        }
        variants.append(("SIMD, 2 threads", try render(raw, engine: .simd, threads: 2)))
        for (label, samples) in variants {
            guard samples != reference else { continue }
            let first = zip(samples, reference).enumerated().first { $0.element.0 != $0.element.1 }
            XCTFail("\(name): \(label) differs from scalar" + (first.map { " first at sample \($0.offset): \($0.element.0) vs \($0.element.1)" } ?? " in size"))
        }
    }

    func testScalarAndSIMDAgreeBitwiseOnEverySample() throws {
        let samples = TestSupport.rawSamples()
        if samples.isEmpty {
            if TestSupport.inCI { XCTFail("no raw samples in \(TestSupport.samplesDirectory.path)") }
            throw XCTSkip("no raw samples in \(TestSupport.samplesDirectory.path)")
        }
        var checked = 0
        for sample in samples {
            let raw = try RawFile.read(path: sample.url.path)
            let input = crop(raw)
            try assertAgreement(input, sample.name)
            checked += 1
            print("engines agree bitwise on \(sample.name): \(input.width)×\(input.height)" + (input.width == raw.width && input.height == raw.height ? " (whole)" : " window of \(raw.width)×\(raw.height)"))
        }
        XCTAssertEqual(checked, samples.count)
    }

    func testScalarAndSIMDAgreeOnTheBarePNGBayerSample() throws {
        // Halide's bayer_small.png is a bare 16-bit gray mosaic (GRBG, black 25, white 1023 per
        // MANIFEST.tsv), not a raw container: built into a RawImage directly.
        guard let sample = TestSupport.samples().first(where: { $0.name.hasSuffix(".png") }) else {
            if TestSupport.inCI { XCTFail("Bayer PNG sample missing") }
            throw XCTSkip("Bayer PNG sample missing")
        }
        let png = try PNGFile.readGrayMosaic(path: sample.url.path)
        let raw = RawImage(width: png.width, height: png.height, layout: .mosaic(.grbg), samples: png.samples,
                           levels: SensorLevels(black: 25, white: 1023),
                           colour: CameraColour(asShotMultipliers: SIMD3(1.9, 1, 1.6)), metadata: ShotMetadata())
        try assertAgreement(raw, sample.name)
    }

    func testScalarAndSIMDAgreeOnAdversarialRaws() throws {
        // Sensor values at 0, at and far above white, and a camera matrix that drives channels
        // negative and far above 1, every orientation, odd sizes; and a linear (RGB) raw.
        var state: UInt32 = 11
        func next() -> UInt16 {
            state = state &* 1_664_525 &+ 1_013_904_223
            let r = state >> 16
            switch r % 5 { case 0: return 0; case 1: return 65535; case 2: return UInt16(r % 64); default: return UInt16(r) }
        }
        let colour = CameraColour(asShotMultipliers: SIMD3(2.4, 1, 1.7),
                                  cameraToSRGB: Matrix3(rowMajor: [2.5, -1.2, -0.3, -0.6, 2.1, -0.5, 0.2, -1.4, 2.2]))
        for (i, orientation) in Orientation.allCases.enumerated() {
            var metadata = ShotMetadata()
            metadata.orientation = orientation
            let (w, h) = (37 + i, 23 + 2 * i)
            let mosaic = RawImage(width: w, height: h, layout: .mosaic([CFAPattern.rggb, .bggr, .grbg, .gbrg][i % 4]),
                                  samples: (0..<(w * h)).map { _ in next() }, levels: SensorLevels(black: 600, white: 15000),
                                  colour: colour, metadata: metadata)
            try assertAgreement(mosaic, "adversarial mosaic, \(orientation)")
        }
        let rgb = RawImage(width: 29, height: 17, layout: .rgb, samples: (0..<(29 * 17 * 3)).map { _ in next() },
                           levels: SensorLevels(black: 100, white: 40000), colour: colour, metadata: ShotMetadata())
        try assertAgreement(rgb, "adversarial linear raw")
    }
}

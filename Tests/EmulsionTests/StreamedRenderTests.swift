import EmulsionTestSupport
import XCTest
@testable import Emulsion
import EmulsionCore
import EmulsionIO

/// The streamed render (`PNGRender`: each encoding thread renders its PNG segment's rows into a
/// band and compresses them) writes exactly the bytes of `Renderer.render` + `PNGFile.encode`, for
/// every orientation (those that swap the axes through their transposed raw, `RawImage.transposed`),
/// both depths, looks with whole-image pre-passes and spatial stages, device
/// mode, non-square pixels, linear raws, every filter that reads the row above, and any thread
/// count; and `Executor.run(rows:)` gives the same rows whatever order the bands come in.
final class StreamedRenderTests: XCTestCase {
    static let root = TestSupport.repositoryRoot
    static var profiles: ProfileLoader { ProfileLoader(searchDirectories: [root.appendingPathComponent("Profiles")]) }
    static var devices: DeviceLoader { DeviceLoader(searchDirectories: [root.appendingPathComponent("Profiles/devices")]) }
    static var chart: RawImage { ChartReport.chartScene.raw }

    /// 7 rows per segment of the 240-pixel-wide chart: seams that fall inside 16-row strips.
    static let sevenRows = PNGEncodingOptions(threads: 3, segmentBytes: 7 * (240 * 6 + 1))

    func streamed(_ raw: RawImage, _ options: RenderOptions, _ png: PNGEncodingOptions) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try PNGRender(raw, options: options).encode(png: png) { bytes.append(contentsOf: $0) }
        return bytes
    }

    func whole(_ raw: RawImage, _ options: RenderOptions, _ png: PNGEncodingOptions) throws -> [UInt8] {
        try PNGFile.encode(Renderer.render(raw, options: options).pngImage, options: png)
    }

    func assertSame(_ raw: RawImage, _ options: RenderOptions, png: PNGEncodingOptions = sevenRows, _ label: String,
                    file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try whole(raw, options, png)
        XCTAssertEqual(try streamed(raw, options, png), expected, label, file: file, line: line)
    }

    func oriented(_ raw: RawImage, _ orientation: Orientation) -> RawImage {
        var r = raw
        r.metadata.orientation = orientation
        return r
    }

    func testEveryOrientationAndDepth() throws {
        for orientation in Orientation.allCases {
            let raw = oriented(Self.chart, orientation)
            // The plan's source is the raw as stored, or transposed where the orientation swaps
            // the axes; either way what is left for the sink swaps none.
            let plan = try RenderPlan(raw: raw, options: RenderOptions(threads: 1))
            XCTAssertEqual(plan.orientation, orientation.swapsAxes ? orientation.afterTransposition : orientation)
            XCTAssertEqual(plan.source.width, orientation.swapsAxes ? raw.height : raw.width)
            for depth in [OutputSink.Depth.eight, .sixteen] {
                try assertSame(raw, RenderOptions(depth: depth, threads: 1), "\(orientation) \(depth)")
            }
        }
    }

    func testLooksDeviceAndSourcesStreamLikeTheWholeImage() throws {
        var cases: [(String, RenderOptions)] = []
        for name in ["leica-vibrant", "leica-monochrome", "film-chrome", "zeiss-natural"] {
            cases.append((name, RenderOptions(profile: try Self.profiles.load(name), threads: 1)))
        }
        let grain = try Self.profiles.load("film-chrome").applying(overrides: ["grain.amount=0.2", "grain.seed=5"])
        cases.append(("grain", RenderOptions(profile: grain, space: .displayP3, depth: .eight, threads: 1)))
        let rcd = try Self.profiles.load("neutral").applying(overrides: ["demosaic.algorithm=rcd", "highlights.mode=reconstruct",
                                                                         "exposure.ev=1"])
        cases.append(("rcd + reconstruct", RenderOptions(profile: rcd, threads: 1)))
        var device = RenderOptions(profile: try Self.profiles.load("leica-vibrant"), threads: 1)
        device.device = try Self.devices.load("mid-range")
        cases.append(("device mid-range", device))
        var scalar = RenderOptions(profile: try Self.profiles.load("leica-authentic"), engine: .scalar, threads: 1)
        scalar.depth = .eight
        cases.append(("scalar engine", scalar))
        // A spot white balance: its rectangle is upright, so the axis-swapping orientations
        // (whose source is the transposed raw) must still map it through theirs.
        let spot = try Self.profiles.load("neutral").applying(overrides: ["whiteBalance.mode=spot", "whiteBalance.spotX=10",
                                                                          "whiteBalance.spotY=150", "whiteBalance.spotWidth=30",
                                                                          "whiteBalance.spotHeight=20"])
        cases.append(("spot white balance", RenderOptions(profile: spot, threads: 1)))
        // Each case upright and turned without swapping the axes; some also turned 90° both ways.
        let swapped: Set<String> = ["leica-vibrant", "grain", "device mid-range", "spot white balance"]
        for (label, options) in cases {
            var orientations: [Orientation] = [.normal, .rotate180, .mirrorVertical]
            if swapped.contains(label) { orientations += [.rotate90Clockwise, .transverse] }
            for orientation in orientations {
                try assertSame(oriented(Self.chart, orientation), options, "\(label), \(orientation)")
            }
        }
        // Non-square photosites (a resampling source around the mosaic) and a linear raw.
        var tall = oriented(Self.chart, .mirrorHorizontal)
        tall.metadata.pixelAspect = 0.5
        try assertSame(tall, RenderOptions(threads: 1), "pixel aspect 0.5")
        var turned = oriented(Self.chart, .rotate90CounterClockwise)
        turned.metadata.pixelAspect = 0.5
        try assertSame(turned, RenderOptions(threads: 1), "pixel aspect 0.5, 90° counter-clockwise")
        var wide = Self.chart
        wide.metadata.pixelAspect = 1.5
        try assertSame(wide, RenderOptions(depth: .eight, threads: 1), "pixel aspect 1.5")
        let (w, h) = (53, 41)
        var state: UInt32 = 3
        let samples: [UInt16] = (0 ..< 3 * w * h).map { _ in state = state &* 1_664_525 &+ 1_013_904_223; return UInt16(state >> 17) }
        let linear = RawImage(width: w, height: h, layout: .rgb, samples: samples, levels: SensorLevels(black: 100, white: 40000),
                              colour: CameraColour(asShotMultipliers: SIMD3(2, 1, 1.5)), metadata: ShotMetadata())
        try assertSame(oriented(linear, .rotate180), RenderOptions(threads: 1),
                       png: PNGEncodingOptions(threads: 2, segmentBytes: 3 * (w * 6 + 1)), "linear raw")
    }

    func testEveryFilterLevelAndThreadCount() throws {
        let raw = oriented(Self.chart, .rotate180)
        let options = RenderOptions(profile: try Self.profiles.load("leica-vibrant"), threads: 1)
        // Rendered and prepared once (debug builds are slow); each encode renders its bands anew.
        let image = try Renderer.render(raw, options: options).pngImage
        let render = try PNGRender(raw, options: options)
        func check(_ png: PNGEncodingOptions, _ label: String) throws {
            var bytes: [UInt8] = []
            try render.encode(png: png) { bytes.append(contentsOf: $0) }
            XCTAssertEqual(bytes, try PNGFile.encode(image, options: png), label)
        }
        for filter in PNGFilter.allCases {
            for (level, strategy) in [(0, PNGStrategy.fastHuffman), (1, .fastHuffman), (6, .automatic)] {
                for threads in [1, 3] {
                    var png = Self.sevenRows
                    (png.filter, png.compressionLevel, png.strategy, png.threads) = (filter, level, strategy, threads)
                    try check(png, "\(filter) level \(level) \(strategy), \(threads) threads")
                }
            }
        }
        // The default segments (the whole chart in one) and one row per segment.
        try check(PNGEncodingOptions(threads: 2), "default segments")
        try check(PNGEncodingOptions(threads: 2, segmentBytes: 1), "one row per segment")
    }

    func testOutputErrorStopsTheStreamedRenderAndIsRethrown() throws {
        struct Full: Error {}
        var calls = 0
        let render = try PNGRender(Self.chart, options: RenderOptions(threads: 1))
        XCTAssertThrowsError(try render.encode(png: Self.sevenRows) { _ in
            calls += 1
            if calls == 3 { throw Full() }
        }) { XCTAssertTrue($0 is Full, "\($0)") }
        XCTAssertEqual(calls, 3, "no output after the failing piece")
    }

    /// One workspace running bands out of order, overlapping and apart (what an encoding thread
    /// sees): the mosaic window must keep only rows it can reuse and re-fill the rest.
    func testBandsInAnyOrderMatchTheWholeRun() throws {
        let profile = try Self.profiles.load("neutral").applying(overrides: ["demosaic.algorithm=rcd", "highlights.mode=reconstruct"])
        let raw = Self.chart
        let plan = try RenderPlan(raw: raw, options: RenderOptions(profile: profile, threads: 1))
        let kernels = plan.chain.fusedKernels()
        let (w, h) = (plan.source.width, plan.source.height)
        let whole = OutputSink(sourceWidth: w, sourceHeight: h, orientation: .normal, depth: .sixteen)
        Executor(threads: 2).run(source: plan.source, kernels: kernels, sink: whole)
        let expected = whole.takeSamples()
        let executor = Executor(threads: 1)
        let workspace = executor.makeWorkspace(for: plan.source)
        let bands = [100 ..< 131, 3 ..< 9, 8 ..< 40, 39 ..< 41, 150 ..< 160, 0 ..< 1, 60 ..< 101, 130 ..< 150, 40 ..< 60, 0 ..< 3]
        var out = [UInt16](repeating: 0, count: 3 * w * h)
        for band in bands {
            let buffer = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: 3 * w * band.count)
            defer { buffer.deallocate() }
            let sink = OutputSink(sourceWidth: w, sourceHeight: h, orientation: .normal, depth: .sixteen, outputRows: band, into: buffer)
            executor.run(rows: band, source: plan.source, kernels: kernels, sink: sink, workspace: workspace)
            for (i, v) in buffer.enumerated() { out[3 * w * band.lowerBound + i] = v }
        }
        XCTAssertEqual(out, expected)
    }
}

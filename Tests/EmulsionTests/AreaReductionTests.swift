import EmulsionTestSupport
import XCTest
@testable import Emulsion
@testable import EmulsionCore
import EmulsionIO

/// `--max-size` (`AreaReduction` inside the streamed render): each output pixel is the mean, in
/// linear light, of the full-size render's pixels over the area it covers.
///
/// Reference: written here in Double from the definitions, not from the product's tables — the
/// box integral (each source pixel weighted by its overlap with the output pixel's rectangle, as
/// OpenCV's INTER_AREA) and the sRGB curves of IEC 61966-2-1 (§5.2 decoding, §5.3 encoding).
/// Tolerance: 1 code. The product encodes through the embedded profile's stored curve (its
/// parameters rounded to s15Fixed16) by an interpolated table, and sums in Float; each moves a
/// 16-bit code by a fraction of one, so a rounding can land on the neighbouring code (measured:
/// ~5 % of 16-bit samples, ~0.01 % of 8-bit ones, never 2). ImageMagick and numpy, outside the
/// suite, agreed with the product to the same 1 code on a Canon sample.
final class AreaReductionTests: XCTestCase {
    static var chart: RawImage { ChartReport.chartScene.raw }

    func reduced(_ raw: RawImage, _ options: RenderOptions, fit: OutputFit,
                 png: PNGEncodingOptions = PNGEncodingOptions(threads: 2)) throws -> (bytes: [UInt8], image: PNGImage) {
        var bytes: [UInt8] = []
        try PNGRender(raw, options: options, fit: fit).encode(png: png) { bytes.append(contentsOf: $0) }
        return (bytes, try PNGFile.decode(bytes))
    }

    static func decode(_ v: Double) -> Double { v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4) }
    static func encode(_ v: Double) -> Double {
        let v = min(max(v, 0), 1)
        return v <= 0.0031308 ? v * 12.92 : 1.055 * pow(v, 1 / 2.4) - 0.055
    }

    /// The box weights of an n → m reduction as a dense m × n matrix, from the definition.
    static func boxWeights(_ n: Int, _ m: Int) -> [[Double]] {
        let s = Double(n) / Double(m)
        return (0..<m).map { i in
            let a = Double(i) * s, b = Double(i + 1) * s
            var row = (0..<n).map { k in max(0, min(b, Double(k + 1)) - max(a, Double(k))) }
            let total = row.reduce(0, +)
            row = row.map { $0 / total }
            return row
        }
    }

    /// `full` (16-bit sRGB) reduced to `width` × `height` by the reference, as `bits`-bit codes.
    static func reference(_ full: PNGImage, width: Int, height: Int, bits: Int) -> [Double] {
        let wx = boxWeights(full.width, width), wy = boxWeights(full.height, height)
        let linear = full.samples.map { decode(Double($0) / 65535) }
        var rows = [Double](repeating: 0, count: height * full.width * 3)
        for j in 0..<height { for (k, w) in wy[j].enumerated() where w > 0 {
            for x in 0..<(full.width * 3) { rows[j * full.width * 3 + x] += w * linear[k * full.width * 3 + x] }
        } }
        let scale = Double((1 << bits) - 1)
        var out = [Double](repeating: 0, count: width * height * 3)
        for j in 0..<height { for i in 0..<width { for c in 0..<3 {
            var sum = 0.0
            for (k, w) in wx[i].enumerated() where w > 0 { sum += w * rows[(j * full.width + k) * 3 + c] }
            out[(j * width + i) * 3 + c] = (encode(sum) * scale).rounded()
        } } }
        return out
    }

    func testSpansIntegrateEachSourcePixelOnce() {
        for (n, m) in [(10, 3), (240, 100), (160, 159), (7, 7), (1000, 1), (6000, 2048)] {
            let spans = AreaReduction.Spans(source: n, output: m)
            var perSource = [Double](repeating: 0, count: n)
            for i in 0..<m {
                let weights = spans.weights[spans.range(i)]
                XCTAssertEqual(weights.reduce(0, +), 1, accuracy: 1e-5, "\(n)→\(m) output \(i)")
                for (k, w) in zip(spans.first[i]..., weights) { perSource[k] += Double(w) }
            }
            // Every source pixel is read, in all by exactly m/n of an output pixel.
            for k in 0..<n { XCTAssertEqual(perSource[k], Double(m) / Double(n), accuracy: 1e-5, "\(n)→\(m) source \(k)") }
        }
        XCTAssertTrue(AreaReduction.fittedSize(sourceWidth: 6000, sourceHeight: 4000, maxWidth: 2048, maxHeight: 2048) == (2048, 1365))
        XCTAssertTrue(AreaReduction.fittedSize(sourceWidth: 4000, sourceHeight: 6000, maxWidth: 1920, maxHeight: 1080) == (720, 1080))
        XCTAssertTrue(AreaReduction.fittedSize(sourceWidth: 640, sourceHeight: 480, maxWidth: 2048, maxHeight: 2048) == (640, 480))
        XCTAssertTrue(AreaReduction.fittedSize(sourceWidth: 5000, sourceHeight: 1, maxWidth: 100, maxHeight: 100) == (100, 1))
    }

    func testReductionIsTheFullRenderAveragedInLinearLight() throws {
        let raw = Self.chart
        for (fit, bits, profile) in [(try OutputFit(maxWidth: 100, maxHeight: 100), 16, "neutral"),
                                     (try OutputFit(maxWidth: 97, maxHeight: 1000), 8, "leica-authentic"),
                                     (try OutputFit(maxWidth: 239, maxHeight: 239), 16, "film-chrome")] {
            var options = RenderOptions(profile: try StreamedRenderTests.profiles.load(profile), threads: 1)
            let full = try Renderer.render(raw, options: options).pngImage
            options.depth = bits == 8 ? .eight : .sixteen
            let small = try reduced(raw, options, fit: fit).image
            let size = AreaReduction.fittedSize(sourceWidth: full.width, sourceHeight: full.height, maxWidth: fit.maxWidth, maxHeight: fit.maxHeight)
            XCTAssertTrue((small.width, small.height) == size, "\(fit)")
            XCTAssertEqual(small.bitDepth, bits)
            XCTAssertNotNil(small.iccProfile)
            let expected = Self.reference(full, width: small.width, height: small.height, bits: bits)
            let worst = zip(small.samples, expected).map { abs(Double($0) - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, 1, "\(fit) \(bits)-bit \(profile)")
        }
    }

    /// Orientation is applied before the reduction (the fitted box is the upright image's), and the
    /// engines, thread counts and PNG segment seams give the same bytes; a box the image already
    /// fits changes nothing.
    func testOrientationEnginesThreadsAndSeams() throws {
        var raw = Self.chart
        raw.metadata.orientation = .rotate90Clockwise
        let fit = try OutputFit(maxWidth: 50, maxHeight: 50)
        let reference = try reduced(raw, RenderOptions(threads: 1), fit: fit, png: PNGEncodingOptions(threads: 2))
        XCTAssertTrue(reference.image.height == 50 && reference.image.width < 50, "\(reference.image.width)×\(reference.image.height)")
        for (engine, threads, segment) in [(Engine.scalar, 1, 1 << 20), (.simd, 3, 3 * (50 * 6 + 1)), (.scalar, 2, 50 * 6 + 1)] {
            let other = try reduced(raw, RenderOptions(engine: engine, threads: 1), fit: fit,
                                    png: PNGEncodingOptions(threads: threads, segmentBytes: segment, minimumSegments: 1))
            // (Other segment sizes compress differently: the pixels are compared there.)
            XCTAssertTrue(other.image.samples == reference.image.samples, "\(engine) \(threads) threads, \(segment)-byte segments")
            if segment == 1 << 20 { XCTAssertTrue(other.bytes == reference.bytes, "\(engine) \(threads) threads") }
        }
        var unfitted: [UInt8] = []
        try PNGRender(Self.chart, options: RenderOptions(threads: 1)).encode(png: PNGEncodingOptions()) { unfitted.append(contentsOf: $0) }
        let roomy = try reduced(Self.chart, RenderOptions(threads: 1), fit: try OutputFit(maxWidth: 5000, maxHeight: 5000),
                                png: PNGEncodingOptions())
        XCTAssertTrue(roomy.bytes == unfitted)
    }

    /// Full-size rows rendered a few at a time (`ReducedBandWorker.fullRowLimit`, which bounds a
    /// large reduction's memory) give the rows the whole band at once gives, bit for bit.
    func testFullSizeRowsInPiecesGiveTheSameRows() throws {
        var options = RenderOptions(profile: try StreamedRenderTests.profiles.load("film-chrome"), threads: 1)
        options.depth = .eight
        let plan = try RenderPlan(raw: Self.chart, options: options)
        let rendering = BandRendering(plan: plan, options: options, depth: .sixteen)
        let size = AreaReduction.fittedSize(sourceWidth: plan.source.width, sourceHeight: plan.source.height, maxWidth: 37, maxHeight: 37)
        let reducing = try ReducedRendering(AreaReduction(sourceWidth: plan.source.width, sourceHeight: plan.source.height,
                                                          width: size.width, height: size.height), space: options.space, depth: .eight)
        let band = 16
        let whole = ReducedBandWorker(reducing: reducing, rendering: rendering, capacityRows: band, fullRowLimit: .max)
        let pieces = ReducedBandWorker(reducing: reducing, rendering: rendering, capacityRows: band, fullRowLimit: 1)
        XCTAssertLessThan(pieces.fullCapacity, whole.fullCapacity / 4, "the pieces are smaller than the band")
        for first in stride(from: 0, to: size.height, by: band) {
            let rows = first..<min(size.height, first + band), count = 3 * size.width * rows.count
            let a = Array(UnsafeBufferPointer(start: whole.rows(rows), count: count))
            let b = Array(UnsafeBufferPointer(start: pieces.rows(rows), count: count))
            XCTAssertTrue(a == b, "rows \(rows)")
        }
    }

    func testFitParsing() throws {
        XCTAssertEqual(try OutputFit(parsing: "2048"), try OutputFit(maxWidth: 2048, maxHeight: 2048))
        XCTAssertEqual(try OutputFit(parsing: "1920x1080"), try OutputFit(maxWidth: 1920, maxHeight: 1080))
        XCTAssertEqual(try OutputFit(parsing: "1920X1080"), try OutputFit(maxWidth: 1920, maxHeight: 1080))
        for bad in ["", "0", "-5", "x", "12x", "x12", "1x2x3", "big", "10x0"] {
            XCTAssertThrowsError(try OutputFit(parsing: bad), bad)
        }
    }
}

import EmulsionTestSupport
import Foundation
import XCTest
@testable import Emulsion
import EmulsionCore
import EmulsionIO

/// A raw stored on its side (orientations 5–8) is transposed before its source is built
/// (`RawImage.transposed`), so it renders row by row like an upright one. These tests hold the
/// transposition to its definition — every photosite keeps its sample, CFA colour, black level and
/// lens-shading gain at the transposed place, and the orientation left over turns it upright as
/// the original turned the stored image (`Orientation.indexMap`, EXIF 2.32) — and the render to
/// the upright render turned, up to the rounding of interpolations that add neighbours in
/// another order.
final class TransposedRenderTests: XCTestCase {
    /// Stored pixel (x, y) under `o` and transposed pixel (y, x) under `o.afterTransposition` land
    /// on the same output pixel, for every orientation (the residual never swaps axes when `o` does).
    func testAfterTranspositionFollowsTheIndexMaps() {
        let (w, h) = (5, 3)
        for o in Orientation.allCases {
            let t = o.afterTransposition
            XCTAssertEqual(t.swapsAxes, !o.swapsAxes, "\(o)")
            XCTAssertEqual(t.afterTransposition, o)
            let a = o.indexMap(width: w, height: h), b = t.indexMap(width: h, height: w)
            for y in 0..<h {
                for x in 0..<w {
                    XCTAssertEqual(a.start + x * a.strideX + y * a.strideY, b.start + y * b.strideX + x * b.strideY, "\(o) (\(x), \(y))")
                }
            }
        }
    }

    static func randomRaw(width w: Int, height h: Int, cfa: CFAPattern?, seed: UInt64) -> RawImage {
        var random = SplitMix64(seed: seed)
        let channels = cfa == nil ? 3 : 1
        let samples = (0..<(w * h * channels)).map { _ in UInt16(truncatingIfNeeded: random.next()) }
        let tile = (0..<6).map { Float($0 * 7 + 60) }
        var raw = RawImage(width: w, height: h, layout: cfa.map { .mosaic($0) } ?? .rgb, samples: samples,
                           levels: SensorLevels(blackTileWidth: 3, blackTileHeight: 2, blackTile: tile, white: 60000),
                           colour: CameraColour(asShotMultipliers: SIMD3(2, 1, 1.5)), metadata: ShotMetadata())
        raw.metadata.orientation = .rotate90Clockwise
        raw.metadata.pixelAspect = 0.5
        (raw.metadata.sensorWidth, raw.metadata.sensorHeight, raw.metadata.cropLeft, raw.metadata.cropTop) = (w + 8, h + 4, 6, 2)
        var maps: [GainMap] = []
        for (top, left) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            let (pv, ph, planes) = (random.below(5) + 2, random.below(7) + 2, random.below(2) + 1)
            maps.append(GainMap(top: top, left: left, bottom: h + 2, right: w + 3, plane: 0, planes: 1, rowPitch: 2, columnPitch: 2 + left,
                                pointsV: pv, pointsH: ph, spacingV: random.uniform(0.1, 0.6), spacingH: random.uniform(0.1, 0.6),
                                originV: random.uniform(-0.2, 0.2), originH: random.uniform(-0.2, 0.2), mapPlanes: planes,
                                gains: (0..<(pv * ph * planes)).map { _ in Float(random.uniform(0.8, 1.6)) }))
        }
        raw.lensShading = LensShading(maps: maps, offsetX: 1, offsetY: 2, imageWidth: w + 3, imageHeight: h + 2)
        return raw
    }

    /// Every photosite at (x, y) is found at (y, x) of the transposed raw with the same sample,
    /// CFA colour and black (exact), and the same lens-shading gain up to 4 ulps (`GainMap.gain`
    /// interpolates across, then down: transposed, the same two lines in the other order); the
    /// descriptive geometry is swapped, the pixel aspect inverted, and transposing twice gives
    /// the raw back exactly.
    func testTransposedRawKeepsEveryPhotosite() throws {
        let xtrans = CFAPattern(width: 6, height: 6, colours: (0..<36).map { UInt8(($0 * 5 + $0 / 6) % 3) })
        for (label, cfa) in [("RGGB", CFAPattern.rggb), ("GBRG", .gbrg), ("X-Trans-like 6×6", xtrans), ("3×2", CFAPattern(width: 3, height: 2, colours: [0, 1, 2, 1, 2, 0])), ("linear", nil)] as [(String, CFAPattern?)] {
            for threads in [1, 2] {
                let raw = Self.randomRaw(width: 37, height: 23, cfa: cfa, seed: 11)
                let t = raw.transposed(threads: threads)
                XCTAssertEqual([t.width, t.height], [raw.height, raw.width], label)
                XCTAssertEqual(t.metadata.orientation, .mirrorHorizontal, label)
                XCTAssertEqual(t.metadata.pixelAspect, 2, label)
                XCTAssertEqual([t.metadata.sensorWidth, t.metadata.sensorHeight, t.metadata.cropLeft, t.metadata.cropTop],
                               [raw.metadata.sensorHeight, raw.metadata.sensorWidth, raw.metadata.cropTop, raw.metadata.cropLeft], label)
                let channels = cfa == nil ? 3 : 1
                let a = try XCTUnwrap(raw.lensShading), b = try XCTUnwrap(t.lensShading)
                for y in 0..<raw.height {
                    for x in 0..<raw.width {
                        for c in 0..<channels {
                            XCTAssertEqual(t.samples[(x * t.width + y) * channels + c], raw.samples[(y * raw.width + x) * channels + c], label)
                        }
                        if let cfa { XCTAssertEqual(t.cfa!.colour(row: x, column: y), cfa.colour(row: y, column: x), label) }
                        XCTAssertEqual(t.levels.black(row: x, column: y), raw.levels.black(row: y, column: x), label)
                        for (m, n) in zip(a.maps, b.maps) {
                            let (row, column) = (y + a.offsetY, x + a.offsetX)
                            let covers = row >= m.top && row < m.bottom && (row - m.top) % m.rowPitch == 0
                                && column >= m.left && column < m.right && (column - m.left) % m.columnPitch == 0
                            let coversTransposed = column >= n.top && column < n.bottom && (column - n.top) % n.rowPitch == 0
                                && row >= n.left && row < n.right && (row - n.left) % n.columnPitch == 0
                            XCTAssertEqual(covers, coversTransposed, label)
                            let g = m.gain(row: row, column: column, imageWidth: a.imageWidth, imageHeight: a.imageHeight)
                            let gt = n.gain(row: column, column: row, imageWidth: b.imageWidth, imageHeight: b.imageHeight)
                            XCTAssertEqual(gt, g, accuracy: 4 * g.ulp, "\(label) gain at (\(x), \(y))")
                        }
                    }
                }
                let back = t.transposed(threads: threads)
                XCTAssertEqual(back.samples, raw.samples, label)
                XCTAssertEqual(back.cfa, raw.cfa, label)
                XCTAssertEqual(back.levels, raw.levels, label)
                XCTAssertEqual(back.metadata, raw.metadata, label)
                XCTAssertEqual(back.lensShading?.maps, raw.lensShading?.maps, label)
            }
        }
    }

    /// Sizes past the 8 × 8 blocks' edges and large enough for two threads and for mapping the
    /// output's pages ahead (`MemoryAdvice.populate`, from 1 MiB a thread): the copy against its
    /// definition, sample by sample.
    func testLargeTranspositionMatchesItsDefinition() {
        var random = SplitMix64(seed: 5)
        for (w, h, channels) in [(2053, 1027, 1), (1030, 517, 3)] {
            let samples = (0..<(w * h * channels)).map { _ in UInt16(truncatingIfNeeded: random.next()) }
            let out = RawTransposition.transpose(samples, width: w, height: h, channels: channels, threads: 2)
            var wrong = 0
            for y in 0..<h {
                for x in 0..<w {
                    for c in 0..<channels where out[(x * h + y) * channels + c] != samples[(y * w + x) * channels + c] { wrong += 1 }
                }
            }
            XCTAssertEqual(wrong, 0, "\(w)×\(h)×\(channels)")
        }
        XCTAssertEqual(RawTransposition.transpose([], width: 0, height: 5, channels: 1, threads: 2), [])
    }

    /// The largest difference, in 16-bit codes, between `turned` and `upright` put through
    /// `orientation` pixel by pixel.
    func largestDifference(_ turned: RenderedImage, _ upright: RenderedImage, _ orientation: Orientation) -> Int {
        let map = orientation.indexMap(width: upright.width, height: upright.height)
        XCTAssertEqual([turned.width, turned.height], orientation.swapsAxes ? [upright.height, upright.width] : [upright.width, upright.height])
        var worst = 0
        for y in 0..<upright.height {
            for x in 0..<upright.width {
                let o = map.start + x * map.strideX + y * map.strideY, i = y * upright.width + x
                for c in 0..<3 { worst = max(worst, abs(Int(turned.samples[3 * o + c]) - Int(upright.samples[3 * i + c]))) }
            }
        }
        return worst
    }

    /// The chart scene stored on its side renders as its upright render turned, for each quarter
    /// turn and each demosaic. The bound, 2 codes of 65 535: the demosaics add neighbours in
    /// another order across the transposed mosaic (a few ulps of the linear value), which the
    /// tone curve and the output encoding's steep parts (sRGB's 12.92× slope near black, the
    /// filmic toe) can carry across one code boundary, and RCD's direction weights are ratios of
    /// such sums. Measured at most 1 code when written; the image turned any other way differs
    /// by thousands.
    func testQuarterTurnsRenderTheUprightImageTurned() throws {
        let loader = ProfileLoader(searchDirectories: [TestSupport.repositoryRoot.appendingPathComponent("Profiles")])
        let chart = ChartReport.chartScene.raw
        for algorithm in ["bilinear", "malvar", "rcd"] {
            let profile = try loader.load("leica-authentic").applying(overrides: ["demosaic.algorithm=\(algorithm)"])
            let options = RenderOptions(profile: profile, threads: 2)
            let upright = try Renderer.render(chart, options: options)
            for o in [Orientation.rotate90Clockwise, .rotate90CounterClockwise, .transpose, .transverse] {
                var raw = chart
                raw.metadata.orientation = o
                let worst = largestDifference(try Renderer.render(raw, options: options), upright, o)
                XCTAssertLessThanOrEqual(worst, 2, "\(algorithm), \(o)")
            }
        }
        // Photosites twice as tall as wide (a Nikon D1X on its side): the upright render stretches
        // rows, the transposed one columns, at the same positions (y · 0.5 and x / 2).
        var tall = chart
        tall.metadata.pixelAspect = 0.5
        let options = RenderOptions(threads: 2)
        let upright = try Renderer.render(tall, options: options)
        tall.metadata.orientation = .rotate90Clockwise
        XCTAssertLessThanOrEqual(largestDifference(try Renderer.render(tall, options: options), upright, .rotate90Clockwise), 2,
                                 "pixel aspect 0.5")
    }

    /// The Pixel 7 crop (stored on its side, orientation 8, with four lens-shading gain maps)
    /// against the same raw marked upright and its render turned: the gain maps must follow the
    /// photosites. Same bound and reason as above; the gains themselves differ by ≤ 4 ulps.
    func testPixelSampleOnItsSideMatchesItsUprightRenderTurned() throws {
        guard let sample = TestSupport.samples().first(where: { $0.name.contains("pixel_7") }) else {
            if TestSupport.inCI { XCTFail("missing the Pixel 7 sample") }
            throw XCTSkip("missing the Pixel 7 sample")
        }
        let raw = try RawFile.read(path: sample.url.path)
        XCTAssertEqual(raw.metadata.orientation, .rotate90CounterClockwise)
        XCTAssertNotNil(raw.lensShading)
        var upright = raw
        upright.metadata.orientation = .normal
        let options = RenderOptions(threads: 2)
        let worst = largestDifference(try Renderer.render(raw, options: options), try Renderer.render(upright, options: options),
                                      .rotate90CounterClockwise)
        XCTAssertLessThanOrEqual(worst, 2)
    }
}

import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// Lens distortion correction from DNG WarpRectilinear (`LensWarp`, `LensWarpSource`).
///
/// References: the DNG 1.6 specification's WarpRectilinear (chapter 7, opcode 1) for where a
/// corrected pixel reads the source — written out again here, from the text, for the ramp test;
/// Keys (1981), "Cubic convolution interpolation for digital image processing", for the kernel's
/// weights at A = −0.75 (the DNG SDK's dng_resample_bicubic); ImageMagick's `-distort Barrel`, an
/// independent implementation of the radial model (Rsrc = r·(A r³ + B r² + C r + D), r over half
/// the smaller side, the centre at pixel centres, x + 0.5), for the geometry; and the renders
/// themselves for what must not change (strips, threads, orientation, the file round trip).
/// Tolerances: against the specification's positions and Keys' kernel evaluated here, float
/// rounding (1e-6 of full scale). Against ImageMagick, which interpolates bilinearly (exact on a
/// ramp) at exact positions: the ramp's slope times what separates the two — the SDK's 1/32-pixel
/// phase step, and the A = −0.75 cubic's own bias on a ramp (it reproduces a linear function only
/// at A = −0.5: up to 0.047 pixel at quarter phases) — plus one 16-bit code for each side.
final class LensWarpTests: OutputFileTestCase {
    /// Three ramps in integer DN (R, G, B), so the source holds them without rounding.
    static let (width, height) = (160, 120)
    static func ramp(_ c: Int, _ x: Double, _ y: Double) -> Double {
        [1000 + 150 * x + 100 * y, 30000 - 100 * x + 80 * y, 5000 + 60 * x + 200 * y][c]
    }

    static func rampSource(width: Int = width, height: Int = height) -> RGBSource {
        var samples = [UInt16](repeating: 0, count: 3 * width * height)
        for y in 0..<height { for x in 0..<width { for c in 0..<3 {
            samples[3 * (y * width + x) + c] = UInt16(ramp(c, Double(x), Double(y)))
        } } }
        return RGBSource(raw: samples, width: width, height: height,
                         channels: RawNormalisation.forRGB(levels: SensorLevels(black: 0, white: 65535), multipliers: .one))
    }

    /// A warp strong enough to move the corners by several pixels, off-centre, with every
    /// coefficient in play, and a visible frame that starts inside the area it is defined on.
    static let threePlanes = LensWarp(planes: [.init(radial: [0.97, 0.05, -0.02, 0.01], tangentialX: 0.004, tangentialY: -0.003),
                                               .init(radial: [0.98, 0.05, -0.02, 0.01], tangentialX: 0.004, tangentialY: -0.003),
                                               .init(radial: [0.99, 0.04, -0.01, 0.02], tangentialX: -0.002, tangentialY: 0.005)],
                                      centreX: 0.45, centreY: 0.55, imageWidth: width + 10, imageHeight: height + 6, offsetX: 4, offsetY: 3)!

    /// Keys' cubic convolution kernel, A = −0.75.
    static func keys(_ t: Double) -> Double {
        let a = -0.75, x = abs(t)
        return x >= 2 ? 0 : x >= 1 ? a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a : (a + 2) * x * x * x - (a + 3) * x * x + 1
    }

    /// The 4 × 4 cubic convolution of `value` around (x, y), at the SDK's phase (truncated to
    /// 32nds) of the position snapped to 2⁻²⁰ pixel — Emulsion's one departure from the SDK
    /// (`LensWarpSource.inFrame`: a pixel the warp leaves in place, x − 10⁻¹⁵, is read at phase
    /// 0): a position within 2⁻²¹ below a phase boundary is read at the next phase.
    static func convolved(_ value: (Double, Double) -> Double, x: Double, y: Double) -> Double {
        let (x, y) = ((x * 0x1p20).rounded() / 0x1p20, (y * 0x1p20).rounded() / 0x1p20)
        let x0 = x.rounded(.down), y0 = y.rounded(.down)
        let fx = ((x - x0) * 32).rounded(.down) / 32, fy = ((y - y0) * 32).rounded(.down) / 32
        var total = 0.0
        for j in -1...2 { for i in -1...2 {
            total += keys(Double(i) - fx) * keys(Double(j) - fy) * value(x0 + Double(i), y0 + Double(j))
        } }
        return total
    }

    /// Largest distance, over the 32 phases, between where the cubic reads a ramp and the phase.
    static var rampBias: Double {
        (0..<32).map { k in
            let f = Double(k) / 32
            return abs((-1...2).map { Double($0) * keys(Double($0) - f) }.reduce(0, +) - f)
        }.max()!
    }

    func testTheKernelIsKeysCubicAtAMinusThreeQuarters() {
        XCTAssertEqual(LensWarpSource.weights[0], SIMD4(0, 1, 0, 0), "phase 0 copies the pixel exactly")
        // Keys' kernel at distances 1.5 and 0.5 with A = −0.75: −0.09375 and 0.59375.
        let half = LensWarpSource.weights[16]
        for (w, expected) in zip([half[0], half[1], half[2], half[3]], [-0.09375, 0.59375, 0.59375, -0.09375] as [Float]) {
            XCTAssertEqual(w, expected, accuracy: 1e-7)
        }
        for w in LensWarpSource.weights { XCTAssertEqual(w.sum(), 1, accuracy: 1e-6) }
    }

    /// Every interior pixel of three ramps holds Keys' convolution at the position the
    /// specification gives, taken at the SDK's 1/32-pixel phase: radial and tangential terms,
    /// three planes, the centre relative to the area, the frame's offset within it.
    func testRampsAreReadWhereTheSpecificationPutsEachPixel() throws {
        let warp = Self.threePlanes
        let out = TestSupport.renderSource(LensWarpSource(inner: Self.rampSource(), mapping: warp.mapping(pixelAspect: 1)))
        // DNG 1.6, WarpRectilinear: centre (cx·W, cy·H) of the area; m the distance to its farthest corner.
        let (aw, ah) = (Double(warp.imageWidth), Double(warp.imageHeight))
        let cx = warp.centreX * aw, cy = warp.centreY * ah
        let m = [(0.0, 0.0), (aw, 0), (0, ah), (aw, ah)].map { ((($0.0 - cx) * ($0.0 - cx) + ($0.1 - cy) * ($0.1 - cy))).squareRoot() }.max()!
        var checked = 0, moved = 0.0
        for y in 0..<Self.height { for x in 0..<Self.width { for c in 0..<3 {
            let k = warp.planes[c]
            let dx = (Double(x + warp.offsetX) - cx) / m, dy = (Double(y + warp.offsetY) - cy) / m
            let r2 = dx * dx + dy * dy
            let f = k.radial[0] + k.radial[1] * r2 + k.radial[2] * r2 * r2 + k.radial[3] * r2 * r2 * r2
            // kt0 (tangentialY) and kt1 (tangentialX) as the specification writes them.
            let sx = cx + m * (f * dx + k.tangentialY * 2 * dx * dy + k.tangentialX * (r2 + 2 * dx * dx)) - Double(warp.offsetX)
            let sy = cy + m * (f * dy + k.tangentialX * 2 * dx * dy + k.tangentialY * (r2 + 2 * dy * dy)) - Double(warp.offsetY)
            guard sx >= 1, sx < Double(Self.width - 3), sy >= 1, sy < Double(Self.height - 3) else { continue }
            let expected = Self.convolved({ Self.ramp(c, $0, $1) }, x: sx, y: sy) / 65535
            XCTAssertEqual(Double(out[3 * (y * Self.width + x) + c]), expected, accuracy: 1e-6, "(\(x), \(y)) plane \(c)")
            moved = max(moved, abs(sx - Double(x)) + abs(sy - Double(y)))
            checked += 1
        } } }
        XCTAssertGreaterThan(checked, Self.width * Self.height * 3 * 3 / 4)
        XCTAssertGreaterThan(moved, 3, "the warp moves pixels by several pixels")
        if let folder = ProcessInfo.processInfo.environment["EMULSION_WARP_EXPORT"] {
            try export(warp, source: Self.rampSource().raw, warped: out, to: URL(fileURLWithPath: folder))
        }
    }

    /// WarpRectilinear2 (DNG 1.6, opcode 14) on the same ramps: the ratio a polynomial in r of 15
    /// terms — odd powers and r¹⁴ in play — or its reciprocal, r² first clamped at 1 and then pinned
    /// to the valid radius range (0.2 … 0.8 here, so both pins act), as the SDK's EvaluateRatio
    /// does; the tangential terms on the r² clamped at 1 only. The specification's position is
    /// written out again here, Keys' convolution at its 1/32 phase; 1e-6.
    func testWarpRectilinear2IsReadWhereTheSpecificationPutsEachPixel() throws {
        for reciprocal in [false, true] {
            var terms = [Double](repeating: 0, count: 15)
            (terms[0], terms[1], terms[2], terms[3], terms[14]) = reciprocal ? (1.02, -0.03, -0.05, 0.02, 0.01) : (0.97, 0.03, 0.05, -0.02, 0.01)
            let general = LensWarp.Coefficients.General(terms: terms, minimumRadius: 0.2, maximumRadius: 0.8, reciprocal: reciprocal)
            let warp = try XCTUnwrap(LensWarp(planes: [.init(general: general, tangentialX: 0.004, tangentialY: -0.003)],
                                              centreX: 0.45, centreY: 0.55, imageWidth: Self.width + 10, imageHeight: Self.height + 6,
                                              offsetX: 4, offsetY: 3))
            XCTAssertTrue(warp.isGeneral)
            let out = TestSupport.renderSource(LensWarpSource(inner: Self.rampSource(), mapping: warp.mapping(pixelAspect: 1)))
            let (aw, ah) = (Double(warp.imageWidth), Double(warp.imageHeight))
            let cx = warp.centreX * aw, cy = warp.centreY * ah
            let m = [(0.0, 0.0), (aw, 0), (0, ah), (aw, ah)].map { ((($0.0 - cx) * ($0.0 - cx) + ($0.1 - cy) * ($0.1 - cy))).squareRoot() }.max()!
            var checked = 0, pinned = (low: 0, high: 0)
            for y in 0..<Self.height { for x in 0..<Self.width {
                let dx = (Double(x + warp.offsetX) - cx) / m, dy = (Double(y + warp.offsetY) - cy) / m
                let r2 = min(dx * dx + dy * dy, 1)
                let r = min(max(r2, 0.04), 0.64).squareRoot()
                if r2 < 0.04 { pinned.low += 1 } else if r2 > 0.64 { pinned.high += 1 }
                let poly = terms.enumerated().map { $0.element * pow(r, Double($0.offset)) }.reduce(0, +)
                let f = reciprocal ? 1 / poly : poly
                let sx = cx + m * (f * dx + -0.003 * 2 * dx * dy + 0.004 * (r2 + 2 * dx * dx)) - Double(warp.offsetX)
                let sy = cy + m * (f * dy + 0.004 * 2 * dx * dy + -0.003 * (r2 + 2 * dy * dy)) - Double(warp.offsetY)
                guard sx >= 1, sx < Double(Self.width - 3), sy >= 1, sy < Double(Self.height - 3) else { continue }
                for c in 0..<3 {
                    let expected = Self.convolved({ Self.ramp(c, $0, $1) }, x: sx, y: sy) / 65535
                    XCTAssertEqual(Double(out[3 * (y * Self.width + x) + c]), expected, accuracy: 1e-6, "(\(x), \(y)) plane \(c)")
                }
                checked += 1
            } }
            XCTAssertGreaterThan(checked, Self.width * Self.height * 3 / 4, "reciprocal \(reciprocal)")
            XCTAssertGreaterThan(pinned.low, 50, "the valid range's lower pin is in play")
            XCTAssertGreaterThan(pinned.high, 50, "the valid range's upper pin is in play")
        }
        // WarpRectilinear written as WarpRectilinear2 (kr0…kr3 on r⁰, r², r⁴, r⁶; the full range)
        // reads the same positions, to rounding: the same render within 1e-6.
        let k = Self.threePlanes.planes[0]
        var terms = [Double](repeating: 0, count: 15)
        (terms[0], terms[2], terms[4], terms[6]) = (k.radial[0], k.radial[1], k.radial[2], k.radial[3])
        let first = LensWarp(planes: [k], centreX: 0.45, centreY: 0.55, imageWidth: Self.width, imageHeight: Self.height)!
        let second = LensWarp(planes: [.init(general: .init(terms: terms), tangentialX: k.tangentialX, tangentialY: k.tangentialY)],
                              centreX: 0.45, centreY: 0.55, imageWidth: Self.width, imageHeight: Self.height)!
        let a = TestSupport.renderSource(LensWarpSource(inner: Self.rampSource(), mapping: first.mapping(pixelAspect: 1)))
        let b = TestSupport.renderSource(LensWarpSource(inner: Self.rampSource(), mapping: second.mapping(pixelAspect: 1)))
        XCTAssertLessThanOrEqual(zip(a, b).map { abs($0 - $1) }.max()!, 1e-6)
    }

    /// What Tests/Tools/warp_oracle.py compares with OpenCV: the source, our warp of it and the warp.
    func export(_ warp: LensWarp, source: [UInt16], warped: [Float], to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try writePNM(source, width: Self.width, height: Self.height, channels: 3, to: folder.appendingPathComponent("input.ppm").path)
        try writePNM(warped.map { UInt16(min(max($0 * 65535, 0), 65535).rounded()) }, width: Self.width, height: Self.height, channels: 3,
                     to: folder.appendingPathComponent("ours.ppm").path)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try encoder.encode(warp).write(to: folder.appendingPathComponent("warp.json"))
    }

    /// A 16-bit binary PGM (P5, one channel) or PPM (P6, three), big-endian samples, as
    /// ImageMagick and OpenCV read them exactly; `TestSupport.readPNM` reads them back.
    func writePNM(_ values: [UInt16], width: Int, height: Int, channels: Int, to path: String) throws {
        var bytes = Array("\(channels == 3 ? "P6" : "P5")\n\(width) \(height)\n65535\n".utf8)
        for v in values { bytes += [UInt8(v >> 8), UInt8(v & 0xFF)] }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// ImageMagick's barrel distortion of the same ramp agrees with ours to the phase step: an
    /// independent reading of the radial model's centre, normalisation and direction.
    func testImageMagickBarrelAgrees() throws {
        let convert = try tool("convert")
        let (w, h) = (Self.width, Self.height)
        let warp = LensWarp(planes: [.init(radial: [0.8, 0.07, 0, 0])], centreX: 0.42, centreY: 0.57, imageWidth: w, imageHeight: h)!
        let grey = (0..<(w * h)).map { UInt16(Self.ramp(0, Double($0 % w), Double($0 / w))) }
        let input = dir.appendingPathComponent("ramp.pgm").path, output = dir.appendingPathComponent("barrel.pgm").path
        try writePNM(grey, width: w, height: h, channels: 1, to: input)
        // Ours normalises by the farthest corner, ImageMagick by half the smaller side.
        let cx = warp.centreX * Double(w), cy = warp.centreY * Double(h)
        let m = [(0.0, 0.0), (Double(w), 0), (0, Double(h)), (Double(w), Double(h))]
            .map { (($0.0 - cx) * ($0.0 - cx) + ($0.1 - cy) * ($0.1 - cy)).squareRoot() }.max()!
        let half = Double(min(w, h)) / 2
        let b = warp.planes[0].radial[1] * (half / m) * (half / m)
        let r = try TestSupport.run(convert, [input, "-virtual-pixel", "edge", "-filter", "point", "-interpolate", "bilinear",
                                              "-distort", "Barrel", "0 \(b) 0 \(warp.planes[0].radial[0]) \(cx + 0.5) \(cy + 0.5)",
                                              "-depth", "16", output])
        XCTAssertEqual(r.status, 0, r.stderr)
        let pgm = try TestSupport.readPNM(URL(fileURLWithPath: output))
        XCTAssertEqual([pgm.width, pgm.height, pgm.channels, pgm.maxValue], [w, h, 1, 65535])
        let theirs = pgm.samples
        let ours = TestSupport.renderSource(LensWarpSource(inner: Self.rampSource(), mapping: warp.mapping(pixelAspect: 1)))
        // Slopes of 150 and 100 DN per pixel.
        let tolerance = 250 * (1.0 / 32 + Self.rampBias) + 2
        var worst = 0.0, unwarped = 0.0
        for y in 6..<(h - 6) { for x in 6..<(w - 6) {
            let i = y * w + x
            worst = max(worst, abs(Double(ours[3 * i]) * 65535 - Double(theirs[i])))
            unwarped = max(unwarped, abs(Double(grey[i]) - Double(theirs[i])))
        } }
        XCTAssertLessThanOrEqual(worst, tolerance, "ImageMagick's barrel vs ours, in 16-bit codes")
        XCTAssertGreaterThan(unwarped, 50 * tolerance, "the warp moves the ramp far more than the tolerance")
    }

    /// Coefficients that move nothing give the source bit for bit; strips of any height give the
    /// same bits (each strip fetches the rows its pixels reach, even under a strong barrel).
    func testStripsAndIdentity() {
        let source = Self.rampSource()
        let identity = LensWarp(planes: [.identity], centreX: 0.3, centreY: 0.8, imageWidth: Self.width, imageHeight: Self.height)!
        XCTAssertTrue(TestSupport.renderSource(LensWarpSource(inner: source, mapping: identity.mapping(pixelAspect: 1)))
                      == TestSupport.renderSource(source), "identity")
        let strong = LensWarp(planes: [.init(radial: [0.8, 0.3, -0.1, 0.05], tangentialX: 0.01, tangentialY: -0.02)],
                              centreX: 0.5, centreY: 0.3, imageWidth: Self.width, imageHeight: Self.height)!
        let warped = LensWarpSource(inner: source, mapping: strong.mapping(pixelAspect: 1))
        let reference = TestSupport.renderSource(warped, stripRows: Self.height)
        for rows in [1, 2, 5, 16, 64] {
            XCTAssertTrue(TestSupport.renderSource(warped, stripRows: rows) == reference, "\(rows)-row strips")
        }
        XCTAssertTrue(TestSupport.renderSource(warped, engine: .scalar, stripRows: 7) == reference, "scalar engine")
    }

    /// Coefficients a damaged file may hold — finite, so the reader takes them, but overflowing
    /// to ±∞ or not a number once multiplied, or moving every pixel off the frame — render without
    /// trapping (positions are clamped, a non-number reads the first pixel) and give finite,
    /// non-negative values; so do frames of one row or one column.
    func testHostileCoefficientsNeverTrap() {
        let hostile: [LensWarp.Coefficients] = [
            .init(radial: [1e300, 1e300, -1e300, 1e300], tangentialX: 1e300, tangentialY: -1e300),
            .init(radial: [-1e308, 0, 0, 0]), .init(radial: [0, 0, 0, 0]), .init(radial: [1, 0, 0, 0], tangentialX: -1e200),
            .init(radial: [.leastNonzeroMagnitude, .greatestFiniteMagnitude, 0, 0]),
        ]
        // WarpRectilinear2's: a reciprocal of zero (∞), terms that overflow in r¹⁴, a valid range
        // of one tiny slice.
        let zero = [Double](repeating: 0, count: 15), huge = [Double](repeating: 1e300, count: 15)
        let hostile2: [LensWarp.Coefficients] = [
            .init(general: .init(terms: zero, reciprocal: true)), .init(general: .init(terms: huge, reciprocal: false), tangentialX: 1e300),
            .init(general: .init(terms: huge.map { -$0 }, minimumRadius: 0.5, maximumRadius: 0.5 + 1e-15, reciprocal: true)),
        ]
        for (w, h) in [(Self.width, Self.height), (1, 9), (9, 1), (1, 1)] {
            let source = Self.rampSource(width: w, height: h)
            for planes in hostile.map({ [$0, .identity, $0] }) + hostile2.map({ [$0, $0, $0] }) {
                for (cx, cy, offset) in [(0.0, 1.0, 0), (1.0, 0.0, -1_000_000), (0.5, 0.5, 1_000_000)] {
                    let k = planes[0]
                    let warp = LensWarp(planes: planes, centreX: cx, centreY: cy, imageWidth: w, imageHeight: h,
                                        offsetX: offset, offsetY: -offset)!
                    for pixelAspect in [1.0, 0.5, .nan] {
                        let out = TestSupport.renderSource(LensWarpSource(inner: source, mapping: warp.mapping(pixelAspect: pixelAspect)), stripRows: 3)
                        XCTAssertTrue(out.allSatisfy { $0.isFinite && $0 >= 0 }, "\(w)×\(h) \(k)")
                    }
                }
            }
        }
    }

    /// A textured linear raw with the three-plane warp, rendered in every orientation: each
    /// upright render is the normal one turned (a raw stored on its side is transposed before
    /// its warp, which must then swap its centre, area, offsets and tangential terms). Bound: one
    /// 16-bit code, the 4 × 4 taps being summed in the other order.
    func testEveryOrientationIsTheNormalRenderTurned() throws {
        let (w, h) = (Self.width, Self.height)
        var raw = texturedLinearRaw(width: w, height: h)
        raw.lensWarp = Self.threePlanes
        let options = RenderOptions(profile: try Profile.defaults.applying(overrides: ["crop.dngDefault=false"]), threads: 2)
        let normal = try Renderer.render(raw, options: options)
        var off = raw
        off.lensWarp = nil
        XCTAssertFalse(try Renderer.render(off, options: options).samples == normal.samples, "the warp changes the render")
        for orientation in Orientation.allCases where orientation != .normal {
            raw.metadata.orientation = orientation
            let turned = try Renderer.render(raw, options: options)
            XCTAssertLessThanOrEqual(worstDifference(turned, normal, orientation, width: w, height: h), 1, "\(orientation)")
        }
    }

    /// A DNG written with the warp in OpcodeList3 reads back with it; `info` says it is applied;
    /// the render applies it, and `opcodes.warp=false` renders as the raw without one.
    func testTheWarpTravelsThroughADNG() throws {
        var raw = ChartReport.chartScene.raw
        for planes in [[Self.threePlanes.planes[0]], Self.threePlanes.planes] {
            raw.lensWarp = LensWarp(planes: planes, centreX: 0.45, centreY: 0.55, imageWidth: raw.width, imageHeight: raw.height)
            let path = dir.appendingPathComponent("warp\(planes.count).dng")
            try DNGWriter.write(raw, to: path)
            let back = try RawFile.read(path: path.path)
            XCTAssertEqual(back.lensWarp, raw.lensWarp, "\(planes.count) planes")
            let what = planes.count == 3 ? "lens distortion and lateral chromatic aberration" : "lens distortion"
            XCTAssertEqual(back.metadata.opcodes, ["OpcodeList3: WarpRectilinear — applied (\(what); opcodes.warp=false to skip)"])
            let options = RenderOptions(threads: 2)
            let skipped = RenderOptions(profile: try Profile.defaults.applying(overrides: ["opcodes.warp=false"]), threads: 2)
            var plain = back
            plain.lensWarp = nil
            let without = try Renderer.render(plain, options: options).samples
            XCTAssertTrue(try Renderer.render(back, options: skipped).samples == without, "opcodes.warp=false")
            XCTAssertFalse(try Renderer.render(back, options: options).samples == without, "applied")
        }
        // WarpRectilinear2, three planes, the reciprocal model, a valid range.
        var terms = [Double](repeating: 0, count: 15)
        (terms[0], terms[1], terms[3], terms[14]) = (1.01, -0.02, 0.03, 0.005)
        let general = LensWarp.Coefficients.General(terms: terms, minimumRadius: 0.05, maximumRadius: 0.95, reciprocal: true)
        raw.lensWarp = LensWarp(planes: [.init(general: general, tangentialX: 1e-3), .init(general: general), .init(general: general, tangentialY: 2e-3)],
                                centreX: 0.45, centreY: 0.55, imageWidth: raw.width, imageHeight: raw.height)
        let second = dir.appendingPathComponent("warp2.dng")
        try DNGWriter.write(raw, to: second)
        let secondBack = try RawFile.read(path: second.path)
        XCTAssertEqual(secondBack.lensWarp, raw.lensWarp, "WarpRectilinear2")
        XCTAssertEqual(secondBack.metadata.opcodes,
                       ["OpcodeList3: WarpRectilinear2 — applied (lens distortion and lateral chromatic aberration; opcodes.warp=false to skip)"])
        // Coefficients that move nothing are not applied (and said so).
        raw.lensWarp = LensWarp(planes: [.identity], centreX: 0.5, centreY: 0.5, imageWidth: raw.width, imageHeight: raw.height)
        let path = dir.appendingPathComponent("identity.dng")
        try DNGWriter.write(raw, to: path)
        let back = try RawFile.read(path: path.path)
        XCTAssertNil(back.lensWarp)
        XCTAssertEqual(back.metadata.opcodes, ["OpcodeList3: WarpRectilinear — ignored (optional)"])
    }

    /// The Pixel 7's OpcodeList3 WarpRectilinear is applied: `info` says so, the render keeps
    /// its size and changes, and the decode worker carries the warp.
    func testThePixelsWarpIsApplied() throws {
        guard let pixel = TestSupport.rawSamples().first(where: { $0.name.hasPrefix("google-pixel_7") }) else {
            if TestSupport.inCI { XCTFail("Pixel 7 sample missing") }
            throw XCTSkip("samples missing")
        }
        let info = try emulsion(["info", pixel.url.path])
        XCTAssertTrue(info.stdout.contains("OpcodeList3: WarpRectilinear — applied (lens distortion; opcodes.warp=false to skip)"), info.stdout)
        let raw = try RawFile.read(path: pixel.url.path)
        let warp = try XCTUnwrap(raw.lensWarp)
        XCTAssertEqual(warp.planes.count, 1)
        XCTAssertEqual(warp.planes[0].radial[0], 0.992, accuracy: 0.001, "a slight magnification, as the phone's own JPEG has")
        let on = dir.appendingPathComponent("on.png").path, off = dir.appendingPathComponent("off.png").path
        XCTAssertEqual(try emulsion(["process", pixel.url.path, "-o", on]).status, 0)
        XCTAssertEqual(try emulsion(["process", pixel.url.path, "--set", "opcodes.warp=false", "-o", off]).status, 0)
        let a = try PNGFile.read(path: on), b = try PNGFile.read(path: off)
        XCTAssertEqual([a.width, a.height], [366, 494])
        XCTAssertEqual([a.width, a.height], [b.width, b.height])
        XCTAssertFalse(a.samples == b.samples)
    }
}

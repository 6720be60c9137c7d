import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The shipped looks end to end: every profile renders every sample; looks are distinct on the
/// synthetic chart; both engines agree on every look; grain repeats; and a look's exported
/// `.cube` reproduces the look through an independent program (ffmpeg's lut3d) and through
/// Emulsion's own import. Renders are small (the 240×160 synthetic chart, samples reduced to
/// 64 px) because debug builds run the generic kernels slowly.
final class LooksTests: XCTestCase {
    static let profilesDirectory = TestSupport.repositoryRoot.appendingPathComponent("Profiles")
    static var loader: ProfileLoader { ProfileLoader(searchDirectories: [profilesDirectory]) }
    static var names: [String] { loader.availableNames() }
    /// The position-dependent stages turned off: what a LUT can hold.
    static let spatialOff = ["localContrast.amount=0", "vignette.amount=0", "grain.amount=0"]
    static var chart: RawImage { ChartReport.chartScene.raw }

    nonisolated(unsafe) static var colourOnlyRenders: [String: RenderedImage] = [:]

    /// The look with its spatial stages off, rendered to 16-bit sRGB (cached across tests).
    static func colourOnly(_ name: String) throws -> RenderedImage {
        if let r = colourOnlyRenders[name] { return r }
        let profile = try loader.load(name).applying(overrides: spatialOff)
        let r = try Renderer.render(chart, options: RenderOptions(profile: profile, space: .sRGB, threads: 1))
        colourOnlyRenders[name] = r
        return r
    }

    /// Mean CIEDE2000 over all pixels of two 16-bit renders in the same space.
    static func meanDeltaE(_ a: [UInt16], _ b: [UInt16], space: OutputSpace = .sRGB) throws -> (mean: Double, max: Double) {
        precondition(a.count == b.count)
        let toLab = try EncodedToLab(space)
        var sum = 0.0, worst = 0.0
        let n = a.count / 3
        for i in 0..<n {
            let x = SIMD3(Double(a[3 * i]), Double(a[3 * i + 1]), Double(a[3 * i + 2])) / 65535
            let y = SIMD3(Double(b[3 * i]), Double(b[3 * i + 1]), Double(b[3 * i + 2])) / 65535
            let d = toLab.lab(fromEncoded: x).deltaE2000(to: toLab.lab(fromEncoded: y))
            sum += d; worst = max(worst, d)
        }
        return (sum / Double(n), worst)
    }

    func requireTool(_ name: String) throws -> String {
        if let path = TestSupport.which(name) { return path }
        if TestSupport.inCI { XCTFail("\(name) is required in CI (.ci/setup --tests installs it)") }
        throw XCTSkip("\(name) not installed")
    }

    func testEveryProfileRendersEverySample() throws {
        let samples = TestSupport.rawSamples()
        if samples.isEmpty {
            if TestSupport.inCI { XCTFail("no raw samples found at \(TestSupport.samplesDirectory.path)") }
            throw XCTSkip("no raw samples")
        }
        let profiles = try Self.names.map { try Self.loader.load($0) }
        XCTAssertGreaterThanOrEqual(profiles.count, 8)
        for sample in samples {
            let raw: RawImage
            do { raw = try RawFile.read(path: sample.url.path) } catch {
                XCTFail("\(sample.name): \(error)"); continue
            }
            let small = Preview.downscaled(raw, maxSide: 64)
            for profile in profiles {
                let image = try Renderer.render(small, options: RenderOptions(profile: profile, threads: 1))
                XCTAssertGreaterThan(image.width * image.height, 0, "\(sample.name) × \(profile.name)")
                XCTAssertEqual(image.samples.count, 3 * image.width * image.height)
            }
        }
    }

    /// Issue 5: between any two looks the mean ΔE2000 over the 24 chart patches is at least 3
    /// (leica-monochrome included: against colour looks it is trivially far larger).
    func testLooksAreDistinctOnTheSyntheticChart() throws {
        let names = Self.names
        var labs: [String: [CIELab]] = [:]
        for name in names { labs[name] = try ChartReport.patchLabs(try Self.loader.load(name)) }
        var table = "pairwise mean ΔE2000 on the synthetic chart:\n"
        for a in names {
            table += a.padding(toLength: 20, withPad: " ", startingAt: 0)
            for b in names {
                let d = zip(labs[a]!, labs[b]!).map { $0.deltaE2000(to: $1) }.reduce(0, +) / 24
                table += String(format: " %6.2f", d)
                if a < b { XCTAssertGreaterThanOrEqual(d, 3, "\(a) vs \(b)") }
            }
            table += "\n"
        }
        print(table)
    }

    /// Scalar and SIMD engines give the same bits for every look, through the whole pipeline
    /// (demosaic, local-contrast pre-pass, every look kernel, output encoding).
    func testEnginesAgreeOnEveryLook() throws {
        for name in Self.names {
            let profile = try Self.loader.load(name)
            let a = try Renderer.render(Self.chart, options: RenderOptions(profile: profile, engine: .scalar, threads: 2))
            let b = try Renderer.render(Self.chart, options: RenderOptions(profile: profile, engine: .simd, threads: 1))
            XCTAssertEqual(a.samples, b.samples, "\(name): scalar and SIMD renders differ")
        }
    }

    func testGrainWithAFixedSeedIsBitwiseRepeatable() throws {
        let profile = try Self.loader.load("film-chrome").applying(overrides: ["grain.amount=0.2"])
        let a = try Renderer.render(Self.chart, options: RenderOptions(profile: profile, threads: 2))
        let b = try Renderer.render(Self.chart, options: RenderOptions(profile: profile, threads: 1))
        XCTAssertEqual(a.samples, b.samples, "same seed, same bits")
        let c = try Renderer.render(Self.chart, options: RenderOptions(profile: try profile.applying(overrides: ["grain.seed=12"]), threads: 1))
        XCTAssertNotEqual(a.samples, c.samples, "another seed, other grain")
    }

    /// Issue 5: a `.cube` exported by Emulsion, applied by ffmpeg's lut3d (tetrahedral) to the
    /// chart rendered with `neutral` in the LUT's declared input encoding, matches Emulsion's own
    /// render of the look (its colour part: the LUT cannot hold vignette, grain or local
    /// contrast) to mean ΔE2000 ≤ 1 over all pixels. Measured values are printed.
    func testExportedCubeAppliedByFFmpegMatchesTheRender() throws {
        let ffmpeg = try requireTool("ffmpeg")
        let dir = TestSupport.temporaryDirectory("emulsion-ffmpeg")
        defer { try? FileManager.default.removeItem(at: dir) }
        let neutral = try Self.loader.load("neutral")
        for input in [LUTEncoding.sRGB, .rec2020] {
            let source = try Renderer.render(Self.chart, options: RenderOptions(profile: neutral, space: input.space, threads: 1))
            let inPath = dir.appendingPathComponent("in-\(input.rawValue).png").path
            try PNGFile.write(source.pngImage, to: inPath)
            for name in Self.names where name != "neutral" {
                let cubePath = dir.appendingPathComponent("\(name)-\(input.rawValue).cube").path
                let lut = try LookExport.cube(profile: try Self.loader.load(name), size: 33, input: input, output: .sRGB)
                try lut.cubeText().write(toFile: cubePath, atomically: false, encoding: .utf8)
                let outPath = dir.appendingPathComponent("out-\(name)-\(input.rawValue).png").path
                let r = try TestSupport.run(ffmpeg, ["-nostdin", "-y", "-v", "error", "-i", inPath, "-vf", "lut3d=file=\(cubePath):interp=tetrahedral",
                                                     "-pix_fmt", "rgb48be", outPath])
                XCTAssertEqual(r.status, 0, r.stderr)
                let out = try PNGFile.read(path: outPath)
                XCTAssertEqual(out.bitDepth, 16)
                let expected = try Self.colourOnly(name)
                let d = try Self.meanDeltaE(out.samples, expected.samples)
                print("ffmpeg lut3d, \(name), input \(input.rawValue): mean ΔE2000 \(String(format: "%.3f", d.mean)), max \(String(format: "%.2f", d.max))")
                XCTAssertLessThanOrEqual(d.mean, 1, "\(name) via ffmpeg, input \(input.rawValue)")
            }
        }
    }

    /// A Hald CLUT exported by Emulsion (level 8), applied by ImageMagick's `-hald-clut` (its own
    /// trilinear interpolation: the program RawTherapee-style Hald users would check a file with)
    /// to the chart rendered with `neutral` in sRGB, matches Emulsion's render of the look's colour
    /// part to mean ΔE2000 ≤ 1, as the `.cube` through ffmpeg does. Measured values are printed.
    func testExportedHaldCLUTAppliedByImageMagickMatchesTheRender() throws {
        let convert = try requireTool("convert")
        let dir = TestSupport.temporaryDirectory("emulsion-hald-export")
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try Renderer.render(Self.chart, options: RenderOptions(profile: try Self.loader.load("neutral"), threads: 1))
        let inPath = dir.appendingPathComponent("in.png").path
        try PNGFile.write(source.pngImage, to: inPath)
        for name in Self.names where name != "neutral" {
            let haldPath = dir.appendingPathComponent("\(name).png").path
            let lut = try LookExport.cube(profile: try Self.loader.load(name), size: 64)
            try Data(try HaldCLUT.fileBytes(lut)).write(to: URL(fileURLWithPath: haldPath))
            let outPath = dir.appendingPathComponent("out-\(name).png").path
            let r = try TestSupport.run(convert, [inPath, haldPath, "-hald-clut", "-depth", "16", outPath])
            XCTAssertEqual(r.status, 0, r.stderr)
            let out = try PNGFile.read(path: outPath)
            XCTAssertEqual(out.bitDepth, 16)
            let d = try Self.meanDeltaE(out.samples, try Self.colourOnly(name).samples)
            print("ImageMagick -hald-clut, \(name): mean ΔE2000 \(String(format: "%.3f", d.mean)), max \(String(format: "%.2f", d.max))")
            XCTAssertLessThanOrEqual(d.mean, 1, "\(name) via ImageMagick")
        }
    }

    /// Issue 5: export → import → render is within mean ΔE2000 0.5 of the look's own render.
    func testExportImportRoundTrip() throws {
        let dir = TestSupport.temporaryDirectory("emulsion-roundtrip")
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in Self.names where name != "neutral" {
            let lut = try LookExport.cube(profile: try Self.loader.load(name), size: 33)
            let cubePath = dir.appendingPathComponent("\(name).cube").path
            try lut.cubeText().write(toFile: cubePath, atomically: false, encoding: .utf8)
            let read = try LUT3D.readCube(path: cubePath)
            let declared = LookExport.declaredEncodings(read)
            XCTAssertEqual(declared.input, .sRGB); XCTAssertEqual(declared.output, .sRGB)
            let profilePath = dir.appendingPathComponent("imported-\(name).json").path
            let document = LookExport.importedDocument(lutPath: cubePath, profilePath: profilePath, name: "imported-\(name)",
                                                       input: declared.input!, output: declared.output!)
            try ProfileDocument.format(document).write(toFile: profilePath, atomically: false, encoding: .utf8)
            let imported = try ProfileLoader(searchDirectories: [dir]).load("imported-\(name)")
            XCTAssertEqual(imported.file("lut", "file"), cubePath)
            let image = try Renderer.render(Self.chart, options: RenderOptions(profile: imported, space: .sRGB, threads: 1))
            let d = try Self.meanDeltaE(image.samples, try Self.colourOnly(name).samples)
            print("round trip \(name): mean ΔE2000 \(String(format: "%.3f", d.mean)), max \(String(format: "%.2f", d.max))")
            XCTAssertLessThanOrEqual(d.mean, 0.5, name)
        }
    }

    /// A Hald CLUT (identity, level 4 = 16³) imports as a look that renders like neutral: the
    /// only differences are the LUT stage's encode/decode tables (measured ≈ 0.02 ΔE2000).
    func testHaldCLUTImport() throws {
        let dir = TestSupport.temporaryDirectory("emulsion-hald")
        defer { try? FileManager.default.removeItem(at: dir) }
        let haldPath = dir.appendingPathComponent("identity.png").path
        try PNGFile.write(try HaldCLUT.image(.identity(size: 16)), to: haldPath)
        let lut = try HaldCLUT.read(path: haldPath)
        XCTAssertEqual(lut.size, 16)
        let profilePath = dir.appendingPathComponent("hald.json").path
        try ProfileDocument.format(LookExport.importedDocument(lutPath: haldPath, profilePath: profilePath, name: "hald",
                                                               input: .sRGB, output: .sRGB)).write(toFile: profilePath, atomically: false, encoding: .utf8)
        let look = try ProfileLoader(searchDirectories: [dir]).load("hald")
        let a = try Renderer.render(Self.chart, options: RenderOptions(profile: look, threads: 1))
        let b = try Renderer.render(Self.chart, options: RenderOptions(profile: try Self.loader.load("neutral"), threads: 1))
        let d = try Self.meanDeltaE(a.samples, b.samples)
        print("identity Hald CLUT vs neutral: mean ΔE2000 \(String(format: "%.4f", d.mean)), max \(String(format: "%.3f", d.max))")
        XCTAssertLessThanOrEqual(d.mean, 0.1)
        // A file that is not a Hald size is refused with the file named.
        try PNGFile.write(PNGImage(width: 10, height: 10, bitDepth: 8, channels: 3, samples: [UInt16](repeating: 0, count: 300)), to: haldPath)
        XCTAssertThrowsError(try HaldCLUT.read(path: haldPath)) { e in XCTAssertTrue("\(e)".hasPrefix(haldPath + ": "), "\(e)") }
    }

    /// The neutral profile stays colorimetric: no look stage joins its chain.
    /// A look's LUT is read once per process (`LUTFileCache`), but a file rewritten in place is
    /// read again: an author re-exporting a LUT while a long-lived process renders must see it.
    func testARewrittenLUTFileIsReadAgain() throws {
        let dir = TestSupport.temporaryDirectory("emulsion-lut-cache")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("look.cube").path
        func render() throws -> [UInt16] {
            let profile = try Profile.defaults.applying(overrides: ["lut.file=\(path)"])
            return try Renderer.render(Self.chart, options: RenderOptions(profile: profile, threads: 1)).samples
        }
        try LUT3D.identity(size: 2).cubeText().write(toFile: path, atomically: false, encoding: .utf8)
        let identity = try render()
        XCTAssertTrue(try render() == identity)
        var inverted = LUT3D.identity(size: 3)
        inverted.values = inverted.values.map { 1 - $0 }
        try inverted.cubeText().write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertTrue(try render() != identity, "the rewritten LUT must be read again")
    }

    func testNeutralAddsNoLookStages() throws {
        let neutral = try Self.loader.load("neutral")
        XCTAssertTrue(try LookPlan.elements(profile: neutral, context: LookContext(width: 100, height: 100)).isEmpty)
    }
}

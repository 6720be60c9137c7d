import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The look-authoring commands as a user runs them.
final class LookCLITests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = TestSupport.temporaryDirectory("emulsion-look-cli") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func emulsion(_ arguments: [String]) throws -> TestSupport.RunResult {
        return try TestSupport.run(CLITests.builtBinary(), arguments, timeout: 300,
                                   environment: ["EMULSION_PROFILES": TestSupport.repositoryRoot.appendingPathComponent("Profiles").path])
    }

    func assertOneLineError(_ r: TestSupport.RunResult, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(r.status, 0, file: file, line: line)
        let lines = r.stderr.split(separator: "\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines.count, 1, r.stderr, file: file, line: line)
        for m in mentions { XCTAssertTrue(r.stderr.contains(m), "\(r.stderr) should mention \(m)", file: file, line: line) }
    }

    func testPreviewContactSheetAndSweep() throws {
        let sheet = dir.appendingPathComponent("sheet.png").path
        var r = try emulsion(["preview", "--profiles", "all", "--size", "64", "-o", sheet])
        XCTAssertEqual(r.status, 0, r.stderr)
        let png = try PNGFile.read(path: sheet)
        XCTAssertEqual(png.bitDepth, 8)
        XCTAssertNotNil(png.iccProfile)
        XCTAssertTrue(r.stdout.contains("8 renders") || r.stdout.contains(" renders"), r.stdout)
        let strip = dir.appendingPathComponent("strip.png").path
        r = try emulsion(["preview", "--profile", "leica-authentic", "--sweep", "tone.contrast=0.8:1.6:5", "--size", "64", "-o", strip])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("5 renders"), r.stdout)
        // Tiles narrower than their labels: the labels are clipped (this trapped below ~30 px).
        r = try emulsion(["preview", "--profiles", "neutral,leica-vibrant", "--size", "16", "-o", dir.appendingPathComponent("tiny.png").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try emulsion(["preview", "--sweep", "tone.contrast=0.8:9:3", "--size", "64", "-o", dir.appendingPathComponent("bad.png").path])
        assertOneLineError(r, mentions: ["tone.contrast", "out of range"])
        // Lists and every option of a choice; a tile this input cannot take (spot mode without a
        // rectangle) is left off with a warning naming it, and the others are written.
        r = try emulsion(["preview", "--sweep", "demosaic.algorithm=all", "--size", "64", "-o", dir.appendingPathComponent("demosaic.png").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\(DemosaicMethod.allCases.count) renders"), r.stdout)
        r = try emulsion(["preview", "--sweep", "whiteBalance.mode=as-shot,spot,auto", "--size", "64", "-o", dir.appendingPathComponent("wb.png").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("2 renders"), r.stdout)
        XCTAssertEqual(r.stderr.trimmingCharacters(in: .newlines),
                       "emulsion: warning: the synthetic chart: whiteBalance.mode=spot: left off the sheet: spot white balance needs a rectangle inside the image (--wb-rect x,y,w,h)")
        r = try emulsion(["preview", "--sweep", "whiteBalance.mode=spot,spot", "--size", "64", "-o", dir.appendingPathComponent("none.png").path])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("the synthetic chart: none of the 2 renders could be made"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("none.png").path))
        for (sweep, message) in [("exposure.ev=1,x", "--sweep exposure.ev=1,x: exposure.ev: expected a number in -10…10, got \"x\""),
                                 ("tone.points=0:0,1:1", "tone.points is a curve"), ("exposure.ev=1", "a list a,b,c or all")] {
            r = try emulsion(["preview", "--sweep", sweep, "--size", "64", "-o", dir.appendingPathComponent("bad.png").path])
            assertOneLineError(r, mentions: [message])
        }
    }

    func testDiffNewSetAndValidate() throws {
        var r = try emulsion(["profile", "diff", "neutral", "leica-vibrant"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("tone.curve") && r.stdout.contains("none") && r.stdout.contains("filmic"), r.stdout)
        let path = dir.appendingPathComponent("mine.json").path
        r = try emulsion(["profile", "new", "mine", "--from", "leica-vibrant", "-o", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try emulsion(["profile", "set", path, "tone.contrast=1.45", "hsl.blueHue=-6", "description=My look"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.contains("\"extends\": \"leica-vibrant\""), text)
        XCTAssertTrue(text.contains("\"contrast\": 1.45"), text)
        r = try emulsion(["profile", "diff", "leica-vibrant", path])
        XCTAssertTrue(r.stdout.contains("2 parameters differ"), r.stdout)
        // A bad value is refused and the file stays as it was.
        r = try emulsion(["profile", "set", path, "tone.contrast=7"])
        assertOneLineError(r, mentions: [path, "tone.contrast", "0.5…3"])
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), text)
        r = try emulsion(["profile", "set", path, "lut.file=missing.cube"])
        assertOneLineError(r, mentions: [path, "lut.file", "no such file"])
        r = try emulsion(["profile", "validate", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        // Through a link, the edit reaches the file it points to and the link stays a link.
        let link = dir.appendingPathComponent("link.json").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)
        r = try emulsion(["profile", "set", link, "tone.contrast=1.2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(try String(contentsOfFile: path, encoding: .utf8).contains("\"contrast\": 1.2"))
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), path)
        // A file that is not JSON is named with the place of the problem, and left as it was
        // (it printed Foundation's DecodingError, without the file, before JSONText).
        let broken = dir.appendingPathComponent("broken.json").path
        try "{\n  \"schemaVersion\": 1,\n  \"name\": \"b\"\n  \"tone\": {}\n}\n".write(toFile: broken, atomically: false, encoding: .utf8)
        r = try emulsion(["profile", "set", broken, "tone.contrast=1.2"])
        assertOneLineError(r, mentions: [broken, "line 4, column 3", "expected ',' or '}' after the value of \"name\""])
        XCTAssertFalse(try String(contentsOfFile: broken, encoding: .utf8).contains("contrast"))
        // A stage without a parameter is a malformed assignment, not an unknown stage.
        r = try emulsion(["profile", "set", path, "tone=1"])
        assertOneLineError(r, mentions: [path, "expected stage.parameter=value, got \"tone=1\""])
    }

    /// A setting that cannot act in the look it is given to (`ParameterCondition`) is named on
    /// every surface: a warning where the render still is what was asked for, a refusal where
    /// the output could only be identical tiles.
    func testSettingsThatChangeNothingAreNamed() throws {
        let idleTemperature = "whiteBalance.temperature=3000 changes nothing under neutral: it applies only when whiteBalance.mode is kelvin, and whiteBalance.mode is as-shot"
        // process: rendered as asked, one warning per idle override, none for the others.
        var r = try emulsion(["process", "--out-dir", dir.path, "--set", "whiteBalance.temperature=3000", "--set", "exposure.ev=0.5",
                              "--set", "camera.lookTable=false"])
        XCTAssertEqual(r.status, 0, r.stderr)
        var warnings = r.stderr.split(separator: "\n").filter { $0.contains("warning") }
        XCTAssertEqual(warnings.count, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("emulsion: warning: --set " + idleTemperature), r.stderr)
        XCTAssertTrue(r.stderr.contains("camera.lookTable=false changes nothing under neutral: it applies only when a camera profile is given (--dcp)"), r.stderr)
        // In kelvin mode the same override takes part: no warning.
        r = try emulsion(["process", "--out-dir", dir.path, "--overwrite", "--set", "whiteBalance.mode=kelvin", "--set", "whiteBalance.temperature=3000"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stderr.contains("warning"), r.stderr)

        // preview: a sweep of an idle parameter would be identical tiles: refused, nothing written.
        let strip = dir.appendingPathComponent("strip.png").path
        r = try emulsion(["preview", "--sweep", "tone.contrast=0.8:1.6:3", "--size", "32", "-o", strip])
        assertOneLineError(r, mentions: ["--sweep tone.contrast=0.8:1.6:3: tone.contrast changes nothing under neutral",
                                         "it applies only when tone.curve is filmic, and tone.curve is none"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: strip))
        r = try emulsion(["preview", "--sweep", "tone.contrast=0.8:1.6:3", "--set", "tone.curve=filmic", "--size", "32", "-o", strip])
        XCTAssertEqual(r.status, 0, r.stderr)
        // --set over several looks: a warning for each look it cannot act in.
        r = try emulsion(["preview", "--profiles", "neutral,film-chrome,leica-vibrant", "--set", "vignette.midpoint=0.2", "--size", "32",
                          "-o", dir.appendingPathComponent("sheet.png").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        warnings = r.stderr.split(separator: "\n").filter { $0.contains("warning") }
        XCTAssertEqual(warnings.map { $0.contains("under neutral") }, [true], r.stderr)

        // profile set writes the value and warns; validate warns about the file's own settings
        // (not what it inherits) and still says ok; show marks idle parameters.
        let path = dir.appendingPathComponent("mine.json").path
        r = try emulsion(["profile", "new", "mine", "--from", "neutral", "-o", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try emulsion(["profile", "set", path, "whiteBalance.temperature=3000", "colour.vibrance=0.2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr.trimmingCharacters(in: .newlines),
                       "emulsion: warning: \(path): whiteBalance.temperature=3000 changes nothing under mine: it applies only when whiteBalance.mode is kelvin, and whiteBalance.mode is as-shot")
        XCTAssertTrue(try String(contentsOfFile: path, encoding: .utf8).contains("3000"))
        r = try emulsion(["profile", "validate", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.trimmingCharacters(in: .newlines), "ok  \(path) (1 setting that change nothing)")
        XCTAssertTrue(r.stderr.contains("whiteBalance.temperature: changes nothing: it applies only when whiteBalance.mode is kelvin"), r.stderr)
        r = try emulsion(["profile", "show", path])
        XCTAssertTrue(r.stdout.contains("temperature = 3000    (a number in 1700…50000; default 5500; changes nothing here: it applies only when whiteBalance.mode is kelvin"), r.stdout)
        XCTAssertFalse(r.stdout.contains("vibrance = 0.2    (a number in -1…1; default 0; changes nothing"), r.stdout)
        r = try emulsion(["profile", "validate"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "", "the shipped profiles set nothing that changes nothing")

        // profile chart: a warning beside the report.
        r = try emulsion(["profile", "chart", "neutral", "--set", "grain.size=2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("--set grain.size=2 changes nothing under neutral: it applies only when grain.amount is not 0"), r.stderr)

        // golden what-if: a case the override cannot act in says so beside its verdict.
        let suite = dir.appendingPathComponent("suite")
        try FileManager.default.createDirectory(at: suite, withIntermediateDirectories: true)
        try """
            {"schemaVersion": 1, "cases": [{"name": "n", "input": "synthetic:chart@240x160", "maxSize": 60},
              {"name": "v", "input": "synthetic:chart@240x160", "profile": "leica-vibrant", "set": ["monochrome.red=0.5"], "maxSize": 60}]}
            """.write(to: suite.appendingPathComponent("golden.json"), atomically: false, encoding: .utf8)
        r = try emulsion(["golden", "record", suite.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try emulsion(["golden", "check", suite.path, "--set", "tone.contrast=1.5"])
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("note: what-if --set tone.contrast=1.5 changes nothing under neutral: it applies only when tone.curve is filmic"), r.stdout)
        XCTAssertTrue(r.stdout.contains("note: set monochrome.red=0.5 changes nothing under leica-vibrant: it applies only when monochrome.enabled is true"), r.stdout)
        XCTAssertEqual(r.stdout.components(separatedBy: "changes nothing").count, 3, r.stdout)
    }

    func testChartReportsPerPatchDeltaE() throws {
        var r = try emulsion(["profile", "chart", "film-slide", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONDecoder().decode(ChartReport.self, from: Data(r.stdout.utf8))
        XCTAssertEqual(report.patches.count, 24)
        XCTAssertGreaterThan(report.mean, 3)
        r = try emulsion(["profile", "chart", "neutral"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("mean ΔE00 0.00"), r.stdout)
    }

    func testExportAndImport() throws {
        let cube = dir.appendingPathComponent("look.cube").path
        var r = try emulsion(["profile", "export", "zeiss-natural", "--cube", "17", "-o", cube])
        XCTAssertEqual(r.status, 0, r.stderr)
        // zeiss-natural's local contrast cannot be in a LUT, and the user is told (no vignette or grain in it).
        XCTAssertTrue(r.stdout.hasSuffix("input srgb, output srgb; left out (they depend on position): localContrast\n"), r.stdout)
        let lut = try LUT3D.readCube(path: cube)
        XCTAssertEqual(lut.size, 17)
        XCTAssertTrue(lut.comments.contains { $0.hasPrefix("Input: srgb") }, "\(lut.comments)")
        let look = dir.appendingPathComponent("imported.json").path
        r = try emulsion(["profile", "import", cube, "-o", look])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try emulsion(["profile", "export", "--import", cube, "-o", dir.appendingPathComponent("again.json").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        // The imported look renders (the small chart keeps this quick in debug builds) and is
        // close to the look it came from.
        r = try emulsion(["profile", "chart", look, "--against", "zeiss-natural", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertLessThan(try JSONDecoder().decode(ChartReport.self, from: Data(r.stdout.utf8)).mean, 0.5)
        try "LUT_3D_SIZE 2\n0 0 0\n".write(toFile: cube, atomically: false, encoding: .utf8)
        r = try emulsion(["profile", "chart", look])
        assertOneLineError(r, mentions: [look, "lut.file", "expected 8 entries"])
        // A .png output is a Hald CLUT: level 8 by default, any square lattice 4…144, whose
        // comment says what it maps; it imports back as a look (LooksTests applies one with ImageMagick).
        let hald = dir.appendingPathComponent("look.png").path
        r = try emulsion(["profile", "export", "hasselblad-natural", "-o", hald])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("\(hald): 64³ Hald CLUT (level 8) of hasselblad-natural"), r.stdout)
        let image = try PNGFile.read(path: hald)
        XCTAssertTrue(image.width == 512 && image.height == 512 && image.bitDepth == 16 && image.iccProfile == nil)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: hald))
        XCTAssertNotNil(bytes.range(of: Data("Input: srgb encoded RGB".utf8)))
        XCTAssertEqual(try HaldCLUT.read(path: hald).size, 64)
        r = try emulsion(["profile", "import", hald, "-o", dir.appendingPathComponent("from-hald.json").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        // The encodings it declares come back on import, as a .cube's do.
        r = try emulsion(["profile", "export", "hasselblad-natural", "--input", "rec2020", "--output-encoding", "display-p3",
                          "-o", hald, "--overwrite"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let declared = LookExport.declaredEncodings(try HaldCLUT.read(path: hald))
        XCTAssertTrue(declared.input == .rec2020 && declared.output == .displayP3, "\(declared)")
        let fromHald = dir.appendingPathComponent("from-hald-2020.json").path
        r = try emulsion(["profile", "import", hald, "-o", fromHald])
        XCTAssertEqual(r.status, 0, r.stderr)
        let imported = try String(contentsOfFile: fromHald, encoding: .utf8)
        XCTAssertTrue(imported.contains("\"rec2020\"") && imported.contains("\"display-p3\""), imported)
        r = try emulsion(["profile", "export", "hasselblad-natural", "--cube", "9", "-o", hald, "--overwrite"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try PNGFile.read(path: hald).width, 27)
        r = try emulsion(["profile", "export", "hasselblad-natural", "--cube", "33", "-o", hald, "--overwrite"])
        assertOneLineError(r, mentions: ["--cube 33", "Hald CLUT needs a square number"])
        // A device's LUT or a shader is not a Hald image: a .png name is refused, not mislabelled.
        try assertShaderAndDeviceRefused(["profile", "export", "hasselblad-natural", "-o", hald, "--overwrite"], saying: "a .png is a Hald CLUT")
    }

    /// `profile export NAME -o look.pp3`: a RawTherapee processing profile whose Film Simulation
    /// applies the look's Hald CLUT, written beside it. The reference is RawTherapee itself and
    /// ImageMagick: rawtherapee-cli with the .pp3 must write what its neutral rendering gives
    /// through the same CLUT by ImageMagick's `-hald-clut` (an independent implementation of the
    /// lookup). Tolerance: normalised RMSE below 2·10⁻⁴ (measured 2.8·10⁻⁵: both interpolate an
    /// 8-bit level-8 CLUT, rounding differently); the look itself moves the picture by ~0.06.
    func testRawTherapeeAppliesTheExportedLook() throws {
        let pp3 = dir.appendingPathComponent("chrome.pp3").path, clut = dir.appendingPathComponent("chrome.png").path
        let r = try emulsion(["profile", "export", "film-chrome", "-o", pp3])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("\(pp3): RawTherapee profile applying \(clut): 64³ Hald CLUT (level 8) of film-chrome"), r.stdout)
        let text = try String(contentsOfFile: pp3, encoding: .utf8)
        XCTAssertTrue(text.contains("[Film Simulation]\nEnabled=true\nClutFilename=\(clut)\nStrength=100\n"), text)
        // The CLUT is the one `-o NAME.png` writes.
        let alone = dir.appendingPathComponent("alone.png").path
        XCTAssertEqual(try emulsion(["profile", "export", "film-chrome", "-o", alone]).status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: alone)), try Data(contentsOf: URL(fileURLWithPath: clut)))
        // A shader or a device's LUT is no RawTherapee profile: a .pp3 name is refused, as a .png is.
        try assertRefusalsOfAnExportFor("RawTherapee", existing: pp3, kind: "a .pp3 is a RawTherapee profile")

        guard let rawtherapee = TestSupport.which("rawtherapee-cli"), let compare = TestSupport.which("compare") else {
            if TestSupport.inCI { XCTFail("rawtherapee-cli or ImageMagick's compare missing") }
            throw XCTSkip("rawtherapee-cli or ImageMagick missing")
        }
        let input = try sample("canon-eos_kiss_x4-colorchart_crop.dng")
        let settings = ["RT_SETTINGS": dir.appendingPathComponent("rt-settings").path, "RT_CACHE": dir.appendingPathComponent("rt-cache").path]
        func develop(_ name: String, _ extra: [String]) throws -> String {
            let out = dir.appendingPathComponent(name).path
            let run = try TestSupport.run(rawtherapee, ["-q", "-Y", "-t", "-b16"] + extra + ["-o", out, "-c", input], timeout: 300, environment: settings)
            // rawtherapee-cli can exit 0 without writing anything: the file is what counts.
            XCTAssertTrue(FileManager.default.fileExists(atPath: out), "rawtherapee-cli \(extra) wrote nothing: \(run.stderr)")
            return out
        }
        let neutral = try develop("neutral.tif", []), looked = try develop("looked.tif", ["-p", pp3])
        let reference = dir.appendingPathComponent("reference.tif").path
        XCTAssertEqual(try TestSupport.run(TestSupport.which("convert") ?? "/usr/bin/convert", [neutral, clut, "-hald-clut", reference]).status, 0)
        XCTAssertLessThan(try rmse(looked, reference, compare: compare), 2e-4)
        XCTAssertGreaterThan(try rmse(looked, neutral, compare: compare), 0.02, "the look should change RawTherapee's rendering")
    }

    /// A shader or a device's LUT is not what the output's name says it is (a Hald image, a
    /// RawTherapee or darktable profile): the name is refused as a usage error, not mislabelled.
    func assertShaderAndDeviceRefused(_ export: [String], saying message: String, line: UInt = #line) throws {
        for extra in [["--device", "mid-range"], ["--glsl"]] {
            let r = try emulsion(export + extra)
            XCTAssertEqual(r.status, 64, "\(extra)", line: line)
            XCTAssertTrue(r.stderr.contains(message), r.stderr, line: line)
        }
    }

    /// What an export for another tool (`existing`, a .pp3 or .dtstyle already written) refuses:
    /// writing over it, encodings other than sRGB (`tool` applies the CLUT to sRGB values), and
    /// a shader or a device's LUT under its kind of name.
    func assertRefusalsOfAnExportFor(_ tool: String, existing: String, kind: String, line: UInt = #line) throws {
        let ext = ImageFile.fileExtension(of: existing)
        assertOneLineError(try emulsion(["profile", "export", "film-chrome", "-o", existing]), mentions: [existing, "already exists"], line: line)
        assertOneLineError(try emulsion(["profile", "export", "film-chrome", "-o", dir.appendingPathComponent("p3." + ext).path, "--input", "display-p3"]),
                           mentions: ["\(tool) applies a Hald CLUT to sRGB values"], line: line)
        try assertShaderAndDeviceRefused(["profile", "export", "film-chrome", "-o", dir.appendingPathComponent("other." + ext).path],
                                         saying: kind, line: line)
    }

    /// ImageMagick's normalised root-mean-square difference of two images.
    func rmse(_ a: String, _ b: String, compare: String) throws -> Double {
        // "1.83265 (2.79644e-05)" on standard error, after any TIFF tag warnings.
        let out = try TestSupport.run(compare, ["-quiet", "-metric", "RMSE", a, b, "null:"]).stderr
        let open = try XCTUnwrap(out.lastIndex(of: "(")), close = try XCTUnwrap(out.lastIndex(of: ")"))
        return try XCTUnwrap(Double(out[out.index(after: open)..<close]))
    }

    /// `profile export NAME -o look.dtstyle`: a darktable style whose lut 3D module applies the
    /// look's Hald CLUT, named relative to darktable's 3D lut root folder. The reference is
    /// darktable itself and ImageMagick: darktable-cli with the imported style must write what its
    /// default rendering gives through the same CLUT by ImageMagick's `-hald-clut`. Tolerance:
    /// normalised RMSE below 2·10⁻³ (measured 3.5·10⁻⁴ on this chart: darktable converts its
    /// working space to sRGB and back around the LUT in float and interpolates tetrahedrally,
    /// ImageMagick trilinearly on 16-bit TIFFs); the look itself moves the picture by ~0.046.
    func testDarktableAppliesTheExportedLook() throws {
        let style = dir.appendingPathComponent("chrome.dtstyle").path, clut = dir.appendingPathComponent("chrome.png").path
        var r = try emulsion(["profile", "export", "film-chrome", "-o", style])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("\(style): darktable style \"emulsion|film-chrome\" applying \(clut): 64³ Hald CLUT (level 8) of film-chrome"), r.stdout)
        XCTAssertTrue(r.stdout.contains("set darktable's 3D lut root folder (preferences › processing) to \(dir.path), "), r.stdout)
        XCTAssertTrue(r.stdout.contains("darktable-cli: --core --conf plugins/darkroom/workflow=none"), r.stdout)
        // The CLUT is the one `-o NAME.png` writes, and the style names it relative to the root folder.
        let alone = dir.appendingPathComponent("alone.png").path
        XCTAssertEqual(try emulsion(["profile", "export", "film-chrome", "-o", alone]).status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: alone)), try Data(contentsOf: URL(fileURLWithPath: clut)))
        let text = try String(contentsOfFile: style, encoding: .utf8)
        let hexName = "chrome.png".utf8.map { String(format: "%02x", $0) }.joined()
        XCTAssertTrue(text.contains("<operation>lut3d</operation>\n<op_params>\(hexName)00"), "the parameters start with the LUT's relative name")
        XCTAssertEqual(DarktableStyle.lutParameters(relativePath: "chrome.png").count, 12940, "sizeof(dt_iop_lut3d_params_t), version 3")
        // --lut-folder: the CLUT goes to darktable's root folder, the style still names it relative to it.
        let root = dir.appendingPathComponent("luts")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        r = try emulsion(["profile", "export", "film-chrome", "-o", dir.appendingPathComponent("rooted.dtstyle").path, "--lut-folder", root.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Data(contentsOf: root.appendingPathComponent("rooted.png")), try Data(contentsOf: URL(fileURLWithPath: clut)))
        let rooted = try String(contentsOf: dir.appendingPathComponent("rooted.dtstyle"), encoding: .utf8)
        XCTAssertTrue(rooted.contains("<op_params>" + "rooted.png".utf8.map { String(format: "%02x", $0) }.joined() + "00"))
        // Refusals: an existing style, non-sRGB encodings, a shader or device LUT under the name,
        // --lut-folder without a style, a root folder that does not exist (nothing written then).
        try assertRefusalsOfAnExportFor("darktable's lut 3D", existing: style, kind: "a .dtstyle is a darktable style")
        r = try emulsion(["profile", "export", "film-chrome", "-o", dir.appendingPathComponent("x.cube").path, "--lut-folder", root.path])
        XCTAssertEqual(r.status, 64)
        XCTAssertTrue(r.stderr.contains("--lut-folder is darktable's 3D lut root folder"), r.stderr)
        let missing = dir.appendingPathComponent("no-such-folder").path
        r = try emulsion(["profile", "export", "film-chrome", "-o", dir.appendingPathComponent("lost.dtstyle").path, "--lut-folder", missing])
        assertOneLineError(r, mentions: [missing, "does not exist"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("lost.dtstyle").path))

        guard let darktable = TestSupport.which("darktable-cli"), let compare = TestSupport.which("compare") else {
            if TestSupport.inCI { XCTFail("darktable-cli or ImageMagick's compare missing") }
            throw XCTSkip("darktable-cli or ImageMagick missing")
        }
        let input = try sample("canon-eos_kiss_x4-colorchart_crop.dng")
        let config = dir.appendingPathComponent("dt-config").path
        // darktable-cli's own options come before --core, darktable's after it.
        func develop(_ name: String, _ extra: [String], core: [String] = []) throws -> String {
            let out = dir.appendingPathComponent(name).path
            let run = try TestSupport.run(darktable, [input, out] + extra + [
                "--icc-type", "SRGB", "--core", "--configdir", config, "--cachedir", config + "/cache", "--library", ":memory:",
                "--disable-opencl", "--conf", "plugins/darkroom/lut3d/def_path=\(dir.path)", "--conf", "plugins/imageio/format/tiff/bpp=16"] + core,
                timeout: 300)
            XCTAssertEqual(run.status, 0, "darktable-cli \(extra): \(run.stderr)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: out), "darktable-cli \(extra) wrote nothing: \(run.stderr)")
            return out
        }
        // darktable imports styles into its configuration's database: through its Lua API, as
        // the styles module's import button does, while rendering the default.
        let plain = try develop("plain.tif", [], core: ["--luacmd", "require('darktable').styles.import('\(style)')"])
        let looked = try develop("looked.tif", ["--style", "emulsion|film-chrome"])
        let reference = dir.appendingPathComponent("reference.tif").path
        XCTAssertEqual(try TestSupport.run(TestSupport.which("convert") ?? "/usr/bin/convert", [plain, clut, "-hald-clut", reference]).status, 0)
        XCTAssertLessThan(try rmse(looked, reference, compare: compare), 2e-3)
        XCTAssertGreaterThan(try rmse(looked, plain, compare: compare), 0.02, "the look should change darktable's rendering")

        // What the command advises: without darktable's workflow defaults (filmic, exposure) the
        // style gives the look as Emulsion renders it — Emulsion's render of the look against
        // darktable's, in CIEDE2000 (`ImageFileComparison`, each decoded through its own ICC
        // profile). Measured on this crop: mean 1.58 ΔE00 without them, 7.26 with them (darktable's
        // demosaic, highlights and matrix differ from Emulsion's, so not 0: its workflow-none
        // rendering is 1.87 from Emulsion's neutral one).
        let bare = try develop("bare.tif", ["--style", "emulsion|film-chrome"], core: ["--conf", "plugins/darkroom/workflow=none"])
        let emulsionLook = dir.appendingPathComponent("emulsion-chrome.png").path
        XCTAssertEqual(try emulsion(["process", input, "-o", emulsionLook, "--profile", "film-chrome"]).status, 0)
        func meanDeltaE(_ path: String) throws -> Double {
            let result = ImageFileComparison.compare(name: path, expected: emulsionLook, actual: path, tolerance: GoldenTolerance(),
                                                     heatMap: nil, threads: 2)
            return try XCTUnwrap(result.mean, result.message)
        }
        let withoutDefaults = try meanDeltaE(bare), withDefaults = try meanDeltaE(looked)
        XCTAssertLessThan(withoutDefaults, 2.5, "the look in darktable without its workflow defaults")
        XCTAssertGreaterThan(withDefaults, 2 * withoutDefaults, "darktable's default workflow stacks its own tone curve under the look")
    }
}

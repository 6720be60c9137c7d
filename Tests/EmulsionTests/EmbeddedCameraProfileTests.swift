import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The camera profile a DNG embeds (`DCPFile`): read from the raw itself (`--dcp shot.dng`) or
/// per input (`--dcp embedded`, `RenderOptions.embeddedCameraProfile`).
final class EmbeddedCameraProfileTests: OutputFileTestCase {
    /// The camera profile a DNG embeds in IFD0 (`--dcp shot.dng`, `--dcp embedded`). Reference:
    /// ExifTool's reading of the Pixel 7 sample (its -n values printed to 4 decimals, as stored
    /// there): ColorMatrix1 1.1556 −0.6598 0.0696 …, ForwardMatrix2 0.3743 0.4501 0.1399 …,
    /// calibration illuminants StdA (17) and D65 (21), HueSatMaps 90×30×1 twice, a 36×8×16 look
    /// table and a 514-value (257-point) tone curve, named "Google Embedded Camera Profile". A
    /// NEF (a TIFF without the DNG tags) holds none, and says so.
    func testReadsTheProfileADNGEmbeds() throws {
        let pixel = try sample("google-pixel_7-digizoom_crop.dng")
        for profile in [try DCPFile.read(path: pixel), try DCPFile.readEmbedded(in: pixel)] {
            XCTAssertEqual(profile.name, "Google Embedded Camera Profile")
            XCTAssertEqual(profile.calibrations.map(\.illuminant), [17, 21])
            let cm = try XCTUnwrap(profile.calibrations[0].colorMatrix).m, fm = try XCTUnwrap(profile.calibrations[1].forwardMatrix).m
            for (got, expected) in zip(Array(cm.prefix(3)) + Array(fm.prefix(3)), [1.1556, -0.6598, 0.0696, 0.3743, 0.4501, 0.1399]) {
                XCTAssertEqual(got, expected, accuracy: 0.5e-4)
            }
            XCTAssertEqual(profile.hueSatMaps.map { [$0.hues, $0.saturations, $0.values] }, [[90, 30, 1], [90, 30, 1]])
            XCTAssertEqual(profile.lookTable.map { [$0.hues, $0.saturations, $0.values] }, [36, 8, 16])
            XCTAssertEqual(profile.toneCurve.count, 257)
        }
        let nef = try sample("nikon-d1x-lossy.nef")
        XCTAssertThrowsError(try DCPFile.read(path: nef)) {
            XCTAssertEqual("\($0)", "\(nef): holds no camera profile (no ColorMatrix in its IFD0; a DNG has one)")
        }
        let qtk = try sample("apple-quicktake_100-test100.qtk")
        for raw in [nef, qtk] {
            XCTAssertThrowsError(try DCPFile.readEmbedded(in: raw)) {
                XCTAssertEqual("\($0)", "\(raw): --dcp embedded: this raw embeds no camera profile (only DNGs do)")
            }
        }
    }

    /// `--dcp embedded` renders each input through the camera profile it embeds: the Pixel's
    /// render is byte for byte the one `--dcp` given the DNG itself makes, and not the render
    /// without (its tables and tone curve apply); a raw with none fails alone, in one line.
    func testEmbeddedCameraProfilePerInput() throws {
        let pixel = try sample("google-pixel_7-digizoom_crop.dng"), nef = try sample("nikon-d1x-lossy.nef")
        let outputs = ["embedded", "named", "none"].map { dir.appendingPathComponent($0 + ".png").path }
        for (arguments, output) in zip([["--dcp", "embedded"], ["--dcp", pixel], []], outputs) {
            let r = try emulsion(["process", pixel, "-o", output] + arguments)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let bytes = try outputs.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        XCTAssertTrue(bytes[0] == bytes[1], "--dcp embedded is the DNG's own profile")
        XCTAssertFalse(try PNGFile.read(path: outputs[0]).samples == PNGFile.read(path: outputs[2]).samples, "the profile changes the render")
        let out = dir.appendingPathComponent("batch")
        let r = try emulsion(["process", nef, pixel, "--out-dir", out.path, "--dcp", "embedded"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr, "emulsion: \(nef): --dcp embedded: this raw embeds no camera profile (only DNGs do)\n")
        XCTAssertTrue(r.stdout.hasPrefix("1 written, 1 failed"), r.stdout)
        XCTAssertTrue(try Data(contentsOf: out.appendingPathComponent("google-pixel_7-digizoom_crop.png")) == bytes[0])
    }

    /// `info` says what a raw embeds (ExifTool's reading, as above; the Canon 6D DNG, converted
    /// by Adobe, embeds "Adobe Standard" with two 90×30×1 maps and a 36×8×16 look table).
    func testInfoSaysWhatProfileARawEmbeds() throws {
        let cases = [("google-pixel_7-digizoom_crop.dng", "Google Embedded Camera Profile: HueSatMap 90×30×1, HueSatMap 90×30×1, "
                      + "LookTable 36×8×16, tone curve of 257 points (--dcp embedded renders with it)"),
                     ("canon-eos_6d-lossy_linear.dng", "Adobe Standard: HueSatMap 90×30×1, HueSatMap 90×30×1, LookTable 36×8×16 (--dcp embedded renders with it)"),
                     ("canon-eos_kiss_x4-colorchart_crop.dng", "matrices only (--dcp embedded renders with it)"),
                     ("nikon-d1x-lossy.nef", "none embedded")]
        for (name, line) in cases {
            let r = try emulsion(["info", try sample(name)])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("\nCamera profile:  \(line)\n"), "\(name): \(r.stdout)")
        }
        let json = try emulsion(["info", "--json", try sample("nikon-d1x-lossy.nef"), try sample("canon-eos_kiss_x4-colorchart_crop.dng")])
        let reports = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        XCTAssertNil(reports[0]["embeddedProfile"])
        XCTAssertEqual(reports[1]["embeddedProfile"] as? String, "matrices only")
    }
}

import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The shot's artist, copyright notice, rating and GPS location, from the raw to every output format
/// (`GPSLocation`, `ExifBlock`), the location left out on request (`--strip-location`).
///
/// References: Exif 2.32 §4.6.6 (the GPS IFD: reference letters, degrees-minutes-seconds
/// rationals, altitude reference, UTC time stamp). The independent reader is ExifTool, which
/// reads the DNG Emulsion writes (so the raw holds what the test says) and each output; LibRaw
/// reads the raw in between. Tolerances: LibRaw hands over each of degrees, minutes and seconds
/// as a 32-bit float (seconds to ~4 µs of arc, 10⁻⁹°), and outputs round seconds to 1/10 000
/// (`GPSLocation.sexagesimal`, 3·10⁻⁸°), so positions agree to 10⁻⁷° (1 cm); altitudes are written
/// with denominators up to 10⁶ from a float, to 10⁻³ m.
final class LocationMetadataTests: OutputFileTestCase {
    /// Degrees-minutes-seconds of a value, and back, within the rounding it states.
    func testSexagesimalPartsGoBackToTheValue() {
        let eiffel = GPSLocation.sexagesimal(48.858370)
        XCTAssertEqual(eiffel.degrees, 48)
        XCTAssertEqual(eiffel.minutes, 51)
        XCTAssertEqual(eiffel.seconds, 30.132, accuracy: 1e-9)
        // Just under a whole minute rounds up to it, never to 60 seconds.
        let edge = GPSLocation.sexagesimal(10 + 59.0 / 60 + 59.99999 / 3600)
        XCTAssertEqual([edge.degrees, edge.minutes, edge.seconds], [11, 0, 0])
        var generator = SplitMix64(seed: 0x6E0)
        for _ in 0..<10_000 {
            let value = Double(generator.next() % 360_000_000_000) / 1_000_000_000 - 180
            let p = GPSLocation.sexagesimal(value)
            XCTAssertTrue(p.minutes < 60 && p.seconds < 60 && p.seconds >= 0, "\(value): \(p)")
            XCTAssertEqual(p.degrees + p.minutes / 60 + p.seconds / 3600, abs(value), accuracy: 0.5e-4 / 3600 + 1e-12)
        }
    }

    /// What a decoder read is checked part by part: a missing reference letter, minutes or
    /// seconds of 60 and more, angles beyond the poles, non-finite numbers drop that part only.
    func testADecodersPartsAreCheckedOneByOne() throws {
        let dms = [33.0, 51.0, 24.4224]
        let full = try XCTUnwrap(GPSLocation(latitude: dms, latitudeRef: "S", longitude: [151, 12, 55.0692], longitudeRef: "E",
                                             altitude: 12.5, belowSeaLevel: true, time: [19, 45, 27.5]))
        XCTAssertEqual(full.latitude ?? 0, -(33 + 51.0 / 60 + 24.4224 / 3600), accuracy: 1e-12)
        XCTAssertEqual(full.longitude ?? 0, 151 + 12.0 / 60 + 55.0692 / 3600, accuracy: 1e-12)
        XCTAssertEqual(full.altitude, -12.5)
        XCTAssertEqual(full.secondsOfDay, 19 * 3600 + 45 * 60 + 27.5)
        let partial = try XCTUnwrap(GPSLocation(latitude: dms, latitudeRef: nil, longitude: [200, 0, 0], longitudeRef: "E",
                                                altitude: .nan, belowSeaLevel: false, time: [19, 45, 27]))
        XCTAssertEqual(partial, GPSLocation(secondsOfDay: 19 * 3600 + 45 * 60 + 27))
        XCTAssertNil(GPSLocation(latitude: [10, 60, 0], latitudeRef: "N", longitude: [1, 2, 3], longitudeRef: "X",
                                 altitude: nil, belowSeaLevel: false, time: [0, 0, 0]))
    }

    /// A raw with an artist and a location (written by Emulsion's DNG writer, read back by
    /// ExifTool first) renders to PNG, JPEG and TIFF with both; `info` prints them; with
    /// `--strip-location` the GPS IFD is gone and the rest of the Exif stays.
    func testArtistAndLocationTravelToEveryFormat() throws {
        let exiftool = try tool("exiftool")
        var raw = ChartReport.chartScene.raw
        raw.metadata.make = "Emulsion"
        raw.metadata.artist = "Ada Lovelace"  // (and UTF-8 text in the copyright, as ExifTool writes it)
        raw.metadata.copyright = "© 2026 Ada Lovelace"
        let sydney = GPSLocation(latitude: -33.856784, longitude: 151.215297, altitude: 4.25, secondsOfDay: 19 * 3600 + 45 * 60 + 27.5)
        raw.metadata.location = sydney
        let input = dir.appendingPathComponent("located.dng")
        try DNGWriter.write(raw, to: input)
        struct Read { var latitude, longitude, altitude: Double?; var time, artist, copyright, make: String? }
        func read(_ path: String) throws -> Read {
            let r = try TestSupport.run(exiftool, ["-j", "-n", "-GPSLatitude", "-GPSLongitude", "-GPSAltitude", "-GPSTimeStamp",
                                                   "-Artist", "-Copyright", "-Make", path])
            XCTAssertEqual(r.status, 0, r.stderr)
            let tags = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])?.first)
            return Read(latitude: tags["GPSLatitude"] as? Double, longitude: tags["GPSLongitude"] as? Double,
                        altitude: tags["GPSAltitude"] as? Double, time: tags["GPSTimeStamp"].map { "\($0)" },
                        artist: tags["Artist"] as? String, copyright: tags["Copyright"] as? String, make: tags["Make"] as? String)
        }
        func assertLocated(_ got: Read, _ label: String) {
            XCTAssertEqual(got.latitude ?? 0, sydney.latitude!, accuracy: 1e-7, label)
            XCTAssertEqual(got.longitude ?? 0, sydney.longitude!, accuracy: 1e-7, label)
            XCTAssertEqual(got.altitude ?? 0, 4.25, accuracy: 1e-3, label)
            XCTAssertEqual(got.time, "19:45:27.5", label)
            XCTAssertEqual(got.artist, "Ada Lovelace", label)
            XCTAssertEqual(got.copyright, "© 2026 Ada Lovelace", label)
        }
        assertLocated(try read(input.path), "the raw")
        let info = try emulsion(["info", input.path])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("Artist:          Ada Lovelace\nCopyright:       © 2026 Ada Lovelace\n"), info.stdout)
        XCTAssertTrue(info.stdout.contains("Location:        33.856784° S, 151.215297° E, 4.2 m, fix at 19:45:27 UTC\n"), info.stdout)
        for name in ["out.png", "out.jpg", "out.tif"] {
            let out = dir.appendingPathComponent(name).path
            var r = try emulsion(["process", input.path, "-o", out])
            XCTAssertEqual(r.status, 0, r.stderr)
            assertLocated(try read(out), name)
            // ExifTool asks a TIFF's GPS IFD for GPSProcessingMethod, which LibRaw does not read
            // from the raw; inventing one ("GPS" for a phone's fused fix) would be false.
            let validation = try TestSupport.run(exiftool, ["-validate", "-warning", "-a", out])
            let warnings = validation.stdout.split(separator: "\n").filter { $0.contains("Warning") && !$0.contains("Validate") }
            XCTAssertEqual(warnings.map { String($0.split(separator: ":", maxSplits: 1)[1]).trimmingCharacters(in: .whitespaces) },
                           name.hasSuffix(".tif") ? ["Missing required TIFF GPS tag 0x001b GPSProcessingMethod"] : [], validation.stdout)
            r = try emulsion(["process", input.path, "-o", out, "--overwrite", "--strip-location"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let stripped = try read(out)
            XCTAssertNil(stripped.latitude, name)
            XCTAssertNil(stripped.time, name)
            XCTAssertEqual(stripped.artist, "Ada Lovelace", name)
            XCTAssertEqual(stripped.copyright, "© 2026 Ada Lovelace", name)
            XCTAssertEqual(stripped.make, "Emulsion", name)
            let gps = try TestSupport.run(exiftool, ["-gps:all", "-s", out])
            XCTAssertEqual(gps.stdout, "", "\(name) keeps a GPS tag")
        }
    }

    /// A camera's own copyright notice (LibRaw 0.20 does not keep it; `RawFile` reads IFD0): the
    /// Kodak DC50 sample's, as ExifTool reads it from the raw, reaches the output.
    func testACamerasCopyrightReachesTheOutput() throws {
        let exiftool = try tool("exiftool")
        let input = try sample("kodak-dc50-sample.kdc")
        let expected = try TestSupport.run(exiftool, ["-s3", "-Copyright", input]).stdout
        XCTAssertEqual(expected, "Kodak Digital Camera 50\n")
        let out = dir.appendingPathComponent("k.jpg").path
        let r = try emulsion(["process", input, "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try TestSupport.run(exiftool, ["-s3", "-Copyright", out]).stdout, expected)
    }

    /// The photographer's rating reaches every format as XMP (xmp:Rating: a PNG's iTXt
    /// "XML:com.adobe.xmp", a JPEG's APP1, a TIFF's tag 700), where ExifTool reads it and finds
    /// nothing to warn about: the raw's own rating (Exif Rating, as ExifTool reads it from the DNG
    /// Emulsion writes), then a darktable sidecar's, which wins (here a rejected picture, −1,
    /// which Exif's tag could not say), and a sidecar's colour labels with the raw's own rating;
    /// a raw with neither gets no XMP at all.
    func testARatingReachesEveryFormat() throws {
        let exiftool = try tool("exiftool")
        var raw = ChartReport.chartScene.raw
        raw.metadata.rating = 3
        let input = dir.appendingPathComponent("rated.dng")
        try DNGWriter.write(raw, to: input)
        XCTAssertEqual(try TestSupport.run(exiftool, ["-s3", "-EXIF:Rating", input.path]).stdout, "3\n")
        raw.metadata.rating = nil
        let unrated = dir.appendingPathComponent("unrated.dng")
        try DNGWriter.write(raw, to: unrated)
        for name in ["out.png", "out.jpg", "out.tif"] {
            let out = dir.appendingPathComponent(name).path
            var r = try emulsion(["process", input.path, "-o", out, "--overwrite"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try TestSupport.run(exiftool, ["-s3", "-XMP-xmp:Rating", out]).stdout, "3\n", name)
            let validation = try TestSupport.run(exiftool, ["-validate", "-warning", "-a", "-s3", out])
            XCTAssertEqual(validation.stdout.split(separator: "\n").first, "OK", "\(name): \(validation.stdout)")
            try Data(#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="-1"/></x:xmpmeta>"#.utf8)
                .write(to: URL(fileURLWithPath: input.path + ".xmp"))
            r = try emulsion(["process", input.path, "-o", out, "--overwrite"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try TestSupport.run(exiftool, ["-s3", "-XMP-xmp:Rating", out]).stdout, "-1\n", name)
            // A sidecar's colour labels too: Lightroom's xmp:Label (the first) and darktable's
            // whole list, as ExifTool reads them back (darktable's namespace is one it knows).
            try Data(("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:Description xmlns:darktable=\"http://darktable.sf.net/\">"
                      + "<darktable:colorlabels><rdf:Seq><rdf:li>4</rdf:li><rdf:li>2</rdf:li></rdf:Seq></darktable:colorlabels>"
                      + "</rdf:Description></x:xmpmeta>").utf8).write(to: URL(fileURLWithPath: input.path + ".xmp"))
            r = try emulsion(["process", input.path, "-o", out, "--overwrite"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try TestSupport.run(exiftool, ["-s3", "-XMP-xmp:Rating", "-XMP-xmp:Label", "-XMP-darktable:ColorLabels", out]).stdout,
                           "3\nGreen\n2, 4\n", name)
            let labelled = try TestSupport.run(exiftool, ["-validate", "-warning", "-a", "-s3", out])
            XCTAssertEqual(labelled.stdout.split(separator: "\n").first, "OK", "\(name): \(labelled.stdout)")
            try FileManager.default.removeItem(atPath: input.path + ".xmp")
            r = try emulsion(["process", unrated.path, "-o", out, "--overwrite"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try TestSupport.run(exiftool, ["-s3", "-XMP:all", out]).stdout, "", name)
        }
    }
}

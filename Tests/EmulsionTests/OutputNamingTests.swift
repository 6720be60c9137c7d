import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// `emulsion process --name TEMPLATE` (`OutputNaming`): outputs named and filed by the input's
/// name and the shot's header. References: ExifTool (Phil Harvey) for the capture time each raw
/// records (DateTimeOriginal, else ModifyDate: what LibRaw reads), LibRaw's own raw-identify for
/// the camera's name and ISO (LibRaw's normalised names: "Nikon D1X", not Exif's "NIKON
/// CORPORATION", "NIKON D1X"), and the template grammar as `OutputNaming` documents it. Exact string
/// comparisons: names are text, there is nothing to tolerate.
final class OutputNamingTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = TestSupport.temporaryDirectory("emulsion-naming") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func emulsion(_ arguments: [String], environment: [String: String]? = nil) throws -> TestSupport.RunResult {
        let binary = TestSupport.emulsionBinary
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            if TestSupport.inCI { XCTFail("emulsion binary not built") }
            throw XCTSkip("emulsion binary not built")
        }
        return try TestSupport.run(binary, arguments, timeout: 300,
                                   environment: ["EMULSION_PROFILES": TestSupport.repositoryRoot.appendingPathComponent("Profiles").path]
                                       .merging(environment ?? [:]) { $1 })
    }

    func samples(_ names: [String]) throws -> [String] { try names.map(sample) }

    func values(_ path: String, subfolder: String = "", look: String = "neutral", sequence: Int = 1, count: Int = 1,
                shot: ShotMetadata? = nil) -> OutputNaming.Values {
        OutputNaming.Values(input: InputFolders.Found(path: path, subfolder: subfolder), look: look, sequence: sequence,
                            count: count, shot: shot)
    }

    /// The grammar: what a template may not be is a usage error naming the template and the
    /// problem, before anything runs.
    func testTemplatesThatCannotNameAnOutputAreRefused() throws {
        let refused: [(String, String)] = [
            ("{nme}", "no variable {nme}; the variables are {name} {ext}"),
            ("{Name}", "no variable {Name}"),
            ("{name", "a { without its }"),
            ("x}", "a } without its {"),
            ("", "an empty template"),
            ("/srv/{name}", "an absolute path"),
            ("{name}/", "ends in a folder"),
            ("../{name}", "a . or .. folder"),
            ("a/./{name}", "a . or .. folder"),
            ("{name}.png", "ends in .png; leave the extension out"),
            ("{name}.JPG", "ends in .jpg"),
            ("{name}.tiff", "ends in .tiff"),
        ]
        for (template, problem) in refused {
            XCTAssertThrowsError(try OutputNaming(parsing: template), template) { error in
                XCTAssertTrue("\(error)".hasPrefix("--name \(template): "), "\(error)")
                XCTAssertTrue("\(error)".contains(problem), "\(template): \(error)")
            }
        }
        // Braces doubled are literal; a dot that is not an image extension stays.
        let literal = try OutputNaming(parsing: "{{draft}}-{name}.v2")
        XCTAssertEqual(literal.path(for: values("/in/IMG_1.CR2")), "{draft}-IMG_1.v2")
        XCTAssertFalse(literal.needsShot)
        XCTAssertTrue(try OutputNaming(parsing: "{year}/{name}").needsShot)
        XCTAssertFalse(try OutputNaming(parsing: "{subfolder}/{seq}").needsShot)
        // The CLI refuses the same before it runs, and `--name` with `-o`.
        let r = try emulsion(["process", "x.dng", "--out-dir", dir.path, "--name", "{nme}"])
        XCTAssertEqual(r.status, 64)
        XCTAssertTrue(r.stderr.contains("--name {nme}: no variable {nme}"), r.stderr)
        let o = try emulsion(["process", "x.dng", "-o", "x.png", "--name", "{name}"])
        XCTAssertEqual(o.status, 64)
        XCTAssertTrue(o.stderr.contains("--name names outputs in the output folder: use --out-dir, not -o"), o.stderr)
    }

    /// Values never make folders or leave the output folder; only {subfolder} carries levels;
    /// missing header fields read as documented.
    func testValuesAreOneNamePartEach() throws {
        var shot = ShotMetadata()
        shot.make = "RaspberryPi"
        shot.model = "PiDNG / PiCamera2"
        shot.lens = ".."
        shot.iso = 99.6
        let naming = try OutputNaming(parsing: "{subfolder}/{make}/{model}_{lens}_{iso}_{date}_{time}_{seq}_{ext}_{look}")
        XCTAssertEqual(naming.path(for: values("/in/a.dng", subfolder: "2024/trip", look: "film-slide", sequence: 7, count: 12,
                                               shot: shot)),
                       "2024/trip/RaspberryPi/PiDNG _ PiCamera2___100_0000-00-00_000000_0007_dng_film-slide")
        // No subfolder: its empty level is dropped. An unknown make and a wide batch's sequence.
        XCTAssertEqual(naming.path(for: values("/in/a.dng", sequence: 31, count: 12_345, shot: ShotMetadata())),
                       "unknown/unknown_unknown_0_0000-00-00_000000_00031_dng_neutral")
        XCTAssertEqual(try OutputNaming(parsing: "{name}_{folder}").path(for: values("/in/ta\nb/x\u{1}y.z.nef")), "x_y.z_ta_b")
        XCTAssertNil(try OutputNaming(parsing: "{subfolder}").path(for: values("/in/a.dng")))
        // Text and an empty value that make a level ".." together stay inside the output folder.
        XCTAssertEqual(try OutputNaming(parsing: "{ext}../{ext}./{name}").path(for: values("/in/README")), "_/_/README")
    }

    /// Capture time, camera and ISO from every sample's header, against ExifTool and
    /// raw-identify, through the CLI (the decode worker reads the headers), with the process in
    /// New York: the time is the camera's clock, whatever the zone of the machine.
    func testShotVariablesAgreeWithExifToolAndRawIdentify() throws {
        guard let exiftool = TestSupport.which("exiftool"), let identify = TestSupport.which("raw-identify") else {
            if TestSupport.inCI { XCTFail("exiftool or raw-identify missing") }
            throw XCTSkip("exiftool or raw-identify missing")
        }
        let inputs = try samples(["canon-eos_6d-lossy_linear.dng", "google-pixel_7-digizoom_crop.dng", "nikon-d1x-lossy.nef",
                                  "kodak-dc50-sample.kdc", "raspberrypi-gs_camera_imx296-lightspot.dng", "lg-g4_h815-lossy_linear.dng"])
        let report = dir.appendingPathComponent("report.json").path
        let r = try emulsion(["process"] + inputs + ["--out-dir", dir.path, "--name", "{year}/{date}/{time}_{make} {model}_{iso}_{name}",
                                                      "--max-size", "48", "--format", "jpeg", "--report", report],
                             environment: ["TZ": "America/New_York"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let entries = try reportEntries(report)
        XCTAssertEqual(entries.count, inputs.count)
        for (input, entry) in zip(inputs, entries) {
            let name = URL(fileURLWithPath: input).deletingPathExtension().lastPathComponent
            let tags = try TestSupport.run(exiftool, ["-s3", "-d", "%Y|%Y-%m-%d|%H%M%S", "-DateTimeOriginal", "-ModifyDate", input])
            let date = tags.stdout.split(separator: "\n").first?.split(separator: "|").map(String.init) ?? ["0000", "0000-00-00", "000000"]
            // "FILE is a MAKE MODEL image.", and "ISO speed: N" with -v; a "/" in a model is "_".
            let camera = try TestSupport.run(identify, [input]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                .replacingOccurrences(of: "\(input) is a ", with: "").replacingOccurrences(of: " image.", with: "")
                .replacingOccurrences(of: "/", with: "_")
            let iso = try TestSupport.run(identify, ["-v", input]).stdout.split(separator: "\n")
                .first { $0.hasPrefix("ISO speed: ") }.flatMap { Double($0.dropFirst("ISO speed: ".count)) }.map { String(Int($0.rounded())) } ?? "?"
            let expected = dir.appendingPathComponent("\(date[0])/\(date[1])/\(date[2])_\(camera)_\(iso)_\(name).jpg").path
            XCTAssertEqual(entry["output"] as? String, expected, input)
            XCTAssertTrue(FileManager.default.fileExists(atPath: expected), expected)
        }
    }

    /// Outputs that would meet at one name are found before anything is written; several looks
    /// need {look}; with it, each look files its own.
    func testCollisionsAreRefusedBeforeAnythingIsWritten() throws {
        let inputs = try samples(["blackmagic-pocket_cinema_camera-frame.dng", "canon-eos_kiss_x4-colorchart_crop.dng"])
        var r = try emulsion(["process"] + inputs + ["--out-dir", dir.path, "--name", "{date}"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("would both be written to \(dir.path)/0000-00-00.png; make --name tell them apart ({name}, {seq}, {subfolder} with -r)"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
        r = try emulsion(["process", inputs[0], "--out-dir", dir.path, "--profile", "neutral,leica-vibrant", "--name", "{name}"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("2 profiles would write one file per raw; add {look}"), r.stderr)
        r = try emulsion(["process"] + inputs + ["--out-dir", dir.path, "--profile", "neutral,leica-vibrant", "--name", "{look}/{seq}",
                                                 "--max-size", "32"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for look in ["neutral", "leica-vibrant"] {
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent(look).path).sorted(),
                           ["0001.png", "0002.png"])
        }
        // The sequence is the inputs' order by path, the same in every shard.
        let shard = dir.appendingPathComponent("shard")
        r = try emulsion(["process"] + inputs.reversed() + ["--out-dir", shard.path, "--name", "{seq}-{name}", "--shard", "2/2", "--max-size", "32"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: shard.path), ["0002-canon-eos_kiss_x4-colorchart_crop.png"])
    }

    /// A raw whose header cannot be read fails alone, in one line, and the rest is rendered; a
    /// batch run again with --skip-existing finds the outputs by their templated names.
    func testAnUnreadableHeaderFailsItsFileAlone() throws {
        let good = try samples(["lg-g4_h815-lossy_linear.dng"])[0]
        let bad = dir.appendingPathComponent("cut.nef").path
        try Data(Data(contentsOf: URL(fileURLWithPath: try samples(["nikon-d1x-lossy.nef"])[0])).prefix(5000)).write(to: URL(fileURLWithPath: bad))
        let out = dir.appendingPathComponent("out")
        let report = dir.appendingPathComponent("report.json").path
        var r = try emulsion(["process", good, bad, "--out-dir", out.path, "--name", "{date}/{name}", "--max-size", "32", "--report", report])
        XCTAssertEqual(r.status, 1, r.stderr)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(lines.first?.hasPrefix("emulsion: \(bad): ") == true, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("2015-06-08/lg-g4_h815-lossy_linear.png").path))
        let entries = try reportEntries(report)
        XCTAssertEqual(entries.map { $0["status"] as? String }, ["written", "failed"])
        XCTAssertNil(entries[1]["output"], "a file that was never named has no output")
        r = try emulsion(["process", good, "--out-dir", out.path, "--name", "{date}/{name}", "--max-size", "32", "--skip-existing"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("exists, \(good) skipped"), r.stdout)
    }

    /// `--min-rating` renders the picks: a darktable sidecar (NAME.EXT.xmp) and a Lightroom one
    /// (NAME.xmp) before the raw's own rating; unrated counts as 0 and rejected as −1, so
    /// `--min-rating 0` leaves out only the rejected. What it leaves out is in the summary and the
    /// report; `{rating}` files by stars; the shard and `{seq}` count every input all the same.
    func testMinRatingRendersThePicks() throws {
        let sources = try samples(["lg-g4_h815-lossy_linear.dng", "canon-eos_6d-lossy_linear.dng", "google-pixel_7-digizoom_crop.dng"])
        let shoot = dir.appendingPathComponent("shoot")
        try FileManager.default.createDirectory(at: shoot, withIntermediateDirectories: true)
        var inputs: [String] = []
        for source in sources {
            let copy = shoot.appendingPathComponent(URL(fileURLWithPath: source).lastPathComponent).path
            try FileManager.default.copyItem(atPath: source, toPath: copy)
            inputs.append(copy)
        }
        func sidecar(_ path: String, _ rating: String) throws {
            try Data("""
                <x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
                <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="\(rating)"/></rdf:RDF></x:xmpmeta>
                """.utf8).write(to: URL(fileURLWithPath: path))
        }
        try sidecar(inputs[0] + ".xmp", "4")                                               // darktable's name: 4 stars
        try sidecar(shoot.appendingPathComponent("canon-eos_6d-lossy_linear.xmp").path, "-1")  // Lightroom's: rejected
        // The Pixel has no sidecar and records no rating: unrated.
        let report = dir.appendingPathComponent("report.json").path
        var r = try emulsion(["process", shoot.path, "--out-dir", dir.appendingPathComponent("picks").path, "--min-rating", "3",
                              "--max-size", "32", "--report", report])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("1 written, 2 below --min-rating 3, 0 failed"), r.stdout)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("picks").path), ["lg-g4_h815-lossy_linear.png"])
        let entries = try reportEntries(report)
        XCTAssertEqual(entries.map { $0["status"] as? String }, ["written", "below-rating", "below-rating"])
        XCTAssertEqual(entries.dropFirst().map { $0["rating"] as? Int }, [-1, 0])
        XCTAssertEqual(entries.dropFirst().map { $0["input"] as? String }, [inputs[1], inputs[2]])
        r = try emulsion(["process", shoot.path, "--out-dir", dir.appendingPathComponent("stars").path, "--min-rating", "0",
                          "--name", "{rating}/{seq}", "--max-size", "32"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let stars = dir.appendingPathComponent("stars")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: stars.path).sorted(), ["0", "4"])
        // By path: canon (0001, rejected), google (0002), lg (0003).
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: stars.appendingPathComponent("0").path), ["0002.png"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: stars.appendingPathComponent("4").path), ["0003.png"])
        // A raw whose sidecar gives the rating is not opened to select it: a worker told to hang
        // on the LG copy (`IsolatedDecoding.stallIfAskedTo`) is never asked for it, so the run
        // ends at once instead of at the decode limit; the Pixel, which has no sidecar, is read.
        r = try emulsion(["process", shoot.path, "--out-dir", dir.appendingPathComponent("fast").path, "--min-rating", "5",
                          "--decode-timeout", "20", "--dry-run"], environment: ["EMULSION_TEST_STALL_DECODE": inputs[0]])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasSuffix("dry run: 0 to write, 3 below --min-rating 5, 0 would fail\n"), r.stdout)
        r = try emulsion(["process", shoot.path, "--min-rating", "6"])
        XCTAssertEqual(r.status, 64)
        XCTAssertTrue(r.stderr.contains("--min-rating must be 0…5"), r.stderr)
    }

    /// `--label` renders the raws with one of the colour labels asked for, from darktable's
    /// sidecar list or Lightroom's xmp:Label (XMPLabelsTests hold the parsing to darktable's
    /// exif.cc); what it leaves out is in the summary and the report; `{label}` files by them.
    /// The labels come from the sidecars alone: a worker told to hang on a raw is never asked.
    func testLabelRendersTheLabelledRaws() throws {
        let source = try samples(["google-pixel_7-digizoom_crop.dng"])[0]
        let shoot = dir.appendingPathComponent("shoot")
        try FileManager.default.createDirectory(at: shoot, withIntermediateDirectories: true)
        let inputs = try ["a", "b", "c"].map { name -> String in
            let copy = shoot.appendingPathComponent(name + ".dng").path
            try FileManager.default.copyItem(atPath: source, toPath: copy)
            return copy
        }
        let head = #"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">"#
        let darktable = #"<rdf:Description rdf:about="" xmlns:darktable="http://darktable.sf.net/"><darktable:colorlabels><rdf:Seq>"#
            + "<rdf:li>2</rdf:li><rdf:li>0</rdf:li></rdf:Seq></darktable:colorlabels></rdf:Description></rdf:RDF></x:xmpmeta>"
        try Data((head + darktable).utf8).write(to: URL(fileURLWithPath: inputs[0] + ".xmp"))      // darktable's: green and red
        try Data((head + #"<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Label="Purple"/></rdf:RDF></x:xmpmeta>"#).utf8)
            .write(to: shoot.appendingPathComponent("b.xmp"))                                      // Lightroom's: purple
        // c has no sidecar: unlabelled.
        let report = dir.appendingPathComponent("report.json").path
        var r = try emulsion(["process", shoot.path, "--out-dir", dir.appendingPathComponent("greens").path, "--label", "green",
                              "--max-size", "32", "--report", report])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("1 written, 2 without --label green, 0 failed"), r.stdout)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("greens").path), ["a.png"])
        let entries = try reportEntries(report)
        XCTAssertEqual(entries.map { $0["status"] as? String }, ["written", "without-label", "without-label"])
        XCTAssertEqual(entries.dropFirst().map { $0["labels"] as? [String] }, [["purple"], []])
        // Several colours; {label} files by them (several joined by "+", none as "unlabelled").
        // A worker that would hang on the raw without a sidecar is never asked: the plan is
        // made from the sidecars alone.
        let all = dir.appendingPathComponent("all").path
        r = try emulsion(["process", shoot.path, "--out-dir", all, "--name", "{label}/{name}",
                          "--label", "purple, red", "--decode-timeout", "20", "--dry-run"],
                         environment: ["EMULSION_TEST_STALL_DECODE": inputs[2]])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "\(inputs[0]) → \(all)/red+green/a.png\n\(inputs[1]) → \(all)/purple/b.png\n"
                       + "dry run: 2 to write, 1 without --label purple, red, 0 would fail\n")
        r = try emulsion(["process", shoot.path, "--out-dir", all, "--name", "{label}/{name}", "--dry-run"])
        XCTAssertTrue(r.stdout.contains("\(inputs[2]) → \(all)/unlabelled/c.png"), r.stdout)
        for bad in ["orange", "green,", ""] {
            r = try emulsion(["process", shoot.path, "--label", bad])
            XCTAssertEqual(r.status, 64, bad)
            XCTAssertTrue(r.stderr.contains("expected colour labels separated by commas: red, yellow, green, blue, purple"), r.stderr)
        }
        r = try emulsion(["info", inputs[0]])
        XCTAssertTrue(r.stdout.contains("Labels:          red, green (from \(inputs[0]).xmp)"), r.stdout)
    }

    /// An XMP sidecar that is there but cannot be read fails its raw in one line naming the
    /// sidecar, rather than the raw being taken as unrated (or as whatever it records itself):
    /// a rejected picture must not slip into the picks. Root reads any file, so as root the run
    /// is made without capabilities (`setpriv`), which leaves uid 0 to the permission bits.
    func testAnUnreadableSidecarFailsItsRaw() throws {
        let binary = TestSupport.emulsionBinary
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            if TestSupport.inCI { XCTFail("emulsion binary not built") }
            throw XCTSkip("emulsion binary not built")
        }
        let raw = dir.appendingPathComponent("shot.dng").path
        try FileManager.default.copyItem(atPath: try samples(["lg-g4_h815-lossy_linear.dng"])[0], toPath: raw)
        let sidecar = raw + ".xmp"
        try Data(#"<d xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="-1"/>"#.utf8).write(to: URL(fileURLWithPath: sidecar))
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: sidecar)
        let environment = ["EMULSION_PROFILES": TestSupport.repositoryRoot.appendingPathComponent("Profiles").path]
        guard TestSupport.deniesUnprivileged(["/bin/cat", sidecar]) else { throw XCTSkip("cannot make a file unreadable for this user") }
        let out = dir.appendingPathComponent("picks").path
        for extra in [["--min-rating", "0"], ["--name", "{rating}-{name}"]] {
            let r = try TestSupport.runUnprivileged(binary, ["process", raw, "--out-dir", out, "--max-size", "32"] + extra,
                                                    environment: environment)
            XCTAssertEqual(r.status, 1, "\(extra): \(r.stderr)")
            XCTAssertEqual(r.stderr, "emulsion: \(raw): cannot read its XMP sidecar \(sidecar): Permission denied\n", "\(extra)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/shot.png"))
        }
        // With darktable's sidecar readable and rated, an unreadable Lightroom sidecar after it
        // holds nothing a rating needs: `--min-rating` renders the raw (its output rated 4, from
        // the first sidecar); `--label` must fail it, the labels may be in the unreadable one.
        try FileManager.default.moveItem(atPath: sidecar, toPath: dir.appendingPathComponent("shot.xmp").path)
        let lightroom = dir.appendingPathComponent("shot.xmp").path
        try Data(#"<d xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4"/>"#.utf8).write(to: URL(fileURLWithPath: sidecar))
        var r = try TestSupport.runUnprivileged(binary, ["process", raw, "--out-dir", out, "--max-size", "32", "--min-rating", "3"],
                                                environment: environment)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try XMPRating.rating(inPacket: PNGChunk.texts(in: [UInt8](Data(contentsOf: URL(fileURLWithPath: out + "/shot.png"))))
            .first { $0.keyword == "XML:com.adobe.xmp" }.map { Array($0.text.utf8) } ?? []), 4)
        r = try TestSupport.runUnprivileged(binary, ["process", raw, "--out-dir", out, "--max-size", "32", "--label", "green", "--overwrite"],
                                            environment: environment)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr, "emulsion: \(raw): cannot read its XMP sidecar \(lightroom): Permission denied\n")
    }

    /// `--dry-run` prints where each input would go (after the template, the rating filter and
    /// `--skip-existing`) and what would fail, and writes nothing: not the output folder, not a
    /// subfolder, not a worker's decode.
    func testADryRunPrintsThePlanAndWritesNothing() throws {
        let inputs = try samples(["lg-g4_h815-lossy_linear.dng", "google-pixel_7-digizoom_crop.dng"])
        let out = dir.appendingPathComponent("library")
        let arguments = ["process"] + inputs + ["--out-dir", out.path, "--name", "{year}/{date}/{name}", "--max-size", "32"]
        var r = try emulsion(arguments + ["--dry-run"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let first = out.appendingPathComponent("2015/2015-06-08/lg-g4_h815-lossy_linear.png").path
        let second = out.appendingPathComponent("2024/2024-07-04/google-pixel_7-digizoom_crop.png").path
        XCTAssertEqual(r.stdout, "\(inputs[0]) → \(first)\n\(inputs[1]) → \(second)\ndry run: 2 to write, 0 would fail\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "a dry run made the output folder")
        // One output there: without --overwrite it would fail, with --skip-existing it is skipped.
        r = try emulsion(["process", inputs[0], "--out-dir", out.path, "--name", "{year}/{date}/{name}", "--max-size", "32"])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try emulsion(arguments + ["--dry-run"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "emulsion: \(first): already exists (use --overwrite to replace it)\n")
        XCTAssertTrue(r.stdout.hasSuffix("dry run: 1 to write, 1 would fail\n"), r.stdout)
        r = try emulsion(["process"] + inputs + ["--out-dir", out.path, "--dry-run", "--skip-existing", "--profile", "neutral,film-chrome",
                                                 "--name", "{look}/{name}"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\(inputs[1]) → \(out.path)/film-chrome/google-pixel_7-digizoom_crop.png (film-chrome)\n"), r.stdout)
        XCTAssertTrue(r.stdout.hasSuffix("dry run: 4 to write, 0 skipped (output exists), 0 would fail\n"), r.stdout)
        // A raw whose header cannot be read would fail: said on standard error, counted, exit 1.
        let cut = dir.appendingPathComponent("cut.dng").path
        try Data(Data(contentsOf: URL(fileURLWithPath: inputs[0])).prefix(3000)).write(to: URL(fileURLWithPath: cut))
        r = try emulsion(["process", cut, inputs[1], "--out-dir", out.path, "--name", "{date}/{name}", "--dry-run", "--overwrite"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("emulsion: \(cut): "), r.stderr)
        XCTAssertEqual(r.stdout, "\(inputs[1]) → \(out.path)/2024-07-04/google-pixel_7-digizoom_crop.png\ndry run: 1 to write, 1 would fail\n")
        for (extra, problem) in [([String](), "--dry-run plans the inputs given"), (["x.dng", "--report", "r.json"], "--dry-run prints the plan")] {
            r = try emulsion(["process", "--dry-run"] + extra)
            XCTAssertEqual(r.status, 64, r.stderr)
            XCTAssertTrue(r.stderr.contains(problem), r.stderr)
        }
    }
}

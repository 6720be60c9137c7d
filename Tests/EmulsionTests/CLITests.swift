import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The `emulsion` binary as a user runs it: outputs, exit codes, and one-line errors for bad input.
final class CLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = TestSupport.temporaryDirectory("emulsion-cli") }
    override func tearDownWithError() throws {
        _ = try? TestSupport.run("/bin/chmod", ["-R", "u+w", dir.path])
        try? FileManager.default.removeItem(at: dir)
    }

    /// The CLI built beside the test bundle (`swift build` builds it; the README's test command runs that first).
    static var binary: String { TestSupport.emulsionBinary }

    /// `binary`, where it is built; else the test is skipped, and in CI (whose test command builds
    /// it first) it also fails.
    static func builtBinary() throws -> String {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            if TestSupport.inCI { XCTFail("emulsion binary not built at \(binary): run `swift build` first") }
            throw XCTSkip("emulsion binary not built at \(binary)")
        }
        return binary
    }

    @discardableResult
    func emulsion(_ arguments: [String], timeout: TimeInterval = 180) throws -> TestSupport.RunResult {
        return try TestSupport.run(Self.builtBinary(), arguments, timeout: timeout,
                                   environment: ["EMULSION_PROFILES": TestSupport.repositoryRoot.appendingPathComponent("Profiles").path])
    }

    /// A folder `name` under `dir` (made with its parents) holding a copy of each sample, under the
    /// name it maps to.
    func folder(_ name: String, holding copies: KeyValuePairs<String, String>) throws -> URL {
        let folder = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (sampleName, copyName) in copies {
            try FileManager.default.copyItem(atPath: try sample(sampleName), toPath: folder.appendingPathComponent(copyName).path)
        }
        return folder
    }

    /// Files left in the output folder (temporaries start with a dot and must not survive).
    func leftovers() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted() }

    func assertOneLineError(_ r: TestSupport.RunResult, mentions: [String], status: Int32? = nil, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(r.status, 0, "expected failure; stderr: \(r.stderr)", file: file, line: line)
        if let status { XCTAssertEqual(r.status, status, r.stderr, file: file, line: line) }
        let lines = r.stderr.split(separator: "\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines.count, 1, "expected one line, got: \(r.stderr)", file: file, line: line)
        for m in mentions { XCTAssertTrue(r.stderr.contains(m), "\(r.stderr) should mention \(m)", file: file, line: line) }
        XCTAssertFalse(r.stderr.contains("Fatal error") || r.stderr.contains("Stack dump"), r.stderr, file: file, line: line)
    }

    /// `process` forks its decode worker before it reads its arguments
    /// (`DecodeWorkerPool.forkEarlyWorker`). Where the run then never takes it — a bad option,
    /// `--help`, a missing profile — the worker must end with the run, not linger.
    func testAnEarlyDecodeWorkerEndsWithTheRun() throws {
        let binary = try Self.builtBinary()
        let input = try sample("google-pixel_7-digizoom_crop.dng")
        let executable = URL(fileURLWithPath: binary).resolvingSymlinksInPath().path
        /// Processes running this binary (a forked worker's /proc/PID/exe is the binary too).
        func running() -> Set<Int32> {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return Set(entries.compactMap(Int32.init).filter {
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/exe")) == executable
            })
        }
        let before = running()
        let out = dir.appendingPathComponent("x.png").path
        for (arguments, status) in [(["process", "--no-such-option", input], Int32(64)), (["process", "--help"], 0),
                                    (["process", "--profile", "no-such-profile", input, "-o", out], 2)] {
            let r = try emulsion(arguments, timeout: 60)
            XCTAssertEqual(r.status, status, "\(arguments): \(r.stderr)")
            var left = running().subtracting(before)
            let deadline = Date().addingTimeInterval(5)
            while !left.isEmpty && Date() < deadline {
                usleep(10_000)
                left = running().subtracting(before)
            }
            XCTAssertEqual(left, [], "\(arguments): processes left running")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testProcessWritesSixteenBitPNGWithICC() throws {
        let input = try sample("canon-eos_kiss_x4-colorchart_crop.dng")
        let out = dir.appendingPathComponent("chart.png").path
        let r = try emulsion(["process", input, "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let png = try PNGFile.read(path: out)
        XCTAssertEqual(png.width, 1734)
        XCTAssertEqual(png.height, 1156)
        XCTAssertEqual(png.bitDepth, 16)
        let icc = try XCTUnwrap(png.iccProfile)
        XCTAssertEqual(icc, try OutputSpace.sRGB.iccProfile())
        if let identify = TestSupport.which("identify") {
            let info = try TestSupport.run(identify, ["-verbose", out])
            XCTAssertTrue(info.stdout.contains("Profile-icc"), "identify sees no ICC profile")
            XCTAssertTrue(info.stdout.contains("Depth: 16-bit"), info.stdout.prefix(400).description)
        } else if TestSupport.inCI {
            XCTFail("ImageMagick identify is required in CI")
        }
        XCTAssertEqual(leftovers(), ["chart.png"])
    }

    func testEightBitAndEverySpace() throws {
        let input = try sample("lg-g4_h815-lossy_linear.dng")
        for space in OutputSpace.allCases {
            let out = dir.appendingPathComponent("\(space.rawValue).png").path
            let r = try emulsion(["process", input, "-o", out, "--space", space.rawValue, "--bits", "8"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let png = try PNGFile.read(path: out)
            XCTAssertEqual(png.bitDepth, 8)
            XCTAssertEqual(png.iccProfile, try space.iccProfile(), space.rawValue)
        }
    }

    func testDefaultInputIsTheSyntheticChart() throws {
        let r = try emulsion(["process", "--out-dir", dir.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(leftovers().contains("emulsion-synthetic-chart.dng"))
        XCTAssertTrue(leftovers().contains("emulsion-synthetic-chart.png"))
    }

    func testBadInputsGiveOneLineErrors() throws {
        let text = dir.appendingPathComponent("notes.dng")
        try "not a raw file\n".write(to: text, atomically: false, encoding: .utf8)
        let truncated = dir.appendingPathComponent("truncated.dng")
        let real = try Data(contentsOf: URL(fileURLWithPath: try sample("raspberrypi-gs_camera_imx296-lightspot.dng")))
        try real.prefix(real.count / 3).write(to: truncated)
        let empty = dir.appendingPathComponent("empty.nef")
        XCTAssertTrue(FileManager.default.createFile(atPath: empty.path, contents: Data()))
        let outDir = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)

        for (input, mention) in [(dir.appendingPathComponent("missing.dng").path, "no such file"),
                                 (text.path, "not a raw file"), (empty.path, "empty"), (truncated.path, "truncated.dng")] {
            let r = try emulsion(["process", input, "--out-dir", outDir.path])
            assertOneLineError(r, mentions: [input, mention], status: 1)
        }
        // A folder stands for its raw files (testFolderInputsStandForTheirRawFiles); this one's
        // three are the bad files above, each named on its own line.
        let r = try emulsion(["process", dir.path, "--out-dir", outDir.path])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 3, r.stderr)
        for file in [empty, text, truncated] { XCTAssertTrue(r.stderr.contains("emulsion: \(file.path): "), r.stderr) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outDir.path), [], "no partial outputs")
    }

    func testUnwritableOutputFolder() throws {
        guard getuid() != 0 else {
            // root ignores write permission bits; a folder that does not exist fails the same way for everyone.
            let r = try emulsion(["process", try sample("lg-g4_h815-lossy_linear.dng"), "-o", dir.appendingPathComponent("nope/deeper/x.png").path])
            assertOneLineError(r, mentions: ["nope/deeper", "does not exist"], status: 1)
            return
        }
        let locked = dir.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: locked.path)
        let r = try emulsion(["process", try sample("lg-g4_h815-lossy_linear.dng"), "--out-dir", locked.path])
        assertOneLineError(r, mentions: ["locked", "not writable"], status: 1)
    }

    func testProfileErrors() throws {
        let input = try sample("lg-g4_h815-lossy_linear.dng")
        var r = try emulsion(["process", input, "--out-dir", dir.path, "--profile", "no-such-look"])
        assertOneLineError(r, mentions: ["no-such-look", "no such profile"], status: 2)
        let typo = dir.appendingPathComponent("typo.json")
        try #"{"schemaVersion": 1, "name": "typo", "exposure": {"evv": 1}}"#.write(to: typo, atomically: false, encoding: .utf8)
        r = try emulsion(["process", input, "--out-dir", dir.path, "--profile", typo.path])
        assertOneLineError(r, mentions: [typo.path, "exposure.evv", "unknown parameter", "ev"], status: 2)
        r = try emulsion(["process", input, "--out-dir", dir.path, "--set", "exposure.ev=42"])
        assertOneLineError(r, mentions: ["exposure.ev", "out of range"], status: 2)
        XCTAssertEqual(leftovers(), ["typo.json"])
    }

    /// `emulsion process …` is parsed on its own (a fast path past the root's subcommand tree),
    /// `emulsion …` through the root with `process` as its default subcommand: the same run,
    /// messages and exit codes either way, for arguments that fail to parse, fail to validate or
    /// fail in the run; and help still comes from the root, naming the command as `emulsion process`.
    func testProcessFastPathAnswersAsTheRootDoes() throws {
        let input = try sample("canon-eos_kiss_x4-colorchart_crop.dng")
        let cases: [[String]] = [
            ["--bogus"], ["--bits", "7"], ["/nonexistent/raw.dng", "--out-dir", dir.path],
            [input, "--out-dir", dir.path, "--set", "exposure.ev=42"],
            [input, "-o", dir.appendingPathComponent("a.png").path, "--overwrite", "--bits", "8"],
        ]
        for arguments in cases {
            let fast = try emulsion(["process"] + arguments), root = try emulsion(arguments)
            XCTAssertEqual(fast.status, root.status, "\(arguments)")
            XCTAssertEqual(fast.stderr, root.stderr, "\(arguments)")
            XCTAssertEqual(fast.stdout, root.stdout, "\(arguments)")
        }
        // A time limit that is no number of seconds is refused by the option's check (it trapped).
        for arguments in [["process", input, "--decode-timeout", "inf"], ["process", input, "--decode-timeout=nan"],
                          ["info", input, "--decode-timeout", "inf"], ["process", input, "--decode-timeout=-1"]] {
            let r = try emulsion(arguments)
            XCTAssertEqual(r.status, 64, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("--decode-timeout must be a number of seconds above 0"), r.stderr)
        }
        // Empty names: refused by the check, where `--wb ""` trapped and `-o ""` failed at the rename.
        for arguments in [["process", input, "-o", ""], ["process", "", "--out-dir", dir.path], ["process", input, "--out-dir", ""]] {
            let r = try emulsion(arguments)
            XCTAssertEqual(r.status, 64, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("a file or folder name is empty"), r.stderr)
        }
        // A pixel limit whose pixel count overflows trapped; it is refused by the option check.
        for arguments in [["process", input, "--max-megapixels", "99999999999999"], ["info", input, "--max-megapixels", "9223372036854775807"],
                          ["process", input, "--max-megapixels", "0"]] {
            let r = try emulsion(arguments)
            XCTAssertEqual(r.status, 64, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("--max-megapixels must be 1…1000000"), r.stderr)
        }
        // The benchmark's synthetic sizes: 0 MP or an absurd size trapped while the raw was made.
        for list in ["0", "9223372036854775807", "24,x"] {
            let r = try emulsion(["bench", "--synthetic-phone", list, "--no-peers"])
            XCTAssertEqual(r.status, 64, "\(list): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("expected megapixel counts 1…400"), r.stderr)
        }
        let emptyBalance = try emulsion(["process", input, "--out-dir", dir.path, "--wb", ""])
        assertOneLineError(emptyBalance, mentions: ["whiteBalance.mode"], status: 2)
        let help = try emulsion(["process", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("USAGE: emulsion process"), help.stdout)
    }

    /// A folder stands for the raw files directly in it (InputFolders): by extension in any case,
    /// not hidden files (AppleDouble "._" copies), not sidecars, not subfolders.
    func testFolderInputsStandForTheirRawFiles() throws {
        let shoot = try folder("shoot", holding: ["lg-g4_h815-lossy_linear.dng": "b.dng", "apple-quicktake_100-test100.qtk": "a.QTK"])
        _ = try folder("shoot/sub", holding: ["kodak-dc50-sample.kdc": "c.kdc"])
        for junk in ["._b.dng", "b.dng.xmp", "notes.txt"] { try Data("not a raw".utf8).write(to: shoot.appendingPathComponent(junk)) }
        let out = dir.appendingPathComponent("developed")
        var r = try emulsion(["process", shoot.path, "--out-dir", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("2 written, 0 failed"), r.stdout)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted(), ["a.png", "b.png"])
        // A folder with no raw file in it is refused up front, in one line naming it.
        r = try emulsion(["process", dir.appendingPathComponent("developed").path, "--out-dir", out.path])
        assertOneLineError(r, mentions: [out.path, "no raw files"], status: 2)
        // info reads a folder the same way.
        r = try emulsion(["info", shoot.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").filter { $0.hasPrefix("File:") }.map { $0.split(separator: "/").last! },
                       ["a.QTK", "b.dng"], r.stdout)
        r = try emulsion(["info", out.path])
        assertOneLineError(r, mentions: [out.path, "no raw files"], status: 2)
    }

    /// `--recursive` walks a card's or an archive's subfolders (InputFolders) and mirrors them
    /// below the output folder, so the same name in two folders (every camera restarts at
    /// IMG_0001) lands in two places; hidden folders and links to folders are not entered (a
    /// link to a parent would never end); a batch resumes; a mirror folder that cannot be made
    /// is named before any file is decoded.
    func testRecursiveFoldersMirrorIntoTheOutputFolder() throws {
        let card = dir.appendingPathComponent("DCIM")
        let first = card.appendingPathComponent("100CANON"), second = card.appendingPathComponent("101CANON")
        let deeper = second.appendingPathComponent("burst"), hidden = card.appendingPathComponent(".thumbnails")
        for folder in [first, deeper, hidden] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        let raw = try sample("apple-quicktake_100-test100.qtk")
        for path in [first.appendingPathComponent("IMG_0001.qtk"), second.appendingPathComponent("IMG_0001.qtk"),
                     deeper.appendingPathComponent("IMG_0002.QTK"), hidden.appendingPathComponent("IMG_0009.qtk"),
                     card.appendingPathComponent("top.qtk")] {
            try FileManager.default.copyItem(atPath: raw, toPath: path.path)
        }
        try FileManager.default.createSymbolicLink(at: deeper.appendingPathComponent("up"), withDestinationURL: card)
        let out = dir.appendingPathComponent("developed")
        // Without the flag the subfolders' files are not taken, and two IMG_0001s would collide.
        var r = try emulsion(["process", card.path, "--out-dir", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try FileManager.default.subpathsOfDirectory(atPath: out.path), ["top.png"])
        r = try emulsion(["process", first.path, second.path, "--out-dir", out.path, "--overwrite"])
        assertOneLineError(r, mentions: ["IMG_0001.qtk", "would both be written to"], status: 2)
        r = try emulsion(["process", "-r", card.path, "--out-dir", out.path, "--overwrite"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("4 written, 0 failed"), r.stdout)
        let written = try XCTUnwrap(FileManager.default.subpathsOfDirectory(atPath: out.path)).filter { $0.hasSuffix(".png") }.sorted()
        XCTAssertEqual(written, ["100CANON/IMG_0001.png", "101CANON/IMG_0001.png", "101CANON/burst/IMG_0002.png", "top.png"])
        let reference = try PNGFile.read(path: out.appendingPathComponent("top.png").path)
        XCTAssertTrue(try PNGFile.read(path: out.appendingPathComponent("101CANON/burst/IMG_0002.png").path).samples == reference.samples)
        r = try emulsion(["process", "--recursive", card.path, "--out-dir", out.path, "--skip-existing"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("0 written, 4 skipped (output exists), 0 failed"), r.stdout)
        r = try emulsion(["info", "-r", card.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").filter { $0.hasPrefix("File:") }.count, 4, r.stdout)
        // A file where a mirror folder must go: refused up front, nothing written.
        let blocked = dir.appendingPathComponent("blocked")
        try FileManager.default.createDirectory(at: blocked, withIntermediateDirectories: true)
        try Data("in the way".utf8).write(to: blocked.appendingPathComponent("101CANON"))
        r = try emulsion(["process", "-r", card.path, "--out-dir", blocked.path])
        assertOneLineError(r, mentions: [blocked.appendingPathComponent("101CANON").path, "cannot create the output folder"], status: 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: blocked.path), ["101CANON"])
        // A tree with no raw file anywhere is refused, naming the folder.
        let empty = dir.appendingPathComponent("empty/sub")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        r = try emulsion(["process", "-r", empty.deletingLastPathComponent().path, "--out-dir", out.path])
        assertOneLineError(r, mentions: [empty.deletingLastPathComponent().path, "no raw files", "subfolders"], status: 2)
    }

    /// A subfolder of a `--recursive` walk that cannot be listed (a permission-denied folder on a
    /// shared drive) is named in one line, the rest of the tree is rendered, the summary counts it,
    /// `--report` lists it as `unread`, and the exit status is 1 (InputFolders). Root lists a
    /// mode-000 folder, so as root the run is made without capabilities (`setpriv`), which leaves
    /// uid 0 to the permission bits as any user.
    func testAnUnlistableSubfolderIsReportedAndTheRestRendered() throws {
        let binary = try Self.builtBinary()
        let card = try folder("card/100A", holding: ["apple-quicktake_100-test100.qtk": "IMG_1.qtk"]).deletingLastPathComponent()
        let denied = try folder("card/101B", holding: ["apple-quicktake_100-test100.qtk": "IMG_2.qtk"])
        _ = try folder("card/102C", holding: ["apple-quicktake_100-test100.qtk": "IMG_3.qtk"])
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: denied.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: denied.path) }
        let environment = ["EMULSION_PROFILES": TestSupport.repositoryRoot.appendingPathComponent("Profiles").path]
        func run(_ arguments: [String]) throws -> TestSupport.RunResult {
            try TestSupport.runUnprivileged(binary, arguments, environment: environment)
        }
        guard TestSupport.deniesUnprivileged(["/bin/ls", denied.path]) else { throw XCTSkip("cannot make a folder unlistable for this user") }
        let out = dir.appendingPathComponent("developed"), report = dir.appendingPathComponent("report.json").path
        var r = try run(["process", "-r", card.path, "--out-dir", out.path, "--report", report])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr, "emulsion: \(denied.path): cannot list this folder: Permission denied (its raw files are not rendered)\n")
        XCTAssertTrue(r.stdout.hasPrefix("2 written, 0 failed, 1 folder not read, "), r.stdout)
        let written = try FileManager.default.subpathsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".png") }.sorted()
        XCTAssertEqual(written, ["100A/IMG_1.png", "102C/IMG_3.png"])
        let entries = try reportEntries(report)
        XCTAssertEqual(entries.map { $0["status"] as? String }, ["written", "written", "unread"])
        XCTAssertEqual(entries.last?["input"] as? String, denied.path)
        XCTAssertNil(entries.last?["output"])
        XCTAssertEqual(entries.last?["error"] as? String, "\(denied.path): cannot list this folder: Permission denied")
        // info reads the rest and fails the same way.
        r = try run(["info", "-r", card.path])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").filter { $0.hasPrefix("File:") }.count, 2, r.stdout)
        XCTAssertTrue(r.stderr.contains("\(denied.path): cannot list this folder: Permission denied"), r.stderr)
        // The denied folder named itself: nothing of it could be done, refused before any decode.
        r = try run(["process", denied.path, "--out-dir", out.path])
        assertOneLineError(r, mentions: [denied.path, "cannot list this folder"], status: 2)
    }

    /// `-o -` writes the image to standard output (`StandardOutput`), as `dcraw -c` does: the same
    /// bytes as the file `-o NAME` writes, through a pipe or a redirect, the summary on standard
    /// error; a terminal, several inputs or `--skip-existing` are refused before any work.
    func testStandardOutputTakesTheImage() throws {
        let binary = try Self.builtBinary()
        let input = try sample("google-pixel_7-digizoom_crop.dng")
        let environment = ["EMULSION_PROFILES": TestSupport.repositoryRoot.appendingPathComponent("Profiles").path]
        for (name, extra) in [("ref.png", [String]()), ("ref.jpg", ["--format", "jpeg"])] {
            let reference = dir.appendingPathComponent(name).path, piped = dir.appendingPathComponent("piped-" + name).path
            var r = try emulsion(["process", input, "-o", reference])
            XCTAssertEqual(r.status, 0, r.stderr)
            let line = ([binary, "process", input, "-o", "-"] + extra).map { "'\($0)'" }.joined(separator: " ")
            r = try TestSupport.run("/bin/sh", ["-c", line + " | cat > '\(piped)'"], environment: environment)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stdout, "")
            XCTAssertTrue(r.stderr.hasPrefix("standard output: 366×494, "), r.stderr)  // the DNG's marked area
            XCTAssertTrue(try Data(contentsOf: URL(fileURLWithPath: piped)) == Data(contentsOf: URL(fileURLWithPath: reference)), name)
        }
        let other = try sample("kodak-dc50-sample.kdc")
        var r = try emulsion(["process", input, other, "-o", "-"])
        assertOneLineError(r, mentions: ["-o names one output file but 2 inputs"], status: 2)
        r = try emulsion(["process", input, "-o", "-", "--skip-existing"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("--skip-existing has no file to find when writing to standard output"), r.stderr)
        // A terminal as standard output (util-linux's `script` gives the run one).
        guard let script = TestSupport.which("script") else { return }
        r = try TestSupport.run(script, ["-qec", ([binary, "process", input, "-o", "-"]).map { "'\($0)'" }.joined(separator: " "), "/dev/null"],
                                environment: environment)
        XCTAssertEqual(r.status, 2, r.stdout)
        XCTAssertTrue(r.stdout.contains("-o -: standard output is a terminal"), r.stdout)
    }

    /// `--max-size` fits the upright output into a box (AreaReductionTests holds the pixels to a
    /// linear-light reference); the Exif says the size written; a bad size is a usage error.
    func testMaxSizeFitsTheOutputIntoABox() throws {
        let input = try sample("google-pixel_7-digizoom_crop.dng")  // stored on its side (orientation 8)
        let full = dir.appendingPathComponent("full.png").path, small = dir.appendingPathComponent("small.png").path
        var r = try emulsion(["process", input, "-o", full])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try emulsion(["process", input, "-o", small, "--max-size", "160", "--bits", "8"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let big = try PNGFile.read(path: full), reduced = try PNGFile.read(path: small)
        XCTAssertEqual(reduced.height, 160)
        XCTAssertEqual(reduced.width, Int((Double(big.width) * 160 / Double(big.height)).rounded()))
        XCTAssertEqual(reduced.bitDepth, 8)
        XCTAssertTrue(r.stdout.hasPrefix("\(small): \(reduced.width)×160, 8-bit"), r.stdout)
        if let exiftool = TestSupport.which("exiftool") {
            let tags = try TestSupport.run(exiftool, ["-s3", "-ExifImageWidth", "-ExifImageHeight", small])
            XCTAssertEqual(tags.stdout, "\(reduced.width)\n160\n")
        }
        for bad in ["0", "wide", "100x"] {
            r = try emulsion(["process", input, "-o", small, "--overwrite", "--max-size", bad])
            XCTAssertEqual(r.status, 64, bad)
            XCTAssertTrue(r.stderr.contains("--max-size \(bad): expected N"), r.stderr)
        }
    }

    /// `--profile a,b` (or `all`) renders every input through every look, into NAME-LOOK.png
    /// (BatchLooksTests holds each to the look alone, from one decode); a look named twice, an
    /// empty name and `-o` with several looks are refused up front.
    func testSeveralLooksInOneRun() throws {
        let shoot = try folder("shoot", holding: ["apple-quicktake_100-test100.qtk": "a.qtk", "kodak-dc50-sample.kdc": "b.kdc"])
        let out = dir.appendingPathComponent("looks")
        let custom = TestSupport.repositoryRoot.appendingPathComponent("Profiles/film-slide.json").path
        var r = try emulsion(["process", shoot.path, "--out-dir", out.path, "--profile", "leica-vibrant,\(custom)"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("4 written, 0 failed"), r.stdout)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted(),
                       ["a-film-slide.png", "a-leica-vibrant.png", "b-film-slide.png", "b-leica-vibrant.png"])
        r = try emulsion(["process", shoot.appendingPathComponent("a.qtk").path, "--out-dir", out.path, "--profile", "all", "--skip-existing"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let shipped = try FileManager.default.contentsOfDirectory(atPath: TestSupport.repositoryRoot.appendingPathComponent("Profiles").path)
            .filter { $0.hasSuffix(".json") }.count
        XCTAssertTrue(r.stdout.contains("\(shipped - 2) written, 2 skipped (output exists), 0 failed"), r.stdout)
        for (list, problem) in [("neutral,neutral", "neutral is named twice"), ("neutral,,film-chrome", "an empty name")] {
            r = try emulsion(["process", shoot.path, "--out-dir", out.path, "--profile", list])
            assertOneLineError(r, mentions: [list, problem], status: 2)
        }
        r = try emulsion(["process", shoot.appendingPathComponent("a.qtk").path, "-o", dir.appendingPathComponent("x.png").path,
                          "--profile", "neutral,film-chrome"])
        assertOneLineError(r, mentions: ["2 profiles were given"], status: 2)
    }

    /// `--report FILE`: one JSON entry per output (written, failed, skipped) with what a script
    /// needs to retry the failures; a report path that cannot be written stops the run before it
    /// starts, not after the batch.
    func testReportSaysWhatHappenedToEachOutput() throws {
        let shoot = try folder("shoot", holding: ["apple-quicktake_100-test100.qtk": "a.qtk"]), out = try folder("out", holding: [:])
        try Data(repeating: 7, count: 4096).write(to: shoot.appendingPathComponent("b.dng"))
        try Data("done".utf8).write(to: out.appendingPathComponent("a-film-chrome.png"))
        let report = dir.appendingPathComponent("report.json").path
        var r = try emulsion(["process", shoot.path, "--out-dir", out.path, "--profile", "neutral,film-chrome", "--skip-existing", "--report", report])
        XCTAssertEqual(r.status, 1, r.stderr)
        let entries = try reportEntries(report)
        XCTAssertEqual(entries.map { "\(URL(fileURLWithPath: $0["output"] as! String).lastPathComponent) \($0["status"] as! String)" },
                       ["a-neutral.png written", "b-neutral.png failed", "b-film-chrome.png failed", "a-film-chrome.png skipped"])
        XCTAssertEqual(entries[0]["profile"] as? String, "neutral")
        XCTAssertEqual(entries[0]["width"] as? Int, 640)
        XCTAssertNotNil((entries[0]["seconds"] as? [String: Any])?["renderAndEncode"] as? Double)
        let error = try XCTUnwrap(entries[1]["error"] as? String)
        XCTAssertTrue(error.hasPrefix(shoot.appendingPathComponent("b.dng").path) && r.stderr.contains(error), error)
        XCTAssertEqual(entries[3]["profile"] as? String, "film-chrome")
        XCTAssertEqual(entries.map { $0["profileArgument"] as? String }, ["neutral", "neutral", "film-chrome", "film-chrome"])
        // A profile file: its name is what the file says, the argument is the file to pass again.
        let mine = dir.appendingPathComponent("mine.json").path
        try FileManager.default.copyItem(atPath: TestSupport.repositoryRoot.appendingPathComponent("Profiles/film-chrome.json").path, toPath: mine)
        let fileReport = dir.appendingPathComponent("file-report.json").path
        r = try emulsion(["process", shoot.appendingPathComponent("a.qtk").path, "--out-dir", dir.appendingPathComponent("mine").path,
                          "--profile", mine, "--report", fileReport])
        XCTAssertEqual(r.status, 0, r.stderr)
        let fileEntries = try reportEntries(fileReport)
        XCTAssertEqual(fileEntries.first?["profile"] as? String, "film-chrome")
        XCTAssertEqual(fileEntries.first?["profileArgument"] as? String, mine)
        // `--report -`: the same document on standard output, the summary on standard error.
        r = try emulsion(["process", shoot.path, "--out-dir", out.path, "--profile", "neutral,film-chrome", "--skip-existing", "--report", "-"])
        XCTAssertEqual(r.status, 1, r.stderr)
        let streamed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]], r.stdout)
        XCTAssertEqual(streamed.map { "\(URL(fileURLWithPath: $0["output"] as! String).lastPathComponent) \($0["status"] as! String)" },
                       ["b-neutral.png failed", "b-film-chrome.png failed", "a-neutral.png skipped", "a-film-chrome.png skipped"])
        XCTAssertTrue(r.stderr.contains("0 written, 2 skipped (output exists), 2 failed"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "-"), "no file named -")
        // A folder where the report goes: refused up front, nothing rendered.
        let fresh = dir.appendingPathComponent("fresh")
        r = try emulsion(["process", shoot.appendingPathComponent("a.qtk").path, "--out-dir", fresh.path, "--report", out.path])
        assertOneLineError(r, mentions: ["--report", out.path, "is a folder"], status: 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fresh.path), "nothing made, not even the output folder")
    }

    /// A name asking for an image format Emulsion does not write (`ImageFile.refusal`) is refused
    /// before any work, where it wrote PNG bytes under it; `--format` writes one under any name,
    /// and a name without an image extension stays PNG.
    func testNamesOfFormatsNotWrittenAreRefused() throws {
        let input = try sample("apple-quicktake_100-test100.qtk")
        for arguments in [["process", input, "-o", dir.appendingPathComponent("x.webp").path],
                          ["preview", input, "-o", dir.appendingPathComponent("sheet.HEIC").path],
                          ["device", "report", "--device", "ideal", "--heat-map", dir.appendingPathComponent("heat.exr").path]] {
            let r = try emulsion(arguments)
            XCTAssertEqual(r.status, 64, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("Emulsion writes PNG (.png), JPEG (.jpg, .jpeg) and TIFF (.tif, .tiff), not "), r.stderr)
        }
        XCTAssertEqual(leftovers(), [])
        for (name, format) in [("x.webp", ["--format", "png"]), ("x.v2", [])] {
            let path = dir.appendingPathComponent(name).path
            let r = try emulsion(["process", input, "-o", path] + format)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertNoThrow(try PNGFile.read(path: path), name)
        }
    }

    /// Resuming an interrupted batch: outputs that exist are finished files (they appear whole,
    /// by rename), so --skip-existing leaves their inputs alone and renders the rest.
    func testSkipExistingResumesABatch() throws {
        let shoot = try folder("shoot", holding: ["apple-quicktake_100-test100.qtk": "a.qtk", "kodak-dc50-sample.kdc": "b.kdc",
                                                  "lg-g4_h815-lossy_linear.dng": "c.dng"])
        let out = try folder("out", holding: [:])
        // a.png is "done" (a marker the run must not touch); c.png is a folder, not a result.
        try Data("done".utf8).write(to: out.appendingPathComponent("a.png"))
        try FileManager.default.createDirectory(at: out.appendingPathComponent("c.png"), withIntermediateDirectories: true)
        var r = try emulsion(["process", shoot.path, "--out-dir", out.path, "--skip-existing"])
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("1 written, 1 skipped (output exists), 1 failed"), r.stdout)
        XCTAssertTrue(r.stderr.contains("c.png: is a folder, not a file"), r.stderr)
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("a.png"), encoding: .utf8), "done")
        XCTAssertNoThrow(try PNGFile.read(path: out.appendingPathComponent("b.png").path))
        // Everything there: nothing to do, exit 0; one input: its own line.
        try FileManager.default.removeItem(at: out.appendingPathComponent("c.png"))
        r = try emulsion(["process", shoot.path, "--out-dir", out.path, "--skip-existing"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("1 written, 2 skipped (output exists), 0 failed"), r.stdout)
        r = try emulsion(["process", shoot.appendingPathComponent("b.kdc").path, "--out-dir", out.path, "--skip-existing"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "\(out.appendingPathComponent("b.png").path): exists, \(shoot.appendingPathComponent("b.kdc").path) skipped\n")
        r = try emulsion(["process", shoot.path, "--out-dir", out.path, "--skip-existing", "--overwrite"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("use either --overwrite or --skip-existing, not both"), r.stderr)
    }

    /// The output carries the shot's Exif and the render's recipe (`OutputMetadata`). The
    /// independent reader is ExifTool (Phil Harvey; Debian's libimage-exiftool-perl): it must
    /// validate the file and read back what the raw recorded (`emulsion info` prints the same);
    /// the recipe it extracts must render the same pixels again.
    func testOutputsCarryExifAndTheirRecipe() throws {
        guard let exiftool = TestSupport.which("exiftool") else {
            if TestSupport.inCI { XCTFail("exiftool is required in CI (.ci/setup --tests installs it)") }
            throw XCTSkip("exiftool not installed")
        }
        let input = try sample("google-pixel_7-digizoom_crop.dng")
        let out = dir.appendingPathComponent("shot.png").path
        var r = try emulsion(["process", input, "-o", out, "--profile", "leica-authentic", "--set", "exposure.ev=0.3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let validation = try TestSupport.run(exiftool, ["-validate", "-warning", "-a", out])
        XCTAssertTrue(validation.stdout.contains(": OK"), validation.stdout)
        XCTAssertFalse(validation.stdout.contains("Warning"), validation.stdout)
        let tags = try TestSupport.run(exiftool, ["-j", "-n", out])
        XCTAssertEqual(tags.status, 0, tags.stderr)
        let read = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(tags.stdout.utf8)) as? [[String: Any]])?.first)
        // What ExifTool reads from the raw itself is the reference; rationals are written with
        // denominators up to 10⁶ and LibRaw hands over floats, hence the tolerances.
        let rawTags = try TestSupport.run(exiftool, ["-j", "-n", "-Make", "-Model", "-ExposureTime", "-FNumber", "-ISO", "-FocalLength",
                                                     "-DateTimeOriginal", "-LensModel", input])
        let shot = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(rawTags.stdout.utf8)) as? [[String: Any]])?.first)
        for key in ["Make", "Model", "DateTimeOriginal", "LensModel"] {
            XCTAssertEqual(read[key] as? String, try XCTUnwrap(shot[key] as? String), key)
        }
        XCTAssertEqual(read["ISO"] as? Int, try XCTUnwrap(shot["ISO"] as? Int))
        for key in ["ExposureTime", "FNumber", "FocalLength"] {
            let expected = try XCTUnwrap(shot[key] as? Double, key)
            XCTAssertEqual(read[key] as? Double ?? -1, expected, accuracy: expected * 1e-5, key)
        }
        XCTAssertEqual(read["Orientation"] as? Int, 1, "the pixels are upright (the raw said 8)")
        // The capture time is the camera's clock in any time zone (LibRaw's mktime and our
        // localtime_r agree; read as UTC it moved by the zone's offset, into 5 July in New York).
        let taken = try XCTUnwrap(shot["DateTimeOriginal"] as? String)
        for zone in ["America/New_York", "Asia/Tokyo"] {
            let environment = ["TZ": zone, "EMULSION_PROFILES": TestSupport.repositoryRoot.appendingPathComponent("Profiles").path]
            let zoned = dir.appendingPathComponent("zoned.png").path
            r = try TestSupport.run(Self.builtBinary(), ["process", input, "-o", zoned, "--overwrite"], environment: environment)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try TestSupport.run(exiftool, ["-s3", "-DateTimeOriginal", zoned]).stdout, taken + "\n", zone)
            let info = try TestSupport.run(Self.builtBinary(), ["info", input], environment: environment)
            XCTAssertTrue(info.stdout.contains("Timestamp:       " + taken.replacingOccurrences(of: " ", with: "T")
                .replacingOccurrences(of: ":", with: "-", options: [], range: taken.startIndex..<taken.index(taken.startIndex, offsetBy: 10))),
                          "\(zone): \(info.stdout)")
        }
        XCTAssertEqual(read["ColorSpace"] as? Int, 1)
        XCTAssertEqual(read["ExifImageWidth"] as? Int, 366)
        XCTAssertEqual(read["ExifImageHeight"] as? Int, 494)
        XCTAssertEqual(read["Software"] as? String, "Emulsion")
        // The recipe, saved as a profile, renders the same pixels (the user's exposure included).
        let recipe = try TestSupport.run(exiftool, ["-b", "-EmulsionProfile", out])
        let look = dir.appendingPathComponent("recipe.json").path
        try recipe.stdout.write(toFile: look, atomically: false, encoding: .utf8)
        XCTAssertTrue(recipe.stdout.contains("\"exposure\": { \"ev\": 0.3 }"), recipe.stdout)
        let again = dir.appendingPathComponent("again.png").path
        r = try emulsion(["process", input, "-o", again, "--profile", look])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try PNGFile.read(path: again).samples, try PNGFile.read(path: out).samples)
        // Another space is "uncalibrated" in Exif (its ICC profile says which); a device is named.
        let p3 = dir.appendingPathComponent("p3.png").path
        r = try emulsion(["process", input, "-o", p3, "--space", "display-p3", "--device", "mid-range"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let p3Tags = try TestSupport.run(exiftool, ["-j", "-n", "-ColorSpace", "-EmulsionDevice", p3])
        XCTAssertTrue(p3Tags.stdout.contains("\"ColorSpace\": 65535") && p3Tags.stdout.contains("\"EmulsionDevice\": \"mid-range\""), p3Tags.stdout)
    }

    func testCameraFidelityOptions() throws {
        let linear = try sample("lg-g4_h815-lossy_linear.dng")
        let mosaic = try sample("apple-quicktake_100-test100.qtk")
        var r = try emulsion(["process", linear, "--out-dir", dir.path, "--wb", "4800:+6", "--highlights", "blend",
                              "--wb-rect", "10,10,50,40", "--wb", "auto"])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try emulsion(["process", mosaic, "--out-dir", dir.path, "--demosaic", "rcd", "--highlights", "reconstruct", "--wb", "daylight"])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try emulsion(["process", linear, "--out-dir", dir.path, "--overwrite", "--wb", "9:zz"])
        assertOneLineError(r, mentions: ["--wb", "KELVIN"], status: 2)
        r = try emulsion(["process", linear, "--out-dir", dir.path, "--overwrite", "--wb-rect", "1,2"])
        assertOneLineError(r, mentions: ["--wb-rect", "x,y,w,h"], status: 2)
        r = try emulsion(["process", linear, "--out-dir", dir.path, "--overwrite", "--wb-rect", "1,2,0,4"])
        assertOneLineError(r, mentions: ["--wb-rect", "w and h 1 or more", "1,2,0,4"], status: 2)
        r = try emulsion(["process", linear, "--out-dir", dir.path, "--overwrite", "--demosaic", "amaze"])
        assertOneLineError(r, mentions: ["demosaic.algorithm", "rcd"], status: 2)
        r = try emulsion(["process", linear, "--out-dir", dir.path, "--overwrite", "--dcp", dir.appendingPathComponent("none.dcp").path])
        assertOneLineError(r, mentions: ["none.dcp"], status: 2)
        // Not a DNG: no ForwardMatrix to render with.
        r = try emulsion(["process", mosaic, "--out-dir", dir.path, "--overwrite", "--set", "camera.matrix=dng-forward-matrix"])
        assertOneLineError(r, mentions: [mosaic, "ForwardMatrix"], status: 1)
    }

    func testExistingOutputIsKeptWithoutOverwrite() throws {
        let input = try sample("lg-g4_h815-lossy_linear.dng")
        let out = dir.appendingPathComponent("x.png")
        try "keep me".write(to: out, atomically: false, encoding: .utf8)
        var r = try emulsion(["process", input, "-o", out.path])
        assertOneLineError(r, mentions: [out.path, "--overwrite"], status: 1)
        XCTAssertEqual(try String(contentsOf: out, encoding: .utf8), "keep me")
        r = try emulsion(["process", input, "-o", out.path, "--overwrite"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertNoThrow(try PNGFile.read(path: out.path))
        // (`--format`: a .dng name alone is refused before this, as a format Emulsion does not write.)
        r = try emulsion(["process", input, "-o", input, "--overwrite", "--format", "png"])
        assertOneLineError(r, mentions: ["input"], status: 1)
    }

    func testBatchGoesOnPastFailuresAndShardsPartitionTheInputs() throws {
        let good = ["lg-g4_h815-lossy_linear.dng", "apple-quicktake_100-test100.qtk", "kodak-dc50-sample.kdc"].compactMap { try? sample($0) }
        let bad = dir.appendingPathComponent("bad.dng")
        try "garbage".write(to: bad, atomically: false, encoding: .utf8)
        let outDir = dir.appendingPathComponent("all")
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        let r = try emulsion(["process"] + good + [bad.path] + ["--out-dir", outDir.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("\(good.count) written, 1 failed"), r.stdout)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outDir.path).count, good.count)

        var seen: [String] = []
        for i in 1...2 {
            let shardDir = dir.appendingPathComponent("shard\(i)")
            try FileManager.default.createDirectory(at: shardDir, withIntermediateDirectories: true)
            let s = try emulsion(["process"] + good + ["--out-dir", shardDir.path, "--shard", "\(i)/2"])
            XCTAssertEqual(s.status, 0, s.stderr)
            seen += try FileManager.default.contentsOfDirectory(atPath: shardDir.path)
        }
        XCTAssertEqual(seen.sorted(), try FileManager.default.contentsOfDirectory(atPath: outDir.path).sorted(), "shards are disjoint and complete")
        let bogus = try emulsion(["process"] + good + ["--shard", "3/2"])
        assertOneLineError(bogus, mentions: ["--shard"], status: 2)
    }

    func testInfoJSON() throws {
        let input = try sample("google-pixel_7-digizoom_crop.dng")
        let r = try emulsion(["info", "--json", input])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
        XCTAssertEqual(json.first?["make"] as? String, "Google")
        XCTAssertEqual(json.first?["orientation"] as? Int, 8)
        XCTAssertEqual(json.first?["outputWidth"] as? Int, 366, "the 494×366 area the DNG marks, upright")
        XCTAssertEqual(json.first?["defaultCrop"] as? [String: Int], ["x": 8, "y": 8, "width": 494, "height": 366])
        XCTAssertEqual(json.first?["layout"] as? String, "Bayer RGGB")
        let text = try emulsion(["info", input])
        XCTAssertTrue(text.stdout.contains("Pixel 7"))
    }
}

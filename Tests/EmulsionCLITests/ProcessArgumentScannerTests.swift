import ArgumentParser
import Foundation
import XCTest
import EmulsionTestSupport

@testable import emulsion

/// `ProcessRequest(scanning:)`, the reader that spares a `process` run ArgumentParser's
/// reflection, against ArgumentParser itself (the reference: `ProcessCommand.parse`, what the CLI
/// falls back to). The scanner may decline any line; a line it accepts must give exactly the
/// request ArgumentParser gives. Exact equality, no tolerance: both convert the same strings
/// with the same initialisers.
final class ProcessArgumentScannerTests: XCTestCase {
    /// What ArgumentParser makes of `arguments`, or nil where it refuses them.
    func reference(_ arguments: [String]) -> ProcessRequest? {
        (try? ProcessCommand.parse(arguments))?.request
    }

    /// The scanner knows exactly the options `ProcessCommand` declares (names read off its help),
    /// and reads a value for exactly those whose help shows one; a new option that it does not
    /// know would only make it decline, so this keeps the fast path from silently narrowing.
    func testScannerKnowsEveryOptionOfTheCommand() throws {
        let help = ProcessCommand.helpMessage(columns: 200)
        var declared: [String: Bool] = [:]  // name: takes a value
        let line = try NSRegularExpression(pattern: #"^  (-[-a-z0-9]+)(?:, (--[-a-z0-9]+))?( <)?"#, options: .anchorsMatchLines)
        for match in line.matches(in: help, range: NSRange(help.startIndex..., in: help)) {
            let takesValue = match.range(at: 3).location != NSNotFound
            for group in [1, 2] where match.range(at: group).location != NSNotFound {
                declared[String(help[Range(match.range(at: group), in: help)!])] = takesValue
            }
        }
        declared["-h"] = nil
        declared["--help"] = nil
        XCTAssertGreaterThan(declared.count, 20, help)
        let scanned = ProcessRequest.scannedOptions.mapValues { option -> Bool in
            if case .value = option.reading { return true } else { return false }
        }
        XCTAssertEqual(scanned, declared)
        XCTAssertEqual(ProcessRequest.scannedOptions.filter(\.value.repeatable).keys.sorted(), ["--set"])
    }

    /// The lines a batch script writes are read by the scanner, as ArgumentParser reads them.
    func testCommonLinesAreScannedAsArgumentParserReadsThem() {
        let lines: [[String]] = [
            [],
            ["--out-dir", "out"],
            ["shot.dng"],
            ["a.dng", "b.NEF", "c.CR2", "--out-dir", "renders", "--profile", "leica-vibrant"],
            ["shot.dng", "-o", "shot.png", "--overwrite", "--bits", "8", "--space", "display-p3"],
            ["shot.dng", "--output=shot.png", "--set", "exposure.ev=0.5", "--set", "toneCurve.contrast=1.2", "--timings"],
            ["--engine", "scalar", "--threads", "1", "--png-level", "0", "x.dng", "--max-megapixels", "40"],
            ["x.dng", "--wb", "5200:+8", "--wb-rect", "1,2,3,4", "--demosaic", "rcd", "--highlights", "blend"],
            ["x.dng", "--dcp", "cam.dcp", "--device", "ideal", "--shard", "2/8", "--decode-timeout", "30", "--in-process-decoder"],
            ["x.dng", "--decode-timeout=0.5", "--space=prophoto", "--engine=simd"],
            ["in/", "--out-dir", "out", "--skip-existing"],
            ["-r", "card/", "--out-dir", "out", "--strip-location", "--format", "jpeg"],
            ["card/", "--out-dir", "out", "--name", "{year}/{date}/{name}-{look}"],
        ]
        for arguments in lines {
            let scanned = ProcessRequest(scanning: arguments)
            XCTAssertNotNil(scanned, "\(arguments)")
            XCTAssertNotNil(reference(arguments), "\(arguments)")
            XCTAssertEqual(scanned, reference(arguments), "\(arguments)")
        }
        XCTAssertEqual(ProcessRequest(scanning: ["a.dng", "--set", "a.b=1", "--set", "c.d=2"])?.overrides, ["a.b=1", "c.d=2"])
    }

    /// What the scanner must leave to ArgumentParser: help, anything unknown or ambiguous, and
    /// values ArgumentParser would refuse (its message is then the one the user sees).
    func testScannerDeclinesWhatItCannotBeSureOf() {
        let declined: [[String]] = [
            ["--help"], ["-h"], ["x.dng", "--help"], ["help"], ["--bogus"], ["x.dng", "-x"], ["--", "x.dng"], ["-"],
            ["x.dng", "--out-dir"], ["x.dng", "--profile", ""], ["x.dng", "--out-dir", "-o"], ["x.dng", "--threads", "-1"],
            ["x.dng", "--bits", "7"], ["x.dng", "--bits", "eight"], ["x.dng", "--space", "cmyk"], ["x.dng", "--engine", "avx"],
            ["x.dng", "--png-level", "10"], ["x.dng", "--threads", "0"], ["x.dng", "--max-megapixels", "0"], ["x.dng", "--max-megapixels", "99999999999999"],
            ["x.dng", "-o", "a.png", "--out-dir", "d"], ["x.dng", "--profile", "a", "--profile", "b"],
            ["x.dng", "-o", "a.png", "--output", "b.png"], ["x.dng", "--overwrite", "--overwrite"], ["x.dng", "--overwrite=yes"],
            ["x.dng", "--decode-timeout", "inf"], ["x.dng", "--decode-timeout", "nan"], ["x.dng", "--decode-timeout", "0"],
            ["x.dng", "-oa.png"], ["x.dng", "--generate-completion-script", "bash"], ["x.dng", "--experimental-dump-help"],
            ["x.dng", "--overwrite", "--skip-existing"],
        ]
        for arguments in declined {
            XCTAssertNil(ProcessRequest(scanning: arguments), "\(arguments)")
        }
        // The values the scanner declines for validation are refused by ArgumentParser too.
        for arguments in [["x.dng", "--bits", "7"], ["x.dng", "--decode-timeout", "inf"], ["x.dng", "--decode-timeout", "-3"],
                          ["x.dng", "-o", "a.png", "--out-dir", "d"], ["x.dng", "--skip-existing", "--overwrite"]] {
            XCTAssertNil(reference(arguments), "\(arguments)")
        }
    }

    /// Random lines over every option, with good and bad values, names given both ways, repeats,
    /// and stray dashes: whatever the scanner accepts, ArgumentParser reads the same.
    func testRandomLinesAgreeWithArgumentParser() {
        let values: [String: [String]] = [
            "-o": ["a.png", "out/b.png"], "--output": ["a.png"], "--out-dir": ["out", "a b"], "--profile": ["neutral", "leica-vibrant", "p.json"],
            "--set": ["exposure.ev=1", "tone.x=y", "a=b=c"], "--demosaic": ["rcd", "amaze"], "--highlights": ["blend", "x"],
            "--wb": ["auto", "5200:+8", "9:zz"], "--wb-rect": ["1,2,3,4"], "--dcp": ["c.dcp"], "--device": ["ideal"],
            "--space": ["srgb", "rec2020", "display-p3", "SRGB", "cmyk"], "--bits": ["8", "16", "12", "+8", "x"],
            "--engine": ["simd", "scalar", "SIMD"], "--png-level": ["0", "1", "9", "11"], "--threads": ["1", "2", "0", "64"],
            "--shard": ["1/2"], "--max-megapixels": ["1", "100", "0", "99999999999999"], "--decode-timeout": ["1", "0.25", "1e3", "0", "abc"],
        ]
        let flags = ["--overwrite", "--timings", "--in-process-decoder", "--skip-existing", "--strip-location", "-r"]
        let strays = ["a.dng", "b.nef", "help", "-", "--", "-z", "--nope", "-h"]
        var generator = SplitMix64(seed: 0x5EED_CAFE)
        var accepted = 0, declined = 0
        for _ in 0..<1000 {
            var line: [String] = []
            for _ in 0..<Int.random(in: 0...6, using: &generator) {
                switch Int.random(in: 0..<10, using: &generator) {
                case 0..<5:
                    let name = values.keys.sorted().randomElement(using: &generator)!
                    let value = values[name]!.randomElement(using: &generator)!
                    if name.hasPrefix("--"), Bool.random(using: &generator) { line.append("\(name)=\(value)") } else { line += [name, value] }
                case 5..<7: line.append(flags.randomElement(using: &generator)!)
                case 7..<9: line.append(strays[0...1].randomElement(using: &generator)!)
                default: line.append(strays.randomElement(using: &generator)!)
                }
            }
            if let scanned = ProcessRequest(scanning: line) {
                accepted += 1
                XCTAssertEqual(scanned, reference(line), "\(line)")
            } else {
                declined += 1
            }
        }
        // Both outcomes must be common, or the test would not be testing the scanner.
        XCTAssertGreaterThan(accepted, 100, "\(accepted) accepted")
        XCTAssertGreaterThan(declined, 100, "\(declined) declined")
    }
}

import ArgumentParser
import Emulsion
import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `emulsion compare EXPECTED ACTUAL`: two images (PNG, TIFF, JPEG), or two folders of them, in CIEDE2000.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two images (PNG, TIFF or JPEG), or two folders of them, in CIEDE2000 (no golden suite needed).",
        discussion: """
            Each image is decoded through the ICC profile it carries (sRGB when it has none) and compared pixel by pixel; \
            a pair passes when the mean and maximum ΔE00 are within the limits (by default darktable's integration-test \
            limits, mean ≤ 0.77 and max ≤ 2.3). Folders pair every .png, .tif, .tiff, .jpg and .jpeg below EXPECTED with the file at the same relative \
            path below ACTUAL; a file on one side only fails. One line per pair, worst first (with --only-failures only \
            those that do not pass), then, for folders, a summary; --html also writes a page with the expected image, actual \
            image and heat map of each pair that differs, and --align compares images of different sizes (another tool's \
            margins) over their common area. Exit 0 when every pair passes, 1 when one fails, differs \
            in size or is missing, 2 when a file cannot be read.
            """)

    @Argument(help: "The expected image, or a folder of them.") var expected: String
    @Argument(help: "The actual image, or a folder of them (the same kind as EXPECTED).") var actual: String
    @Option(help: "Largest mean ΔE00 that passes.") var mean: Double = GoldenTolerance().mean
    @Option(help: "Largest maximum ΔE00 that passes.") var max: Double = GoldenTolerance().max
    @Option(help: "Largest 95th-percentile ΔE00 that passes (not checked unless given).") var p95: Double?
    @Option(help: "The ΔE00 the share of pixels above is counted against.") var threshold: Double = GoldenTolerance().threshold
    @Option(name: .customLong("heat-map"), help: "Write a heat map of each differing pair: a .png file for two images, a folder (mirroring the inputs) for two folders.")
    var heatMap: String?
    @Flag(name: .customLong("only-failures"), help: "Print only the pairs that do not pass (the summary always).") var onlyFailures = false
    @Flag(help: "Print JSON instead of lines.") var json = false
    @Option(help: "Also write JUnit XML to this file (one test case per pair), for CI test reporters.") var junit: String?
    @Option(help: "Also write a self-contained HTML report to this file: every pair worst first, and the expected image, actual image and heat map of each pair that differs.")
    var html: String?
    @Option(name: .customLong("html-images"), help: "Embed images for at most this many of the worst differing pairs in the HTML report (the rest are listed without).")
    var htmlImages: Int = 50
    @Option(name: .customLong("preview-size"), help: "Longest side of the images embedded in the HTML report.")
    var previewSize: Int = 480
    @Option(help: "Images of different sizes (another tool's margins): none fails them; centre compares the common area, centred; search the common area at the offset where the two agree best (differences up to 64 pixels per axis).")
    var align: ImageAlignment = .none
    @Flag(name: .customLong("match-stem"), help: "With folders: pair files by relative path without extension (shot.png with shot.tif: two tools' outputs).")
    var matchStem = false
    @Option(help: "Worker threads for each comparison (default: all cores).") var threads: Int = Executor.defaultThreads

    func validate() throws {
        for (name, value) in [("--mean", mean), ("--max", max), ("--threshold", threshold)] + (p95.map { [("--p95", $0)] } ?? [])
        where !(value >= 0 && value.isFinite) {
            throw ValidationError("\(name) \(value): expected a ΔE00 of 0 or more")
        }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard previewSize >= 16 else { throw ValidationError("--preview-size must be at least 16") }
        guard htmlImages >= 0 else { throw ValidationError("--html-images must be 0 or more") }
        if matchStem && !(isFolder(expected) && isFolder(actual)) {
            throw ValidationError("--match-stem pairs the files of two folders: give two folders")
        }
    }

    func run() throws {
        let started = ContinuousClock.now
        let tolerance = GoldenTolerance(mean: mean, max: max, p95: p95, threshold: threshold)
        let folders = (isFolder(expected), isFolder(actual))
        var results: [ImageFileComparison.Result] = []
        switch folders {
        case (true, true):
            let pairs: (both: [ImageFileComparison.Pair], onlyExpected: [String], onlyActual: [String])
            do { pairs = try ImageFileComparison.pairs(expected: expected, actual: actual, matchingStems: matchStem) } catch {
                complain("emulsion: compare: \(error)"); throw ExitCode(2)
            }
            guard !(pairs.both.isEmpty && pairs.onlyExpected.isEmpty && pairs.onlyActual.isEmpty) else {
                complain("emulsion: compare: no .png, .tif, .tiff, .jpg or .jpeg files in \(expected) or \(actual)"); throw ExitCode(2)
            }
            for pair in pairs.both {
                results.append(ImageFileComparison.compare(
                    name: pair.name, expected: InputFolders.join(expected, pair.expected), actual: InputFolders.join(actual, pair.actual),
                    tolerance: tolerance, heatMap: heatMap.map { InputFolders.join($0, Self.heatMapName(for: pair.expected)) },
                    previewSize: embeddedPreviewSize, alignment: align, threads: threads))
                ImageFileComparison.keepPreviews(of: &results, limit: htmlImages)
            }
            results += pairs.onlyExpected.map { missing($0, verdict: .onlyExpected, from: actual) }
            results += pairs.onlyActual.map { missing($0, verdict: .onlyActual, from: expected) }
        case (false, false):
            results.append(ImageFileComparison.compare(name: expected, expected: expected, actual: actual, tolerance: tolerance,
                                                       heatMap: heatMap, previewSize: embeddedPreviewSize, alignment: align,
                                                       threads: threads))
        default:
            complain("emulsion: compare: \(folders.0 ? expected : actual) is a folder and \(folders.0 ? actual : expected) is not: give two images or two folders")
            throw ExitCode(2)
        }
        results.sort(by: ImageFileComparison.worstFirst)
        if json { try printJSON(results, tolerance) } else { printLines(results, tolerance) }
        let elapsed = started.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        if let junit { try write(ImageFileComparison.junitXML(results, seconds: seconds), to: junit) }
        if let html {
            try write(ComparisonHTMLReport.html(results, expected: expected, actual: actual, tolerance: tolerance, seconds: seconds,
                                                previewLimit: htmlImages), to: html)
            if !json { print("HTML report: \(html)") }
        }
        let code = ImageFileComparison.exitCode(results)
        if code != 0 { throw ExitCode(code) }
    }

    /// Previews are made only for the HTML report.
    var embeddedPreviewSize: Int? { html == nil || htmlImages == 0 ? nil : previewSize }

    /// A report file, whole or not at all; a failure is exit 2 (the comparison's outcome could not be delivered).
    func write(_ text: String, to path: String) throws {
        do { try AtomicOutput.write(Array(text.utf8), to: path, overwrite: true) } catch {
            complain("emulsion: compare: \(error)"); throw ExitCode(2)
        }
    }

    func missing(_ name: String, verdict: ImageFileComparison.Verdict, from folder: String) -> ImageFileComparison.Result {
        let side = verdict == .onlyExpected ? "actual" : "expected"
        return ImageFileComparison.Result(name: name, expected: verdict == .onlyExpected ? InputFolders.join(expected, name) : "",
                                          actual: verdict == .onlyActual ? InputFolders.join(actual, name) : "", verdict: verdict,
                                          message: "not in the \(side) folder \(folder)")
    }

    func printLines(_ results: [ImageFileComparison.Result], _ tolerance: GoldenTolerance) {
        for r in results where !(onlyFailures && r.verdict.passed) {
            print("\(r.verdict.rawValue.uppercased())  \(r.name): \(r.message)")
            for note in r.notes { print("    \(note)") }
            if let heatMap = r.heatMap { print("    heat map: \(heatMap)") }
        }
        guard results.count > 1 else { return }
        print(ImageFileComparison.summary(results, tolerance))
    }

    func printJSON(_ results: [ImageFileComparison.Result], _ tolerance: GoldenTolerance) throws {
        struct Document: Encodable {
            var expected: String, actual: String
            var tolerance: [String: Double]
            var passed: Bool
            var results: [ImageFileComparison.Result]
        }
        var limits = ["mean": tolerance.mean, "max": tolerance.max, "threshold": tolerance.threshold]
        limits["p95"] = tolerance.p95
        let document = Document(expected: expected, actual: actual, tolerance: limits,
                                passed: results.allSatisfy { $0.verdict.passed }, results: results)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(document), as: UTF8.self))
    }

    /// A pair's heat map below the --heat-map folder: its relative path, a PNG by name too
    /// (`shot.tif` → `shot.tif.png`, which cannot meet `shot.png`'s).
    static func heatMapName(for relative: String) -> String {
        ImageFile.fileExtension(of: relative) == "png" ? relative : relative + ".png"
    }

    func isFolder(_ path: String) -> Bool {
        var folder = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &folder) && folder
    }
}

extension ImageAlignment: ExpressibleByArgument {}

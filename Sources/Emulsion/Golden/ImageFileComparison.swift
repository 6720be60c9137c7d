import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Two image files — or two folders of them, paired by relative path — compared in CIEDE2000
/// without a golden suite: `emulsion compare EXPECTED ACTUAL`.
///
/// What: each PNG, TIFF (`TIFFReader`: what darktable-cli, rawtherapee-cli and dcraw_emu
/// write) or JPEG (`JPEGReader`) is decoded through the ICC profile it carries (`ImageLabDecoder`; sRGB when it
/// carries none, noted), compared pixel by pixel (`ImageComparison`) and judged against a
/// tolerance as a golden case is (`GoldenRunner.judge`: darktable's integration-test limits, mean
/// ≤ 0.77 and max ≤ 2.3 ΔE00, by default). Folders pair every `.png`, `.tif`, `.tiff`, `.jpg` and `.jpeg` below EXPECTED with the file
/// at the same relative path below ACTUAL; a file on one side only is a result of its own.
/// Why: the QA question between two builds, two settings or two tools ("did anything I would
/// see change in these 800 renders?") has no manifest to record first; `cmp` says only that
/// bytes differ, and a difference in codes is not a difference in colour when the profiles differ.
public enum ImageFileComparison {
    public enum Verdict: String, Sendable, Codable {
        case identical, pass, fail
        case sizeMismatch = "size-mismatch"
        /// The file exists on one side only (folders).
        case onlyExpected = "only-in-expected"
        case onlyActual = "only-in-actual"
        /// A file could not be read or decoded (exit 2: the comparison could not fully run).
        case unreadable

        public var passed: Bool { self == .identical || self == .pass }
        public var isError: Bool { self == .unreadable }

        /// Higher is worse: the order results are listed in.
        public var severity: Int {
            switch self {
            case .identical: return 0
            case .pass: return 1
            case .fail: return 2
            case .sizeMismatch: return 3
            case .onlyExpected, .onlyActual: return 4
            case .unreadable: return 5
            }
        }
    }

    /// Reduced 8-bit images of one pair for the HTML report (PNG bytes; `ImageReduction.preview`).
    public struct Previews: Sendable {
        public var expected: [UInt8]?
        public var actual: [UInt8]?
        public var heatMap: [UInt8]?
    }

    public struct Result: Sendable, Codable {
        /// The pair's name: the relative path for folders, else the expected file's path.
        public var name: String
        public var expected: String
        public var actual: String
        public var verdict: Verdict
        public var message: String
        public var notes: [String] = []
        public var mean: Double?
        public var p95: Double?
        public var max: Double?
        public var fractionAbove: Double?
        /// Where the heat map was written (only for pairs that differ).
        public var heatMap: String?
        /// Images for the HTML report (pairs that differ, when asked for); not part of the JSON.
        public var previews: Previews?

        enum CodingKeys: String, CodingKey {
            case name, expected, actual, verdict, message, notes, mean, p95, max, fractionAbove, heatMap
        }

        public init(name: String, expected: String, actual: String, verdict: Verdict, message: String) {
            self.name = name; self.expected = expected; self.actual = actual; self.verdict = verdict; self.message = message
        }
    }

    /// Two files compared: relative paths below EXPECTED and ACTUAL.
    public struct Pair: Sendable, Equatable {
        public var expected: String
        public var actual: String

        public init(expected: String, actual: String) { self.expected = expected; self.actual = actual }

        /// The relative path, or both when they differ (`shot.png ↔ shot.tif`).
        public var name: String { expected == actual ? expected : "\(expected) ↔ \(actual)" }
    }

    /// The image files below `expected` and `actual` (subfolders included, by `InputFolders`'
    /// rules: hidden names skipped, links to folders not entered) paired by relative path — or,
    /// `matchingStems`, by relative path without extension (`shot.png` with `shot.tif`: two
    /// tools' outputs of the same raws) — sorted, and the relative paths present on one side only.
    /// A subfolder that cannot be listed is an error: a comparison that silently skipped it would
    /// pass what it never saw. So are two files of one side with the same stem (`shot.png` and
    /// `shot.jpg`): which one to compare would be a guess.
    public static func pairs(expected: String, actual: String, matchingStems: Bool = false) throws
        -> (both: [Pair], onlyExpected: [String], onlyActual: [String]) {
        func byKey(_ folder: String) throws -> [String: String] {
            var out: [String: String] = [:]
            for path in try images(below: folder).sorted() {
                let key = matchingStems ? String(path.dropLast(ImageFile.fileExtension(of: path).count + 1)) : path
                if let other = out[key] {
                    throw RenderError("\(folder): \(other) and \(path) have the same name without extension: --match-stem cannot tell which to compare")
                }
                out[key] = path
            }
            return out
        }
        let left = try byKey(expected), right = try byKey(actual)
        let both = left.keys.filter { right[$0] != nil }.sorted().map { Pair(expected: left[$0]!, actual: right[$0]!) }
        return (both, left.filter { right[$0.key] == nil }.values.sorted(), right.filter { left[$0.key] == nil }.values.sorted())
    }

    static func images(below folder: String) throws -> Set<String> {
        let found = try InputFolders.files(below: folder, extensions: imageExtensions)
        if let unlisted = found.unlisted.first { throw RenderError(unlisted.message) }
        return Set(found.files.map { ($0.subfolder.isEmpty ? "" : $0.subfolder + "/") + URL(fileURLWithPath: $0.path).lastPathComponent })
    }

    /// Worst first: errors, pairs on one side only, size mismatches, failures, passes, identical;
    /// by max ΔE00 within each, then by name.
    public static func worstFirst(_ a: Result, _ b: Result) -> Bool {
        (a.verdict.severity, a.max ?? 0, b.name) > (b.verdict.severity, b.max ?? 0, a.name)
    }

    /// Drops the previews of all but the `limit` worst results that have them: a folder of
    /// thousands of differing renders would otherwise hold (and embed) megabytes for each.
    public static func keepPreviews(of results: inout [Result], limit: Int) {
        let holders = results.indices.filter { results[$0].previews != nil }
        guard holders.count > limit else { return }
        for i in holders.sorted(by: { worstFirst(results[$0], results[$1]) }).dropFirst(limit) { results[i].previews = nil }
    }

    /// "12 files: 9 identical, 2 pass, 1 fail (limits: …)".
    public static func summary(_ results: [Result], _ tolerance: GoldenTolerance) -> String {
        let counts = Dictionary(grouping: results, by: \.verdict).mapValues(\.count)
        let order: [Verdict] = [.identical, .pass, .fail, .sizeMismatch, .onlyExpected, .onlyActual, .unreadable]
        return "\(results.count) file\(results.count == 1 ? "" : "s"): " + order.compactMap { v in counts[v].map { "\($0) \(v.rawValue)" } }.joined(separator: ", ")
            + " (limits: \(tolerance.summary))"
    }

    /// 0 when every pair passes, 2 when a file could not be read, else 1.
    public static func exitCode(_ results: [Result]) -> Int32 {
        if results.contains(where: { $0.verdict.isError }) { return 2 }
        return results.allSatisfy { $0.verdict.passed } ? 0 : 1
    }

    /// Compares two image files (PNG, TIFF or JPEG, any with any); writes a heat map to `heatMap` when they differ and a path is given.
    /// With `previewSize`, a pair that is not identical carries previews of at most that many pixels a side.
    /// Images of different sizes are compared over their common area when `alignment` places it (noted).
    public static func compare(name: String, expected: String, actual: String, tolerance: GoldenTolerance,
                               heatMap: String?, previewSize: Int? = nil, alignment: ImageAlignment = .none, threads: Int) -> Result {
        var result = Result(name: name, expected: expected, actual: actual, verdict: .unreadable, message: "")
        var images: (PNGImage, PNGImage)
        let decoders: (ImageLabDecoder, ImageLabDecoder)
        do {
            let a = try readImage(expected), b = try readImage(actual)
            images = (a, b)
            let (da, na) = try decoder(for: a, path: expected), (db, nb) = try decoder(for: b, path: actual)
            decoders = (da, db)
            result.notes += [na.map { "expected: \($0)" }, nb.map { "actual: \($0)" }].compactMap { $0 }
        } catch {
            result.message = "\(error)"
            return result
        }
        if alignment != .none, images.0.width != images.1.width || images.0.height != images.1.height {
            let (a, b) = images
            if let o = alignment.offsets(expected: a, actual: b) {
                let w = min(a.width, b.width), h = min(a.height, b.height)
                images = (ImageAlignment.window(a, x: o.expected.x, y: o.expected.y, width: w, height: h),
                          ImageAlignment.window(b, x: o.actual.x, y: o.actual.y, width: w, height: h))
                result.notes.append("sizes differ (expected \(a.width)×\(a.height), actual \(b.width)×\(b.height)): compared the common "
                                    + "\(w)×\(h), expected from (\(o.expected.x), \(o.expected.y)), actual from (\(o.actual.x), \(o.actual.y)) "
                                    + "(--align \(alignment.rawValue))")
            } else {
                result.notes.append("sizes differ by more than \(ImageAlignment.searchLimit) pixels along an axis: --align search does not try")
            }
        }
        if images.0.bitDepth != images.1.bitDepth {
            result.notes.append("expected is \(images.0.bitDepth)-bit, actual \(images.1.bitDepth)-bit")
        }
        if decoders.0.label != decoders.1.label {
            result.notes.append("expected is \(decoders.0.label), actual \(decoders.1.label): compared colorimetrically")
        }
        // The same codes in the same encoding: identical, without decoding a pixel to Lab (most
        // pairs of a regression run are; a 24 MP pair took 4.5 s through the comparison).
        if decoders.0.hasSameEncoding(as: decoders.1), images.0.width == images.1.width, images.0.height == images.1.height,
           images.0.samples == images.1.samples {
            let none = DeltaEStatistics(differences: [], threshold: tolerance.threshold)
            (result.verdict, result.message) = (.identical, GoldenRunner.judge(none, tolerance).1)
            (result.mean, result.p95, result.max, result.fractionAbove) = (0, 0, 0, 0)
            return result
        }
        let comparison: ImageComparison
        do {
            comparison = try ImageComparison(approved: images.0, decodedBy: decoders.0, actual: images.1, decodedBy: decoders.1,
                                             threshold: tolerance.threshold, threads: threads)
        } catch let mismatch as ImageComparison.SizeMismatch {
            result.verdict = .sizeMismatch
            result.message = "size differs: expected \(mismatch.approved.width)×\(mismatch.approved.height), actual \(mismatch.actual.width)×\(mismatch.actual.height)"
            if let previewSize {
                result.previews = Previews(expected: ImageReduction.previewPNG(images.0, maxSide: previewSize),
                                           actual: ImageReduction.previewPNG(images.1, maxSide: previewSize))
            }
            return result
        } catch {
            result.message = "\(error)"
            return result
        }
        let s = comparison.statistics
        let (verdict, message) = GoldenRunner.judge(s, tolerance)
        result.verdict = verdict == .identical ? .identical : verdict == .pass ? .pass : .fail
        result.message = message
        (result.mean, result.p95, result.max, result.fractionAbove) = (s.mean, s.percentile95, s.max, s.fractionAbove)
        guard result.verdict != .identical else { return result }
        let caption = "ΔE2000 mean \(GoldenFormat.number(s.mean, digits: 2)) p95 \(GoldenFormat.number(s.percentile95, digits: 2)) max \(GoldenFormat.number(s.max, digits: 2))"
        if let previewSize {
            result.previews = Previews(expected: ImageReduction.previewPNG(images.0, maxSide: previewSize),
                                       actual: ImageReduction.previewPNG(images.1, maxSide: previewSize),
                                       heatMap: try? PNGFile.encode(HeatMap.image(comparison, maxSide: previewSize, caption: caption)))
        }
        if let heatMap {
            do {
                try FileManager.default.createDirectory(at: URL(fileURLWithPath: heatMap).deletingLastPathComponent(), withIntermediateDirectories: true)
                try AtomicOutput.write(try PNGFile.encode(try HeatMap.image(comparison, caption: caption)), to: heatMap, overwrite: true)
                result.heatMap = heatMap
            } catch {
                // Foundation's folder errors print as a CocoaError dump; the POSIX reason is the message.
                result.notes.append("heat map not written to \(heatMap): \(PlainFile.reason(for: error))")
            }
        }
        return result
    }

    /// The extensions folders are searched for.
    public static let imageExtensions: Set<String> = ["png", "tif", "tiff", "jpg", "jpeg"]

    /// A PNG, TIFF or JPEG, told apart by their first bytes (not the name), as 8/16-bit RGB with its ICC profile.
    public static func readImage(_ path: String) throws -> PNGImage {
        // Missing, unreadable, empty and special files are named first: a FIFO would block the sniffing read.
        do { _ = try InputFileCheck.regularReadableFile(path, kind: "image") } catch let e as RawFileError {
            throw RenderError("\(path): \(e.problem)")
        }
        let head = PlainFile.prefix(of: path, count: 4)
        if TIFFReader.isTIFF(head) { return try TIFFReader.read(path: path) }
        if JPEGReader.isJPEG(head) { return try JPEGReader.read(path: path) }
        return try PNGFile.read(path: path)
    }

    /// A decoder for one file's image, with the file named in any error.
    static func decoder(for image: PNGImage, path: String) throws -> (ImageLabDecoder, String?) {
        do {
            return try ImageLabDecoder.forImage(image)
        } catch {
            throw RenderError("\(path): \(error)")
        }
    }

    /// JUnit XML for CI systems, as `golden check --junit` writes it (`GoldenJUnitReport`): one
    /// `<testcase>` per pair (classname `compare`, name the pair's), `<failure>` for a failure,
    /// size mismatch or file on one side only, `<error>` for an unreadable file, the figures and
    /// notes in `<system-out>`.
    public static func junitXML(_ results: [Result], seconds: Double) -> String {
        let failures = results.filter { !$0.verdict.passed && !$0.verdict.isError }.count
        let errors = results.filter { $0.verdict.isError }.count
        let time = GoldenFormat.number(seconds)
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites name=\"emulsion compare\" tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"\(errors)\" time=\"\(time)\">\n"
        x += "  <testsuite name=\"compare\" tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"0\" time=\"\(time)\">\n"
        for r in results {
            x += "    <testcase classname=\"compare\" name=\"\(XMLText.attribute(r.name))\">\n"
            let details = ([r.message, "expected: \(r.expected)", "actual: \(r.actual)"] + (r.heatMap.map { ["heat map: \($0)"] } ?? []) + r.notes)
                .joined(separator: "\n")
            if r.verdict.isError {
                x += "      <error type=\"\(r.verdict.rawValue)\" message=\"\(XMLText.attribute(r.message))\">\(XMLText.text(details))</error>\n"
            } else if !r.verdict.passed {
                x += "      <failure type=\"\(r.verdict.rawValue)\" message=\"\(XMLText.attribute(r.message))\">\(XMLText.text(details))</failure>\n"
            }
            x += "      <system-out>\(XMLText.text(r.verdict.rawValue + ": " + details))</system-out>\n"
            x += "    </testcase>\n"
        }
        return x + "  </testsuite>\n</testsuites>\n"
    }
}

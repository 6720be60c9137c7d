import Dispatch
import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a case's check concluded.
public enum GoldenVerdict: String, Sendable, CaseIterable {
    /// max ΔE00 < 0.01.
    case identical
    /// Within the case's tolerance (default mean ≤ 0.77 and max ≤ 2.3).
    case pass
    /// Beyond the tolerance.
    case fail
    /// The render's width or height differs from the approved image's.
    case sizeMismatch = "size-mismatch"
    /// No approved image yet (`golden record` makes one).
    case noApproved = "no-approved-image"
    /// The approved image exists but cannot be decoded.
    case unreadableApproved = "unreadable-approved-image"
    /// The input, profile or render failed (missing raw, bad profile, unreadable file…).
    case cannotRender = "cannot-render"

    /// The case could not be judged: the suite did not fully run (exit 2).
    public var isError: Bool { self == .noApproved || self == .unreadableApproved || self == .cannotRender }
    /// A regression was found (exit 1).
    public var isFailure: Bool { self == .fail || self == .sizeMismatch }
    public var passed: Bool { self == .identical || self == .pass }

    /// Higher is worse; reports list the worst first.
    public var severity: Int {
        switch self {
        case .identical: return 0
        case .pass: return 1
        case .fail, .sizeMismatch: return 2
        case .noApproved, .unreadableApproved, .cannotRender: return 3
        }
    }

    /// Upper-case tag for text output.
    public var tag: String {
        switch self {
        case .identical: return "IDENTICAL"
        case .pass: return "PASS"
        case .fail: return "FAIL"
        case .sizeMismatch: return "FAIL-SIZE"
        case .noApproved: return "NO-APPROVED"
        case .unreadableApproved: return "UNREADABLE"
        case .cannotRender: return "ERROR"
        }
    }
}

/// Images a report embeds for one case (PNG bytes, reduced and 8-bit).
public struct GoldenPreviews: Sendable {
    public var approved: [UInt8]?
    public var actual: [UInt8]?
    public var heatMap: [UInt8]?
}

/// The outcome of checking one case.
public struct GoldenCaseResult: Sendable {
    public var goldenCase: GoldenCase
    public var verdict: GoldenVerdict
    /// One line: the figures against the limits, or what went wrong.
    public var message: String
    public var statistics: DeltaEStatistics?
    /// Remarks that do not change the verdict (colour space of the approved image, files not written…).
    public var notes: [String] = []
    /// The input as resolved (a path or the synthetic scene).
    public var input: String
    public var approvedPath: String
    public var approvedSize: (width: Int, height: Int)?
    public var actualSize: (width: Int, height: Int)?
    /// Files written for this case (on a difference).
    public var actualPath: String?
    public var heatMapPath: String?
    /// Wall time of render and comparison.
    public var seconds: Double
    public var previews: GoldenPreviews?
}

/// All results of one check, in manifest order.
public struct GoldenCheckReport: Sendable {
    public var suite: GoldenSuite
    public var results: [GoldenCaseResult]
    /// What-if overrides applied to every case.
    public var overrides: [String]
    public var seconds: Double
    /// Approved images in the suite that no case uses (`GoldenSuite.orphanedApprovedImages`):
    /// reported beside the results; they do not change the exit code.
    public var orphanedApprovedImages: [String] = []

    /// 0 when every case passed, 1 when any case failed, 2 when any case could not be judged.
    public var exitCode: Int32 {
        if results.contains(where: { $0.verdict.isError }) { return 2 }
        if results.contains(where: { $0.verdict.isFailure }) { return 1 }
        return 0
    }

    /// Worst first: errors, failures, passes, identical; then by max ΔE00, then by name.
    public var worstFirst: [GoldenCaseResult] {
        results.sorted { a, b in
            if a.verdict.severity != b.verdict.severity { return a.verdict.severity > b.verdict.severity }
            let ma = a.statistics?.max ?? -1, mb = b.statistics?.max ?? -1
            if ma != mb { return ma > mb }
            return a.goldenCase.name < b.goldenCase.name
        }
    }

    public func count(_ verdict: GoldenVerdict) -> Int { results.filter { $0.verdict == verdict }.count }

    /// One line per unused approved image, for the terminal and the HTML report.
    public var orphanNotes: [String] {
        orphanedApprovedImages.map(GoldenSuite.orphanNote)
    }

    /// "5 cases: 3 identical, 1 pass, 1 fail".
    public var summary: String {
        let parts = GoldenVerdict.allCases.compactMap { v -> String? in
            let n = count(v)
            return n == 0 ? nil : "\(n) \(v.rawValue)"
        }
        return "\(results.count) case\(results.count == 1 ? "" : "s"): " + (parts.isEmpty ? "none" : parts.joined(separator: ", "))
    }
}

/// What `record` did to one case's approved image.
public struct GoldenRecordOutcome: Sendable {
    public enum Change: Sendable, Equatable {
        /// There was no approved image; one was written.
        case new
        /// The approved image was replaced; the text says how the old one differed.
        case changed(String)
        /// The render equals the approved image (same pixels, depth and profile); the file was not touched.
        case unchanged
        /// The case could not be rendered or written; the approved image (if any) was left as it was.
        case failed(String)
    }

    public var goldenCase: GoldenCase
    public var change: Change
    public var approvedPath: String
    public var size: (width: Int, height: Int)?
}

/// Checks and records golden suites: renders the cases in parallel and judges or stores the results.
public struct GoldenRunner: Sendable {
    public static let actualName = "actual.png"
    public static let heatMapName = "heatmap.png"

    public var renderer: GoldenRenderer
    public var suite: GoldenSuite { renderer.suite }
    /// Total threads: cases run in parallel, each render gets threads / parallel cases.
    public var threads: Int
    /// Where `NAME/actual.png` and `NAME/heatmap.png` go on a difference (default: the suite folder,
    /// beside each approved image).
    public var outputDirectory: URL?
    /// When set, results carry previews of at most this many pixels a side, for the HTML report.
    public var previewSize: Int?

    public init(renderer: GoldenRenderer, threads: Int = Executor.defaultThreads, outputDirectory: URL? = nil, previewSize: Int? = nil) {
        self.renderer = renderer
        self.threads = max(1, threads)
        self.outputDirectory = outputDirectory
        self.previewSize = previewSize
    }

    public func outputFolder(_ c: GoldenCase) -> URL {
        (outputDirectory ?? suite.directory).appendingPathComponent(c.name)
    }

    // MARK: Check

    /// Renders and judges `cases` (never writes approved images). `progress` is called after each case.
    public func check(_ cases: [GoldenCase],
                      progress: @escaping @Sendable (_ done: Int, _ total: Int, _ result: GoldenCaseResult) -> Void = { _, _, _ in }) -> GoldenCheckReport {
        let started = Date()
        renderer.expect(cases)
        let results = parallel(cases, progress: progress) { c, threads in self.check(c, threads: threads) }
        return GoldenCheckReport(suite: suite, results: results, overrides: renderer.extraOverrides,
                                 seconds: Date().timeIntervalSince(started), orphanedApprovedImages: suite.orphanedApprovedImages)
    }

    func check(_ c: GoldenCase, threads: Int) -> GoldenCaseResult {
        let started = Date()
        let approvedURL = suite.approvedURL(c)
        var result = GoldenCaseResult(goldenCase: c, verdict: .cannotRender, message: "", input: renderer.describe(c.input),
                                      approvedPath: approvedURL.path, seconds: 0)
        evaluate(c, threads: threads, approvedURL: approvedURL, into: &result)
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    func evaluate(_ c: GoldenCase, threads: Int, approvedURL: URL, into result: inout GoldenCaseResult) {
        // The approved image first: its absence is reported even when the render also fails.
        var approved: PNGImage?
        var approvedProblem: (GoldenVerdict, String)?
        if !FileManager.default.fileExists(atPath: approvedURL.path) {
            approvedProblem = (.noApproved, "\(approvedURL.path): no approved image (run `emulsion golden record \(suite.directory.path) --case \(c.name)`)")
        } else {
            do {
                let image = try PNGFile.read(path: approvedURL.path)
                approved = image
                result.approvedSize = (image.width, image.height)
            } catch {
                approvedProblem = (.unreadableApproved, "\(error)")
            }
        }
        if let size = previewSize {
            result.previews = GoldenPreviews(approved: approved.flatMap { ImageReduction.previewPNG($0, maxSide: size) })
        }

        let actual: PNGImage
        do {
            let rendered = try renderer.rendered(c, threads: threads)
            actual = rendered.image
            result.notes += rendered.idleNotes
        } catch {
            result.verdict = .cannotRender
            result.message = "\(error)"
            if let (_, text) = approvedProblem { result.notes.append(text) }
            return
        }
        result.actualSize = (actual.width, actual.height)
        if let size = previewSize { result.previews?.actual = ImageReduction.previewPNG(actual, maxSide: size) }

        guard let approved else {
            let (verdict, text) = approvedProblem!
            result.verdict = verdict
            result.message = text
            writeOutputs(c, actual: actual, heatMap: nil, into: &result)
            return
        }

        // Each image is decoded through the profile it carries; a mismatch with the case's space is noted.
        let comparison: ImageComparison
        do {
            let approvedDecoder = try Self.approvedDecoder(approved, c, notes: &result.notes)
            if approved.bitDepth != actual.bitDepth {
                result.notes.append("approved image is \(approved.bitDepth)-bit, the render \(actual.bitDepth)-bit")
            }
            comparison = try ImageComparison(approved: approved, decodedBy: approvedDecoder, actual: actual,
                                             decodedBy: .space(try EncodedLabDecoder(space: c.space, bitDepth: actual.bitDepth)),
                                             threshold: c.tolerance.threshold, threads: threads)
        } catch let mismatch as ImageComparison.SizeMismatch {
            result.verdict = .sizeMismatch
            result.message = mismatch.description
            writeOutputs(c, actual: actual, heatMap: nil, into: &result)
            return
        } catch {
            result.verdict = .cannotRender
            result.message = "\(error)"
            return
        }
        let s = comparison.statistics
        result.statistics = s
        (result.verdict, result.message) = Self.judge(s, c.tolerance)

        let caption = "ΔE2000 mean \(GoldenFormat.number(s.mean, digits: 2)) p95 \(GoldenFormat.number(s.percentile95, digits: 2)) max \(GoldenFormat.number(s.max, digits: 2))"
        if let size = previewSize {
            result.previews?.heatMap = try? PNGFile.encode(HeatMap.image(comparison, maxSide: size, caption: caption))
        }
        if result.verdict == .identical {
            removeStaleOutputs(c)
        } else {
            writeOutputs(c, actual: actual, heatMap: try? HeatMap.image(comparison, caption: caption), into: &result)
        }
    }

    /// How the approved image of `c` is decoded: through the output space whose profile it carries
    /// (noted when that is not the case's), through LittleCMS when it carries another RGB profile
    /// (an image converted or re-saved by another tool: compared by colour, and noted), as the
    /// case's space when it carries none or one LittleCMS cannot use (noted).
    static func approvedDecoder(_ approved: PNGImage, _ c: GoldenCase, notes: inout [String]) throws -> ImageLabDecoder {
        switch space(ofICC: approved.iccProfile) {
        case let space? where space == c.space:
            return .space(try EncodedLabDecoder(space: space, bitDepth: approved.bitDepth))
        case let space?:
            notes.append("approved image is in \(space.rawValue), the case renders \(c.space.rawValue): compared colorimetrically; re-record to update it")
            return .space(try EncodedLabDecoder(space: space, bitDepth: approved.bitDepth))
        case nil:
            if approved.iccProfile != nil, let (decoder, _) = try? ImageLabDecoder.forImage(approved) {
                notes.append("approved image carries \(decoder.label), not one of Emulsion's profiles: compared colorimetrically through LittleCMS; re-record to update it")
                return decoder
            }
            notes.append("approved image has \(approved.iccProfile == nil ? "no" : "an unusable") ICC profile: decoded as \(c.space.rawValue)")
            return .space(try EncodedLabDecoder(space: c.space, bitDepth: approved.bitDepth))
        }
    }

    /// The verdict and its one-line reason.
    public static func judge(_ s: DeltaEStatistics, _ t: GoldenTolerance) -> (GoldenVerdict, String) {
        let figures = "mean \(GoldenFormat.number(s.mean)), p95 \(GoldenFormat.number(s.percentile95)), max \(GoldenFormat.number(s.max)) ΔE00, "
            + "\(GoldenFormat.percent(s.fractionAbove)) of pixels above \(GoldenFormat.number(s.threshold))"
        if s.max < GoldenTolerance.identicalBelow { return (.identical, figures) }
        var broken: [String] = []
        if !(s.mean <= t.mean) { broken.append("mean > \(GoldenFormat.number(t.mean))") }
        if !(s.max <= t.max) { broken.append("max > \(GoldenFormat.number(t.max))") }
        if let p95 = t.p95, !(s.percentile95 <= p95) { broken.append("p95 > \(GoldenFormat.number(p95))") }
        if broken.isEmpty { return (.pass, figures + " (within \(t.summary))") }
        return (.fail, figures + "; over the limit: " + broken.joined(separator: ", "))
    }

    /// The output space whose embedded profile is exactly `icc`, if any.
    public static func space(ofICC icc: [UInt8]?) -> OutputSpace? {
        guard let icc else { return nil }
        return OutputSpace.allCases.first { (try? $0.iccProfile()) == icc }
    }

    func writeOutputs(_ c: GoldenCase, actual: PNGImage, heatMap: PNGImage?, into result: inout GoldenCaseResult) {
        let folder = outputFolder(c)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let actualURL = folder.appendingPathComponent(Self.actualName)
            try AtomicOutput.write(try PNGFile.encode(actual), to: actualURL.path, overwrite: true)
            result.actualPath = actualURL.path
            let heatURL = folder.appendingPathComponent(Self.heatMapName)
            if let heatMap {
                try AtomicOutput.write(try PNGFile.encode(heatMap), to: heatURL.path, overwrite: true)
                result.heatMapPath = heatURL.path
            } else {
                try? FileManager.default.removeItem(at: heatURL)
            }
        } catch {
            // Foundation's folder errors print as a CocoaError dump; the POSIX reason is the message.
            result.notes.append("could not write the actual image or heat map in \(folder.path): \(PlainFile.reason(for: error))")
        }
    }

    /// An identical case leaves no actual/heat map from an earlier failing run behind.
    func removeStaleOutputs(_ c: GoldenCase) {
        let folder = outputFolder(c)
        for name in [Self.actualName, Self.heatMapName] {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
        if outputDirectory != nil, (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.isEmpty == true {
            try? FileManager.default.removeItem(at: folder)
        }
    }

    // MARK: Record

    /// Encoding for approved images: smallest files (they are committed), speed does not matter.
    public static let approvedEncoding = PNGEncodingOptions(compressionLevel: 9, filter: .adaptive)

    /// Renders `cases` and writes each as its approved image, saying what changed.
    public func record(_ cases: [GoldenCase],
                       progress: @escaping @Sendable (_ done: Int, _ total: Int, _ outcome: GoldenRecordOutcome) -> Void = { _, _, _ in }) -> [GoldenRecordOutcome] {
        renderer.expect(cases)
        return parallel(cases, progress: progress) { c, threads in self.record(c, threads: threads) }
    }

    func record(_ c: GoldenCase, threads: Int) -> GoldenRecordOutcome {
        let url = suite.approvedURL(c)
        var outcome = GoldenRecordOutcome(goldenCase: c, change: .unchanged, approvedPath: url.path)
        let actual: PNGImage
        do { actual = try renderer.render(c, threads: threads) } catch {
            outcome.change = .failed("\(error)")
            return outcome
        }
        outcome.size = (actual.width, actual.height)
        if FileManager.default.fileExists(atPath: url.path) {
            do {
                let old = try PNGFile.read(path: url.path)
                if old == actual { return outcome }
                outcome.change = .changed(Self.describeChange(from: old, to: actual, c))
            } catch {
                outcome.change = .changed("the previous file could not be read (\(error))")
            }
        } else {
            outcome.change = .new
        }
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try AtomicOutput.write(try PNGFile.encode(actual, options: Self.approvedEncoding), to: url.path, overwrite: true)
        } catch {
            outcome.change = .failed("cannot write \(url.path): \(error)")
        }
        return outcome
    }

    static func describeChange(from old: PNGImage, to new: PNGImage, _ c: GoldenCase) -> String {
        if old.width != new.width || old.height != new.height {
            return "size \(old.width)×\(old.height) → \(new.width)×\(new.height)"
        }
        var parts: [String] = [], ignored: [String] = []
        if let decoder = try? approvedDecoder(old, c, notes: &ignored), let newDecoder = try? EncodedLabDecoder(space: c.space, bitDepth: new.bitDepth),
           let comparison = try? ImageComparison(approved: old, decodedBy: decoder, actual: new, decodedBy: .space(newDecoder),
                                                  threshold: c.tolerance.threshold) {
            let s = comparison.statistics
            let (verdict, _) = judge(s, c.tolerance)
            parts.append("was \(verdict.rawValue): mean \(GoldenFormat.number(s.mean)), max \(GoldenFormat.number(s.max)) ΔE00, "
                + "\(GoldenFormat.percent(s.fractionAbove)) of pixels above \(GoldenFormat.number(s.threshold))")
        }
        if old.bitDepth != new.bitDepth { parts.append("\(old.bitDepth)-bit → \(new.bitDepth)-bit") }
        if old.iccProfile != new.iccProfile { parts.append("ICC profile \(space(ofICC: old.iccProfile)?.rawValue ?? "unknown") → \(c.space.rawValue)") }
        return parts.joined(separator: "; ")
    }

    // MARK: Parallel

    /// Runs `body` over `items` with up to `threads` at once (threads split between them), results in order.
    func parallel<T: Sendable, R: Sendable>(_ items: [T], progress: @escaping @Sendable (Int, Int, R) -> Void,
                                            _ body: @escaping @Sendable (T, Int) -> R) -> [R] {
        let workers = max(1, min(threads, items.count))
        let perItem = max(1, threads / workers)
        let state = ParallelState<R>(count: items.count)
        let work = { (_: Int) in
            while let i = state.next() {
                let r = body(items[i], perItem)
                progress(state.finish(i, r), items.count, r)
            }
        }
        if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
        return state.results.map { $0! }
    }
}

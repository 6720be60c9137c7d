import ArgumentParser
import Emulsion
import EmulsionCore
import EmulsionIO
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// One `emulsion process` run as plain values: what `ProcessCommand` parses into and
/// `ProcessRequest(scanning:)` reads directly, with the run itself. Defaults live here, so both
/// parsers start from the same request.
struct ProcessRequest: Equatable {
    var inputs: [String] = []
    var recursive = false
    var output: String?
    var outputDirectory: String?
    /// `--name`'s template (`OutputNaming`).
    var name: String?
    /// `--min-rating`: only raws rated at least this (0…5) are rendered.
    var minRating: Int?
    /// `--label`: only raws with one of these colour labels ("green", "red,purple") are rendered.
    var label: String?
    var profile = "neutral"
    var overrides: [String] = []
    var demosaic: String?
    var highlights: String?
    var wb: String?
    var wbRect: String?
    var dcp: String?
    var device: String?
    var space: OutputSpace = .sRGB
    /// nil: 16, or 8 for a JPEG (`effectiveBits`).
    var bits: Int?
    /// nil: PNG, or JPEG when `-o` names a .jpg/.jpeg (`effectiveFormat`).
    var format: FileFormat?
    var quality: Int?
    /// nil: uncompressed (`TIFFFile.Compression.uncompressed`).
    var tiffCompression: TIFFFile.Compression?
    var engine: Engine = .simd
    /// nil: `PNGEncodingOptions.default`'s level.
    var pngLevel: Int?
    var threads = Executor.defaultThreads
    var shard: String?
    var maxSize: String?
    var crop: String?
    var aspect: String?
    var report: String?
    var overwrite = false
    var skipExisting = false
    var stripLocation = false
    var timings = false
    /// `--dry-run`: plan, print each input's output, render nothing.
    var dryRun = false
    var maxMegapixels = RawFile.defaultPixelLimit / 1_000_000
    var decodeTimeout: Double = 120
    var inProcessDecoder = false

    /// An output file format: PNG (8 or 16 bits, lossless), baseline JPEG (8 bits) or
    /// uncompressed TIFF (8 or 16 bits).
    enum FileFormat: String, CaseIterable, Equatable {
        case png, jpeg, tiff

        /// The format a file name's extension says, if it says one.
        init?(fileName: String) {
            if ImageFile.namesJPEG(fileName) { self = .jpeg }
            else if ImageFile.fileExtension(of: fileName) == "png" { self = .png }
            else if ImageFile.namesTIFF(fileName) { self = .tiff }
            else { return nil }
        }
    }

    var effectiveFormat: FileFormat { format ?? output.flatMap(FileFormat.init(fileName:)) ?? .png }
    var effectiveBits: Int { bits ?? (effectiveFormat == .jpeg ? 8 : 16) }

    /// What `Batch.run` writes.
    var outputFileFormat: OutputFileFormat {
        switch effectiveFormat {
        case .png: return .png(PNGEncodingOptions(compressionLevel: pngLevel ?? PNGEncodingOptions.default.compressionLevel))
        case .jpeg: return .jpeg(JPEGEncodingOptions(quality: quality ?? JPEGEncodingOptions.defaultQuality))
        case .tiff: return .tiff(tiffCompression ?? .uncompressed)
        }
    }

    /// `--crop` or `--aspect` as what the render takes (checked by `validationProblem`).
    func outputCrop() throws -> OutputCrop? {
        if let crop { return try OutputCrop(parsingRectangle: crop) }
        return try aspect.map(OutputCrop.init(parsingAspect:))
    }

    /// Why the values cannot run together, as ArgumentParser's validation reports it; nil if they can.
    var validationProblem: String? {
        if let bits, bits != 8 && bits != 16 { return "--bits must be 8 or 16" }
        if let format, let output, let named = FileFormat(fileName: output), named != format {
            return "-o \(output) names a \(named.rawValue.uppercased()) file but --format is \(format.rawValue)"
        }
        if format == nil, let output, let refusal = ImageFile.refusal(forName: output, option: "-o") {
            return refusal + "; name one of those, or give --format to write one under this name"
        }
        if effectiveFormat == .jpeg, bits == 16 { return "a JPEG holds 8 bits per sample: leave out --bits 16 (or use --format png)" }
        if let quality {
            if effectiveFormat != .jpeg { return "--quality is for JPEG output (--format jpeg or -o NAME.jpg)" }
            if !(1...100).contains(quality) { return "--quality must be 1…100" }
        }
        if tiffCompression != nil {
            if effectiveFormat != .tiff { return "--tiff-compression is for TIFF output (--format tiff or -o NAME.tif)" }
            if tiffCompression == .deflate && output == StandardOutput.name {
                return "a compressed TIFF's strip table is written after its strips: write it to a file, not standard output"
            }
        }
        if threads < 1 { return "--threads must be at least 1" }
        if let pngLevel {
            if effectiveFormat != .png { return "--png-level is for PNG output" }
            if !(0...9).contains(pngLevel) { return "--png-level must be 0…9" }
        }
        if let problem = DecoderOptions.megapixelProblem(maxMegapixels) { return problem }
        if output != nil && outputDirectory != nil { return "use either -o or --out-dir, not both" }
        if dryRun && inputs.isEmpty { return "--dry-run plans the inputs given: name raw files or folders" }
        if dryRun && report != nil { return "--dry-run prints the plan; --report records a run: leave one out" }
        if let minRating, !(0...5).contains(minRating) { return "--min-rating must be 0…5 (0: all but the rejected)" }
        if let label, labels == nil {
            return "--label \(label): expected colour labels separated by commas: " + ColourLabel.allCases.map(\.name).joined(separator: ", ")
        }
        if let name {
            if output != nil { return "--name names outputs in the output folder: use --out-dir, not -o" }
            do { _ = try OutputNaming(parsing: name) } catch { return "\(error)" }
        }
        if overwrite && skipExisting { return "use either --overwrite or --skip-existing, not both" }
        if output == StandardOutput.name && report == StandardOutput.name { return "-o - and --report - would both write to standard output" }
        if output == StandardOutput.name && skipExisting { return "--skip-existing has no file to find when writing to standard output (-o -)" }
        if let maxSize {
            do { _ = try OutputFit(parsing: maxSize) } catch { return "\(error)" }
        }
        if crop != nil && aspect != nil { return "use either --crop or --aspect, not both" }
        do { _ = try outputCrop() } catch { return "\(error)" }
        if output == "" || outputDirectory == "" || report == "" || name == "" || inputs.contains("") { return "a file or folder name is empty" }
        return DecoderOptions.timeoutProblem(decodeTimeout)
    }

    /// The shortcut options as `--set` assignments (validated by the profile like any other).
    func shortcutOverrides() throws -> [String] {
        var out: [String] = []
        if let demosaic { out.append("demosaic.algorithm=\(demosaic)") }
        if let highlights { out.append("highlights.mode=\(highlights)") }
        if let wb {
            // Empty parts kept: `--wb ""` (no part at all) trapped on `parts[0]`.
            let parts = wb.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if let kelvin = Double(parts[0]) {
                out += ["whiteBalance.mode=kelvin", "whiteBalance.temperature=\(kelvin)"]
                if parts.count == 2 {
                    guard let tint = Double(parts[1].hasPrefix("+") ? String(parts[1].dropFirst()) : parts[1]) else {
                        throw ProfileError(file: "--wb", keyPath: "", message: "expected KELVIN[:TINT], got \"\(wb)\"")
                    }
                    out.append("whiteBalance.tint=\(tint)")
                }
            } else {
                out.append("whiteBalance.mode=\(wb)")
            }
        }
        if let wbRect {
            let v = wbRect.split(separator: ",").compactMap { Int($0.trimmingWhitespace()) }
            guard v.count == 4, v.allSatisfy({ $0 >= 0 }), v[2] > 0, v[3] > 0 else {
                throw ProfileError(file: "--wb-rect", keyPath: "", message: "expected x,y,w,h: x and y 0 or more, w and h 1 or more (integers), got \"\(wbRect)\"")
            }
            out += ["whiteBalance.mode=spot", "whiteBalance.spotX=\(v[0])", "whiteBalance.spotY=\(v[1])",
                    "whiteBalance.spotWidth=\(v[2])", "whiteBalance.spotHeight=\(v[3])"]
        }
        return out
    }

    /// Renders the request's files, reporting each failure on one line; throws `ExitCode` 2 for a
    /// problem before any file is tried (an input folder, profile, device, output folder, plan) and 1
    /// when a file failed.
    func run() throws {
        // An image on standard output: never onto a terminal, and nothing else on it (the
        // summary line goes to standard error).
        // The same for a report there (`--report -`): a JSON document a script reads whole.
        let toStandardOutput = output == StandardOutput.name, reportToStandardOutput = report == StandardOutput.name
        if toStandardOutput, let refusal = StandardOutput.refusalForTerminal {
            complain("emulsion: \(refusal)")
            throw ExitCode(2)
        }
        let say: (String) -> Void = toStandardOutput || reportToStandardOutput ? { complain($0) } : { print($0) }
        // Folders become their raw files first: the worker is asked for the first file below.
        let expansion: InputFolders.Expansion
        do { expansion = try InputFolders.expand(self.inputs, recursive: recursive) } catch {
            complain("emulsion: \(error)")
            throw ExitCode(2)
        }
        let found = expansion.files, named = expansion.paths
        // A report that could not be written is said before anything runs, not after the batch.
        if let report, !reportToStandardOutput, let problem = AtomicOutput.problem(replacing: report, overwrite: true) {
            complain("emulsion: --report: \(problem)")
            throw ExitCode(2)
        }
        // The decode worker starts before anything else but that, and is asked for the first file at once
        // (unless a shard picks the files), so that its start and that decode overlap loading the
        // profile and planning the outputs instead of delaying the render (docs/PERFORMANCE.md,
        // session 14).
        let decoder = DecoderOptions.decoder(inProcess: inProcessDecoder, timeout: decodeTimeout)
            .serving(files: max(1, named.count))
        // (Not when resuming with --skip-existing: the first file is likely one of those done;
        // nor when --name reads every header first.)
        let naming = try? name.map(OutputNaming.init(parsing:))
        let readsLabels = label != nil || naming?.uses(.label) == true
        let readsHeaders = naming?.needsShot == true || readsLabels || minRating != nil
        let asksAhead = shard == nil && !skipExisting && !readsHeaders && !dryRun
        decoder.startWorkerAhead(prefetching: asksAhead ? named.first.map { ($0, maxMegapixels * 1_000_000) } : nil)
        defer { decoder.finish() }
        // The render's helper threads, now that no worker will be forked (`ParallelLoop`).
        ParallelLoop.prepare()
        // The output space's ICC profile and encoding table (~0.5 ms on first use, then kept; built
        // once, whoever asks first) are built while the worker decodes, rather than after the
        // first decode; should this fail, the render reports it as before. Where the worker was
        // asked for the first file, on this thread once the profile is loaded and the outputs
        // planned: a thread of its own competed with the worker and this one for two cores, and
        // delayed the worker's answer (Pixel crop: docs/PERFORMANCE.md, session 16). Otherwise
        // (a decode in this process, or none asked ahead) on another thread, started after the
        // fork: a thread before it would have made the worker a spawned one.
        let space = self.space
        let workerAskedAhead = !inProcessDecoder && asksAhead && !named.isEmpty
        if !workerAskedAhead { DispatchQueue.global(qos: .userInitiated).async { _ = try? space.outputEncoding() } }
        // Several looks (`--profile a,b` or `all`) render each raw from one decode (`Batch.run`).
        let lookNames: [String]
        do { lookNames = try Self.profileList(profile) } catch {
            complain("emulsion: \(error)")
            throw ExitCode(2)
        }
        var loaded: [Profile] = []
        do {
            for name in lookNames {
                let look = try ProfileLoader.standard.load(name).applying(overrides: overrides + shortcutOverrides())
                try LookPlan.checkFiles(look)
                loaded.append(look)
            }
        } catch {
            complain("emulsion: \(error)")
            throw ExitCode(2)
        }
        var cameraProfile: CameraProfile?
        // `embedded`: each input's own, read when it is rendered (a file of that name is a path).
        let embeddedProfile = dcp == "embedded" && !FileManager.default.fileExists(atPath: "embedded")
        if let dcp, !embeddedProfile {
            do { cameraProfile = try DCPFile.read(path: dcp) } catch {
                complain("emulsion: \(error)")
                throw ExitCode(2)
            }
        }
        // An override that changes nothing is worth a word, not a refusal: the render is still
        // what was asked for (e.g. whiteBalance.temperature without whiteBalance.mode=kelvin).
        for (name, look) in zip(lookNames, loaded) {
            for idle in look.idleAssignments(overrides, cameraProfile: dcp != nil) {
                complain("emulsion: warning: --set \(idle)" + (loaded.count > 1 ? " (in \(name))" : ""))
            }
        }
        var deviceDescription: DeviceDescription?
        if let device {
            do { deviceDescription = try DeviceLoader.standard.load(device) } catch {
                complain("emulsion: \(error)")
                throw ExitCode(2)
            }
        }
        let looks = loaded.map { look -> RenderOptions in
            var options = RenderOptions(profile: look, space: space, depth: effectiveBits == 8 ? .eight : .sixteen,
                                        engine: engine, threads: threads, cameraProfile: cameraProfile)
            options.device = deviceDescription
            options.stripsLocation = stripLocation
            options.crop = try? outputCrop()
            options.embeddedCameraProfile = embeddedProfile
            return options
        }
        if !dryRun, let outputDirectory, !FileManager.default.fileExists(atPath: outputDirectory) {
            do { try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true) } catch {
                complain("emulsion: \(outputDirectory): cannot create the output folder: \(PlainFile.reason(for: error))")
                throw ExitCode(2)
            }
        }
        var inputs = found
        if inputs.isEmpty {
            do {
                inputs = [InputFolders.Found(path: try DefaultInput.write(into: outputDirectory ?? (output.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? ".")))]
            } catch {
                complain("emulsion: cannot create the default input: \(error)")
                throw ExitCode(2)
            }
        }
        var items: [Batch.Item]
        var leftOut = LeftOut()
        do {
            let shard = try shard.map { try Shard(parsing: $0) }
            // `--name`'s shot variables, `--min-rating` and `--label`: the headers (or only the
            // XMP sidecars) of this shard's inputs, before the plan.
            var shots: [String: Result<ShotMetadata, any Error>] = [:]
            if readsHeaders {
                shots = Batch.readShots(of: shard?.select(inputs, by: \.path) ?? inputs, decoder: decoder,
                                        pixelLimit: maxMegapixels * 1_000_000, concurrency: threads,
                                        headers: naming?.needsShot == true, ratings: minRating != nil,
                                        labels: readsLabels)
            }
            for (path, shot) in shots.sorted(by: { $0.key < $1.key }) {
                guard case .success(let shot) = shot else { continue }
                if let minRating, (shot.rating ?? 0) < minRating {
                    leftOut.belowRating.append((path, shot.rating ?? 0))
                } else if let labels, Set(labels).isDisjoint(with: shot.labels) {
                    leftOut.withoutLabel.append((path, shot.labels))
                }
            }
            items = try Batch.plan(inputs: inputs, output: output, outputDirectory: outputDirectory,
                                   shard: shard, looks: lookNames.map(Self.lookLabel),
                                   fileExtension: outputFileFormat.fileExtension, naming: naming, shots: shots,
                                   excluded: leftOut.inputs)
        } catch {
            complain("emulsion: \(error)")
            throw ExitCode(2)
        }
        // Resuming a batch: an output that exists is a finished file (outputs appear whole, by
        // rename), so its input is not decoded again. Something else at that path (a folder)
        // is left to fail as it would without the flag.
        var skipped: [Batch.Item] = []
        if skipExisting {
            func done(_ item: Batch.Item) -> Bool {
                var info = stat()
                return stat(item.output, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
            }
            skipped = items.filter(done)
            items.removeAll(where: done)
        }
        if dryRun {
            try printPlan(items, skipped: skipped, leftOut: leftOut, unlisted: expansion.unlisted, looks: lookNames, say: say)
            return
        }
        do { try Batch.createOutputSubfolders(of: items) } catch {
            complain("emulsion: \(error)")
            throw ExitCode(2)
        }
        if workerAskedAhead { _ = try? space.outputEncoding() }
        Interrupts.install()
        let terminal = isatty(STDERR_FILENO) == 1
        // Said once nothing can stop the run before its first file, so that an error of its own
        // stays one line; the rest of the tree is rendered.
        for folder in expansion.unlisted { complain("emulsion: \(folder.message) (its raw files are not rendered)") }
        let started = Date()
        let outcomes = Batch.run(items, looks: looks, overwrite: overwrite, pixelLimit: maxMegapixels * 1_000_000,
                                 decoder: decoder, concurrency: threads,
                                 format: outputFileFormat, fit: try? maxSize.map(OutputFit.init(parsing:))) { done, total, outcome in
            if case .failed(_, let message) = outcome {
                if terminal { writeToStandardError("\r\u{1B}[K") }
                complain("emulsion: \(message)")
            }
            if timings, case .written(let r) = outcome {
                if terminal { writeToStandardError("\r\u{1B}[K") }
                complain("emulsion: \(r.input): \(r.phases)")
            }
            if terminal {
                let name: String
                switch outcome {
                case .written(let r): name = URL(fileURLWithPath: r.output).lastPathComponent
                case .failed(let input, _): name = URL(fileURLWithPath: input).lastPathComponent
                }
                writeToStandardError("\r\u{1B}[K[\(done)/\(total)] \(name)")
            }
        }
        if terminal { writeToStandardError("\r\u{1B}[K") }
        if let report {
            do {
                let entries = BatchReport(items: items, outcomes: outcomes, skipped: skipped, leftOut: leftOut,
                                          unlisted: expansion.unlisted,
                                          profiles: zip(loaded, lookNames).map { ($0.name, $1) })
                if reportToStandardOutput {
                    try StandardOutput.write { emit in try entries.json().withUnsafeBytes(emit) }
                } else {
                    try AtomicOutput.write(try entries.json(), to: report, overwrite: true)
                }
            } catch {
                complain("emulsion: --report: \(error)")
                throw ExitCode(2)
            }
        }
        let failed = outcomes.filter { if case .failed = $0 { return true } else { return false } }.count
        let written = outcomes.count - failed
        let seconds = Date().timeIntervalSince(started)
        let unread = expansion.unlisted.count
        if outcomes.count == 1, skipped.isEmpty, leftOut.isEmpty, unread == 0, case .written(let r) = outcomes[0] {
            say("\(toStandardOutput ? "standard output" : r.output): \(r.width)×\(r.height), \(effectiveBits)-bit \(space.rawValue), profile \(loaded[items[0].look].name)")
        } else if outcomes.isEmpty, skipped.count == 1, leftOut.isEmpty, unread == 0 {
            say("\(skipped[0].output): exists, \(skipped[0].input) skipped")
        } else {
            say("\(written) written, " + leftAlone(skipped: skipped.count, leftOut)
                  + "\(failed) failed, " + (unread > 0 ? Self.foldersNotRead(unread) + ", " : "")
                  + "\(CFormat.string("%.1f", seconds)) s" + (shard.map { " (shard \($0))" } ?? ""))
        }
        if failed > 0 || unread > 0 { throw ExitCode(1) }
    }
    /// `--dry-run`: each planned output as "INPUT → OUTPUT" (with its look when there are
    /// several), and on standard error what would fail before any render (an input whose header
    /// or sidecar cannot be read, an output that exists without `--overwrite`, the input itself),
    /// then a summary line; throws `ExitCode` 1 when anything would fail. Nothing is written.
    private func printPlan(_ items: [Batch.Item], skipped: [Batch.Item], leftOut: LeftOut,
                           unlisted: [InputFolders.Unlisted], looks: [String], say: (String) -> Void) throws {
        for folder in unlisted { complain("emulsion: \(folder.message) (its raw files would not be rendered)") }
        var failing = 0
        for item in items {
            do {
                if let failure = item.failure {
                    complain("emulsion: \(failure)")
                    failing += 1
                    continue
                }
                try Processor.checkOutput(input: item.input, output: item.output, overwrite: overwrite)
                say("\(item.input) → \(item.output == StandardOutput.name ? "standard output" : item.output)"
                    + (looks.count > 1 ? " (\(Self.lookLabel(looks[item.look])))" : ""))
            } catch {
                complain("emulsion: " + (error is RenderError ? "\(item.input): \(error)" : "\(error)"))
                failing += 1
            }
        }
        say("dry run: \(items.count - failing) to write, " + leftAlone(skipped: skipped.count, leftOut)
            + "\(failing) would fail" + (unlisted.isEmpty ? "" : ", " + Self.foldersNotRead(unlisted.count)))
        if failing > 0 || !unlisted.isEmpty { throw ExitCode(1) }
    }

    /// The summary's part for the inputs the run leaves alone: outputs `--skip-existing` found,
    /// raws `--min-rating` and `--label` left out (each only when asked for), each followed by ", ".
    private func leftAlone(skipped: Int, _ leftOut: LeftOut) -> String {
        (skipExisting ? "\(skipped) skipped (output exists), " : "") + (minRating.map { "\(leftOut.belowRating.count) below --min-rating \($0), " } ?? "")
            + (label.map { "\(leftOut.withoutLabel.count) without --label \($0), " } ?? "")
    }

    /// `--label`'s colours; nil when not given or when a name is not a colour label.
    var labels: [ColourLabel]? {
        guard let label else { return nil }
        let names = label.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
        let labels = names.compactMap(ColourLabel.init(name:))
        return labels.count == names.count && !labels.isEmpty ? labels : nil
    }

    private static func foldersNotRead(_ count: Int) -> String { "\(count) folder\(count == 1 ? "" : "s") not read" }

    /// `--profile`'s looks: one name or path, a comma-separated list, or `all` (every shipped
    /// look). A value naming an existing file is one profile whatever its characters.
    static func profileList(_ text: String) throws -> [String] {
        if text == "all" {
            let names = ProfileLoader.standard.availableNames()
            if names.isEmpty { throw RenderError("--profile all: no profiles found (no Profiles/ folder; set EMULSION_PROFILES)") }
            return names
        }
        if FileManager.default.fileExists(atPath: text) || !text.contains(",") { return [text] }
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
        if names.contains("") { throw RenderError("--profile \(text): an empty name in the list") }
        var seen = Set<String>()
        for label in names.map(lookLabel) where !seen.insert(label).inserted {
            throw RenderError("--profile \(text): \(label) is named twice (outputs are named after each look)")
        }
        return names
    }

    /// The part of an output's name that says its look: a profile's name, or a profile file's
    /// name without folder and extension.
    static func lookLabel(_ nameOrPath: String) -> String {
        ProfileLoader.namesFile(nameOrPath) ? URL(fileURLWithPath: nameOrPath).deletingPathExtension().lastPathComponent : nameOrPath
    }
}

/// The raws a run's `--min-rating` and `--label` leave out, each with what it had (a raw below
/// the rating is listed there only).
struct LeftOut {
    var belowRating: [(input: String, rating: Int)] = []
    var withoutLabel: [(input: String, labels: [ColourLabel])] = []

    var isEmpty: Bool { belowRating.isEmpty && withoutLabel.isEmpty }
    var inputs: Set<String> { Set(belowRating.map(\.input) + withoutLabel.map(\.input)) }
}

import Dispatch
import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A deterministic share of a batch: shard `index` of `count`, 1-based (`--shard 2/4`).
/// Inputs are sorted by path and shard i takes every n-th one starting at the i-th, so the same
/// command on n machines covers each input exactly once whatever order the shell listed them in.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, index >= 1, index <= count else {
            throw RenderError("--shard \(index)/\(count): expected i/n with 1 ≤ i ≤ n")
        }
        self.index = index
        self.count = count
    }

    public init(parsing text: String) throws {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw RenderError("--shard \(text): expected i/n, e.g. 2/8")
        }
        try self.init(index: i, count: n)
    }

    public func select<T>(_ items: [T], by key: (T) -> String) -> [T] {
        items.sorted { key($0) < key($1) }.enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
    }

    public var description: String { "\(index)/\(count)" }
}

/// Runs many files: plans output names, spreads files over the cores, keeps going past failures.
public enum Batch {
    public struct Item: Sendable, Equatable {
        public var input: String
        public var output: String
        /// The folder below the output folder that `output` lies in, mirroring the input's
        /// subfolder in a recursive walk ("" otherwise): created before the batch runs.
        public var outputSubfolder: String = ""
        /// Which of the batch's looks (`run`'s `looks`) renders it.
        public var look: Int = 0
        /// Why the item fails without being tried (its raw's header or XMP sidecar, which
        /// `--name` or `--min-rating` needed, could not be read); `output` is then empty.
        public var failure: String?
    }

    public enum Outcome: Sendable {
        case written(Processor.Result)
        case failed(input: String, message: String)
    }

    /// Output paths: `-o` for a single input; otherwise `<out-dir>/<subfolder>/<name>.<fileExtension>`
    /// (out-dir defaults to the current folder; the subfolder is the input's below a folder walked
    /// recursively, usually none), or, with several looks, `<name>-<look>.<fileExtension>` for each look
    /// (`looks` holds their names; one look, whatever its name, adds nothing); with `naming`,
    /// `<out-dir>/<the template's path>.<fileExtension>`, its shot variables from `shots`. An
    /// input whose entry in `shots` is an error (its header, or its XMP sidecar, could not be
    /// read) fails, in its items' `failure`. An input's items
    /// come together, in the looks' order. Two items that would write the same output are an
    /// error up front. Inputs in `excluded` (below `--min-rating`, without a `--label`) get no items; they still
    /// count for the shards and `{seq}`, so that every machine and run sees the same numbers.
    public static func plan(inputs: [InputFolders.Found], output: String?, outputDirectory: String?, shard: Shard?,
                            looks: [String] = [""], fileExtension: String = "png", naming: OutputNaming? = nil,
                            shots: [String: Result<ShotMetadata, any Error>] = [:], excluded: Set<String> = []) throws -> [Item] {
        precondition(!looks.isEmpty)
        if output != nil, inputs.count != 1 {
            throw RenderError("-o names one output file but \(inputs.count) inputs were given; use --out-dir")
        }
        if output != nil, looks.count != 1 {
            throw RenderError("-o names one output file but \(looks.count) profiles were given; use --out-dir")
        }
        if let naming, output != nil { throw RenderError("--name \(naming.template) names outputs in an output folder, not -o's file") }
        if let naming, looks.count > 1, !naming.uses(.look) {
            throw RenderError("--name \(naming.template): \(looks.count) profiles would write one file per raw; add {look}")
        }
        let chosen = shard?.select(inputs, by: \.path) ?? inputs
        // `{seq}`: the position among all inputs by path, whatever the shard.
        var sequence: [String: Int] = [:]
        if naming?.uses(.seq) == true {
            for (i, path) in inputs.map(\.path).sorted().enumerated() where sequence[path] == nil { sequence[path] = i + 1 }
        }
        var items: [Item] = []
        var seen: [String: String] = [:]
        for input in chosen where !excluded.contains(input.path) {
            for (look, lookName) in looks.enumerated() {
                var item = Item(input: input.path, output: output ?? "", look: look)
                if case .failure(let error)? = shots[input.path] {
                    item.failure = error is RenderError ? "\(input.path): \(error)" : "\(error)"
                    items.append(item)
                    continue
                }
                if let naming {
                    let values = OutputNaming.Values(input: input, look: lookName, sequence: sequence[input.path] ?? 0,
                                                     count: inputs.count, shot: try? shots[input.path]?.get())
                    guard let path = naming.path(for: values) else {
                        throw RenderError("--name \(naming.template) gives \(input.path) no name (every part of it is empty)")
                    }
                    item.output = URL(fileURLWithPath: outputDirectory ?? ".").appendingPathComponent(path + "." + fileExtension).path
                    item.outputSubfolder = path.split(separator: "/").dropLast().joined(separator: "/")
                } else if output == nil {
                    let stem = URL(fileURLWithPath: input.path).deletingPathExtension().lastPathComponent
                    let name = stem + (looks.count > 1 ? "-" + lookName : "") + "." + fileExtension
                    var folder = URL(fileURLWithPath: outputDirectory ?? ".")
                    if !input.subfolder.isEmpty {
                        folder.appendPathComponent(input.subfolder, isDirectory: true)
                        item.outputSubfolder = input.subfolder
                    }
                    item.output = folder.appendingPathComponent(name).path
                }
                if let other = seen[item.output] {
                    throw RenderError("\(input.path) and \(other) would both be written to \(item.output); "
                                      + (naming != nil ? "make --name tell them apart ({name}, {seq}, {subfolder} with -r)" : "process them into separate folders"))
                }
                seen[item.output] = input.path + (looks.count > 1 ? " (\(lookName))" : "")
                items.append(item)
            }
        }
        return items
    }

    /// The shot metadata of each of `inputs` from its header (`RawDecoder.shotMetadata`: isolated
    /// and time-limited as a decode), its rating the XMP sidecar's where one gives it and its
    /// colour labels the sidecar's (`XMPRating.sidecarTags`), for `--name`'s shot variables,
    /// `--min-rating` and `--label`; up to `concurrency` at once. Without `headers`, a raw is
    /// opened only when its rating is wanted (`ratings`) and no sidecar gives it: otherwise its
    /// metadata is what the sidecar says. Sidecars are read for the labels only when they are
    /// wanted (`labels`), so that an unreadable one that holds nothing wanted fails nothing. A
    /// file that cannot be read keeps its error, which `plan` gives its items.
    public static func readShots(of inputs: [InputFolders.Found], decoder: RawDecoder, pixelLimit: Int,
                                 concurrency: Int = Executor.defaultThreads, headers: Bool = true,
                                 ratings: Bool = true, labels: Bool = true) -> [String: Result<ShotMetadata, any Error>] {
        let paths = Array(Set(inputs.map(\.path))).sorted()
        let state = ParallelState<Result<ShotMetadata, any Error>>(count: paths.count)
        DispatchQueue.concurrentPerform(iterations: max(1, min(concurrency, paths.count))) { _ in
            while let i = state.next() {
                _ = state.finish(i, Result {
                    let sidecar = try XMPRating.sidecarTags(of: paths[i], rating: ratings || headers, labels: labels)
                    var shot = ShotMetadata()
                    if headers || (ratings && sidecar.rating == nil) { shot = try decoder.shotMetadata(path: paths[i], pixelLimit: pixelLimit) }
                    if let rating = sidecar.rating { shot.rating = rating.value }
                    shot.labels = sidecar.labels?.value ?? []
                    return shot
                })
            }
        }
        return Dictionary(uniqueKeysWithValues: zip(paths, state.results.map { $0! }))
    }

    /// Makes the output subfolders `items` write into (a recursive walk's mirror of the inputs'),
    /// so each file's write finds its folder; an error names the folder that could not be made.
    /// Something in the way (a file where a folder must go) is looked for before any is made.
    public static func createOutputSubfolders(of items: [Item]) throws {
        var folders: [String] = [], seen = Set<String>()
        for item in items where !item.outputSubfolder.isEmpty {
            let folder = URL(fileURLWithPath: item.output).deletingLastPathComponent().path
            if seen.insert(folder).inserted { folders.append(folder) }
        }
        for folder in folders {
            // Each level down from the output folder, as mkdir -p would meet them.
            var path = ""
            for part in folder.split(separator: "/", omittingEmptySubsequences: true) {
                path += "/" + part
                var isFolder = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder {
                    throw RenderError("\(path): cannot create the output folder: something that is not a folder is in the way")
                }
            }
        }
        for folder in folders {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw RenderError("\(folder): cannot create the output folder: \(PlainFile.reason(for: error))")
            }
        }
    }

    /// Processes `items` with up to `concurrency` inputs at once; `progress` is called after each
    /// item. An input's items (its looks, `looks[item.look]`) are rendered one after another from
    /// one decode.
    public static func run(_ items: [Item], looks: [RenderOptions], overwrite: Bool, pixelLimit: Int,
                           decoder: RawDecoder = .inProcess, concurrency: Int = Executor.defaultThreads,
                           format: OutputFileFormat = .png(.default), fit: OutputFit? = nil,
                           progress: @escaping @Sendable (_ done: Int, _ total: Int, _ outcome: Outcome) -> Void = { _, _, _ in }) -> [Outcome] {
        // Runs of items with the same input: a worker takes a whole run.
        var groups: [Range<Int>] = []
        for i in items.indices {
            if let last = groups.last, items[last.lowerBound].input == items[i].input {
                groups[groups.count - 1] = last.lowerBound..<(i + 1)
            } else {
                groups.append(i..<(i + 1))
            }
        }
        let workers = max(1, min(concurrency, groups.count))
        let decoder = decoder.serving(files: groups.count)
        defer { decoder.finish() }
        // Files in parallel first (decode and encode are serial per file); split cores between them.
        let perFile = looks.map { look -> RenderOptions in
            var options = look
            options.threads = max(1, look.threads / workers)
            return options
        }
        let state = BatchState(count: items.count, groups: groups.count)
        let work = { (_: Int) in
            while let g = state.next() {
                var raw: RawImage?
                // A raw that failed to decode fails its other looks with the same error, untried:
                // a hanging file under `--profile all` must not cost its timeout once per look.
                var decodeError: (any Error)?
                // `--dcp embedded`: the raw's own profile, read before its decode (a raw that
                // embeds none fails without being decoded) and once for all its looks.
                var embedded: CameraProfile?
                for i in groups[g] {
                    let item = items[i]
                    let outcome: Outcome
                    do {
                        if let failure = item.failure { throw BatchItemFailure(message: failure) }
                        try Processor.checkOutput(input: item.input, output: item.output, overwrite: overwrite)
                        if let decodeError { throw decodeError }
                        var decodeSeconds = 0.0
                        if raw == nil {
                            do {
                                if perFile[item.look].embeddedCameraProfile { embedded = try DCPFile.readEmbedded(in: item.input) }
                                (raw, decodeSeconds) = try Processor.decode(item.input, decoder: decoder, pixelLimit: pixelLimit)
                            } catch {
                                decodeError = error
                                throw error
                            }
                        }
                        var options = perFile[item.look]
                        if options.embeddedCameraProfile, let embedded {
                            options.cameraProfile = embedded
                            options.embeddedCameraProfile = false
                        }
                        outcome = .written(try Processor.render(raw!, input: item.input, output: item.output, options: options,
                                                                overwrite: overwrite, format: format, fit: fit,
                                                                decodeSeconds: decodeSeconds))
                    } catch {
                        // RenderError does not know the file; every other error names it already.
                        outcome = .failed(input: item.input, message: error is RenderError ? "\(item.input): \(error)" : "\(error)")
                    }
                    let done = state.finish(i, outcome)
                    progress(done, items.count, outcome)
                }
            }
        }
        if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
        return state.outcomes.map { $0! }
    }
}

/// An item that fails as planned (`Batch.Item.failure`), its message whole.
private struct BatchItemFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

private final class BatchState: @unchecked Sendable {
    private let lock = ThreadLock()
    private var cursor = 0
    private var done = 0
    private let groups: Int
    private(set) var outcomes: [Batch.Outcome?]

    init(count: Int, groups: Int) {
        outcomes = Array(repeating: nil, count: count)
        self.groups = groups
    }

    /// The next group of items to process.
    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard cursor < groups else { return nil }
        cursor += 1
        return cursor - 1
    }

    func finish(_ i: Int, _ outcome: Batch.Outcome) -> Int {
        lock.lock(); defer { lock.unlock() }
        outcomes[i] = outcome
        done += 1
        return done
    }
}

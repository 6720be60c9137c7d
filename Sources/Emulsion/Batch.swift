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
    }

    public enum Outcome: Sendable {
        case written(Processor.Result)
        case failed(input: String, message: String)
    }

    /// Output paths: `-o` for a single input; otherwise `<out-dir>/<name>.png` (out-dir defaults
    /// to the current folder). Two inputs that would write the same output are an error up front.
    public static func plan(inputs: [String], output: String?, outputDirectory: String?, shard: Shard?) throws -> [Item] {
        if output != nil, inputs.count != 1 {
            throw RenderError("-o names one output file but \(inputs.count) inputs were given; use --out-dir")
        }
        let chosen = shard?.select(inputs, by: { $0 }) ?? inputs
        var items: [Item] = []
        var seen: [String: String] = [:]
        for input in chosen {
            let out: String
            if let output { out = output } else {
                let name = URL(fileURLWithPath: input).deletingPathExtension().lastPathComponent + ".png"
                out = URL(fileURLWithPath: outputDirectory ?? ".").appendingPathComponent(name).path
            }
            if let other = seen[out] {
                throw RenderError("\(input) and \(other) would both be written to \(out); process them into separate folders")
            }
            seen[out] = input
            items.append(Item(input: input, output: out))
        }
        return items
    }

    /// Processes `items` with up to `concurrency` files at once; `progress` is called after each.
    public static func run(_ items: [Item], options: RenderOptions, overwrite: Bool, pixelLimit: Int,
                           decoder: RawDecoder = .inProcess, concurrency: Int = Executor.defaultThreads,
                           png: PNGEncodingOptions = .default,
                           progress: @escaping @Sendable (_ done: Int, _ total: Int, _ outcome: Outcome) -> Void = { _, _, _ in }) -> [Outcome] {
        let workers = max(1, min(concurrency, items.count))
        let decoder = decoder.serving(files: items.count)
        defer { decoder.finish() }
        var perFile = options
        // Files in parallel first (decode and encode are serial per file); split cores between them.
        perFile.threads = max(1, options.threads / workers)
        let state = BatchState(count: items.count)
        let work = { (_: Int) in
            while let i = state.next() {
                let item = items[i]
                let outcome: Outcome
                do {
                    outcome = .written(try Processor.process(input: item.input, output: item.output, options: perFile,
                                                             overwrite: overwrite, pixelLimit: pixelLimit, decoder: decoder,
                                                             png: png))
                } catch {
                    // RenderError does not know the file; every other error names it already.
                    outcome = .failed(input: item.input, message: error is RenderError ? "\(item.input): \(error)" : "\(error)")
                }
                let done = state.finish(i, outcome)
                progress(done, items.count, outcome)
            }
        }
        if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
        return state.outcomes.map { $0! }
    }
}

private final class BatchState: @unchecked Sendable {
    private let lock = ThreadLock()
    private var cursor = 0
    private var done = 0
    private(set) var outcomes: [Batch.Outcome?]

    init(count: Int) { outcomes = Array(repeating: nil, count: count) }

    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard cursor < outcomes.count else { return nil }
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

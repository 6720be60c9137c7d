#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The schedule, kept apart from the algorithms (Halide's split): cuts the image into bands of
/// contiguous rows, hands bands to worker threads, and inside a band runs source → point kernels
/// → sink strip by strip while each strip is in cache. Stages never see threads or loops over the
/// image.
///
/// Why bands of contiguous strips rather than every n-th strip: a source with a halo (the
/// demosaic's mosaic window) keeps the rows it already normalised when the next strip starts
/// where the last one ended, so each row is normalised once, not once per strip plus halo.
/// Bands are handed out dynamically (a shared counter), several per worker, so a worker slowed
/// by another process does not hold up the image. The last point kernel runs fused with the sink
/// (quantised straight into the output), saving one pass over the strip.
public struct Executor: Sendable {
    public var engine: Engine
    public var threads: Int
    /// Rows per strip. 3 float planes × width × rows plus the mosaic window should sit in L2
    /// (16 rows × 6000 px × 16 B ≈ 1.5 MB; measured best of 8/16/32/64 rows: docs/PERFORMANCE.md).
    public var stripRows: Int
    /// Fuse the last point kernel with the sink (off only to time the sink on its own).
    public var fuseSink: Bool

    public static let defaultStripRows = 16

    public init(engine: Engine = .simd, threads: Int = Executor.defaultThreads, stripRows: Int = Executor.defaultStripRows,
                fuseSink: Bool = true) {
        self.engine = engine
        self.threads = max(1, threads)
        self.stripRows = max(1, stripRows)
        self.fuseSink = fuseSink
    }

    /// The processors this process may use (cgroup quotas counted, `AvailableProcessors`), read
    /// once: each read opens the cgroup files.
    public static let defaultThreads = AvailableProcessors.count()

    public func run(source: any StripSource, kernels: [any PointKernel], sink: OutputSink) {
        run(source: source, kernels: kernels, sink: sink, timings: nil)
    }

    /// As `run`, adding each stage's thread time to `timings` (the benchmark's per-stage figures).
    public func run(source: any StripSource, kernels: [any PointKernel], sink: OutputSink, timings: StageTimings?) {
        let height = source.height
        let stripCount = (height + stripRows - 1) / stripRows
        let workers = min(threads, max(1, stripCount))
        // Several bands per worker for balance; each band at least 4 strips so halos stay cheap.
        let bandCount = workers == 1 ? 1 : min(max(1, stripCount / 4), 4 * workers)
        let bands = BandCounter(count: bandCount)
        let work = { (_: Int) in
            let workspace = makeWorkspace(for: source)
            var clock = timings.map { StageClock(stages: kernels.count + 2, readingCost: $0.clockReadingCost) }
            while let band = bands.next() {
                let firstRow = band * stripCount / bandCount * stripRows
                let endRow = min((band + 1) * stripCount / bandCount * stripRows, height)
                runStrips(firstRow ..< endRow, source: source, kernels: kernels, sink: sink, workspace: workspace, clock: &clock)
            }
            if let clock, let timings { timings.add(clock.nanoseconds) }
        }
        ParallelLoop.run(iterations: workers, work)
        timings?.finish(workers: workers, pixels: source.width * height)
    }
}

extension Executor {
    /// The memory one worker needs to run strips of `source`. Make one per worker thread and pass it
    /// to every `run(rows:…)` that thread makes: it holds the source's mosaic window, which is
    /// reused across contiguous strips, and allocating it per call would cost more than a small band.
    public func makeWorkspace(for source: any StripSource) -> ExecutorWorkspace {
        ExecutorWorkspace(storage: StripStorage(width: source.width, rows: stripRows), scratch: source.makeScratch(stripRows: stripRows))
    }

    /// Runs source → point kernels → sink over the stored rows `rows` only, strip by strip, on the
    /// calling thread — the same per-strip schedule as `run(source:kernels:sink:)`, for a caller that
    /// schedules rows itself (the streamed renderer renders one PNG segment's rows at a time into a
    /// band sink, `OutputSink(…outputRows:into:)`). Bands need not be contiguous from one call to the
    /// next: a source keeps only the window rows that the next strip can use (`MosaicSource.fill`).
    public func run(rows: Range<Int>, source: any StripSource, kernels: [any PointKernel], sink: OutputSink,
                    workspace: ExecutorWorkspace) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= source.height)
        var clock: StageClock? = nil
        runStrips(rows, source: source, kernels: kernels, sink: sink, workspace: workspace, clock: &clock)
    }

    /// The per-strip pipeline both schedules share: strips of `stripRows` rows from `rows.lowerBound`.
    private func runStrips(_ rows: Range<Int>, source: any StripSource, kernels: [any PointKernel], sink: OutputSink,
                           workspace: ExecutorWorkspace, clock: inout StageClock?) {
        let fuse = fuseSink && !kernels.isEmpty
        for first in stride(from: rows.lowerBound, to: rows.upperBound, by: stripRows) {
            let strip = workspace.storage.strip(firstRow: first, rows: min(stripRows, rows.upperBound - first))
            clock?.start()
            source.fill(strip, scratch: workspace.scratch, engine: engine)
            clock?.lap(0)
            for (k, kernel) in kernels.enumerated() {
                if fuse && k == kernels.count - 1 {
                    kernel.run(over: strip, into: sink, engine: engine)
                } else {
                    kernel.run(over: strip, engine: engine)
                }
                clock?.lap(k + 1)
            }
            if !fuse {
                sink.write(strip, engine: engine)
                clock?.lap(kernels.count + 1)
            }
        }
    }
}

/// One worker's strip planes and source scratch (`Executor.makeWorkspace`), reused for every strip it runs.
public final class ExecutorWorkspace: @unchecked Sendable {
    let storage: StripStorage
    let scratch: SourceScratch

    init(storage: StripStorage, scratch: SourceScratch) {
        self.storage = storage
        self.scratch = scratch
    }
}

/// Hands out band numbers 0 ..< count to whichever worker asks next.
final class BandCounter: @unchecked Sendable {
    private let lock = ThreadLock()
    private var nextBand = 0
    private let count: Int
    init(count: Int) { self.count = count }
    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard nextBand < count else { return nil }
        nextBand += 1
        return nextBand - 1
    }
}

/// One worker's stopwatch: stage i's time is the time between lap(i − 1) (or start) and lap(i),
/// less what the clock's own reading adds to it (`readingCost`). It reads the thread's CPU clock,
/// not the wall clock, so time the thread spends descheduled (other work on a shared machine) is
/// not charged to a stage.
struct StageClock {
    var nanoseconds: [UInt64]
    var last: UInt64 = 0
    let readingCost: UInt64
    init(stages: Int, readingCost: UInt64) {
        nanoseconds = Array(repeating: 0, count: stages)
        self.readingCost = readingCost
    }
    mutating func start() { last = Self.now() }
    static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }
    mutating func lap(_ stage: Int) {
        let now = Self.now()
        let elapsed = now &- last
        nanoseconds[stage] &+= elapsed > readingCost ? elapsed - readingCost : 0
        last = now
    }

    /// What one reading adds to the interval it closes: the part of the reading after its sample
    /// and the part of the next one before its sample, which is what two readings in a row
    /// measure (their median over 65, so a preemption does not count). The thread CPU clock is
    /// a system call, not a vDSO read: ~0.56 µs on the project's VM, charged once per stage and
    /// strip, which is 0.07 ns/px on a 510-pixel-wide strip of 16 rows and made the cheap stages
    /// of small images look slower in the SIMD engine by up to a quarter.
    static func calibratedReadingCost() -> UInt64 {
        var deltas: [UInt64] = []
        var last = now()
        for _ in 0..<65 {
            let t = now()
            deltas.append(t &- last)
            last = t
        }
        return deltas.sorted()[deltas.count / 2]
    }
}

/// Per-stage thread CPU time of one executor run: stage 0 is the source (raw normalisation and
/// demosaic), stages 1…n the point kernels (the last one including the fused sink), stage n + 1
/// the sink when it runs unfused.
public final class StageTimings: @unchecked Sendable {
    private let lock = ThreadLock()
    /// Summed over workers.
    public private(set) var threadNanoseconds: [UInt64] = []
    public private(set) var workers = 0
    public private(set) var pixels = 0
    /// Nanoseconds of thread time one clock reading adds to a stage's interval, measured when
    /// these timings were made and taken off every interval (`StageClock`).
    public let clockReadingCost = StageClock.calibratedReadingCost()

    public init() {}

    func add(_ ns: [UInt64]) {
        lock.lock(); defer { lock.unlock() }
        if threadNanoseconds.count < ns.count { threadNanoseconds += Array(repeating: 0, count: ns.count - threadNanoseconds.count) }
        for (i, v) in ns.enumerated() { threadNanoseconds[i] &+= v }
    }

    func finish(workers: Int, pixels: Int) {
        lock.lock(); defer { lock.unlock() }
        self.workers = workers
        self.pixels = pixels
    }

    /// Thread time per pixel of stage `i` (the cost of the stage, whatever the thread count).
    public func nanosecondsPerPixel(_ i: Int) -> Double {
        guard pixels > 0, i < threadNanoseconds.count else { return 0 }
        return Double(threadNanoseconds[i]) / Double(pixels)
    }
}

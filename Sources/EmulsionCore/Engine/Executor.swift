import Dispatch
import Foundation

/// The schedule, kept apart from the algorithms (Halide's split): cuts the image into strips of
/// rows, hands strips to worker threads, and runs source → point kernels → sink on each strip
/// while it is in cache. Stages never see threads or loops over the image.
public struct Executor: Sendable {
    public var engine: Engine
    public var threads: Int
    /// Rows per strip: 3 planes × width × rows floats should sit in L2 (≈ 64 rows × 4000 px ≈ 3 MB).
    public var stripRows: Int

    public init(engine: Engine = .simd, threads: Int = Executor.defaultThreads, stripRows: Int = 32) {
        self.engine = engine
        self.threads = max(1, threads)
        self.stripRows = max(1, stripRows)
    }

    public static var defaultThreads: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    public func run(source: any StripSource, kernels: [any PointKernel], sink: OutputSink) {
        let height = source.height
        let stripCount = (height + stripRows - 1) / stripRows
        let workers = min(threads, max(1, stripCount))
        let work = { (worker: Int) in
            let storage = StripStorage(width: source.width, rows: stripRows)
            let scratch = source.makeScratch(stripRows: stripRows)
            var s = worker
            while s < stripCount {
                let first = s * stripRows
                let strip = storage.strip(firstRow: first, rows: min(stripRows, height - first))
                source.fill(strip, scratch: scratch, engine: engine)
                for kernel in kernels { kernel.run(over: strip, engine: engine) }
                sink.write(strip)
                s += workers
            }
        }
        if workers == 1 {
            work(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: workers, execute: work)
        }
    }
}


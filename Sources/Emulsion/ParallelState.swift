import EmulsionCore

/// A shared cursor over `count` items and their results in order, for workers that take the
/// next item until none is left (`DispatchQueue.concurrentPerform` over a few workers rather than
/// one iteration per item, so each worker keeps what it set up). Used by the golden runner and
/// `Batch.readShots`.
final class ParallelState<R>: @unchecked Sendable {
    private let lock = ThreadLock()
    private var cursor = 0
    private var done = 0
    private(set) var results: [R?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard cursor < results.count else { return nil }
        cursor += 1
        return cursor - 1
    }

    func finish(_ i: Int, _ r: R) -> Int {
        lock.lock(); defer { lock.unlock() }
        results[i] = r
        done += 1
        return done
    }
}

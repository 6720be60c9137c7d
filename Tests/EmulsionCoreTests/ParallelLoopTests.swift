import Dispatch
@testable import EmulsionCore
import Foundation
import XCTest

/// `ParallelLoop`: every index once, nested and concurrent loops, and helpers that really take
/// part. Reference: `DispatchQueue.concurrentPerform`'s contract, which it replaces.
final class ParallelLoopTests: XCTestCase {
    final class Counts: @unchecked Sendable {
        let lock = ThreadLock()
        var counts: [Int]
        init(_ n: Int) { counts = Array(repeating: 0, count: n) }
        func hit(_ i: Int) { lock.withLock { counts[i] += 1 } }
    }

    func testEveryIndexRunsOnce() {
        for n in [0, 1, 2, 3, 17, 1000] {
            let counts = Counts(n)
            ParallelLoop.run(iterations: n) { counts.hit($0) }
            XCTAssertEqual(counts.counts, Array(repeating: 1, count: n), "\(n) iterations")
        }
    }

    /// A loop inside a loop's body, and loops started from several threads at once: the helpers
    /// serve one loop, the others go to Dispatch; every index runs once either way.
    func testNestedAndConcurrentLoopsRunEveryIndexOnce() {
        let outer = 8, inner = 50
        let counts = Counts(outer * inner)
        ParallelLoop.run(iterations: outer) { o in
            ParallelLoop.run(iterations: inner) { counts.hit(o * inner + $0) }
        }
        XCTAssertEqual(counts.counts, Array(repeating: 1, count: outer * inner), "nested")
        let concurrent = Counts(outer * inner)
        DispatchQueue.concurrentPerform(iterations: outer) { o in
            for _ in 0..<20 { ParallelLoop.run(iterations: inner) { _ in } }
            ParallelLoop.run(iterations: inner) { concurrent.hit(o * inner + $0) }
        }
        XCTAssertEqual(concurrent.counts, Array(repeating: 1, count: outer * inner), "concurrent")
    }

    /// With two processors or more, the second iteration starts while the first still runs: the
    /// first waits for it (up to 5 s). Run one after the other on one thread (helpers that are
    /// never woken, or never take an index), the first would wait in vain. How soon a helper
    /// starts is a matter of speed, measured by the benchmark, not here (docs/PERFORMANCE.md,
    /// session 21); this waiting iteration sleeps, which lets even a helper queued on its CPU run.
    func testAHelperTakesAnIterationWhileTheCallerWorks() throws {
        guard AvailableProcessors.count() >= 2 else { throw XCTSkip("one processor") }
        for round in 0..<20 {
            let lock = ThreadLock()
            var second = false
            var sawSecond = false
            ParallelLoop.run(iterations: 2) { i in
                if i == 1 {
                    lock.withLock { second = true }
                    return
                }
                let deadline = Date().addingTimeInterval(5)
                while Date() < deadline {
                    if lock.withLock({ second }) {
                        sawSecond = true
                        return
                    }
                    usleep(200)
                }
            }
            guard sawSecond else { return XCTFail("round \(round): the second iteration did not start while the first ran") }
        }
    }
}

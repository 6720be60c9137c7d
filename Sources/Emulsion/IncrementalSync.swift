import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Makes a file durable while it is still being written: a helper thread calls `fdatasync`
/// each time at least `step` (2 MB) new bytes have arrived since its last one, so the closing `fsync`
/// of `AtomicOutput` finds only the tail left to flush.
///
/// Why: on this machine's virtual disk an fsync costs about 1 ms per MB it has to flush, most
/// of it waiting for the device to empty its cache, and starting writeback early
/// (`posix_fadvise(DONTNEED)` or `sync_file_range`, which the encoder used before) does not
/// shorten that wait: 110 MB written at 500 MB/s, then fsync: 108–113 ms with writeback
/// started every 8 MB, 16–20 ms with a background `fdatasync` every 16 MB, 2–3 ms every 2 MB;
/// 12 MB: 14 ms against 2–3.5 ms (a C harness, docs/PERFORMANCE.md, session 9). Every write is
/// still on disk before the file takes its name: the closing fsync is unchanged.
///
/// A failed background `fdatasync` is kept and reported by `finish`: Linux reports a writeback
/// error once per open file, so the closing fsync could otherwise succeed after a lost write.
/// Files that never reach `step` never start the thread.
final class IncrementalSync: @unchecked Sendable {
    /// 2 MB: the closing fsync then flushes at most about that much (2–3 ms here); larger
    /// steps left more (8 MB: ~8 ms on 110 MB) and smaller ones only added system time.
    static let defaultStep = 2 << 20
    /// The call that flushes the file (`fdatasync`; tests substitute one that fails).
    typealias Flush = @Sendable (Int32) -> Int32

    private let fd: Int32
    private let step: Int
    private let flush: Flush
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var written = 0
    private var synced = 0
    private var finishing = false
    private var failure: Int32 = 0
    private var started = false
    /// Background flushes made (for tests; read after `finish`).
    private(set) var flushes = 0
    private let exited = DispatchSemaphore(value: 0)

    init(fd: Int32, step: Int = IncrementalSync.defaultStep, flush: @escaping Flush = { fdatasync($0) }) {
        self.fd = fd
        self.step = step
        self.flush = flush
    }

    /// Records `count` more bytes written to the file (by any one thread at a time).
    func wrote(_ count: Int) {
        condition.lock()
        written += count
        let due = written - synced >= step
        let start = due && !started
        if start { started = true }
        if due { condition.signal() }
        condition.unlock()
        if start {
            let thread = Thread { [self] in run() }
            thread.name = "emulsion.sync"
            thread.start()
        }
    }

    /// Stops the helper (after the `fdatasync` in flight, if any) and throws the errno of a
    /// background sync that failed. Only the writing thread calls it; calls after the first
    /// only report.
    func finish() throws {
        condition.lock()
        let running = started && !finishing
        finishing = true
        condition.signal()
        condition.unlock()
        if running { exited.wait() }
        condition.lock()
        let error = failure
        condition.unlock()
        if error != 0 { throw Failure(errno: error) }
    }

    struct Failure: Error { let errno: Int32 }

    private func run() {
        condition.lock()
        while true {
            while !finishing && written - synced < step { condition.wait() }
            if finishing { break }
            let (from, target) = (synced, written)
            condition.unlock()
            let ok = flush(fd) == 0
            let error = errno
            // Synced pages are clean: dropping them keeps a batch's outputs out of the page
            // cache (nothing reads them back).
            if ok { _ = posix_fadvise(fd, off_t(from), off_t(target - from), Int32(POSIX_FADV_DONTNEED)) }
            condition.lock()
            synced = target
            flushes += 1
            if !ok { failure = error; break }
        }
        condition.unlock()
        exited.signal()
    }
}

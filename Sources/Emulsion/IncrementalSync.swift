#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import EmulsionCore
#if canImport(Glibc)
import Glibc
#endif

/// Makes a file durable while it is still being written: the writer starts the writeback of
/// the first `step` (4 MB) in ranges of at least `kick` (256 KB) as they fill, and of each new
/// `step` after it, at once (`posix_fadvise(DONTNEED)`, asynchronous), and a helper thread
/// calls `fdatasync` whenever at least `step` new bytes have arrived since its last one, so the
/// closing `fsync` of `AtomicOutput` finds only the tail left to flush.
///
/// Why both: this machine's virtual disk has two moods. In one, starting writeback early is
/// enough (110 MB written at 500 MB/s, then fsync: 8–12 ms); in the other, which earlier runs
/// met most (run v7, and this session's first hour), the fsync still waited ~1 ms per MB for the
/// device to empty its cache whatever had been started (104–127 ms), and only a flush made
/// during the writing shortened it: 2–3 ms with an `fdatasync` every 2–4 MB, 8–9 ms every 8 MB,
/// 16–20 ms every 16 MB; 12 MB: 14 → 3–6 ms (a C harness; docs/PERFORMANCE.md, session 9).
/// The flushes cost some CPU (24 MP render+encode +10–30 ms in the quick mood), so the step is
/// 4 MB, not 2. Every write is still on disk before the file takes its name: the closing fsync
/// is unchanged.
///
/// A failed background `fdatasync` is kept and reported by `finish`: Linux reports a writeback
/// error once per open file, so the closing fsync could otherwise succeed after a lost write.
/// Files that never reach `step` never start the thread.
final class IncrementalSync: @unchecked Sendable {
    static let defaultStep = 4 << 20
    /// The least range whose writeback the first `step` starts: each start submits I/O to the
    /// virtual disk, and its notification costs the writing thread tens of µs (`iowrite16`).
    static let defaultKick = 256 << 10
    /// The call that flushes the file (`fdatasync`; tests substitute one that fails).
    typealias Flush = @Sendable (Int32) -> Int32
    /// The call that starts the writeback of a range (offset, length): `posix_fadvise(DONTNEED)`;
    /// tests record the ranges instead.
    typealias StartWriteback = (Int32, Int, Int) -> Void

    private let fd: Int32
    private let step: Int
    private let kick: Int
    private let flush: Flush
    private let startWriteback: StartWriteback
    /// End of the range whose writeback the writer last started (the writer's own, unguarded).
    private var kicked = 0
    private let condition = ThreadCondition()
    // Guarded by `condition`.
    private var written = 0
    private var synced = 0
    private var finishing = false
    private var failure: Int32 = 0
    private var started = false
    /// Background flushes made (for tests; read after `finish`).
    private(set) var flushes = 0
    private let exited = DispatchSemaphore(value: 0)

    init(fd: Int32, step: Int = IncrementalSync.defaultStep, kick: Int = IncrementalSync.defaultKick,
         startWriteback: @escaping StartWriteback = { _ = posix_fadvise($0, off_t($1), off_t($2), Int32(POSIX_FADV_DONTNEED)) },
         flush: @escaping Flush = { fdatasync($0) }) {
        self.fd = fd
        self.step = step
        self.kick = kick
        self.startWriteback = startWriteback
        self.flush = flush
    }

    /// Records `count` more bytes written to the file (by any one thread at a time).
    func wrote(_ count: Int) {
        condition.lock()
        written += count
        let total = written
        let due = written - synced >= step
        let start = due && !started
        if start { started = true }
        if due { condition.signal() }
        condition.unlock()
        if total - kicked >= step || (total <= step && total - kicked >= kick) {
            // Asynchronous writeback of the new range, at once, so that when the device is quick
            // the helper's next flush finds it already written. Within the first `step`, every
            // `kick` bytes: a small file is then mostly written when the closing fsync comes
            // (0.2 MP Pixel crop: fsync ~1.0 → ~0.5 ms, session 19). Every piece as it arrived
            // (ten for the crop's 0.9 MB) was slower: each start's notification of the virtual
            // disk costs its thread ~30 µs (the crop's p10/median −0.37/−0.39 ms with 256 KB,
            // 500 shuffled rounds, session 20). Beyond the first `step`, a kick per piece cost a
            // 24 MP render more than it saved (~+4 %, session 19).
            startWriteback(fd, kicked, total - kicked)
            kicked = total
        }
        if start {
            // Without a thread (the system refused one) the closing fsync does all the work, as
            // for a small file; `finish` must then not wait for a helper.
            if !DetachedThread.start({ [self] in run() }) {
                condition.lock(); started = false; condition.unlock()
            }
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

import EmulsionCore
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
import Dispatch

/// Decode workers that serve one file after another, for a run of many files: each file keeps
/// its own process-isolated, time-limited decode without paying a process start.
///
/// Why: a worker per file costs, per file, a process start (exec, the
/// dynamic loader's relocations, the Swift runtime's first protocol-conformance lookups, which
/// the static binary pays on every start) and its exit. On the 0.2 MP Pixel crop that is about
/// 4 ms of wall time and 7 ms of CPU per file, more than the whole render (docs/PERFORMANCE.md,
/// session 12). A worker (`emulsion decode-worker --serve`) reads requests on its standard
/// input and answers each in `IsolatedDecoding.serve`'s format. `RawDecoder.isolated` is a
/// pool of one file: its worker stops as soon as it has answered.
///
/// What stays as it was: every file has its own time limit, and a hang or crash is that file's
/// one-line error. A worker that times out, crashes, answers malformed output or reports any
/// error is stopped and never asked again; the next file gets a fresh one. What is new: a file
/// that LibRaw decodes without an error yet leaves its state damaged could affect the next file
/// that worker decodes, as in any in-process batch; the parent checks every answer it reads.
/// Workers are kept only while files remain: the last one is stopped as soon as its file is
/// decoded, so a single file's run holds no idle worker beside its render, and `finish` stops
/// the rest. Stopping kills at once and reaps later (`retire`).
public final class DecodeWorkerPool: @unchecked Sendable {
    public let executable: String
    public let timeout: Double
    private let lock = ThreadLock()
    private var idle: [WorkerProcess] = []
    /// A worker already asked for one file (`startWorkerAhead(prefetching:)`), kept for that
    /// file's `decode` alone: its answer is waiting in its pipe.
    private var prefetched: (path: String, pixelLimit: Int, worker: WorkerProcess)?
    /// Workers killed and not yet reaped. A stopped worker is killed at once but reaped later
    /// (`reapRetired`, `finish`): waiting for the kernel to tear its address space down took
    /// ~0.4 ms on the last file's critical path, and a killed worker can do nothing more.
    private var retired: [WorkerProcess] = []
    /// Files not yet handed to a worker.
    private var remaining: Int
    /// Workers started so far (for tests: reuse means fewer workers than files).
    private(set) var started = 0
    /// The idle workers' process IDs (for tests).
    var idleProcesses: [pid_t] {
        lock.lock(); defer { lock.unlock() }
        return idle.map(\.pid)
    }

    public init(executable: String, timeout: Double, files: Int) {
        self.executable = executable
        // NaN and negative limits count as none, and a limit beyond ten years as ten years, so
        // that no deadline overflows (`--decode-timeout inf` trapped once).
        self.timeout = timeout.isNaN ? 0 : min(max(0, timeout), 315_360_000)
        remaining = files
    }

    deinit { finish() }

    /// The process ID of the worker asked ahead for a file and not yet used (for tests).
    var askedAheadProcess: pid_t? {
        lock.lock(); defer { lock.unlock() }
        return prefetched?.worker.pid
    }

    /// Starts one worker now, before any file is asked for, so that its start overlaps what the
    /// caller does meanwhile (loading a profile, planning outputs) instead of delaying the first
    /// decode. It waits idle like any other; a worker that cannot start is no error here, the
    /// first decode then starts one and reports why it cannot.
    ///
    /// While this process has one thread, the worker is a copy of it (`fork` without `exec`,
    /// `WorkerProcess.forkedIfSingleThreaded`), which is ready at once; otherwise it is spawned.
    /// With `first`, the worker is asked for that file now, so that it decodes while the caller
    /// prepares; `decode` of that file then only reads the answer (its time limit runs from
    /// there). Should the run never ask for it, `finish` stops the worker unread.
    public func startWorkerAhead(prefetching first: (path: String, pixelLimit: Int)? = nil) {
        guard let worker = Self.takeEarlyWorker() ?? Self.forkedWorker() ?? (try? spawnWorker()) else { return }
        lock.lock()
        started += 1
        lock.unlock()
        // Only a file that passes the check `decode` makes first (a FIFO would block the worker).
        if let first, (try? InputFileCheck.regularReadableFile(first.path)) != nil {
            lock.lock()
            let last = remaining <= 1
            lock.unlock()
            let request = IsolatedDecoding.request(path: first.path, pixelLimit: first.pixelLimit, libRawUnpack: false, last: last)
            guard worker.send(request) else { worker.stop(); return }
            lock.lock()
            prefetched = (first.path, first.pixelLimit, worker)
            lock.unlock()
        } else {
            lock.lock()
            idle.append(worker)
            lock.unlock()
        }
    }

    /// Forks the first worker now, before the caller has read its arguments, and keeps it for
    /// the run's pool (`startWorkerAhead` takes it); does nothing unless this process has one
    /// thread. `emulsion process` calls this first thing.
    ///
    /// Why: the worker's path to its answer (its start, LibRaw's handle, the file's open) is the
    /// single-file run's critical path while the parent loads the profile; forked ~0.4 ms
    /// earlier, it has made its LibRaw handle (`RawFile.prepareSpareHandle`) by the time the
    /// request comes (0.2 MP crop, docs/PERFORMANCE.md, session 21). A worker nobody takes
    /// waits on its request channel; `stopEarlyWorker` ends it, as does this process's exit
    /// (the channel closes).
    public static func forkEarlyWorker() {
        guard let worker = forkedWorker() else { return }
        early.lock.lock()
        defer { early.lock.unlock() }
        early.worker?.stop()
        early.worker = worker
    }

    /// Stops the early worker if no pool took it (a run that decodes in process).
    public static func stopEarlyWorker() {
        guard let worker = takeEarlyWorker() else { return }
        worker.stop()
    }

    /// A worker that is a copy of this process (`WorkerProcess.forkedIfSingleThreaded`), or nil.
    private static func forkedWorker() -> WorkerProcess? {
        try? WorkerProcess.forkedIfSingleThreaded { IsolatedDecoding.serveRequests(to: STDOUT_FILENO) }
    }

    private static func takeEarlyWorker() -> WorkerProcess? {
        early.lock.lock()
        defer { early.lock.unlock() }
        defer { early.worker = nil }
        return early.worker
    }

    private final class EarlyWorker: @unchecked Sendable {
        let lock = ThreadLock()
        var worker: WorkerProcess?
    }
    private static let early = EarlyWorker()

    /// Stops the idle workers; decodes after this start fresh ones.
    public func finish() {
        lock.lock()
        let stopping = idle + (prefetched.map { [$0.worker] } ?? []) + retired
        idle = []
        prefetched = nil
        retired = []
        remaining = 0
        lock.unlock()
        stopping.forEach { $0.stop() }
    }

    /// Decodes one of the run's files (each call counts as one, whatever its outcome).
    public func decode(path: String, pixelLimit: Int) throws -> RawImage {
        lock.lock()
        remaining = max(0, remaining - 1)
        lock.unlock()
        let asked = takePrefetched(path: path, pixelLimit: pixelLimit)
        do { _ = try InputFileCheck.regularReadableFile(path) } catch { asked?.stop(); throw error }
        if let asked { return try decode(path: path, pixelLimit: pixelLimit, worker: asked, alreadyAsked: true) }
        let (worker, reused) = try checkOut(path: path)
        return try decode(path: path, pixelLimit: pixelLimit, worker: worker, reused: reused)
    }

    /// The worker asked ahead for this file, if any.
    private func takePrefetched(path: String, pixelLimit: Int) -> WorkerProcess? {
        lock.lock()
        defer { lock.unlock() }
        guard let p = prefetched, p.path == path, p.pixelLimit == pixelLimit else { return nil }
        prefetched = nil
        return p.worker
    }

    private func decode(path: String, pixelLimit: Int, worker checkedOut: WorkerProcess, reused: Bool = false,
                        alreadyAsked: Bool = false) throws -> RawImage {
        var worker = checkedOut
        var healthy = false
        defer { checkIn(worker, healthy: healthy) }
        lock.lock()
        let last = remaining == 0
        lock.unlock()
        if !alreadyAsked {
            try send(IsolatedDecoding.request(path: path, pixelLimit: pixelLimit, libRawUnpack: false, last: last),
                     to: &worker, reused: reused, path: path)
        }
        var image = try answer(from: worker, path: path, pixelLimit: pixelLimit) { try IsolatedDecoding.parse($0, path: path) }
        if image == nil {
            // Emulsion's NEF decoder gave the stream back: LibRaw decodes it, in the same worker.
            try send(IsolatedDecoding.request(path: path, pixelLimit: pixelLimit, libRawUnpack: true, last: last),
                     to: &worker, reused: false, path: path)
            guard let unpacked = try answer(from: worker, path: path, pixelLimit: pixelLimit, { try IsolatedDecoding.parse($0, path: path) }) else {
                throw RawFileError(path: path, problem: "decoder process returned malformed output")
            }
            image = unpacked
        }
        healthy = true
        return image!
    }

    /// The shot metadata of `path` from its header alone (`RawFile.readShotMetadata`), read by a
    /// worker with the same time limit and isolation as a decode; not counted as the file's decode
    /// (`--name`'s shot variables are read for every file before the batch is planned).
    public func shotMetadata(path: String, pixelLimit: Int) throws -> ShotMetadata {
        _ = try InputFileCheck.regularReadableFile(path)
        var (worker, reused) = try checkOut(path: path)
        var healthy = false
        defer { checkIn(worker, healthy: healthy) }
        try send(IsolatedDecoding.request(path: path, pixelLimit: pixelLimit, libRawUnpack: false, shotMetadataOnly: true),
                 to: &worker, reused: reused, path: path)
        let shot = try answer(from: worker, path: path, pixelLimit: pixelLimit) { try IsolatedDecoding.parseShotMetadata($0, path: path) }
        healthy = true
        return shot
    }

    /// Sends `request`; an idle worker that has died since its last answer (killed from
    /// outside) cannot take it, so where `worker` was `reused`, one fresh worker is tried before
    /// the file fails.
    private func send(_ request: [UInt8], to worker: inout WorkerProcess, reused: Bool, path: String) throws {
        var sent = worker.send(request)
        if !sent && reused {
            worker.stop()
            worker = try start(path: path)
            sent = worker.send(request)
        }
        guard sent else { throw RawFileError(path: path, problem: "cannot reach the decoder process") }
    }

    private func answer<T>(from worker: WorkerProcess, path: String, pixelLimit: Int,
                           _ parse: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
        let bytes: [UInt8]
        do {
            bytes = try IsolatedDecoding.readAnswer(from: worker, path: path, pixelLimit: pixelLimit, deadline: deadline)
        } catch IsolatedDecoding.WorkerEnd.timedOut {
            throw RawFileError(path: path, problem: "decoder did not finish within \(Int(timeout)) s (damaged file?); stopped it")
        } catch IsolatedDecoding.WorkerEnd.endOfFile {
            if let signal = worker.waitForExit(deadline: deadline).signal {
                // The worker reads DNGs through a mapping (`MappedFile`): SIGBUS is a file cut while it read.
                if signal == SIGBUS { throw RawFileError(path: path, problem: "the file was cut short while the decoder read it (signal \(signal))") }
                throw RawFileError(path: path, problem: "decoder crashed (signal \(signal)) on this file")
            }
            throw RawFileError(path: path, problem: "decoder process returned truncated output")
        } catch {
            throw RawFileError(path: path, problem: "decoder process returned malformed output")
        }
        return try bytes.withUnsafeBytes(parse)
    }

    private func checkOut(path: String) throws -> (WorkerProcess, reused: Bool) {
        lock.lock()
        let worker = idle.popLast()
        lock.unlock()
        if let worker { return (worker, true) }
        return (try start(path: path), false)
    }

    private func start(path: String) throws -> WorkerProcess {
        do {
            let worker = try spawnWorker()
            lock.lock(); started += 1; lock.unlock()
            return worker
        } catch let error as WorkerProcess.Failure {
            throw RawFileError(path: path, problem: "cannot start the decoder process: \(error.message)")
        }
    }

    /// A worker as a new process (`emulsion decode-worker --serve`).
    private func spawnWorker() throws -> WorkerProcess {
        try WorkerProcess(executable: executable, arguments: ["decode-worker", "--serve"])
    }

    private func checkIn(_ worker: WorkerProcess, healthy: Bool) {
        lock.lock()
        let keep = healthy && remaining > 0
        if keep { idle.append(worker) }
        lock.unlock()
        if !keep { retire(worker) }
    }

    /// Kills `worker` now and reaps it later; reaps, without waiting, those that have ended, so
    /// that a long batch of failing files does not collect zombies.
    private func retire(_ worker: WorkerProcess) {
        worker.kill()
        lock.lock()
        retired.append(worker)
        retired.removeAll { $0.reapIfExited() }
        lock.unlock()
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import EmulsionCore
import CProcessShim
#if canImport(Glibc)
import Glibc
#endif

/// A child process that takes requests on its standard input and whose answers on its
/// standard output are read within a time limit: the decode worker (`DecodeWorkerPool`).
///
/// Why not Foundation's `Process`: on Linux it closes every descriptor up to the limit one by one
/// before `exec`, and its `waitUntilExit` polls a run loop; together they added ~50 ms to every
/// file (a 2 MP raw took 128 ms isolated against 74 ms in process; docs/PERFORMANCE.md, run v7).
/// `posix_spawn`, `poll` and `waitpid` do the same job directly. The child gets /dev/null for
/// standard error. The pipe and the socket are made close-on-exec and the child spawned under one
/// lock, so a worker spawned at the same moment for another file of a batch cannot inherit this
/// pipe's write end (which would hold this reader's end-of-file back until that worker exits);
/// Glibc's `pipe2(O_CLOEXEC)` is not visible to Swift.
final class WorkerProcess {
    struct Failure: Error { let message: String }

    private static let spawning = ThreadLock()
    let pid: pid_t
    private var readEnd: Int32
    /// The parent's end of the child's standard input: a socket, so that writing to a child
    /// that died fails with EPIPE instead of raising SIGPIPE in the parent (`MSG_NOSIGNAL`).
    private var requestEnd: Int32
    private var exited = false
    /// Whether `forked` moved the child off this process's CPU (tests).
    private(set) var startedElsewhere = false

    /// The answer pipe (read end, write end) and the request socket (parent's end, child's end),
    /// all close-on-exec.
    private static func channels() throws -> (answers: [Int32], requests: [Int32]) {
        var fds: [Int32] = [-1, -1]
        var channel: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw Failure(message: String(cString: strerror(errno))) }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &channel) == 0 else {
            let message = String(cString: strerror(errno))
            close(fds[0]); close(fds[1])
            throw Failure(message: message)
        }
        _ = fcntl(channel[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(channel[1], F_SETFD, FD_CLOEXEC)
        return (fds, channel)
    }

    /// A child that is a copy of this process (`fork` without `exec`) running `serve` with the
    /// request socket as its standard input, the answer pipe as its standard output and
    /// /dev/null as its standard error, and leaving with `serve`'s status; nil unless this
    /// process has exactly one thread.
    ///
    /// Why: the copy starts in ~0.1 ms where `exec` of the binary costs ~2.5 ms (the loader
    /// maps and relocates it and its libraries, the Swift runtime starts), on the critical path
    /// of a single file's run (docs/PERFORMANCE.md, session 14). The isolation is the same: its
    /// own address space, its own time limit, SIGKILL and `waitpid` as for a spawned worker.
    /// Only a single-threaded process may continue after `fork` without `exec` (a lock another
    /// thread held, in malloc, the Swift runtime or Dispatch, stays held forever in the copy), so
    /// this is for the first worker, started before anything makes a thread
    /// (`DecodeWorkerPool.startWorkerAhead`); later ones are spawned.
    static func forkedIfSingleThreaded(serve: () -> Int32) throws -> WorkerProcess? {
        guard threadCount() == 1 else { return nil }
        return try forked(serve: serve)
    }

    /// `forkedIfSingleThreaded` without the check (tests, whose process has many threads, fork
    /// children that make only system calls).
    static func forked(serve: () -> Int32) throws -> WorkerProcess {
        Self.spawning.lock()
        defer { Self.spawning.unlock() }
        let (fds, channel) = try channels()
        let child = fork()
        if child == 0 {
            // The copy: only the async-signal-safe calls until `serve`, then out without running
            // the parent's exit handlers or flushing its stdio buffers.
            dup2(channel[1], 0)
            dup2(fds[1], 1)
            let null = open("/dev/null", O_WRONLY)
            if null >= 0 { dup2(null, 2) }
            // Every other descriptor too: the copy holds nothing of the parent's (an output file,
            // a pipe the parent's own caller reads to its end) beyond its run.
            emu_close_descriptors_from(3)
            _exit(serve())
        }
        close(fds[1])
        close(channel[1])
        guard child > 0 else {
            let message = String(cString: strerror(errno))
            close(fds[0])
            close(channel[0])
            throw Failure(message: message)
        }
        // The copy is queued on this CPU, where it would wait until this process blocks: moved
        // to another at once, it decodes while this one loads the profile (CProcessShim says
        // why and what it measured).
        let moved = emu_start_elsewhere(child) == 1
        return WorkerProcess(pid: child, readEnd: fds[0], requestEnd: channel[0], startedElsewhere: moved)
    }

    /// This process's threads (Linux: /proc/self/stat's 20th field), or 0 when unknown.
    static func threadCount() -> Int {
        let stat = PlainFile.prefix(of: "/proc/self/stat", count: 1024)
        // The command name (field 2) is in parentheses and may hold spaces: count from its end.
        guard let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return 0 }
        let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
        return fields.count > 17 ? Int(String(decoding: fields[17], as: UTF8.self)) ?? 0 : 0
    }

    private init(pid: pid_t, readEnd: Int32, requestEnd: Int32, startedElsewhere: Bool) {
        self.pid = pid
        self.readEnd = readEnd
        self.requestEnd = requestEnd
        self.startedElsewhere = startedElsewhere
    }

    init(executable: String, arguments: [String]) throws {
        Self.spawning.lock()
        defer { Self.spawning.unlock() }
        let (fds, channel) = try Self.channels()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, channel[1], 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, nil, argv, environ)
        close(fds[1])
        close(channel[1])
        guard status == 0 else {
            close(fds[0])
            close(channel[0])
            throw Failure(message: String(cString: strerror(status)))
        }
        pid = child
        readEnd = fds[0]
        requestEnd = channel[0]
    }

    deinit {
        close(readEnd)
        close(requestEnd)
        stop()
    }

    /// Writes `bytes` to the child's standard input; false when it cannot take them (it has
    /// exited).
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(requestEnd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 { if errno == EINTR { continue }; return false }
            sent += n
        }
        return true
    }

    enum ReadEnd: Equatable { case complete, endOfFile, timedOut }

    /// Appends exactly `count` bytes of the child's output to `buffer`, waiting until `deadline`
    /// (`DispatchTime` nanoseconds) at most. The buffer grows by what arrives, not by what
    /// `count` promises: a child that announces gigabytes and sends nothing costs nothing.
    func read(exactly count: Int, into buffer: inout [UInt8], deadline: UInt64) -> ReadEnd {
        var missing = count
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, min(count, 1 << 20)), alignment: 16)
        defer { chunk.deallocate() }
        while missing > 0 {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return .timedOut }
            var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let wait = Int32(min(Double(deadline - now) / 1e6 + 1, Double(Int32.max)))
            let ready = poll(&descriptor, 1, wait)
            if ready < 0 { if errno == EINTR { continue }; return .endOfFile }
            if ready == 0 { continue }
            let n = Glibc.read(readEnd, chunk.baseAddress!, min(missing, chunk.count))
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; return .endOfFile }
            if n == 0 { return .endOfFile }
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            missing -= n
        }
        return .complete
    }

    /// Stops the child at once (nothing once it has been reaped: its pid may belong to another
    /// process by then).
    func kill() {
        guard !exited else { return }
        _ = Glibc.kill(pid, SIGKILL)
    }

    /// Reaps the child if it has ended, without waiting; whether it has been reaped.
    func reapIfExited() -> Bool {
        guard !exited else { return true }
        var status: Int32 = 0
        let done = waitpid(pid, &status, WNOHANG)
        if done == pid || (done < 0 && errno == ECHILD) { exited = true }
        return exited
    }

    /// Waits for the child until `deadline` (`DispatchTime` nanoseconds), then stops it: for a
    /// child that closed its output, which should be exiting, but might not be.
    func waitForExit(deadline: UInt64) -> (status: Int32?, signal: Int32?) {
        var status: Int32 = 0
        while !exited && DispatchTime.now().uptimeNanoseconds < deadline {
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid {
                exited = true
                return Self.outcome(status)
            }
            if done < 0 && errno != EINTR { break }
            usleep(1_000)
        }
        if !exited { kill() }
        return waitForExit()
    }

    /// Stops the child, if it still runs, and reaps it.
    func stop() {
        guard !exited else { return }
        kill()
        _ = waitForExit()
    }

    /// Waits for the child; the signal that ended it, if one did.
    func waitForExit() -> (status: Int32?, signal: Int32?) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 { if errno != EINTR { exited = true; return (nil, nil) } }
        exited = true
        return Self.outcome(status)
    }

    /// A `waitpid` status as the exit status or the signal that ended the child.
    private static func outcome(_ status: Int32) -> (status: Int32?, signal: Int32?) {
        let signal = status & 0x7f
        return signal == 0 ? ((status >> 8) & 0xff, nil) : (nil, signal)
    }
}

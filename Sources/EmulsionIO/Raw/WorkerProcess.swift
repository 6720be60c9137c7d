import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process whose standard output is read to the end within a time limit: the decode
/// worker (`IsolatedDecoding`).
///
/// Why not Foundation's `Process`: on Linux it closes every descriptor up to the limit one by one
/// before `exec`, and its `waitUntilExit` polls a run loop; together they added ~50 ms to every
/// file (a 2 MP raw took 128 ms isolated against 74 ms in process; docs/PERFORMANCE.md, run v7).
/// `posix_spawn`, `poll` and `waitpid` do the same job directly. The child gets /dev/null for
/// standard input and error. The pipe is made close-on-exec and the child spawned under one lock,
/// so a worker spawned at the same moment for another file of a batch cannot inherit this pipe's
/// write end (which would hold this reader's end-of-file back until that worker exits); Glibc's
/// `pipe2(O_CLOEXEC)` is not visible to Swift.
final class WorkerProcess {
    struct Failure: Error { let message: String }

    private static let spawning = NSLock()
    let pid: pid_t
    private var readEnd: Int32
    private var exited = false

    init(executable: String, arguments: [String]) throws {
        var fds: [Int32] = [-1, -1]
        Self.spawning.lock()
        defer { Self.spawning.unlock() }
        guard pipe(&fds) == 0 else { throw Failure(message: String(cString: strerror(errno))) }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, nil, argv, environ)
        close(fds[1])
        guard status == 0 else {
            close(fds[0])
            throw Failure(message: String(cString: strerror(status)))
        }
        pid = child
        readEnd = fds[0]
    }

    deinit {
        if readEnd >= 0 { close(readEnd) }
        if !exited { kill(); _ = waitForExit() }
    }

    /// Everything the child writes to standard output until it closes it, or nil when that takes
    /// longer than `timeout` seconds.
    func readAll(timeout: Double) -> [UInt8]? {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, timeout) * 1e9)
        var output = [UInt8]()
        output.reserveCapacity(1 << 16)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return nil }
            var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let wait = Int32(min(Double(deadline - now) / 1e6 + 1, Double(Int32.max)))
            let ready = poll(&descriptor, 1, wait)
            if ready < 0 { if errno == EINTR { continue }; return nil }
            if ready == 0 { continue }
            let n = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress!, $0.count) }
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; return output }
            if n == 0 { return output }
            output.append(contentsOf: chunk[0..<n])
        }
    }

    /// Stops the child at once.
    func kill() { _ = Glibc.kill(pid, SIGKILL) }

    /// Waits for the child; the signal that ended it, if one did.
    func waitForExit() -> (status: Int32?, signal: Int32?) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 { if errno != EINTR { exited = true; return (nil, nil) } }
        exited = true
        let signal = status & 0x7f
        return signal == 0 ? ((status >> 8) & 0xff, nil) : (nil, signal)
    }
}

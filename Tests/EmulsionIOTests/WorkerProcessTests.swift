import CProcessShim
@testable import EmulsionCore
@testable import EmulsionIO
import Foundation
import XCTest

/// The decode worker's process plumbing (`WorkerProcess`), with /bin/sh standing in for the
/// worker: requests reach its standard input, answers are read to the byte, a time limit stops
/// a child that never answers, and the signal of a child that crashed is reported (what
/// `DecodeWorkerPool` turns into "decoder crashed").
final class WorkerProcessTests: XCTestCase {
    static func deadline(_ seconds: Double) -> UInt64 { DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9) }

    func testReadsEverythingTheChildWrites() throws {
        // 3 MiB: more than one pipe buffer and one read chunk.
        let worker = try WorkerProcess(executable: "/bin/sh", arguments: ["-c", "head -c 3145728 /dev/zero"])
        var output: [UInt8] = []
        XCTAssertEqual(worker.read(exactly: 3 << 20, into: &output, deadline: Self.deadline(30)), .complete)
        XCTAssertEqual(output.count, 3 << 20)
        XCTAssertEqual(worker.read(exactly: 1, into: &output, deadline: Self.deadline(30)), .endOfFile, "nothing after the 3 MiB")
        XCTAssertEqual(output.count, 3 << 20)
        let exit = worker.waitForExit()
        XCTAssertEqual(exit.status, 0)
        XCTAssertNil(exit.signal)
    }

    func testRequestsReachTheChildsStandardInput() throws {
        let worker = try WorkerProcess(executable: "/bin/sh", arguments: ["-c", "head -c 5"])
        XCTAssertTrue(worker.send(Array("hello".utf8)))
        var output: [UInt8] = []
        XCTAssertEqual(worker.read(exactly: 5, into: &output, deadline: Self.deadline(30)), .complete)
        XCTAssertEqual(String(decoding: output, as: UTF8.self), "hello")
        XCTAssertEqual(worker.waitForExit().status, 0)
    }

    func testChildPastTheTimeLimitIsStopped() throws {
        let worker = try WorkerProcess(executable: "/bin/sh", arguments: ["-c", "sleep 30"])
        let started = Date()
        var output: [UInt8] = []
        XCTAssertEqual(worker.read(exactly: 1, into: &output, deadline: Self.deadline(0.3)), .timedOut)
        worker.kill()
        XCTAssertEqual(worker.waitForExit().signal, SIGKILL)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "the limit, not the child, ended the wait")
    }

    func testCrashIsReportedAsItsSignal() throws {
        let worker = try WorkerProcess(executable: "/bin/sh", arguments: ["-c", "kill -SEGV $$"])
        var output: [UInt8] = []
        XCTAssertEqual(worker.read(exactly: 1, into: &output, deadline: Self.deadline(30)), .endOfFile)
        XCTAssertEqual(output, [])
        XCTAssertEqual(worker.waitForExit().signal, SIGSEGV)
    }

    func testAChildThatClosesItsOutputIsWaitedForOnlyUntilTheDeadline() throws {
        let worker = try WorkerProcess(executable: "/bin/sh", arguments: ["-c", "exec 1>&-; sleep 30"])
        let started = Date()
        var output: [UInt8] = []
        XCTAssertEqual(worker.read(exactly: 1, into: &output, deadline: Self.deadline(10)), .endOfFile)
        XCTAssertEqual(output, [])
        XCTAssertEqual(worker.waitForExit(deadline: Self.deadline(0.3)).signal, SIGKILL)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "the deadline, not the child, ended the wait")
    }

    func testMissingExecutableFailsToStart() {
        XCTAssertThrowsError(try WorkerProcess(executable: "/nonexistent/emulsion", arguments: []))
    }

    // The forked worker (`WorkerProcess.forked`): a copy of this process, without exec. The
    // children here make only system calls (this test process has many threads; see
    // `forkedIfSingleThreaded` for why the product forks only while it has one).

    /// Requests reach the copy's standard input, its standard output is the answer pipe, and its
    /// standard error is /dev/null (what it writes there never reaches the test's stderr, which
    /// the echo back would show if fd 2 were still inherited).
    func testForkedChildServesOverItsStandardDescriptors() throws {
        let worker = try WorkerProcess.forked {
            var byte: UInt8 = 0
            var echoed = 0
            while echoed < 5, read(0, &byte, 1) == 1 {
                guard write(1, &byte, 1) == 1 else { return 3 }
                echoed += 1
            }
            let isNull = lseek(2, 0, SEEK_CUR) >= 0 && isatty(2) == 0
            var tag: UInt8 = isNull ? 0x4E : 0x3F
            _ = write(1, &tag, 1)
            return echoed == 5 ? 0 : 4
        }
        XCTAssertTrue(worker.send(Array("hello".utf8)))
        var output: [UInt8] = []
        XCTAssertEqual(worker.read(exactly: 5, into: &output, deadline: Self.deadline(30)), .complete)
        XCTAssertEqual(String(decoding: output, as: UTF8.self), "hello")
        XCTAssertEqual(worker.read(exactly: 1, into: &output, deadline: Self.deadline(30)), .complete)
        XCTAssertEqual(output.last, 0x4E, "standard error is /dev/null in the copy")
        XCTAssertEqual(worker.waitForExit().status, 0, "the copy leaves with serve's status")
    }

    func testForkedChildCrashAndTimeLimitAreHandledAsASpawnedOnes() throws {
        // The default action, as in a worker: XCTest's own crash handler, which the copy inherits,
        // would otherwise turn the signal into an exit.
        let crashing = try WorkerProcess.forked { signal(SIGSEGV, SIG_DFL); raise(SIGSEGV); return 0 }
        var output: [UInt8] = []
        XCTAssertEqual(crashing.read(exactly: 1, into: &output, deadline: Self.deadline(30)), .endOfFile)
        XCTAssertEqual(crashing.waitForExit().signal, SIGSEGV)

        let hanging = try WorkerProcess.forked { while true { pause() } }
        XCTAssertEqual(hanging.read(exactly: 1, into: &output, deadline: Self.deadline(0.3)), .timedOut)
        hanging.kill()
        XCTAssertEqual(hanging.waitForExit().signal, SIGKILL)
    }

    /// The copy is moved off this process's CPU (Linux queues a new task on its parent's CPU,
    /// where it waits while the parent computes: CProcessShim) and keeps every CPU this process
    /// may use, so no restriction outlives the move (LibRaw's OpenMP threads, a worker serving a
    /// batch). The masks are the kernel's account of them (/proc/PID/status, proc(5)). With one
    /// CPU allowed there is nowhere else to go.
    func testForkedChildStartsElsewhereWithEveryCPU() throws {
        func status(_ pid: String) throws -> String { try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) }
        func allowedMask(_ status: String) throws -> String {
            let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed:") })
            return String(line.dropFirst("Cpus_allowed:".count).filter { $0.isHexDigit })
        }
        let own = try status("self")
        let parent = try allowedMask(own)
        let count = try XCTUnwrap(AvailableProcessors.allowedCount(status: Array(own.utf8)))
        let worker = try WorkerProcess.forked {
            var byte: UInt8 = 0
            while read(0, &byte, 1) == 1 {}
            return 0
        }
        defer { worker.stop() }
        XCTAssertEqual(worker.startedElsewhere, count >= 2, "moved exactly when there is another CPU (\(count) allowed)")
        XCTAssertEqual(try allowedMask(status(String(worker.pid))), parent, "the copy keeps every CPU")
    }

    /// While the parent waits for a worker's answer it stays on its CPU (`emu_stay_on_this_cpu`,
    /// so that the worker's write does not wake it on the worker's CPU), then gets its mask back.
    func testAWaitPinsTheThreadToItsCPUAndGivesItsMaskBack() throws {
        func allowed() throws -> Int {
            let status = try String(contentsOfFile: "/proc/thread-self/status", encoding: .utf8)
            return try XCTUnwrap(AvailableProcessors.allowedCount(status: Array(status.utf8)))
        }
        let before = try allowed()
        var saved = emu_cpu_mask()
        let stayed = emu_stay_on_this_cpu(&saved) == 1
        XCTAssertEqual(stayed, before >= 2, "pinned exactly when there is another CPU (\(before) allowed)")
        if stayed {
            XCTAssertEqual(try allowed(), 1)
            emu_restore_cpus(&saved)
        }
        XCTAssertEqual(try allowed(), before)
    }

    /// This test process runs XCTest's and Dispatch's threads: the product's guard sees them and
    /// declines to fork (the caller spawns instead).
    func testForkIsDeclinedWithMoreThanOneThread() throws {
        DispatchQueue.concurrentPerform(iterations: 2) { _ in }
        XCTAssertGreaterThan(WorkerProcess.threadCount(), 1)
        XCTAssertNil(try WorkerProcess.forkedIfSingleThreaded { 0 })
    }
}

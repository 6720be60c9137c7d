@testable import EmulsionIO
import Foundation
import XCTest

/// The decode worker's process plumbing (`WorkerProcess`), with /bin/sh standing in for the
/// worker: output read to the end, a time limit that stops a child that never finishes, and the
/// signal of a child that crashed (what `IsolatedDecoding` turns into "decoder crashed").
final class WorkerProcessTests: XCTestCase {
    func testReadsEverythingTheChildWrites() throws {
        // 3 MiB: more than one pipe buffer and one read chunk.
        let worker = try WorkerProcess(executable: "/bin/sh", arguments: ["-c", "head -c 3145728 /dev/zero"])
        let output = try XCTUnwrap(worker.readAll(timeout: 30))
        XCTAssertEqual(output.count, 3 << 20)
        let exit = worker.waitForExit()
        XCTAssertEqual(exit.status, 0)
        XCTAssertNil(exit.signal)
    }

    func testChildPastTheTimeLimitIsStopped() throws {
        let worker = try WorkerProcess(executable: "/bin/sh", arguments: ["-c", "sleep 30"])
        let started = Date()
        XCTAssertNil(worker.readAll(timeout: 0.3))
        worker.kill()
        XCTAssertEqual(worker.waitForExit().signal, SIGKILL)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "the limit, not the child, ended the wait")
    }

    func testCrashIsReportedAsItsSignal() throws {
        let worker = try WorkerProcess(executable: "/bin/sh", arguments: ["-c", "kill -SEGV $$"])
        XCTAssertEqual(worker.readAll(timeout: 30), [])
        XCTAssertEqual(worker.waitForExit().signal, SIGSEGV)
    }

    func testAChildThatClosesItsOutputIsWaitedForOnlyUntilTheDeadline() throws {
        let worker = try WorkerProcess(executable: "/bin/sh", arguments: ["-c", "exec 1>&-; sleep 30"])
        let started = Date()
        XCTAssertEqual(worker.readAll(timeout: 10), [])
        XCTAssertEqual(worker.waitForExit(deadline: DispatchTime.now().uptimeNanoseconds + 300_000_000).signal, SIGKILL)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "the deadline, not the child, ended the wait")
    }

    func testMissingExecutableFailsToStart() {
        XCTAssertThrowsError(try WorkerProcess(executable: "/nonexistent/emulsion", arguments: []))
    }
}

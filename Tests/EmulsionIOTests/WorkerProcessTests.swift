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
}

@testable import Emulsion
import EmulsionTestSupport
import Foundation
import XCTest

/// `AtomicOutput` with `IncrementalSync`: a file flushed by a background thread while it is
/// written arrives whole, the helper stops before the file is closed, and a failed background
/// flush fails the write with nothing left behind (Linux reports a writeback error once per open
/// file, so the closing fsync alone could miss it).
final class AtomicOutputTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = TestSupport.temporaryDirectory("emulsion-atomic") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A fixed pseudo-random sequence (the tests' SplitMix64), so a misplaced or lost piece shows.
    func bytes(count: Int) -> [UInt8] {
        var random = SplitMix64(seed: 9)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next() >> 24) }
    }

    /// Emits `data` in 100 kB pieces. With `flushBegan`, once more than one step (4 MB) is out,
    /// waits (up to 30 s) until the helper's flush has begun: the helper is a thread of its own,
    /// and on a loaded machine it may not run before the last piece. That is allowed (the closing
    /// fsync covers the file) but would leave these tests nothing to check; it made them fail
    /// while a build ran beside them.
    func emitInPieces(_ data: [UInt8], waitingFor flushBegan: DispatchSemaphore? = nil,
                      _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        try data.withUnsafeBytes { all in
            var offset = 0, waited = false
            while offset < all.count {
                let n = min(100_000, all.count - offset)
                try emit(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + n)]))
                offset += n
                if let flushBegan, !waited, offset > IncrementalSync.defaultStep {
                    XCTAssertEqual(flushBegan.wait(timeout: .now() + 30), .success, "the helper never flushed")
                    waited = true
                }
            }
        }
    }

    func testLargeFileIsFlushedInTheBackgroundAndArrivesWhole() throws {
        let data = bytes(count: 9 << 20)
        let path = dir.appendingPathComponent("big.bin").path
        let calls = Counter(), began = DispatchSemaphore(value: 0)
        try AtomicOutput.write(to: path, overwrite: false, backgroundFlush: { fd in calls.add(); began.signal(); return fdatasync(fd) }) { emit, _ in
            try emitInPieces(data, waitingFor: began, emit)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), Data(data))
        // 9 MB in 4 MB steps: one or two background flushes.
        XCTAssertGreaterThanOrEqual(calls.value, 1)
        XCTAssertLessThanOrEqual(calls.value, 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["big.bin"])
    }

    func testSmallFileStartsNoHelper() throws {
        let path = dir.appendingPathComponent("small.bin").path
        let calls = Counter()
        try AtomicOutput.write(to: path, overwrite: false, backgroundFlush: { fd in calls.add(); return fdatasync(fd) }) { emit, _ in
            try emitInPieces(bytes(count: 3 << 20), emit)
        }
        XCTAssertEqual(calls.value, 0)
    }

    func testFailedBackgroundFlushFailsTheWriteAndLeavesNothing() throws {
        let path = dir.appendingPathComponent("lost.bin").path
        let began = DispatchSemaphore(value: 0)
        XCTAssertThrowsError(try AtomicOutput.write(to: path, overwrite: false, backgroundFlush: { _ in began.signal(); errno = EIO; return -1 }) { emit, _ in
            try emitInPieces(bytes(count: 5 << 20), waitingFor: began, emit)
        }) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("lost.bin") && text.contains("write failed") && text.contains(String(cString: strerror(EIO))), text)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    /// A FIFO or a folder at the output path is refused before anything is written, even with
    /// `overwrite`: the rename would replace the node itself (a device, as root: `/dev/full`
    /// became a PNG) or fail only after the work. A link is replaced, never what it points to.
    func testOnlyRegularFilesAreReplaced() throws {
        let fifo = dir.appendingPathComponent("pipe.png").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        XCTAssertThrowsError(try AtomicOutput.write([1, 2, 3], to: fifo, overwrite: true)) { error in
            XCTAssertEqual("\(error)", "\(fifo): is not a regular file (a device, FIFO or socket); refusing to replace it")
        }
        var info = stat()
        XCTAssertEqual(lstat(fifo, &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFIFO, "the FIFO must still be there")
        let folder = dir.appendingPathComponent("folder.png")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        XCTAssertThrowsError(try AtomicOutput.write([1, 2, 3], to: folder.path, overwrite: true)) { error in
            XCTAssertEqual("\(error)", "\(folder.path): is a folder, not a file")
        }
        let target = dir.appendingPathComponent("target.bin"), link = dir.appendingPathComponent("link.bin")
        try Data([9]).write(to: target)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: target.path)
        try AtomicOutput.write([1, 2, 3], to: link.path, overwrite: true)
        XCTAssertEqual(try Data(contentsOf: target), Data([9]))
        XCTAssertEqual(try Data(contentsOf: link), Data([1, 2, 3]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(),
                       ["folder.png", "link.bin", "pipe.png", "target.bin"])
    }

    /// When `finish` returns no flush is running or starts later (the caller closes the
    /// descriptor next, and a flush then could hit a reused one); `finish` may be called twice.
    func testNoFlushRunsAfterFinish() throws {
        let path = dir.appendingPathComponent("raw.bin").path
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let running = Counter(), afterFinish = Counter(), finished = Counter(), began = DispatchSemaphore(value: 0)
        let sync = IncrementalSync(fd: fd, step: 1 << 16) { fd in
            began.signal()
            running.add()
            defer { running.subtract() }
            if finished.value > 0 { afterFinish.add() }
            usleep(20_000)
            return fdatasync(fd)
        }
        let chunk = [UInt8](repeating: 7, count: 1 << 16)
        for _ in 0..<16 {
            _ = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            sync.wrote(chunk.count)
            usleep(1000)
        }
        // At least one flush, however late the helper ran (see `emitInPieces`).
        XCTAssertEqual(began.wait(timeout: .now() + 30), .success, "the helper never flushed")
        try sync.finish()
        XCTAssertEqual(running.value, 0, "a flush was still running when finish returned")
        finished.add()
        try sync.finish()
        usleep(50_000)
        close(fd)
        XCTAssertEqual(afterFinish.value, 0)
        XCTAssertGreaterThanOrEqual(sync.flushes, 1)
    }

    /// Where writeback starts while a file is written: within the first `step`, once at least
    /// `kick` bytes have come since the last start; after it, once a whole `step` has. Pieces of
    /// 100 000 bytes with a 1 MB step and a 256 KB kick: starts at 300 000, 600 000 and 900 000
    /// bytes, then once a further 1 000 000 have come (the step's own rule, session 19). Every range follows the last
    /// one, so each written byte is started once. Reference: the schedule in `wrote`'s comment.
    func testWritebackStartsInRangesOfAtLeastTheKick() throws {
        let path = dir.appendingPathComponent("kicks.bin").path
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        // Only the writing thread (this one) starts writeback.
        var started: [(offset: Int, length: Int)] = []
        let sync = IncrementalSync(fd: fd, step: 1_000_000, kick: 256 << 10, startWriteback: { _, offset, length in
            started.append((offset, length))
        }, flush: { _ in 0 })
        for _ in 0..<35 { sync.wrote(100_000) }
        try sync.finish()
        XCTAssertEqual(started.map { $0.offset + $0.length }, [300_000, 600_000, 900_000, 1_900_000, 2_900_000])
        XCTAssertEqual(started.map(\.offset), [0, 300_000, 600_000, 900_000, 1_900_000])
    }

    /// What a killed process left for an output is removed before the output is written again:
    /// the temporaries of that output whose pid no longer runs (a reaped child's), and nothing
    /// else: not this process's, not a running process's (pid 1), not another output's, not a
    /// name that only starts alike, among 3 000 unrelated files. The folder is read once
    /// (`TemporaryNames`): another output written later still finds its own stale temporary.
    func testStaleTemporariesOfTheOutputAloneAreRemoved() throws {
        let output = dir.appendingPathComponent("photo.png")
        let reaped = Process()
        reaped.executableURL = URL(fileURLWithPath: "/bin/true")
        try reaped.run()
        reaped.waitUntilExit()
        let dead = reaped.processIdentifier
        let prefix = AtomicOutput.temporaryPrefix(for: output)
        let stale = ["\(prefix)\(dead)-17", "\(prefix)\(dead)-4294967295"]
        let kept = ["\(prefix)\(getpid())-5", "\(prefix)1-7", AtomicOutput.temporaryPrefix(for: dir.appendingPathComponent("other.png")) + "\(dead)-1",
                    ".photo.png.tmp", "photo.png", "\(prefix)x-1", "\(prefix)"] + (0..<3_000).map { "photo_\($0).png" }
        for name in stale + kept { XCTAssertTrue(FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: nil)) }
        // The differences, not the 3 000 names, when it fails.
        func assertFolder(holds expected: Set<String>, _ step: String) throws {
            let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
            XCTAssertEqual(left.subtracting(expected), [], "left that should have gone (\(step))")
            XCTAssertEqual(expected.subtracting(left), [], "removed that should have stayed (\(step))")
        }
        AtomicOutput.removeStaleTemporaries(for: output)
        try assertFolder(holds: Set(kept), "the sweep")
        try AtomicOutput.write([1, 2, 3], to: output.path, overwrite: true)
        try assertFolder(holds: Set(kept), "the write")
        let other = dir.appendingPathComponent("other.png")
        try AtomicOutput.write([4], to: other.path, overwrite: false)
        try assertFolder(holds: Set(kept).subtracting([AtomicOutput.temporaryPrefix(for: other) + "\(dead)-1"]).union(["other.png"]),
                         "another output's write")
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    func subtract() { lock.lock(); count -= 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

import EmulsionCore
@testable import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// Workers that serve one file after another (`DecodeWorkerPool`): the images must be the ones a
/// one-file decoder (`RawDecoder.isolated`) gives, workers must be reused while files remain,
/// and a file that hangs, crashes or fails must end only its own worker, with the CLI's error.
///
/// Reference: `RawFile.read` in this process, and LibRaw's own unpack for a declined NEF stream.
/// Tolerance: none (the same wire, so every field and sample must be equal).
final class DecodeWorkerPoolTests: XCTestCase {
    /// Whether `pid` has stopped running within 10 s: gone, or a zombie (the pool kills a worker
    /// at once and reaps it later, `DecodeWorkerPool.retire`).
    static func stopped(_ pid: pid_t) -> Bool {
        for _ in 0..<1000 {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return true }
            if stat[stat.index(close, offsetBy: 2)...].first == "Z" { return true }
            usleep(10_000)
        }
        return false
    }

    func testEverySampleDecodesAsInProcessWithOneWorker() throws {
        let binary = try builtEmulsionBinary()
        let samples = TestSupport.rawSamples()
        let pool = DecodeWorkerPool(executable: binary, timeout: 60, files: samples.count)
        defer { pool.finish() }
        var failures = 0
        for sample in samples {
            let path = sample.url.path
            let got = Result { try pool.decode(path: path, pixelLimit: RawFile.defaultPixelLimit) }
            let expected = Result { try RawFile.read(path: path) }
            switch (got, expected) {
            case (.success(let image), .success(let reference)):
                assertSameImage(image, reference, sample.name)
            case (.failure(let a), .failure(let b)):
                failures += 1
                XCTAssertEqual("\(a)", "\(b)", sample.name)
            case (let a, let b):
                XCTFail("\(sample.name): through the pool \(a), in process \(b)")
            }
        }
        // A failed file ends its worker; every other file is served by the worker before it.
        XCTAssertEqual(pool.started, 1 + failures, "workers started for \(samples.count) files, \(failures) failed")
        XCTAssertTrue(pool.idleProcesses.isEmpty, "the last file's worker should have been stopped")
    }

    /// `--name`'s header read (`RawDecoder.shotMetadata`): through a worker, every sample's shot
    /// metadata is the in-process header read's, which is the full decode's but for what the
    /// header read leaves out (the DNG opcodes); a worker that answered a
    /// header request serves the next file's decode; a file that fails, fails as its decode does.
    func testHeaderReadsThroughAWorkerAreTheDecodesMetadata() throws {
        let binary = try builtEmulsionBinary()
        let samples = TestSupport.rawSamples()
        let pool = DecodeWorkerPool(executable: binary, timeout: 60, files: samples.count)
        defer { pool.finish() }
        var read = 0
        for sample in samples {
            let path = sample.url.path
            let got = Result { try pool.shotMetadata(path: path, pixelLimit: RawFile.defaultPixelLimit) }
            let inProcess = Result { try RawFile.readShotMetadata(path: path) }
            switch (got, inProcess, Result { try RawFile.read(path: path) }) {
            case (.success(let shot), .success(let reference), .success(let decoded)):
                read += 1
                XCTAssertEqual(shot, reference, sample.name)
                var expected = decoded.metadata
                expected.opcodes = []
                XCTAssertEqual(shot, expected, sample.name)
            case (.failure(let a), .failure(let b), .failure(let c)):
                XCTAssertEqual("\(a)", "\(b)", sample.name)
                XCTAssertEqual("\(a)", "\(c)", sample.name)
            case (let a, let b, let c):
                XCTFail("\(sample.name): through the pool \(a), in process \(b), decoded \(c)")
            }
        }
        XCTAssertGreaterThan(read, 5)
        XCTAssertEqual(pool.started, 1 + samples.count - read)
        XCTAssertNoThrow(try pool.decode(path: samples[0].url.path, pixelLimit: RawFile.defaultPixelLimit))
        XCTAssertEqual(pool.started, 1 + samples.count - read, "a header request's worker serves the next decode")
        XCTAssertThrowsError(try pool.shotMetadata(path: "/nonexistent/file.dng", pixelLimit: RawFile.defaultPixelLimit)) { error in
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent/file.dng: "), "\(error)")
        }
        XCTAssertThrowsError(try pool.shotMetadata(path: samples[0].url.path, pixelLimit: 1)) { error in
            XCTAssertTrue("\(error)".contains("exceeds the limit of 0 MP"), "\(error)")
        }
    }

    /// A header read that hangs is stopped at the limit, with the decode's message.
    func testAHangingHeaderReadIsStopped() throws {
        let binary = try builtEmulsionBinary()
        let source = try XCTUnwrap(TestSupport.rawSamples().first).url
        let directory = TestSupport.temporaryDirectory("pool-header-hang")
        defer { try? FileManager.default.removeItem(at: directory) }
        let hangPath = directory.appendingPathComponent("hang.dng").path
        try Data(contentsOf: source).write(to: URL(fileURLWithPath: hangPath))
        setenv("EMULSION_TEST_STALL_DECODE", hangPath, 1)
        defer { unsetenv("EMULSION_TEST_STALL_DECODE") }
        let pool = DecodeWorkerPool(executable: binary, timeout: 2, files: 2)
        defer { pool.finish() }
        XCTAssertThrowsError(try pool.shotMetadata(path: hangPath, pixelLimit: RawFile.defaultPixelLimit)) { error in
            XCTAssertEqual("\(error)", "\(hangPath): decoder did not finish within 2 s (damaged file?); stopped it")
        }
        XCTAssertTrue(pool.idleProcesses.isEmpty)
        XCTAssertNoThrow(try pool.shotMetadata(path: source.path, pixelLimit: RawFile.defaultPixelLimit))
    }

    /// The LG DNG with one flipped byte (HostileInputTests.testDecoderHangIsStoppedAndReported)
    /// makes LibRaw loop: between two good files it must time out with the CLI's message,
    /// and the files after it must decode with a fresh worker that is then reused.
    func testAHangEndsOnlyItsOwnWorker() throws {
        let binary = try builtEmulsionBinary()
        let source = TestSupport.samplesDirectory.appendingPathComponent("lg-g4_h815-lossy_linear.dng")
        guard FileManager.default.fileExists(atPath: source.path) else {
            if TestSupport.inCI { XCTFail("sample missing") }
            throw XCTSkip("no sample")
        }
        let directory = TestSupport.temporaryDirectory("pool-hang")
        defer { try? FileManager.default.removeItem(at: directory) }
        // A sound copy that the worker is told to hang on (`IsolatedDecoding.stallIfAskedTo`);
        // the spawned workers inherit this process's environment.
        let hangPath = directory.appendingPathComponent("hang.dng").path
        try Data(contentsOf: source).write(to: URL(fileURLWithPath: hangPath))
        setenv("EMULSION_TEST_STALL_DECODE", hangPath, 1)
        defer { unsetenv("EMULSION_TEST_STALL_DECODE") }
        let pool = DecodeWorkerPool(executable: binary, timeout: 3, files: 4)
        defer { pool.finish() }
        let reference = try RawFile.read(path: source.path)
        XCTAssertTrue(try pool.decode(path: source.path, pixelLimit: RawFile.defaultPixelLimit).samples == reference.samples)
        XCTAssertEqual(pool.idleProcesses.count, 1, "the first file's worker should wait for the next")
        let first = try XCTUnwrap(pool.idleProcesses.first)
        XCTAssertThrowsError(try pool.decode(path: hangPath, pixelLimit: RawFile.defaultPixelLimit)) { error in
            XCTAssertEqual("\(error)", "\(hangPath): decoder did not finish within 3 s (damaged file?); stopped it")
        }
        XCTAssertTrue(pool.idleProcesses.isEmpty)
        XCTAssertTrue(Self.stopped(first), "the hung worker should be gone")
        for _ in 0..<2 {
            XCTAssertTrue(try pool.decode(path: source.path, pixelLimit: RawFile.defaultPixelLimit).samples == reference.samples)
        }
        XCTAssertEqual(pool.started, 2)
    }

    /// A file refused before any worker sees it still counts: the worker of the run's last
    /// readable file is stopped once it has answered, not kept for files that will not come.
    func testRefusedFilesCountTowardsTheRun() throws {
        let binary = try builtEmulsionBinary()
        let path = try XCTUnwrap(TestSupport.rawSamples().first { $0.name == "canon-eos_6d-lossy_linear.dng" }).url.path
        let pool = DecodeWorkerPool(executable: binary, timeout: 60, files: 2)
        defer { pool.finish() }
        XCTAssertThrowsError(try pool.decode(path: "/nonexistent/file.dng", pixelLimit: RawFile.defaultPixelLimit))
        XCTAssertEqual(pool.started, 0, "a missing file needs no worker")
        _ = try pool.decode(path: path, pixelLimit: RawFile.defaultPixelLimit)
        XCTAssertTrue(pool.idleProcesses.isEmpty, "the run's last file's worker should have been stopped")
    }

    /// A worker started ahead (what `process` does before loading its profile) is the one that
    /// decodes the first file, and a one-file run stops it once it has answered; a pool finished
    /// before any file leaves no process behind.
    func testAWorkerStartedAheadServesTheFirstFile() throws {
        let binary = try builtEmulsionBinary()
        let path = try XCTUnwrap(TestSupport.rawSamples().first { $0.name == "canon-eos_6d-lossy_linear.dng" }).url.path
        let pool = DecodeWorkerPool(executable: binary, timeout: 60, files: 1)
        defer { pool.finish() }
        pool.startWorkerAhead()
        let ahead = try XCTUnwrap(pool.idleProcesses.first)
        XCTAssertEqual(pool.started, 1)
        XCTAssertTrue(try pool.decode(path: path, pixelLimit: RawFile.defaultPixelLimit).samples == RawFile.read(path: path).samples)
        XCTAssertEqual(pool.started, 1, "the file should have gone to the worker started ahead")
        XCTAssertTrue(pool.idleProcesses.isEmpty)
        XCTAssertTrue(Self.stopped(ahead), "the one-file run's worker should be gone")
        pool.finish()
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/proc/\(ahead)"), "finish reaps the killed worker (no zombie)")

        let unused = DecodeWorkerPool(executable: binary, timeout: 60, files: 1)
        unused.startWorkerAhead()
        let waiting = try XCTUnwrap(unused.idleProcesses.first)
        unused.finish()
        XCTAssertTrue(Self.stopped(waiting), "finish should stop a worker no file came for")
    }

    /// A worker started ahead and asked for the first file at once (`process` does this) gives
    /// that file's image when the run asks for it, without a second request (one worker, and the
    /// same image as in process); a file asked ahead that the run never decodes is stopped unread
    /// by `finish`; a file the decode check refuses (a FIFO, which would block the worker) is
    /// not asked ahead, and its decode fails at once with the check's error.
    func testAFileAskedForAheadIsServedByThatWorker() throws {
        let binary = try builtEmulsionBinary()
        let samples = TestSupport.rawSamples()
        let first = try XCTUnwrap(samples.first { $0.name == "canon-eos_6d-lossy_linear.dng" }).url.path
        let second = try XCTUnwrap(samples.first { $0.name == "lg-g4_h815-lossy_linear.dng" }).url.path
        let limit = RawFile.defaultPixelLimit
        let pool = DecodeWorkerPool(executable: binary, timeout: 60, files: 2)
        defer { pool.finish() }
        pool.startWorkerAhead(prefetching: (first, limit))
        XCTAssertTrue(pool.idleProcesses.isEmpty, "the asked worker is kept for its file alone")
        // The other file first: it must not be handed the asked worker (whose answer is pending).
        XCTAssertTrue(try pool.decode(path: second, pixelLimit: limit).samples == RawFile.read(path: second).samples)
        XCTAssertEqual(pool.started, 2)
        XCTAssertTrue(try pool.decode(path: first, pixelLimit: limit).samples == RawFile.read(path: first).samples)
        XCTAssertEqual(pool.started, 2, "the first file should have come from the worker asked ahead")

        let unread = DecodeWorkerPool(executable: binary, timeout: 60, files: 1)
        unread.startWorkerAhead(prefetching: (first, limit))
        let asked = try XCTUnwrap(unread.askedAheadProcess)
        unread.finish()
        XCTAssertTrue(Self.stopped(asked), "finish should stop a worker whose file never came")

        let directory = TestSupport.temporaryDirectory("pool-fifo")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("fifo.dng").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let refused = DecodeWorkerPool(executable: binary, timeout: 60, files: 1)
        defer { refused.finish() }
        refused.startWorkerAhead(prefetching: (fifo, limit))
        XCTAssertNil(refused.askedAheadProcess, "a FIFO is not asked for ahead")
        let started = Date()
        XCTAssertThrowsError(try refused.decode(path: fifo, pixelLimit: limit)) { error in
            XCTAssertTrue("\(error)".contains("is a FIFO"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    /// Limits that are no number of seconds (infinite, NaN, negative) must not trap where the
    /// deadline is computed (`--decode-timeout inf` did): infinite counts as ten years, the others as none.
    func testLimitsBeyondRangeAreClamped() throws {
        XCTAssertEqual(DecodeWorkerPool(executable: "/bin/false", timeout: .infinity, files: 1).timeout, 315_360_000)
        XCTAssertEqual(DecodeWorkerPool(executable: "/bin/false", timeout: .nan, files: 1).timeout, 0)
        XCTAssertEqual(DecodeWorkerPool(executable: "/bin/false", timeout: -4, files: 1).timeout, 0)
        let binary = try builtEmulsionBinary()
        let path = try XCTUnwrap(TestSupport.rawSamples().first { $0.name == "canon-eos_6d-lossy_linear.dng" }).url.path
        XCTAssertNoThrow(try DecodeWorkerPool(executable: binary, timeout: .infinity, files: 1).decode(path: path, pixelLimit: RawFile.defaultPixelLimit))
    }

    /// An idle worker killed from outside: the next file gets a fresh one.
    func testAWorkerThatDiedWhileIdleIsReplaced() throws {
        let binary = try builtEmulsionBinary()
        let path = try XCTUnwrap(TestSupport.rawSamples().first { $0.name == "canon-eos_6d-lossy_linear.dng" }).url.path
        let pool = DecodeWorkerPool(executable: binary, timeout: 60, files: 3)
        defer { pool.finish() }
        let first = try pool.decode(path: path, pixelLimit: RawFile.defaultPixelLimit)
        let idle = try XCTUnwrap(pool.idleProcesses.first)
        XCTAssertEqual(kill(idle, SIGKILL), 0)
        usleep(100_000)
        let second = try pool.decode(path: path, pixelLimit: RawFile.defaultPixelLimit)
        XCTAssertTrue(first.samples == second.samples)
        XCTAssertEqual(pool.started, 2)
    }

    /// Stand-ins (shell scripts) for workers that crash, answer something else, stop mid-answer,
    /// announce a 2⁶³-byte header, or close their output without exiting.
    func testCrashesAndMalformedAnswersAreThatFilesError() throws {
        let directory = TestSupport.temporaryDirectory("pool-stand-ins")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try XCTUnwrap(TestSupport.rawSamples().first).url.path
        func script(_ name: String, _ body: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            try Data("#!/bin/sh\n\(body)\n".utf8).write(to: url)
            XCTAssertEqual(chmod(url.path, 0o755), 0)
            return url.path
        }
        let cases: [(String, String)] = [
            (try script("crash", "head -c 1 >/dev/null; kill -SEGV $$"), "decoder crashed (signal 11) on this file"),
            (try script("cut", "head -c 1 >/dev/null; kill -BUS $$"), "the file was cut short while the decoder read it (signal 7)"),
            (try script("garbage", "head -c 1 >/dev/null; printf 'not an answer at all'"), "decoder process returned malformed output"),
            (try script("short", "head -c 1 >/dev/null; printf 'EMULSRAW'"), "decoder process returned truncated output"),
            (try script("huge", "head -c 1 >/dev/null; printf 'EMULSRAW\\000\\377\\377\\377\\377\\377\\377\\377\\177'; sleep 30"),
             "decoder process returned malformed output"),
            // Closes its output but does not exit: stopped at the time limit, not waited for.
            (try script("lingers", "head -c 1 >/dev/null; exec 1>&-; sleep 30"), "decoder crashed (signal 9) on this file"),
        ]
        let started = Date()
        for (executable, message) in cases {
            let pool = DecodeWorkerPool(executable: executable, timeout: 2, files: 2)
            XCTAssertThrowsError(try pool.decode(path: path, pixelLimit: RawFile.defaultPixelLimit), executable) { error in
                XCTAssertEqual("\(error)", "\(path): \(message)", executable)
            }
            XCTAssertTrue(pool.idleProcesses.isEmpty, executable)
            pool.finish()
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "no stand-in should be waited for past its limit")
    }

    /// A NEF stream the parent's decoder declines (cut short) goes back to LibRaw's unpack in the
    /// same worker, with LibRaw's own outcome.
    func testADeclinedNEFStreamGoesBackToLibRawInTheSameWorker() throws {
        let binary = try builtEmulsionBinary()
        guard let sample = TestSupport.rawSamples().first(where: { $0.name == "nikon-d1x-lossy.nef" }) else {
            if TestSupport.inCI { XCTFail("sample missing") }
            throw XCTSkip("no NEF sample")
        }
        let directory = TestSupport.temporaryDirectory("pool-nef")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cut = directory.appendingPathComponent("cut.nef")
        try Data(try Data(contentsOf: sample.url).dropLast(3_000)).write(to: cut)
        let pool = DecodeWorkerPool(executable: binary, timeout: 60, files: 2)
        defer { pool.finish() }
        let declined = RawFile.LosslessTilesProbe()
        let got = Result { try RawFile.$nikonProbe.withValue(declined) { try pool.decode(path: cut.path, pixelLimit: RawFile.defaultPixelLimit) } }
        XCTAssertTrue(declined.declined, "a stream cut short should go back to LibRaw")
        assertSameOutcome(got, asLibRaw: Result { try RawFile.readWithLibRawUnpack(path: cut.path) })
        let whole = try pool.decode(path: sample.url.path, pixelLimit: RawFile.defaultPixelLimit)
        XCTAssertTrue(whole.samples == (try RawFile.read(path: sample.url.path)).samples)
        XCTAssertEqual(pool.started, (try? got.get()) == nil ? 2 : 1)
        // A run of one file: its request says it is the last (`IsolatedDecoding.request`), and
        // the worker still serves the unpack request that follows.
        let single = DecodeWorkerPool(executable: binary, timeout: 60, files: 1)
        defer { single.finish() }
        assertSameOutcome(Result { try single.decode(path: cut.path, pixelLimit: RawFile.defaultPixelLimit) },
                          asLibRaw: Result { try RawFile.readWithLibRawUnpack(path: cut.path) })
        XCTAssertEqual(single.started, 1)
    }
}

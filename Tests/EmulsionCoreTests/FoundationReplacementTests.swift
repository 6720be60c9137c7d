import Foundation
import XCTest
@testable import EmulsionCore

/// The product imports only FoundationEssentials; what it used from the rest of Foundation is
/// replaced by `Support/` (`CFormat`, `trimmingWhitespace`, `padded(toLength:)`, `ThreadLock`,
/// `ThreadCondition`, `DetachedThread`). The tests import all of Foundation and hold each
/// replacement to the Foundation call it replaced, on the inputs the product gives it and on
/// edge cases: exact text equality, no tolerance (these texts are printed and compared by tests
/// and golden reports).
final class FoundationReplacementTests: XCTestCase {
    /// Every numeric conversion the product formats (`%d`, `%2d`, `%.Nf`, `%+.Nf`, `%W.Nf`, `%%`),
    /// on ordinary values, halfway cases, negatives, −0, large values and non-finite ones.
    func testCFormatMatchesStringFormat() {
        let values: [Double] = [0, -0.0, 1, -1, 0.5, 1.5, 2.5, 0.125, 0.0005, 1e-9, 3.14159265, -2.71828, 1234.5678,
                                99.995, 1e15, 6.02e23, .infinity, -.infinity, .nan, Double.leastNonzeroMagnitude]
        for format in ["%.0f", "%.1f", "%.2f", "%.3f", "%.4f", "%.6f", "%+.1f", "%+.2f", "%6.2f", "%6.3f", "%5.0f", "%4.1f",
                       "%7.0f", "x %.2f× (%.1f%%)"] {
            for v in values {
                XCTAssertEqual(CFormat.string(format, v), String(format: format, v), "\(format) \(v)")
            }
        }
        for format in ["%d", "%2d", "%4d", "zlib %d, %d thread"] {
            for n in [0, 1, -1, 7, 42, 4096, 2_147_483_647, -2_147_483_648] {
                XCTAssertEqual(CFormat.string(format, n, n), String(format: format, n, n), "\(format) \(n)")
            }
        }
        XCTAssertEqual(CFormat.string("%d×%d = %.1f MP, %.3f s", 6000, 4000, 24.0, 0.1234),
                       String(format: "%d×%d = %.1f MP, %.3f s", 6000, 4000, 24.0, 0.1234))
        // Longer than the first buffer (256 bytes): the second pass.
        let long = String(repeating: "a", count: 300) + " %.2f"
        XCTAssertEqual(CFormat.string(long, 1.0), String(format: long, 1.0))
        XCTAssertEqual(CFormat.string("%.2f", Float(0.1)), String(format: "%.2f", Float(0.1)))
    }

    /// Against `trimmingCharacters(in: .whitespaces)` and `.whitespacesAndNewlines`, on the
    /// samples and on every Unicode scalar alone after a letter.
    func testTrimmingMatchesCharacterSets() {
        for v in 0..<0x11_0000 {
            guard let u = Unicode.Scalar(v) else { continue }
            let s = "x" + String(Character(u))
            XCTAssertEqual(s.trimmingWhitespace(), s.trimmingCharacters(in: .whitespaces), "U+\(String(v, radix: 16))")
            XCTAssertEqual(s.trimmingWhitespace(newlines: true), s.trimmingCharacters(in: .whitespacesAndNewlines), "U+\(String(v, radix: 16))")
        }
        let samples = ["", " ", "\t", "  a  ", "\ta b\t", " Canon EOS 6D ", "\u{00A0}x\u{00A0}", "\u{2003}em\u{3000}",
                       "a\n", "\na\r\n", "\r\n", "x\u{2028}", "\u{0085}y", " \u{000B}z\u{000C} ", "é ", " ün", "a  b",
                       "  # comment", "\"title\"", "\u{200B}zero-width\u{200B}", "\u{180E}mongolian\u{180E}", "\u{FEFF}bom"]
        for s in samples {
            XCTAssertEqual(s.trimmingWhitespace(), s.trimmingCharacters(in: .whitespaces), s.debugDescription)
            XCTAssertEqual(s.trimmingWhitespace(newlines: true), s.trimmingCharacters(in: .whitespacesAndNewlines), s.debugDescription)
            let sub = s[...]
            XCTAssertEqual(sub.trimmingWhitespace(), sub.trimmingCharacters(in: .whitespaces), s.debugDescription)
        }
        XCTAssertEqual("\"quoted\"".trimming { $0 == "\"" }, "\"quoted\"".trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        XCTAssertEqual("\"\"".trimming { $0 == "\"" }, "")
    }

    /// Against `padding(toLength:withPad:" ",startingAt:0)`, which counts UTF-16 units and cuts.
    func testPaddingMatchesNSString() {
        for s in ["", "a", "neutral", "leica-vibrant", "hasselblad-natural-extra-long", "é", "ΔE00", "😀x"] {
            for n in [0, 1, 5, 11, 15, 22, 28] {
                XCTAssertEqual(s.padded(toLength: n), s.padding(toLength: n, withPad: " ", startingAt: 0), "\(s) \(n)")
            }
        }
    }

    /// Two threads increment a counter under the lock; a waiter sleeps on the condition until a
    /// detached thread sets the flag and signals. A lock that did not exclude would lose increments
    /// (1 000 000 of them, unguarded, lose many on two cores); a broken wait would hang (the test
    /// then fails on its timeout).
    func testLockConditionAndThread() {
        let lock = ThreadLock()
        nonisolated(unsafe) var count = 0
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            for _ in 0..<500_000 { lock.withLock { count += 1 } }
        }
        XCTAssertEqual(count, 1_000_000)

        let condition = ThreadCondition()
        nonisolated(unsafe) var ready = false
        let done = expectation(description: "woken")
        DispatchQueue.global().async {
            condition.lock()
            while !ready { condition.wait() }
            condition.unlock()
            done.fulfill()
        }
        XCTAssertTrue(DetachedThread.start {
            usleep(20_000)
            condition.lock(); ready = true; condition.signal(); condition.unlock()
        })
        wait(for: [done], timeout: 30)
    }

    /// `AvailableProcessors` against `ProcessInfo.activeProcessorCount` (FoundationEssentials'
    /// reading of the affinity and the cgroup quota) on the machine the tests run on, and its
    /// pieces on texts the kernel writes. Tolerance: none (a count).
    func testAvailableProcessorsMatchProcessInfo() {
        XCTAssertEqual(AvailableProcessors.count(), ProcessInfo.processInfo.activeProcessorCount)
        XCTAssertEqual(Executor.defaultThreads, ProcessInfo.processInfo.activeProcessorCount)
        #if os(Linux)
        func allowed(_ text: String) -> Int? { AvailableProcessors.allowedCount(status: Array(text.utf8)) }
        // The mask line, not `Cpus_allowed_list`; 32-bit words separated by commas.
        XCTAssertEqual(allowed("Name:\tx\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n"), 2)
        XCTAssertEqual(allowed("Name:\tx\nCpus_allowed:\tff,00000003\n"), 10)
        XCTAssertEqual(allowed("Name:\tx\nCpus_allowed:\tFFFFFFFF,FFFFFFFF\n"), 64)
        XCTAssertNil(allowed("Name:\tx\nCpus_allowed_list:\t0-1\n"))
        XCTAssertNil(allowed("Name:\tx\nCpus_allowed:\t0\n"))
        XCTAssertNil(allowed(""))
        // A quota of 1.5 processors is 2; none (-1) or a period of 0 is no quota.
        XCTAssertEqual(AvailableProcessors.cores(quota: 150_000, period: 100_000), 2)
        XCTAssertEqual(AvailableProcessors.cores(quota: 100_000, period: 100_000), 1)
        XCTAssertEqual(AvailableProcessors.cores(quota: 1_000, period: 100_000), 1)
        XCTAssertNil(AvailableProcessors.cores(quota: -1, period: 100_000))
        XCTAssertNil(AvailableProcessors.cores(quota: 100_000, period: 0))
        // A status file written under a narrower affinity (`taskset -c 0`, util-linux) has one.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset") {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
            child.arguments = ["-c", "0", "cat", "/proc/self/status"]
            let pipe = Pipe()
            child.standardOutput = pipe
            XCTAssertNoThrow(try child.run())
            let status = pipe.fileHandleForReading.readDataToEndOfFile()
            child.waitUntilExit()
            XCTAssertEqual(AvailableProcessors.allowedCount(status: [UInt8](status)), 1)
        }
        #endif
    }
}

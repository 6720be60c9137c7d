#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How many processors this process may use: the CPUs its affinity mask allows, capped by a
/// cgroup CPU quota rounded up (cgroup v2 `cpu.max`, else v1 `cpu.cfs_quota_us` over
/// `cpu.cfs_period_us`), at least 1: what FoundationEssentials' `ProcessInfo.activeProcessorCount`
/// reads on Linux (a test holds the two equal where the tests run), with a few system calls.
///
/// Why not `ProcessInfo`: its first use sets up the whole `ProcessInfo` (type lookups, the
/// environment) — ~0.3 ms of a 0.2 MP file's run, and `emulsion process` asks for this count
/// before it forks the decode worker, so that time delayed everything after it
/// (docs/PERFORMANCE.md, session 18). Elsewhere: `sysconf(_SC_NPROCESSORS_ONLN)`.
public enum AvailableProcessors {
    public static func count() -> Int {
        #if os(Linux)
        var cores = affinityCount() ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if let quota = quotaCores() { cores = min(cores, quota) }
        return max(1, cores)
        #else
        return max(1, Int(sysconf(_SC_NPROCESSORS_ONLN)))
        #endif
    }

    #if os(Linux)
    /// CPUs in this process's affinity mask: /proc/self/status's `Cpus_allowed`, comma-separated
    /// hexadecimal words (nil if it cannot be read). `sched_getaffinity` is not visible to Swift
    /// without `_GNU_SOURCE`.
    static func affinityCount() -> Int? {
        contents("/proc/self/status", limit: 1 << 16).flatMap(allowedCount)
    }

    /// The number of set bits in a status file's `Cpus_allowed:` mask.
    static func allowedCount(status: [UInt8]) -> Int? {
        let key = Array("\nCpus_allowed:".utf8)
        guard status.count >= key.count,
              let start = (0...(status.count - key.count)).first(where: { status[$0..<($0 + key.count)].elementsEqual(key) }) else {
            return nil
        }
        var count = 0
        for byte in status[(start + key.count)...] {
            if byte == UInt8(ascii: "\n") { break }
            if let digit = hexDigit(byte) { count += digit.nonzeroBitCount }
        }
        return count > 0 ? count : nil
    }

    private static func hexDigit(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A")) + 10
        default: return nil
        }
    }

    /// A cgroup CPU quota as whole processors, rounded up; nil where there is none.
    static func quotaCores() -> Int? {
        if let max = text("/sys/fs/cgroup/cpu.max") {
            // "max 100000" (no quota) or "QUOTA PERIOD".
            let fields = max.split(separator: " ")
            guard fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]) else { return nil }
            return cores(quota: quota, period: period)
        }
        guard let quota = text("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").flatMap({ Int($0) }),
              let period = text("/sys/fs/cgroup/cpu/cpu.cfs_period_us").flatMap({ Int($0) }) else { return nil }
        return cores(quota: quota, period: period)
    }

    static func cores(quota: Int, period: Int) -> Int? {
        guard quota > 0, period > 0 else { return nil }
        return (quota + period - 1) / period
    }

    /// A small text file's first line, without its line end (nil if it cannot be read).
    private static func text(_ path: String) -> String? {
        contents(path, limit: 128).map { String(decoding: $0.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self) }
    }

    /// A file's first `limit` bytes at most (nil if it cannot be opened or gives none).
    private static func contents(_ path: String, limit: Int) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(limit, 4096))
        while bytes.count < limit {
            let n = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, min($0.count, limit - bytes.count)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += chunk[..<n]
        }
        return bytes.isEmpty ? nil : bytes
    }
    #endif
}

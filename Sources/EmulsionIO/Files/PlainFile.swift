#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The two file operations the product took from Foundation's `FileHandle`, on POSIX calls:
/// FoundationEssentials has no `FileHandle`, and importing all of Foundation for it links
/// CoreFoundation and ICU into every process (see `CFormat`).
public enum PlainFile {
    /// The running binary's path (Linux: the target of /proc/self/exe, read with `readlink`), or
    /// nil. `process` asks before it forks its first worker, where `FileManager` cost ~0.15 ms.
    public static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0, length < buffer.count - 1 else { return nil }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Up to `count` bytes from the start of `path`; fewer at the end of the file, none when it
    /// cannot be opened or read (callers have checked it is a regular, readable file).
    public static func prefix(of path: String, count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return [] }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, count - filled) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            filled += n
        }
        return Array(bytes.prefix(filled))
    }

    /// Writes all of `bytes` to `descriptor`, through short writes and interruptions. False when
    /// a write fails (the reader has gone: a closed pipe with SIGPIPE ignored, a full disk).
    @discardableResult
    public static func write(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) -> Bool {
        guard var next = bytes.baseAddress else { return true }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(descriptor, next, left)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            next += n
            left -= n
        }
        return true
    }

    /// A file operation's error as one plain line: the POSIX reason ("Permission denied") where
    /// FileManager or `Data.write` wrapped one in a `CocoaError` (whose own text is a dump or
    /// "NSCocoaErrorDomain error 512"), the error's description otherwise.
    public static func reason(for error: any Error) -> String {
        if let posix = (error as? CocoaError)?.underlying as? POSIXError ?? error as? POSIXError {
            return String(cString: strerror(posix.code.rawValue))
        }
        return "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// `write(_:to:)` for an array's bytes.
    @discardableResult
    public static func write(_ bytes: [UInt8], to descriptor: Int32) -> Bool {
        bytes.withUnsafeBytes { write($0, to: descriptor) }
    }
}

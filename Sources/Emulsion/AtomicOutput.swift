#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import EmulsionCore
import EmulsionIO
#if canImport(Glibc)
import Glibc
#endif

/// Writes output files so that a reader never sees a partial one: bytes go to a temporary file
/// beside the target, are flushed to disk, and only then take the target's name (rename, or a
/// hard link when overwriting is not allowed, which fails atomically if the target appeared
/// meanwhile). Temporaries in flight are recorded so an interrupt can remove them.
public enum AtomicOutput {
    public static func write(_ bytes: [UInt8], to path: String, overwrite: Bool) throws {
        try write(to: path, overwrite: overwrite) { emit in try bytes.withUnsafeBytes { try emit($0) } }
    }

    /// Writes files that belong together (a shader and its tables, a LUT and its codes). Without
    /// `overwrite`, one that already exists refuses the whole set before any is written, so a
    /// refusal never leaves half a set.
    public static func write(_ files: [(bytes: [UInt8], path: String)], overwrite: Bool) throws {
        if !overwrite, let existing = files.first(where: { FileManager.default.fileExists(atPath: $0.path) }) {
            throw OutputError(path: existing.path, problem: "already exists (use --overwrite to replace it)")
        }
        for file in files { try write(file.bytes, to: file.path, overwrite: overwrite) }
    }

    /// As `write(_:to:overwrite:)`, with the bytes produced piece by piece: `produce` calls its
    /// argument with each piece in order (a streaming encoder never holds the whole file).
    /// `syncTime`, when given, receives the seconds the closing fsync took.
    public static func write(to path: String, overwrite: Bool, syncTime: SyncTime? = nil,
                             produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        try write(to: path, overwrite: overwrite, syncTime: syncTime, backgroundFlush: { fdatasync($0) }) { emit, _ in
            try withoutActuallyEscaping(emit) { try produce($0) }
        }
    }

    /// As `write(to:overwrite:syncTime:produce:)`, where `produce` may also write bytes over what
    /// it emitted before (`patch`: at a file offset, within what is written), as a deflated TIFF's
    /// strip table is, once its strips are known. The patches land before the closing fsync.
    public static func write(to path: String, overwrite: Bool, syncTime: SyncTime? = nil,
                             producePatching produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void,
                                                       _ patch: (_ offset: Int, _ bytes: [UInt8]) throws -> Void) throws -> Void) throws {
        try write(to: path, overwrite: overwrite, syncTime: syncTime, backgroundFlush: { fdatasync($0) }, produce: produce)
    }

    /// Why what is at `path` may not be replaced by an output, or nil. Only a regular file (or a
    /// link, which the rename replaces, never its target) may be, and only with `overwrite`:
    /// renaming over a device or FIFO replaces the node itself (`--heat-map /dev/full
    /// --overwrite`, as root, put a PNG where /dev/full was), and over a folder it fails only after
    /// the work. `Processor` asks before decoding, so a refusal costs nothing.
    public static func problem(replacing path: String, overwrite: Bool) -> OutputError? {
        var existing = stat()
        guard lstat(path, &existing) == 0 else { return nil }
        if ![S_IFREG, S_IFLNK].contains(existing.st_mode & S_IFMT) {
            return OutputError(path: path, problem: existing.st_mode & S_IFMT == S_IFDIR
                               ? "is a folder, not a file" : "is not a regular file (a device, FIFO or socket); refusing to replace it")
        }
        if !overwrite, FileManager.default.fileExists(atPath: path) {
            return OutputError(path: path, problem: "already exists (use --overwrite to replace it)")
        }
        return nil
    }

    /// `backgroundFlush` is what `IncrementalSync` calls while the bytes are written (tests
    /// substitute a failing one).
    static func write(to path: String, overwrite: Bool, syncTime: SyncTime? = nil, backgroundFlush: @escaping IncrementalSync.Flush,
                      produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void,
                                _ patch: (_ offset: Int, _ bytes: [UInt8]) throws -> Void) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var info = stat()
        guard stat(directory, &info) == 0 else { throw OutputError(path: path, problem: "output folder \(directory) does not exist") }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw OutputError(path: path, problem: "\(directory) is not a folder") }
        guard access(directory, W_OK) == 0 else { throw OutputError(path: path, problem: "output folder \(directory) is not writable") }
        if let problem = problem(replacing: path, overwrite: overwrite) { throw problem }
        removeStaleTemporaries(for: url)
        let temporary = directory + "/" + temporaryPrefix(for: url) + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = InFlight.shared.create(temporary)
        guard fd >= 0 else { throw OutputError(path: path, problem: "cannot create a file in \(directory): \(errnoText())") }
        defer { InFlight.shared.remove(temporary) }
        var ok = false
        defer { if !ok { unlink(temporary) } }
        do {
            let incremental = IncrementalSync(fd: fd, flush: backgroundFlush)
            defer { try? incremental.finish() }
            var written = 0
            try produce({ buffer in
                guard PlainFile.write(buffer, to: fd) else { throw OutputError(path: path, problem: "write failed: \(errnoText())") }
                incremental.wrote(buffer.count)
                written += buffer.count
            }, { offset, bytes in
                precondition(offset >= 0 && offset + bytes.count <= written, "a patch lies within what was written")
                let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
                guard n == bytes.count else { throw OutputError(path: path, problem: "write failed: \(errnoText())") }
            })
            let syncStarted = DispatchTime.now()
            do { try incremental.finish() } catch let failure as IncrementalSync.Failure {
                throw OutputError(path: path, problem: "write failed: \(errnoText(failure.errno))")
            }
            guard fsync(fd) == 0 else { throw OutputError(path: path, problem: "write failed: \(errnoText())") }
            syncTime?.seconds = Double(DispatchTime.now().uptimeNanoseconds - syncStarted.uptimeNanoseconds) / 1e9
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw OutputError(path: path, problem: "write failed: \(errnoText())") }
        if overwrite {
            guard rename(temporary, path) == 0 else { throw OutputError(path: path, problem: "cannot rename into place: \(errnoText())") }
        } else {
            guard link(temporary, path) == 0 else {
                if errno == EEXIST { throw OutputError(path: path, problem: "already exists (use --overwrite to replace it)") }
                throw OutputError(path: path, problem: "cannot move into place: \(errnoText())")
            }
            unlink(temporary)
        }
        ok = true
    }

    /// How long the closing fsync took (the phase figures of `emulsion process --timings`).
    public final class SyncTime: @unchecked Sendable {
        public var seconds: Double = 0
        public init() {}
    }

    static func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    static func temporaryPrefix(for url: URL) -> String { "." + url.lastPathComponent + ".tmp-" }

    /// A process killed with SIGKILL cannot clean up; its temporaries (named with its pid) are
    /// removed by the next write of the same output once that pid no longer runs.
    ///
    /// Reading a folder costs in proportion to its size, whatever reads it (`readdir` in C: 1.9 ms
    /// for 5 000 names here), and a batch writes many outputs into one folder: so each folder is
    /// read once per process (`TemporaryNames`), and later writes look in what that read found.
    /// Temporaries left by a process killed after that read wait for the next run, as those of
    /// outputs this run does not write always did.
    static func removeStaleTemporaries(for url: URL) {
        let directory = url.deletingLastPathComponent().path
        let prefix = temporaryPrefix(for: url)
        for name in TemporaryNames.shared.take(in: directory, where: { $0.hasPrefix(prefix) }) {
            let rest = name.dropFirst(prefix.count)
            guard let pidText = rest.split(separator: "-").first, let pid = Int32(pidText), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(directory + "/" + name) }
        }
    }

    /// The names in each folder that may be temporaries of `AtomicOutput` (a dot, then ".tmp-"),
    /// as the first read of that folder by this process found them.
    final class TemporaryNames: @unchecked Sendable {
        static let shared = TemporaryNames()
        private let lock = ThreadLock()
        private var folders: [String: [String]] = [:]

        /// Removes from the folder's names those matching `belongs` and returns them, reading the
        /// folder first if this process has not.
        func take(in directory: String, where belongs: (String) -> Bool) -> [String] {
            lock.lock()
            defer { lock.unlock() }
            var names = folders[directory] ?? Self.read(directory)
            let taken = names.filter(belongs)
            names.removeAll(where: belongs)
            folders[directory] = names
            return taken
        }

        /// Read with `readdir`, the first byte checked in place, so that only hidden names
        /// become Strings (`FileManager` made one of every name: ~0.45 µs each on top).
        static func read(_ directory: String) -> [String] {
            guard let folder = opendir(directory) else { return [] }
            defer { closedir(folder) }
            var names: [String] = []
            while let entry = readdir(folder) {
                let name: String? = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
                    guard raw.first == UInt8(ascii: ".") else { return nil }
                    let length = strnlen(raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
                    return String(decoding: UnsafeRawBufferPointer(rebasing: raw[..<length]), as: UTF8.self)
                }
                if let name, name.firstRange(of: ".tmp-") != nil { names.append(name) }
            }
            return names
        }
    }

    /// Temporary files being written, so a signal handler can delete them before the process ends.
    public final class InFlight: @unchecked Sendable {
        public static let shared = InFlight()
        private let lock = ThreadLock()
        private var paths = Set<String>()
        /// Creates `p` (exclusively) and registers it in one step under the lock, so an interrupt
        /// finds either no file or a registered one, never an unregistered file it would leave.
        func create(_ p: String) -> Int32 {
            lock.lock()
            let fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            let error = errno
            if fd >= 0 { paths.insert(p) }
            lock.unlock()
            errno = error
            return fd
        }
        func remove(_ p: String) { lock.lock(); paths.remove(p); lock.unlock() }
        /// Deletes every temporary in flight, for a process about to exit (SIGINT/SIGTERM). The
        /// lock stays held: a writer that would start another temporary waits until the exit.
        public func removeAllBeforeExit() {
            lock.lock()
            for p in paths { unlink(p) }
            paths.removeAll()
        }
    }
}

public struct OutputError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let problem: String
    public init(path: String, problem: String) { self.path = path; self.problem = problem }
    public var description: String { "\(path): \(problem)" }
}

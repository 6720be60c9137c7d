import EmulsionCore
import EmulsionIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The LUT files a process has read (`.cube` or Hald CLUT `.png`), kept while unchanged on disk.
///
/// Why: a look's LUT was read once by `LookPlan.checkFiles` before a batch and again for every
/// file's render: a 65³ `.cube` (7 MB of text) cost ~0.1 s each time even with the byte-level
/// reader, so a batch of thousands paid it thousands of times. A file is read again when its
/// size, modification time or inode changes, so an author re-exporting the LUT between two
/// runs of a long-lived process (a golden suite, a preview) sees the new one. At most four are
/// kept: a 256³ LUT is 200 MB of floats.
final class LUTFileCache: @unchecked Sendable {
    static let shared = LUTFileCache()
    static let capacity = 4

    private struct Stamp: Equatable {
        var device: UInt64, inode: UInt64, size: Int64, seconds: Int, nanoseconds: Int
    }

    private let lock = ThreadLock()
    private var entries: [(path: String, stamp: Stamp, lut: LUT3D)] = []

    /// The LUT at `path`, read by `read` unless the same file (by stamp) was read before.
    func lut(at path: String, read: () throws -> LUT3D) throws -> LUT3D {
        var info = stat()
        guard stat(path, &info) == 0 else { return try read() }  // the reader names the problem
        let stamp = Stamp(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                          seconds: info.st_mtim.tv_sec, nanoseconds: info.st_mtim.tv_nsec)
        lock.lock()
        if let hit = entries.first(where: { $0.path == path && $0.stamp == stamp }) {
            lock.unlock()
            return hit.lut
        }
        lock.unlock()
        let lut = try read()
        lock.lock()
        entries.removeAll { $0.path == path }
        entries.append((path, stamp, lut))
        if entries.count > Self.capacity { entries.removeFirst() }
        lock.unlock()
        return lut
    }
}

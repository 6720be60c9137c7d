#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Random access to the bytes of a TIFF/DNG for Emulsion's own tag readers.
///
/// Why not the whole file in an array: a raw's directories and tag values are a few kilobytes,
/// its samples tens of megabytes. Reading a 24 MP DNG whole (and copying it once more into an
/// array) cost ~25 ms and 48 MB per decode; `FileBytes` reads only the 64 KiB pages a reader
/// touches. Out-of-range reads are the caller's to avoid (`count` bounds every offset), as with
/// an array.
protocol ByteSource {
    var count: Int { get }
    subscript(_ offset: Int) -> UInt8 { get }
    /// `count` bytes from `offset` (within bounds).
    func bytes(_ offset: Int, _ count: Int) -> [UInt8]
    /// `buffer.count` bytes from `offset` (within bounds) into `buffer`, as `bytes` gives them,
    /// without an array in between. Safe to call from several threads at once.
    func copyBytes(_ offset: Int, into buffer: UnsafeMutableRawBufferPointer)
}

extension ByteSource {
    /// `bytes` through `copyBytes` (sources without an array of their own to slice).
    func bytes(_ offset: Int, _ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialised in
            copyBytes(offset, into: UnsafeMutableRawBufferPointer(buffer))
            initialised = count
        }
    }
}

extension Array: ByteSource where Element == UInt8 {
    func bytes(_ offset: Int, _ count: Int) -> [UInt8] { Array(self[offset..<(offset + count)]) }
    func copyBytes(_ offset: Int, into buffer: UnsafeMutableRawBufferPointer) {
        withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + buffer.count)])) }
    }
}

/// A file read on demand in 64 KiB pages through `pread`: never mapped, so a file that shrinks
/// while it is read gives zero bytes (and then a malformed directory), never SIGBUS.
final class FileBytes: ByteSource {
    let count: Int
    private let fd: Int32
    private var pages: [Int: [UInt8]] = [:]
    private var lastIndex = -1
    private var lastPage: [UInt8] = []
    private static let pageShift = 16

    /// Opens `path` read-only; nil when it cannot be opened or is not a regular file.
    init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { close(fd); return nil }
        self.fd = fd
        count = Int(status.st_size)
    }

    deinit { close(fd) }

    subscript(_ offset: Int) -> UInt8 {
        let index = offset >> Self.pageShift
        if index != lastIndex { lastPage = page(index); lastIndex = index }
        let i = offset & ((1 << Self.pageShift) - 1)
        return i < lastPage.count ? lastPage[i] : 0
    }

    /// Bytes a short read could not supply (the file shrank while it was read) are zero.
    func copyBytes(_ offset: Int, into buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        var done = 0
        while done < buffer.count {
            let n = pread(fd, base + done, buffer.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            done += n
        }
        if done < buffer.count { (base + done).initializeMemory(as: UInt8.self, repeating: 0, count: buffer.count - done) }
    }

    private func page(_ index: Int) -> [UInt8] {
        if let p = pages[index] { return p }
        let start = index << Self.pageShift
        let p = bytes(start, max(0, min(1 << Self.pageShift, count - start)))
        pages[index] = p
        return p
    }
}

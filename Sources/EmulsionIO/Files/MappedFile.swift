#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file mapped privately into memory, for `libraw_open_buffer`.
///
/// Why: LibRaw's file stream opens a DNG through many small seeks and reads (the 0.2 MP Pixel
/// crop: ~570 `lseek` and ~160 `read` calls, 0.27 ms against 0.08 ms from a mapping, in a C
/// test on this machine). The mapping is private and writable (copy on write), so LibRaw could
/// not change the file even if it wrote into its buffer. A file cut while it is mapped raises
/// SIGBUS on the next read of a page past its new end: only the decode worker maps files, where
/// that ends the worker and its parent reports the file in one line (`DecodeWorkerPool`); in
/// process LibRaw reads through its file stream.
final class MappedFile {
    let base: UnsafeMutableRawPointer
    let count: Int

    /// Maps `path`; nil when it cannot be opened, is not a regular file, is empty, or the mapping fails.
    init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_size > 0 else { return nil }
        count = Int(status.st_size)
        guard let pointer = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), pointer != MAP_FAILED else { return nil }
        base = pointer
    }

    deinit { munmap(base, count) }
}

/// The mapping as a `ByteSource`, for Emulsion's own tag readers in the decode worker, which has
/// the file mapped for LibRaw already: each byte a plain load, where `FileBytes` reads pages
/// with `pread` and finds them in a dictionary (the Pixel crop's directories, opcodes and tile
/// table: docs/PERFORMANCE.md, session 18). Reads outside the file give zero bytes, as
/// `FileBytes` gives them.
extension MappedFile: ByteSource {
    subscript(_ offset: Int) -> UInt8 {
        offset >= 0 && offset < count ? base.load(fromByteOffset: offset, as: UInt8.self) : 0
    }

    func copyBytes(_ offset: Int, into buffer: UnsafeMutableRawBufferPointer) {
        guard let target = buffer.baseAddress, !buffer.isEmpty else { return }
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        let start = max(0, offset), end = min(count, offset + buffer.count)
        guard start < end else { return }
        (target + (start - offset)).copyMemory(from: base + start, byteCount: end - start)
    }
}

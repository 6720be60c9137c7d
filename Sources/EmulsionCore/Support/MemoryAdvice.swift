#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel to back a large, freshly allocated buffer with transparent huge pages where
/// the system allows it (Linux `madvise(MADV_HUGEPAGE)`, honoured when THP is "madvise" or
/// "always"). The first write to each 4 KiB page of a new buffer is a page fault; for a 24 MP
/// 16-bit output (144 MB) that is 35 000 faults, a measurable share of the render
/// (docs/PERFORMANCE.md). With 2 MiB pages it is ~70. Purely advisory: nothing changes if refused.
/// Used for the render's output and the LJ92 tiles' decoded samples.
public enum MemoryAdvice {
    public static func preferHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
        guard let base = buffer.baseAddress, buffer.count >= 4 << 20 else { return }
        let page = 4096
        let start = (Int(bitPattern: base) + page - 1) / page * page
        let end = (Int(bitPattern: base) + buffer.count) / page * page
        guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(pointer, end - start, MADV_HUGEPAGE)
        #endif
    }
}

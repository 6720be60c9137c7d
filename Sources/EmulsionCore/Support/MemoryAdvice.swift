#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel to back a large, freshly allocated buffer with transparent huge pages where
/// the system allows it (Linux `madvise(MADV_HUGEPAGE)`, honoured when THP is "madvise" or
/// "always"). The first write to each 4 KiB page of a new buffer is a page fault; for a 24 MP
/// 16-bit output (144 MB) that is 35 000 faults, a measurable share of the render
/// (docs/PERFORMANCE.md). With 2 MiB pages it is ~70. Purely advisory: nothing changes if refused.
/// Used for the render's output and the LJ92 tiles' decoded samples. `populate` maps a buffer's
/// pages in one call instead (the transposed raw: there huge pages measured slower, 10 → 24 ms,
/// and populating faster, 8–13 → 7–9 ms at 12 MP).
public enum MemoryAdvice {
    public static func preferHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
        guard buffer.count >= 4 << 20, let (pointer, count) = wholePages(buffer) else { return }
        _ = madvise(pointer, count, MADV_HUGEPAGE)
        #endif
    }

    /// Maps the pages of a freshly allocated buffer before it is written (Linux 5.14
    /// `MADV_POPULATE_WRITE`): one call instead of a page fault per 4 KiB page on first write.
    public static func populate(_ buffer: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
        guard buffer.count >= 1 << 20, let (pointer, count) = wholePages(buffer) else { return }
        _ = madvise(pointer, count, 23)  // MADV_POPULATE_WRITE; older kernels refuse it (EINVAL), harmlessly
        #endif
    }

    /// The whole 4 KiB pages inside `buffer` (madvise takes page-aligned ranges).
    private static func wholePages(_ buffer: UnsafeMutableRawBufferPointer) -> (UnsafeMutableRawPointer, Int)? {
        guard let base = buffer.baseAddress else { return nil }
        let page = 4096
        let start = (Int(bitPattern: base) + page - 1) / page * page
        let end = (Int(bitPattern: base) + buffer.count) / page * page
        guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return nil }
        return (pointer, end - start)
    }
}

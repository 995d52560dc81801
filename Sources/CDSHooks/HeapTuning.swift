#if canImport(Glibc)
import Glibc
#endif

/// Keeps the memory a hook call frees in the process for the next call. A patient-view's
/// explanation works in arrays of a few hundred kilobytes; glibc serves those with fresh
/// `mmap`s and gives them back at once (and trims its heaps with `madvise`), so every call
/// page-faulted its working memory in again, zeroed by the kernel: a sixth of the call's CPU,
/// measured. With fixed thresholds the freed blocks stay in malloc's heap. The cost is that the
/// process keeps its peak heap (tens of megabytes) instead of returning it between calls.
enum HeapTuning {
    /// Largest allocation still served from the heap (glibc's own ceiling for this setting).
    static let mmapThreshold: Int32 = 32 << 20
    /// Free memory at the top of a heap kept before any is returned.
    static let trimThreshold: Int32 = 512 << 20

    /// glibc's `mallopt` parameters (`<malloc.h>`, which Swift's Glibc module does not import).
    static let M_TRIM_THRESHOLD: Int32 = -1, M_MMAP_THRESHOLD: Int32 = -3

    /// Once per process, before serving; nothing where the C library has no `mallopt`.
    static func keepFreedMemory() {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(M_MMAP_THRESHOLD, mmapThreshold)
        _ = mallopt(M_TRIM_THRESHOLD, trimThreshold)
        #endif
    }
}

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps glibc's allocator from holding on to memory the server has freed.
///
/// Streaming allocates and frees the same few buffer sizes over and over, on many threads. By default glibc gives
/// each thread its own arena (up to 8 per core) and raises its mmap threshold as large blocks are freed, so freed
/// buffers pile up in arenas and resident memory creeps up under concurrent load. Two arenas and a fixed
/// threshold keep a 2 GiB transfer at the same footprint as a small one.
public enum MemoryTuning {
    /// Applies the allocator settings; call once, before the server starts.
    public static func apply() {
        #if canImport(Glibc)
            // mallopt is declared in <malloc.h>, which the Glibc module does not export; look it up instead.
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
            let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
            let arenaMax: Int32 = -8, mmapThreshold: Int32 = -3, trimThreshold: Int32 = -1  // <malloc.h> values
            _ = mallopt(arenaMax, 2)
            _ = mallopt(mmapThreshold, 1 << 20)
            _ = mallopt(trimThreshold, 4 << 20)
        #endif
    }
}

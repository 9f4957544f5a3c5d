#if canImport(Glibc)
    import Glibc
#endif

/// Starts the kernel writing a file range to disk without waiting (Linux `sync_file_range`), so that the fsync at
/// the end of an upload finds little left to flush: the disk works while the rest of the body arrives.
enum Writeback {
    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32

    /// `sync_file_range` is not exported by the Glibc module; looked up once. Nil where it does not exist.
    private static let syncFileRange: SyncFileRange? = {
        #if canImport(Glibc)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
            return unsafeBitCast(symbol, to: SyncFileRange.self)
        #else
            return nil
        #endif
    }()

    /// Asks for `length` bytes at `offset` to be written back now; durability still comes from fsync.
    static func start(descriptor: Int32, offset: Int64, length: Int64) {
        let writeFlag: UInt32 = 2  // SYNC_FILE_RANGE_WRITE
        _ = syncFileRange?(descriptor, offset, length, writeFlag)
    }
}

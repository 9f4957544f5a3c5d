#if canImport(Glibc)
    import Glibc
#endif

/// The glibc file actions (2.29 and 2.34) that its headers declare only for `_GNU_SOURCE`, which the Swift
/// overlay does not define, looked up once by name.
enum SpawnFileActions {
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias ChangeDirectory =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    /// `posix_spawn_file_actions_addclosefrom_np`: closes every descriptor from the one given up in the child.
    static let closeFrom: (@Sendable (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        let function = unsafeBitCast(symbol, to: CloseFrom.self)
        return { function($0, $1) }
    }()

    /// `posix_spawn_file_actions_addchdir_np`: changes the child's directory before it execs.
    static let changeDirectory: (@Sendable (UnsafeMutablePointer<posix_spawn_file_actions_t>, String) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else { return nil }
        let function = unsafeBitCast(symbol, to: ChangeDirectory.self)
        return { function($0, $1) }
    }()
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A process started with `posix_spawn`, every signal at its default and none blocked.
///
/// Foundation's `Process` passes on the signal mask of the thread that starts it, and threads of the cooperative
/// pool block most signals: `openssl speed` then never sees its SIGALRM and runs forever, and a server never
/// sees SIGTERM. Spawning with an explicit empty mask and default dispositions avoids both.
final class SpawnedProcess: @unchecked Sendable {  // `status` is guarded by `lock`; the rest is immutable
    let pid: pid_t
    private let lock = NSLock()
    private var status: Int32?

    /// Starts `path` with `arguments` (argv[0] included); stdin is /dev/null, stdout and stderr go to the
    /// given descriptors.
    init(path: String, arguments: [String], environment: [String: String], stdout: Int32, stderr: Int32) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in Int32(1)..<32 where signal != SIGKILL && signal != SIGSTOP { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard result == 0 else { throw BenchError("cannot start \(path): \(String(cString: strerror(result)))") }
        self.pid = pid
        let child = pid
        // One thread per child blocks in waitpid, so the exit is noticed without polling the kernel.
        Thread { [self] in
            var raw: Int32 = 0
            while waitpid(child, &raw, 0) < 0, errno == EINTR {}
            let code = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            lock.withLock { status = code }
        }.start()
    }

    /// The exit status (128 + N when killed by signal N), or nil while it runs.
    var exitStatus: Int32? { lock.withLock { status } }
    var isRunning: Bool { exitStatus == nil }

    /// Waits for the exit without blocking a thread of the cooperative pool for long.
    func waitForExit() async -> Int32 {
        while true {
            if let exitStatus { return exitStatus }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with `posix_spawn`, every signal at its default and none blocked: the one way Cairn
/// starts a process (the build's shell, git, the servers and tools of the benchmark, the clients of the tests).
///
/// Foundation's `Process` passes on the signal mask of the thread that starts it, and threads of the cooperative
/// pool block most signals: `openssl speed` then never sees its SIGALRM and runs forever, and a server never
/// sees SIGTERM. Spawning with an explicit empty mask and default dispositions avoids both (and a child does not
/// inherit the SIGPIPE a server ignores). The child keeps no descriptor of the parent's but its three standard
/// streams, so a pipe meant for one child never keeps another alive or a reader waiting for its end of file.
///
/// One thread per child blocks in `waitpid`, so the exit is noticed without polling the kernel. Wait with
/// ``waitForExit()`` from async code and ``waitUntilExit()`` from a thread that may block.
public final class SpawnedProcess: @unchecked Sendable {  // `outcome` and `waiters` are guarded by `condition`
    /// The child's process id (also its process group's, when started with `newProcessGroup`).
    public let pid: pid_t
    private let condition = NSCondition()
    private var outcome: Termination?
    private var waiters: [CheckedContinuation<Termination, Never>] = []

    /// Starts `executable` (a path, not looked up in `PATH`) with `arguments`; argv[0] is `executable`.
    ///
    /// - Parameters:
    ///   - environment: exactly the child's environment; nil passes on this process's own.
    ///   - workingDirectory: where the child starts; nil for this process's current directory.
    ///   - newProcessGroup: makes the child the leader of a new process group, so a signal can reach it and
    ///     everything it starts (`kill(-pid, …)`) and a Ctrl-C in the terminal reaches only this process.
    /// - Throws: ``SpawnError`` when the child cannot start (no such file, not executable, no such directory).
    public init(
        executable: String, arguments: [String] = [], environment: [String: String]? = nil,
        workingDirectory: String? = nil, standardInput: Stream = .inherit, standardOutput: Stream = .inherit,
        standardError: Stream = .inherit, newProcessGroup: Bool = false
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (stream, target) in [(standardInput, Int32(0)), (standardOutput, 1), (standardError, 2)] {
            switch stream {
            case .inherit: break
            case .null:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .descriptor(let descriptor): posix_spawn_file_actions_adddup2(&actions, descriptor, target)
            }
        }
        _ = SpawnFileActions.closeFrom?(&actions, 3)
        if let workingDirectory {
            guard let changeDirectory = SpawnFileActions.changeDirectory else {
                throw SpawnError(executable: executable, code: ENOSYS)
            }
            _ = changeDirectory(&actions, workingDirectory)
        }

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
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        var pid = pid_t()
        let result =
            if let envp {
                posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            } else {
                posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
            }
        guard result == 0 else { throw SpawnError(executable: executable, code: result) }
        self.pid = pid
        let child = pid
        Thread { [self] in
            var raw: Int32 = 0
            while waitpid(child, &raw, 0) < 0, errno == EINTR {}
            let termination: Termination = (raw & 0x7f) == 0 ? .exited((raw >> 8) & 0xff) : .signalled(raw & 0x7f)
            condition.lock()
            outcome = termination
            let resumed = waiters
            waiters = []
            condition.broadcast()
            condition.unlock()
            for waiter in resumed { waiter.resume(returning: termination) }
        }.start()
    }

    /// How the child ended, or nil while it runs.
    public var termination: Termination? {
        condition.lock()
        defer { condition.unlock() }
        return outcome
    }

    /// Whether the child has not ended yet.
    public var isRunning: Bool { termination == nil }

    /// Waits for the child to end without holding a thread.
    public func waitForExit() async -> Termination {
        await withCheckedContinuation { continuation in
            condition.lock()
            if let outcome {
                condition.unlock()
                continuation.resume(returning: outcome)
            } else {
                waiters.append(continuation)
                condition.unlock()
            }
        }
    }

    /// Blocks the calling thread until the child ends; not for a thread of the cooperative pool or an event loop
    /// unless the child is known to be ending.
    @discardableResult
    public func waitUntilExit() -> Termination {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let outcome { return outcome }
            condition.wait()
        }
    }

    /// Sends `signal` to the child, unless it has ended (its pid may then belong to another process already).
    public func send(_ signal: Int32) {
        condition.lock()
        defer { condition.unlock() }
        if outcome == nil { kill(pid, signal) }
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Stops a build from outside (Ctrl-C, SIGTERM): signals the shell's process group and makes the build stop.
///
/// The shell runs in a process group of its own, so a terminal's Ctrl-C reaches only `cairn`; without this, a
/// running command would outlive it. After ``interrupt(signal:)`` the current command fails, no further phase runs
/// and nothing more is stored.
public final class BuildInterruption: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var processGroups = Set<Int32>()
    private var signal: Int32?
    private var actions: [UUID: @Sendable (Int32) -> Void] = [:]

    public init() {}

    /// The signal that interrupted the build, if one did.
    public var interruptingSignal: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return signal
    }

    /// Forwards `signal` to every registered shell's process group and marks the build interrupted.
    public func interrupt(signal: Int32) {
        lock.lock()
        self.signal = signal
        let groups = processGroups
        let actions = Array(self.actions.values)
        lock.unlock()
        for group in groups {
            kill(-group, signal)
            kill(-group, SIGCONT)
        }
        for action in actions { action(signal) }
    }

    /// Runs `action` with the signal when the build is interrupted (with SIGKILL from ``killProcessGroups()``), until
    /// ``removeAction(_:)``: for commands that a process group does not reach (those in a container, which its engine
    /// runs).
    func addAction(_ action: @escaping @Sendable (Int32) -> Void) -> UUID {
        let id = UUID()
        lock.lock()
        actions[id] = action
        lock.unlock()
        return id
    }

    func removeAction(_ id: UUID) {
        lock.lock()
        actions[id] = nil
        lock.unlock()
    }

    /// Kills every registered shell's process group at once (SIGKILL), and runs the registered actions with
    /// SIGKILL, for a second Ctrl-C: `cairn` exits right after, and no command it started may go on writing into the
    /// workspace.
    public func killProcessGroups() {
        lock.lock()
        let groups = processGroups
        let actions = Array(self.actions.values)
        lock.unlock()
        for group in groups { kill(-group, SIGKILL) }
        for action in actions { action(SIGKILL) }
    }

    func register(processGroup: Int32) {
        lock.lock()
        processGroups.insert(processGroup)
        lock.unlock()
    }

    func unregister(processGroup: Int32) {
        lock.lock()
        processGroups.remove(processGroup)
        lock.unlock()
    }
}

extension BuildContainer {
    /// Sends `signal` to every process in the container but its keep-alive process 1: the build's shells and
    /// everything they started, as a Ctrl-C in a terminal reaches the whole foreground job.
    ///
    /// Signalling the `exec` client on the host does not do this: the engine leaves the shell it started in the
    /// container running (podman 4.3 does not forward signals of `exec`), and it would go on writing into the
    /// mounted workspace. ``remove()`` ends every process too.
    public func signalProcesses(_ signal: Int32) async throws {
        _ = try await engine.output(signalArguments(signal))
    }

    /// ``signalProcesses(_:)``, best effort and blocking the calling thread (about 0.2 s): for a signal handler's
    /// queue, where nothing can be awaited.
    public func signalProcessesBlocking(_ signal: Int32) {
        engine.runBlocking(signalArguments(signal))
    }

    /// A loop over `/proc` rather than `kill -1`, which shells parse differently (dash takes `-1` for an option,
    /// busybox refuses `--`).
    private func signalArguments(_ signal: Int32) -> [String] {
        let script = """
            for process in /proc/[0-9]*; do
                process=${process#/proc/}
                [ "$process" = 1 ] || [ "$process" = $$ ] || kill -\(signal) "$process" 2>/dev/null
            done
            true
            """
        return ["exec", name, "/bin/sh", "-c", script]
    }
}

import Foundation

/// Runs a phase's commands in a session the way CodeBuild does: `commands` up to the first failure, then every
/// `finally` command, and the whole again while `on-failure: RETRY` allows.
///
/// What the phase did to the files and the session is for the caller to capture; this only runs and logs.
struct PhaseExecutor: Sendable {
    /// What running a phase came to.
    struct Execution: Sendable {
        /// Every command succeeded (and the build was not interrupted).
        var succeeded: Bool
        /// Attempts made (more than 1 after `on-failure: RETRY`).
        var attempts: Int
        /// The output of every attempt, with the runner's lines, as the console showed it.
        var log: [UInt8]
    }

    let console: BuildConsole
    let interruption: BuildInterruption?

    /// Whether Ctrl-C or SIGTERM stopped the build.
    var interrupted: Bool { interruption?.interruptingSignal != nil }

    /// Runs `phase`, retrying as its `on-failure` says, streaming its output to the console.
    func run(_ phase: Phase, in session: any CommandSession) async throws -> Execution {
        let log = LogBuffer()
        let console = self.console
        let output: @Sendable ([UInt8]) -> Void = { bytes in
            console.raw(bytes)
            log.append(bytes)
        }
        var attempt = 0
        var succeeded = false
        while true {
            attempt += 1
            let attemptLog = LogBuffer()
            let attemptOutput: @Sendable ([UInt8]) -> Void = { bytes in
                output(bytes)
                attemptLog.append(bytes)
            }
            succeeded = try await runCommands(phase, session: session, output: attemptOutput)
            if succeeded { break }
            guard case .retry(let count, let pattern)? = phase.onFailure, attempt <= count, !interrupted else { break }
            let text = String(decoding: attemptLog.contents, as: UTF8.self)
            guard
                (try? NSRegularExpression(pattern: pattern))?.firstMatch(
                    in: text, range: NSRange(text.startIndex..., in: text)) != nil
            else {
                console.line("[cairn] not retrying \(phase.name.phaseType): its output does not match /\(pattern)/")
                break
            }
            console.line("[cairn] \(phase.name.phaseType) failed; retry \(attempt) of \(count)")
        }
        if interrupted { succeeded = false }
        return Execution(succeeded: succeeded, attempts: attempt, log: log.contents)
    }

    /// Runs `commands`, stopping at the first failure, then `finally`; true when every command succeeded.
    private func runCommands(
        _ phase: Phase, session: any CommandSession, output: @escaping @Sendable ([UInt8]) -> Void
    ) async throws -> Bool {
        // The runner's lines go into the phase's log too, so a restored phase replays them.
        let line: (String) -> Void = { output(Array(($0 + "\n").utf8)) }
        func run(_ command: Command) async throws -> Bool {
            line("[cairn] Running command \(command.text)")
            let status = try await session.run(command.text, output: output)
            if status != 0 {
                line("[cairn] Command did not exit successfully \(command.text) exit status \(status)")
            }
            return status == 0
        }
        var succeeded = true
        for command in phase.commands {
            if interrupted { return false }
            guard try await run(command) else {
                succeeded = false
                break
            }
        }
        for command in phase.finally {
            if interrupted { return false }
            if try await !run(command) { succeeded = false }
        }
        return succeeded
    }
}

import CairnRunner
import Foundation
import Testing

@Suite("One shell session for every command")
struct ShellSessionTests {
    func session(_ shell: String = "/bin/sh") throws -> ShellSession {
        try ShellSession(
            shell: shell, workingDirectory: FileManager.default.temporaryDirectory.path,
            environment: ["PATH": "/usr/bin:/bin", "HOME": "/tmp"]
        )
    }

    func run(_ session: ShellSession, _ command: String) async throws -> (Int32, String) {
        let buffer = Collected()
        let status = try await session.run(command) { buffer.append($0) }
        return (status, buffer.text)
    }

    @Test(arguments: ["/bin/sh", "bash"])
    func cdAndExportCarryOver(shell: String) async throws {
        let session = try session(shell)
        #expect(try await run(session, "cd /usr && export GREETING='hi there'").0 == 0)
        let (status, output) = try await run(session, "echo \"$GREETING from $(pwd)\"")
        #expect(status == 0)
        #expect(output == "hi there from /usr\n")
        let state = try await session.state()
        #expect(state.environment["GREETING"] == "hi there")
        #expect(state.workingDirectory == "/usr")
    }

    @Test(arguments: ["/bin/sh", "bash"])
    func unexportedVariablesCanBeReplayedInAnotherSession(shell: String) async throws {
        let first = try session(shell)
        let before = try await first.state()
        _ = try await run(first, "LABEL=\"two words\"; MULTI='line one\nline two'; export SHOWN=1")
        let after = try await first.state()
        #expect(after.environment["SHOWN"] == "1")
        #expect(after.variables["SHOWN"] == nil)
        let changed = after.variables.filter { before.variables[$0.key] != $0.value }
        #expect(Set(changed.keys) == ["LABEL", "MULTI"])

        let second = try session(shell)
        try await second.apply(set: [:], unset: [], workingDirectory: nil, assignments: Array(changed.values))
        #expect(try await run(second, "printf '%s|%s' \"$LABEL\" \"$MULTI\"").1 == "two words|line one\nline two")
    }

    @Test func exitStatusAndOutputWithoutNewline() async throws {
        let session = try session()
        let (status, output) = try await run(session, "printf partial; false")
        #expect(status == 1)
        #expect(output == "partial")
        #expect(try await run(session, "exit 7").0 == 7)
        // The shell that exited is replaced, with the exported state carried over.
        _ = try await run(session, "export KEPT=yes; cd /usr")
        #expect(try await run(session, "exit 3").0 == 3)
        #expect(try await run(session, "echo $KEPT $(pwd)").1 == "yes /usr\n")
    }

    @Test func syntaxErrorsFailTheCommandOnly() async throws {
        let session = try session()
        _ = try await run(session, "export BEFORE=1")
        let (status, _) = try await run(session, "if then fi")
        #expect(status != 0)
        #expect(try await run(session, "echo $BEFORE").1 == "1\n")
    }

    @Test func commandsCannotReadTheCommandsThatFollow() async throws {
        let session = try session()
        #expect(try await run(session, "cat").0 == 0)
        #expect(try await run(session, "echo still here").1 == "still here\n")
    }

    @Test func multiLineBlocksRunAsOneCommand() async throws {
        let session = try session()
        let (status, output) = try await run(session, "for x in a b; do\n  echo $x\ndone\nfalse\necho last\n")
        #expect(status == 0)  // only the last command's status counts, as in CodeBuild
        #expect(output == "a\nb\nlast\n")
    }
}

final class Collected: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    func append(_ chunk: [UInt8]) {
        lock.lock()
        bytes += chunk
        lock.unlock()
    }
    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

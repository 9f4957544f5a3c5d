import CairnCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("SpawnedProcess: how every child process starts")
struct SpawnedProcessTests {
    /// Runs `script` under /bin/sh and returns what it printed and how it ended.
    static func shell(
        _ script: String, workingDirectory: String? = nil, environment: [String: String]? = nil,
        newProcessGroup: Bool = false
    ) throws -> (output: String, termination: SpawnedProcess.Termination) {
        let output = Pipe()
        let process = try SpawnedProcess(
            executable: "/bin/sh", arguments: ["-c", script], environment: environment,
            workingDirectory: workingDirectory, standardInput: .null,
            standardOutput: .descriptor(output.fileHandleForWriting.fileDescriptor), standardError: .null,
            newProcessGroup: newProcessGroup
        )
        try output.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        return (String(decoding: data, as: UTF8.self), process.waitUntilExit())
    }

    @Test func exitStatusAndSignals() async throws {
        #expect(try Self.shell("exit 3").termination == .exited(3))
        let killed = try Self.shell("kill -TERM $$").termination
        #expect(killed == .signalled(SIGTERM))
        #expect(killed.status == 128 + SIGTERM)

        let sleeper = try SpawnedProcess(executable: "/bin/sleep", arguments: ["30"])
        #expect(sleeper.isRunning)
        sleeper.send(SIGKILL)
        #expect(await sleeper.waitForExit() == .signalled(SIGKILL))
        #expect(!sleeper.isRunning)
    }

    @Test func environmentDirectoryAndProcessGroup() throws {
        let directory = FileManager.default.temporaryDirectory.resolvingSymlinksInPath().path
        let result = try Self.shell(
            "echo \"$CAIRN_PROBE\"; pwd; ps -o pgid= -p $$ | tr -d ' '; echo $$", workingDirectory: directory,
            environment: ["CAIRN_PROBE": "probe", "PATH": "/usr/bin:/bin"], newProcessGroup: true
        )
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines.first == "probe")
        #expect(lines.dropFirst().first == directory)
        #expect(lines.dropFirst(2).first == lines.last, "the shell leads a process group of its own")
    }

    /// A child must see SIGTERM even when the thread that starts it blocks it, and no ignored signal carries over.
    @Test func childStartsWithNoBlockedSignalsAndDefaultDispositions() throws {
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        let ignored = signal(SIGPIPE, SIG_IGN)
        defer {
            signal(SIGPIPE, ignored)
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        let status = try Self.shell("grep -E '^Sig(Blk|Ign):' /proc/self/status").output
        var masks: [String: UInt64] = [:]
        for line in status.split(separator: "\n") {
            let fields = line.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            if fields.count == 2 { masks[fields[0]] = UInt64(fields[1], radix: 16) }
        }
        #expect(masks["SigBlk"] == 0, "\(status)")
        // Signals 1 to 31, the ones programs handle; glibc keeps some real-time signals for itself.
        #expect(masks["SigIgn"].map { $0 & 0x7fff_ffff } == 0, "\(status)")
    }

    @Test func childGetsOnlyItsStandardDescriptors() throws {
        let extra = Pipe()
        defer {
            try? extra.fileHandleForReading.close()
            try? extra.fileHandleForWriting.close()
        }
        let descriptors = try Self.shell("ls /proc/$$/fd").output.split(separator: "\n").map(String.init)
        #expect(descriptors == ["0", "1", "2"], "\(descriptors)")
    }

    @Test func missingProgramThrowsNamingIt() {
        #expect {
            _ = try SpawnedProcess(executable: "/nonexistent/cairn-no-such-program")
        } throws: { error in
            "\(error)".contains("cannot start /nonexistent/cairn-no-such-program")
        }
    }
}

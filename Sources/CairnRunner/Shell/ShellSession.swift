import CairnCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One long-lived shell process that runs every command of a build, so `cd` and `export` carry over.
///
/// Each command is written to a file and sourced with `command .` (a syntax error fails the command instead of
/// killing the shell), with standard input from `/dev/null` so a command cannot swallow the commands that follow.
/// After it, the shell prints a sentinel holding the exit status and saves `export -p` and the working directory:
/// if a command ends the shell (`exit 1`), a new shell starts from that saved state.
/// Blocking pipe reads run on a dedicated queue, never on the cooperative pool.
public final class ShellSession: @unchecked Sendable {  // used by one build task at a time, sequentially
    /// The shell program: `/bin/sh` or `bash`.
    public let shell: String
    private let stateDirectory: String
    private let token = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    private let queue = DispatchQueue(label: "cairn.shell")
    private var process: SpawnedProcess?
    private var input: FileHandle?
    private var outputDescriptor: Int32 = -1
    private var commandCount = 0
    private let initialDirectory: String
    private let initialEnvironment: [String: String]

    private let interruption: BuildInterruption?
    private let launcher: ShellLauncher

    /// The directory of the session's scratch files (commands, saved state). A launcher that starts the shell
    /// elsewhere must make it visible there at the same path.
    public var scratchDirectory: String { stateDirectory }

    /// Starts the shell in `workingDirectory` with exactly `environment`, through `launcher`.
    public init(
        shell: String, workingDirectory: String, environment: [String: String],
        interruption: BuildInterruption? = nil, launcher: ShellLauncher = .direct,
        scratchDirectory: String? = nil
    ) throws {
        self.interruption = interruption
        self.launcher = launcher
        self.shell = shell == "bash" ? "/bin/bash" : (shell == "sh" ? "/bin/sh" : shell)
        self.stateDirectory =
            scratchDirectory ?? FileManager.default.temporaryDirectory.path + "/cairn-shell-\(token)"
        self.initialDirectory = workingDirectory
        self.initialEnvironment = environment
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        if !launcher.passesEnvironment {
            // Owner-only: the build's variables include its secrets.
            let script = environment.sorted { $0.key < $1.key }.filter { Self.isName($0.key) }.map {
                "export \($0.key)=\(Self.quote($0.value))\n"
            }.joined()
            let descriptor = try createForWriting("\(stateDirectory)/initial-env.sh", mode: 0o600)
            defer { Glibc.close(descriptor) }
            try Array(script.utf8).withUnsafeBytes {
                try writeFully(descriptor, $0, path: "\(stateDirectory)/initial-env.sh")
            }
        }
        try start(restoring: false)
    }

    deinit {
        close()
        try? FileManager.default.removeItem(atPath: stateDirectory)
    }

    private func start(restoring: Bool) throws {
        let stdin = Pipe()
        let output = Pipe()
        // A process group of its own, so an interruption reaches the shell and everything it started.
        let command = launcher.command(shell, initialDirectory)
        let process = try SpawnedProcess(
            executable: command.arguments[0], arguments: Array(command.arguments.dropFirst()),
            environment: launcher.passesEnvironment ? initialEnvironment : nil, workingDirectory: command.directory,
            standardInput: .descriptor(stdin.fileHandleForReading.fileDescriptor),
            standardOutput: .descriptor(output.fileHandleForWriting.fileDescriptor),
            standardError: .descriptor(output.fileHandleForWriting.fileDescriptor), newProcessGroup: true
        )
        // The shell holds the other ends now: with ours closed, the reader sees the end of file when it exits.
        try? stdin.fileHandleForReading.close()
        try? output.fileHandleForWriting.close()
        self.process = process
        interruption?.register(processGroup: process.pid)
        self.input = stdin.fileHandleForWriting
        self.outputDescriptor = output.fileHandleForReading.fileDescriptor
        // Keep the read end alive through the Pipe object.
        self.outputPipe = output
        if !launcher.passesEnvironment {
            write("command . '\(stateDirectory)/initial-env.sh' >/dev/null 2>&1; cd \(Self.quote(initialDirectory))\n")
        }
        if restoring {
            // The previous shell ended (a command ran `exit`): carry its environment and directory over.
            write("command . '\(stateDirectory)/env.sh' >/dev/null 2>&1; cd \"$(cat '\(stateDirectory)/cwd')\"\n")
        }
    }

    private var outputPipe: Pipe?

    private func write(_ text: String) {
        try? input?.write(contentsOf: Data(text.utf8))
    }

    /// Ends the shell and whatever its commands left running in the background, so that nothing the build started
    /// writes into the workspace after the build.
    public func close() {
        guard let process else { return }
        try? input?.close()
        // While the shell runs, its pid is its process group's and cannot name another group.
        if process.isRunning { kill(-process.pid, SIGKILL) }
        process.waitUntilExit()
        interruption?.unregister(processGroup: process.pid)
        self.process = nil
    }

    /// Writes a command for the shell to source. Plain `write`, no `fsync`: the file lives only until the command
    /// has run (Foundation's `Data.write` syncs every file it writes, a disk flush per command).
    private static func writeCommandFile(_ path: String, _ command: String) throws {
        let descriptor = try createForWriting(path, mode: 0o600)
        defer { Glibc.close(descriptor) }
        try Array(command.utf8).withUnsafeBytes { try writeFully(descriptor, $0, path: path) }
    }

    /// Runs one command; `output` receives its standard output and error as they arrive. Returns the exit status.
    public func run(_ command: String, output: @escaping @Sendable ([UInt8]) -> Void) async throws -> Int32 {
        commandCount += 1
        let file = "\(stateDirectory)/command-\(commandCount).sh"
        try Self.writeCommandFile(file, command)
        defer { unlink(file) }
        let line =
            "{ command . '\(file)'; } </dev/null; __cairn_status=$?; export -p >'\(stateDirectory)/env.sh'; "
            + "pwd >'\(stateDirectory)/cwd'; printf '\\036cairn-\(token):%d\\036' \"$__cairn_status\"\n"
        return try await send(line, output: output)
    }

    /// Runs shell text without showing its output (the runner's own bookkeeping).
    @discardableResult
    func runQuietly(_ text: String) async throws -> Int32 {
        try await run(text) { _ in }
    }

    private func send(_ line: String, output: @escaping @Sendable ([UInt8]) -> Void) async throws -> Int32 {
        // After Ctrl-C nothing more runs; the command fails as if the signal had killed it.
        if let signal = interruption?.interruptingSignal { return 128 + signal }
        if process == nil || process?.isRunning == false { try start(restoring: true) }
        write(line)
        let descriptor = outputDescriptor
        let marker = Array("\u{1e}cairn-\(token):".utf8)
        let result: Int32? = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(
                    returning: Self.readUntilSentinel(descriptor: descriptor, marker: marker, output: output))
            }
        }
        if let result { return result }
        // End of output without a sentinel: the shell exited, and its status is the command's (a signal that
        // killed the shell counts as its number, not 128 + it).
        let status: Int32 =
            switch process?.waitUntilExit() {
            case .exited(let status): status
            case .signalled(let signal): signal
            case nil: 1
            }
        if let process { interruption?.unregister(processGroup: process.pid) }
        process = nil
        try start(restoring: true)
        return status == 0 ? 1 : status
    }

    /// Reads until `marker<status>\u{1e}`; nil at end of file.
    private static func readUntilSentinel(
        descriptor: Int32, marker: [UInt8], output: @Sendable ([UInt8]) -> Void
    ) -> Int32? {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                if !pending.isEmpty { output(pending) }
                return nil
            }
            if count == 0 {
                if !pending.isEmpty { output(pending) }
                return nil
            }
            pending.append(contentsOf: buffer[0..<count])
            if let start = firstIndex(of: marker, in: pending) {
                let afterMarker = start + marker.count
                if let end = pending[afterMarker...].firstIndex(of: 0x1e) {
                    if start > 0 { output(Array(pending[..<start])) }
                    let status = Int32(String(decoding: pending[afterMarker..<end], as: UTF8.self)) ?? 1
                    // Anything after the sentinel is output of a background job; keep showing it.
                    if end + 1 < pending.count { output(Array(pending[(end + 1)...])) }
                    return status
                }
                continue
            }
            // Hold back a tail that might be the start of the marker.
            let keep = min(pending.count, marker.count - 1)
            let emit = pending.count - keep
            if emit > 0 {
                output(Array(pending[..<emit]))
                pending.removeFirst(emit)
            }
        }
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0] && Array(haystack[index..<(index + needle.count)]) == needle {
                return index
            }
            index += 1
        }
        return nil
    }

    /// The shell's exported environment and working directory now.
    public func state() async throws -> ShellState {
        let file = "\(stateDirectory)/env0"
        try await runQuietly("env -0 >'\(file)'")
        let data = (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()
        var environment: [String: String] = [:]
        for entry in data.split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            guard let equals = text.firstIndex(of: "=") else { continue }
            environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        let cwd =
            (try? String(contentsOfFile: "\(stateDirectory)/cwd", encoding: .utf8))?
            .trimmingCharacters(in: .newlines) ?? initialDirectory
        // The runner's own variable and the shell's bookkeeping are not part of the build's environment.
        for name in ["_", "SHLVL", "PWD", "OLDPWD"] { environment[name] = nil }
        let variables = try await shellVariables().filter { environment[$0.key] == nil }
        return ShellState(environment: environment, workingDirectory: cwd, variables: variables)
    }

    /// Variables the shell keeps itself; never part of a phase's result.
    static let volatileVariables: Set<String> = [
        "_", "__cairn_status", "PPID", "PWD", "OLDPWD", "SHLVL", "LINENO", "RANDOM", "SRANDOM", "SECONDS", "OPTIND",
        "OPTARG", "PIPESTATUS", "BASHPID", "BASH_COMMAND", "BASH_LINENO", "BASH_SOURCE", "BASH_SUBSHELL",
        "BASH_ARGC", "BASH_ARGV", "BASH_ARGV0", "BASH_EXECUTION_STRING", "BASH_REMATCH", "FUNCNAME", "EPOCHREALTIME",
        "EPOCHSECONDS", "HISTCMD", "COLUMNS", "LINES", "BASHOPTS", "SHELLOPTS", "DIRSTACK", "GROUPS", "BASH_VERSINFO",
        "BASH_VERSION", "BASH_ALIASES", "BASH_CMDS", "COMP_WORDBREAKS", "HOSTNAME", "HOSTTYPE", "MACHTYPE", "OSTYPE",
        "UID", "EUID", "PS1", "PS2", "PS4", "IFS", "MAILCHECK", "HISTFILE", "HISTFILESIZE", "HISTSIZE", "TERM",
        "BASH", "BASH_LOADABLES_PATH",
    ]

    /// Shell variables by name, each as the assignment `set` prints (so it can be replayed in the same shell).
    ///
    /// These do not reach child processes, but later commands of the session see them (`VERSION=$(…)` in
    /// `pre_build`, `$VERSION` in `build`), so a restored phase must set them too.
    func shellVariables() async throws -> [String: String] {
        let file = "\(stateDirectory)/set"
        let command = shell.hasSuffix("bash") ? "(set -o posix; set) >'\(file)'" : "set >'\(file)'"
        try await runQuietly(command)
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        var variables: [String: String] = [:]
        var current: (name: String, text: String)?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let equals = line.firstIndex(of: "="), Self.isName(String(line[..<equals])) {
                if let current { variables[current.name] = current.text }
                current = (String(line[..<equals]), String(line))
            } else if current != nil {
                current!.text += "\n" + line
            }
        }
        if let current { variables[current.name] = current.text }
        for name in Self.volatileVariables { variables[name] = nil }
        return variables
    }

    /// Sets and unsets exported variables and changes directory, as a restored phase would have.
    ///
    /// `assignments` are shell variable assignments as ``ShellState/variables`` holds them.
    public func apply(
        set: [String: String], unset: [String], workingDirectory: String?, assignments: [String] = []
    ) async throws {
        var script = ""
        for assignment in assignments { script += assignment + "\n" }
        for name in unset where Self.isName(name) { script += "unset \(name)\n" }
        for (name, value) in set.sorted(by: { $0.key < $1.key }) where Self.isName(name) {
            script += "export \(name)=\(Self.quote(value))\n"
        }
        if let workingDirectory { script += "cd \(Self.quote(workingDirectory))\n" }
        try await runQuietly(script)
    }

    static func isName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return name.unicodeScalars.allSatisfy {
            $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
        }
    }

    /// Single-quotes text for the shell.
    public static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

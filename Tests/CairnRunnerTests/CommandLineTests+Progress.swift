import CairnTestSupport
import Foundation
import Testing

extension CommandLineTests {
    @Test(
        "on a terminal a live line shows the running phase and its time, erased before other output; without one, no control characters",
        .requires("git", "script"))
    func liveStatusLineOnlyOnATerminal() async throws {
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              build:
                commands:
                  - sleep 2.5
                  - echo built

            """)
        let store = try TemporaryStore()
        let cairn = CairnServerProcess.executable.path
        // script(1) runs the build on a pseudo-terminal and copies what it shows to its own output.
        let onTerminal = try await ChildProcess.run(
            ["script", "-qec", "'\(cairn)' build --cache-dir '\(store.directory)'", "/dev/null"],
            directory: URL(fileURLWithPath: project.directory))
        #expect(onTerminal.status == 0, "\(onTerminal.output)")
        #expect(onTerminal.output.contains("[cairn] BUILD running, 0 s"), "\(onTerminal.output)")
        #expect(onTerminal.output.contains("[cairn] BUILD running, 2 s"), "redrawn every second: \(onTerminal.output)")
        #expect(onTerminal.output.contains("\r\u{1B}[Kbuilt"), "erased before the command's output")
        #expect(onTerminal.output.contains("1 ran, 0 restored"))

        let plain = try await runCairn(["build", "--cache-dir", store.directory], in: project.directory)
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        #expect(!plain.stdout.contains("\u{1B}"), "no control characters without a terminal: \(plain.stdout)")
        #expect(!plain.stdout.contains("\r"))
        // The summary says what restoring saved; how much depends on the machine's load, so no amount is asserted.
        #expect(
            plain.stdout.contains(try Regex(#"0 ran, 1 restored, \d+\.\d\d s saved by restoring"#)), "\(plain.stdout)")
    }

    @Test("--quiet prints the verdict and nothing of the commands; it excludes --json", .requires("git"))
    func quietPrintsOnlyTheVerdict() async throws {
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              build:
                commands:
                  - echo chatty

            """)
        let store = try TemporaryStore()
        let quiet = try await runCairn(["build", "--quiet", "--cache-dir", store.directory], in: project.directory)
        #expect(quiet.status == 0, "\(quiet.stdout)\(quiet.stderr)")
        let lines = quiet.stdout.split(separator: "\n")
        #expect(lines.count == 1, "\(quiet.stdout)")
        #expect(lines.first?.hasPrefix("[cairn] build SUCCEEDED in ") == true, "\(quiet.stdout)")
        #expect(!quiet.stdout.contains("chatty"))

        let both = try await runCairn(["build", "--quiet", "--json"], in: project.directory)
        #expect(both.status == 2)
        #expect(both.stderr.contains("--quiet and --json exclude each other"), "\(both.stderr)")
    }
}

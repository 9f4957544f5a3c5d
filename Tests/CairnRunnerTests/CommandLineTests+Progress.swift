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
        // The restored phase ran for 2.5 s when it was stored.
        #expect(plain.stdout.contains("0 ran, 1 restored, 2."), "\(plain.stdout)")
        #expect(plain.stdout.contains("s saved by restoring"))
    }
}

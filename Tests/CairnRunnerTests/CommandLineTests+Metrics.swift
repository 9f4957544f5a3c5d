import CairnTestSupport
import Foundation
import Testing

extension CommandLineTests {
    @Test(
        "a build against a server reports its phases: the server's metrics count phases run and restored and the time saved",
        .requires("git", "curl"))
    func buildsReportToTheServersMetrics() async throws {
        let server = try CairnServerProcess()
        try server.start()
        defer { server.stop() }
        let environment = Self.serverCredentials
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              build:
                commands:
                  - sleep 5
                  - echo built > built.txt

            """)
        let arguments = ["build", "--store", server.endpoint, "--project", "metrics-demo"]
        let cold = try await runCairn(arguments, in: project.directory, environment: environment)
        #expect(cold.status == 0, "\(cold.stdout)\(cold.stderr)")
        let warm = try await runCairn(arguments, in: project.directory, environment: environment)
        #expect(warm.status == 0, "\(warm.stdout)\(warm.stderr)")
        #expect(warm.stdout.contains("0 ran, 1 restored"), "\(warm.stdout)")
        #expect(!warm.stdout.contains("could not report"), "\(warm.stdout)")

        let scrape = try await ChildProcess.run([
            "curl", "-s", "-f", "-u", "\(CairnServerProcess.accessKeyID):\(CairnServerProcess.secretAccessKey)",
            "\(server.endpoint)/_cairn/metrics",
        ])
        #expect(scrape.status == 0, "\(scrape.output)")
        let lines = scrape.output.split(separator: "\n").map(String.init)
        func value(_ series: String) -> Double? {
            lines.first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
        }
        #expect(value(#"cairn_runner_phases_total{outcome="ran"}"#) == 1, "\(scrape.output)")
        #expect(value(#"cairn_runner_phases_total{outcome="restored"}"#) == 1)
        #expect(value(#"cairn_runner_builds_total{result="succeeded"}"#) == 2)
        // The restored phase ran for five seconds when it was stored; restoring it takes far less, even on a loaded
        // machine.
        #expect((value("cairn_runner_saved_seconds_total") ?? 0) > 0.5)
    }
}

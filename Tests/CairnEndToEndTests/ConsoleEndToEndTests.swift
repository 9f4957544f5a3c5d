import CairnTestSupport
import Foundation
import Testing

/// The web console of a real `cairn serve` in headless Chromium, driven over the DevTools protocol.
@Suite("Web console", .serialized)
struct ConsoleEndToEndTests {
    @Test(
        "log in, the hit-rate chart and table agree with the metrics, browse, download, delete, revoke a token",
        .requires("chromium", "curl", python: ["websocket"]))
    func consoleInABrowser() async throws {
        let server = try CairnServerProcess()
        try server.start()
        defer { server.stop() }
        let curl = try Curl()
        let base = server.endpoint
        let object = curl.work.appending("report.txt")
        try Data("the report of build 7\n".utf8).write(to: object)
        let signed = MetricsEndToEndTests.signed
        let root = MetricsEndToEndTests.root
        #expect(try await curl.send("PUT", "\(base)/ui-bucket", credentials: signed).status == 200)
        for key in ["dir/report.txt", "dir/delete-me.txt", "top.txt"] {
            #expect(
                try await curl.send("PUT", "\(base)/ui-bucket/\(key)", credentials: signed, upload: object).status
                    == 200)
        }
        let ccache = "\(base)/_cairn/ccache/team-ui"
        #expect(try await curl.send("PUT", "\(ccache)/ab/cd01", credentials: root, upload: object).status / 100 == 2)
        #expect(try await curl.send("GET", "\(ccache)/ab/cd01", credentials: root).status == 200)
        #expect(try await curl.send("GET", "\(ccache)/ab/ffff", credentials: root).status == 404)

        let report = curl.work.appending("build.json")
        try Data(
            """
            {"project": "demo-project", "buildNumber": 3, "succeeded": true, "startTime": 1000, "endTime": 1010,
             "phases": [{"name": "INSTALL", "outcome": "restored", "durationSeconds": 0.5, "savedSeconds": 41.5,
                         "reasons": []},
                        {"name": "BUILD", "outcome": "ran", "durationSeconds": 9, "savedSeconds": 0,
                         "reasons": ["the file src/main.c changed"]}]}
            """.utf8
        ).write(to: report)
        let reported = try await curl.send(
            "POST", "\(base)/_cairn/runner/builds", credentials: root, upload: report,
            headers: ["Content-Type: application/json"])
        #expect(reported.status == 204)
        let screenshots = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cairn-console-screenshots-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: screenshots, withIntermediateDirectories: true)
        let work = try TemporaryDirectory(prefix: "cairn-console")
        var environment = server.clientEnvironment
        environment["CAIRN_WORK"] = work.path
        environment["CAIRN_SCREENSHOTS"] = screenshots.path
        environment["CAIRN_OBJECT"] = object.path
        let result = try await ChildProcess.run(
            ["python3", Clients.script("console.py")], environment: environment, directory: work.url)
        if result.status == 0 {
            try? FileManager.default.removeItem(at: screenshots)
        } else {
            let failure =
                "console.py failed (status \(result.status)); screenshots of each page in \(screenshots.path)\n"
                + "\(result.output.suffix(4000))\n--- server log ---\n\(server.log.suffix(2000))"
            Issue.record(Comment(rawValue: failure))
        }
        // Deleted in the console: gone for S3 clients too.
        #expect(try await curl.send("HEAD", "\(base)/ui-bucket/dir/delete-me.txt", credentials: signed).status == 404)
        #expect(try await curl.send("HEAD", "\(base)/ui-bucket/dir/report.txt", credentials: signed).status == 200)
    }
}

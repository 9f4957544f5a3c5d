import CairnServer
import Foundation
import Testing

/// Settings resolution: the shipped configuration, precedence, and errors that name the problem.
@Suite("Server settings")
struct ServerSettingsTests {
    static func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The package root, found from this file's path.
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    @Test("the shipped config/cairn.yaml loads and states the built-in defaults")
    func shippedConfiguration() throws {
        let path = Self.packageRoot.appendingPathComponent("config/cairn.yaml").path
        let loaded = try ServerSettings.load(file: path, required: true)
        #expect(loaded == ServerSettings())
        try loaded.validate()
    }

    @Test("a missing default file means defaults; a missing named file is an error")
    func missingFiles() throws {
        #expect(try ServerSettings.load(file: "/nonexistent/cairn.yaml", required: false) == ServerSettings())
        #expect(throws: SettingsError.self) { try ServerSettings.load(file: "/nonexistent/cairn.yaml", required: true) }
    }

    @Test(
        "unknown keys are refused with their name",
        arguments: [
            ("server:\n  adress: 127.0.0.1:1\n", "server.adress"),
            ("s4:\n  region: x\n", "s4"),
            (
                "retention:\n  buckets:\n    logs:\n      expire_after_dayz: 3\n",
                "retention.buckets.logs.expire_after_dayz"
            ),
            ("server:\n  tls:\n    cert: a\n", "server.tls.cert"),
        ])
    func unknownKeys(text: String, name: String) throws {
        let path = try Self.write(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try ServerSettings.load(file: path, required: true)
            Issue.record("expected an error naming \(name)")
        } catch let error as SettingsError {
            #expect(error.description.contains(name), "\(error)")
        }
    }

    @Test("the environment overrides the file; retention rules are read in days")
    func precedence() throws {
        let path = try Self.write(
            """
            server:
              address: 0.0.0.0:8000
              data_dir: /srv/cairn
            retention:
              idle_after_days: 7
              max_total_bytes: 1000
              buckets:
                logs:
                  expire_after_days: 0.5
            """
        )
        defer { try? FileManager.default.removeItem(atPath: path) }
        var settings = try ServerSettings.load(file: path, required: true)
        #expect(settings.address == "0.0.0.0:8000" && settings.dataDirectory == "/srv/cairn")
        #expect(settings.retention.global.maximumIdle == TimeInterval(7 * 86400))
        #expect(settings.retention.buckets["logs"]?.maximumAge == 43200)
        #expect(settings.retention.highWatermark == 1000)
        try settings.applyEnvironment([
            "CAIRN_ADDRESS": "127.0.0.1:0", "CAIRN_ROOT_ACCESS_KEY_ID": "id",
            "CAIRN_ROOT_SECRET_ACCESS_KEY": "long-enough",
        ])
        #expect(settings.address == "127.0.0.1:0")
        try settings.validate()
        #expect(try settings.hostAndPort() == ("127.0.0.1", 0))
    }

    @Test(
        "combinations that cannot work are refused",
        arguments: [
            ["CAIRN_TLS_CERT": "cert.pem"],
            ["CAIRN_ROOT_ACCESS_KEY_ID": "only-the-id"],
            ["CAIRN_ADDRESS": "no-port"],
        ])
    func invalidCombinations(environment: [String: String]) throws {
        var settings = ServerSettings()
        try settings.applyEnvironment(environment)
        #expect(throws: SettingsError.self) { try settings.validate() }
    }
}

import CairnServer
import Foundation
import Testing
import Yams

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

    @Test("every key of config/cairn.yaml is a setting of the table, and every setting is documented there")
    func shippedConfigurationMatchesTable() throws {
        let path = Self.packageRoot.appendingPathComponent("config/cairn.yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let table = Dictionary(uniqueKeysWithValues: ServerSetting.all.map { ($0.key, $0) })
        var keys: [String: Node] = [:]
        func collect(_ mapping: Node.Mapping, under prefix: String) {
            for (keyNode, value) in mapping {
                let key = prefix.isEmpty ? keyNode.string! : "\(prefix).\(keyNode.string!)"
                if table[key] == nil, let nested = value.mapping {
                    collect(nested, under: key)
                } else {
                    keys[key] = value
                }
            }
        }
        collect(try #require(try Yams.compose(yaml: text)?.mapping), under: "")
        #expect(Set(keys.keys).subtracting(table.keys).isEmpty, "in the file but not in ServerSetting.all")
        #expect(Set(table.keys).subtracting(keys.keys).isEmpty, "in ServerSetting.all but not in the file")
        for (key, node) in keys {
            guard let setting = table[key] else { continue }
            // The file states the default: loading just this key leaves the setting at its default.
            let file = try Self.write(Self.document(key, node))
            defer { try? FileManager.default.removeItem(atPath: file) }
            let single = try ServerSettings.load(file: file, required: true)
            #expect(setting.value(in: single) == setting.defaultValue, "\(key) in the file differs from the default")
            #expect(
                text.contains(setting.environmentVariable), "\(key): \(setting.environmentVariable) is not documented")
            if let flag = setting.flag { #expect(text.contains("--\(flag)"), "\(key): --\(flag) is not documented") }
        }
    }

    /// A document setting only `key` to `node`.
    static func document(_ key: String, _ node: Node) throws -> String {
        var value = node
        for part in key.split(separator: ".").reversed() { value = Node([(Node(String(part)), value)]) }
        return try Yams.serialize(node: value)
    }

    /// A value for each setting that is not its default, as its environment variable and its file would say it.
    static let samples: [String: String] = [
        "server.address": "0.0.0.0:8123", "server.data_dir": "/srv/cairn", "server.tls.certificate": "cert.pem",
        "server.tls.key": "key.pem", "server.log_level": "debug", "server.journal_bytes": "0",
        "server.journal_flush_seconds": "0.5", "s3.region": "eu-west-3", "s3.virtual_host_domain": "s3.example.test",
        "s3.max_clock_skew_seconds": "60", "s3.access_time_flush_seconds": "2.5", "cache.max_entry_bytes": "4096",
        "cache.memory_bytes": "0", "auth.root_access_key_id": "cairn",
        "auth.root_secret_access_key": "change-me-please",
        "retention.interval_seconds": "0", "retention.grace_period_seconds": "120", "retention.expire_after_days": "30",
        "retention.idle_after_days": "0.5", "retention.max_total_bytes": "1000000",
        "retention.low_watermark_bytes": "1000",
        "retention.keep_last_builds": "3", "retention.abort_incomplete_uploads_after_days": "1.5",
        "retention.batch_size": "10", "retention.buckets": "{logs: {expire_after_days: 30}}",
        "retention.namespaces": "{ccache: {idle_after_days: 14, expire_after_days: 60}, turbo: {}}",
        "metrics.enabled": "false", "metrics.public": "true",
        "metadata.url": "postgres://cairn@db:5432/cairn", "blobs.url": "s3://cache/cairn",
        "blobs.endpoint": "http://objects:8333", "blobs.region": "eu-west-3", "blobs.access_key_id": "key",
        "blobs.secret_access_key": "secret", "blobs.small_blob_bytes": "16384", "blobs.cache_bytes": "0",
    ]

    @Test(
        "every setting's environment variable (and flag) sets it as the file does",
        arguments: ServerSetting.all.map(\.key))
    func environmentVariable(key: String) throws {
        let setting = try #require(ServerSetting.all.first { $0.key == key })
        let sample = try #require(Self.samples[setting.key], "no sample value for \(setting.key)")
        var fromEnvironment = ServerSettings()
        try fromEnvironment.applyEnvironment([setting.environmentVariable: sample])
        #expect(setting.value(in: fromEnvironment) != setting.defaultValue)
        let file = try Self.write(try Self.document(setting.key, try #require(try Yams.compose(yaml: sample))))
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try ServerSettings.load(file: file, required: true) == fromEnvironment)
        #expect(setting.environmentVariable.hasPrefix("CAIRN_"))
        if setting.flag != nil {
            var fromFlag = ServerSettings()
            try fromFlag.applyFlag(setting, sample)
            #expect(fromFlag == fromEnvironment)
        }
    }

    @Test("environment variables keep their names")
    func environmentVariableNames() {
        let names = Set(ServerSetting.all.map(\.environmentVariable))
        #expect(names.count == ServerSetting.all.count)
        for name in [
            "CAIRN_ADDRESS", "CAIRN_DATA_DIR", "CAIRN_TLS_CERT", "CAIRN_TLS_KEY", "CAIRN_REGION",
            "CAIRN_VIRTUAL_HOST_DOMAIN", "CAIRN_ROOT_ACCESS_KEY_ID", "CAIRN_ROOT_SECRET_ACCESS_KEY", "CAIRN_LOG_LEVEL",
            "CAIRN_RETENTION_BATCH_SIZE", "CAIRN_CACHE_MAX_ENTRY_BYTES", "CAIRN_CACHE_MEMORY_BYTES",
            "CAIRN_JOURNAL_BYTES", "CAIRN_JOURNAL_FLUSH_SECONDS", "CAIRN_MAX_CLOCK_SKEW_SECONDS",
            "CAIRN_METRICS_PUBLIC", "CAIRN_METRICS_ENABLED",
            "CAIRN_METADATA_URL", "CAIRN_BLOB_URL", "CAIRN_BLOB_ENDPOINT", "CAIRN_BLOB_ACCESS_KEY_ID",
            "CAIRN_BLOB_SECRET_ACCESS_KEY",
        ] {
            #expect(names.contains(name), "\(name)")
        }
    }

    @Test(
        "bad values are refused with the setting's name and what it must be",
        arguments: [
            ("CAIRN_JOURNAL_BYTES", "-1", "CAIRN_JOURNAL_BYTES must be a number of bytes (0 turns the journal off)"),
            ("CAIRN_RETENTION_BATCH_SIZE", "0", "CAIRN_RETENTION_BATCH_SIZE must be a positive integer"),
            ("CAIRN_METRICS_PUBLIC", "maybe", "CAIRN_METRICS_PUBLIC must be true or false"),
            (
                "CAIRN_MAX_CLOCK_SKEW_SECONDS", "soon",
                "CAIRN_MAX_CLOCK_SKEW_SECONDS must be a positive number of seconds"
            ),
            ("CAIRN_RETENTION_BUCKETS", "{logs: {expire: 3}}", "retention.buckets.logs.expire"),
        ])
    func badEnvironmentValues(name: String, value: String, message: String) throws {
        var settings = ServerSettings()
        do {
            try settings.applyEnvironment([name: value])
            Issue.record("expected an error for \(name)=\(value)")
        } catch let error as SettingsError {
            #expect(error.description.contains(message), "\(error)")
        }
    }

    @Test("bad values in the file are refused with the key and what it must be")
    func badFileValues() throws {
        let path = try Self.write("cache:\n  max_entry_bytes: lots\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: SettingsError.self) { try ServerSettings.load(file: path, required: true) }
        do {
            _ = try ServerSettings.load(file: path, required: true)
        } catch let error as SettingsError {
            #expect(error.description.hasSuffix("cache.max_entry_bytes must be a positive number of bytes"), "\(error)")
        }
    }

    @Test("null in the file means the built-in default")
    func nullMeansDefault() throws {
        let path = try Self.write("server:\n  address: null\nretention:\n  abort_incomplete_uploads_after_days: ~\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try ServerSettings.load(file: path, required: true) == ServerSettings())
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

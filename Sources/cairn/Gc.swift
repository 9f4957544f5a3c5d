import ArgumentParser
import CairnCore
import CairnServer
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `cairn gc`: runs retention now, against a running server or offline against a data directory.
struct Gc: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Apply the retention rules now: expire, evict, abort stale uploads, sweep unreferenced blobs.",
        discussion: """
            With --server, the running server does the work (POST /_cairn/admin/gc, authenticated with the root \
            credentials from CAIRN_ROOT_ACCESS_KEY_ID/CAIRN_ROOT_SECRET_ACCESS_KEY or AWS_ACCESS_KEY_ID/\
            AWS_SECRET_ACCESS_KEY). With --data-dir, it runs offline with the rules of the configuration file, and \
            refuses while a server holds that directory.
            """
    )

    @Option(help: "A running server's URL, e.g. http://127.0.0.1:9000.")
    var server: String?

    @Option(name: .customLong("data-dir"), help: "Run offline against this data directory (no server may be using it).")
    var dataDirectory: String?

    @Option(help: "Configuration file with the retention rules (offline; default \(ServerSettings.defaultConfigFile)).")
    var config: String?

    @Flag(name: .customLong("dry-run"), help: "Change nothing; print what would go and how many bytes would be freed.")
    var dryRun = false

    @Option(help: "Offline only: evaluate ages as of this ISO 8601 time instead of now (to try a policy).")
    var now: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard (server == nil) != (dataDirectory == nil) else {
            throw ValidationError("name exactly one of --server URL or --data-dir DIR")
        }
        if now != nil && server != nil { throw ValidationError("--now works only offline, with --data-dir") }
    }

    func run() async throws {
        let report = try await (server != nil ? runRemote() : runOffline())
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.summary)
        }
    }

    private func runOffline() async throws -> RetentionReport {
        var settings = try ServerSettings.resolve(configFile: config, environment: ProcessInfo.processInfo.environment)
        settings.dataDirectory = dataDirectory!
        guard SQLiteMetadataStore.exists(dataDirectory: settings.dataDirectory) else {
            throw ValidationError("\(settings.dataDirectory) holds no Cairn metadata")
        }
        let lock: DataDirectoryLock
        do {
            lock = try DataDirectoryLock(dataDirectory: settings.dataDirectory)
        } catch let error as SettingsError {
            throw ValidationError("\(error.description); run `cairn gc --server URL` against that server instead")
        }
        let metadata = try SQLiteMetadataStore(dataDirectory: settings.dataDirectory, region: settings.region)
        var date = Date()
        if let now {
            guard let parsed = try? Date(now, strategy: .iso8601) else {
                throw ValidationError("--now must be an ISO 8601 time such as 2030-01-01T00:00:00Z")
            }
            date = parsed
        }
        let report = try await RetentionJob(
            metadata: metadata, policy: settings.retention, batchSize: settings.retentionBatchSize
        ).run(now: date, dryRun: dryRun)
        withExtendedLifetime(lock) {}
        return report
    }

    private func runRemote() async throws -> RetentionReport {
        let environment = ProcessInfo.processInfo.environment
        guard
            let id = environment[ServerSetting.rootAccessKeyID.environmentVariable] ?? environment["AWS_ACCESS_KEY_ID"],
            let secret = environment[ServerSetting.rootSecretAccessKey.environmentVariable]
                ?? environment["AWS_SECRET_ACCESS_KEY"]
        else {
            throw ValidationError("set CAIRN_ROOT_ACCESS_KEY_ID and CAIRN_ROOT_SECRET_ACCESS_KEY (or the AWS_* pair)")
        }
        let base = server!.hasSuffix("/") ? String(server!.dropLast()) : server!
        guard let url = URL(string: "\(base)/_cairn/admin/gc\(dryRun ? "?dry_run=true" : "")") else {
            throw ValidationError("\(server!) is not a URL")
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.timeoutInterval = 3600
        request.setValue(
            "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw ValidationError("the server answered \(status): \(String(decoding: data, as: UTF8.self))")
        }
        return try JSONDecoder().decode(RetentionReport.self, from: data)
    }
}

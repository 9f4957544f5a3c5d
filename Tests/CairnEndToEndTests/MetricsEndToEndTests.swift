import CairnTestSupport
import Foundation
import Testing

/// `GET /_cairn/metrics` of a real `cairn serve`, scraped with curl after real S3 and build-cache traffic.
@Suite("Metrics", .serialized)
struct MetricsEndToEndTests {
    static let root = Curl.Credentials.basic(
        user: CairnServerProcess.accessKeyID, password: CairnServerProcess.secretAccessKey)
    static let signed = Curl.Credentials.sigV4(
        accessKeyID: CairnServerProcess.accessKeyID, secretAccessKey: CairnServerProcess.secretAccessKey)

    static func scrape(_ server: CairnServerProcess, _ curl: Curl) async throws -> PrometheusSamples {
        let response = try await curl.send("GET", "\(server.endpoint)/_cairn/metrics", credentials: root)
        try #require(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
        return PrometheusSamples(String(decoding: response.body, as: UTF8.self))
    }

    @Test("requests, hits and misses, bytes, latency, storage and retention move with real traffic", .requires("curl"))
    func numbersMove() async throws {
        let server = try CairnServerProcess()
        try server.start()
        defer { server.stop() }
        let curl = try Curl()
        let base = server.endpoint
        let before = try await Self.scrape(server, curl)
        #expect(before.value("cairn_requests_total", ["api": "s3"]) == 0)

        let object = curl.work.appending("object")
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: object)
        #expect(try await curl.send("PUT", "\(base)/metrics-bucket", credentials: Self.signed).status == 200)
        #expect(
            try await curl.send("PUT", "\(base)/metrics-bucket/a", credentials: Self.signed, upload: object).status
                == 200)
        // The same bytes under a second key: stored once.
        #expect(
            try await curl.send("PUT", "\(base)/metrics-bucket/b", credentials: Self.signed, upload: object).status
                == 200)
        for _ in 0..<3 {
            let read = try await curl.send("GET", "\(base)/metrics-bucket/a", credentials: Self.signed)
            #expect(read.status == 200 && read.body.count == 4096)
        }
        #expect(try await curl.send("GET", "\(base)/metrics-bucket/absent", credentials: Self.signed).status == 404)

        let entry = curl.work.appending("entry")
        try Data("ccache result".utf8).write(to: entry)
        let ccache = "\(base)/_cairn/ccache/team-m"
        #expect(
            try await curl.send("PUT", "\(ccache)/ab/cdef", credentials: Self.root, upload: entry).status / 100 == 2)
        #expect(try await curl.send("GET", "\(ccache)/ab/cdef", credentials: Self.root).status == 200)
        #expect(try await curl.send("GET", "\(ccache)/ab/cdef", credentials: Self.root).status == 200)
        #expect(try await curl.send("GET", "\(ccache)/ab/0000", credentials: Self.root).status == 404)
        #expect(
            try await curl.send(
                "GET", "\(base)/_cairn/bazel/main/ac/\(String(repeating: "0", count: 64))", credentials: Self.root
            ).status == 404)
        #expect(try await curl.send("POST", "\(base)/_cairn/admin/gc", credentials: Self.root).status == 200)

        let after = try await Self.scrape(server, curl)
        let bucket = ["api": "s3", "namespace": "metrics-bucket"]
        #expect(
            after.value("cairn_requests_total", bucket.merging(["operation": "PutObject", "status": "200"]) { $1 }) == 2
        )
        #expect(
            after.value("cairn_requests_total", bucket.merging(["operation": "GetObject", "status": "200"]) { $1 }) == 3
        )
        #expect(
            after.value("cairn_requests_total", bucket.merging(["operation": "GetObject", "status": "404"]) { $1 }) == 1
        )
        #expect(after.value("cairn_requests_total", bucket.merging(["operation": "CreateBucket"]) { $1 }) == 1)
        #expect(after.value("cairn_cache_hits_total", ["protocol": "ccache", "namespace": "team-m"]) == 2)
        #expect(after.value("cairn_cache_misses_total", ["protocol": "ccache", "namespace": "team-m"]) == 1)
        #expect(after.value("cairn_cache_misses_total", ["protocol": "bazel", "namespace": "main"]) == 1)
        #expect(after.value("cairn_received_bytes_total", ["api": "s3"]) >= 2 * 4096)
        #expect(after.value("cairn_received_bytes_total", ["api": "ccache"]) >= 13)
        #expect(after.value("cairn_sent_bytes_total", ["api": "s3"]) >= 3 * 4096)
        let getLatency = ["api": "s3", "operation": "GetObject"]
        #expect(after.value("cairn_request_duration_seconds_count", getLatency) == 4)
        #expect(after.value("cairn_request_first_byte_seconds_count", getLatency) == 4)
        #expect(after.value("cairn_request_duration_seconds_sum", getLatency) > 0)
        #expect(after.value("cairn_request_duration_seconds_bucket", getLatency.merging(["le": "+Inf"]) { $1 }) == 4)
        // Two objects of 4 KiB and the ccache entry, held by two blobs.
        #expect(after.value("cairn_stored_objects") == 2)
        #expect(after.value("cairn_stored_bytes", ["kind": "logical"]) == 2 * 4096 + 13)
        #expect(after.value("cairn_stored_bytes", ["kind": "physical"]) == 4096 + 13)
        #expect(after.value("cairn_stored_blobs") == 2)
        #expect(after.value("cairn_data_dir_free_bytes") > 0)
        #expect(after.value("cairn_uploads_in_flight") == 0)
        #expect(after.value("cairn_retention_runs_total") == 1)
        #expect(after.contains("cairn_retention_duration_seconds_count"))
        // The first scrape is counted by the second.
        #expect(after.value("cairn_requests_total", ["api": "cairn", "operation": "metrics", "status": "200"]) == 1)
    }

    @Test("the bytes of a chunked upload are counted as read, without a Content-Length", .requires("curl"))
    func chunkedBytes() async throws {
        let server = try CairnServerProcess()
        try server.start()
        defer { server.stop() }
        let curl = try Curl()
        let body = curl.work.appending("chunked")
        try Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: body)
        let put = try await curl.send(
            "PUT", "\(server.endpoint)/_cairn/gradle/team-c/0123abcd", credentials: Self.root, upload: body,
            headers: ["Transfer-Encoding: chunked", "Content-Type: application/octet-stream"])
        #expect(put.status / 100 == 2)
        let read = try await curl.send(
            "GET", "\(server.endpoint)/_cairn/gradle/team-c/0123abcd", credentials: Self.root)
        #expect(read.body.count == 70_000)
        let after = try await Self.scrape(server, curl)
        #expect(after.value("cairn_received_bytes_total", ["api": "gradle"]) == 70_000)
        #expect(after.value("cairn_sent_bytes_total", ["api": "gradle"]) == 70_000)
    }

    @Test(
        "metrics take the root credentials or a metrics-scoped token unless metrics.public is true", .requires("curl"))
    func access() async throws {
        let server = try CairnServerProcess()
        try server.start()
        defer { server.stop() }
        let curl = try Curl()
        let url = "\(server.endpoint)/_cairn/metrics"
        #expect(try await curl.send("GET", url).status == 401)
        #expect(try await curl.send("GET", url, credentials: .basic(user: "x", password: "wrong")).status == 401)
        let token = try await CacheClientTests.makeToken(server, namespace: "*", readOnly: false)
        #expect(try await curl.send("GET", url, credentials: .basic(user: "ci", password: token)).status == 403)
        let scraper = try await CacheClientTests.makeToken(server, namespace: "*", readOnly: false, scopes: "metrics")
        let scraped = try await curl.send("GET", url, headers: ["Authorization: Bearer \(scraper)"])
        #expect(scraped.status == 200)
        #expect(String(decoding: scraped.body, as: UTF8.self).contains("cairn_requests_total{"))
        #expect(
            try await curl.send("GET", url, credentials: .basic(user: "prometheus", password: scraper)).status == 200)
        // The metrics scope alone opens no cache namespace.
        let entry = "\(server.endpoint)/_cairn/ccache/team-x/ab/cdef"
        #expect(try await curl.send("GET", entry, headers: ["Authorization: Bearer \(scraper)"]).status == 403)
        #expect(try await curl.send("GET", url, credentials: Self.root).status == 200)
        let signed = try await curl.send("GET", url, credentials: Self.signed)
        #expect(signed.status == 200)
        #expect(String(decoding: signed.body, as: UTF8.self).contains("cairn_requests_total{"))

        let open = try CairnServerProcess()
        open.environment["CAIRN_METRICS_PUBLIC"] = "true"
        try open.start()
        defer { open.stop() }
        let anonymous = try await curl.send("GET", "\(open.endpoint)/_cairn/metrics")
        #expect(anonymous.status == 200)
        #expect(String(decoding: anonymous.body, as: UTF8.self).contains("cairn_stored_bytes{kind=\"physical\"}"))
    }
}

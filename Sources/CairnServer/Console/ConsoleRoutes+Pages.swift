import CairnCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension ConsoleRoutes {
    static let pageSize = 500

    func overview(_ session: ConsoleSessions.Session) async throws -> String {
        let now = Date()
        let counts = observation.metrics.lookupCountsByProtocol()
        let daySamples = await history.view(counts, now: now)
        let hour = HitRateChart(
            samples: daySamples.filter { now.timeIntervalSince($0.time) <= 3600 },
            start: now.addingTimeInterval(-3600), end: now)
        let day = HitRateChart(
            samples: stride(from: 0, to: daySamples.count, by: 10).map { daySamples[$0] } + daySamples.suffix(1),
            start: now.addingTimeInterval(-86400), end: now)
        var values: [String: Any] = [
            "hourChart": hour.svg(title: "Cache hit rate per minute over the last hour"),
            "dayChart": day.svg(title: "Cache hit rate over the last day"),
            "protocols": counts.sorted { $0.key < $1.key }.map { name, counts in
                [
                    "name": name, "hits": "\(counts.hits)", "misses": "\(counts.misses)",
                    "rate": Self.percent(counts.hitRate),
                ]
            },
        ]
        if let usage = try await observation.storageUsage?() {
            values["logical"] = Self.bytes(usage.logicalBytes)
            values["physical"] = Self.bytes(usage.blobBytes)
            values["objects"] = "\(usage.objects)"
            values["entries"] = "\(usage.entries)"
            values["blobs"] = "\(usage.blobs)"
            if let limit = retentionPolicy.highWatermark, limit > 0 {
                let fraction = Double(usage.blobBytes) / Double(limit)
                values["limitFraction"] = String(format: "%.3f", min(fraction, 1))
                values["limitPercent"] = Self.percent(fraction)
            }
        }
        values["limit"] = retentionPolicy.highWatermark.map(Self.bytes) ?? "none"
        values["free"] = observation.fileSystemSpace().map { Self.bytes($0.free) } ?? "unknown"
        if let last = await lastRetention() {
            values["lastRetention"] = ["endedAt": Self.date(last.endedAt), "summary": last.report.summary]
        }
        return templates.render("overview", title: "Overview", values: values, session: session)
    }

    func buckets(_ session: ConsoleSessions.Session) async throws -> String {
        let buckets = try await metadata.buckets().map { bucket -> [String: Any] in
            ["name": bucket.name, "query": Self.query(bucket.name), "created": Self.date(bucket.createdAt)]
        }
        return templates.render("buckets", title: "Buckets", values: ["buckets": buckets], session: session)
    }

    func objects(_ request: Request, _ session: ConsoleSessions.Session) async throws -> String {
        let query = FormBody(request.uri.query ?? "")
        let bucket = query["bucket"] ?? ""
        let prefix = query["prefix"] ?? ""
        let listing: ObjectListing
        do {
            listing = try await metadata.listObjects(
                bucket: bucket, prefix: prefix, delimiter: "/", from: nil, maxKeys: Self.pageSize)
        } catch MetadataError.noSuchBucket {
            throw HTTPError(.notFound, message: "There is no bucket named \(bucket).")
        }
        var folders: [[String: Any]] = []
        var objects: [[String: Any]] = []
        for entry in listing.entries {
            switch entry {
            case .commonPrefix(let name):
                folders.append(["name": name, "query": Self.query(name)])
            case .object(let object):
                objects.append([
                    "key": object.key, "query": Self.query(object.key), "size": Self.bytes(object.size),
                    "accessed": Self.date(object.createdAt), "bucket": bucket, "prefix": prefix,
                    "formToken": session.formToken, "administers": session.administers,
                ])
            }
        }
        var values: [String: Any] = [
            "bucket": bucket, "bucketQuery": Self.query(bucket), "prefix": prefix, "folders": folders,
            "objects": objects, "any": !(folders.isEmpty && objects.isEmpty), "more": listing.isTruncated,
            "pageSize": Self.pageSize,
        ]
        if let message = query["message"], !message.isEmpty { values["message"] = message }
        return templates.render("objects", title: bucket, values: values, session: session)
    }

    func download(_ request: Request) async throws -> Response {
        do {
            _ = try await signedIn(request)
        } catch let redirect as ConsoleRedirect {
            return Self.redirect(to: redirect.location)
        }
        let query = FormBody(request.uri.query ?? "")
        let bucket = query["bucket"] ?? ""
        let key = query["key"] ?? ""
        guard let object = try await metadata.object(bucket: bucket, key: key) else {
            throw HTTPError(.notFound, message: "There is no object \(key) in \(bucket).")
        }
        let blobs = blobs
        let name = key.split(separator: "/").last.map(String.init) ?? "download"
        var headers = HTTPFields()
        headers[.contentType] = object.headers.contentType ?? "application/octet-stream"
        headers[.contentDisposition] = "attachment; filename=\"\(name.replacingOccurrences(of: "\"", with: "_"))\""
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody(contentLength: Int(object.size)) { writer in
                for piece in object.segments.pieces(in: 0..<object.size) {
                    try await blobs.send(piece.digest, range: piece.range, sender: nil, through: &writer)
                }
                try await writer.finish(nil)
            })
    }

    func delete(_ request: Request) async throws -> Response {
        let fields = try await form(request)
        _ = try await signedIn(request, form: fields, administering: true)
        let bucket = fields["bucket"] ?? ""
        let key = fields["key"] ?? ""
        let deleted = try await metadata.deleteObject(bucket: bucket, key: key)
        let message = deleted ? "Deleted \(key)." : "\(key) was already gone."
        return Self.redirect(
            to: "\(Self.prefix)/objects?bucket=\(Self.query(bucket))&prefix=\(Self.query(fields["prefix"] ?? ""))"
                + "&message=\(Self.query(message))")
    }

    func namespaces(_ session: ConsoleSessions.Session) async throws -> String {
        let counts = observation.metrics.lookupCounts()
        let rows = try await namespaceUsage().map { usage -> [String: Any] in
            // A protocol's namespace is stored under the protocol's name (`ccache/team-a`).
            let parts = usage.namespace.split(separator: "/", maxSplits: 1).map(String.init)
            let lookups =
                parts.count == 2
                ? counts[ServerMetrics.LookupKey(api: parts[0], namespace: parts[1])] ?? LookupCounts()
                : LookupCounts()
            return [
                "name": usage.namespace, "entries": "\(usage.entries)", "logical": Self.bytes(usage.logicalBytes),
                "unique": Self.bytes(usage.uniqueBytes), "hits": "\(lookups.hits)", "misses": "\(lookups.misses)",
                "rate": Self.percent(lookups.hitRate),
            ]
        }
        return templates.render("namespaces", title: "Cache namespaces", values: ["namespaces": rows], session: session)
    }

    func builds(_ session: ConsoleSessions.Session) async -> String {
        let builds = await observation.builds.all.reversed().map { build -> [String: Any] in
            [
                "project": build.project, "buildNumber": "\(build.buildNumber)",
                "result": build.succeeded ? "succeeded" : "failed",
                "started": Self.date(Date(timeIntervalSince1970: build.startTime)),
                "duration": String(format: "%.1f", build.endTime - build.startTime),
                "saved": String(format: "%.1f", build.savedSeconds),
                "phases": build.phases.map { phase -> [String: Any] in
                    [
                        "name": phase.name, "outcome": phase.outcome.rawValue,
                        "duration": String(format: "%.2f s", phase.durationSeconds),
                        "saved": String(format: "%.2f s", phase.savedSeconds),
                        "reasons": phase.reasons.joined(separator: "; "),
                    ]
                },
            ]
        }
        return templates.render("builds", title: "Builds", values: ["builds": builds], session: session)
    }

    func retention(_ session: ConsoleSessions.Session, dryRun: RetentionReport?) -> String {
        let policy = retentionPolicy
        func days(_ seconds: TimeInterval?) -> String {
            seconds.map { String(format: "%g days", $0 / 86400) } ?? "never"
        }
        var rules: [[String: Any]] = [
            ["name": "Expire after", "value": days(policy.global.maximumAge)],
            ["name": "Expire when unread for", "value": days(policy.global.maximumIdle)],
            ["name": "Size limit", "value": policy.highWatermark.map(Self.bytes) ?? "none"],
            ["name": "Evict down to", "value": policy.lowWatermark.map(Self.bytes) ?? "90 % of the limit"],
            ["name": "Keep the last builds", "value": policy.keepLastBuilds.map { "\($0)" } ?? "no"],
            ["name": "Abort incomplete uploads after", "value": days(policy.abortIncompleteUploadsAfter)],
        ]
        for (name, rule) in policy.buckets.sorted(by: { $0.key < $1.key }) {
            rules.append([
                "name": "Bucket \(name)",
                "value": "expire after \(days(rule.maximumAge)), unread for \(days(rule.maximumIdle))",
            ])
        }
        for (name, rule) in policy.namespaces.sorted(by: { $0.key < $1.key }) {
            rules.append([
                "name": "Namespace \(name)",
                "value": "expire after \(days(rule.maximumAge)), unread for \(days(rule.maximumIdle))",
            ])
        }
        var values: [String: Any] = ["rules": rules, "formToken": session.formToken]
        if let dryRun {
            values["dryRun"] = [
                "summary": dryRun.summary,
                "rulesHit": dryRun.expired.sorted { $0.key < $1.key }.map { ["rule": $0.key, "count": "\($0.value)"] },
            ]
        }
        return templates.render("retention", title: "Retention", values: values, session: session)
    }

    func tokens(_ session: ConsoleSessions.Session, created: String?) async throws -> String {
        let tokens = try await metadata.tokens().map { token -> [String: Any] in
            [
                "id": token.id, "namespace": token.namespace, "access": token.readOnly ? "read-only" : "read and write",
                "scopes": TokenScope.text(token.scopes).replacingOccurrences(of: ",", with: ", "),
                "created": Self.date(token.createdAt), "formToken": session.formToken,
            ]
        }
        var values: [String: Any] = ["tokens": tokens, "formToken": session.formToken]
        if let created { values["created"] = created }
        return templates.render("tokens", title: "Tokens", values: values, session: session)
    }

    func createToken(_ request: Request) async throws -> Response {
        let fields = try await form(request)
        let (_, session) = try await signedIn(request, form: fields, administering: true)
        let namespace = fields["namespace"]?.trimmingCharacters(in: CharacterSet.whitespaces) ?? ""
        guard !namespace.isEmpty else {
            throw HTTPError(.badRequest, message: "A token needs a namespace (* for all).")
        }
        let scopes = Set(TokenScope.allCases.filter { fields["scope_\($0.rawValue)"] != nil })
        do {
            try CacheToken.validate(namespace: namespace, scopes: scopes)
        } catch let error as TokenScopeError {
            throw HTTPError(.badRequest, message: "The token was not created: \(error.message).")
        }
        let (_, secret) = try await metadata.createToken(
            namespace: namespace, readOnly: fields["read_only"] != nil, scopes: scopes, at: Date())
        return html(try await tokens(session, created: secret))
    }

    func revokeToken(_ request: Request) async throws -> Response {
        let fields = try await form(request)
        _ = try await signedIn(request, form: fields, administering: true)
        _ = try await metadata.revokeToken(id: fields["id"] ?? "")
        return Self.redirect(to: "\(Self.prefix)/tokens")
    }

    // MARK: formatting

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func percent(_ fraction: Double?) -> String {
        fraction.map { String(format: "%.1f %%", $0 * 100) } ?? "–"
    }

    static func date(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false))
    }

    /// A value for a query string.
    static func query(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

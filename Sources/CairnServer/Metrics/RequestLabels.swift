import HTTPTypes

/// What a request is, as the metrics label it: the API it belongs to, its operation and its namespace (an S3
/// bucket or a cache namespace).
///
/// Read from the request line and the Host header alone, so that it costs the same whether or not a handler ever
/// sees the request (reads answered on the event loop never reach one).
struct RequestLabels: Hashable, Sendable {
    /// `s3`, `bazel`, `ccache`, `gradle`, `turbo`, `runner` or `cairn` (health, metrics, admin, console).
    var api: String
    /// S3's operation name (`GetObject`); for the other APIs, what the route does (`GET ac`, `missing`).
    var operation: String
    /// The bucket or cache namespace, or empty.
    var namespace: String
    /// Whether the answer is a cache hit (2xx) or miss (404): a read of a build-cache entry or artifact.
    var isCacheLookup: Bool

    init(api: String, operation: String, namespace: String = "", isCacheLookup: Bool = false) {
        self.api = api
        self.operation = operation
        self.namespace = namespace
        self.isCacheLookup = isCacheLookup
    }

    /// The labels of a request; `virtualHostDomain` as the S3 front end is configured.
    ///
    /// Works on the target's UTF-8 bytes: it runs for every request, small reads answered on the event loop included.
    init(_ head: HTTPRequest, virtualHostDomain: String?) {
        let target = head.path ?? "/"
        let utf8 = target.utf8
        let mark = utf8.firstIndex(of: UInt8(ascii: "?"))
        let path = Substring(target.utf8[..<(mark ?? utf8.endIndex)])
        let query = mark.map { Substring(target.utf8[utf8.index(after: $0)...]) } ?? ""
        if path.utf8.starts(with: "/_cairn".utf8) {
            self = Self.cairn(path: path, query: query, method: head.method)
        } else {
            self = Self.s3(head, path: path, query: query, virtualHostDomain: virtualHostDomain)
        }
    }

    private static func cairn(path: Substring, query: Substring, method: HTTPRequest.Method) -> RequestLabels {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).dropFirst()
        let area = segments.first.map(String.init) ?? ""
        let rest = Array(segments.dropFirst())
        let verb = method.rawValue
        let lookup = method == .get || method == .head
        switch area {
        case "bazel":
            // /_cairn/bazel/<namespace>/(ac|cas)/<hash>
            let kind = rest.count > 1 ? String(rest[1]) : ""
            return RequestLabels(
                api: "bazel", operation: "\(verb) \(kind)", namespace: rest.first.map(String.init) ?? "",
                isCacheLookup: lookup)
        case "ccache", "gradle":
            return RequestLabels(
                api: area, operation: verb, namespace: rest.first.map(String.init) ?? "", isCacheLookup: lookup)
        case "turbo":
            // /_cairn/turbo/v8/artifacts/<hash>; the namespace is the team or slug parameter.
            let hash = rest.count > 2 ? String(rest[2]) : ""
            let isArtifact = !hash.isEmpty && hash != "status" && hash != "events"
            let namespace =
                parameter("teamId", in: query).flatMap { $0.hasPrefix("team_") ? $0 : nil }
                ?? parameter("slug", in: query) ?? "default"
            return RequestLabels(
                api: "turbo", operation: isArtifact ? verb : hash, namespace: namespace,
                isCacheLookup: isArtifact && lookup)
        case "cas":
            let what = rest.first.map(String.init) ?? ""
            let operation = what == "missing" || what == "read" ? what : "\(verb) blob"
            return RequestLabels(api: "runner", operation: operation)
        case "ac":
            return RequestLabels(
                api: "runner", operation: "\(verb) entry", namespace: rest.first.map(String.init) ?? "",
                isCacheLookup: method == .get)
        case "runner":
            return RequestLabels(api: "runner", operation: rest.first.map(String.init) ?? "")
        default:
            return RequestLabels(api: "cairn", operation: area.isEmpty ? "root" : area)
        }
    }

    private static func s3(
        _ head: HTTPRequest, path: Substring, query: Substring, virtualHostDomain: String?
    ) -> RequestLabels {
        var bucket: Substring = ""
        var hasKey = false
        let hostName =
            virtualHostDomain == nil
            ? "" : (head.authority ?? "").split(separator: ":").first.map { $0.lowercased() } ?? ""
        if let domain = virtualHostDomain?.lowercased(), hostName.hasSuffix("." + domain) {
            bucket = Substring(hostName.dropLast(domain.count + 1))
            hasKey = path.utf8.count > 1
        } else {
            let rest = path.utf8.dropFirst()
            if let slash = rest.firstIndex(of: UInt8(ascii: "/")) {
                bucket = Substring(rest[..<slash])
                hasKey = rest.index(after: slash) < rest.endIndex
            } else {
                bucket = Substring(rest)
            }
        }
        func has(_ name: String) -> Bool { parameter(name, in: query) != nil }
        let copy = head.headerFields[Self.copySource] != nil
        let operation: String
        if bucket.isEmpty {
            operation = head.method == .get ? "ListBuckets" : "Unknown"
        } else if hasKey {
            switch head.method {
            case .get: operation = has("uploadId") ? "ListParts" : "GetObject"
            case .head: operation = "HeadObject"
            case .put where has("uploadId"): operation = copy ? "UploadPartCopy" : "UploadPart"
            case .put: operation = copy ? "CopyObject" : "PutObject"
            case .delete where has("uploadId"): operation = "AbortMultipartUpload"
            case .delete: operation = "DeleteObject"
            case .post where has("uploads"): operation = "CreateMultipartUpload"
            case .post where has("uploadId"): operation = "CompleteMultipartUpload"
            default: operation = "Unknown"
            }
        } else {
            switch head.method {
            case .put where has("lifecycle"): operation = "PutBucketLifecycleConfiguration"
            case .put: operation = "CreateBucket"
            case .head: operation = "HeadBucket"
            case .delete where has("lifecycle"): operation = "DeleteBucketLifecycle"
            case .delete: operation = "DeleteBucket"
            case .get where has("location"): operation = "GetBucketLocation"
            case .get where has("versioning"): operation = "GetBucketVersioning"
            case .get where has("uploads"): operation = "ListMultipartUploads"
            case .get where has("lifecycle"): operation = "GetBucketLifecycleConfiguration"
            case .get: operation = parameter("list-type", in: query) == "2" ? "ListObjectsV2" : "ListObjects"
            case .post where has("delete"): operation = "DeleteObjects"
            default: operation = "Unknown"
            }
        }
        return RequestLabels(api: "s3", operation: operation, namespace: String(bucket))
    }

    private static let copySource = HTTPField.Name("x-amz-copy-source")!

    /// The raw value of a query parameter, found by comparing bytes.
    private static func parameter(_ name: String, in query: Substring) -> String? {
        guard !query.isEmpty else { return nil }
        for pair in query.utf8.split(separator: UInt8(ascii: "&")) {
            let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
            if pair[..<equals].elementsEqual(name.utf8) {
                return equals == pair.endIndex ? "" : String(Substring(pair[pair.index(after: equals)...]))
            }
        }
        return nil
    }
}

import CairnCore
import CairnHTTP
import CairnSigV4
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// The S3 API over Cairn's store: addressing, authentication and the operations, as one HTTP responder.
public struct S3Service: Sendable {
    /// Settings of the S3 front end.
    public struct Configuration: Sendable {
        /// The region reported by GetBucketLocation and HeadBucket.
        public var region: String
        /// With a domain such as `s3.example.test`, `bucket.s3.example.test` addresses `bucket` (virtual-host style).
        public var virtualHostDomain: String?
        /// The smallest part, other than the last, that CompleteMultipartUpload accepts (S3: 5 MiB).
        public var minimumPartSize: Int64

        public init(
            region: String = "us-east-1", virtualHostDomain: String? = nil, minimumPartSize: Int64 = 5 * 1024 * 1024
        ) {
            self.region = region
            self.virtualHostDomain = virtualHostDomain
            self.minimumPartSize = minimumPartSize
        }
    }

    let blobs: any BlobStore
    let metadata: any MetadataStore
    let verifier: SigV4Verifier
    let configuration: Configuration
    let accessLog: AccessLog?
    let logger: Logger

    public init(
        blobs: any BlobStore, metadata: any MetadataStore, verifier: SigV4Verifier, configuration: Configuration,
        accessLog: AccessLog? = nil, logger: Logger
    ) {
        self.blobs = blobs
        self.metadata = metadata
        self.verifier = verifier
        self.configuration = configuration
        self.accessLog = accessLog
        self.logger = logger
    }

    var receiver: BodyReceiver { BodyReceiver(blobs: blobs) }

    /// Answers one S3 request; errors become S3 error responses, never thrown.
    ///
    /// - Parameter fileSender: sends object bytes straight from blob files, when the connection can take them so.
    public func respond(to request: Request, requestID: String, fileSender: (any FileBodySender)? = nil) async
        -> Response
    {
        do {
            if request.method == .options {
                return try await preflight(request.head, bucket: try address(request.head).bucket)
            }
            let s3 = try authenticate(request.head, body: request.body, requestID: requestID, fileSender: fileSender)
            var response = try await dispatch(s3)
            if s3.head.headerFields.contains(.origin) { await addCORSHeaders(to: &response, s3) }
            return response
        } catch {
            let s3Error = Self.s3Error(for: error)
            // 501 is an answer (a feature Cairn lacks), not a failure of the server.
            if s3Error.status.code >= 500 && s3Error.status.code != 501 {
                logger.error("S3 request failed", metadata: ["request.id": "\(requestID)", "error": "\(error)"])
            } else {
                logger.debug(
                    "S3 request refused", metadata: ["request.id": "\(requestID)", "s3.code": "\(s3Error.code)"])
            }
            return s3Error.response(requestID: requestID, method: request.method)
        }
    }

    func authenticate(
        _ head: HTTPRequest, body: RequestBody, requestID: String, fileSender: (any FileBodySender)?
    ) throws -> S3Request {
        let (rawPath, rawQuery) = Self.pathAndQuery(of: head.path)
        guard let path = SigV4.percentDecode(rawPath) else {
            throw S3Error.invalidArgument("The request path is not valid percent-encoded UTF-8")
        }
        guard let query = SigV4.parseQuery(rawQuery) else {
            throw S3Error.invalidArgument("The query string is not valid percent-encoded UTF-8")
        }
        var headers: [String: String] = [:]
        for field in head.headerFields {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { "\($0),\(field.value)" } ?? field.value
        }
        let host = head.authority ?? headers["host"] ?? ""
        headers["host"] = host
        let (bucket, key, bucketInHost) = address(path: path, host: host)
        // SigV2 signs the path as sent, with the bucket in front even when the host carried it.
        let resourcePath = bucketInHost ? "/\(bucket ?? "")\(rawPath)" : rawPath
        let signed = SignedRequest(
            method: head.method.rawValue, path: path, query: query, headers: headers, resourcePath: resourcePath)
        let authentication = try verifier.verify(signed)
        if let key, key.utf8.count > 1024 {
            throw S3Error("KeyTooLongError", "Your key is too long", status: .badRequest, resource: key)
        }
        // The operation reads `+` in the query as a space, as S3 does (form encoding: rclone's SigV2 listings send
        // `prefix=dir+with+space`); the signature was checked on the query as sent.
        var operationQuery = query
        if let rawQuery, rawQuery.utf8.contains(UInt8(ascii: "+")) {
            operationQuery = SigV4.parseQuery(rawQuery.replacingOccurrences(of: "+", with: "%20")) ?? query
        }
        return S3Request(
            head: head, body: body, requestID: requestID, bucket: bucket, key: key, query: operationQuery,
            authentication: authentication, fileSender: fileSender
        )
    }

    /// The bucket and key a request names: from the host (virtual-host style, when the host is a subdomain of
    /// the configured domain) or from the path's first segment; and whether the host carried the bucket.
    func address(path: String, host: String) -> (bucket: String?, key: String?, bucketInHost: Bool) {
        var bucket: String?
        var key: String?
        let hostName = host.split(separator: ":").first.map(String.init)?.lowercased() ?? ""
        var bucketInHost = false
        if let domain = configuration.virtualHostDomain?.lowercased(), hostName.hasSuffix("." + domain) {
            bucketInHost = true
            bucket = String(hostName.dropLast(domain.count + 1))
            let rest = String(path.dropFirst())
            key = rest.isEmpty ? nil : rest
        } else {
            let rest = path.dropFirst()
            if let slash = rest.firstIndex(of: "/") {
                bucket = String(rest[..<slash])
                let keyText = String(rest[rest.index(after: slash)...])
                key = keyText.isEmpty ? nil : keyText
            } else {
                bucket = rest.isEmpty ? nil : String(rest)
            }
        }
        return (bucket, key, bucketInHost)
    }

    /// ``address(path:host:)`` of a request head (for a CORS preflight, which is not authenticated).
    func address(_ head: HTTPRequest) throws -> (bucket: String?, key: String?, bucketInHost: Bool) {
        let (rawPath, _) = Self.pathAndQuery(of: head.path)
        guard let path = SigV4.percentDecode(rawPath) else {
            throw S3Error.invalidArgument("The request path is not valid percent-encoded UTF-8")
        }
        return address(path: path, host: head.authority ?? "")
    }

    /// The raw (still percent-encoded) path and query of a request target. The usual origin form (`/b/k?x=1`) is
    /// split at its `?` directly; anything else (absolute form, a fragment) goes through Hummingbird's URI parser.
    static func pathAndQuery(of target: String?) -> (path: String, query: String?) {
        // One pass over the contiguous bytes: a presigned URL's target is a few hundred of them.
        var text = target ?? ""
        let split = text.withUTF8 { bytes -> (mark: Int?, plain: Bool) in
            guard bytes.first == UInt8(ascii: "/") else { return (nil, false) }
            var mark: Int?
            for (index, byte) in bytes.enumerated() {
                if byte == UInt8(ascii: "#") { return (nil, false) }
                if byte == UInt8(ascii: "?"), mark == nil { mark = index }
            }
            return (mark, true)
        }
        guard split.plain else {
            let uri = URI(text)
            return (uri.path, uri.query)
        }
        guard let mark = split.mark else { return (text, nil) }
        let utf8 = text.utf8
        let index = utf8.index(utf8.startIndex, offsetBy: mark)
        return (String(text[..<index]), String(text[utf8.index(after: index)...]))
    }

    private func dispatch(_ s3: S3Request) async throws -> Response {
        guard let bucket = s3.bucket else {
            guard s3.method == .get else {
                throw S3Error(
                    "MethodNotAllowed", "The specified method is not allowed against this resource.",
                    status: .methodNotAllowed)
            }
            return try await listBuckets(s3)
        }
        if let key = s3.key {
            switch s3.method {
            case .put:
                if s3.has("tagging") { return try await putObjectTagging(s3, bucket: bucket, key: key) }
                if s3.has("retention") { return try await putObjectRetention(s3, bucket: bucket, key: key) }
                if s3.has("legal-hold") { return try await putObjectLegalHold(s3, bucket: bucket, key: key) }
                try rejectUnsupportedEncryption(s3)
                if s3.has("uploadId") {
                    return s3.header("x-amz-copy-source") != nil
                        ? try await uploadPartCopy(s3, bucket: bucket, key: key)
                        : try await uploadPart(s3, bucket: bucket, key: key)
                }
                if s3.header("x-amz-copy-source") != nil { return try await copyObject(s3, bucket: bucket, key: key) }
                try rejectUnsupportedSubresource(s3)
                return try await putObject(s3, bucket: bucket, key: key)
            case .get:
                if s3.has("uploadId") { return try await listParts(s3, bucket: bucket, key: key) }
                if s3.has("tagging") { return try await getObjectTagging(s3, bucket: bucket, key: key) }
                if s3.has("attributes") { return try await getObjectAttributes(s3, bucket: bucket, key: key) }
                if s3.has("retention") { return try await getObjectRetention(s3, bucket: bucket, key: key) }
                if s3.has("legal-hold") { return try await getObjectLegalHold(s3, bucket: bucket, key: key) }
                try rejectUnsupportedSubresource(s3)
                return try await getObject(s3, bucket: bucket, key: key, head: false)
            case .head:
                return try await getObject(s3, bucket: bucket, key: key, head: true)
            case .delete:
                if s3.has("uploadId") { return try await abortMultipartUpload(s3, bucket: bucket, key: key) }
                if s3.has("tagging") { return try await deleteObjectTagging(s3, bucket: bucket, key: key) }
                try rejectUnsupportedSubresource(s3)
                return try await deleteObject(s3, bucket: bucket, key: key)
            case .post:
                if s3.has("uploads") {
                    try rejectUnsupportedEncryption(s3)
                    return try await createMultipartUpload(s3, bucket: bucket, key: key)
                }
                if s3.has("uploadId") { return try await completeMultipartUpload(s3, bucket: bucket, key: key) }
                try rejectUnsupportedSubresource(s3)
            default:
                break
            }
            throw S3Error(
                "MethodNotAllowed", "The specified method is not allowed against this resource.",
                status: .methodNotAllowed)
        }
        switch s3.method {
        case .put:
            if s3.has("versioning") { return try await putBucketVersioning(s3, bucket: bucket) }
            if s3.has("object-lock") { return try await putObjectLockConfiguration(s3, bucket: bucket) }
            if s3.has("lifecycle") { return try await putBucketLifecycle(s3, bucket: bucket) }
            if s3.has("cors") { return try await putBucketCors(s3, bucket: bucket) }
            if s3.has("tagging") { return try await putBucketTagging(s3, bucket: bucket) }
            try rejectUnsupportedSubresource(s3)
            return try await createBucket(s3, bucket: bucket)
        case .head:
            return try await headBucket(s3, bucket: bucket)
        case .delete:
            if s3.has("lifecycle") { return try await deleteBucketLifecycle(s3, bucket: bucket) }
            if s3.has("cors") { return try await deleteBucketCors(s3, bucket: bucket) }
            if s3.has("tagging") { return try await deleteBucketTagging(s3, bucket: bucket) }
            try rejectUnsupportedSubresource(s3)
            return try await deleteBucket(s3, bucket: bucket)
        case .get:
            if s3.has("location") { return try await getBucketLocation(s3, bucket: bucket) }
            if s3.has("versioning") { return try await getBucketVersioning(s3, bucket: bucket) }
            if s3.has("versions") { return try await listObjectVersions(s3, bucket: bucket) }
            if s3.has("object-lock") { return try await getObjectLockConfiguration(s3, bucket: bucket) }
            if s3.has("uploads") { return try await listMultipartUploads(s3, bucket: bucket) }
            if s3.has("lifecycle") { return try await getBucketLifecycle(s3, bucket: bucket) }
            if s3.has("cors") { return try await getBucketCors(s3, bucket: bucket) }
            if s3.has("tagging") { return try await getBucketTagging(s3, bucket: bucket) }
            try rejectUnsupportedSubresource(s3)
            return try await listObjects(s3, bucket: bucket, version2: s3.query("list-type") == "2")
        case .post:
            if s3.has("delete") { return try await deleteObjects(s3, bucket: bucket) }
            try rejectUnsupportedSubresource(s3)
        default:
            break
        }
        throw S3Error(
            "MethodNotAllowed", "The specified method is not allowed against this resource.", status: .methodNotAllowed)
    }

    /// Every sub-resource S3 defines. The dispatch above takes those Cairn implements, for the methods it implements
    /// them with, before it gets here: any left is refused with 501, never mistaken for a plain object or bucket
    /// request (`PUT /bucket?versioning` is not CreateBucket).
    static let subresources = [
        "acl", "policy", "cors", "lifecycle", "tagging", "website", "logging", "notification", "replication",
        "encryption", "object-lock", "retention", "legal-hold", "versions", "versioning", "accelerate",
        "requestPayment", "analytics", "metrics", "inventory", "intelligent-tiering", "ownershipControls",
        "publicAccessBlock", "torrent", "restore", "select", "attributes", "policyStatus", "location", "uploads",
        "delete", "session", "renameObject", "metadataConfiguration", "metadataTable",
    ]

    private func rejectUnsupportedSubresource(_ s3: S3Request) throws {
        if let name = Self.subresources.first(where: { s3.has($0) }) {
            throw S3Error.notImplemented("\(s3.method.rawValue) with the ?\(name) sub-resource")
        }
    }

    /// Cairn stores objects unencrypted: a request for server-side encryption (SSE-S3, SSE-KMS or SSE-C, on a PUT,
    /// a copy, an upload or its parts) is refused, never stored in the clear while looking accepted.
    private func rejectUnsupportedEncryption(_ s3: S3Request) throws {
        let names = s3.head.headerFields.map { $0.name.canonicalName }
        let requested = names.first {
            $0.hasPrefix("x-amz-server-side-encryption") || $0.hasPrefix("x-amz-copy-source-server-side-encryption")
        }
        if let requested {
            throw S3Error(
                "NotImplemented",
                "Server-side encryption (\(requested)) is not implemented by Cairn: objects are stored unencrypted, so the request is refused rather than stored in the clear",
                status: .init(code: 501))
        }
    }

    /// Maps store and signature errors to S3's codes; anything unexpected is an InternalError.
    static func s3Error(for error: any Error) -> S3Error {
        switch error {
        case let error as S3Error:
            return error
        case let error as SigV4Error:
            return S3Error(error)
        case let error as MetadataError:
            switch error {
            case .noSuchBucket(let name): return .noSuchBucket(name)
            case .bucketAlreadyExists(let name):
                return S3Error(
                    "BucketAlreadyOwnedByYou",
                    "Your previous request to create the named bucket succeeded and you already own it.",
                    status: .conflict, resource: name
                )
            case .bucketNotEmpty(let name):
                return S3Error(
                    "BucketNotEmpty", "The bucket you tried to delete is not empty", status: .conflict, resource: name)
            case .noSuchKey(_, let key): return .noSuchKey(key)
            case .noSuchVersion(_, _, let versionID):
                return S3Error(
                    "NoSuchVersion", "The specified version does not exist.", status: .notFound, resource: versionID)
            case .objectLocked(_, let key, let versionID):
                return S3Error(
                    "AccessDenied",
                    "Access Denied because object protected by object lock (\(key), version \(versionID)).",
                    status: .forbidden, resource: key)
            case .noSuchUpload(let id): return .noSuchUpload(id)
            case .preconditionFailed: return .preconditionFailed
            case .invalidPart(let number):
                return S3Error(
                    "InvalidPart",
                    "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag. (part \(number))",
                    status: .badRequest
                )
            case .invalidPartOrder:
                return S3Error(
                    "InvalidPartOrder",
                    "The list of parts was not in ascending order. Parts must be ordered by part number.",
                    status: .badRequest)
            case .blobMissing:
                var error = S3Error(
                    "SlowDown", "Please reduce your request rate: the upload raced with a cleanup; retry it.",
                    status: .serviceUnavailable
                )
                error.headers.append((.retryAfter, "1"))
                return error
            case .entityTooSmall(let number):
                return S3Error(
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed object size. (part \(number))",
                    status: .badRequest)
            }
        case let error as StorageUnavailable:
            var answer = S3Error(
                "SlowDown", "Please reduce your request rate: \(error.description); nothing was stored.",
                status: .serviceUnavailable)
            answer.headers.append((.retryAfter, String(StorageUnavailable.retryAfterSeconds)))
            return answer
        case let error as BlobStoreError where error.code == .diskFull:
            return S3Error(
                "InsufficientStorage", "The server has no space left to store this upload; nothing was stored.",
                status: .init(code: 507)
            )
        case let error as BlobStoreError where error.code == .missingBlob:
            return .internalError("The object's data is missing from the store: \(error.message)")
        default:
            return .internalError("We encountered an internal error. Please try again.")
        }
    }
}

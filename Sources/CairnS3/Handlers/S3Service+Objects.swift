import CairnCore
import CairnHTTP
import CairnSigV4
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension S3Service {
    /// The headers S3 keeps with an object, read from a PUT, copy or CreateMultipartUpload request.
    func objectHeaders(from s3: S3Request) -> ObjectHeaders {
        var userMetadata: [String: String] = [:]
        for field in s3.head.headerFields {
            let name = field.name.canonicalName
            if name.hasPrefix("x-amz-meta-") {
                let short = String(name.dropFirst("x-amz-meta-".count))
                userMetadata[short] = userMetadata[short].map { "\($0),\(field.value)" } ?? field.value
            }
        }
        // aws-chunked is a transfer detail of the request, not an encoding of the stored content; the rest is kept
        // as sent (`deflate, gzip` stays `deflate, gzip`).
        var encoding = s3.header("content-encoding")
        if let sent = encoding, sent.lowercased().contains("aws-chunked") {
            encoding = sent.split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { $0.lowercased() != "aws-chunked" && !$0.isEmpty }
                .joined(separator: ", ")
        }
        return ObjectHeaders(
            contentType: s3.header("content-type"),
            contentEncoding: encoding?.isEmpty == false ? encoding : nil,
            cacheControl: s3.header("cache-control"),
            contentDisposition: s3.header("content-disposition"),
            contentLanguage: s3.header("content-language"),
            expires: s3.header("expires"),
            userMetadata: userMetadata
        )
    }

    /// The write precondition of a PUT: `If-None-Match: *` or `If-Match: <etag>`.
    func writeCondition(_ s3: S3Request) throws -> WriteCondition {
        if let value = s3.header(.ifNoneMatch) {
            guard value.trimmingCharacters(in: .whitespaces) == "*" else {
                throw S3Error("NotImplemented", "If-None-Match on a write accepts only *", status: .init(code: 501))
            }
            return .keyAbsent
        }
        if let value = s3.header(.ifMatch) { return .etagMatches(S3Format.unquoted(value)) }
        return .none
    }

    func putObject(_ s3: S3Request, bucket: String, key: String) async throws -> Response {
        let info = try await existingBucket(bucket)
        let condition = try writeCondition(s3)
        var stored = objectHeaders(from: s3)
        stored.tags = try requestTags(s3)
        (stored.retention, stored.legalHold) = try await requestLock(s3, bucket: info, at: Date())
        // Refuse early when the precondition already fails; the write transaction checks again.
        if case .keyAbsent = condition, try await metadata.object(bucket: bucket, key: key) != nil {
            throw S3Error.preconditionFailed
        }
        let received = try await receiver.receive(s3)
        let digest = try await received.writer.commit()
        let object = ObjectInfo(
            bucket: bucket, key: key, size: received.summary.size, etag: received.summary.md5.hexString,
            headers: stored, checksum: received.checksum, partCount: nil, createdAt: Date(),
            segments: [BlobSegment(digest: digest, size: received.summary.size)],
            versionID: Self.newVersionID(in: info)
        )
        try await metadata.putObject(object, condition: condition)
        var headers = HTTPFields()
        headers[.eTag] = S3Format.quoted(object.etag)
        if info.versioning != nil { headers[Self.versionIDHeader] = object.versionID }
        if let checksum = object.checksum { headers[HTTPField.Name(checksum.algorithm.headerName)!] = checksum.value }
        return emptyResponse(headers: headers)
    }

    func getObject(_ s3: S3Request, bucket: String, key: String, head: Bool) async throws -> Response {
        let object = try await readableObject(s3, bucket: bucket, key: key)
        let (status, headers, range) = try planRead(s3, object: object)
        if status == .notModified { return Response(status: status, headers: headers) }
        accessLog?.record(bucket: bucket, key: key)
        if head { return Response(status: status, headers: headers) }
        let blobs = self.blobs
        let segments = object.segments
        if segments.count == 1, range.count <= Self.singleReadLimit {
            // Small objects: one read into one buffer, no streaming machinery.
            let body = try await blobs.read(segments[0].digest, range: range)
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
        }
        let pieces = segments.pieces(in: range)
        let sender = s3.fileSender
        let (logger, requestID) = (self.logger, s3.requestID)
        let body = ResponseBody(contentLength: range.count) { writer in
            do {
                for piece in pieces {
                    try await blobs.send(piece.digest, range: piece.range, sender: sender, through: &writer)
                }
            } catch let error as BlobStoreError {
                // The status line went out already: the connection is closed with the body cut short, and only the
                // log can say why.
                logger.error(
                    "GET failed after its headers were sent",
                    metadata: ["request.id": "\(requestID)", "s3.key": "\(key)", "error": "\(error)"])
                throw error
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// What a GET or HEAD of `object` answers before its body: the status (200, 206 or 304), the headers and the
    /// byte range to send. A failed precondition throws.
    func planRead(_ s3: S3Request, object: ObjectInfo) throws -> (HTTPResponse.Status, HTTPFields, Range<Int64>) {
        var headers = responseHeaders(for: object, s3: s3)
        if let status = try evaluateReadConditions(s3, object: object) {
            guard status == .notModified else { throw S3Error.preconditionFailed }
            var notModified = HTTPFields()
            notModified[.eTag] = headers[.eTag]
            notModified[.lastModified] = headers[.lastModified]
            return (.notModified, notModified, 0..<0)
        }
        var range: Range<Int64> = 0..<object.size
        var status = HTTPResponse.Status.ok
        var requested: Range<Int64>?
        if let partNumber = s3.query("partNumber") {
            guard s3.header(.range) == nil else {
                throw S3Error.invalidRequest("Cannot specify both Range header and partNumber query parameter")
            }
            requested = try Self.partRange(partNumber, of: object)
        } else if let rangeHeader = s3.header(.range) {
            requested = try ByteRange.parse(rangeHeader, size: object.size)
        }
        if let requested, !requested.isEmpty {
            range = requested
            status = .partialContent
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(object.size)"
            // A whole-object checksum does not describe a range; S3 leaves it out and clients would reject it.
            for algorithm in ChecksumAlgorithm.allCases { headers[HTTPField.Name(algorithm.headerName)!] = nil }
            headers[HTTPField.Name("x-amz-checksum-type")!] = nil
        }
        headers[.contentLength] = String(range.count)
        return (status, headers, range)
    }

    /// The bytes of part `text` of an object (`?partNumber=`): a multipart object's part as uploaded; any other
    /// object is its one part. A part the object does not have is 416 InvalidPartNumber.
    static func partRange(_ text: String, of object: ObjectInfo) throws -> Range<Int64> {
        guard let number = Int(text), (1...10_000).contains(number) else {
            throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive")
        }
        // A completed upload keeps one segment per part, in order.
        let sizes = object.partCount == object.segments.count ? object.segments.map(\.size) : [object.size]
        guard number <= sizes.count else {
            throw S3Error(
                "InvalidPartNumber", "The requested partnumber is not satisfiable", status: .rangeNotSatisfiable)
        }
        let start = sizes[..<(number - 1)].reduce(0, +)
        return start..<(start + sizes[number - 1])
    }

    /// Up to this many bytes of a single-blob object are read in one piece rather than streamed.
    static let singleReadLimit: Int64 = 1 << 20

    static let checksumMode = HTTPField.Name("x-amz-checksum-mode")!
    static let taggingCount = HTTPField.Name("x-amz-tagging-count")!

    func responseHeaders(for object: ObjectInfo, s3: S3Request) -> HTTPFields {
        // Appended, not assigned: every name below is distinct, and assigning searches the fields each time.
        var headers = HTTPFields()
        headers.reserveCapacity(8 + object.headers.userMetadata.count)
        headers.append(HTTPField(name: .eTag, value: S3Format.quoted(object.etag)))
        headers.append(HTTPField(name: .lastModified, value: S3Format.httpDate(object.createdAt)))
        headers.append(HTTPField(name: .acceptRanges, value: "bytes"))
        // Most reads override nothing: the query is searched for overrides only when it has one.
        let overrides = s3.query.contains { $0.name.hasPrefix("response-") }
        func override(_ name: String) -> String? { overrides ? s3.query(name) : nil }
        headers.append(
            HTTPField(
                name: .contentType,
                value: override("response-content-type") ?? object.headers.contentType ?? "binary/octet-stream"))
        let optional: [(HTTPField.Name, String?, String)] = [
            (.contentEncoding, object.headers.contentEncoding, "response-content-encoding"),
            (.cacheControl, object.headers.cacheControl, "response-cache-control"),
            (.contentDisposition, object.headers.contentDisposition, "response-content-disposition"),
            (.contentLanguage, object.headers.contentLanguage, "response-content-language"),
            (.expires, object.headers.expires, "response-expires"),
        ]
        for (name, stored, overrideName) in optional {
            if let value = override(overrideName) ?? stored { headers.append(HTTPField(name: name, value: value)) }
        }
        for (name, value) in object.headers.userMetadata.sorted(by: { $0.key < $1.key }) {
            if let fieldName = HTTPField.Name("x-amz-meta-\(name)") {
                headers.append(HTTPField(name: fieldName, value: value))
            }
        }
        if let partCount = object.partCount {
            headers.append(HTTPField(name: HTTPField.Name("x-amz-mp-parts-count")!, value: String(partCount)))
        }
        if let tags = object.headers.tags, !tags.isEmpty {
            headers.append(HTTPField(name: Self.taggingCount, value: String(tags.count)))
        }
        Self.lockHeaders(of: object.headers, into: &headers)
        // Here, not in the handler, so that a read answered from the cache on the event loop carries it too.
        if object.versionID != ObjectInfo.nullVersionID || s3.has("versionId") {
            headers.append(HTTPField(name: Self.versionIDHeader, value: object.versionID))
        }
        if s3.header(Self.checksumMode)?.uppercased() == "ENABLED", let checksum = object.checksum {
            headers.append(HTTPField(name: HTTPField.Name(checksum.algorithm.headerName)!, value: checksum.value))
            headers.append(
                HTTPField(
                    name: HTTPField.Name("x-amz-checksum-type")!,
                    value: checksum.value.contains("-") ? "COMPOSITE" : "FULL_OBJECT"))
        }
        return headers
    }

    /// RFC 7232 preconditions as S3 evaluates them: nil to proceed, 304 or 412 otherwise.
    func evaluateReadConditions(_ s3: S3Request, object: ObjectInfo) throws -> HTTPResponse.Status? {
        let lastModified = object.createdAt.timeIntervalSince1970.rounded(.down)
        let ifMatch = s3.header(.ifMatch)
        if let ifMatch {
            let tags = ifMatch.split(separator: ",").map { S3Format.unquoted(String($0)) }
            if !tags.contains("*") && !tags.contains(object.etag) { return .preconditionFailed }
        } else if let text = s3.header(.ifUnmodifiedSince), let date = S3Format.parseHTTPDate(text),
            lastModified > date.timeIntervalSince1970
        {
            return .preconditionFailed
        }
        if let ifNoneMatch = s3.header(.ifNoneMatch) {
            let tags = ifNoneMatch.split(separator: ",").map { S3Format.unquoted(String($0)) }
            if tags.contains("*") || tags.contains(object.etag) { return .notModified }
        } else if let text = s3.header(.ifModifiedSince), let date = S3Format.parseHTTPDate(text),
            lastModified <= date.timeIntervalSince1970
        {
            return .notModified
        }
        return nil
    }

    func deleteObject(_ s3: S3Request, bucket: String, key: String) async throws -> Response {
        if let ifMatch = s3.header(.ifMatch) {
            try await checkDeleteCondition(bucket: bucket, key: key, etag: ifMatch)
        }
        let outcome = try await delete(s3, bucket: bucket, key: key, versionID: s3.query("versionId"))
        return emptyResponse(.noContent, headers: outcome.headers)
    }

    /// A conditional delete (`If-Match` on DeleteObject, `<ETag>` in DeleteObjects): the object must exist and have
    /// that ETag (or any, for `*`); otherwise 412, or 404 when there is no object.
    ///
    /// Checked just before the delete, not in the same transaction: a write landing between the two is deleted.
    func checkDeleteCondition(bucket: String, key: String, etag: String) async throws {
        guard let object = try await metadata.object(bucket: bucket, key: key) else {
            if try await metadata.bucket(bucket) == nil { throw S3Error.noSuchBucket(bucket) }
            throw S3Error.noSuchKey(key)
        }
        let tags = etag.split(separator: ",").map { S3Format.unquoted(String($0)) }
        guard tags.contains("*") || tags.contains(object.etag) else { throw S3Error.preconditionFailed }
    }

    func deleteObjects(_ s3: S3Request, bucket: String) async throws -> Response {
        guard try await metadata.bucket(bucket) != nil else { throw S3Error.noSuchBucket(bucket) }
        let root = try XMLNode.parse(try await receiver.receiveSmall(s3))
        guard root.name == "Delete" else { throw S3Error.malformedXML("expected Delete, found \(root.name)") }
        let quiet = root.child("Quiet")?.text.lowercased() == "true"
        let objects = root.children("Object").map {
            (key: $0.child("Key")?.text, etag: $0.child("ETag")?.text, version: $0.child("VersionId")?.text)
        }
        guard objects.count <= 1000 else { throw S3Error.malformedXML("at most 1000 keys may be deleted at once") }
        guard !objects.isEmpty else { throw S3Error.malformedXML("no Object to delete") }
        var deleted: [(String, DeleteOutcome)] = []
        var failed: [(String, S3Error)] = []
        for (key, etag, version) in objects {
            guard let key, !key.isEmpty else {
                failed.append(("", S3Error.invalidArgument("An Object has no Key")))
                continue
            }
            do {
                if let etag { try await checkDeleteCondition(bucket: bucket, key: key, etag: etag) }
                deleted.append((key, try await delete(s3, bucket: bucket, key: key, versionID: version)))
            } catch {
                failed.append((key, Self.s3Error(for: error)))
            }
        }
        let xml = XMLWriter()
        xml.element("DeleteResult", namespace: true) {
            if !quiet {
                for (key, outcome) in deleted {
                    xml.element("Deleted") {
                        xml.element("Key", key)
                        if let id = outcome.versionID { xml.element("VersionId", id) }
                        if outcome.deleteMarker { xml.element("DeleteMarker", "true") }
                        if let id = outcome.deleteMarkerVersionID { xml.element("DeleteMarkerVersionId", id) }
                    }
                }
            }
            for (key, error) in failed {
                xml.element("Error") {
                    xml.element("Key", key)
                    xml.element("Code", error.code)
                    xml.element("Message", error.message)
                }
            }
        }
        return xmlResponse(xml)
    }

    /// The source named by `x-amz-copy-source` (`bucket/key` or `/bucket/key`, URL-encoded, with an optional
    /// `?versionId=`).
    func copySource(_ s3: S3Request) async throws -> ObjectInfo {
        guard var text = s3.header("x-amz-copy-source") else {
            throw S3Error.invalidArgument("x-amz-copy-source is missing")
        }
        var versionID: String?
        if let question = text.firstIndex(of: "?") {
            let versionQuery = String(text[text.index(after: question)...])
            if !versionQuery.isEmpty {
                guard versionQuery.hasPrefix("versionId="),
                    let id = SigV4.percentDecode(String(versionQuery.dropFirst("versionId=".count))), !id.isEmpty
                else {
                    throw S3Error.invalidArgument("x-amz-copy-source may name only a versionId after its ?")
                }
                versionID = id
            }
            text = String(text[..<question])
        }
        guard let decoded = SigV4.percentDecode(text) else {
            throw S3Error.invalidArgument("x-amz-copy-source is not valid URL-encoded UTF-8")
        }
        let path = decoded.hasPrefix("/") ? String(decoded.dropFirst()) : decoded
        guard let slash = path.firstIndex(of: "/"), slash != path.startIndex, path.index(after: slash) != path.endIndex
        else {
            throw S3Error.invalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
        }
        let bucket = String(path[..<slash])
        let key = String(path[path.index(after: slash)...])
        let object: ObjectInfo
        if let versionID {
            guard let version = try await metadata.objectVersion(bucket: bucket, key: key, versionID: versionID) else {
                throw S3Error(
                    "NoSuchVersion", "The specified version does not exist.", status: .notFound, resource: versionID)
            }
            guard !version.isDeleteMarker else {
                throw S3Error.invalidRequest(
                    "The source of a copy request may not specifically refer to a delete marker by version id.")
            }
            object = version.object
        } else {
            guard let current = try await metadata.object(bucket: bucket, key: key) else {
                if try await metadata.bucket(bucket) == nil { throw S3Error.noSuchBucket(bucket) }
                throw S3Error.noSuchKey(key)
            }
            object = current
        }
        try checkCopySourceConditions(s3, object: object)
        return object
    }

    private func checkCopySourceConditions(_ s3: S3Request, object: ObjectInfo) throws {
        let lastModified = object.createdAt.timeIntervalSince1970.rounded(.down)
        if let value = s3.header("x-amz-copy-source-if-match"), S3Format.unquoted(value) != object.etag {
            throw S3Error.preconditionFailed
        }
        if let value = s3.header("x-amz-copy-source-if-none-match"), S3Format.unquoted(value) == object.etag {
            throw S3Error.preconditionFailed
        }
        if let text = s3.header("x-amz-copy-source-if-unmodified-since"), let date = S3Format.parseHTTPDate(text),
            lastModified > date.timeIntervalSince1970
        {
            throw S3Error.preconditionFailed
        }
        if let text = s3.header("x-amz-copy-source-if-modified-since"), let date = S3Format.parseHTTPDate(text),
            lastModified <= date.timeIntervalSince1970
        {
            throw S3Error.preconditionFailed
        }
    }

    /// CopyObject: the new key names the same blobs; no bytes are copied.
    func copyObject(_ s3: S3Request, bucket: String, key: String) async throws -> Response {
        let source = try await copySource(s3)
        let info = try await existingBucket(bucket)
        let replace = s3.header("x-amz-metadata-directive")?.uppercased() == "REPLACE"
        let namesVersion = s3.header("x-amz-copy-source")?.contains("?versionId=") == true
        // Copying an older version onto its own key restores it; copying the current one onto itself changes nothing.
        if source.bucket == bucket && source.key == key && !replace && !namesVersion {
            throw S3Error.invalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
            )
        }
        var object = source
        object.bucket = bucket
        object.key = key
        object.createdAt = Date()
        object.versionID = Self.newVersionID(in: info)
        if replace { object.headers = objectHeaders(from: s3) }
        // Tags follow the source unless the request replaces them (S3's x-amz-tagging-directive).
        switch s3.header("x-amz-tagging-directive")?.uppercased() {
        case nil, "COPY": object.headers.tags = source.headers.tags
        case "REPLACE": object.headers.tags = try requestTags(s3)
        case let other?: throw S3Error.invalidArgument("Unknown tagging directive: \(other)")
        }
        // A copy is a new version: it takes the lock its request asks for (or the bucket's default), not the
        // source's.
        (object.headers.retention, object.headers.legalHold) = try await requestLock(
            s3, bucket: info, at: object.createdAt)
        try await metadata.putObject(object, condition: try writeCondition(s3))
        let xml = XMLWriter()
        xml.element("CopyObjectResult", namespace: true) {
            xml.element("LastModified", S3Format.iso8601(object.createdAt))
            xml.element("ETag", S3Format.quoted(object.etag))
            if let checksum = object.checksum, !checksum.value.contains("-") {
                xml.element("Checksum\(checksum.algorithm.rawValue)", checksum.value)
            }
        }
        var headers = HTTPFields()
        if info.versioning != nil { headers[Self.versionIDHeader] = object.versionID }
        if source.versionID != ObjectInfo.nullVersionID || namesVersion {
            headers[HTTPField.Name("x-amz-copy-source-version-id")!] = source.versionID
        }
        return xmlResponse(xml, headers: headers)
    }
}

/// A single HTTP byte range, as S3 accepts it.
enum ByteRange {
    /// The range within `size`, or nil when the header should be ignored (S3 ignores what it cannot parse).
    /// Throws InvalidRange (416) when the range lies wholly past the end.
    static func parse(_ header: String, size: Int64) throws -> Range<Int64>? {
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.hasPrefix("bytes="), !text.contains(",") else { return nil }
        let spec = text.dropFirst("bytes=".count)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let unsatisfiable = S3Error(
            "InvalidRange", "The requested range is not satisfiable", status: .rangeNotSatisfiable)
        if parts[0].isEmpty {
            guard let suffix = Int64(parts[1]), suffix >= 0 else { return nil }
            guard suffix > 0, size > 0 else { throw unsatisfiable.withContentRange(size) }
            return max(0, size - suffix)..<size
        }
        guard let start = Int64(parts[0]), start >= 0 else { return nil }
        let end: Int64
        if parts[1].isEmpty {
            end = size - 1
        } else {
            guard let last = Int64(parts[1]), last >= start else { return nil }
            end = min(last, size - 1)
        }
        guard start < size else { throw unsatisfiable.withContentRange(size) }
        return start..<(end + 1)
    }
}

extension S3Error {
    fileprivate func withContentRange(_ size: Int64) -> S3Error {
        var error = self
        error.headers.append((.contentRange, "bytes */\(size)"))
        return error
    }
}

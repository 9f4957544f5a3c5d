import CairnCore
import CairnSigV4
import Foundation
import HTTPTypes
import Hummingbird

extension S3Service {
    func createMultipartUpload(_ s3: S3Request, bucket: String, key: String) async throws -> Response {
        var algorithm: ChecksumAlgorithm?
        if let name = s3.header("x-amz-checksum-algorithm") {
            guard let parsed = ChecksumAlgorithm(rawValue: name.uppercased()) else {
                throw S3Error.invalidRequest("Checksum algorithm \(name) is not supported")
            }
            algorithm = parsed
        }
        var stored = objectHeaders(from: s3)
        stored.tags = try requestTags(s3)
        // The lock is decided when the upload starts (S3 takes the headers here), its date counted from now.
        (stored.retention, stored.legalHold) = try await requestLock(
            s3, bucket: try await existingBucket(bucket), at: Date())
        let upload = UploadInfo(
            uploadID: SecureRandom.bytes(24).hexString, bucket: bucket, key: key, headers: stored,
            checksumAlgorithm: algorithm, createdAt: Date()
        )
        try await metadata.createUpload(upload)
        let xml = XMLWriter()
        xml.element("InitiateMultipartUploadResult", namespace: true) {
            xml.element("Bucket", bucket)
            xml.element("Key", key)
            xml.element("UploadId", upload.uploadID)
        }
        var headers = HTTPFields()
        if let algorithm { headers[HTTPField.Name("x-amz-checksum-algorithm")!] = algorithm.rawValue }
        return xmlResponse(xml, headers: headers)
    }

    private func upload(_ s3: S3Request, bucket: String, key: String) async throws -> UploadInfo {
        guard let id = s3.query("uploadId"), let upload = try await metadata.upload(id), upload.bucket == bucket,
            upload.key == key
        else { throw S3Error.noSuchUpload(s3.query("uploadId") ?? "") }
        return upload
    }

    private func partNumber(_ s3: S3Request) throws -> Int {
        guard let text = s3.query("partNumber"), let number = Int(text), (1...10_000).contains(number) else {
            throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive")
        }
        return number
    }

    func uploadPart(_ s3: S3Request, bucket: String, key: String) async throws -> Response {
        let upload = try await upload(s3, bucket: bucket, key: key)
        let number = try partNumber(s3)
        let received = try await receiver.receive(s3)
        let digest = try await received.writer.commit()
        let part = PartInfo(
            partNumber: number, segment: BlobSegment(digest: digest, size: received.summary.size),
            etag: received.summary.md5.hexString, checksum: received.checksum, createdAt: Date()
        )
        try await metadata.putPart(uploadID: upload.uploadID, part: part)
        var headers = HTTPFields()
        headers[.eTag] = S3Format.quoted(part.etag)
        if let checksum = part.checksum { headers[HTTPField.Name(checksum.algorithm.headerName)!] = checksum.value }
        return emptyResponse(headers: headers)
    }

    /// UploadPartCopy: a whole single-blob source becomes the part without copying; a range is copied into a new blob.
    func uploadPartCopy(_ s3: S3Request, bucket: String, key: String) async throws -> Response {
        let upload = try await upload(s3, bucket: bucket, key: key)
        let number = try partNumber(s3)
        let source = try await copySource(s3)
        var range: Range<Int64> = 0..<source.size
        if let text = s3.header("x-amz-copy-source-range") {
            let spec = text.trimmingCharacters(in: .whitespaces)
            let bounds =
                spec.hasPrefix("bytes=")
                ? spec.dropFirst("bytes=".count).split(separator: "-", omittingEmptySubsequences: false) : []
            guard bounds.count == 2, let first = Int64(bounds[0]), let last = Int64(bounds[1]), first >= 0,
                last >= first
            else {
                throw S3Error.invalidArgument(
                    "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy"
                )
            }
            // S3 refuses a range that reaches past the source rather than shortening it.
            guard last < source.size else {
                throw S3Error(
                    "InvalidRange",
                    "The requested range \(spec) is not satisfiable: the source object has \(source.size) bytes",
                    status: .badRequest)
            }
            range = first..<(last + 1)
        }
        let segment: BlobSegment
        let etag: String
        if range == 0..<source.size, source.segments.count == 1, source.partCount == nil {
            segment = source.segments[0]
            etag = source.etag
        } else {
            let writer = try blobs.makeWriter()
            do {
                for piece in source.segments.pieces(in: range) {
                    try await blobs.readChunks(of: piece.digest, range: piece.range) { try await writer.write($0) }
                }
                let summary = try await writer.finish()
                segment = BlobSegment(digest: try await writer.commit(), size: summary.size)
                etag = summary.md5.hexString
            } catch {
                await writer.discard()
                throw error
            }
        }
        let part = PartInfo(partNumber: number, segment: segment, etag: etag, checksum: nil, createdAt: Date())
        try await metadata.putPart(uploadID: upload.uploadID, part: part)
        let xml = XMLWriter()
        xml.element("CopyPartResult", namespace: true) {
            xml.element("LastModified", S3Format.iso8601(part.createdAt))
            xml.element("ETag", S3Format.quoted(etag))
        }
        return xmlResponse(xml)
    }

    func completeMultipartUpload(_ s3: S3Request, bucket: String, key: String) async throws -> Response {
        // An upload that is gone may have been completed already: the store answers a retried Complete with the
        // object it made, while that is still the object at its key.
        let uploadID = s3.query("uploadId") ?? ""
        let upload = try await metadata.upload(uploadID)
        if let upload, upload.bucket != bucket || upload.key != key { throw S3Error.noSuchUpload(uploadID) }
        let root = try XMLNode.parse(try await receiver.receiveSmall(s3))
        guard root.name == "CompleteMultipartUpload" else {
            throw S3Error.malformedXML("expected CompleteMultipartUpload, found \(root.name)")
        }
        var requested: [(partNumber: Int, etag: String)] = []
        for part in root.children("Part") {
            guard let numberText = part.child("PartNumber")?.text,
                let number = Int(numberText.trimmingCharacters(in: .whitespacesAndNewlines)),
                let etag = part.child("ETag")?.text
            else { throw S3Error.malformedXML("every Part needs a PartNumber and an ETag") }
            requested.append((number, S3Format.unquoted(etag)))
        }
        guard !requested.isEmpty else {
            throw S3Error.malformedXML("You must specify at least one part")
        }
        if let upload, let (algorithm, claimed) = Self.wholeObjectChecksum(s3) {
            try await checkWholeObjectChecksum(claimed, algorithm: algorithm, upload: upload, requested: requested)
        }
        let versionID = Self.newVersionID(in: try await existingBucket(bucket))
        let object = try await metadata.completeUpload(
            uploadID, requested: requested, minimumPartSize: configuration.minimumPartSize,
            condition: try writeCondition(s3)
        ) { upload, parts in
            let md5s = parts.flatMap { [UInt8](hex: $0.etag) ?? [] }
            let etag = MessageDigest.hash(.md5, md5s).hexString + "-\(parts.count)"
            var checksum: StoredChecksum?
            let raw = parts.compactMap { $0.checksum?.value }.compactMap { Data(base64Encoded: $0) }
            if let algorithm = upload.checksumAlgorithm, raw.count == parts.count {
                let combined = algorithm.checksum(of: raw.flatMap { Array($0) })
                checksum = StoredChecksum(algorithm: algorithm, value: "\(combined)-\(parts.count)")
            }
            return ObjectInfo(
                bucket: upload.bucket, key: upload.key, size: parts.reduce(0) { $0 + $1.segment.size }, etag: etag,
                headers: upload.headers, checksum: checksum, partCount: parts.count, createdAt: Date(),
                segments: parts.map(\.segment), versionID: versionID
            )
        }
        guard object.bucket == bucket, object.key == key else { throw S3Error.noSuchUpload(uploadID) }
        let xml = XMLWriter()
        xml.element("CompleteMultipartUploadResult", namespace: true) {
            xml.element("Location", "/\(bucket)/\(SigV4.uriEncode(key, keepSlash: true))")
            xml.element("Bucket", bucket)
            xml.element("Key", key)
            xml.element("ETag", S3Format.quoted(object.etag))
            if let checksum = object.checksum {
                xml.element("Checksum\(checksum.algorithm.rawValue)", checksum.value)
                xml.element("ChecksumType", "COMPOSITE")
            }
        }
        var headers = HTTPFields()
        if object.checksum != nil { headers[HTTPField.Name("x-amz-checksum-type")!] = "COMPOSITE" }
        if object.versionID != ObjectInfo.nullVersionID { headers[Self.versionIDHeader] = object.versionID }
        return xmlResponse(xml, headers: headers)
    }

    /// The whole-object checksum a Complete request claims (`x-amz-checksum-<algorithm>`), if any.
    /// Only a COMPOSITE claim is checked: SHA-1 and SHA-256 are always composite, a CRC is when it carries the part
    /// count; a FULL_OBJECT CRC is not recomputed here.
    static func wholeObjectChecksum(_ s3: S3Request) -> (ChecksumAlgorithm, String)? {
        guard s3.header("x-amz-checksum-type")?.uppercased() != "FULL_OBJECT" else { return nil }
        for algorithm in ChecksumAlgorithm.allCases {
            guard let value = s3.header(algorithm.headerName) else { continue }
            let composite = algorithm == .sha1 || algorithm == .sha256 || value.contains("-")
            return composite ? (algorithm, value) : nil
        }
        return nil
    }

    /// Refuses a Complete whose claimed whole-object checksum is not the composite of the listed parts' checksums
    /// (S3's COMPOSITE type: the checksum of the parts' checksums, with or without the `-N` part count).
    private func checkWholeObjectChecksum(
        _ claimed: String, algorithm: ChecksumAlgorithm, upload: UploadInfo,
        requested: [(partNumber: Int, etag: String)]
    ) async throws {
        let stored = try await metadata.parts(uploadID: upload.uploadID, after: 0, limit: 10_000)
        let numbers = Set(requested.map(\.partNumber))
        let parts = stored.filter { numbers.contains($0.partNumber) }
        let raw = parts.compactMap { part in
            part.checksum.flatMap { $0.algorithm == algorithm ? Data(base64Encoded: $0.value) : nil }
        }
        guard upload.checksumAlgorithm == algorithm, raw.count == parts.count else {
            throw S3Error.invalidRequest(
                "The upload was not created with x-amz-checksum-algorithm \(algorithm.rawValue), so its parts carry no checksum to check x-amz-checksum-\(algorithm.rawValue.lowercased()) against"
            )
        }
        let combined = algorithm.checksum(of: raw.flatMap { Array($0) })
        let value = claimed.split(separator: "-").first.map(String.init) ?? claimed
        guard value == combined else {
            throw S3Error.badDigest(
                "The x-amz-checksum-\(algorithm.rawValue.lowercased()) you specified (\(claimed)) is not the checksum of the parts' checksums (\(combined)-\(parts.count))"
            )
        }
    }

    func abortMultipartUpload(_ s3: S3Request, bucket: String, key: String) async throws -> Response {
        let upload = try await upload(s3, bucket: bucket, key: key)
        try await metadata.abortUpload(upload.uploadID)
        return emptyResponse(.noContent)
    }

    func listParts(_ s3: S3Request, bucket: String, key: String) async throws -> Response {
        let upload = try await upload(s3, bucket: bucket, key: key)
        let maxParts = try s3.intQuery("max-parts", default: 1000, range: 0...1000)
        let marker = try s3.intQuery("part-number-marker", default: 0, range: 0...10_000)
        let parts = try await metadata.parts(uploadID: upload.uploadID, after: marker, limit: maxParts + 1)
        let page = Array(parts.prefix(maxParts))
        let xml = XMLWriter()
        xml.element("ListPartsResult", namespace: true) {
            xml.element("Bucket", bucket)
            xml.element("Key", key)
            xml.element("UploadId", upload.uploadID)
            ownerElement(xml, "Initiator")
            ownerElement(xml, "Owner")
            xml.element("StorageClass", "STANDARD")
            xml.element("PartNumberMarker", String(marker))
            if let last = page.last { xml.element("NextPartNumberMarker", String(last.partNumber)) }
            xml.element("MaxParts", String(maxParts))
            xml.element("IsTruncated", parts.count > maxParts ? "true" : "false")
            if let algorithm = upload.checksumAlgorithm { xml.element("ChecksumAlgorithm", algorithm.rawValue) }
            for part in page {
                xml.element("Part") {
                    xml.element("PartNumber", String(part.partNumber))
                    xml.element("LastModified", S3Format.iso8601(part.createdAt))
                    xml.element("ETag", S3Format.quoted(part.etag))
                    xml.element("Size", String(part.segment.size))
                    if let checksum = part.checksum {
                        xml.element("Checksum\(checksum.algorithm.rawValue)", checksum.value)
                    }
                }
            }
        }
        return xmlResponse(xml)
    }

    func listMultipartUploads(_ s3: S3Request, bucket: String) async throws -> Response {
        let maxUploads = try s3.intQuery("max-uploads", default: 1000, range: 0...1000)
        let prefix = s3.query("prefix") ?? ""
        let keyMarker = s3.query("key-marker").flatMap { $0.isEmpty ? nil : $0 }
        let uploadIDMarker = s3.query("upload-id-marker").flatMap { $0.isEmpty ? nil : $0 }
        let uploads = try await metadata.uploads(
            bucket: bucket, prefix: prefix, keyMarker: keyMarker, uploadIDMarker: uploadIDMarker, limit: maxUploads + 1
        )
        let page = Array(uploads.prefix(maxUploads))
        let xml = XMLWriter()
        xml.element("ListMultipartUploadsResult", namespace: true) {
            xml.element("Bucket", bucket)
            xml.element("KeyMarker", keyMarker ?? "")
            xml.element("UploadIdMarker", uploadIDMarker ?? "")
            if uploads.count > maxUploads, let last = page.last {
                xml.element("NextKeyMarker", last.key)
                xml.element("NextUploadIdMarker", last.uploadID)
            }
            xml.element("Prefix", prefix)
            xml.element("MaxUploads", String(maxUploads))
            xml.element("IsTruncated", uploads.count > maxUploads ? "true" : "false")
            for upload in page {
                xml.element("Upload") {
                    xml.element("Key", upload.key)
                    xml.element("UploadId", upload.uploadID)
                    ownerElement(xml, "Initiator")
                    ownerElement(xml, "Owner")
                    xml.element("StorageClass", "STANDARD")
                    xml.element("Initiated", S3Format.iso8601(upload.createdAt))
                    if let algorithm = upload.checksumAlgorithm { xml.element("ChecksumAlgorithm", algorithm.rawValue) }
                }
            }
        }
        return xmlResponse(xml)
    }
}

import Foundation
import GRDB

extension SQLiteMetadataStore {
    static func keyData(_ key: String) -> Data { Data(key.utf8) }

    static func json(_ headers: ObjectHeaders) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(headers), as: UTF8.self)
    }

    static func headers(_ text: String) throws -> ObjectHeaders {
        try JSONDecoder().decode(ObjectHeaders.self, from: Data(text.utf8))
    }

    static func bucketExists(_ db: Database, _ name: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM buckets WHERE name = ?)"), arguments: [name]) ?? false
    }

    static func checksum(_ row: Row) -> StoredChecksum? {
        guard let name: String = row["checksum_algorithm"], let algorithm = ChecksumAlgorithm(rawValue: name),
            let value: String = row["checksum_value"]
        else { return nil }
        return StoredChecksum(algorithm: algorithm, value: value)
    }

    static func fetchObject(_ db: Database, bucket: String, key: String) throws -> ObjectInfo? {
        let keyData = keyData(key)
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM objects WHERE bucket = ? AND key = ?"),
                arguments: [bucket, keyData]
            )
        else { return nil }
        let segments = try Row.fetchAll(
            db.cachedStatement(
                sql: "SELECT digest, size FROM object_segments WHERE bucket = ? AND key = ? ORDER BY seq"),
            arguments: [bucket, keyData]
        ).map { BlobSegment(digest: BlobDigest(hex: $0["digest"] as String)!, size: $0["size"]) }
        return try objectInfo(row, bucket: bucket, key: key, segments: segments)
    }

    /// An object from a row of `objects` or `object_versions` (the columns they share) and its segments.
    static func objectInfo(_ row: Row, bucket: String, key: String, segments: [BlobSegment]) throws -> ObjectInfo {
        ObjectInfo(
            bucket: bucket, key: key, size: row["size"], etag: row["etag"], headers: try headers(row["headers"]),
            checksum: checksum(row), partCount: row["part_count"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]), segments: segments,
            versionID: row["version_id"]
        )
    }

    static func insert(_ object: ObjectInfo, db: Database, blobs: FileBlobStore) throws {
        try requireBlobs(object.segments.map(\.digest), in: blobs, db: db)
        let keyData = keyData(object.key)
        try makeRoom(for: object.versionID, db: db, bucket: object.bucket, keyData: keyData, at: object.createdAt)
        let time = object.createdAt.timeIntervalSince1970
        try db.cachedStatement(
            sql: """
                INSERT INTO objects (bucket, key, size, etag, headers, checksum_algorithm, checksum_value, part_count,
                                     created_at, accessed_at, version_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                object.bucket, keyData, object.size, object.etag, try json(object.headers),
                object.checksum?.algorithm.rawValue, object.checksum?.value, object.partCount, time, time,
                object.versionID,
            ]
        )
        let statement = try db.cachedStatement(
            sql: "INSERT INTO object_segments (bucket, key, seq, digest, size) VALUES (?, ?, ?, ?, ?)"
        )
        for (index, segment) in object.segments.enumerated() {
            try statement.execute(arguments: [object.bucket, keyData, index, segment.digest.hex, segment.size])
            try registerBlob(segment, db: db, at: object.createdAt, blobs: blobs)
        }
    }

    /// Records a blob as named now. `created_at` is the last time metadata named it: the sweep's grace period
    /// counts from there, so content uploaded again is young again. A blob the journal holds gets its bytes
    /// written to `small_blobs` in the same transaction: its content is durable when the metadata naming it is.
    static func registerBlob(_ segment: BlobSegment, db: Database, at date: Date, blobs: FileBlobStore) throws {
        if let content = blobs.journal?.content(for: segment.digest) {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO small_blobs (digest, content) VALUES (?, ?)")
                .execute(arguments: [segment.digest.hex, Data(content.readableBytesView)])
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?)
                ON CONFLICT(digest) DO UPDATE SET created_at = MAX(created_at, excluded.created_at)
                """
        ).execute(
            arguments: [segment.digest.hex, segment.size, date.timeIntervalSince1970]
        )
    }

    /// Inside a write transaction: every blob about to be referenced must be stored (held in memory, on disk, or
    /// in `small_blobs`). The sweep removes blobs inside its own write transaction, so this check cannot race with
    /// it.
    static func requireBlobs(_ digests: some Sequence<BlobDigest>, in store: FileBlobStore, db: Database) throws {
        for digest in digests {
            if store.journal?.content(for: digest) != nil { continue }
            if try SmallBlobTable.contains(digest, db: db) || store.contains(digest) { continue }
            throw MetadataError.blobMissing(digest)
        }
    }

    static func check(_ condition: WriteCondition, db: Database, bucket: String, key: String) throws {
        switch condition {
        case .none:
            return
        case .keyAbsent:
            let exists =
                try Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = ? AND key = ?)",
                    arguments: [bucket, keyData(key)]
                ) ?? false
            if exists { throw MetadataError.preconditionFailed }
        case .etagMatches(let etag):
            let current = try String.fetchOne(
                db, sql: "SELECT etag FROM objects WHERE bucket = ? AND key = ?", arguments: [bucket, keyData(key)]
            )
            guard let current else { throw MetadataError.noSuchKey(bucket: bucket, key: key) }
            if etag != "*" && current != etag { throw MetadataError.preconditionFailed }
        }
    }

    static func fetchUpload(_ db: Database, _ uploadID: String) throws -> UploadInfo? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM uploads WHERE upload_id = ?", arguments: [uploadID])
        else { return nil }
        let algorithm: String? = row["checksum_algorithm"]
        return UploadInfo(
            uploadID: uploadID, bucket: row["bucket"], key: String(decoding: row["key"] as Data, as: UTF8.self),
            headers: try headers(row["headers"]),
            checksumAlgorithm: algorithm.flatMap { ChecksumAlgorithm(rawValue: $0) },
            createdAt: Date(timeIntervalSince1970: row["created_at"])
        )
    }

    static func fetchParts(_ db: Database, uploadID: String, after marker: Int, limit: Int) throws -> [PartInfo] {
        try Row.fetchAll(
            db,
            sql: "SELECT * FROM upload_parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?",
            arguments: [uploadID, marker, limit]
        ).map {
            PartInfo(
                partNumber: $0["part_number"],
                segment: BlobSegment(digest: BlobDigest(hex: $0["digest"] as String)!, size: $0["size"]),
                etag: $0["etag"], checksum: checksum($0), createdAt: Date(timeIntervalSince1970: $0["created_at"])
            )
        }
    }

    static func rangeArguments(_ bucket: String, _ lower: [UInt8], _ upper: [UInt8]?) -> StatementArguments {
        var arguments: StatementArguments = [bucket, Data(lower)]
        if let upper { arguments += [Data(upper)] }
        return arguments
    }
}

import Foundation
import PostgresNIO

extension PostgresMetadataStore {
    /// ``SQLiteMetadataStore``'s listing over PostgreSQL: keys in byte order from `lowerBound`, grouped on
    /// `delimiter`, each batch of rows read with its segments in one query.
    func listObjects(
        bucket: String, prefix: String, delimiter: String?, from lowerBound: [UInt8]?, maxKeys: Int,
        on connection: PostgresConnection
    ) async throws -> ObjectListing {
        let prefixBytes = Array(prefix.utf8)
        let upper = SQLiteMetadataStore.successorOfPrefix(prefixBytes).map { Data($0) }
        var lower = prefixBytes
        if let lowerBound, prefixBytes.lexicographicallyPrecedes(lowerBound) { lower = lowerBound }
        var entries: [ObjectListing.Entry] = []
        var lastName: String?
        let delimiter = delimiter.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        let batch = 1000
        scan: while entries.count < maxKeys {
            let rows = try await rows(
                """
                SELECT \(unescaped: Self.objectColumns) FROM objects o
                WHERE o.bucket = \(bucket) AND o.key >= \(Data(lower))
                  AND (\(upper)::bytea IS NULL OR o.key < \(upper)::bytea)
                ORDER BY o.key LIMIT \(batch)
                """, on: connection)
            if rows.isEmpty { break }
            for row in rows {
                if entries.count == maxKeys { break scan }
                let object = try Self.objectInfo(bucket: bucket, row)
                let keyBytes = Array(object.key.utf8)
                let rest = keyBytes[prefixBytes.count...]
                if let delimiter, let range = SQLiteMetadataStore.firstRange(of: delimiter, in: rest) {
                    let common = Array(keyBytes[..<range.upperBound])
                    let name = String(decoding: common, as: UTF8.self)
                    entries.append(.commonPrefix(name))
                    lastName = name
                    guard let next = SQLiteMetadataStore.successorOfPrefix(common) else {
                        lower = []
                        break scan
                    }
                    lower = next
                    continue scan
                }
                entries.append(.object(object))
                lastName = object.key
                lower = keyBytes + [0]
            }
            if rows.count < batch { break }
        }
        var more = false
        if entries.count == maxKeys && !lower.isEmpty {
            more = try await !self.rows(
                """
                SELECT 1 FROM objects WHERE bucket = \(bucket) AND key >= \(Data(lower))
                  AND (\(upper)::bytea IS NULL OR key < \(upper)::bytea) LIMIT 1
                """, on: connection
            ).isEmpty
        }
        return ObjectListing(entries: entries, isTruncated: more, resumeAt: more ? lower : nil, lastName: lastName)
    }
}

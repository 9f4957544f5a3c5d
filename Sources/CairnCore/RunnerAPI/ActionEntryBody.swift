import Foundation
import NIOCore

/// The body of `PUT` and `GET /_cairn/ac/<namespace>/<key>`: an action entry as the runner stores and reads it.
///
/// `{"value": {"digest": "<sha256>", "size": N}, "references": ["<sha256>", ...], "attributes": {...},
/// "createdAt": <seconds since 1970>}`. A client leaves out `createdAt` (the server sets it); a server always sends
/// every field. Digests are the text on the wire, not yet validated.
public struct ActionEntryBody: Codable, Sendable, Hashable {
    /// The blob that holds the value.
    public struct Value: Codable, Sendable, Hashable {
        /// A SHA-256 hex digest.
        public var digest: String
        public var size: Int64

        enum CodingKeys: String, CodingKey {
            case digest, size
        }

        public init(digest: String, size: Int64) {
            self.digest = digest
            self.size = size
        }
    }

    public var value: Value
    /// SHA-256 hex digests of the other blobs the value names; absent means none.
    public var references: [String]
    public var attributes: [String: String]?
    /// When the server stored the entry, in seconds since 1970.
    public var createdAt: Double?

    // Declared in the order the runner has always sent them.
    enum CodingKeys: String, CodingKey {
        case value, references, attributes, createdAt
    }

    public init(value: Value, references: [String], attributes: [String: String]? = nil, createdAt: Double? = nil) {
        self.value = value
        self.references = references
        self.attributes = attributes
        self.createdAt = createdAt
    }

    /// The body of `entry`; `createdAt` only when `includingCreationTime`.
    public init(_ entry: ActionEntry, includingCreationTime: Bool) {
        self.init(
            value: Value(digest: entry.value.digest.hex, size: entry.value.size),
            references: entry.references.map(\.hex), attributes: entry.attributes,
            createdAt: includingCreationTime ? entry.createdAt.timeIntervalSince1970 : nil
        )
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        value = try container.decode(Value.self, forKey: .value)
        references = try container.decodeIfPresent([String].self, forKey: .references) ?? []
        attributes = try container.decodeIfPresent([String: String].self, forKey: .attributes)
        createdAt = try container.decodeIfPresent(Double.self, forKey: .createdAt)
    }

    /// The body with its keys sorted, written by hand: an entry of a big build names thousands of digests, which
    /// Foundation's encoders spend most of a request's time on. Reads as `JSONDecoder` reads `JSONEncoder`'s
    /// output; `createdAt` is written as Swift prints a `Double`.
    public func json() throws -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(200 + references.count * 67)
        buffer.writeStaticString("{")
        if let attributes {
            buffer.writeJSONKey(CodingKeys.attributes)
            buffer.writeBytes(try JSONSerialization.data(withJSONObject: attributes, options: [.sortedKeys]))
            buffer.writeStaticString(",")
        }
        if let createdAt {
            buffer.writeJSONKey(CodingKeys.createdAt)
            buffer.writeString("\(createdAt)")
            buffer.writeStaticString(",")
        }
        buffer.writeJSONKey(CodingKeys.references)
        buffer.writeJSONArray(references)
        buffer.writeStaticString(",")
        buffer.writeJSONKey(CodingKeys.value)
        buffer.writeStaticString("{")
        buffer.writeJSONKey(Value.CodingKeys.digest)
        buffer.writeJSONString(value.digest)
        buffer.writeStaticString(",")
        buffer.writeJSONKey(Value.CodingKeys.size)
        buffer.writeString("\(value.size)")
        buffer.writeStaticString("}}")
        return buffer
    }
}

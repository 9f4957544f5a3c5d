/// One tag of an object's tag set (S3 object tagging): a key and a value, kept in the order they were given.
public struct ObjectTag: Sendable, Hashable, Codable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

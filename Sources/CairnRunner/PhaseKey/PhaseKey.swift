/// A phase key: 64 hex characters.
public struct PhaseKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public var hex: String
    public var description: String { hex }
}

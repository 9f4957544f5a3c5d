/// A buildspec that cannot run: what is wrong, at which key and line.
public struct BuildspecError: Error, Sendable, CustomStringConvertible {
    /// The buildspec's path, as given.
    public var file: String
    /// The dotted key path, e.g. `phases.build.on-failure`; empty for the whole document.
    public var key: String
    /// 1-based line, when known.
    public var line: Int?
    public var message: String

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(location): \(message)" : "\(location): \(key): \(message)"
    }
}

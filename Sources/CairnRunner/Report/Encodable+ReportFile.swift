import Foundation

extension Encodable {
    /// Writes the value as pretty-printed JSON with sorted keys: the `--report` files.
    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }
}

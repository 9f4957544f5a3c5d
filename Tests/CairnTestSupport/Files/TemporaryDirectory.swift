import Foundation

/// A new, empty directory under the system's temporary folder, removed with everything in it when released.
public final class TemporaryDirectory: Sendable {
    public let url: URL

    /// Creates `<tmp>/<prefix>-<uuid>`.
    public init(prefix: String = "cairn-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public var path: String { url.path }

    /// A path inside the directory.
    public func appending(_ relative: String) -> URL { url.appendingPathComponent(relative) }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}

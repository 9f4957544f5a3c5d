import Foundation

/// The folder the build put the test bundle and the package's executables in (`.build/debug`).
public enum BuildProducts {
    /// The built executable of that name (`cairn`, `cairn-bench`), or nil when the build has none.
    public static func executable(_ name: String) -> URL? {
        candidates.map { $0.appendingPathComponent(name) }.first {
            FileManager.default.isExecutableFile(atPath: $0.path)
        }
    }

    /// Where the test runner may have been started from: the test bundle is an executable (Linux) or a bundle
    /// (macOS) inside the build folder, and resource bundles sit beside the executables.
    private static var candidates: [URL] {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(), runner]
            + Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() }
    }
}

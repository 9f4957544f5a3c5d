import Foundation

extension SpawnedProcess {
    /// The full path of an executable: `name` itself when it contains a slash, else the first executable match in
    /// the directories of `searchPath` (`PATH`; this process's own when nil). Nil when there is none.
    public static func locate(_ name: String, searchPath: String? = nil) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = searchPath ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            var info = stat()
            if stat(candidate, &info) == 0, UInt32(info.st_mode) & UInt32(S_IFMT) == UInt32(S_IFREG),
                access(candidate, X_OK) == 0
            {
                return candidate
            }
        }
        return nil
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Notices, cheaply, that a phase on the host changed files outside its workspace: the modification times of the
/// directories under a few roots (`$HOME`, `/usr/local`), a few levels deep, before and after the phase.
///
/// A directory's time moves when an entry in it is created, removed or renamed, so a package installed with
/// `pip install --user`, a new `~/.m2` artifact or a tool copied to `/usr/local/bin` shows; a file rewritten in
/// place does not. It is a warning, not a proof: a host build's entry holds only the workspace and the declared
/// outputs, and a build in a container (`--image`) records everything.
struct OutsideChangeWatch: Sendable {
    /// Directories to watch.
    let roots: [String]
    /// Paths not to report (and not to walk): the workspaces, the local store, declared outputs.
    let excluded: [String]
    var maxDepth = 6
    var maxDirectories = 20_000

    /// Directory → modification time (nanoseconds).
    typealias Marks = [String: Int64]

    /// The directories under the roots now.
    func take() -> Marks {
        var marks: Marks = [:]
        var queue = roots.map { ($0, 0) }
        var index = 0
        while index < queue.count && marks.count < maxDirectories {
            let (directory, depth) = queue[index]
            index += 1
            if isExcluded(directory) { continue }
            var info = stat()
            guard lstat(directory, &info) == 0, UInt32(info.st_mode) & UInt32(S_IFMT) == UInt32(S_IFDIR) else {
                continue
            }
            marks[directory] = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
            guard depth < maxDepth, let handle = opendir(directory) else { continue }
            while let entry = readdir(handle) {
                guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name == "." || name == ".." { continue }
                queue.append((directory == "/" ? "/" + name : directory + "/" + name, depth + 1))
            }
            closedir(handle)
        }
        return marks
    }

    /// The directories whose entries changed between two takes, outermost first, without their subdirectories.
    func changes(from before: Marks, to after: Marks) -> [String] {
        var changed: [String] = []
        for (directory, time) in after where before[directory] != time { changed.append(directory) }
        for directory in before.keys where after[directory] == nil { changed.append(directory) }
        var reported: [String] = []
        for directory in changed.sorted() where !reported.contains(where: { directory.hasPrefix($0 + "/") }) {
            reported.append(directory)
        }
        return reported
    }

    private func isExcluded(_ path: String) -> Bool {
        excluded.contains { path == $0 || path.hasPrefix($0 + "/") }
    }
}

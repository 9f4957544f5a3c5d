import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// CPU time of processes, from `/proc/PID/stat` (user + system, all threads), to put a figure on what each request
/// costs a server.
enum ProcessCPU {
    /// Seconds of CPU that `pid` has used so far; 0 when it is gone.
    static func seconds(_ pid: Int32) -> Double {
        guard let fields = statFields(pid), fields.count > 12, let user = Double(fields[11]),
            let system = Double(fields[12])
        else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Seconds of CPU of several processes together.
    static func seconds(_ pids: [Int32]) -> Double { pids.reduce(0) { $0 + seconds($1) } }

    /// The processes whose parent is `pid`.
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { child in
            guard let fields = statFields(child), fields.count > 1 else { return false }
            return Int32(fields[1]) == pid
        }
    }

    /// The fields of `/proc/PID/stat` after the command name, which may hold spaces: field n of proc(5) (1-based)
    /// is at n - 3, so the state is [0], the parent [1], utime [11] and stime [12].
    private static func statFields(_ pid: Int32) -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }
}

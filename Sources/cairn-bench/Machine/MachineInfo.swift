import Foundation

/// The machine and the exact versions of everything measured, so that a figure can be put in context.
struct MachineInfo: Codable, Sendable {
    var cpuModel: String
    var cpuCount: Int
    var memoryGiB: Double
    var kernel: String
    /// The file system the data directories were on, as `df -T` names it.
    var fileSystem: String
    /// /proc/loadavg when the run started: other work on a shared machine shows up here.
    var loadAverage: String
    /// name → version string: cairn (git commit), nginx, moto, openssl, curl, swift.
    var versions: [String: String]

    var summary: String {
        let versionList = versions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "\(cpuCount) × \(cpuModel) (`nproc` = \(cpuCount)), \(String(format: "%.0f", memoryGiB)) GiB RAM, "
            + "Linux \(kernel), data on \(fileSystem), load average at start \(loadAverage); \(versionList)"
    }

    /// Reads /proc and asks each tool for its version; a tool that is missing is reported as such.
    static func collect(workDirectory: URL, cairnExecutable: URL) async -> MachineInfo {
        let cpuInfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuInfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        let nproc = (try? await Shell.run(["nproc"]))?.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let memInfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let memKiB =
            memInfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { Double($0.split(separator: " ", omittingEmptySubsequences: true)[1]) } ?? 0
        let kernel = (try? await Shell.run(["uname", "-r"]))?.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let df = (try? await Shell.run(["df", "-T", workDirectory.path]))?.stdout.split(separator: "\n").last
            .map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        var versions: [String: String] = [:]
        versions["cairn"] = await cairnVersion(cairnExecutable)
        versions["nginx"] = await version(["nginx", "-v"]) { $0.components(separatedBy: "nginx/").last }
        versions["moto"] = await version(["python3", "-c", "import moto; print(moto.__version__)"]) { $0 }
        versions["seaweedfs"] = await version(["weed", "version"]) {
            $0.split(separator: " ").first { $0.first?.isNumber == true && $0.contains(".") }.map(String.init)
        }
        versions["postgresql"] = await version(["psql", "--version"]) { $0.split(separator: " ").last.map(String.init) }
        versions["openssl"] = await version(["openssl", "version"]) {
            $0.split(separator: " ").dropFirst().first.map(String.init)
        }
        versions["curl"] = await version(["curl", "--version"]) {
            $0.split(separator: " ").dropFirst().first.map(String.init)
        }
        return MachineInfo(
            cpuModel: model, cpuCount: Int(nproc ?? "") ?? ProcessInfo.processInfo.activeProcessorCount,
            memoryGiB: memKiB / 1_048_576, kernel: kernel ?? "unknown",
            fileSystem: df.map { "\($0[1]) (\($0[0]))" } ?? "unknown",
            loadAverage: ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "")
                .split(separator: " ").prefix(3).joined(separator: " "),
            versions: versions
        )
    }

    private static func version(_ command: [String], parse: (String) -> String?) async -> String {
        guard Shell.exists(command[0]), let output = try? await Shell.run(command), output.status == 0 else {
            return "not installed"
        }
        let firstLine = output.combined.split(separator: "\n").first.map(String.init) ?? ""
        return parse(firstLine.trimmingCharacters(in: .whitespaces))?.trimmingCharacters(in: .whitespaces) ?? firstLine
    }

    /// The git commit of the checkout the binary was built from, with `-dirty` when the tree has changes.
    private static func cairnVersion(_ executable: URL) async -> String {
        guard let commit = try? await Shell.run(["git", "rev-parse", "--short", "HEAD"]), commit.status == 0 else {
            return "unknown commit"
        }
        let status = try? await Shell.run(["git", "status", "--porcelain", "--untracked-files=no"])
        let dirty = (status?.stdout.isEmpty ?? true) ? "" : "-dirty"
        return commit.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + dirty
    }
}

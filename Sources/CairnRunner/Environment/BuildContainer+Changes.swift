import Foundation

extension BuildContainer {
    /// Paths the engine or the kernel provides in every container: virtual filesystems, and files the engine
    /// bind-mounts or writes itself. They are not the build's doing and are never part of a phase's effect.
    static let engineProvidedPaths = [
        "/proc", "/sys", "/dev", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/mtab", "/run/.containerenv",
        "/run/secrets", "/.dockerenv",
    ]

    /// What the container's filesystem holds that its image does not: every path added, changed or deleted since it
    /// started (`podman diff`), sorted by path, read from the engine's copy-on-write layer rather than by scanning
    /// the image.
    ///
    /// Left out: the mount targets, what is below them (the host's files) and the directories the engine created to
    /// hold them, and ``engineProvidedPaths``.
    public func changes() async throws -> [ContainerChange] {
        let reported: [ContainerChange]
        switch engine.kind {
        case .podman:
            // JSON, so a path with a newline in it stays one path.
            let output = try await engine.output(["diff", "--format", "json", name])
            reported = try Self.decodePodmanDiff(output, container: name)
        case .docker:
            reported = Self.parseDiffLines(try await engine.output(["diff", name]))
        }
        return reported.filter { !isExcluded($0.path) }.sorted { $0.path < $1.path }
    }

    /// Whether `path` is outside what a build's phases are said to change.
    func isExcluded(_ path: String) -> Bool {
        for provided in Self.engineProvidedPaths where Self.path(path, isWithin: provided) { return true }
        for target in mountTargets where Self.path(path, isWithin: target) || Self.path(target, isWithin: path) {
            return true
        }
        return false
    }

    /// Whether `path` is `root` or below it.
    static func path(_ path: String, isWithin root: String) -> Bool {
        let root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        return path == root || path.hasPrefix(root == "/" ? "/" : root + "/")
    }

    /// `podman diff --format json`: `{"changed": […], "added": […], "deleted": […]}`, empty lists left out.
    static func decodePodmanDiff(_ output: String, container: String) throws -> [ContainerChange] {
        struct Diff: Decodable {
            var changed: [String]?
            var added: [String]?
            var deleted: [String]?
        }
        let diff: Diff
        do {
            diff = try JSONDecoder().decode(Diff.self, from: Data(output.utf8))
        } catch {
            throw ContainerEngineError(
                .commandFailed, "podman diff \(container) printed something that is not its JSON: \(error)")
        }
        return (diff.added ?? []).map { ContainerChange(.added, $0) }
            + (diff.changed ?? []).map { ContainerChange(.changed, $0) }
            + (diff.deleted ?? []).map { ContainerChange(.deleted, $0) }
    }

    /// `docker diff`: one `A /path`, `C /path` or `D /path` per line.
    static func parseDiffLines(_ output: String) -> [ContainerChange] {
        output.split(separator: "\n").compactMap { line in
            guard line.count > 2, line.dropFirst().first == " " else { return nil }
            let path = String(line.dropFirst(2))
            switch line.first {
            case "A": return ContainerChange(.added, path)
            case "C": return ContainerChange(.changed, path)
            case "D": return ContainerChange(.deleted, path)
            default: return nil
            }
        }
    }
}

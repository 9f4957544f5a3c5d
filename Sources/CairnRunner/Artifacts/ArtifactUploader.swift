import CairnCore
import Foundation

/// Uploads a build's `artifacts` and `reports` sections to the store, as objects under the artifact destination.
struct ArtifactUploader: Sendable {
    let store: any PhaseStore
    let console: BuildConsole
    /// The workspace on this machine.
    let sourceDirectory: String
    /// Where artifacts are also copied (`--output`), laid out as under the artifact destination.
    let outputDirectory: String?
    let projectName: String
    let projectID: String
    let buildID: String
    let buildNumber: Int
    /// `s3://BUCKET/PREFIX`; nil for `s3://cairn-artifacts/<project>`.
    let destination: String?
    /// Package each artifact as one zip instead of separate files.
    let zipArtifacts: Bool

    /// Tags every artifact and report object with its project and build number, so that retention's
    /// `keep_last_builds` keeps the newest builds' artifacts of each project whatever their age.
    var artifactMetadata: [String: String] {
        [ArtifactTag.project: projectID, ArtifactTag.build: String(buildNumber)]
    }

    /// The artifact destination: bucket and key prefix (no trailing slash).
    var artifactDestination: (bucket: String, prefix: String) {
        let uri = destination ?? "s3://cairn-artifacts/\(projectName)"
        let rest = uri.dropFirst("s3://".count)
        let bucket = rest.prefix { $0 != "/" }
        var prefix = String(rest.dropFirst(bucket.count))
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        while prefix.hasSuffix("/") { prefix.removeLast() }
        return (String(bucket), prefix)
    }

    func join(_ parts: String?...) -> String {
        parts.compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "/")
    }

    /// Uploads the primary and secondary artifacts; returns their locations, and whether one failed (which fails
    /// the build).
    func uploadArtifacts(_ primary: ArtifactSpec?, session: any CommandSession) async -> (
        locations: [String], failed: Bool
    ) {
        guard let primary else { return ([], false) }
        console.line("")
        console.line("== UPLOAD_ARTIFACTS ==")
        var locations: [String] = []
        var failed = false
        console.status("UPLOAD_ARTIFACTS uploading")
        defer { console.status(nil) }
        for artifact in [primary] + primary.secondary {
            do {
                let transfer = console.transfer(.upload, of: "UPLOAD_ARTIFACTS")
                defer { transfer.finish() }
                locations.append(
                    try await TransferProgress.$current.withValue(transfer) {
                        try await upload(artifact, session: session)
                    }
                )
            } catch {
                console.line("[cairn] artifact \(artifact.identifier) failed: \(error)")
                failed = true
            }
        }
        return (locations, failed)
    }

    private func upload(_ artifact: ArtifactSpec, session: any CommandSession) async throws -> String {
        let selection = try ArtifactFiles.select(
            sourceDirectory: sourceDirectory, baseDirectory: artifact.baseDirectory, files: artifact.files,
            excludePaths: artifact.excludePaths, discardPaths: artifact.discardPaths,
            keepSymlinks: artifact.enableSymlinks && zipArtifacts
        )
        let files = selection.files
        // As CodeBuild: a pattern that matches nothing is skipped; an artifact that gets no file at all fails.
        guard !files.isEmpty else {
            let patterns = artifact.files.map { "'\($0)'" }.joined(separator: ", ")
            throw RunnerError(
                "no matching artifact paths found: \(patterns) matched no file under "
                    + "'\(artifact.baseDirectory ?? ".")'"
            )
        }
        for pattern in selection.unmatchedPatterns {
            console.line("[cairn] artifact \(artifact.identifier): skipping '\(pattern)', which matches no file")
        }
        var name = artifact.identifier == "primary" ? projectName : artifact.identifier
        if let template = artifact.name { name = try await session.expand(template) }
        let (bucket, prefix) = artifactDestination
        let folder = join(prefix, artifact.s3Prefix.map { join($0, buildID.replacingOccurrences(of: ":", with: "-")) })
        if zipArtifacts {
            let archive = FileManager.default.temporaryDirectory.path + "/cairn-artifact-\(UUID().uuidString).zip"
            defer { unlink(archive) }
            try ArtifactZip.write(files, to: archive)
            let key = join(folder, name.hasSuffix(".zip") ? name : name + ".zip")
            try copyOut(archive, as: key, under: prefix)
            TransferProgress.current?.begin(files: 1, bytes: Self.size(of: archive))
            let uri = try await store.putObject(bucket: bucket, key: key, file: archive, metadata: artifactMetadata)
            TransferProgress.current?.completedFile()
            console.line("[cairn] artifact \(artifact.identifier): \(files.count) files in \(uri)")
            return uri
        }
        let uploads = files.filter { $0.symlinkTarget == nil }
        TransferProgress.current?.begin(files: uploads.count, bytes: uploads.reduce(0) { $0 + Self.size(of: $1.path) })
        for file in uploads {
            _ = try await store.putObject(
                bucket: bucket, key: join(folder, name, file.name), file: file.path, metadata: artifactMetadata)
            TransferProgress.current?.completedFile()
            try copyOut(file.path, as: join(folder, name, file.name), under: prefix)
        }
        let uri = "s3://\(bucket)/\(join(folder, name))/"
        console.line("[cairn] artifact \(artifact.identifier): \(files.count) files under \(uri)")
        return uri
    }

    /// A file's size, for the transfer's total (0 when it cannot be read; its upload then says why).
    private static func size(of path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// Copies an uploaded file to the output directory, at its key without the destination's prefix.
    private func copyOut(_ path: String, as key: String, under prefix: String) throws {
        guard let outputDirectory else { return }
        let relative = prefix.isEmpty ? key : String(key.dropFirst(prefix.count + 1))
        let target = outputDirectory + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw RunnerError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        try copyFile(path, to: target, mode: mode_t(UInt32(info.st_mode) & 0o7777), size: Int(info.st_size))
    }

    /// Uploads report files beside the artifacts and prints a JUnit summary per group.
    func uploadReports(_ reports: [ReportGroup]) async -> [String] {
        var locations: [String] = []
        for group in reports {
            do {
                let files = try ArtifactFiles.select(
                    sourceDirectory: sourceDirectory, baseDirectory: group.baseDirectory, files: group.files,
                    excludePaths: [], discardPaths: group.discardPaths, keepSymlinks: false
                ).files
                let (bucket, prefix) = artifactDestination
                let folder = join(prefix, "reports", buildID.replacingOccurrences(of: ":", with: "-"), group.name)
                var summary = JUnitSummary()
                for file in files {
                    _ = try await store.putObject(
                        bucket: bucket, key: join(folder, file.name), file: file.path, metadata: artifactMetadata
                    )
                    if group.fileFormat.uppercased() == "JUNITXML" {
                        summary.add(try JUnitSummary.parse(file: file.path))
                    }
                }
                let uri = "s3://\(bucket)/\(folder)/"
                locations.append(uri)
                var line = "[cairn] report \(group.name): \(files.count) files under \(uri)"
                if group.fileFormat.uppercased() == "JUNITXML" {
                    line +=
                        " — \(summary.tests) tests, \(summary.failures) failed, \(summary.errors) errors, "
                        + "\(summary.skipped) skipped"
                }
                console.line(line)
            } catch {
                console.line("[cairn] report \(group.name) failed: \(error)")
            }
        }
        return locations
    }
}

import CairnCore
import Foundation

extension BuildRun {
    /// Tags every artifact and report object with its project and build number, so that retention's
    /// `keep_last_builds` keeps the newest builds' artifacts of each project whatever their age.
    var artifactMetadata: [String: String] {
        [ArtifactTag.project: projectID, ArtifactTag.build: String(buildNumber)]
    }

    /// The artifact destination: bucket and key prefix (no trailing slash).
    var artifactDestination: (bucket: String, prefix: String) {
        let uri = options.artifactsDestination ?? "s3://cairn-artifacts/\(projectName)"
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

    /// Uploads the primary and secondary artifacts; returns their locations. A failed upload fails the build.
    func uploadArtifacts(shell: ShellSession) async -> [String] {
        guard let primary = buildspec.artifacts else { return [] }
        console.line("")
        console.line("== UPLOAD_ARTIFACTS ==")
        var locations: [String] = []
        for artifact in [primary] + primary.secondary {
            do {
                if let location = try await upload(artifact, shell: shell) { locations.append(location) }
            } catch {
                console.line("[cairn] artifact \(artifact.identifier) failed: \(error)")
                succeeding = false
            }
        }
        return locations
    }

    private func upload(_ artifact: ArtifactSpec, shell: ShellSession) async throws -> String? {
        let files = try ArtifactFiles.select(
            sourceDirectory: sourceDirectory, baseDirectory: artifact.baseDirectory, files: artifact.files,
            excludePaths: artifact.excludePaths, discardPaths: artifact.discardPaths,
            keepSymlinks: artifact.enableSymlinks && options.zipArtifacts
        )
        if files.isEmpty {
            console.line("[cairn] artifact \(artifact.identifier): no files match \(artifact.files)")
            return nil
        }
        var name = artifact.identifier == "primary" ? projectName : artifact.identifier
        if let template = artifact.name { name = try await evaluate(template, shell: shell) }
        let (bucket, prefix) = artifactDestination
        let folder = join(prefix, artifact.s3Prefix.map { join($0, buildID.replacingOccurrences(of: ":", with: "-")) })
        if options.zipArtifacts {
            let archive = FileManager.default.temporaryDirectory.path + "/cairn-artifact-\(UUID().uuidString).zip"
            defer { unlink(archive) }
            try ZipArchive.write(
                files.map { .init(name: $0.name, path: $0.path, symlinkTarget: $0.symlinkTarget, mode: $0.mode) },
                to: archive
            )
            let key = join(folder, name.hasSuffix(".zip") ? name : name + ".zip")
            let uri = try await store.putObject(bucket: bucket, key: key, file: archive, metadata: artifactMetadata)
            console.line("[cairn] artifact \(artifact.identifier): \(files.count) files in \(uri)")
            return uri
        }
        for file in files where file.symlinkTarget == nil {
            _ = try await store.putObject(
                bucket: bucket, key: join(folder, name, file.name), file: file.path, metadata: artifactMetadata)
        }
        let uri = "s3://\(bucket)/\(join(folder, name))/"
        console.line("[cairn] artifact \(artifact.identifier): \(files.count) files under \(uri)")
        return uri
    }

    /// Expands shell syntax in an artifact name (`myname-$(date +%Y-%m-%d)`), as CodeBuild does.
    func evaluate(_ template: String, shell: ShellSession) async throws -> String {
        let buffer = LogBuffer()
        let escaped = template.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let status = try await shell.run("printf '%s' \"\(escaped)\"") { buffer.append($0) }
        guard status == 0 else { throw RunnerError("artifact name '\(template)' failed to expand") }
        return String(decoding: buffer.contents, as: UTF8.self)
    }

    /// Uploads report files beside the artifacts and prints a JUnit summary per group.
    func uploadReports() async -> [String] {
        var locations: [String] = []
        for group in buildspec.reports {
            do {
                let files = try ArtifactFiles.select(
                    sourceDirectory: sourceDirectory, baseDirectory: group.baseDirectory, files: group.files,
                    excludePaths: [], discardPaths: group.discardPaths, keepSymlinks: false
                )
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

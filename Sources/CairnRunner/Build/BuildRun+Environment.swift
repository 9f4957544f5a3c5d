import Foundation

extension BuildRun {
    /// Copies the checkout into a fresh workspace and chooses where the commands run: on the host in a mount
    /// namespace that shows the workspace at its canonical path, or, without bubblewrap, where the workspace is.
    static func makeEnvironment(
        options: BuildOptions, checkout: String, projectName: String, helperDirectory: String, buildID: String
    ) async throws -> any BuildEnvironment {
        let root = options.workspaceRoot ?? BuildWorkspace.defaultRoot(environment: options.environment)
        let canonical = BuildWorkspace.canonicalDirectory
        if let image = options.image {
            let engine = try ContainerEngine.locate(
                options.engine, path: options.environment["PATH"] ?? "/usr/bin:/bin")
            let workspace = try BuildWorkspace.create(
                from: checkout, under: root, buildDirectory: canonical,
                name: BuildWorkspace.directoryName(projectName: projectName))
            do {
                return try await ContainerEnvironment.start(
                    engine: engine, image: image, workspace: workspace, helperDirectory: helperDirectory,
                    buildID: buildID, network: options.network, privileged: options.privileged,
                    keepWorkspace: options.keepWorkspace, console: options.console, interruption: options.interruption
                )
            } catch {
                workspace.remove()
                throw error
            }
        }
        let sandbox = HostSandbox.locate()
        if sandbox == nil {
            options.console.line(
                "[cairn] note: bubblewrap (bwrap) is not available, so the build sees its workspace at a path of this "
                    + "machine and its entries hit only builds at that path; install bubblewrap to build at \(canonical)"
            )
        }
        let workspace = try BuildWorkspace.create(
            from: checkout, under: root, buildDirectory: sandbox == nil ? nil : canonical,
            name: BuildWorkspace.directoryName(projectName: projectName)
        )
        let home = options.environment["HOME"] ?? NSHomeDirectory()
        // Caches are not a build's result; the workspaces are other builds'.
        let watch = OutsideChangeWatch(
            roots: [home, "/usr/local"], excluded: [root, home + "/.cache", workspace.hostDirectory])
        return HostEnvironment(
            workspace: workspace, sandbox: sandbox, keepWorkspace: options.keepWorkspace, outsideWatch: watch)
    }

    /// The environment the shell starts with: the outer one without its `CODEBUILD_` variables, CodeBuild's
    /// variables for this build, the buildspec's variables and secrets; creates the helper directory on `PATH`.
    func initialEnvironment(startTime: Date, buildNumber: Int) throws -> [String: String] {
        var environment = self.environment.baseEnvironment ?? options.environment
        for name in environment.keys where name.hasPrefix("CODEBUILD_") && name != "CODEBUILD_BUILD_IMAGE" {
            environment[name] = nil
        }
        if let image = options.image { environment["CODEBUILD_BUILD_IMAGE"] = image }
        let helperDirectory = paths.helperDirectory
        try FileManager.default.createDirectory(atPath: helperDirectory, withIntermediateDirectories: true)
        let helpers = [
            ("codebuild-hash-files", Self.hashFilesScript), ("codebuild-tests-run", Self.testsRunScript),
            ("codebuild-glob-search", Self.globSearchScript),
        ]
        for (name, script) in helpers {
            let path = helperDirectory + "/" + name
            try Data(script.utf8).write(to: URL(fileURLWithPath: path))
            chmod(path, 0o755)
        }
        environment["PATH"] = helperDirectory + ":" + (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
        environment["CODEBUILD_SRC_DIR"] = sourceDirectory
        environment["CODEBUILD_BUILD_ID"] = buildID
        environment["CODEBUILD_BUILD_ARN"] = "arn:aws:codebuild:local:000000000000:build/\(buildID)"
        environment["CODEBUILD_BUILD_NUMBER"] = String(buildNumber)
        environment["CODEBUILD_BUILD_SUCCEEDING"] = "1"
        if let identifier = options.batchIdentifier { environment["CODEBUILD_BATCH_BUILD_IDENTIFIER"] = identifier }
        environment["CODEBUILD_START_TIME"] = String(Int64(startTime.timeIntervalSince1970 * 1000))
        environment["CODEBUILD_INITIATOR"] = "cairn/" + (options.environment["USER"] ?? NSUserName())
        if let commit = InputFiles.gitCommit(in: checkoutDirectory) {
            environment["CODEBUILD_RESOLVED_SOURCE_VERSION"] = commit
        }
        for variable in buildspec.env.variables { environment[variable.name] = variable.value }
        for secret in secretValues { environment[secret.name] = secret.value }
        return environment
    }

    /// `codebuild-hash-files PATTERN...`: one SHA-256 over the matched files under the source directory.
    static let hashFilesScript = """
        #!/bin/sh
        # codebuild-hash-files PATTERN...: the SHA-256 of the files that match, in path order (cairn build).
        cd "${CODEBUILD_SRC_DIR:-.}" || exit 1
        for pattern in "$@"; do
          for file in $pattern; do
            if [ -f "$file" ]; then printf '%s\\n' "$file"; fi
          done
        done | LC_ALL=C sort -u | while IFS= read -r file; do sha256sum "$file"; done | sha256sum | cut -d' ' -f1

        """
}

import CairnCore
import CairnRunner
import CairnTestSupport
import Foundation
import Testing

/// CodeBuild's `cache` section and artifact packaging, with the embedded store.
@Suite("Cache section and artifacts")
struct CacheAndArtifactTests {
    static let cachingBuildspec = """
        version: 0.2
        phases:
          build:
            commands:
              - mkdir -p out/deps
              - if [ -f out/deps/lib.txt ]; then echo "deps from cache"; else echo "fetched $(cat lock.txt)" > out/deps/lib.txt; fi
              - if [ -f "$HOME/tool/bin.txt" ]; then echo "tool from cache"; else mkdir -p "$HOME/tool" && echo tool > "$HOME/tool/bin.txt"; fi
        cache:
          key: deps-$(codebuild-hash-files lock.txt)
          fallback-keys:
            - deps-
          paths:
            - out/deps/**/*
            - ~/tool/**/*
        """

    @Test(.requires("git"))
    func cacheIsRestoredByExactKeyThenByFallbackPrefix() async throws {
        let storage = try TemporaryStore()
        let home = FileManager.default.temporaryDirectory.path + "/cairn-home-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: home) }
        func project(lock: String) async throws -> FixtureProject {
            let project = try await FixtureProject("shell-only")
            try project.write("buildspec.yml", Self.cachingBuildspec)
            try project.write("lock.txt", lock)
            return project
        }
        let first = try await project(lock: "v1")
        let cold = try await first.build(store: storage.store, useCache: false, environment: ["HOME": home])
        #expect(cold.result.succeeded, "\(cold.output)")
        #expect(cold.output.contains("cache: nothing stored"))
        #expect(cold.output.contains("cache saved: "))

        // A new checkout and an empty home: both cache paths come back by the exact key.
        try FileManager.default.removeItem(atPath: home)
        let second = try await project(lock: "v1")
        let warm = try await second.build(store: storage.store, useCache: false, environment: ["HOME": home])
        #expect(warm.output.contains("cache restored: "), "\(warm.output)")
        #expect(warm.output.contains("deps from cache"))
        #expect(warm.output.contains("tool from cache"))
        #expect(warm.output.contains("is stored already"))
        #expect(second.read("out/deps/lib.txt") == "fetched v1\n")

        // Another lock file: no exact key, the newest key starting with "deps-" is restored.
        let third = try await project(lock: "v2")
        let fallback = try await third.build(store: storage.store, useCache: false, environment: ["HOME": home])
        #expect(fallback.output.contains("(fallback)"), "\(fallback.output)")
        #expect(third.read("out/deps/lib.txt") == "fetched v1\n")
    }

    @Test(.requires("git"))
    func aRestoredPhaseBringsBackWhatItPutInCachePaths() async throws {
        let storage = try TemporaryStore()
        let homes = (0..<2).map { _ in
            FileManager.default.temporaryDirectory.path + "/cairn-home-\(UUID().uuidString.prefix(8))"
        }
        defer { for home in homes { try? FileManager.default.removeItem(atPath: home) } }
        let buildspec = """
            version: 0.2
            phases:
              build:
                commands:
                  - mkdir -p ~/deps && echo dependency > ~/deps/lib.txt
            cache:
              action: save
              paths:
                - ~/deps/**/*
            """
        for (index, home) in homes.enumerated() {
            let project = try await FixtureProject("shell-only")
            try project.write("buildspec.yml", buildspec)
            let (result, output) = try await project.build(store: storage.store, environment: ["HOME": home])
            #expect(result.succeeded, "\(output)")
            #expect(result.outcomes["build"] == (index == 0 ? "MISS" : "HIT"))
            #expect(!output.contains("cache restored"))  // action: save never restores
        }
        #expect(try String(contentsOfFile: homes[1] + "/deps/lib.txt", encoding: .utf8) == "dependency\n")
    }

    @Test(.requires("git", "unzip"))
    func zippedArtifactsWithBaseDirectoryExcludesAndSecondaryArtifacts() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              build:
                commands:
                  - mkdir -p dist/lib dist/.hidden logs
                  - echo app > dist/app.txt
                  - echo lib > dist/lib/lib.txt
                  - echo secret > dist/.hidden/key
                  - echo log > logs/build.log
            artifacts:
              name: bundle-$CODEBUILD_BUILD_NUMBER
              base-directory: dist
              files:
                - '**/*'
              exclude-paths:
                - '.hidden/**/*'
              secondary-artifacts:
                logs:
                  files:
                    - logs/*
                  discard-paths: yes
            """
        )
        let (result, output) = try await project.build(
            store: storage.store,
            configure: {
                $0.zipArtifacts = true
                $0.artifactsDestination = "s3://dist/team"
            }
        )
        #expect(result.succeeded, "\(output)")
        #expect(result.artifactLocations == ["s3://dist/team/bundle-1.zip", "s3://dist/team/logs.zip"])
        let metadata = try SQLiteMetadataStore(dataDirectory: storage.directory)
        let zip = try #require(try await metadata.object(bucket: "dist", key: "team/bundle-1.zip"))
        let blobs = try FileBlobStore(dataDirectory: storage.directory)
        let listing = try await ChildProcess.output(
            ["unzip", "-Z1", blobs.path(for: zip.segments[0].digest)], in: project.directory)
        #expect(listing.split(separator: "\n").sorted() == ["app.txt", "lib/lib.txt"])
        let check = try await ChildProcess.output(
            ["unzip", "-t", blobs.path(for: zip.segments[0].digest)], in: project.directory)
        #expect(check.contains("No errors detected"))
        let logs = try #require(try await metadata.object(bucket: "dist", key: "team/logs.zip"))
        let logListing = try await ChildProcess.output(
            ["unzip", "-Z1", blobs.path(for: logs.segments[0].digest)], in: project.directory)
        #expect(logListing == "build.log\n")
    }

    @Test(.requires("git", "unzip"))
    func zippedArtifactsKeepModesAndSymlinksAndCompressFiles() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              build:
                commands:
                  - mkdir -p dist
                  - printf '#!/bin/sh\\necho tool\\n' > dist/tool.sh
                  - chmod 755 dist/tool.sh
                  - seq 1 20000 > dist/big.txt
                  - ln -sf big.txt dist/link.txt
            artifacts:
              name: bundle
              base-directory: dist
              enable-symlinks: yes
              files:
                - '**/*'
            """
        )
        var digests: [String] = []
        for _ in 0..<2 {
            let (result, output) = try await project.build(
                store: storage.store,
                configure: {
                    $0.zipArtifacts = true
                    $0.useCache = false
                    $0.artifactsDestination = "s3://dist/team"
                }
            )
            #expect(result.succeeded, "\(output)")
            let metadata = try SQLiteMetadataStore(dataDirectory: storage.directory)
            let zip = try #require(try await metadata.object(bucket: "dist", key: "team/bundle.zip"))
            digests.append(zip.segments[0].digest.hex)
        }
        // The same files make the same archive: entry times are fixed.
        #expect(digests[0] == digests[1])
        let blobs = try FileBlobStore(dataDirectory: storage.directory)
        let path = blobs.path(for: try #require(BlobDigest(hex: digests[0])))
        let check = try await ChildProcess.output(["unzip", "-t", path], in: project.directory)
        #expect(check.contains("No errors detected"))
        let listing = try await ChildProcess.output(["unzip", "-Zl", path], in: project.directory)
        let lines = listing.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("-rwxr-xr-x") && $0.hasSuffix(" tool.sh") }, "\(listing)")
        #expect(lines.contains { $0.hasPrefix("l") && $0.hasSuffix(" link.txt") }, "\(listing)")
        // Text deflates: the 108 KiB of numbers take a fraction of their size.
        let big = try #require(lines.first { $0.hasSuffix(" big.txt") }, "\(listing)")
        #expect(big.contains("defN") || big.contains("defX") || big.contains("defF"), "\(big)")
        let extract = FileManager.default.temporaryDirectory.path + "/cairn-unzip-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: extract) }
        _ = try await ChildProcess.output(["unzip", "-q", path, "-d", extract], in: project.directory)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: extract + "/link.txt") == "big.txt")
        #expect(FileManager.default.isExecutableFile(atPath: extract + "/tool.sh"))
        #expect(try String(contentsOfFile: extract + "/big.txt", encoding: .utf8).hasPrefix("1\n2\n3\n"))
    }

    @Test(.requires("git"))
    func reportsAreUploadedAndSummarised() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              build:
                commands:
                  - mkdir -p reports
                  - |
                    cat > reports/junit.xml <<'XML'
                    <testsuite name="s"><testcase name="a"/><testcase name="b"><failure message="x"/></testcase><testcase name="c"><skipped/></testcase></testsuite>
                    XML
            reports:
              unit:
                files:
                  - 'reports/*.xml'
            """
        )
        let (result, output) = try await project.build(store: storage.store)
        #expect(result.succeeded, "\(output)")
        #expect(output.contains("3 tests, 1 failed, 0 errors, 1 skipped"), "\(output)")
        #expect(result.artifactLocations.count == 1)
    }
}

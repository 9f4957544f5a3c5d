import CairnTestSupport
import Foundation
import Testing

/// Bazel (Debian's bazel-bootstrap, offline) with `--remote_cache` pointed at Cairn.
@Suite("Bazel remote cache", .serialized)
struct BazelCacheTests {
    @Test(
        "build, bazel clean, build again: every action is a remote cache hit",
        .requires("bazel"))
    func cleanRebuildHitsEverything() async throws {
        let server = try CairnServerProcess()
        try server.start()
        try await Self.buildCleanRebuild(against: server.endpoint)
    }

    /// Builds four genrules with `--remote_cache` at `endpoint` (a Cairn server or a balancer in front of several),
    /// runs `bazel clean`, builds again and expects every action to be a remote cache hit.
    static func buildCleanRebuild(against endpoint: String) async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-bazel-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        let workspace = work.appendingPathComponent("workspace")
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        try "workspace(name = \"cairn_test\")\n".write(
            to: workspace.appendingPathComponent("WORKSPACE"), atomically: true, encoding: .utf8
        )
        try """
        genrule(name = "a", outs = ["a.txt"], cmd = "echo alpha > $@")
        genrule(name = "b", srcs = [":a"], outs = ["b.txt"], cmd = "cat $(location :a) > $@; echo beta >> $@")
        genrule(name = "c", srcs = [":b"], outs = ["c.txt"], cmd = "tr a-z A-Z < $(location :b) > $@")
        genrule(name = "d", outs = ["d.bin"], cmd = "head -c 200000 /dev/zero | tr '\\\\0' 'x' > $@")
        """.write(to: workspace.appendingPathComponent("BUILD"), atomically: true, encoding: .utf8)

        let host = endpoint.replacingOccurrences(of: "http://", with: "")
        let remote =
            "--remote_cache=http://\(CairnServerProcess.accessKeyID):\(CairnServerProcess.secretAccessKey)@\(host)/_cairn/bazel/main"
        let startup = ["bazel", "--batch", "--output_user_root=\(work.appendingPathComponent("root").path)"]
        let build = startup + ["build", "//:c", "//:d", remote, "--spawn_strategy=local"]
        let environment = ProcessInfo.processInfo.environment

        let cold = try await ChildProcess.run(build, environment: environment, directory: workspace)
        #expect(cold.status == 0, "cold build: \(cold.output.suffix(3000))")
        #expect(!cold.output.contains("remote cache hit"), "nothing is cached before the first build")

        let clean = try await ChildProcess.run(startup + ["clean"], environment: environment, directory: workspace)
        #expect(clean.status == 0, "\(clean.output.suffix(2000))")

        let warm = try await ChildProcess.run(build, environment: environment, directory: workspace)
        #expect(warm.status == 0, "warm build: \(warm.output.suffix(3000))")
        #expect(
            warm.output.contains("4 remote cache hit"), "all four actions are remote hits:\n\(warm.output.suffix(3000))"
        )
        let output = try String(
            contentsOf: workspace.appendingPathComponent("bazel-bin/c.txt"), encoding: .utf8
        )
        #expect(output == "ALPHA\nBETA\n")
        _ = try? await ChildProcess.run(startup + ["shutdown"], environment: environment, directory: workspace)
    }
}

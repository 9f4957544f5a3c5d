import CairnTestSupport
import Foundation
import Testing

/// The real-client suites against three `cairn serve` nodes on one PostgreSQL database and one SeaweedFS bucket,
/// through a round-robin balancer (nginx) that sends each request to the next node: a multipart upload's parts, a
/// sync's objects and a build's cache entries land on different nodes, and each client must not notice.
///
/// Every test checks, from each node's own `/_cairn/metrics`, that every node answered some of the requests.
@Suite(
    "Scale-out: the client suites over three nodes behind a round-robin balancer", .serialized,
    .requires("nginx", "curl", "weed", postgres: true))
struct ScaleOutClientTests {
    /// Three nodes and the balancer in front of them.
    struct Cluster {
        let nodes: [CairnServerProcess]
        let balancer: RoundRobinBalancer

        init() async throws {
            nodes = try await ScaleOutTests.startNodes(3)
            balancer = try await RoundRobinBalancer(upstreams: nodes.map(\.endpoint))
        }

        /// `balancer:port` for URLs that carry credentials (`http://user:secret@host/…`).
        var host: String { balancer.endpoint.replacingOccurrences(of: "http://", with: "") }

        /// The environment of a client script, pointed at the balancer.
        var scriptEnvironment: [String: String] { ["CAIRN_ENDPOINT": balancer.endpoint, "CAIRN_BEHIND_NGINX": "1"] }

        /// Expects every node to have answered requests other than the scrape itself, as its metrics count them.
        func expectEveryNodeServed(_ what: String) async throws {
            let curl = try Curl()
            var served: [String: Double] = [:]
            for node in nodes {
                let samples = try await MetricsEndToEndTests.scrape(node, curl)
                let all = samples.value("cairn_requests_total")
                let scrapes = samples.value("cairn_requests_total", ["api": "cairn", "operation": "metrics"])
                served[node.endpoint] = all - scrapes
            }
            let spread = served.sorted { $0.key < $1.key }.map { "\($0.key): \(Int($0.value))" }
            #expect(served.values.allSatisfy { $0 > 0 }, "\(what): requests per node \(spread)")
            #expect(
                balancer.requestsPerUpstream.count == nodes.count,
                "\(what): the balancer's log names every node: \(balancer.requestsPerUpstream)")
        }
    }

    @Test(
        "AWS CLI: cp with a 40 MiB multipart upload, sync, ls, presign, rm and the s3api calls",
        .requires("aws", "jq"))
    func awsCLI() async throws {
        let cluster = try await Cluster()
        var environment = cluster.scriptEnvironment
        environment["CAIRN_BIG_FILE_MIB"] = "40"
        try await Clients.runScript(
            "bash", "awscli.sh", server: cluster.nodes[0], bucketPrefix: "lb-cli", extraEnvironment: environment)
        try await cluster.expectEveryNodeServed("AWS CLI")
    }

    @Test(
        "boto3: put, get, list, multipart transfers, copies, ranges and presigned URLs",
        .requires("python3", python: ["boto3"]))
    func boto3() async throws {
        let cluster = try await Cluster()
        try await Clients.runScript(
            "python3", "boto3_client.py", server: cluster.nodes[0], bucketPrefix: "lb-boto",
            extraEnvironment: cluster.scriptEnvironment)
        try await cluster.expectEveryNodeServed("boto3")
    }

    @Test("rclone: copy with multipart uploads, check, sync, copy back", .requires("rclone"))
    func rclone() async throws {
        let cluster = try await Cluster()
        try await Clients.runScript(
            "bash", "rclone.sh", server: cluster.nodes[0], bucketPrefix: "lb-rclone",
            extraEnvironment: cluster.scriptEnvironment)
        try await cluster.expectEveryNodeServed("rclone")
    }

    @Test(
        "ccache: gcc through ccache twice, the second time from an emptied local cache, all remote hits",
        .requires("ccache", "gcc"))
    func ccache() async throws {
        let cluster = try await Cluster()
        let work = try TemporaryDirectory(prefix: "cairn-ccache")
        let project = work.appending("project")
        try CacheClientTests.writeCProject(in: project)
        var environment = ProcessInfo.processInfo.environment
        environment["CCACHE_DIR"] = work.appending("ccache").path
        environment["CCACHE_CONFIGPATH"] = "/dev/null"
        let credentials = "\(CairnServerProcess.accessKeyID):\(CairnServerProcess.secretAccessKey)"
        environment["CCACHE_REMOTE_STORAGE"] = "http://\(credentials)@\(cluster.host)/_cairn/ccache/builds"

        _ = try await ChildProcess.run(["ccache", "-z"], environment: environment)
        let cold = try await CacheClientTests.compile(project, environment: environment)
        #expect(cold["remote_storage_write", default: 0] >= 5, "the cold build writes every result: \(cold)")

        _ = try await ChildProcess.run(["ccache", "-C"], environment: environment)
        _ = try await ChildProcess.run(["ccache", "-z"], environment: environment)
        let warm = try await CacheClientTests.compile(project, environment: environment)
        #expect(warm["remote_storage_read_hit", default: 0] >= 5, "every compile is a remote hit: \(warm)")
        #expect(warm["remote_storage_read_miss", default: 0] == 0, "no remote misses: \(warm)")
        #expect(warm["cache_miss", default: 0] == 0, "nothing compiled again: \(warm)")
        try await cluster.expectEveryNodeServed("ccache")
    }

    @Test("Bazel: build, clean, build again with --remote_cache: every action a remote hit", .requires("bazel"))
    func bazel() async throws {
        let cluster = try await Cluster()
        try await BazelCacheTests.buildCleanRebuild(against: cluster.balancer.endpoint)
        try await cluster.expectEveryNodeServed("Bazel")
    }

    @Test("cairn build --store: a second checkout restores every phase", .requires("git"))
    func runner() async throws {
        let cluster = try await Cluster()
        let buildspec = """
            version: 0.2
            phases:
              install:
                commands:
                  - mkdir -p out
                  - seq 1 2000 > out/numbers.txt
              build:
                commands:
                  - sort -rn out/numbers.txt > out/sorted.txt
                  - head -c 300000 /dev/urandom > out/blob.bin
              post_build:
                commands:
                  - wc -l < out/sorted.txt > out/count.txt
            """
        var environment = ProcessInfo.processInfo.environment
        environment["AWS_ACCESS_KEY_ID"] = CairnServerProcess.accessKeyID
        environment["AWS_SECRET_ACCESS_KEY"] = CairnServerProcess.secretAccessKey
        let cairn = CairnServerProcess.executable.path
        var outputs: [String] = []
        for checkout in ["first", "second"] {
            let directory = try TemporaryDirectory(prefix: "cairn-scaleout-\(checkout)")
            try Data(buildspec.utf8).write(to: directory.appending("buildspec.yml"))
            try await ChildProcess.output(["git", "init", "-q"], in: directory.path)
            try await ChildProcess.output(["git", "add", "-A"], in: directory.path)
            try await ChildProcess.output(
                ["git", "-c", "user.email=ci@example.com", "-c", "user.name=CI", "commit", "-q", "-m", "buildspec"],
                in: directory.path)
            let result = try await ChildProcess.run(
                [cairn, "build", "--store", cluster.balancer.endpoint, "--project", "scaleout"],
                environment: environment, directory: directory.url)
            #expect(result.status == 0, "\(checkout) build: \(result.output.suffix(3000))")
            outputs.append(result.output)
        }
        #expect(outputs[0].contains("3 ran, 0 restored"), "the first build runs every phase: \(outputs[0])")
        #expect(outputs[1].contains("0 ran, 3 restored"), "the second restores every phase: \(outputs[1])")
        try await cluster.expectEveryNodeServed("cairn build")
    }
}

import CairnCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// nginx (Debian's `nginx`) on a free loopback port in front of several servers, as a load balancer in front of
/// Cairn nodes: each request goes to the next server in turn, whatever connection it came on.
///
/// Bodies stream both ways (`proxy_request_buffering off`, `proxy_buffering off`, no size limit) and the `Host`
/// header passes unchanged, so SigV4 signatures made for the balancer's address verify on every node. A request is
/// never retried on another node (`proxy_next_upstream off`): a node's failure reaches the client.
public final class RoundRobinBalancer: @unchecked Sendable {  // mutated only by the test that owns it
    /// The URL clients use (`http://127.0.0.1:<port>`).
    public let endpoint: String
    private let directory: URL
    private let process: SpawnedProcess

    /// Starts nginx in front of `upstreams` (`http://127.0.0.1:<port>` URLs) and waits until it answers.
    public init(upstreams: [String]) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-balancer-\(UUID().uuidString)")
        for folder in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let port = try PostgresServer.freePort()
        endpoint = "http://127.0.0.1:\(port)"
        let path = directory.path
        let servers = upstreams.map { "server \($0.replacingOccurrences(of: "http://", with: ""));" }
        // One process and no master: nothing changes user, so it runs as whoever runs the tests.
        let configuration = """
            daemon off;
            master_process off;
            worker_processes 1;
            pid \(path)/nginx.pid;
            error_log \(path)/error.log warn;
            events { worker_connections 1024; }
            http {
                log_format upstream '$upstream_addr $request_method $status';
                access_log \(path)/access.log upstream;
                client_max_body_size 0;
                client_body_temp_path \(path)/body;
                proxy_temp_path \(path)/proxy;
                fastcgi_temp_path \(path)/fastcgi;
                uwsgi_temp_path \(path)/uwsgi;
                scgi_temp_path \(path)/scgi;
                upstream cairn { \(servers.joined(separator: " ")) }
                server {
                    listen 127.0.0.1:\(port);
                    merge_slashes off;
                    large_client_header_buffers 8 64k;
                    location / {
                        proxy_pass http://cairn;
                        proxy_http_version 1.1;
                        proxy_set_header Host $http_host;
                        proxy_set_header Connection "";
                        proxy_request_buffering off;
                        proxy_buffering off;
                        proxy_next_upstream off;
                        proxy_read_timeout 600s;
                        proxy_send_timeout 600s;
                    }
                }
            }
            """
        let file = directory.appendingPathComponent("nginx.conf")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        guard let nginx = Prerequisite.path(of: "nginx") else {
            throw CommandFailure(description: "nginx is not installed (apt-get install nginx)")
        }
        process = try SpawnedProcess(
            executable: nginx, arguments: ["-p", path, "-c", file.path, "-e", "\(path)/error.log"],
            standardOutput: .null, standardError: .null)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let probe = try await ChildProcess.run(["curl", "-s", "-o", "/dev/null", endpoint + "/_cairn/health"])
            if probe.status == 0 { return }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let log = (try? String(contentsOfFile: "\(path)/error.log", encoding: .utf8)) ?? ""
        throw CommandFailure(description: "nginx did not answer on \(endpoint) within 30 s:\n\(log.suffix(3000))")
    }

    /// How many requests nginx sent to each upstream (`127.0.0.1:<port>`), from its access log.
    public var requestsPerUpstream: [String: Int] {
        let log = (try? String(contentsOf: directory.appendingPathComponent("access.log"), encoding: .utf8)) ?? ""
        var counts: [String: Int] = [:]
        for line in log.split(separator: "\n") {
            guard let upstream = line.split(separator: " ").first else { continue }
            counts[String(upstream), default: 0] += 1
        }
        return counts
    }

    deinit {
        process.send(SIGKILL)
        _ = process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}

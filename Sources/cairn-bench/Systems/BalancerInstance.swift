import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// nginx as a round-robin load balancer in front of several Cairn nodes on loopback: each request goes to the next
/// node, bodies stream both ways unbuffered, and `Host` passes unchanged so that SigV4 signatures made for the
/// balancer verify on the nodes. Connections to the nodes are kept alive, as a production balancer would.
final class BalancerInstance: Sendable {
    let child: ChildProcess
    let port: Int

    init(upstreamPorts: [Int], workDirectory: URL, logDirectory: URL) async throws {
        let prefix = workDirectory.appendingPathComponent("balancer")
        for folder in ["body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"] {
            try FileManager.default.createDirectory(
                at: prefix.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        port = try LoopbackSocket.freePort()
        let p = prefix.path
        let user = getuid() == 0 ? "user root;" : ""
        let servers = upstreamPorts.map { "server 127.0.0.1:\($0);" }.joined(separator: " ")
        let configuration = """
            \(user)
            worker_processes auto;
            daemon off;
            master_process on;
            pid \(p)/nginx.pid;
            error_log \(p)/logs/error.log warn;
            events { worker_connections 4096; }
            http {
                access_log off;
                keepalive_requests 1000000;
                keepalive_timeout 120s;
                client_max_body_size 0;
                client_body_temp_path \(p)/body;
                proxy_temp_path \(p)/proxy;
                fastcgi_temp_path \(p)/fastcgi;
                uwsgi_temp_path \(p)/uwsgi;
                scgi_temp_path \(p)/scgi;
                upstream cairn { \(servers) keepalive 256; keepalive_requests 1000000; }
                server {
                    listen 127.0.0.1:\(port);
                    merge_slashes off;
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
        let file = prefix.appendingPathComponent("nginx.conf")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        child = try ChildProcess(
            name: "balancer", arguments: ["nginx", "-p", p, "-c", file.path], logDirectory: logDirectory)
        let deadline = ContinuousClock.now + .seconds(30)
        while LoopbackSocket.httpStatus(port: port, path: "/_cairn/health") != 200 {
            guard child.isRunning else { throw BenchError("nginx (balancer) exited: \(child.log.suffix(2000))") }
            guard ContinuousClock.now < deadline else { throw BenchError("the balancer did not answer within 30 s") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The pids of nginx's master and workers, for CPU accounting.
    var processIDs: [Int32] { [child.pid] + ProcessCPU.children(of: child.pid) }

    func stop() async { await child.stop(signal: SIGQUIT) }
}

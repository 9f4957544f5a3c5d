import Foundation

/// nginx from the distribution, on a free loopback port: static GET with sendfile, and WebDAV `PUT` into the
/// same directory (the core dav module), with its body temp files on the same file system.
final class NginxInstance: Sendable {
    let child: ChildProcess
    let port: Int
    let root: URL

    init(workDirectory: URL, logDirectory: URL) async throws {
        let prefix = workDirectory.appendingPathComponent("nginx")
        root = prefix.appendingPathComponent("www")
        for folder in ["www/bench", "body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"] {
            try FileManager.default.createDirectory(
                at: prefix.appendingPathComponent(folder), withIntermediateDirectories: true
            )
        }
        port = try LoopbackSocket.freePort()
        let p = prefix.path
        // `user root` only because the benchmark runs as root in CI; workers must write the temp and www folders.
        let user = getuid() == 0 ? "user root;" : ""
        let configuration = """
            \(user)
            worker_processes auto;
            daemon off;
            master_process on;
            pid \(p)/nginx.pid;
            error_log \(p)/logs/error.log warn;
            events { worker_connections 1024; }
            http {
                access_log off;
                sendfile on;
                tcp_nopush on;
                keepalive_requests 1000000;
                keepalive_timeout 120s;
                client_max_body_size 0;
                client_body_temp_path \(p)/body;
                proxy_temp_path \(p)/proxy;
                fastcgi_temp_path \(p)/fastcgi;
                uwsgi_temp_path \(p)/uwsgi;
                scgi_temp_path \(p)/scgi;
                server {
                    listen 127.0.0.1:\(port);
                    root \(p)/www;
                    location / {
                        dav_methods PUT;
                        create_full_put_path on;
                        dav_access user:rw group:r all:r;
                    }
                }
            }
            """
        let configurationFile = prefix.appendingPathComponent("nginx.conf")
        try configuration.write(to: configurationFile, atomically: true, encoding: .utf8)
        child = try ChildProcess(
            name: "nginx", arguments: ["nginx", "-p", p, "-c", configurationFile.path], logDirectory: logDirectory
        )
        let deadline = ContinuousClock.now + .seconds(30)
        while LoopbackSocket.httpStatus(port: port, path: "/") == nil {
            guard child.isRunning else { throw BenchError("nginx exited: \(child.log.suffix(2000))") }
            guard ContinuousClock.now < deadline else { throw BenchError("nginx did not answer within 30 s") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    var endpoint: ObjectEndpoint {
        ObjectEndpoint(system: "nginx", baseURL: "http://127.0.0.1:\(port)", prefix: "/bench", signer: nil)
    }

    /// SIGQUIT: nginx's graceful shutdown.
    func stop() async { await child.stop(signal: SIGQUIT) }
}

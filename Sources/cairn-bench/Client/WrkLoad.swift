import Foundation

/// The 4 KiB load, driven by `wrk` (Debian's package) with a Lua script: `connections` keep-alive connections on
/// two client threads, each sending its next request as soon as the last one is answered, for a fixed time.
///
/// A C load client leaves the two cores to the servers: an in-process Swift client was itself a third of the
/// CPU at these rates. S3 systems get presigned URLs (computed before the phase, so the client signs nothing
/// while it measures); the server still verifies a full SigV4 signature on every request.
struct WrkLoad: Sendable {
    let connections: Int
    let duration: Duration
    let directory: URL
    /// How many distinct keys a PUT phase cycles through (a phase that sends more overwrites, with new content).
    let keys: Int

    /// What one phase measured.
    struct Result: Sendable {
        var requests: Int
        var seconds: Double
        var p50: Double
        var p99: Double
        /// The fewest PUTs any client thread sent: keys 0 ..< threads × this were all written.
        var fewestPerThread: Int
        var requestsPerSecond: Double { Double(requests) / seconds }
    }

    static let threads = 2

    init(connections: Int, duration: Duration, directory: URL, keys: Int) throws {
        self.connections = connections
        self.duration = duration
        self.directory = directory
        self.keys = keys
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.script.write(to: scriptFile, atomically: true, encoding: .utf8)
    }

    private var scriptFile: URL { directory.appendingPathComponent("load.lua") }

    /// PUTs `keys` fresh 4 KiB objects under `prefix` (each body stamped with its key and a counter, so no two
    /// are alike and no store can skip writing one).
    func put(_ endpoint: ObjectEndpoint, prefix: String, size: Int) async throws -> Result {
        let urls = try writeURLs(endpoint, method: "PUT", prefix: prefix, count: keys)
        return try await run(endpoint, mode: "put", urls: urls, count: keys, size: size)
    }

    /// GETs the objects `put` wrote, checking each status and body length.
    func get(_ endpoint: ObjectEndpoint, prefix: String, after put: Result, size: Int) async throws -> Result {
        // A thread's last requests may have been cut off when the phase ended: leave out one per connection.
        let written = min(keys, max(1, (put.fewestPerThread - connections / Self.threads) * Self.threads))
        let urls = try writeURLs(endpoint, method: "GET", prefix: prefix, count: written)
        return try await run(endpoint, mode: "get", urls: urls, count: written, size: size)
    }

    /// GETs one unsigned path over and over, checking only the status: the HTTP layer's own ceiling.
    func probe(port: Int, path: String) async throws -> Result {
        let file = directory.appendingPathComponent("probe.urls")
        try (path + "\n").write(to: file, atomically: true, encoding: .utf8)
        return try await run(baseURL: "http://127.0.0.1:\(port)", mode: "get", urls: file, count: 1, size: -1)
    }

    /// One line per key: the path and query of its (presigned, for S3) URL.
    private func writeURLs(_ endpoint: ObjectEndpoint, method: String, prefix: String, count: Int) throws -> URL {
        let paths = (0..<count).map { "\(endpoint.prefix)/\(prefix)/\($0)" }
        let lines = endpoint.plainPaths(method: method, paths: paths)
        let file = directory.appendingPathComponent("\(endpoint.system)-\(prefix)-\(method).urls")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    private func run(_ endpoint: ObjectEndpoint, mode: String, urls: URL, count: Int, size: Int) async throws
        -> Result
    {
        try await run(baseURL: endpoint.baseURL, mode: mode, urls: urls, count: count, size: size)
    }

    private func run(baseURL: String, mode: String, urls: URL, count: Int, size: Int) async throws -> Result {
        let seconds = max(1, Int(duration.seconds.rounded()))
        let output = try await Shell.check([
            "wrk", "-t", String(Self.threads), "-c", String(connections), "-d", "\(seconds)s", "--timeout", "30s",
            "-s", scriptFile.path, baseURL, "--", mode, urls.path, String(count), String(size),
            String(Self.threads),
        ])
        guard let line = output.stdout.split(separator: "\n").last(where: { $0.hasPrefix("CAIRN-BENCH ") }) else {
            throw BenchError("wrk printed no summary: \(output.combined.suffix(2000))")
        }
        var fields: [String: Double] = [:]
        for pair in line.split(separator: " ").dropFirst() {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let value = Double(parts[1]) { fields[String(parts[0])] = value }
        }
        let failures = Int(fields["failed", default: 1]) + Int(fields["short", default: 1])
        let socketErrors = Int(fields["socket_errors", default: 1])
        guard failures == 0, socketErrors == 0 else {
            throw BenchError(
                "\(mode) on \(baseURL): \(failures) failed or short responses, \(socketErrors) socket errors: \(output.combined.suffix(1500))"
            )
        }
        return Result(
            requests: Int(fields["requests", default: 0]), seconds: fields["duration_us", default: 1] / 1e6,
            p50: fields["p50_us", default: 0] / 1e6, p99: fields["p99_us", default: 0] / 1e6,
            fewestPerThread: Int(fields["fewest", default: 0])
        )
    }

    /// Arguments after `--`: mode (put or get), the file of URL paths, how many of its lines to use, the body size
    /// (a GET checks it; -1: do not check) and the number of client threads. Thread n (from 1) takes the lines
    /// n, n + threads, n + 2 × threads, … and wraps around.
    static let script = """
        local threads = {}
        local created = 0

        function setup(thread)
          created = created + 1
          thread:set("id", created)
          table.insert(threads, thread)
        end

        function init(args)
          mode = args[1]
          size = tonumber(args[4])
          stride = tonumber(args[5])
          local limit = tonumber(args[3])
          paths = {}
          for line in io.lines(args[2]) do
            if #paths >= limit then break end
            paths[#paths + 1] = line
          end
          position = id - 1
          sent = 0
          failed = 0
          short = 0
          if size > 0 then pad = string.rep("0123456789abcdef", math.ceil(size / 16)) end
        end

        function request()
          local path = paths[position % #paths + 1]
          if id == 1 and not verified then
            -- wrk builds one request on its first thread to check the script and never sends it: that first
            -- call does not use up a key (with a wrk that does not, the first key is simply sent twice).
            verified = true
          else
            position = position + stride
            sent = sent + 1
          end
          if mode == "put" then
            local head = path .. "\\n" .. id .. "-" .. sent .. "\\n"
            return wrk.format("PUT", path, nil, head .. pad:sub(1, size - #head))
          end
          return wrk.format("GET", path)
        end

        function response(status, headers, body)
          if status < 200 or status > 299 then
            failed = failed + 1
            if failed <= 3 then io.stderr:write(mode .. " answered " .. status .. ": " .. body:sub(1, 300) .. "\\n") end
          elseif mode == "get" and size >= 0 and #body ~= size then
            short = short + 1
          end
        end

        function done(summary, latency, requests)
          local failedAll, shortAll, fewest = 0, 0, nil
          for _, thread in ipairs(threads) do
            failedAll = failedAll + thread:get("failed")
            shortAll = shortAll + thread:get("short")
            local n = thread:get("sent")
            if fewest == nil or n < fewest then fewest = n end
          end
          local e = summary.errors
          io.write(string.format(
            "CAIRN-BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d failed=%d short=%d socket_errors=%d fewest=%d\\n",
            summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), failedAll, shortAll,
            e.connect + e.read + e.write + e.timeout, fewest or 0))
        end
        """
}

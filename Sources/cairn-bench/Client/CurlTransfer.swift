import Foundation

/// One large object over one stream with curl, the same way against every system (a presigned URL for S3).
enum CurlTransfer {
    /// PUTs a file; returns bytes per second over curl's whole transfer time (until the response arrived).
    static func put(file: URL, url: String) async throws -> Double {
        let output = try await Shell.run([
            "curl", "-sS", "-f", "-o", "/dev/null", "-w", "%{http_code} %{size_upload} %{time_total}", "-T", file.path,
            url,
        ])
        return try rate(output, what: "PUT \(file.lastPathComponent)")
    }

    /// GETs into /dev/null; returns bytes per second, checking the length.
    static func get(url: String, expectedBytes: Int) async throws -> Double {
        let output = try await Shell.run([
            "curl", "-sS", "-f", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}", url,
        ])
        let bytesPerSecond = try rate(output, what: "GET")
        let size = output.stdout.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0
        guard Int(size) == expectedBytes else {
            throw BenchError("GET \(url) returned \(Int(size)) bytes, not \(expectedBytes)")
        }
        return bytesPerSecond
    }

    private static func rate(_ output: Shell.Output, what: String) throws -> Double {
        let fields = output.stdout.split(separator: " ")
        guard output.status == 0, fields.count == 3, let bytes = Double(fields[1]), let seconds = Double(fields[2]),
            seconds > 0
        else { throw BenchError("curl \(what) failed (\(output.status)): \(output.combined.prefix(1000))") }
        return bytes / seconds
    }
}

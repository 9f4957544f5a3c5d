import CairnTestSupport
import Foundation

/// Requests through curl, a real HTTP client: plain, with Basic credentials, or signed with SigV4 (curl's own
/// `--aws-sigv4`).
struct Curl {
    enum Credentials {
        case none
        case basic(user: String, password: String)
        case sigV4(accessKeyID: String, secretAccessKey: String)
    }

    let work: TemporaryDirectory

    init() throws {
        work = try TemporaryDirectory(prefix: "cairn-curl")
    }

    /// Sends a request; returns the status and the body. `upload` is sent as the body (curl's `--data-binary @`).
    func send(
        _ method: String, _ url: String, credentials: Credentials = .none, upload: URL? = nil,
        headers: [String] = []
    ) async throws -> (status: Int, body: Data) {
        let bodyFile = work.appending("body-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: bodyFile) }
        var arguments = ["curl", "-s", "-o", bodyFile.path, "-w", "%{http_code}"]
        arguments += method == "HEAD" ? ["-I"] : ["-X", method]
        switch credentials {
        case .none: break
        case .basic(let user, let password): arguments += ["-u", "\(user):\(password)"]
        case .sigV4(let accessKeyID, let secretAccessKey):
            arguments += ["--aws-sigv4", "aws:amz:us-east-1:s3", "-u", "\(accessKeyID):\(secretAccessKey)"]
            arguments += ["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]
        }
        if let upload { arguments += ["--data-binary", "@\(upload.path)"] }
        for header in headers { arguments += ["-H", header] }
        arguments.append(url)
        let result = try await ChildProcess.run(arguments)
        guard result.status == 0, let status = Int(result.output.suffix(3)) else {
            throw CurlFailure("curl \(method) \(url) failed with status \(result.status): \(result.output)")
        }
        return (status, (try? Data(contentsOf: bodyFile)) ?? Data())
    }
}

/// curl could not complete a request (not an HTTP error status: those are returned).
struct CurlFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

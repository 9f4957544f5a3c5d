import Foundation

/// Where an ``S3BlobStore`` keeps blobs: an S3-compatible endpoint, a bucket, a key prefix and the credentials
/// that sign requests to it.
public struct ObjectStoreLocation: Sendable, Hashable {
    /// `http://host:port` or `https://host` of the S3 API, without a path.
    public var endpoint: String
    public var bucket: String
    /// The prefix every blob key starts with (no leading or trailing `/`); empty for the bucket's root.
    public var prefix: String
    public var region: String
    public var accessKeyID: String
    public var secretAccessKey: String

    public init(
        endpoint: String, bucket: String, prefix: String = "", region: String = "us-east-1", accessKeyID: String,
        secretAccessKey: String
    ) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.bucket = bucket
        self.prefix = prefix.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        self.region = region
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
    }

    /// Reads `s3://bucket/prefix` and the endpoint's URL; throws ``ObjectStoreError`` saying what is wrong.
    public init(
        url: String, endpoint: String, region: String = "us-east-1", accessKeyID: String, secretAccessKey: String
    ) throws {
        guard let components = URLComponents(string: url), components.scheme == "s3",
            let bucket = components.host, !bucket.isEmpty
        else {
            throw ObjectStoreError("blob location \"\(url)\" is not s3://bucket/prefix")
        }
        guard let endpointURL = URL(string: endpoint), ["http", "https"].contains(endpointURL.scheme ?? ""),
            endpointURL.host != nil
        else {
            throw ObjectStoreError("the S3 endpoint \"\(endpoint)\" is not an http:// or https:// URL")
        }
        self.init(
            endpoint: endpoint, bucket: bucket, prefix: components.path, region: region, accessKeyID: accessKeyID,
            secretAccessKey: secretAccessKey)
    }

    /// `host[:port]` of the endpoint, as requests send and sign it.
    var host: String {
        let url = URL(string: endpoint)
        return (url?.host ?? "") + (url?.port.map { ":\($0)" } ?? "")
    }

    /// The decoded path of a blob's object: `/bucket/prefix/ab/abcdef…`.
    func path(of hex: String) -> String {
        "/\(bucket)/" + (prefix.isEmpty ? "" : prefix + "/") + "\(hex.prefix(2))/\(hex)"
    }
}

import CairnCore
import CairnObjectStore

extension ServerSettings {
    /// Whether this node shares its storage with others: metadata in PostgreSQL, blobs in an object store.
    public var usesSharedStorage: Bool { metadataURL != nil }

    /// Refuses combinations of shared and local storage that would lose or hide data once a second node starts.
    func validateSharedStorage() throws {
        switch (metadataURL, blobURL) {
        case (nil, nil):
            return
        case (.some, nil):
            throw SettingsError(
                "metadata.url names PostgreSQL but blobs.url is not set: each node would keep blobs in its own data "
                    + "directory, and metadata written on one node would name blobs the others cannot read. Set "
                    + "blobs.url to s3://bucket/prefix with blobs.endpoint and its credentials (CAIRN_BLOB_*)")
        case (nil, .some):
            throw SettingsError(
                "blobs.url names an object store but metadata.url is not set: the embedded SQLite metadata belongs to "
                    + "one node. Set metadata.url to postgres://user:password@host:port/database (CAIRN_METADATA_URL)")
        case (.some(let metadata), .some(let blobs)):
            _ = try wrapped { try PostgresURL(metadata) }
            guard let endpoint = blobEndpoint, let key = blobAccessKeyID, let secret = blobSecretAccessKey else {
                throw SettingsError(
                    "blobs.url \(blobs) needs blobs.endpoint, blobs.access_key_id and blobs.secret_access_key "
                        + "(CAIRN_BLOB_ENDPOINT, CAIRN_BLOB_ACCESS_KEY_ID, CAIRN_BLOB_SECRET_ACCESS_KEY)")
            }
            _ = try wrapped {
                try ObjectStoreLocation(
                    url: blobs, endpoint: endpoint, region: blobRegion, accessKeyID: key, secretAccessKey: secret)
            }
            if rootAccessKeyID == nil {
                throw SettingsError(
                    "nodes that share PostgreSQL need the same root credentials: set auth.root_access_key_id and "
                        + "auth.root_secret_access_key (CAIRN_ROOT_ACCESS_KEY_ID, CAIRN_ROOT_SECRET_ACCESS_KEY) to the "
                        + "same values on every node")
            }
        }
    }

    /// The object store location of ``blobURL``; call after ``validate()``.
    func objectStoreLocation() throws -> ObjectStoreLocation? {
        guard let blobURL, let endpoint = blobEndpoint, let key = blobAccessKeyID, let secret = blobSecretAccessKey
        else { return nil }
        return try wrapped {
            try ObjectStoreLocation(
                url: blobURL, endpoint: endpoint, region: blobRegion, accessKeyID: key, secretAccessKey: secret)
        }
    }

    private func wrapped<Value>(_ body: () throws -> Value) throws -> Value {
        do {
            return try body()
        } catch let error as PostgresMetadataError {
            throw SettingsError(error.description)
        } catch let error as ObjectStoreError {
            throw SettingsError(error.description)
        }
    }
}

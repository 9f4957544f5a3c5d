import CairnServer
import Testing

/// The settings of several nodes on shared storage: both parts or neither, and what they need.
@Suite("Shared storage settings")
struct SharedStorageSettingsTests {
    static func shared() -> ServerSettings {
        var settings = ServerSettings()
        settings.metadataURL = "postgres://cairn:secret@db.internal:5432/cairn"
        settings.blobURL = "s3://cache/cairn"
        settings.blobEndpoint = "http://objects.internal:8333"
        settings.blobAccessKeyID = "key"
        settings.blobSecretAccessKey = "secret"
        settings.rootAccessKeyID = "ROOTKEY"
        settings.rootSecretAccessKey = "root-secret"
        return settings
    }

    /// The message `validate()` refuses `settings` with, or nil when it accepts them.
    static func refusal(_ settings: ServerSettings) -> String? {
        do {
            try settings.validate()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("The embedded default and a complete shared configuration are accepted")
    func accepted() {
        #expect(Self.refusal(ServerSettings()) == nil)
        #expect(Self.refusal(Self.shared()) == nil)
        #expect(Self.shared().usesSharedStorage)
        #expect(!ServerSettings().usesSharedStorage)
    }

    @Test("PostgreSQL with blobs in the data directory is refused, with the reason and the fix")
    func postgresWithLocalBlobs() throws {
        var settings = Self.shared()
        settings.blobURL = nil
        let message = try #require(Self.refusal(settings))
        #expect(message.contains("blobs.url"))
        #expect(message.contains("cannot read"))
    }

    @Test("An object store with the embedded SQLite metadata is refused")
    func objectStoreWithSQLite() throws {
        var settings = Self.shared()
        settings.metadataURL = nil
        #expect(try #require(Self.refusal(settings)).contains("metadata.url"))
    }

    @Test("Shared storage needs the endpoint, its credentials and the same root credentials on every node")
    func incomplete() throws {
        var noEndpoint = Self.shared()
        noEndpoint.blobEndpoint = nil
        #expect(try #require(Self.refusal(noEndpoint)).contains("blobs.endpoint"))
        var noRoot = Self.shared()
        noRoot.rootAccessKeyID = nil
        noRoot.rootSecretAccessKey = nil
        #expect(try #require(Self.refusal(noRoot)).contains("same root credentials"))
        var badURL = Self.shared()
        badURL.metadataURL = "mysql://db/cairn"
        #expect(try #require(Self.refusal(badURL)).contains("postgres://"))
        var badBlobs = Self.shared()
        badBlobs.blobURL = "/var/cairn/blobs"
        #expect(try #require(Self.refusal(badBlobs)).contains("s3://bucket/prefix"))
    }
}

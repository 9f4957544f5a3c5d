import CairnCore
import HTTPTypes
import Testing

@testable import CairnS3

/// A backend that cannot serve now reaches S3 clients as `503 SlowDown` with `Retry-After`, which the AWS SDKs and
/// CLI retry with backoff, never as an `InternalError` they would give up on.
@Suite("Unavailable backends as S3 answers")
struct StorageUnavailableMappingTests {
    @Test("StorageUnavailable, of the database or the object store, is 503 SlowDown naming it, with Retry-After")
    func mapping() {
        for (backend, name) in [(StorageUnavailable.Backend.metadata, "metadata database"), (.blobs, "object store")] {
            let error = S3Service.s3Error(for: StorageUnavailable(backend, "connection refused"))
            #expect(error.code == "SlowDown")
            #expect(error.status == .serviceUnavailable)
            #expect(error.message.contains(name), "\(error.message)")
            #expect(error.message.contains("connection refused"))
            #expect(error.headers.contains { $0.0 == .retryAfter && $0.1 == "1" })
        }
    }
}

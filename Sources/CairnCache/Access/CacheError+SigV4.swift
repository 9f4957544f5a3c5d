import CairnSigV4

extension CacheError {
    /// The build-cache answer to a refused signature: 401, naming S3's code and message for what was wrong.
    init(_ error: SigV4Error) {
        self = .unauthorized("\(error.code): \(error.message)")
    }
}

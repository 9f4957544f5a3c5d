import CairnSigV4
import HTTPTypes

extension S3Error {
    /// The S3 answer to a refused signature: the verifier's code, message, status and details, unchanged.
    init(_ error: SigV4Error) {
        let status: HTTPResponse.Status =
            switch error.status {
            case 400: .badRequest
            case 403: .forbidden
            default: .init(code: error.status)
            }
        self.init(error.code, error.message, status: status)
        details = error.details
    }
}

import HTTPTypes
import Hummingbird
import NIOCore

/// An S3 error response: S3's own code, HTTP status and XML body.
public struct S3Error: Error, Sendable, CustomStringConvertible {
    /// S3's error code, e.g. `NoSuchKey`.
    public let code: String
    /// A sentence for a person.
    public let message: String
    /// The HTTP status.
    public let status: HTTPResponse.Status
    /// The bucket or key the error is about, echoed as `<Resource>`.
    public var resource: String?
    /// Extra elements S3 adds for some codes (e.g. `StringToSign` for `SignatureDoesNotMatch`).
    public var details: [(String, String)] = []
    /// Extra response headers.
    public var headers: [(HTTPField.Name, String)] = []

    public init(_ code: String, _ message: String, status: HTTPResponse.Status, resource: String? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.resource = resource
    }

    public var description: String { "\(code): \(message)" }

    /// The XML body S3 sends.
    public func xml(requestID: String) -> String {
        let xml = XMLWriter()
        xml.element("Error") {
            xml.element("Code", code)
            xml.element("Message", message)
            if let resource { xml.element("Resource", resource) }
            for (name, value) in details { xml.element(name, value) }
            xml.element("RequestId", requestID)
        }
        return xml.document
    }

    /// The response; HEAD requests get no body, as S3 sends none.
    public func response(requestID: String, method: HTTPRequest.Method) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/xml"
        for (name, value) in headers { fields[name] = value }
        if method == .head || status == .notModified {
            return Response(status: status, headers: fields)
        }
        let body = ByteBuffer(string: xml(requestID: requestID))
        fields[.contentLength] = String(body.readableBytes)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: body))
    }
}

extension S3Error {
    public static func noSuchBucket(_ bucket: String) -> S3Error {
        S3Error("NoSuchBucket", "The specified bucket does not exist", status: .notFound, resource: bucket)
    }
    public static func noSuchKey(_ key: String) -> S3Error {
        S3Error("NoSuchKey", "The specified key does not exist.", status: .notFound, resource: key)
    }
    public static func noSuchUpload(_ id: String) -> S3Error {
        S3Error(
            "NoSuchUpload",
            "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
            status: .notFound, resource: id
        )
    }
    public static func invalidArgument(_ message: String) -> S3Error {
        S3Error("InvalidArgument", message, status: .badRequest)
    }
    public static func invalidRequest(_ message: String) -> S3Error {
        S3Error("InvalidRequest", message, status: .badRequest)
    }
    public static func malformedXML(_ detail: String) -> S3Error {
        S3Error(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema: \(detail)",
            status: .badRequest
        )
    }
    public static let preconditionFailed = S3Error(
        "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
        status: .preconditionFailed
    )
    public static func badDigest(_ message: String) -> S3Error {
        S3Error("BadDigest", message, status: .badRequest)
    }
    public static func accessDenied(_ message: String) -> S3Error {
        S3Error("AccessDenied", message, status: .forbidden)
    }
    public static func notImplemented(_ what: String) -> S3Error {
        S3Error("NotImplemented", "\(what) is not implemented by Cairn", status: .init(code: 501))
    }
    public static func internalError(_ message: String) -> S3Error {
        S3Error("InternalError", message, status: .internalServerError)
    }
    public static func incompleteBody(_ message: String) -> S3Error {
        S3Error("IncompleteBody", message, status: .badRequest)
    }
}

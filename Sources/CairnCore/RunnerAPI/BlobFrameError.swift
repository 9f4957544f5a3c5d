/// A stream of blob frames that is not the answer asked for; its description says how, for a person.
public struct BlobFrameError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Hashable {
        case malformedHeader(String)
        case headerTooLong
        case unexpectedBlob(sent: String, expected: BlobDigest)
        case tooManyBlobs(asked: Int)
        case endedEarly(received: Int, asked: Int)
    }

    private let kind: Kind

    private init(_ kind: Kind) {
        self.kind = kind
    }

    static func malformedHeader(_ text: String) -> Self { Self(.malformedHeader(String(text.prefix(100)))) }
    static let headerTooLong = Self(.headerTooLong)
    static func unexpectedBlob(sent: String, expected: BlobDigest) -> Self {
        Self(.unexpectedBlob(sent: sent, expected: expected))
    }
    static func tooManyBlobs(asked: Int) -> Self { Self(.tooManyBlobs(asked: asked)) }
    static func endedEarly(received: Int, asked: Int) -> Self { Self(.endedEarly(received: received, asked: asked)) }

    public var description: String {
        switch kind {
        case .malformedHeader(let text): "the store sent a malformed blob frame: \(text)"
        case .headerTooLong: "the store sent a malformed blob frame"
        case .unexpectedBlob(let sent, let expected): "the store sent blob \(sent) where \(expected) was expected"
        case .tooManyBlobs(let asked): "the store sent more than the \(asked) blobs asked for"
        case .endedEarly(let received, let asked): "the store's answer ended after \(received) of \(asked) blobs"
        }
    }
}

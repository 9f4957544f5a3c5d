import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A parsed XML element of a request body (DeleteObjects, CompleteMultipartUpload, CreateBucketConfiguration).
///
/// Request bodies that are XML are small and capped before parsing; this is never used on object data.
public struct XMLNode: Sendable {
    public var name: String
    public var text: String
    public var children: [XMLNode]

    /// The first child with this local name.
    public func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }

    /// Every child with this local name.
    public func children(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }

    /// Parses a document; throws `MalformedXML` with the parser's reason and position.
    public static func parse(_ data: Data) throws -> XMLNode {
        let delegate = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.delegate = delegate
        // Foundation on Linux returns true for trailing content after the root while setting parserError.
        guard parser.parse(), parser.parserError == nil, let root = delegate.root else {
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "empty document"
            throw S3Error.malformedXML("\(reason) at line \(parser.lineNumber), column \(parser.columnNumber)")
        }
        return root
    }

    private final class TreeBuilder: NSObject, XMLParserDelegate {
        var stack: [XMLNode] = []
        var root: XMLNode?

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            stack.append(XMLNode(name: elementName, text: "", children: []))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if !stack.isEmpty { stack[stack.count - 1].text += string }
        }

        func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
            if !stack.isEmpty { stack[stack.count - 1].text += String(decoding: CDATABlock, as: UTF8.self) }
        }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?
        ) {
            guard let node = stack.popLast() else { return }
            if stack.isEmpty { root = node } else { stack[stack.count - 1].children.append(node) }
        }
    }
}

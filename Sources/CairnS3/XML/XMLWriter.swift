/// Builds S3's XML response bodies with correct escaping.
public final class XMLWriter {
    private var buffer = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

    public init() {}

    /// The finished document.
    public var document: String { buffer }

    /// An element with child elements; the root gets S3's namespace.
    public func element(_ name: String, namespace: Bool = false, _ children: () -> Void) {
        buffer += namespace ? "<\(name) xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" : "<\(name)>"
        children()
        buffer += "</\(name)>"
    }

    /// An element with text content.
    public func element(_ name: String, _ value: String) {
        buffer += "<\(name)>\(Self.escape(value))</\(name)>"
    }

    /// Text inside the current element.
    public func text(_ value: String) {
        buffer += Self.escape(value)
    }

    /// An element with text content, left out when the value is nil.
    public func element(_ name: String, optional value: String?) {
        if let value { element(name, value) }
    }

    /// Escapes text for element content and attribute values.
    public static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\r": out += "&#13;"
            default:
                // Control characters other than tab and newline cannot appear in XML 1.0 text even escaped;
                // S3 clients that may meet them list with encoding-type=url.
                if scalar.value < 0x20 && scalar != "\t" && scalar != "\n" {
                    out += "&#\(scalar.value);"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

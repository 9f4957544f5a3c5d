import Foundation

/// A content type for an artifact from its name.
enum ContentType {
    static func guess(_ key: String) -> String {
        switch (key as NSString).pathExtension.lowercased() {
        case "zip": "application/zip"
        case "json": "application/json"
        case "xml": "application/xml"
        case "txt", "log": "text/plain; charset=utf-8"
        case "html": "text/html; charset=utf-8"
        case "gz", "tgz": "application/gzip"
        default: "application/octet-stream"
        }
    }
}

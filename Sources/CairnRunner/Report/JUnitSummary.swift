import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Test counts from JUnit XML files: `<testcase>` elements and their `<failure>`, `<error>` and `<skipped>`.
struct JUnitSummary {
    var tests = 0
    var failures = 0
    var errors = 0
    var skipped = 0

    mutating func add(_ other: JUnitSummary) {
        tests += other.tests
        failures += other.failures
        errors += other.errors
        skipped += other.skipped
    }

    static func parse(file: String) throws -> JUnitSummary {
        guard let parser = XMLParser(contentsOf: URL(fileURLWithPath: file)) else {
            throw RunnerError("cannot read the report \(file)")
        }
        let counter = Counter()
        parser.delegate = counter
        guard parser.parse() else { throw RunnerError("\(file) is not valid JUnit XML") }
        return counter.summary
    }

    private final class Counter: NSObject, XMLParserDelegate {
        var summary = JUnitSummary()

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            switch elementName {
            case "testcase": summary.tests += 1
            case "failure": summary.failures += 1
            case "error": summary.errors += 1
            case "skipped": summary.skipped += 1
            default: break
            }
        }
    }
}

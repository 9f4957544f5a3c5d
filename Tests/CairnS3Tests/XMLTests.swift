import CairnS3
import Foundation
import Testing

/// Tests for ``XMLWriter`` escaping, ``XMLNode`` parsing of request bodies and ``S3Error``'s XML body.
@Suite("XML")
struct XMLTests {
    // MARK: Escaping

    @Test(
        "escape replaces the five XML special characters",
        arguments: [
            ("&", "&amp;"),
            ("<", "&lt;"),
            (">", "&gt;"),
            ("\"", "&quot;"),
            ("'", "&apos;"),
            ("a&b<c>d\"e'f", "a&amp;b&lt;c&gt;d&quot;e&apos;f"),
            ("&amp;", "&amp;amp;"),
            ("<Key>../../etc/passwd</Key>", "&lt;Key&gt;../../etc/passwd&lt;/Key&gt;"),
        ]
    )
    func escapeSpecialCharacters(_ input: String, _ expected: String) {
        #expect(XMLWriter.escape(input) == expected)
    }

    @Test("escape writes control characters as character references, keeping tab and newline")
    func escapeControlCharacters() {
        #expect(XMLWriter.escape("\r") == "&#13;")
        #expect(XMLWriter.escape("a\u{0}b") == "a&#0;b")
        #expect(XMLWriter.escape("\u{1}\u{8}\u{1B}\u{1F}") == "&#1;&#8;&#27;&#31;")
        #expect(XMLWriter.escape("line\none\ttab") == "line\none\ttab")
        #expect(XMLWriter.escape("a\r\nb") == "a&#13;\nb")
    }

    @Test("escape leaves other text alone")
    func escapeLeavesTextAlone() {
        #expect(XMLWriter.escape("") == "")
        #expect(XMLWriter.escape("plain text 123") == "plain text 123")
        #expect(XMLWriter.escape("é 日本 🪨 \u{7F}") == "é 日本 🪨 \u{7F}")
        #expect(XMLWriter.escape("a/b=c;d%20") == "a/b=c;d%20")
    }

    @Test("XMLWriter builds a document with the S3 namespace on the root and escaped text")
    func writerDocument() {
        let xml = XMLWriter()
        xml.element("ListBucketResult", namespace: true) {
            xml.element("Name", "bucket")
            xml.element("Prefix", "a&b")
            xml.element("Marker", optional: nil)
            xml.element("Contents") {
                xml.element("Key", "<k>")
            }
        }
        #expect(
            xml.document
                == "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + "<Name>bucket</Name><Prefix>a&amp;b</Prefix><Contents><Key>&lt;k&gt;</Key></Contents>"
                + "</ListBucketResult>"
        )
    }

    // MARK: Parsing

    static let completeWithNamespace = """
        <?xml version="1.0" encoding="UTF-8"?>
        <CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
          <Part>
            <PartNumber>1</PartNumber>
            <ETag>"a54357aff0632cce46d942af68356b38"</ETag>
          </Part>
          <Part>
            <PartNumber>2</PartNumber>
            <ETag>&quot;0c78aef83f66abc1fa1e8477f296d394&quot;</ETag>
            <ChecksumCRC32>NhCmhg==</ChecksumCRC32>
          </Part>
          <Part>
            <PartNumber>3</PartNumber>
            <ETag>"acbd18db4cc2f85cedef654fccc4a4d8"</ETag>
          </Part>
        </CompleteMultipartUpload>
        """

    static let completeWithoutNamespace = """
        <CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a54357aff0632cce46d942af68356b38"</ETag>\
        </Part><Part><PartNumber>2</PartNumber><ETag>"0c78aef83f66abc1fa1e8477f296d394"</ETag>\
        <ChecksumCRC32>NhCmhg==</ChecksumCRC32></Part><Part><PartNumber>3</PartNumber>\
        <ETag>"acbd18db4cc2f85cedef654fccc4a4d8"</ETag></Part></CompleteMultipartUpload>
        """

    /// A namespace with a prefix, as some XML libraries write it.
    static let completeWithPrefix = """
        <s3:CompleteMultipartUpload xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">\
        <s3:Part><s3:PartNumber>1</s3:PartNumber><s3:ETag>"a54357aff0632cce46d942af68356b38"</s3:ETag></s3:Part>\
        <s3:Part><s3:PartNumber>2</s3:PartNumber><s3:ETag>"0c78aef83f66abc1fa1e8477f296d394"</s3:ETag>\
        <s3:ChecksumCRC32>NhCmhg==</s3:ChecksumCRC32></s3:Part>\
        <s3:Part><s3:PartNumber>3</s3:PartNumber><s3:ETag>"acbd18db4cc2f85cedef654fccc4a4d8"</s3:ETag></s3:Part>\
        </s3:CompleteMultipartUpload>
        """

    @Test(
        "A CompleteMultipartUpload body parses, with or without the S3 namespace",
        arguments: [completeWithNamespace, completeWithoutNamespace, completeWithPrefix]
    )
    func parseCompleteMultipartUpload(_ text: String) throws {
        let root = try XMLNode.parse(Data(text.utf8))
        #expect(root.name == "CompleteMultipartUpload")
        let parts = root.children("Part")
        #expect(parts.count == 3)
        #expect(parts.map { $0.child("PartNumber")?.text } == ["1", "2", "3"])
        #expect(
            parts.map { $0.child("ETag")?.text } == [
                "\"a54357aff0632cce46d942af68356b38\"", "\"0c78aef83f66abc1fa1e8477f296d394\"",
                "\"acbd18db4cc2f85cedef654fccc4a4d8\"",
            ]
        )
        #expect(parts[1].child("ChecksumCRC32")?.text == "NhCmhg==")
        #expect(parts[0].child("ChecksumCRC32") == nil)
        #expect(root.child("Missing") == nil)
        #expect(root.children("Missing").isEmpty)
    }

    @Test("Entities and character references are decoded in text")
    func parseEntities() throws {
        let text = "<Delete><Object><Key>a&amp;b&lt;c&gt;&quot;&apos;&#233;&#x65E5;</Key></Object></Delete>"
        let root = try XMLNode.parse(Data(text.utf8))
        #expect(root.name == "Delete")
        #expect(root.child("Object")?.child("Key")?.text == "a&b<c>\"'é日")
    }

    /// CDATA is ordinary XML; a DeleteObjects key written with it must not lose its text (S3 accepts it).
    @Test("CDATA sections are part of the text")
    func parseCDATA() throws {
        let text = "<Delete><Object><Key>photos/<![CDATA[a&b<raw>]]>.jpg</Key></Object></Delete>"
        let root = try XMLNode.parse(Data(text.utf8))
        #expect(root.child("Object")?.child("Key")?.text == "photos/a&b<raw>.jpg")
    }

    @Test("A DeleteObjects body with a UTF-8 key parses")
    func parseDelete() throws {
        let text = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Quiet>true</Quiet>
              <Object><Key>dir/é.txt</Key></Object>
              <Object><Key>other</Key><VersionId>null</VersionId></Object>
            </Delete>
            """
        let root = try XMLNode.parse(Data(text.utf8))
        #expect(root.child("Quiet")?.text == "true")
        #expect(root.children("Object").compactMap { $0.child("Key")?.text } == ["dir/é.txt", "other"])
        #expect(root.children("Object")[1].child("VersionId")?.text == "null")
    }

    @Test(
        "Malformed XML throws MalformedXML",
        arguments: [
            "",
            "not xml at all",
            "<CompleteMultipartUpload><Part></CompleteMultipartUpload>",
            "<CompleteMultipartUpload>",
            "<a></b>",
            "<a>&undefined;</a>",
            "<a x='1' x='2'/>",
            "<a>\u{1}</a>",
        ]
    )
    func malformed(_ text: String) {
        Self.expectMalformed(text)
    }

    static func expectMalformed(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let root = try XMLNode.parse(Data(text.utf8))
            Issue.record(
                "parsed malformed XML \(text.debugDescription) as \(root.name)", sourceLocation: sourceLocation
            )
        } catch let error as S3Error {
            #expect(error.code == "MalformedXML", sourceLocation: sourceLocation)
            #expect(error.status.code == 400, sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected an S3Error, got \(error)", sourceLocation: sourceLocation)
        }
    }

    /// A document has one root element; S3 answers MalformedXML to anything after it.
    @Test(
        "Content after the root element throws MalformedXML",
        arguments: [
            "<CompleteMultipartUpload></CompleteMultipartUpload><CompleteMultipartUpload/>",
            "<Delete><Object><Key>a</Key></Object></Delete>junk",
        ]
    )
    func contentAfterRoot(_ text: String) {
        Self.expectMalformed(text)
    }

    // MARK: Error bodies

    @Test("S3Error.xml contains Code, Message, Resource and RequestId, escaped")
    func errorXML() throws {
        let error = S3Error.noSuchKey("a&b<c>")
        let xml = error.xml(requestID: "req-123")
        #expect(xml.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>"))
        #expect(xml.contains("<Code>NoSuchKey</Code>"))
        #expect(xml.contains("<Message>The specified key does not exist.</Message>"))
        #expect(xml.contains("<Resource>a&amp;b&lt;c&gt;</Resource>"))
        #expect(xml.contains("<RequestId>req-123</RequestId>"))
        #expect(xml.hasSuffix("</Error>"))

        let root = try XMLNode.parse(Data(xml.utf8))
        #expect(root.name == "Error")
        #expect(root.children.map(\.name) == ["Code", "Message", "Resource", "RequestId"])
        #expect(root.child("Code")?.text == "NoSuchKey")
        #expect(root.child("Resource")?.text == "a&b<c>")
        #expect(root.child("RequestId")?.text == "req-123")
    }

    @Test("S3Error.xml includes details, and leaves out a missing Resource")
    func errorXMLDetails() throws {
        var error = S3Error("SignatureDoesNotMatch", "Check your key & signing method.", status: .forbidden)
        error.details = [("AWSAccessKeyId", "AKID"), ("StringToSign", "AWS4-HMAC-SHA256\n20130524T000000Z")]
        let xml = error.xml(requestID: "r")
        #expect(!xml.contains("<Resource>"))
        #expect(xml.contains("<Message>Check your key &amp; signing method.</Message>"))
        let root = try XMLNode.parse(Data(xml.utf8))
        #expect(root.children.map(\.name) == ["Code", "Message", "AWSAccessKeyId", "StringToSign", "RequestId"])
        #expect(root.child("StringToSign")?.text == "AWS4-HMAC-SHA256\n20130524T000000Z")
    }
}

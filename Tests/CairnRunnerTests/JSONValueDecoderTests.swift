import CairnCore
import Foundation
import NIOCore
import Testing

@testable import CairnRunner

@Suite("Decoding stored manifests without Foundation's JSONDecoder")
struct JSONValueDecoderTests {
    static let digest = BlobDigest(hex: String(repeating: "ab", count: 32))!

    /// A manifest with every kind of record and text that needs escaping.
    static func manifest(files: Int) -> PhaseManifest {
        var changed: [String: FileRecord] = [
            "out": FileRecord(kind: .directory, mode: 0o755),
            "out/link": FileRecord(kind: .symlink, mode: 0, target: "../target \"quoted\"\n"),
            "out/é ü 日本/😀 tab\tand\\backslash": FileRecord(kind: .file, mode: 0o600, digest: digest, size: 0),
            "/abs/path/with/slashes": FileRecord(kind: .file, mode: 0o4755, digest: digest, size: Int64.max),
        ]
        for index in 0..<files {
            changed["out/part-\(index)"] = FileRecord(
                kind: .file, mode: 0o644,
                digest: BlobDigest(bytes: MessageDigest.hash(.sha256, Array("\(index)".utf8))),
                size: Int64(index) * 10_486)
        }
        return PhaseManifest(
            phase: "build", key: String(repeating: "0f", count: 32),
            changes: WorkspaceChanges(changed: changed, deleted: ["gone", "also/gone \u{1}"]),
            setVariables: ["PATH": "@@CAIRN_SRC_DIR@@/bin:/usr/bin", "EMPTY": ""], unsetVariables: ["OLD"],
            shellVariables: ["x": "x='1 2'"], unsetShellVariables: nil, workingDirectory: ".",
            log: BlobSegment(digest: digest, size: 12), durationSeconds: 21.062_5)
    }

    @Test("a manifest decodes to what JSONEncoder encoded, as JSONDecoder reads it")
    func roundTrip() throws {
        let manifest = Self.manifest(files: 40)
        for formatting in [JSONEncoder.OutputFormatting(), [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = formatting
            let data = try encoder.encode(manifest)
            let decoded = try JSONValueDecoder().decode(PhaseManifest.self, from: Array(data))
            #expect(decoded == manifest)
            #expect(decoded == (try JSONDecoder().decode(PhaseManifest.self, from: data)))
        }
    }

    @Test("the server's hand-written runner API bodies read as JSONDecoder reads them")
    func runnerAPIBodies() throws {
        let awkward = ["", "a/b", "quote \" \\", "\u{0}\u{1F}\n\t", "é 日本 😀"]
        let entry = ActionEntryBody(
            value: .init(digest: Self.digest.hex, size: 1 << 40), references: [Self.digest.hex] + awkward,
            attributes: ["x-artifact-tag": "t/1", "awkward": awkward.joined()], createdAt: 1_733_450_092.062_5)
        for createdAt in [entry.createdAt, 1_733_450_092, nil] {
            var body = entry
            body.createdAt = createdAt
            let json = Array(buffer: try body.json())
            #expect(try JSONValueDecoder().decode(ActionEntryBody.self, from: json) == body)
            #expect(try JSONDecoder().decode(ActionEntryBody.self, from: Data(json)) == body)
        }
        let missing = MissingBlobsResponse(missing: [Self.digest.hex] + awkward)
        #expect(
            try JSONValueDecoder().decode(MissingBlobsResponse.self, from: Array(buffer: missing.json())) == missing)
    }

    @Test("escapes, surrogate pairs, whitespace and numbers read as JSONDecoder reads them")
    func escapesAndNumbers() throws {
        struct Sample: Codable, Equatable {
            var text: [String]
            var integers: [Int64]
            var unsigned: UInt32
            var doubles: [Double]
            var flags: [Bool]
            var missing: String?
            var nothing: String?
        }
        let json = """
             { "text" : [ "caf\\u00e9", "\\ud83d\\ude00", "a\\/b\\\\c\\"d", "\\b\\f\\n\\r\\t", "", "日本" ],
            \t"integers":[0,-1,9223372036854775807,-9223372036854775808],
            "unsigned": 4294967295, "doubles": [1.5, -0.25e2, 1E3, 0.1],
            "flags": [true,false], "nothing": null }\r\n
            """
        let bytes = Array(json.utf8)
        let expected = try JSONDecoder().decode(Sample.self, from: Data(bytes))
        let decoded = try JSONValueDecoder().decode(Sample.self, from: bytes)
        #expect(decoded == expected)
        #expect(decoded.text[1] == "😀" && decoded.missing == nil && decoded.nothing == nil)
    }

    @Test(
        "malformed JSON is an error, not a crash or a guess",
        arguments: [
            "", "{", "{\"a\":1", "{\"a\" 1}", "{\"a\":1,}", "[1,]", "[1 2]", "01", "-", "1.", "1e", "+1", "tru",
            "nul", "\"open", "\"tab\there\"", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00x\"", "{} {}",
            "{\"a\":1}x",
        ])
    func malformed(json: String) {
        #expect(throws: DecodingError.self) {
            try Array(json.utf8).withUnsafeBufferPointer { try JSONValue.parse($0) }
        }
    }

    @Test(
        "a string that is not UTF-8 is an error, with or without escapes",
        arguments: [
            [0x22, 0xFF, 0x22], [0x22, 0x61, 0xC3, 0x22], [0x22, 0xC3, 0x5C, 0x6E, 0x22],
            [0x22, 0xED, 0xA0, 0x80, 0x22],
        ]
            as [[UInt8]])
    func invalidUTF8(bytes: [UInt8]) throws {
        #expect(throws: DecodingError.self) { try bytes.withUnsafeBufferPointer { try JSONValue.parse($0) } }
        let valid = Array("\"caf\u{E9} \\n\"".utf8)
        guard case .string(let text) = try valid.withUnsafeBufferPointer({ try JSONValue.parse($0) }) else {
            Issue.record("not a string")
            return
        }
        #expect(text == "caf\u{E9} \n")
    }

    @Test("nesting deeper than 512 levels is an error, not a stack overflow")
    func deepNesting() throws {
        let deep = Array((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)
        #expect(throws: DecodingError.self) { try deep.withUnsafeBufferPointer { try JSONValue.parse($0) } }
        let allowed = Array((String(repeating: "[", count: 500) + String(repeating: "]", count: 500)).utf8)
        _ = try allowed.withUnsafeBufferPointer { try JSONValue.parse($0) }
    }

    @Test("invalid UTF-8 inside a string is an error")
    func invalidUTF8() {
        let bytes: [UInt8] = Array("[\"ab".utf8) + [0xC3, 0x28] + Array("\"]".utf8)
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode([String].self, from: bytes) }
    }

    @Test("a value of the wrong type, out of range, or missing is an error naming where")
    func typeErrors() throws {
        let decoder = JSONValueDecoder()
        #expect(throws: DecodingError.self) { try decoder.decode(BlobSegment.self, from: Array(#"{"size":1}"#.utf8)) }
        #expect(throws: DecodingError.self) {
            try decoder.decode(FileRecord.self, from: Array(#"{"kind":"file","mode":4294967296,"size":1}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try decoder.decode(FileRecord.self, from: Array(#"{"kind":"file","mode":"644","size":1}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try decoder.decode(FileRecord.self, from: Array(#"{"kind":"fifo","mode":420,"size":1}"#.utf8))
        }
        do {
            _ = try decoder.decode(
                [String: FileRecord].self, from: Array(#"{"a":{"kind":"file","mode":420,"size":1.5}}"#.utf8))
            Issue.record("a fractional size decoded")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.codingPath.map(\.stringValue) == ["a", "size"])
        }
        #expect(throws: DecodingError.self) {
            try decoder.decode(BlobSegment.self, from: Array(#"{"digest":"not hex","size":1}"#.utf8))
        }
    }

    @Test("a repeated key counts once, with its last value, in small and large objects")
    func repeatedKeys() throws {
        let small = try JSONValueDecoder().decode([String: Int].self, from: Array(#"{"a":1,"b":2,"a":3}"#.utf8))
        #expect(small == ["a": 3, "b": 2])
        let members = (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        let large = try JSONValueDecoder().decode(
            [String: Int].self, from: Array("{\(members),\"k5\":500}".utf8))
        #expect(large.count == 40 && large["k5"] == 500 && large["k39"] == 39)
    }
}

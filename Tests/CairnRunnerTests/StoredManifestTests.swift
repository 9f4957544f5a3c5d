import CairnCore
import Foundation
import NIOCore
import Testing

@testable import CairnRunner

@Suite("Stored manifests and the runner API's bodies, read with JSONDecoder")
struct StoredManifestTests {
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

    /// The files both pinned samples of format 1 describe.
    static let sampleFiles: [String: FileRecord] = [
        "out": FileRecord(kind: .directory, mode: 0o755),
        "out/app": FileRecord(kind: .file, mode: 0o644, digest: digest, size: 10_486),
        "out/latest": FileRecord(kind: .symlink, mode: 0, target: "app"),
    ]

    @Test("a phase manifest stored by earlier runners (format 1, an object per file) reads as the same manifest")
    func phaseManifestFormat1() async throws {
        // As runners before format 2 stored it: JSONEncoder with sorted keys, FileRecord's own keyed form.
        let stored = """
            {"changes":{"changed":{"out":{"kind":"directory","mode":493,"size":0},\
            "out\\/app":{"digest":"abababababababababababababababababababababababababababababababab",\
            "kind":"file","mode":420,"size":10486},\
            "out\\/latest":{"kind":"symlink","mode":0,"size":0,"target":"app"}},"deleted":["out\\/stale.tmp"]},\
            "durationSeconds":20.5,"formatVersion":1,\
            "key":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f",\
            "log":{"digest":"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd","size":1234},\
            "phase":"BUILD",\
            "setVariables":{"OUTPUT_DIR":"@@CAIRN_SRC_DIR@@\\/out"},"shellVariables":{"i":"3"},\
            "unsetShellVariables":[],"unsetVariables":["TMPDIR"],"workingDirectory":"."}
            """
        let expected = PhaseManifest(
            phase: "BUILD", key: String(repeating: "0f", count: 32),
            changes: WorkspaceChanges(changed: Self.sampleFiles, deleted: ["out/stale.tmp"]),
            setVariables: ["OUTPUT_DIR": "@@CAIRN_SRC_DIR@@/out"], unsetVariables: ["TMPDIR"],
            shellVariables: ["i": "3"], unsetShellVariables: [], workingDirectory: ".",
            log: BlobSegment(digest: BlobDigest(hex: String(repeating: "cd", count: 32))!, size: 1_234),
            durationSeconds: 20.5)
        #expect(try PhaseManifest.decode(from: Array(stored.utf8)) == expected)
        // Written again, it is format 2, and reads back the same.
        let rewritten = try JSONEncoder().encode(expected)
        #expect(try PhaseManifest.decode(from: rewritten) == expected)
        #expect(try Self.object(rewritten)["formatVersion"] as? Int == 2)
    }

    @Test("a phase manifest round-trips in format 2, one array per file, sorted by path")
    func phaseManifestFormat2() async throws {
        let manifest = Self.manifest(files: 40)
        for formatting in [JSONEncoder.OutputFormatting(), [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = formatting
            let data = try encoder.encode(manifest)
            #expect(try PhaseManifest.decode(from: data) == manifest)
            #expect(try PhaseManifest.decode(from: Array(data)) == manifest)
            let object = try Self.object(data)
            #expect(object["formatVersion"] as? Int == 2)
            let rows = try #require((object["changes"] as? [String: Any])?["changed"] as? [[Any]])
            #expect(rows.compactMap { $0.first as? String } == manifest.changes.changed.keys.sorted())
        }
        let compact = String(decoding: try JSONEncoder().encode(Self.manifest(files: 0)), as: UTF8.self)
        #expect(compact.contains(#"["out","directory",493,null,0]"#))
        #expect(compact.contains(#"["out\/link","symlink",0,null,0,"..\/target \"quoted\"\n"]"#))
        #expect(
            compact.contains(#"["\/abs\/path\/with\/slashes","file",2541,"\#(Self.digest.hex)",9223372036854775807]"#))
    }

    @Test("a cache manifest of format 1 (no formatVersion, an object per file) reads; format 2 round-trips")
    func cacheManifest() async throws {
        let stored = """
            {"createdAt":1733450092.5,"files":{"out":{"kind":"directory","mode":493,"size":0},\
            "out\\/app":{"digest":"abababababababababababababababababababababababababababababababab",\
            "kind":"file","mode":420,"size":10486},\
            "out\\/latest":{"kind":"symlink","mode":0,"size":0,"target":"app"}},"key":"deps-1"}
            """
        let expected = CacheManifest(key: "deps-1", files: Self.sampleFiles, createdAt: 1_733_450_092.5)
        let decoded = try JSONDecoder().decode(CacheManifest.self, from: Data(stored.utf8))
        #expect(decoded.key == "deps-1" && decoded.files == expected.files && decoded.createdAt == expected.createdAt)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let rewritten = try encoder.encode(expected)
        #expect(
            String(decoding: rewritten, as: UTF8.self)
                == #"{"createdAt":1733450092.5,"files":[["out","directory",493,null,0],"#
                + #"["out\/app","file",420,"abababababababababababababababababababababababababababababababab",10486],"#
                + #"["out\/latest","symlink",0,null,0,"app"]],"#
                + #""formatVersion":2,"key":"deps-1"}"#)
        let again = try JSONDecoder().decode(CacheManifest.self, from: rewritten)
        #expect(again.key == expected.key && again.files == expected.files && again.createdAt == expected.createdAt)
    }

    @Test(
        "a manifest of an unknown format, or a file row of the wrong shape, is an error",
        arguments: [
            #"{"createdAt":1,"files":[],"formatVersion":3,"key":"k"}"#,
            #"{"createdAt":1,"files":{},"formatVersion":2,"key":"k"}"#,
            #"{"createdAt":1,"files":[["a","file",420,null]],"formatVersion":2,"key":"k"}"#,
            #"{"createdAt":1,"files":[["a","file",420,null,0,"t","u"]],"formatVersion":2,"key":"k"}"#,
            #"{"createdAt":1,"files":[["a","fifo",420,null,0]],"formatVersion":2,"key":"k"}"#,
            #"{"createdAt":1,"files":[["a","file","644",null,0]],"formatVersion":2,"key":"k"}"#,
            #"{"createdAt":1,"files":[],"key":"k"}"#,
        ])
    func wrongShape(json: String) {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(CacheManifest.self, from: Data(json.utf8)) }
    }

    @Test("a phase manifest of a format this runner does not know is an error naming the format")
    func unknownPhaseFormat() async throws {
        var object = try Self.object(try JSONEncoder().encode(Self.manifest(files: 1)))
        object["formatVersion"] = 3
        let data = try JSONSerialization.data(withJSONObject: object)
        do {
            _ = try PhaseManifest.decode(from: data)
            Issue.record("format 3 decoded")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription.contains("format 3"))
        }
    }

    @Test("the server's hand-written runner API bodies read as they were meant")
    func runnerAPIBodies() async throws {
        let awkward = ["", "a/b", "quote \" \\", "\u{0}\u{1F}\n\t", "é 日本 😀"]
        let entry = ActionEntryBody(
            value: .init(digest: Self.digest.hex, size: 1 << 40), references: [Self.digest.hex] + awkward,
            attributes: ["x-artifact-tag": "t/1", "awkward": awkward.joined()], createdAt: 1_733_450_092.062_5)
        for createdAt in [entry.createdAt, 1_733_450_092, nil] {
            var body = entry
            body.createdAt = createdAt
            let json = try body.json()
            #expect(try JSONDecoder().decode(ActionEntryBody.self, from: Data(json.readableBytesView)) == body)
        }
        let missing = MissingBlobsResponse(missing: [Self.digest.hex] + awkward)
        #expect(
            try JSONDecoder().decode(MissingBlobsResponse.self, from: Data(missing.json().readableBytesView))
                == missing)
    }

    @Test(
        "malformed JSON is an error, not a crash or a guess",
        arguments: [
            "", "{", "{\"a\":1", "{\"a\" 1}", "[1 2]", "01", "-", "1.", "1e", "+1", "tru",
            "nul", "\"open", "\"tab\there\"", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00x\"", "{} {}",
            "{\"a\":1}x",
        ])
    func malformed(json: String) {
        // JSONDecoder reads a trailing comma (`[1,]`, `{"a":1,}`) as if it were absent, so those are not listed.
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(AnyJSON.self, from: Data(json.utf8)) }
        #expect(throws: DecodingError.self) { try PhaseManifest.decode(from: Array(json.utf8)) }
    }

    @Test(
        "a string that is not UTF-8 is an error, with or without escapes",
        arguments: [
            [0x22, 0xFF, 0x22], [0x22, 0x61, 0xC3, 0x22], [0x22, 0xC3, 0x5C, 0x6E, 0x22],
            [0x22, 0xED, 0xA0, 0x80, 0x22], Array("[\"ab".utf8) + [0xC3, 0x28] + Array("\"]".utf8),
        ]
            as [[UInt8]])
    func invalidUTF8(bytes: [UInt8]) throws {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(AnyJSON.self, from: Data(bytes)) }
        let valid = Array("\"caf\u{E9} \\n\"".utf8)
        #expect(try JSONDecoder().decode(String.self, from: Data(valid)) == "caf\u{E9} \n")
    }

    @Test("deep nesting is an error, not a stack overflow")
    func deepNesting() async throws {
        let deep = Data((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(AnyJSON.self, from: deep) }
        #expect(throws: DecodingError.self) { try PhaseManifest.decode(from: deep) }
        let allowed = Data((String(repeating: "[", count: 500) + String(repeating: "]", count: 500)).utf8)
        _ = try JSONDecoder().decode(AnyJSON.self, from: allowed)
    }

    @Test("a value of the wrong type, out of range, or missing is an error naming where")
    func typeErrors() async throws {
        func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
            try JSONDecoder().decode(type, from: Data(json.utf8))
        }
        #expect(throws: DecodingError.self) { try decode(BlobSegment.self, #"{"size":1}"#) }
        #expect(throws: DecodingError.self) {
            try decode(FileRecord.self, #"{"kind":"file","mode":4294967296,"size":1}"#)
        }
        #expect(throws: DecodingError.self) { try decode(FileRecord.self, #"{"kind":"file","mode":"644","size":1}"#) }
        #expect(throws: DecodingError.self) { try decode(FileRecord.self, #"{"kind":"fifo","mode":420,"size":1}"#) }
        // JSONDecoder reports a number out of its type's range as invalid JSON, without a path.
        #expect(throws: DecodingError.self) {
            try decode([String: FileRecord].self, #"{"a":{"kind":"file","mode":420,"size":1.5}}"#)
        }
        do {
            _ = try decode([String: FileRecord].self, #"{"a":{"kind":"file","mode":"644","size":1}}"#)
            Issue.record("a mode given as text decoded")
        } catch let DecodingError.typeMismatch(_, context) {
            #expect(context.codingPath.map(\.stringValue) == ["a", "mode"])
        }
        #expect(throws: DecodingError.self) { try decode(BlobSegment.self, #"{"digest":"not hex","size":1}"#) }
    }

    /// The top-level object of `data`.
    static func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

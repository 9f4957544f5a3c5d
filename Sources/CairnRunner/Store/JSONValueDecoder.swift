import CairnCore
import Foundation

/// Decodes `Decodable` values from JSON through a parsed tree, for the runner's large documents.
///
/// A phase manifest names every output file; for 5,000 files Foundation's `JSONDecoder` spends about 60 ms on it
/// (and 20 ms more on the entry naming the same blobs), on the critical path of every restore. This decoder reads
/// the same JSON (RFC 8259) into a ``JSONValue`` and hands the values to the types' own `init(from:)`, several
/// times faster. Numbers decode into integer types only when they are integers in range; strings are not
/// converted to dates or data; keys are used as written.
struct JSONValueDecoder {
    func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        let value =
            try bytes.withContiguousStorageIfAvailable { try JSONValue.parse($0) }
            ?? Array(bytes).withUnsafeBufferPointer { try JSONValue.parse($0) }
        return try T(from: TreeDecoder(value: value, codingPath: []))
    }
}

/// A parsed JSON document. Numbers keep their text, so integers of any size decode exactly.
indirect enum JSONValue: Sendable {
    /// Members in document order (a repeated key: the last one counts).
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    /// Parses one JSON value (surrounded by optional whitespace) from UTF-8 bytes.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.offset == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }
}

private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var offset = 0
    static let maximumDepth = 512

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    func error(_ message: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: [], debugDescription: "invalid JSON at byte \(offset): \(message)"))
    }

    mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard depth < Self.maximumDepth else { throw error("nested more than \(Self.maximumDepth) levels") }
        skipWhitespace()
        guard offset < bytes.count else { throw error("unexpected end") }
        switch bytes[offset] {
        case UInt8(ascii: "{"):
            offset += 1
            var members: [(key: String, value: JSONValue)] = []
            try elements(closedBy: UInt8(ascii: "}")) { parser in
                parser.skipWhitespace()
                guard parser.offset < parser.bytes.count, parser.bytes[parser.offset] == UInt8(ascii: "\"") else {
                    throw parser.error("expected a key")
                }
                let key = try parser.string()
                parser.skipWhitespace()
                try parser.expect(UInt8(ascii: ":"))
                members.append((key, try parser.value(depth: depth + 1)))
            }
            return .object(members)
        case UInt8(ascii: "["):
            offset += 1
            var elements: [JSONValue] = []
            try self.elements(closedBy: UInt8(ascii: "]")) { parser in
                elements.append(try parser.value(depth: depth + 1))
            }
            return .array(elements)
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default:
            return .number(try number())
        }
    }

    /// Reads the comma-separated elements of an object or array up to `closer` (its opening bracket already read),
    /// calling `element` for each.
    private mutating func elements(closedBy closer: UInt8, _ element: (inout JSONParser) throws -> Void) throws {
        skipWhitespace()
        if offset < bytes.count && bytes[offset] == closer {
            offset += 1
            return
        }
        while true {
            try element(&self)
            skipWhitespace()
            guard offset < bytes.count else {
                throw error("unexpected end before '\(Character(Unicode.Scalar(closer)))'")
            }
            guard bytes[offset] == UInt8(ascii: ",") else { return try expect(closer) }
            offset += 1
        }
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard offset < bytes.count, bytes[offset] == byte else {
            throw error("expected '\(Character(Unicode.Scalar(byte)))'")
        }
        offset += 1
    }

    private mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard offset + count <= bytes.count,
            memcmp(bytes.baseAddress! + offset, word.utf8Start, count) == 0
        else { throw error("expected \(word)") }
        offset += count
    }

    private mutating func number() throws -> String {
        let start = offset
        func digits() -> Int {
            let first = offset
            while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) { offset += 1 }
            return offset - first
        }
        if offset < bytes.count && bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        let integer = offset
        guard digits() > 0 else { throw error("expected a value") }
        guard bytes[integer] != UInt8(ascii: "0") || offset - integer == 1 else { throw error("leading zero") }
        if offset < bytes.count && bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            guard digits() > 0 else { throw error("expected digits after '.'") }
        }
        if offset < bytes.count && (bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E")) {
            offset += 1
            if offset < bytes.count && (bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-")) {
                offset += 1
            }
            guard digits() > 0 else { throw error("expected an exponent") }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
    }

    /// A string at `offset` (its opening quote); most have no escapes and are copied in one piece.
    private mutating func string() throws -> String {
        offset += 1
        let start = offset
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                let text = try validated(UnsafeBufferPointer(rebasing: bytes[start..<offset]))
                offset += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw error("control character in a string") }
            offset += 1
        }
        var scalars = Array(UnsafeBufferPointer(rebasing: bytes[start..<offset]))
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            switch byte {
            case UInt8(ascii: "\""):
                return try scalars.withUnsafeBufferPointer { try validated($0) }
            case UInt8(ascii: "\\"):
                guard offset < bytes.count else { break }
                let escape = bytes[offset]
                offset += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hexQuad()
                    if (0xD800..<0xDC00).contains(code) {
                        guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"),
                            bytes[offset + 1] == UInt8(ascii: "u")
                        else { throw error("unpaired surrogate") }
                        offset += 2
                        let low = try hexQuad()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(code) {
                        throw error("unpaired surrogate")
                    }
                    scalars.append(contentsOf: String(Character(Unicode.Scalar(code)!)).utf8)
                default:
                    throw error("unknown escape")
                }
            default:
                guard byte >= 0x20 else { throw error("control character in a string") }
                scalars.append(byte)
            }
        }
        throw error("unterminated string")
    }

    private mutating func hexQuad() throws -> UInt32 {
        guard offset + 4 <= bytes.count else { throw error("short \\u escape") }
        var code: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("bad \\u escape")
            }
            code = code << 4 | UInt32(digit)
            offset += 1
        }
        return code
    }

    private func validated(_ utf8: UnsafeBufferPointer<UInt8>) throws -> String {
        guard let text = String(utf8Validating: utf8) else { throw error("invalid UTF-8 in a string") }
        return text
    }
}

/// A `Decoder` over one ``JSONValue``.
private struct TreeDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch([String: Any].self, value, codingPath) }
        return KeyedDecodingContainer(TreeKeyedContainer<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch([Any].self, value, codingPath) }
        return TreeUnkeyedContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        TreeSingleValue(value: value, codingPath: codingPath)
    }
}

private func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: [any CodingKey]) -> DecodingError {
    .typeMismatch(type, .init(codingPath: path, debugDescription: "expected \(type), found \(value.kindName)"))
}

extension JSONValue {
    fileprivate var kindName: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }

    fileprivate var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    fileprivate func string(_ path: @autoclosure () -> [any CodingKey]) throws -> String {
        guard case .string(let text) = self else { throw mismatch(String.self, self, path()) }
        return text
    }

    fileprivate func bool(_ path: @autoclosure () -> [any CodingKey]) throws -> Bool {
        guard case .bool(let flag) = self else { throw mismatch(Bool.self, self, path()) }
        return flag
    }

    fileprivate func double(_ path: @autoclosure () -> [any CodingKey]) throws -> Double {
        guard case .number(let text) = self, let number = Double(text) else {
            throw mismatch(Double.self, self, path())
        }
        return number
    }

    fileprivate func integer<T: FixedWidthInteger>(_ type: T.Type, _ path: @autoclosure () -> [any CodingKey]) throws
        -> T
    {
        guard case .number(let text) = self else { throw mismatch(type, self, path()) }
        guard let number = T(text, radix: 10) else {
            throw DecodingError.dataCorrupted(.init(codingPath: path(), debugDescription: "\(text) is not a \(type)"))
        }
        return number
    }
}

private struct TreeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [(key: String, value: JSONValue)]
    let codingPath: [any CodingKey]
    /// Big objects (a manifest's file map) are looked up through an index; small ones by a scan.
    private let index: [String: Int]?

    init(members: [(key: String, value: JSONValue)], codingPath: [any CodingKey]) {
        self.members = members
        self.codingPath = codingPath
        if members.count > 16 {
            var index: [String: Int] = [:]
            index.reserveCapacity(members.count)
            for (position, member) in members.enumerated() { index[member.key] = position }
            self.index = index
        } else {
            index = nil
        }
    }

    var allKeys: [Key] {
        if let index, index.count == members.count { return members.compactMap { Key(stringValue: $0.key) } }
        // A repeated key is listed once, where its last value is.
        return members.indices.compactMap { offset in
            let key = members[offset].key
            return position(of: key) == offset ? Key(stringValue: key) : nil
        }
    }

    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        return members.lastIndex { $0.key == key }
    }

    private func position(_ key: Key) -> Int? { position(of: key.stringValue) }

    func contains(_ key: Key) -> Bool { position(key) != nil }

    private func member(_ key: Key) throws -> JSONValue {
        guard let position = position(key) else {
            throw DecodingError.keyNotFound(
                key, .init(codingPath: codingPath, debugDescription: "no value for key \"\(key.stringValue)\""))
        }
        return members[position].value
    }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key).isNull }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try member(key).bool(codingPath + [key]) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try member(key).string(codingPath + [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try member(key).double(codingPath + [key]) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        Float(try member(key).double(codingPath + [key]))
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try member(key).integer(type, codingPath + [key]) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try member(key).integer(type, codingPath + [key]) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 {
        try member(key).integer(type, codingPath + [key])
    }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 {
        try member(key).integer(type, codingPath + [key])
    }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        try member(key).integer(type, codingPath + [key])
    }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try member(key).integer(type, codingPath + [key]) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 {
        try member(key).integer(type, codingPath + [key])
    }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 {
        try member(key).integer(type, codingPath + [key])
    }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 {
        try member(key).integer(type, codingPath + [key])
    }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 {
        try member(key).integer(type, codingPath + [key])
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try T(from: TreeDecoder(value: member(key), codingPath: codingPath + [key]))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try TreeDecoder(value: member(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TreeDecoder(value: member(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let position = members.lastIndex { $0.key == "super" }
        return TreeDecoder(value: position.map { members[$0].value } ?? .null, codingPath: codingPath)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        TreeDecoder(value: position(key).map { members[$0].value } ?? .null, codingPath: codingPath + [key])
    }
}

private struct TreeUnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    init(elements: [JSONValue], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private struct Index: CodingKey {
        var intValue: Int?
        var stringValue: String { "Index \(intValue ?? 0)" }
        init(_ index: Int) { intValue = index }
        init?(stringValue: String) { nil }
        init?(intValue: Int) { self.intValue = intValue }
    }

    private var path: [any CodingKey] { codingPath + [Index(currentIndex - 1)] }

    private mutating func next() throws -> JSONValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                JSONValue.self, .init(codingPath: codingPath, debugDescription: "the array has no more elements"))
        }
        currentIndex += 1
        return elements[currentIndex - 1]
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next().bool(path) }
    mutating func decode(_ type: String.Type) throws -> String { try next().string(path) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next().double(path) }
    mutating func decode(_ type: Float.Type) throws -> Float { Float(try next().double(path)) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next().integer(type, path) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().integer(type, path) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().integer(type, path) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().integer(type, path) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().integer(type, path) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next().integer(type, path) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().integer(type, path) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().integer(type, path) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().integer(type, path) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().integer(type, path) }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let value = try next()
        return try T(from: TreeDecoder(value: value, codingPath: path))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        let value = try next()
        return try TreeDecoder(value: value, codingPath: path).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let value = try next()
        return try TreeDecoder(value: value, codingPath: path).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let value = try next()
        return TreeDecoder(value: value, codingPath: path)
    }
}

private struct TreeSingleValue: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { value.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try value.bool(codingPath) }
    func decode(_ type: String.Type) throws -> String { try value.string(codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try value.double(codingPath) }
    func decode(_ type: Float.Type) throws -> Float { Float(try value.double(codingPath)) }
    func decode(_ type: Int.Type) throws -> Int { try value.integer(type, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try value.integer(type, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try value.integer(type, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try value.integer(type, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try value.integer(type, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try value.integer(type, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try value.integer(type, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try value.integer(type, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try value.integer(type, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try value.integer(type, codingPath) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try T(from: TreeDecoder(value: value, codingPath: codingPath))
    }
}

/// Any JSON value, read only to see whether `JSONDecoder` accepts a document.
enum AnyJSON: Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([AnyJSON])
    case object([String: AnyJSON])

    init(from decoder: any Decoder) throws {
        if var items = try? decoder.unkeyedContainer() {
            var array: [AnyJSON] = []
            while !items.isAtEnd { array.append(try items.decode(AnyJSON.self)) }
            self = .array(array)
            return
        }
        if let members = try? decoder.container(keyedBy: AnyKey.self) {
            var object: [String: AnyJSON] = [:]
            for key in members.allKeys { object[key.stringValue] = try members.decode(AnyJSON.self, forKey: key) }
            self = .object(object)
            return
        }
        let value = try decoder.singleValueContainer()
        if value.decodeNil() {
            self = .null
        } else if let bool = try? value.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? value.decode(Double.self) {
            self = .number(number)
        } else {
            self = .string(try value.decode(String.self))
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

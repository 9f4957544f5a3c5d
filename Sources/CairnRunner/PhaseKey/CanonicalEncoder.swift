/// Length-prefixed fields, so no two different inputs encode to the same bytes.
struct CanonicalEncoder {
    private(set) var bytes: [UInt8] = []

    mutating func raw(_ text: String) {
        let utf8 = Array(text.utf8)
        bytes += Array("\(utf8.count):".utf8) + utf8
    }

    mutating func field(_ name: String, _ value: String) {
        raw(name)
        raw(value)
    }

    mutating func list(_ name: String, _ values: [String]) {
        raw(name)
        raw(String(values.count))
        for value in values { raw(value) }
    }

    mutating func pairs(_ name: String, _ values: [(String, String)]) {
        raw(name)
        raw(String(values.count))
        for (key, value) in values {
            raw(key)
            raw(value)
        }
    }
}

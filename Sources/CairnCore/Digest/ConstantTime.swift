/// Comparisons of secrets whose time does not depend on where the two differ.
///
/// Use these wherever a value a caller sent is checked against a secret (a signature, a password): an early exit at
/// the first differing byte would let the caller find the secret a byte at a time by timing the answers.
public enum ConstantTime {
    /// Whether `a` and `b` have the same UTF-8 bytes; the time taken depends only on their lengths.
    public static func equal(_ a: String, _ b: String) -> Bool {
        var (a, b) = (a, b)
        return a.withUTF8 { a in
            b.withUTF8 { b in
                guard a.count == b.count else { return false }
                var difference: UInt8 = 0
                for index in a.indices { difference |= a[index] ^ b[index] }
                return difference == 0
            }
        }
    }
}

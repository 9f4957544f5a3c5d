import CairnCore
import Testing

@Suite("Constant-time comparison")
struct ConstantTimeTests {
    @Test(
        "ConstantTime.equal is byte equality of the UTF-8 forms",
        arguments: [
            ("", "", true), ("a", "a", true), ("secret", "secret", true), ("secret", "secreT", false),
            ("secret", "secrets", false), ("", "x", false), ("é", "e\u{301}", false), ("日本", "日本", true),
        ])
    func equal(_ a: String, _ b: String, _ expected: Bool) {
        #expect(ConstantTime.equal(a, b) == expected)
        #expect(ConstantTime.equal(b, a) == expected)
    }
}

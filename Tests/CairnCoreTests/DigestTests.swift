import CairnCore
import Testing

@Suite("Digests, HMAC and hex")
struct DigestTests {
    /// RFC 4231 test cases 1, 2, 4 and 6 (6: a key longer than the 64-byte block, hashed first).
    @Test(
        "HMAC-SHA256 matches RFC 4231",
        arguments: [
            (
                [UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
            ),
            (
                Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
            ),
            (
                [UInt8](1...25), [UInt8](repeating: 0xcd, count: 50),
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
            ),
            (
                [UInt8](repeating: 0xaa, count: 131),
                Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
            ),
        ])
    func hmac(key: [UInt8], message: [UInt8], expected: String) {
        #expect(HMACSHA256.authenticate(message, key: key).hexString == expected)
        if message.allSatisfy({ $0 < 0x80 }) {
            #expect(HMACSHA256.authenticate(String(decoding: message, as: UTF8.self), key: key).hexString == expected)
        }
    }

    @Test("hex of arrays, slices and other sequences")
    func hex() {
        #expect([UInt8]().hexString == "")
        #expect([0x00, 0x0f, 0xa5, 0xff].hexString == "000fa5ff")
        #expect(([0x12, 0x34, 0x56] as [UInt8])[1...].hexString == "3456")
        #expect((0..<3).lazy.map { UInt8($0 * 0x11) }.hexString == "001122")
        #expect(MessageDigest.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

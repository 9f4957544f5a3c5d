import CairnCore
import Testing

/// Tests for the streaming `x-amz-checksum-*` implementations (``CRC32``, ``CRC32C`` and ``CRC64NVME``).
///
/// Expected values were computed independently in Python: CRC32 with `zlib.crc32`, CRC32C and CRC64NVME with
/// `awscrt.checksums.crc32c` / `awscrt.checksums.crc64nvme` (awscrt 0.38.1). The base64 strings are
/// `base64.b64encode(value.to_bytes(n, "big"))`, which is what S3 puts in the `x-amz-checksum-*` headers.
@Suite("Checksums")
struct ChecksumTests {
    /// One input together with its expected checksums.
    struct Vector: Sendable, CustomTestStringConvertible {
        let input: String
        let crc32: UInt32
        let crc32Base64: String
        let crc32c: UInt32
        let crc32cBase64: String
        let crc64nvme: UInt64
        let crc64nvmeBase64: String

        var testDescription: String { input.isEmpty ? "<empty>" : "\"\(input)\"" }
    }

    /// Known values, computed with zlib (CRC32) and awscrt (CRC32C, CRC64NVME).
    static let vectors: [Vector] = [
        Vector(
            input: "",
            crc32: 0, crc32Base64: "AAAAAA==",
            crc32c: 0, crc32cBase64: "AAAAAA==",
            crc64nvme: 0, crc64nvmeBase64: "AAAAAAAAAAA="
        ),
        // The standard "check" values of each CRC catalogue entry.
        Vector(
            input: "123456789",
            crc32: 0xCBF4_3926, crc32Base64: "y/Q5Jg==",
            crc32c: 0xE306_9283, crc32cBase64: "4waSgw==",
            crc64nvme: 0xAE8B_1486_0A79_9888, crc64nvmeBase64: "rosUhgp5mIg="
        ),
        Vector(
            input: "hello world",
            crc32: 0x0D4A_1185, crc32Base64: "DUoRhQ==",
            crc32c: 0xC994_65AA, crc32cBase64: "yZRlqg==",
            crc64nvme: 0x8D29_D5C3_F6EA_8EBE, crc64nvmeBase64: "jSnVw/bqjr4="
        ),
        // Longer than 16 bytes, so the slice-by-16 loop runs as well as the byte-at-a-time tail.
        Vector(
            input: "The quick brown fox jumps over the lazy dog",
            crc32: 0x414F_A339, crc32Base64: "QU+jOQ==",
            crc32c: 0x2262_0404, crc32cBase64: "ImIEBA==",
            crc64nvme: 0xD76C_5405_4954_C143, crc64nvmeBase64: "12xUBUlUwUM="
        ),
    ]

    @Test("Known values and S3 base64 encodings", arguments: vectors)
    func knownValues(_ vector: Vector) {
        var crc32 = CRC32()
        var crc32c = CRC32C()
        var crc64 = CRC64NVME()
        Array(vector.input.utf8).withUnsafeBytes { bytes in
            crc32.update(bytes)
            crc32c.update(bytes)
            crc64.update(bytes)
        }
        #expect(crc32.value == vector.crc32)
        #expect(crc32.base64 == vector.crc32Base64)
        #expect(crc32c.value == vector.crc32c)
        #expect(crc32c.base64 == vector.crc32cBase64)
        #expect(crc64.value == vector.crc64nvme)
        #expect(crc64.base64 == vector.crc64nvmeBase64)
    }

    @Test("A fresh checksum is the checksum of the empty input")
    func emptyInput() {
        #expect(CRC32().value == 0)
        #expect(CRC32C().value == 0)
        #expect(CRC64NVME().value == 0)

        var crc32 = CRC32()
        var crc32c = CRC32C()
        var crc64 = CRC64NVME()
        [UInt8]().withUnsafeBytes { crc32.update($0) }
        crc32c.update(UnsafeRawBufferPointer(start: nil, count: 0))
        crc64.update(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(crc32.base64 == "AAAAAA==")
        #expect(crc32c.base64 == "AAAAAA==")
        #expect(crc64.base64 == "AAAAAAAAAAA=")
    }

    @Test("100 KB of pseudo-random data: known values, in one piece and in many uneven pieces")
    func unevenPieces() {
        let data = Self.pseudoRandomBytes(count: 100_000, seed: 0x5EED)

        var whole32 = CRC32()
        var whole32c = CRC32C()
        var whole64 = CRC64NVME()
        data.withUnsafeBytes { bytes in
            whole32.update(bytes)
            whole32c.update(bytes)
            whole64.update(bytes)
        }
        // Computed with zlib (CRC32) and awscrt (CRC32C, CRC64NVME) over the same SplitMix64 byte stream.
        #expect(whole32.value == 0x4B8B_5E5A)
        #expect(whole32.base64 == "S4teWg==")
        #expect(whole32c.value == 0xA6EE_C759)
        #expect(whole32c.base64 == "pu7HWQ==")
        #expect(whole64.value == 0x20E9_000C_D0F4_7718)
        #expect(whole64.base64 == "IOkADND0dxg=")

        // Piece sizes cycle through empty, sub-word, word-straddling and multi-block lengths, so the pieces start at
        // every alignment. Values are also read mid-stream, which must not disturb the running state.
        let pieceSizes = [0, 1, 2, 3, 5, 7, 8, 9, 13, 15, 16, 17, 31, 33, 64, 100, 255, 1_000, 4_097]
        var piece32 = CRC32()
        var piece32c = CRC32C()
        var piece64 = CRC64NVME()
        var pieces = 0
        data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + pieceSizes[pieces % pieceSizes.count], bytes.count)
                let piece = UnsafeRawBufferPointer(rebasing: bytes[offset..<end])
                piece32.update(piece)
                piece32c.update(piece)
                piece64.update(piece)
                _ = (piece32.value, piece32c.value, piece64.value, piece64.base64)
                offset = end
                pieces += 1
            }
        }
        #expect(pieces > 100)
        #expect(piece32.value == whole32.value)
        #expect(piece32c.value == whole32c.value)
        #expect(piece64.value == whole64.value)
    }

    /// Deterministic test data: the little-endian bytes of successive SplitMix64 outputs.
    ///
    /// Python equivalent used to compute the expected values above:
    /// `s = (s + 0x9E3779B97F4A7C15) % 2**64; z = s; z = ((z ^ z >> 30) * 0xBF58476D1CE4E5B9) % 2**64;`
    /// `z = ((z ^ z >> 27) * 0x94D049BB133111EB) % 2**64; out += (z ^ z >> 31).to_bytes(8, "little")`.
    static func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 8)
        while bytes.count < count {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            for shift in stride(from: 0, to: 64, by: 8) {
                bytes.append(UInt8(truncatingIfNeeded: z >> UInt64(shift)))
            }
        }
        return Array(bytes.prefix(count))
    }
}

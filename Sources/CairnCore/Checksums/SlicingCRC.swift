/// The slice-by-16 engine of every ``ReflectedCRC``, generic over the register width.
///
/// The tables are sixteen 256-entry lookup tables stored back to back; table `k` advances a byte through `k`
/// further zero bytes.
public enum SlicingCRC {
    /// Advances `crc` over `bytes` using the slice-by-16 tables `t` and returns the new register.
    @inlinable @inline(__always)
    static func process<Register: FixedWidthInteger & UnsignedInteger>(
        _ crc: Register,
        _ bytes: UnsafeRawBufferPointer,
        _ t: UnsafeBufferPointer<Register>
    ) -> Register {
        guard var pointer = bytes.baseAddress else { return crc }
        var remaining = bytes.count
        var crc = crc
        while remaining >= 16 {
            // The second word does not depend on `crc`, so fold it first: the compiler turns the XORs into one chain
            // in source order, and keeping the `crc`-dependent lookups last makes the loop ~1.5x faster.
            let b = UInt64(littleEndian: pointer.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            let b0 = t[0x700 | byte(b, 0)] ^ t[0x600 | byte(b, 8)] ^ t[0x500 | byte(b, 16)] ^ t[0x400 | byte(b, 24)]
            let b1 = t[0x300 | byte(b, 32)] ^ t[0x200 | byte(b, 40)] ^ t[0x100 | byte(b, 48)] ^ t[byte(b, 56)]
            let a = UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self)) ^ UInt64(truncatingIfNeeded: crc)
            let a0 = t[0xF00 | byte(a, 0)] ^ t[0xE00 | byte(a, 8)] ^ t[0xD00 | byte(a, 16)] ^ t[0xC00 | byte(a, 24)]
            let a1 = t[0xB00 | byte(a, 32)] ^ t[0xA00 | byte(a, 40)] ^ t[0x900 | byte(a, 48)] ^ t[0x800 | byte(a, 56)]
            crc = (b0 ^ b1) ^ (a0 ^ a1)
            pointer += 16
            remaining -= 16
        }
        while remaining > 0 {
            let index = (crc ^ Register(pointer.load(as: UInt8.self))) & 0xFF
            crc = (crc &>> 8) ^ t[Int(truncatingIfNeeded: index)]
            pointer += 1
            remaining -= 1
        }
        return crc
    }

    /// Extracts the byte of `word` starting at bit `shift` as a table index.
    @inlinable @inline(__always)
    static func byte(_ word: UInt64, _ shift: UInt64) -> Int {
        Int(truncatingIfNeeded: (word &>> shift) & 0xFF)
    }

    /// Builds the sixteen slice-by-16 tables for a reflected polynomial.
    public static func makeTable<Register: FixedWidthInteger & UnsignedInteger>(polynomial: Register) -> [Register] {
        var table = [Register](repeating: 0, count: 16 * 256)
        for index in 0..<256 {
            var crc = Register(index)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc &>> 1) ^ polynomial : crc &>> 1
            }
            table[index] = crc
        }
        for slice in 1..<16 {
            for index in 0..<256 {
                let previous = table[(slice - 1) * 256 + index]
                table[slice * 256 + index] = (previous &>> 8) ^ table[Int(truncatingIfNeeded: previous & 0xFF)]
            }
        }
        return table
    }
}

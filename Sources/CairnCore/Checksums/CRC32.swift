#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A streaming CRC-32 checksum (IEEE 802.3, the variant used by zlib, gzip, PNG and Ethernet).
///
/// This is the algorithm S3 uses for the `x-amz-checksum-crc32` header: reflected polynomial `0xEDB88320`, initial
/// value `0xFFFFFFFF` and final XOR `0xFFFFFFFF`. The check value for the ASCII string `"123456789"` is `0xCBF43926`.
///
/// Input is processed with a table-driven slice-by-16 algorithm (16 KiB of tables, built on first use), so the type
/// is suitable for multi-gigabyte uploads. Feed data with ``update(_:)`` in chunks of any size; the result does not
/// depend on how the input is split.
///
/// ```swift
/// var crc = CRC32()
/// buffer.withUnsafeBytes { crc.update($0) }
/// let header = crc.base64 // value for `x-amz-checksum-crc32`
/// ```
public struct CRC32: Sendable {
    /// The reflected generator polynomial.
    private static let polynomial: UInt32 = 0xEDB8_8320

    /// Sixteen 256-entry lookup tables stored back to back; table `k` advances a byte through `k` further zero bytes.
    private static let table: [UInt32] = SlicingCRC32.makeTable(polynomial: polynomial)

    /// The running CRC register, before the final XOR.
    private var state: UInt32 = 0xFFFF_FFFF

    /// Creates a checksum over no data.
    public init() {}

    /// Feeds more data into the checksum.
    ///
    /// May be called any number of times, including after reading ``value`` or ``base64``.
    ///
    /// - Parameter bytes: The next bytes of the input. An empty buffer leaves the checksum unchanged.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        let current = state
        state = Self.table.withUnsafeBufferPointer { table in
            SlicingCRC32.process(current, bytes, table)
        }
    }

    /// The finalized CRC-32 of all data fed so far (`0` for no data).
    public var value: UInt32 {
        state ^ 0xFFFF_FFFF
    }

    /// The checksum as S3 sends it in `x-amz-checksum-crc32`: the 4 big-endian bytes of ``value``, base64-encoded.
    public var base64: String {
        withUnsafeBytes(of: value.bigEndian) { Data($0).base64EncodedString() }
    }
}

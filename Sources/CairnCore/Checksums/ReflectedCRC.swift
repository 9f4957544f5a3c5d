#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A streaming reflected CRC (initial value and final XOR all ones) of any register width: S3's CRC-32, CRC-32C
/// and CRC-64/NVME checksums (``CRC32``, ``CRC32C``, ``CRC64NVME``).
///
/// Input is processed with the table-driven slice-by-16 algorithm of ``SlicingCRC``, so the type suits
/// multi-gigabyte uploads. Feed data with ``update(_:)`` in chunks of any size; the result does not depend on how
/// the input is split.
///
/// ```swift
/// var crc = CRC32C()
/// buffer.withUnsafeBytes { crc.update($0) }
/// let header = crc.base64 // value for `x-amz-checksum-crc32c`
/// ```
public struct ReflectedCRC<Polynomial: CRCPolynomial>: Sendable {
    /// The running CRC register, before the final XOR.
    @usableFromInline var state: Polynomial.Register = ~0

    /// Creates a checksum over no data.
    public init() {}

    /// Feeds more data into the checksum. May be called any number of times, including after reading ``value``.
    ///
    /// Inlinable so that callers in other modules get the loop specialised for the register width.
    @inlinable
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        let current = state
        state = Polynomial.table.withUnsafeBufferPointer { table in
            SlicingCRC.process(current, bytes, table)
        }
    }

    /// The finalized CRC of all data fed so far (`0` for no data).
    public var value: Polynomial.Register {
        ~state
    }

    /// The checksum as S3 sends it in `x-amz-checksum-*`: the big-endian bytes of ``value``, base64-encoded.
    public var base64: String {
        withUnsafeBytes(of: value.bigEndian) { Data($0).base64EncodedString() }
    }
}

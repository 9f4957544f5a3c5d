/// The parameters of a reflected CRC with initial value and final XOR of all ones, as S3's checksums are: the
/// polynomial, and the slice-by-16 tables built from it (once per algorithm, on first use).
///
/// Conforming types are caseless enums: a generic type cannot hold static stored properties, so each algorithm's
/// tables live here and ``ReflectedCRC`` reads them.
public protocol CRCPolynomial: Sendable {
    /// The CRC register: `UInt32` or `UInt64`.
    associatedtype Register: FixedWidthInteger & UnsignedInteger & Sendable
    /// The reflected generator polynomial.
    static var polynomial: Register { get }
    /// Sixteen 256-entry lookup tables stored back to back (``SlicingCRC/makeTable(polynomial:)``).
    static var table: [Register] { get }
}

/// IEEE 802.3 (zlib, gzip, PNG, Ethernet): S3's `x-amz-checksum-crc32`.
public enum IEEEPolynomial: CRCPolynomial {
    public static let polynomial: UInt32 = 0xEDB8_8320
    public static let table = SlicingCRC.makeTable(polynomial: polynomial)
}

/// Castagnoli (iSCSI, ext4, SSE4.2 `crc32`): S3's `x-amz-checksum-crc32c`.
public enum CastagnoliPolynomial: CRCPolynomial {
    public static let polynomial: UInt32 = 0x82F6_3B78
    public static let table = SlicingCRC.makeTable(polynomial: polynomial)
}

/// The NVM Express specification's CRC-64: S3's `x-amz-checksum-crc64nvme`.
public enum NVMePolynomial: CRCPolynomial {
    public static let polynomial: UInt64 = 0x9A6C_9329_AC4B_C9B5
    public static let table = SlicingCRC.makeTable(polynomial: polynomial)
}

/// CRC-32 (IEEE): check value `0xCBF43926` for the ASCII string `"123456789"`.
public typealias CRC32 = ReflectedCRC<IEEEPolynomial>
/// CRC-32C (Castagnoli): check value `0xE3069283` for `"123456789"`.
public typealias CRC32C = ReflectedCRC<CastagnoliPolynomial>
/// CRC-64/NVME: check value `0xAE8B14860A799888` for `"123456789"`.
public typealias CRC64NVME = ReflectedCRC<NVMePolynomial>

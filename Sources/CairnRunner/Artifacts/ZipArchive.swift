import CairnCore
import Foundation

/// Writes a zip archive of stored (uncompressed) entries, streaming each file through CRC-32.
///
/// Stored entries keep the runner free of a compression dependency; build outputs that compress well can be
/// compressed by the build itself. Sizes are limited to 4 GiB per entry and per archive (no zip64).
struct ZipArchive {
    struct Entry {
        /// The name inside the archive.
        var name: String
        /// The file to read, or nil for a symlink.
        var path: String?
        /// A symlink's target.
        var symlinkTarget: String?
        var mode: UInt32
    }

    static func write(_ entries: [Entry], to destination: String) throws {
        guard FileManager.default.createFile(atPath: destination, contents: nil),
            let output = FileHandle(forWritingAtPath: destination)
        else { throw RunnerError("cannot write \(destination)") }
        defer { try? output.close() }
        var central = Data()
        var offset: UInt32 = 0
        var count: UInt16 = 0
        for entry in entries {
            let content: Data
            if let target = entry.symlinkTarget {
                content = Data(target.utf8)
            } else if let path = entry.path {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw RunnerError("cannot read \(path) for the artifact zip")
                }
                content = data
            } else {
                continue
            }
            guard content.count < UInt32.max, offset < UInt32.max - UInt32(content.count) else {
                throw RunnerError("the artifact zip would exceed 4 GiB; use separate files (no --zip-artifacts)")
            }
            var crc = CRC32()
            content.withUnsafeBytes { crc.update($0) }
            let name = Data(entry.name.utf8)
            let size = UInt32(content.count)
            var local = Data()
            local.append(le32: 0x0403_4b50)
            local.append(le16: 10)  // version needed
            local.append(le16: 0x0800)  // UTF-8 names
            local.append(le16: 0)  // stored
            local.append(le16: 0)  // time
            local.append(le16: 0x21)  // date: 1980-01-01
            local.append(le32: crc.value)
            local.append(le32: size)
            local.append(le32: size)
            local.append(le16: UInt16(name.count))
            local.append(le16: 0)
            local.append(name)
            try output.write(contentsOf: local)
            try output.write(contentsOf: content)

            let fileType: UInt32 = entry.symlinkTarget != nil ? 0o120000 : 0o100000
            central.append(le32: 0x0201_4b50)
            central.append(le16: 0x031e)  // made by: Unix, 3.0
            central.append(le16: 10)
            central.append(le16: 0x0800)
            central.append(le16: 0)
            central.append(le16: 0)
            central.append(le16: 0x21)
            central.append(le32: crc.value)
            central.append(le32: size)
            central.append(le32: size)
            central.append(le16: UInt16(name.count))
            central.append(le16: 0)
            central.append(le16: 0)
            central.append(le16: 0)
            central.append(le16: 0)
            central.append(le32: (fileType | (entry.mode & 0o7777)) << 16)
            central.append(le32: offset)
            central.append(name)
            offset += UInt32(local.count) + size
            count += 1
        }
        var end = Data()
        end.append(le32: 0x0605_4b50)
        end.append(le16: 0)
        end.append(le16: 0)
        end.append(le16: count)
        end.append(le16: count)
        end.append(le32: UInt32(central.count))
        end.append(le32: offset)
        end.append(le16: 0)
        try output.write(contentsOf: central)
        try output.write(contentsOf: end)
    }
}

extension Data {
    fileprivate mutating func append(le16 value: UInt16) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    fileprivate mutating func append(le32 value: UInt32) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

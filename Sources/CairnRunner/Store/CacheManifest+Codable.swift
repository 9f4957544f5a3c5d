extension CacheManifest: Codable {
    enum CodingKeys: String, CodingKey {
        case formatVersion, key, files, createdAt
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let format = try container.decodeIfPresent(Int.self, forKey: .formatVersion) ?? 1
        switch format {
        case 1:
            files = try container.decode([String: FileRecord].self, forKey: .files)
        case 2:
            files = FileRow.files(try container.decode([FileRow].self, forKey: .files))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .formatVersion, in: container,
                debugDescription: "cache manifest format \(format) is not one this runner reads (1 or 2)")
        }
        key = try container.decode(String.self, forKey: .key)
        createdAt = try container.decode(Double.self, forKey: .createdAt)
    }

    /// Always writes the current format, ``formatVersion``.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.formatVersion, forKey: .formatVersion)
        try container.encode(key, forKey: .key)
        try container.encode(FileRow.rows(files), forKey: .files)
        try container.encode(createdAt, forKey: .createdAt)
    }
}

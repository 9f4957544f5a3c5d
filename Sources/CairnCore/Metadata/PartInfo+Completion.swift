extension PartInfo {
    /// The parts CompleteMultipartUpload names, checked by S3's rules: part numbers ascending, every part uploaded
    /// with the ETag the client saw, every part but the last at least `minimumPartSize` bytes. Both metadata engines
    /// check a completion with this, inside the transaction that completes it.
    static func chosen(
        _ requested: [(partNumber: Int, etag: String)], from stored: [PartInfo], minimumPartSize: Int64
    ) throws -> [PartInfo] {
        let stored = Dictionary(uniqueKeysWithValues: stored.map { ($0.partNumber, $0) })
        var chosen: [PartInfo] = []
        var previous = 0
        for (number, etag) in requested {
            guard number > previous else { throw MetadataError.invalidPartOrder }
            previous = number
            guard let part = stored[number], part.etag == etag else { throw MetadataError.invalidPart(number) }
            chosen.append(part)
        }
        for part in chosen.dropLast() where part.segment.size < minimumPartSize {
            throw MetadataError.entityTooSmall(partNumber: part.partNumber)
        }
        return chosen
    }
}

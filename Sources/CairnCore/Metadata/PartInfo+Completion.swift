extension PartInfo {
    /// The parts CompleteMultipartUpload names, checked by S3's rules: part numbers ascending, every part uploaded
    /// with the ETag the client saw, every part but the last at least `minimumPartSize` bytes. Both metadata engines
    /// check a completion with this, inside the transaction that completes it.
    static func chosen(
        _ requested: [(partNumber: Int, etag: String)], from stored: [PartInfo], minimumPartSize: Int64
    ) throws -> [PartInfo] {
        let stored = Dictionary(uniqueKeysWithValues: stored.map { ($0.partNumber, $0) })
        var chosen: [PartInfo] = []
        // A part listed more than once in a row (the client re-uploaded it while completing) counts once, as its
        // latest upload, when one of the listed ETags is that upload's.
        var index = requested.startIndex
        var previous = 0
        while index < requested.endIndex {
            let number = requested[index].partNumber
            guard number > previous else { throw MetadataError.invalidPartOrder }
            previous = number
            var etags: Set<String> = []
            while index < requested.endIndex, requested[index].partNumber == number {
                etags.insert(requested[index].etag)
                index += 1
            }
            guard let part = stored[number], etags.contains(part.etag) else { throw MetadataError.invalidPart(number) }
            chosen.append(part)
        }
        for part in chosen.dropLast() where part.segment.size < minimumPartSize {
            throw MetadataError.entityTooSmall(partNumber: part.partNumber)
        }
        return chosen
    }
}

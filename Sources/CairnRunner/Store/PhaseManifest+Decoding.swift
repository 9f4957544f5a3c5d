extension PhaseManifest {
    /// Decodes a stored manifest the way the runner reads one: with its own JSON decoder, not `JSONDecoder`.
    ///
    /// Public so that `cairn-bench` times the decoder the runner actually uses (`JSONValueDecoder` stays
    /// internal). Throws `DecodingError` for JSON that is invalid or does not describe a manifest.
    public static func decode(from bytes: some Collection<UInt8>) throws -> PhaseManifest {
        try JSONValueDecoder().decode(PhaseManifest.self, from: bytes)
    }
}

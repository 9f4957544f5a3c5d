import Foundation

extension PhaseManifest {
    /// Decodes a stored manifest the way the runner reads one: with `JSONDecoder`, in either format.
    ///
    /// Public so that `cairn-bench` times the decoding the runner actually does. Throws `DecodingError` for JSON
    /// that is invalid or does not describe a manifest.
    public static func decode(from bytes: some Collection<UInt8>) throws -> PhaseManifest {
        try JSONDecoder().decode(PhaseManifest.self, from: bytes as? Data ?? Data(bytes))
    }
}

import Foundation

/// A small cache of derived SigV4 signing keys, keyed by everything the derivation depends on.
final class SigningKeyCache: @unchecked Sendable {  // the dictionary is only touched under `lock`
    private let lock = NSLock()
    private var keys: [Name: [UInt8]] = [:]

    private struct Name: Hashable {
        let secret: String
        let date: String
        let region: String
        let service: String
    }

    func key(secret: String, date: String, region: String, service: String) -> [UInt8] {
        let name = Name(secret: secret, date: date, region: region, service: service)
        if let key = lock.withLock({ keys[name] }) { return key }
        let key = SigV4.signingKey(secret: secret, date: date, region: region, service: service)
        lock.withLock {
            if keys.count > 256 { keys.removeAll() }
            keys[name] = key
        }
        return key
    }
}

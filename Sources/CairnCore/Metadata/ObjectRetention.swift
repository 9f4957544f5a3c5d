import Foundation

/// An object version's lock retention: it may not be deleted before `retainUntil`.
public struct ObjectRetention: Sendable, Hashable, Codable {
    public var mode: ObjectLockMode
    public var retainUntil: Date

    public init(mode: ObjectLockMode, retainUntil: Date) {
        self.mode = mode
        self.retainUntil = retainUntil
    }
}

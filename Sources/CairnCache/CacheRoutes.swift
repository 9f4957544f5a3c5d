import CairnCore
import Hummingbird

/// Registers every build-cache protocol and Cairn's own cache API under `/_cairn/`.
public enum CacheRoutes {
    /// Adds the routes to a router.
    public static func register(
        on router: Router<BasicRequestContext>, storage: CacheStorage, authenticator: CacheAuthenticator
    ) {
        CacheAPI(storage: storage, authenticator: authenticator).register(on: router)
        BazelCache(storage: storage, authenticator: authenticator).register(on: router)
        CCacheStorage(storage: storage, authenticator: authenticator).register(on: router)
        GradleCache(storage: storage, authenticator: authenticator).register(on: router)
        TurboCache(storage: storage, authenticator: authenticator).register(on: router)
    }
}

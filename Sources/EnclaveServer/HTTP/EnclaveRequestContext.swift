public import EnclaveCore
public import Hummingbird
import Logging
import NIOCore

/// The request context: the caller's identity once the auth middleware has verified a token.
public struct EnclaveRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `TokenAuthMiddleware`; nil on unauthenticated routes.
    public var user: User?
    /// The peer's IP address, for per-address sign-in rate limits (nil in in-process tests without a socket).
    public var remoteAddress: String?
    /// The browser session of a portal page request (set by the portal's session middleware; nil elsewhere).
    public var browserSession: BrowserSession?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Bodies are collected explicitly (`JSONBody`) with Enclave's 1 MiB limit.
    public var maxUploadSize: Int { 1024 * 1024 }
}

/// The context of authenticated routes: `user` is not optional, so a handler cannot forget to check.
public struct AuthenticatedContext: ChildRequestContext {
    public typealias ParentContext = EnclaveRequestContext
    public var coreContext: CoreRequestContextStorage
    public let user: User
    public let remoteAddress: String?

    public init(context: EnclaveRequestContext) throws {
        guard let user = context.user else {
            throw EnclaveError.unauthorized("Could not validate credentials: send Authorization: Bearer <token>")
        }
        self.coreContext = context.coreContext
        self.user = user
        self.remoteAddress = context.remoteAddress
    }

    public var maxUploadSize: Int { 1024 * 1024 }
}

public import EnclaveCore
public import Foundation

/// Remembers tokens whose signature and claims were already verified, until each one's own expiry.
///
/// A signature check (ES256/RS256) costs more than the rest of a typical GET; clients send the same
/// token for an hour. A JWT cannot change or be revoked before `exp`, so answering a repeat from
/// memory accepts nothing the verifier would refuse. Failures are never cached. The cache is bounded:
/// when full it is emptied, which costs only re-verification.
public final class VerifiedTokenCache: Sendable {
    private struct Entry: Sendable {
        var user: User
        var expires: Date
    }

    private let entries: BoundedCache<String, Entry>

    public init(capacity: Int = 10_000) {
        self.entries = BoundedCache(capacity: capacity)
    }

    /// The verified user for `token`, from memory when possible.
    public func user(for token: String, verifier: some BearerTokenVerifying, now: Date = Date()) async throws(EnclaveError) -> User {
        if let entry = entries.value(for: token) {
            if entry.expires >= now { return entry.user }
            entries.removeValue(for: token)
        }
        let (user, expires) = try await verifier.verifyWithExpiry(token, now: now)
        entries.set(Entry(user: user, expires: expires), for: token)
        return user
    }
}

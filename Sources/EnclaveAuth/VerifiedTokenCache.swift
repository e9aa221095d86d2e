public import EnclaveCore
public import Foundation
import Synchronization

/// Remembers tokens whose signature and claims were already verified, until each one's own expiry.
///
/// A signature check (ES256/RS256) costs more than the rest of a typical GET; clients send the same
/// token for an hour. A JWT cannot change or be revoked before `exp`, so answering a repeat from
/// memory accepts nothing the verifier would refuse. Failures are never cached. The cache is bounded:
/// when full it is emptied, which costs only re-verification.
public final class VerifiedTokenCache: Sendable {
    private struct Entry {
        var user: User
        var expires: Date
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let capacity: Int

    public init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// The verified user for `token`, from memory when possible.
    public func user(for token: String, verifier: some BearerTokenVerifying, now: Date = Date()) async throws(EnclaveError) -> User {
        let cached = entries.withLock { map -> User? in
            guard let entry = map[token] else { return nil }
            if entry.expires < now {
                map[token] = nil
                return nil
            }
            return entry.user
        }
        if let cached { return cached }
        let (user, expires) = try await verifier.verifyWithExpiry(token, now: now)
        entries.withLock { map in
            if map.count >= capacity { map.removeAll(keepingCapacity: true) }
            map[token] = Entry(user: user, expires: expires)
        }
        return user
    }
}

public import EnclaveAPI
import Foundation

/// The login saved by `enclave login` as the client's token source: it refreshes the access token when
/// it expires within a minute, or once after the server refused it, and saves the new tokens.
///
/// Providers rotate refresh tokens: each is spent by one refresh, and presenting a spent one revokes
/// the whole sign-in. So a refresh happens only under `ConfigStore.withLock`, and starts by re-reading
/// the file: when another `enclave` process (or task) has refreshed meanwhile, its tokens are used and
/// nothing is spent. When the provider refuses the refresh token (`invalid_grant`: expired, revoked,
/// already spent), the saved tokens are cleared and the error says to run `enclave login` again.
public actor SavedLoginSession: BearerTokenProvider {
    public let store: ConfigStore
    let oauth: OAuthClient
    let now: @Sendable () -> Double
    /// The login as last read or written.
    public private(set) var login: StoredLogin

    /// How long before expiry a token is refreshed.
    public static let refreshMargin: Double = 60

    public init(login: StoredLogin, store: ConfigStore, oauth: OAuthClient, now: @escaping @Sendable () -> Double) {
        self.login = login
        self.store = store
        self.oauth = oauth
        self.now = now
    }

    public func currentToken() async throws(EnclaveClientError) -> String? {
        if login.canRefresh, login.expires(within: Self.refreshMargin, of: now()) {
            do {
                try await refresh(replacing: login.token)
            } catch {
                // A token that still works is used while the provider is unreachable; a refused
                // refresh (tokens cleared) or an expired token ends here.
                if login.token.isEmpty || login.expires(within: 0, of: now()) { throw error }
            }
        }
        return login.token.isEmpty ? nil : login.token
    }

    public func token(replacing rejected: String?) async throws(EnclaveClientError) -> String? {
        try await refresh(replacing: rejected)
        return login.token.isEmpty || login.token == rejected ? nil : login.token
    }

    /// Replaces `stale` with a fresh access token, under the lock.
    public func refresh(replacing stale: String?) async throws(EnclaveClientError) {
        do {
            try await store.withLock {
                try await refreshLocked(replacing: stale)
            }
        } catch let error as EnclaveClientError {
            throw error
        } catch let error as CLIError {
            throw .credentials(error.message)
        } catch {
            throw .credentials("Could not refresh the sign-in: \(error)")
        }
    }

    private func refreshLocked(replacing stale: String?) async throws {
        guard let saved = try store.load() else {
            throw EnclaveClientError.credentials("You are signed out (\(store.file.path) is gone): run `enclave login --url \(login.url)`")
        }
        if !saved.token.isEmpty, saved.token != stale, !saved.expires(within: Self.refreshMargin, of: now()) {
            login = saved  // another process refreshed while this one waited for the lock
            return
        }
        guard saved.canRefresh, let refreshToken = saved.refreshToken, let tokenEndpoint = saved.tokenEndpoint,
            let clientId = saved.clientId
        else {
            login = saved
            return
        }
        switch try await oauth.refresh(refreshToken, clientId: clientId, tokenEndpoint: tokenEndpoint) {
        case .tokens(let tokens):
            var renewed = saved
            renewed.token = tokens.accessToken
            renewed.refreshToken = tokens.refreshToken ?? refreshToken
            renewed.expiresAt = tokens.expiresAt(now: now())
            try store.save(renewed)
            login = renewed
        case .error("invalid_grant", let description):
            var cleared = saved
            cleared.token = ""
            cleared.refreshToken = nil
            cleared.expiresAt = nil
            try store.save(cleared)
            login = cleared
            throw EnclaveClientError.credentials(
                "Your sign-in to \(saved.url) has expired or was revoked\(description.map { " (\($0))" } ?? ""); "
                    + "run `enclave login --url \(saved.url)` again")
        case .error(let code, let description):
            throw EnclaveClientError.credentials(
                "The identity provider refused to refresh the sign-in (\(code)\(description.map { ": \($0)" } ?? ""))")
        }
    }
}

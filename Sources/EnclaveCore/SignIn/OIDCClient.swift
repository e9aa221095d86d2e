/// A client registered with the built-in provider, and which redirect URIs it may use.
///
/// Redirect URIs are compared exactly (no prefix or wildcard matching: a loose match is how codes
/// get sent to an attacker). The one exception is RFC 8252 §7.3 for native apps: a client marked
/// `loopback` may use any port on `127.0.0.1` or `[::1]` with exactly the registered path, because a
/// CLI picks a free port at run time.
public struct OIDCClient: Sendable, Hashable {
    public var id: String
    public var redirectURIs: [String]
    /// Native app on this machine (`enclave login`): any loopback port, path as registered.
    public var loopback: Bool
    public var loopbackPaths: [String]
    /// Where end-session may send the browser afterwards (exact match).
    public var postLogoutRedirectURIs: [String]

    public init(
        id: String, redirectURIs: [String], loopback: Bool = false, loopbackPaths: [String] = ["/callback"],
        postLogoutRedirectURIs: [String] = []
    ) {
        self.id = id
        self.redirectURIs = redirectURIs
        self.loopback = loopback
        self.loopbackPaths = loopbackPaths
        self.postLogoutRedirectURIs = postLogoutRedirectURIs
    }

    /// The built-in clients: the web portal (redirects back to this server) and the CLI (loopback).
    public static func builtIn(publicURL: String) -> [OIDCClient] {
        [
            OIDCClient(
                id: "enclave-portal", redirectURIs: ["\(publicURL)/auth/callback"],
                postLogoutRedirectURIs: ["\(publicURL)/auth/signed-out"]),
            OIDCClient(id: "enclave-cli", redirectURIs: [], loopback: true, loopbackPaths: ["/callback"]),
        ]
    }

    public func allows(redirectURI: String) -> Bool {
        if redirectURIs.contains(redirectURI) { return true }
        guard loopback else { return false }
        for host in ["http://127.0.0.1:", "http://[::1]:"] where redirectURI.hasPrefix(host) {
            let rest = redirectURI.dropFirst(host.count)
            let port = rest.prefix(while: \.isNumber)
            guard !port.isEmpty, port.count <= 5, let value = Int(port), (1...65535).contains(value) else { return false }
            return loopbackPaths.contains(String(rest.dropFirst(port.count)))
        }
        return false
    }

    public func allows(postLogoutRedirectURI: String) -> Bool {
        postLogoutRedirectURIs.contains(postLogoutRedirectURI)
    }
}

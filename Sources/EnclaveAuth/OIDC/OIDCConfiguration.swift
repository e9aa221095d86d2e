public import EnclaveCore
import Foundation

/// How Enclave trusts an external OpenID Connect provider (Entra ID, Keycloak, …).
///
/// The client id and secret are kept for the browser sign-in flow; bearer-token verification needs
/// only the issuer, the audiences and the claim mapping. `description` never shows the secret, so the
/// configuration can be logged.
public struct OIDCConfiguration: Sendable, CustomStringConvertible {
    /// Exactly the `iss` the provider writes in its tokens and in its discovery document.
    public var issuer: String
    /// Accepted `aud` values (Entra ID: the API app's client id, or its `api://…` URI).
    public var audiences: [String]
    public var clientID: String?
    public var clientSecret: String?
    /// A claim name or dotted path holding role names (`roles`, `realm_access.roles`).
    public var rolesClaim: String
    public var groupsClaim: String
    /// Group id → core role, for providers that send groups rather than app roles.
    public var groupRoles: [String: CoreRole]
    /// Seconds between scheduled refreshes of discovery and JWKS.
    public var refreshInterval: Double
    /// The least number of seconds between two fetches caused by unknown `kid`s, so a flood of
    /// tokens naming made-up keys cannot make Enclave hammer the provider.
    public var minimumRefetchInterval: Double
    public var clockSkew: Double
    /// The public client `enclave login` uses (loopback + PKCE, device code); nil: `clientID`.
    public var cliClientID: String?
    /// Scopes requested besides `openid profile email` so the provider's access tokens carry the API
    /// audience (Entra ID: `api://<client-id>/user_impersonation`).
    public var scopes: [String]

    public init(
        issuer: String, audiences: [String], clientID: String? = nil, clientSecret: String? = nil,
        rolesClaim: String = "roles", groupsClaim: String = "groups", groupRoles: [String: CoreRole] = [:],
        refreshInterval: Double = 600, minimumRefetchInterval: Double = 30, clockSkew: Double = 60,
        cliClientID: String? = nil, scopes: [String] = []
    ) {
        self.cliClientID = cliClientID
        self.scopes = scopes
        self.issuer = issuer
        self.audiences = audiences
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.rolesClaim = rolesClaim
        self.groupsClaim = groupsClaim
        self.groupRoles = groupRoles
        self.refreshInterval = refreshInterval
        self.minimumRefetchInterval = minimumRefetchInterval
        self.clockSkew = clockSkew
    }

    public var rules: ClaimRules {
        ClaimRules(
            issuer: issuer, audiences: audiences, rolesClaim: rolesClaim, groupsClaim: groupsClaim,
            groupRoles: groupRoles, clockSkew: clockSkew)
    }

    /// `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4).
    public var discoveryURL: String {
        (issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer) + "/.well-known/openid-configuration"
    }

    public var description: String {
        "OIDC(issuer: \(issuer), audiences: \(audiences), clientID: \(clientID ?? "-"), clientSecret: \(clientSecret == nil ? "-" : "<redacted>"), rolesClaim: \(rolesClaim), groupRoles: \(groupRoles.count))"
    }

    /// Refuses configurations that cannot work or would be unsafe: no audience, a plain-HTTP issuer
    /// other than loopback (keys fetched over HTTP could be swapped on the way).
    public func validate() throws(EnclaveError) {
        guard let url = URL(string: issuer), let scheme = url.scheme, let host = url.host, !host.isEmpty else {
            throw .badRequest("The OIDC issuer '\(issuer)' is not a URL")
        }
        if scheme != "https" && !(scheme == "http" && Self.isLoopback(host)) {
            throw .badRequest("The OIDC issuer '\(issuer)' must use https (plain http only for a loopback test provider)")
        }
        if audiences.isEmpty || audiences.contains(where: \.isEmpty) {
            throw .badRequest("An OIDC provider needs an audience (--oidc-audience, or --oidc-client-id)")
        }
        if rolesClaim.isEmpty { throw .badRequest("--oidc-roles-claim must name a claim") }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// Parses `--oidc-group-role <group>=<role>`.
    public static func parseGroupRole(_ text: String) throws(EnclaveError) -> (group: String, role: CoreRole) {
        guard let equals = text.lastIndex(of: "=") else {
            throw .badRequest("--oidc-group-role '\(text)' must be <group>=<role>, e.g. 0d5e…=TREAdmin")
        }
        let group = String(text[..<equals])
        let name = String(text[text.index(after: equals)...])
        guard !group.isEmpty else { throw .badRequest("--oidc-group-role '\(text)' names no group") }
        guard let role = CoreRole(rawValue: name) else {
            throw .badRequest("--oidc-group-role '\(text)': '\(name)' is not a core role (TREAdmin, TREUser)")
        }
        return (group, role)
    }
}

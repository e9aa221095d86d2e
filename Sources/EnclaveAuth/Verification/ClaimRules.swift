public import EnclaveCore
public import Foundation
import JWTKit

/// The claims of a verified token, kept as JSON so that any provider's shape can be read
/// (Entra ID's `roles`, Keycloak's `realm_access.roles`, a `groups` list).
struct RawClaims: JWTPayload {
    var claims: [String: JSONValue]

    init(from decoder: any Decoder) throws {
        claims = try [String: JSONValue](from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try claims.encode(to: encoder)
    }

    /// Claim checks are made by `ClaimRules`, which words the errors.
    func verify(using algorithm: some JWTAlgorithm) async throws {}

    /// The value at a dotted path (`realm_access.roles`), or nil.
    func value(at path: String) -> JSONValue? {
        var current: JSONValue? = .object(claims)
        for part in path.split(separator: ".") {
            guard case .object(let object)? = current else { return nil }
            current = object[String(part)]
        }
        return current
    }

    func string(_ name: String) -> String? {
        if case .string(let value)? = claims[name], !value.isEmpty { return value }
        return nil
    }

    /// A NumericDate claim (seconds since 1970, integer or not).
    func date(_ name: String) -> Date? {
        switch claims[name] {
        case .int(let seconds)?: return Date(timeIntervalSince1970: Double(seconds))
        case .double(let seconds)?: return Date(timeIntervalSince1970: seconds)
        default: return nil
        }
    }

    /// A claim holding one string or a list of strings (`aud`, role lists).
    static func strings(_ value: JSONValue?) -> [String] {
        switch value {
        case .string(let value)?: return [value]
        case .array(let values)?: return values.compactMap { if case .string(let s) = $0 { s } else { nil } }
        default: return []
        }
    }
}

/// What one issuer's tokens must say, and how their claims become an Enclave `User`.
///
/// `iss` must equal `issuer` exactly; `aud` (a string or a list) must contain one of `audiences`;
/// `exp` is required and `nbf` honoured, both with `clockSkew`. The user's id is `oid` (Entra ID)
/// or else `sub`; roles are the `rolesClaim` list plus roles granted through `groupRoles`, keeping
/// only Enclave's core roles, so a provider's own roles (`offline_access`, `uma_authorization`) never
/// reach the permission checks.
public struct ClaimRules: Sendable {
    public var issuer: String
    public var audiences: [String]
    /// A claim name or dotted path: `roles`, `realm_access.roles`, `resource_access.enclave.roles`.
    public var rolesClaim: String
    public var groupsClaim: String
    /// Group id (as the provider writes it in `groupsClaim`) → core role.
    public var groupRoles: [String: CoreRole]
    public var clockSkew: TimeInterval
    /// When not empty, the token's `amr` must name at least one of these methods: `--require-mfa` sets
    /// `["otp"]` for the built-in provider and `["otp", "operator"]` for Enclave's own operator tokens.
    /// Empty for external providers, whose MFA policy is the provider's (Entra ID access tokens carry no `amr`).
    public var requiredAMR: Set<String>

    public init(
        issuer: String, audiences: [String], rolesClaim: String = "roles", groupsClaim: String = "groups",
        groupRoles: [String: CoreRole] = [:], clockSkew: TimeInterval = 60, requiredAMR: Set<String> = []
    ) {
        self.requiredAMR = requiredAMR
        self.issuer = issuer
        self.audiences = audiences
        self.rolesClaim = rolesClaim
        self.groupsClaim = groupsClaim
        self.groupRoles = groupRoles
        self.clockSkew = clockSkew
    }

    /// Checks the claims and maps them to a user; 401 `EnclaveError`s worded as Azure TRE words them.
    func user(from claims: RawClaims, now: Date) throws(EnclaveError) -> (user: User, expires: Date) {
        guard let exp = claims.date("exp") else { throw .unauthorized("Invalid token: it has no expiry (exp)") }
        if exp.addingTimeInterval(clockSkew) < now { throw .unauthorized("Expired token signature") }
        if let nbf = claims.date("nbf"), nbf.addingTimeInterval(-clockSkew) > now {
            throw .unauthorized("Invalid token: it is not valid yet (nbf)")
        }
        let iss = claims.string("iss") ?? ""
        guard iss == issuer else {
            throw .unauthorized("Invalid token: it was issued by '\(iss)', not '\(issuer)'")
        }
        let aud = RawClaims.strings(claims.claims["aud"])
        guard aud.contains(where: audiences.contains) else {
            throw .unauthorized("Invalid token: its audience is not '\(audiences.joined(separator: "' or '"))'")
        }
        if !requiredAMR.isEmpty, !RawClaims.strings(claims.claims["amr"]).contains(where: requiredAMR.contains) {
            throw .unauthorized(Self.mfaRequiredMessage)
        }
        guard let id = claims.string("oid") ?? claims.string("sub") else {
            throw .unauthorized("Invalid token: it names no user (oid or sub)")
        }
        let user = User(
            id: id, name: claims.string("name") ?? claims.string("preferred_username") ?? "",
            email: claims.string("email") ?? claims.string("preferred_username") ?? claims.string("upn") ?? "",
            roles: roles(from: claims))
        return (user, exp.addingTimeInterval(clockSkew))
    }

    /// The refusal of a correctly signed token without a second factor. The middleware audits it (the
    /// token is genuine, so the record names a real user and cannot be forged to flood the log).
    public static let mfaRequiredMessage =
        "Multi-factor sign-in required: this token's amr does not include 'otp' (sign in again with your authenticator code)"

    /// The configured roles claim ∪ roles granted by group, core roles only, in a stable order.
    func roles(from claims: RawClaims) -> [String] {
        var granted = Set(RawClaims.strings(claims.value(at: rolesClaim)).compactMap(CoreRole.init(rawValue:)))
        if !groupRoles.isEmpty {
            for group in RawClaims.strings(claims.value(at: groupsClaim)) {
                if let role = groupRoles[group] { granted.insert(role) }
            }
        }
        return CoreRole.allCases.filter(granted.contains).map(\.rawValue)
    }
}

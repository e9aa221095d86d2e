/// A client that signs in as itself with a secret (`client_credentials`): CI pipelines and other
/// automation. Its tokens carry the roles it was given, `amr: ["client"]` and no person's identity.
public struct AutomationClient: Codable, Sendable, Hashable {
    public var id: String
    public var name: String
    /// Hex SHA-256 of the secret (the secret is 256 random bits, so a fast hash is enough).
    public var secretHash: String
    public var roles: [String]
    public var enabled: Bool
    public var createdAt: Double

    public init(id: String, name: String, secretHash: String, roles: [String], enabled: Bool = true, createdAt: Double) {
        self.id = id
        self.name = name
        self.secretHash = secretHash
        self.roles = roles
        self.enabled = enabled
        self.createdAt = createdAt
    }

    /// Client ids: lower-case letters, digits and dashes, 3–64 long, not one of the built-in clients.
    public static func problem(id: String) -> String? {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
        guard (3...64).contains(id.count), id.allSatisfy(allowed.contains), id.first != "-" else {
            return "A client id is 3–64 lower-case letters, digits or dashes"
        }
        if id.hasPrefix("enclave-") { return "Client ids starting with 'enclave-' are reserved" }
        return nil
    }
}

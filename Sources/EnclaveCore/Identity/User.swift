/// The caller of a request as Azure TRE records it on resources and operations (`user` field).
public struct User: Codable, Sendable, Hashable {
    /// The identity provider's object id (`oid` claim); the key for ownership and role assignments.
    public var id: String
    public var name: String
    public var email: String
    /// Core roles from the token (`TREAdmin`, `TREUser`).
    public var roles: [String]

    public init(id: String, name: String, email: String, roles: [String]) {
        self.id = id
        self.name = name
        self.email = email
        self.roles = roles
    }
}

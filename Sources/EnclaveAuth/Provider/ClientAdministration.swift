public import EnclaveCore
public import EnclaveStore
public import Foundation

/// What an operator does to automation clients (`enclave clients …`): register one with roles (its secret
/// is shown once and only its hash kept), list, disable, enable, replace the secret. Each change is audited.
public struct ClientAdministration: Sendable {
    let store: any Store
    let actor: AuditActor
    let now: @Sendable () -> Double

    public init(store: any Store, actor: AuditActor, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.store = store
        self.actor = actor
        self.now = now
    }

    /// Registers a client; returns it and its secret (256 random bits, base64url), which is never stored.
    public func add(id: String, name: String, roles: [String]) async throws -> (client: AutomationClient, secret: String) {
        if let problem = AutomationClient.problem(id: id) { throw EnclaveError.badRequest(problem) }
        guard !roles.isEmpty else { throw EnclaveError.badRequest("A client needs a core role (--role TREUser or TREAdmin)") }
        for role in roles where CoreRole(rawValue: role) == nil {
            throw EnclaveError.badRequest("Unknown role '\(role)': core roles are TREAdmin and TREUser")
        }
        let secret = SecretToken.random()
        let client = AutomationClient(
            id: id, name: name.isEmpty ? id : name, secretHash: SecretToken.sha256Hex(secret), roles: roles, createdAt: now())
        try await store.createClient(client, audit: entry(client, ["change": "registered", "roles": .array(roles.map(JSONValue.string))]))
        return (client, secret)
    }

    public func list() async throws -> [AutomationClient] { try await store.clients() }

    public func setEnabled(_ id: String, _ enabled: Bool) async throws -> AutomationClient {
        var client = try await existing(id)
        client.enabled = enabled
        try await store.updateClient(client, audit: [entry(client, ["change": .string(enabled ? "enabled" : "disabled")])])
        return client
    }

    /// A new secret; the old one stops working at once.
    public func rotateSecret(_ id: String) async throws -> String {
        var client = try await existing(id)
        let secret = SecretToken.random()
        client.secretHash = SecretToken.sha256Hex(secret)
        try await store.updateClient(client, audit: [entry(client, ["change": "secret replaced"])])
        return secret
    }

    private func existing(_ id: String) async throws -> AutomationClient {
        guard let client = try await store.client(id: id) else { throw EnclaveError.notFound("No client with id '\(id)'") }
        return client
    }

    private func entry(_ client: AutomationClient, _ details: [String: JSONValue]) -> AuditEntry {
        AuditEntry(
            id: UUID().uuidString.lowercased(), time: now(), actor: actor, action: .clientUpdate,
            target: "/oidc/clients/\(client.id)", details: .object(details))
    }


}

public import EnclaveCore
public import EnclaveStore
import Foundation
public import Logging

/// The gateway's audit records (`gateway.connect`, `gateway.disconnect`).
///
/// Granularity: a WebSocket is a connection of its own (a terminal, a kernel, a VNC session), so it gets a
/// `gateway.connect` when it opens and a `gateway.disconnect` with its duration and message counts when it
/// closes. Plain HTTP is one record per user and resource per visit: the first request after `visitGap`
/// seconds without one records `gateway.connect` (details `kind: http`); the asset fetches of a page load do
/// not each add a record. Denials are recorded by the router's `auth.denied` middleware like any 403.
public struct GatewayAudit: Sendable {
    let store: any Store
    let now: @Sendable () -> Double
    let newId: @Sendable () -> String
    /// Seconds without a request after which the next HTTP request is a new visit.
    public let visitGap: Double
    /// Last request time per "user resource-path".
    let lastSeen = BoundedCache<String, Double>(capacity: 10_000)

    public init(store: any Store, now: @escaping @Sendable () -> Double, newId: @escaping @Sendable () -> String, visitGap: Double = 1800) {
        self.store = store
        self.now = now
        self.newId = newId
        self.visitGap = visitGap
    }

    /// Records a `gateway.connect` for an HTTP request when it starts a visit. Throws when the record cannot
    /// be written: the gateway then refuses the request rather than let it through unrecorded.
    public func httpRequest(user: User, path: GatewayPath, address: String?, requestId: String?) async throws {
        let key = "\(user.id) \(path.resourcePath)"
        let time = now()
        let last = lastSeen.value(for: key)
        lastSeen.set(time, for: key)
        if let last, time - last < visitGap { return }
        try await store.appendAudit([
            entry(.gatewayConnect, user: user, path: path, requestId: requestId, details: ["kind": "http", "address": .string(address ?? "unknown")])
        ])
    }

    /// Records a WebSocket opening; returns its start time for `webSocketClosed`.
    public func webSocketOpened(user: User, path: GatewayPath, address: String?) async throws -> Double {
        try await store.appendAudit([
            entry(
                .gatewayConnect, user: user, path: path, requestId: nil,
                details: ["kind": "websocket", "path": .string(path.remainder), "address": .string(address ?? "unknown")])
        ])
        return now()
    }

    /// Records a WebSocket closing, with how long it was open and what went through; failures are logged.
    public func webSocketClosed(
        user: User, path: GatewayPath, openedAt: Double, counts: WebSocketRelay.Counts, error: (any Error)?, logger: Logger
    ) async {
        var details: [String: JSONValue] = [
            "kind": "websocket", "path": .string(path.remainder), "seconds": .int(Int((now() - openedAt).rounded())),
            "messagesIn": .int(counts.toUpstream), "messagesOut": .int(counts.toClient),
        ]
        if let error { details["error"] = .string(String(describing: type(of: error))) }
        do {
            try await store.appendAudit([
                entry(.gatewayDisconnect, user: user, path: path, requestId: nil, outcome: error == nil ? .success : .failed, details: .object(details))
            ])
        } catch {
            logger.error("could not record a gateway disconnect in the audit log", metadata: ["error": "\(error)"])
        }
    }

    private func entry(
        _ action: AuditAction, user: User, path: GatewayPath, requestId: String?, outcome: AuditOutcome = .success, details: JSONValue
    ) -> AuditEntry {
        AuditEntry(
            id: newId(), time: now(), actor: AuditActor(user), action: action, target: path.resourcePath, outcome: outcome,
            details: details, requestId: requestId)
    }
}

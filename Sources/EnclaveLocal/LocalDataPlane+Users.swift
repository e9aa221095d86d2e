// What a user resource's workload gets on top of its workspace's isolation: a uid of its own for
// (workspace, user) and a port of its own on the workspace address.
import EnclaveCore
import EnclaveStore

extension LocalDataPlane {
    /// The uid of `userId`'s own workloads in the workspace, allocated on first use.
    ///
    /// One uid per (workspace, user), not per resource: the user's home folder is owned by it, and
    /// all their personal tools in the workspace must open it. Its gid is the workspace's, so the
    /// workspace's `shared` folder stays writable. The allocation lasts as long as the workspace
    /// (`remove(workspaceId:)` frees it), so a later desktop finds the home folder still its own.
    ///
    /// - Throws: `EnclaveError.serviceUnavailable` when the range is exhausted.
    public func userUid(workspaceId: String, userId: String) async throws -> Int {
        let config = configuration
        let slot = try await allocations.allocateSlot(
            kind: config.userUidKind, owner: "\(workspaceId)/\(userId)", capacity: config.userIdentities.count, now: now())
        guard let uid = config.userIdentities.uid(slot: slot) else {
            throw EnclaveError.internal("Allocated user uid slot \(slot) is outside the configured range")
        }
        return uid
    }

    /// The port of a user resource's workload, allocated on first use.
    public func userPort(workspaceId: String, resourceId: String) async throws -> Int {
        let config = configuration
        let slot = try await allocations.allocateSlot(
            kind: config.userPortKind, owner: "\(workspaceId)/\(resourceId)", capacity: config.userPorts.count, now: now())
        guard let port = config.userPorts.port(slot: slot) else {
            throw EnclaveError.internal("Allocated port slot \(slot) is outside the configured range")
        }
        return port
    }

    /// Frees a user resource's port (uninstall).
    public func releaseUserPort(workspaceId: String, resourceId: String) async throws {
        try await allocations.releaseSlot(kind: configuration.userPortKind, owner: "\(workspaceId)/\(resourceId)")
    }

    /// The per-user uids allocated in a workspace.
    func userUids(workspaceId: String) async throws -> [Int] {
        let config = configuration
        return try await allocations.slots(kind: config.userUidKind)
            .filter { $0.owner.hasPrefix("\(workspaceId)/") }
            .compactMap { config.userIdentities.uid(slot: $0.slot) }
    }

    /// Frees every per-user uid and user resource port of a workspace (its removal).
    func releaseUserAllocations(workspaceId: String) async throws {
        let config = configuration
        for kind in [config.userUidKind, config.userPortKind] {
            for entry in try await allocations.slots(kind: kind) where entry.owner.hasPrefix("\(workspaceId)/") {
                try await allocations.releaseSlot(kind: kind, owner: entry.owner)
            }
        }
    }
}

extension IdentityRange {
    /// The default per-user uids, 400000–465535: apart from the workspace uids (200000–265535).
    public static let users = IdentityRange(first: 400_000, count: 65_536)
}

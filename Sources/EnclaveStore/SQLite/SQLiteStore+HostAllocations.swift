import EnclaveCore
import GRDB

// Slots of host resources (workspace links, uids) for the local data plane.
extension SQLiteStore: HostAllocationRepository {
    public func allocateSlot(kind: String, owner: String, capacity: Int, now: Double) async throws -> Int {
        try await write { db in
            if let existing = try Int.fetchOne(
                db, sql: "SELECT slot FROM host_allocations WHERE kind = ? AND owner = ?", arguments: [kind, owner])
            {
                return existing
            }
            // The lowest free slot: 0 when unused, else the first gap after a taken slot.
            let free = try Int.fetchOne(
                db,
                sql: """
                    SELECT candidate FROM (
                        SELECT 0 AS candidate
                        UNION ALL
                        SELECT slot + 1 FROM host_allocations WHERE kind = ?
                    ) WHERE candidate NOT IN (SELECT slot FROM host_allocations WHERE kind = ?)
                    ORDER BY candidate LIMIT 1
                    """,
                arguments: [kind, kind])
            guard let slot = free, slot < capacity else {
                throw EnclaveError.serviceUnavailable(
                    "All \(capacity) '\(kind)' slots are in use; delete unused workspaces or configure a larger pool")
            }
            try db.execute(
                sql: "INSERT INTO host_allocations (kind, slot, owner, allocated_at) VALUES (?, ?, ?, ?)",
                arguments: [kind, slot, owner, now])
            return slot
        }
    }

    public func slot(kind: String, owner: String) async throws -> Int? {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT slot FROM host_allocations WHERE kind = ? AND owner = ?", arguments: [kind, owner])
        }
    }

    public func releaseSlot(kind: String, owner: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM host_allocations WHERE kind = ? AND owner = ?", arguments: [kind, owner])
        }
    }

    public func slots(kind: String) async throws -> [(owner: String, slot: Int)] {
        let rows = try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT owner, slot FROM host_allocations WHERE kind = ? ORDER BY slot", arguments: [kind]
            ).map { HostSlotRow(owner: $0["owner"], slot: $0["slot"]) }
        }
        return rows.map { (owner: $0.owner, slot: $0.slot) }
    }
}

private struct HostSlotRow: Sendable {
    var owner: String
    var slot: Int
}

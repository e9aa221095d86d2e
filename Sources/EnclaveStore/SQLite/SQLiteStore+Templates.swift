public import EnclaveCore
import Foundation
import GRDB

extension SQLiteStore {
    public func register(_ template: ResourceTemplate, audit: AuditEntry) async throws -> ResourceTemplate {
        let parent = template.parentWorkspaceService ?? ""
        let type = template.resourceType.rawValue
        let templateCopy = template
        return try await write { db in
            var stored = templateCopy
            let exists = try Bool.fetchOne(
                db, sql: "SELECT 1 FROM templates WHERE type = ? AND name = ? AND version = ? AND parent = ?",
                arguments: [type, templateCopy.name, templateCopy.version, parent]) ?? false
            if exists {
                throw EnclaveError.conflict(
                    "A template with this name and version already exists: \(templateCopy.name) \(templateCopy.version)")
            }
            let anyVersion = try Bool.fetchOne(
                db, sql: "SELECT 1 FROM templates WHERE type = ? AND name = ? AND parent = ?",
                arguments: [type, templateCopy.name, parent]) ?? false
            if !anyVersion { stored.current = true }
            if stored.current {
                // Demote the previous current version; its document keeps `current` in sync.
                let previous = try Row.fetchAll(
                    db, sql: "SELECT id, doc FROM templates WHERE type = ? AND name = ? AND parent = ? AND current = 1",
                    arguments: [type, templateCopy.name, parent])
                for row in previous {
                    var old = try DocumentCoding.decode(ResourceTemplate.self, row["doc"])
                    old.current = false
                    try db.execute(
                        sql: "UPDATE templates SET current = 0, doc = ? WHERE id = ?",
                        arguments: [try DocumentCoding.encode(old), row["id"] as String])
                }
            }
            let seq = (try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(registered_seq), 0) + 1 FROM templates")) ?? 1
            try db.execute(
                sql: """
                    INSERT INTO templates (id, type, name, version, parent, current, registered_seq, doc)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    stored.id, type, stored.name, stored.version, parent, stored.current, seq,
                    try DocumentCoding.encode(stored),
                ])
            try SQLiteAuditLog.append([audit], in: db)
            return stored
        }
    }

    public func templateVersions(type: ResourceType, name: String, parent: String?) async throws -> [String] {
        let args: StatementArguments = [type.rawValue, name, parent ?? ""]
        return try await read { db in
            try String.fetchAll(
                db, sql: "SELECT version FROM templates WHERE type = ? AND name = ? AND parent = ? ORDER BY registered_seq",
                arguments: args)
        }
    }

    public func templates(type: ResourceType, name: String?, parent: String?) async throws -> [ResourceTemplate] {
        var sql = "SELECT doc FROM templates WHERE type = ?"
        var arguments: StatementArguments = [type.rawValue]
        if let name { sql += " AND name = ?"; arguments += [name] }
        if let parent { sql += " AND parent = ?"; arguments += [parent] }
        sql += " ORDER BY registered_seq"
        let args = arguments
        let query = sql
        return try await read { db in try String.fetchAll(db, sql: query, arguments: args) }
            .map { try DocumentCoding.decode(ResourceTemplate.self, $0) }
    }
}

extension SQLiteStore {
    public func assignments(workspaceId: String) async throws -> [RoleAssignment] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT user_id, role FROM role_assignments WHERE workspace_id = ? ORDER BY assigned_when, user_id",
                arguments: [workspaceId]
            ).compactMap { row in
                WorkspaceRole(rawValue: row["role"]).map {
                    RoleAssignment(workspaceId: workspaceId, userId: row["user_id"], role: $0)
                }
            }
        }
    }

    public func roles(userId: String, workspaceId: String) async throws -> Set<WorkspaceRole> {
        try await read { db in
            Set(
                try String.fetchAll(
                    db, sql: "SELECT role FROM role_assignments WHERE workspace_id = ? AND user_id = ?",
                    arguments: [workspaceId, userId]
                ).compactMap(WorkspaceRole.init(rawValue:)))
        }
    }

    public func workspaceIds(userId: String) async throws -> Set<String> {
        try await read { db in
            Set(try String.fetchAll(db, sql: "SELECT workspace_id FROM role_assignments WHERE user_id = ?", arguments: [userId]))
        }
    }

    public func workspaceRoles(userId: String) async throws -> [String: Set<WorkspaceRole>] {
        try await read { db in
            var roles: [String: Set<WorkspaceRole>] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT workspace_id, role FROM role_assignments WHERE user_id = ?", arguments: [userId]) {
                guard let role = WorkspaceRole(rawValue: row["role"]) else { continue }
                roles[row["workspace_id"], default: []].insert(role)
            }
            return roles
        }
    }

    public func recordUserSeen(_ user: User, now: Double) async throws {
        let roles = user.roles.joined(separator: ",")
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO users (id, name, email, roles, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET name = excluded.name, email = excluded.email, roles = excluded.roles,
                        last_seen = excluded.last_seen
                    """,
                arguments: [user.id, user.name, user.email, roles, now, now])
        }
    }

    public func seenUsers() async throws -> [SeenUser] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM users").map { row in
                let roles: String = row["roles"]
                return SeenUser(
                    user: User(id: row["id"], name: row["name"], email: row["email"], roles: roles.split(separator: ",").map(String.init)),
                    firstSeen: row["first_seen"], lastSeen: row["last_seen"])
            }
        }
    }

    public func knownUsers(ids: [String]) async throws -> [User] {
        if ids.isEmpty { return [] }
        let placeholders = ids.map { _ in "?" }.joined(separator: ",")
        let args = StatementArguments(ids)
        return try await read { db in
            try Row.fetchAll(db, sql: "SELECT id, name, email, roles FROM users WHERE id IN (\(placeholders))", arguments: args)
                .map { row in
                    let roles: String = row["roles"]
                    return User(
                        id: row["id"], name: row["name"], email: row["email"],
                        roles: roles.split(separator: ",").map(String.init))
                }
        }
    }
}

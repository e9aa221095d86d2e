public import EnclaveCore
import Foundation
import GRDB

extension SQLiteStore {
    public func resource(id: String) async throws -> Resource? {
        try await cachedResource(id: id, includingDeleted: false)
    }

    public func resourceIncludingDeleted(id: String) async throws -> Resource? {
        try await cachedResource(id: id, includingDeleted: true)
    }

    /// Reads the row's etag first and decodes the document only when the cached copy is stale.
    func cachedResource(id: String, includingDeleted: Bool) async throws -> Resource? {
        let cache = decoded
        return try await read { db in try Self.resource(id: id, includingDeleted: includingDeleted, cache: cache, db) }
    }

    static func resource(id: String, includingDeleted: Bool, cache: BoundedCache<String, Resource>, _ db: Database) throws -> Resource? {
        let filter = includingDeleted ? "" : " AND deleted = 0"
        guard let etag = try String.fetchOne(db, sql: "SELECT etag FROM resources WHERE id = ?\(filter)", arguments: [id])
        else { return nil }
        if let hit = cache.value(for: id), hit.etag == etag { return hit }
        guard let doc = try String.fetchOne(db, sql: "SELECT doc FROM resources WHERE id = ?", arguments: [id]) else {
            return nil
        }
        let resource = try DocumentCoding.decode(Resource.self, doc)
        cache.set(resource, for: id)
        return resource
    }

    public func resourceAndRoles(id: String, userId: String) async throws -> (resource: Resource, roles: Set<WorkspaceRole>)? {
        let cache = decoded
        return try await read { db -> (resource: Resource, roles: Set<WorkspaceRole>)? in
            guard let resource = try Self.resource(id: id, includingDeleted: false, cache: cache, db) else { return nil }
            let roles = try String.fetchAll(
                db, sql: "SELECT role FROM role_assignments WHERE workspace_id = ? AND user_id = ?", arguments: [id, userId]
            ).compactMap(WorkspaceRole.init(rawValue:))
            return (resource, Set(roles))
        }
    }

    public func resources(_ filter: ResourceFilter) async throws -> [Resource] {
        var clauses = ["deleted = 0"]
        var arguments: StatementArguments = []
        if let type = filter.type { clauses.append("type = ?"); arguments += [type.rawValue] }
        if let ws = filter.workspaceId { clauses.append("workspace_id = ?"); arguments += [ws] }
        if let svc = filter.parentServiceId { clauses.append("service_id = ?"); arguments += [svc] }
        if let name = filter.templateName { clauses.append("template_name = ?"); arguments += [name] }
        if let owner = filter.ownerId { clauses.append("owner_id = ?"); arguments += [owner] }
        if let ids = filter.ids {
            if ids.isEmpty { return [] }
            clauses.append("id IN (\(ids.map { _ in "?" }.joined(separator: ",")))")
            arguments += StatementArguments(ids)
        }
        let sql = "SELECT doc FROM resources WHERE \(clauses.joined(separator: " AND ")) ORDER BY created_when, id"
        let args = arguments
        let docs = try await read { db in try String.fetchAll(db, sql: sql, arguments: args) }
        return try docs.map { try DocumentCoding.decode(Resource.self, $0) }
    }

    public func sealedSecrets(resourceId: String) async throws -> String? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT sealed FROM secrets WHERE resource_id = ?", arguments: [resourceId])
        }
    }

    public func history(resourceId: String) async throws -> [ResourceHistoryItem] {
        try await read { db in
            try String.fetchAll(
                db, sql: "SELECT doc FROM resource_history WHERE resource_id = ? ORDER BY resource_version",
                arguments: [resourceId])
        }.map { try DocumentCoding.decode(ResourceHistoryItem.self, $0) }
    }

    public func commit(_ changes: ChangeSet) async throws {
        if changes.isEmpty { return }
        let prepared = try PreparedChanges(changes)
        try await write { db in try prepared.apply(db) }
    }
}

/// A change set with its documents already encoded, so the write transaction only runs SQL.
struct PreparedChanges: Sendable {
    struct Row: Sendable {
        var resource: Resource
        var doc: String
    }
    struct Update: Sendable {
        var row: Row
        var expectedEtag: String?
        var historyId: String?
    }

    var inserts: [Row]
    var updates: [Update]
    var insertOperations: [(ResourceOperation, String)]
    var updateOperations: [(ResourceOperation, String)]
    var enqueue: [QueuedStep]
    var completions: [JobCompletion]
    var leases: [JobCompletion]
    var secrets: [String: String]
    var assignments: [RoleAssignment]
    var unassignments: [RoleAssignment]
    var audit: [AuditEntry]
    var now: Double

    init(_ changes: ChangeSet) throws {
        inserts = try changes.insertResources.map { Row(resource: $0, doc: try DocumentCoding.encode($0)) }
        updates = try changes.updateResources.map {
            Update(
                row: Row(resource: $0.resource, doc: try DocumentCoding.encode($0.resource)),
                expectedEtag: $0.expectedEtag, historyId: $0.recordHistory ? $0.historyId : nil)
        }
        insertOperations = try changes.insertOperations.map { ($0, try DocumentCoding.encode(StoredOperation($0))) }
        updateOperations = try changes.updateOperations.map { ($0, try DocumentCoding.encode(StoredOperation($0))) }
        enqueue = changes.enqueue
        completions = changes.completeJobs
        leases = changes.requireLeases
        secrets = changes.putSecrets
        assignments = changes.assignRoles
        unassignments = changes.unassignRoles
        audit = changes.appendAudit
        now = changes.insertOperations.first?.createdWhen ?? changes.appendAudit.first?.time ?? 0
    }

    func apply(_ db: Database) throws {
        for lease in leases {
            let held = try Bool.fetchOne(
                db, sql: "SELECT 1 FROM jobs WHERE id = ? AND state = 'running' AND lease_owner = ?",
                arguments: [lease.jobId, lease.workerId]) ?? false
            if !held { throw StoreError.leaseLost(jobId: lease.jobId) }
        }
        for completion in completions {
            if let worker = completion.workerId {
                try db.execute(
                    sql: "DELETE FROM jobs WHERE id = ? AND state = 'running' AND lease_owner = ?",
                    arguments: [completion.jobId, worker])
            } else {
                try db.execute(
                    sql: "DELETE FROM jobs WHERE id = ? AND state = 'running' AND lease_expires < ?",
                    arguments: [completion.jobId, completion.expiredBefore ?? Double.greatestFiniteMagnitude])
            }
            if db.changesCount == 0 { throw StoreError.leaseLost(jobId: completion.jobId) }
        }
        for row in inserts {
            let r = row.resource
            try db.execute(
                sql: """
                    INSERT INTO resources (id, type, workspace_id, service_id, template_name, owner_id, deleted, etag,
                        created_when, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    r.id, r.resourceType.rawValue, r.workspaceId, r.parentWorkspaceServiceId, r.templateName, r.ownerId,
                    r.isDeleted, r.etag, r.updatedWhen, row.doc,
                ])
        }
        for update in updates {
            let r = update.row.resource
            let previous = try String.fetchOne(db, sql: "SELECT doc FROM resources WHERE id = ?", arguments: [r.id])
            guard let previous else { throw EnclaveError.notFound("Resource \(r.id) does not exist") }
            let old = try DocumentCoding.decode(Resource.self, previous)
            if let expected = update.expectedEtag, expected != "*", expected != old.etag {
                throw EnclaveError.staleEtag
            }
            if let historyId = update.historyId {
                let item = ResourceHistoryItem(id: historyId, snapshotOf: old)
                try db.execute(
                    sql: "INSERT INTO resource_history (id, resource_id, resource_version, doc) VALUES (?, ?, ?, ?)",
                    arguments: [historyId, r.id, old.resourceVersion, try DocumentCoding.encode(item)])
            }
            try db.execute(
                sql: "UPDATE resources SET deleted = ?, etag = ?, owner_id = ?, doc = ? WHERE id = ?",
                arguments: [r.isDeleted, r.etag, r.ownerId, update.row.doc, r.id])
        }
        for (op, doc) in insertOperations {
            try db.execute(
                sql: "INSERT INTO operations (id, resource_id, user_id, status, created_when, doc) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [op.id, op.resourceId, op.user.id, op.status.rawValue, op.createdWhen, doc])
        }
        for (op, doc) in updateOperations {
            try db.execute(
                sql: "UPDATE operations SET status = ?, doc = ? WHERE id = ?", arguments: [op.status.rawValue, doc, op.id])
        }
        for (resourceId, sealed) in secrets {
            try db.execute(
                sql: "INSERT INTO secrets (resource_id, sealed) VALUES (?, ?) ON CONFLICT(resource_id) DO UPDATE SET sealed = excluded.sealed",
                arguments: [resourceId, sealed])
        }
        for a in assignments {
            try db.execute(
                sql: "INSERT OR IGNORE INTO role_assignments (workspace_id, user_id, role, assigned_when) VALUES (?, ?, ?, ?)",
                arguments: [a.workspaceId, a.userId, a.role.rawValue, now])
        }
        for a in unassignments {
            try db.execute(
                sql: "DELETE FROM role_assignments WHERE workspace_id = ? AND user_id = ? AND role = ?",
                arguments: [a.workspaceId, a.userId, a.role.rawValue])
            if db.changesCount == 0 {
                throw EnclaveError.notFound("User \(a.userId) does not hold role \(a.role.rawValue) in workspace \(a.workspaceId)")
            }
        }
        for step in enqueue {
            try db.execute(
                sql: "INSERT INTO jobs (id, operation_id, resource_id, state, enqueued_at) VALUES (?, ?, ?, 'queued', ?)",
                arguments: [step.id, step.operationId, step.resourceId, step.enqueuedAt])
        }
        // Last, so a change that fails any check above leaves no record.
        try SQLiteAuditLog.append(audit, in: db)
    }
}

/// An operation as stored: the wire document plus the pipeline property updates of its steps.
struct StoredOperation: Codable {
    var operation: ResourceOperation
    var stepProperties: [String: [PipelineStepProperty]]

    init(_ operation: ResourceOperation) {
        self.operation = operation
        var props: [String: [PipelineStepProperty]] = [:]
        for step in operation.steps { if let p = step.properties { props[step.id] = p } }
        self.stepProperties = props
    }

    var restored: ResourceOperation {
        var op = operation
        for index in op.steps.indices { op.steps[index].properties = stepProperties[op.steps[index].id] }
        return op
    }
}

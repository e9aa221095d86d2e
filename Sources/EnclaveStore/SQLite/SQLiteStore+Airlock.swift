public import EnclaveCore
import Foundation
import GRDB

// Airlock requests: one row per request, the document in `doc`.
extension SQLiteStore {
    public func createAirlockRequest(_ request: AirlockRequest, audit: [AuditEntry]) async throws {
        let doc = try DocumentCoding.encode(request)
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO airlock_requests (id, workspace_id, type, status, title, created_by, created_when, updated_when, doc)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    request.id, request.workspaceId, request.type.rawValue, request.status.rawValue, request.title,
                    request.createdBy.id, request.createdWhen, request.updatedWhen, doc,
                ])
            try SQLiteAuditLog.append(audit, in: db)
        }
    }

    public func airlockRequest(id: String) async throws -> AirlockRequest? {
        let doc = try await read { db in try String.fetchOne(db, sql: "SELECT doc FROM airlock_requests WHERE id = ?", arguments: [id]) }
        return try doc.map { try DocumentCoding.decode(AirlockRequest.self, $0) }
    }

    public func airlockRequests(_ filter: AirlockRequestFilter) async throws -> [AirlockRequest] {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if let ids = filter.workspaceIds {
            if ids.isEmpty { return [] }
            clauses.append("workspace_id IN (\(ids.map { _ in "?" }.joined(separator: ", ")))")
            arguments += StatementArguments(ids)
        }
        if let creator = filter.creatorId { clauses.append("created_by = ?"); arguments += [creator] }
        if let type = filter.type { clauses.append("type = ?"); arguments += [type.rawValue] }
        if let statuses = filter.statuses {
            if statuses.isEmpty { return [] }
            clauses.append("status IN (\(statuses.map { _ in "?" }.joined(separator: ", ")))")
            arguments += StatementArguments(statuses.map(\.rawValue))
        }
        let column: String
        switch filter.orderBy {
        case .createdWhen: column = "created_when"
        case .updatedWhen: column = "updated_when"
        case .status: column = "status"
        case .type: column = "type"
        case .title: column = "title"
        }
        let direction = filter.ascending ? "ASC" : "DESC"
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let sql = "SELECT doc FROM airlock_requests \(whereClause) ORDER BY \(column) \(direction), id \(direction)"
        let args = arguments
        let docs = try await read { db in try String.fetchAll(db, sql: sql, arguments: args) }
        return try docs.map { try DocumentCoding.decode(AirlockRequest.self, $0) }
    }

    public func modifyAirlockRequest(
        id: String, _ change: @escaping @Sendable (AirlockRequest) throws -> AirlockChange?
    ) async throws -> AirlockRequest {
        try await write { db in
            guard let doc = try String.fetchOne(db, sql: "SELECT doc FROM airlock_requests WHERE id = ?", arguments: [id]) else {
                throw EnclaveError.notFound("Airlock request \(id) does not exist")
            }
            let current = try DocumentCoding.decode(AirlockRequest.self, doc)
            guard let made = try change(current) else { return current }
            let next = made.request
            try db.execute(
                sql: """
                    UPDATE airlock_requests SET status = ?, title = ?, updated_when = ?, doc = ? WHERE id = ?
                    """,
                arguments: [next.status.rawValue, next.title, next.updatedWhen, try DocumentCoding.encode(next), id])
            try SQLiteAuditLog.append(made.audit, in: db)
            return next
        }
    }
}

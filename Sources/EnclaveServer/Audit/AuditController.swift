import EnclaveCore
import EnclaveStore
import Foundation
import Hummingbird

/// `GET /api/audit`: the audit log for TREAdmins, filtered and paged by sequence number.
struct AuditController: Sendable {
    let store: any Store
    let access: Access

    static let defaultLimit = 100
    static let maxLimit = 1000

    func register(on group: RouterGroup<AuthenticatedContext>) {
        group.get("audit", use: list)
        group.get("workspaces/:workspaceId/audit", use: workspaceList)
    }

    /// A page of records and where the next page starts (`after=next`), or null on the last page.
    struct Page: Encodable {
        var auditRecords: [AuditRecord]
        var next: Int?

        enum CodingKeys: String, CodingKey { case auditRecords, next }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(auditRecords, forKey: .auditRecords)
            try c.encode(next, forKey: .next)  // explicit null, so clients need not tell "absent" from "last page"
        }
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try access.require(Actor(user: context.user), .readAudit)
        return try await page(request, within: nil)
    }

    /// `GET /api/workspaces/{id}/audit`: a workspace's records (its resources, roles, airlock requests and
    /// gateway connections) for its owners as well as admins; `target` may narrow it, never widen it.
    @Sendable func workspaceList(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspace, actor) = try await access.workspace(try context.parameters.require("workspaceId"), user: context.user)
        try access.require(actor, .readWorkspaceAudit)
        return try await page(request, within: "/workspaces/\(workspace.id)")
    }

    func page(_ request: Request, within scope: String?) async throws -> Response {
        let queryParameters = request.uri.queryParameters
        let query = try Self.query(within: scope) { name in queryParameters.get(name).flatMap { $0.isEmpty ? nil : String($0) } }
        let records = try await store.auditRecords(query.filter, after: query.after, limit: query.limit)
        return try JSONBody.response(Page(auditRecords: records, next: records.count == query.limit ? records.last?.sequence : nil))
    }

    /// A page's filter, size and start from the query's parameters (`text(name)`: a non-empty value or nil):
    /// the API and the portal's audit page read them the same way.
    static func query(within scope: String?, _ text: (String) -> String?) throws -> (filter: AuditFilter, limit: Int, after: Int?) {
        var target = text("target")
        if let scope {
            if let given = target, given != scope, !given.hasPrefix(scope + "/") {
                throw EnclaveError.unprocessable("'target' must be \(scope) or a path under it")
            }
            target = target ?? scope
        }
        let filter = AuditFilter(
            actorId: text("actor"), action: text("action"), target: target,
            from: try text("from").map { try Self.time($0, parameter: "from") },
            to: try text("to").map { try Self.time($0, parameter: "to") })
        let limit = try text("limit").map { try Self.integer($0, parameter: "limit", range: 1...Self.maxLimit) }
            ?? Self.defaultLimit
        let after = try text("after").map { try Self.integer($0, parameter: "after", range: 0...Int.max) }
        return (filter, limit, after)
    }

    static func integer(_ text: String, parameter: String, range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(text), range.contains(value) else {
            let bound = range.upperBound == Int.max ? "at least \(range.lowerBound)" : "from \(range.lowerBound) to \(range.upperBound)"
            throw EnclaveError.unprocessable("'\(text)' is not a valid \(parameter): use a whole number \(bound)")
        }
        return value
    }

    /// ISO-8601 date-times (`2025-03-01T12:00:00Z`, optionally with fractional seconds or an offset) or plain dates
    /// (`2025-03-01`, midnight UTC), as seconds since 1970.
    static func time(_ text: String, parameter: String) throws -> Double {
        let styles: [Date.ISO8601FormatStyle] = [
            .iso8601, Date.ISO8601FormatStyle(includingFractionalSeconds: true),
            Date.ISO8601FormatStyle().year().month().day(),
        ]
        for style in styles {
            if let date = try? style.parse(text) { return date.timeIntervalSince1970 }
        }
        throw EnclaveError.unprocessable(
            "'\(text)' is not a valid \(parameter) time: use ISO 8601, e.g. 2025-03-01T12:00:00Z or 2025-03-01")
    }
}

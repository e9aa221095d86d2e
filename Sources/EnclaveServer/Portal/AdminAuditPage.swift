import EnclaveCore
import EnclavePortal
import EnclaveStore
import Foundation
import HTTPTypes
import Hummingbird

/// `/admin/audit`: the hash-chained audit log, filtered and paged exactly as `GET /api/audit` (the same
/// parameters, read by `AuditController.query`): action (or a family by dotted prefix), actor, target
/// (or everything under a path), a time range, and pages that continue after the last record shown.
struct AdminAuditPage: Sendable {
    let portal: Portal

    static let pageSize = 50

    func register(on pages: RouterGroup<PortalContext>) {
        pages.get("/admin/audit") { request, context in try await list(request, context) }
    }

    struct View {
        var filters: Filters
        var records: [Row]
        var next: String?
        var first: String?
        var actions: [String]
        var actors: [PortalOption]
        var filtered: Bool
    }

    struct Filters {
        var action: String
        var actor: String
        var target: String
        var from: String
        var to: String
    }

    struct Row {
        var sequence: Int
        var time: String
        var actorName: String
        var actorId: String
        var action: String
        var target: String
        var outcome: String
        var outcomeClass: String
        var details: [Detail]
        var requestId: String?
    }

    struct Detail {
        var name: String
        var value: String
    }

    func list(_ request: Request, _ context: PortalContext) async throws -> Response {
        _ = try await portal.requireAudited(.readAudit, request, context)
        let parameters = request.uri.queryParameters
        func value(_ name: String) -> String { parameters.get(name).map { String($0).trimmingCharacters(in: .whitespaces) } ?? "" }
        let filters = Filters(action: value("action"), actor: value("actor"), target: value("target"), from: value("from"), to: value("to"))
        var records: [AuditRecord] = []
        var error: String?
        var next: Int?
        do {
            let query = try AuditController.query(within: nil) { name in
                let text: String
                switch name {
                case "from", "to": text = Self.time(value(name))
                case "limit": text = parameters.get("limit").map { String($0) } ?? String(Self.pageSize)
                default: text = value(name)
                }
                return text.isEmpty ? nil : text
            }
            records = try await portal.store.auditRecords(query.filter, after: query.after, limit: query.limit)
            next = records.count == query.limit ? records.last?.sequence : nil
        } catch let refusal as EnclaveError {
            // A filter the API would refuse (422): the form again, with what to fix.
            guard refusal.kind == .unprocessable else { throw refusal }
            error = refusal.message
        }
        let view = View(
            filters: filters, records: records.map(Self.row), next: next.map { link(filters, after: $0) },
            first: value("after").isEmpty ? nil : link(filters, after: nil), actions: Self.actionChoices,
            actors: try await actorChoices(selected: filters.actor),
            filtered: [filters.action, filters.actor, filters.target, filters.from, filters.to].contains { !$0.isEmpty })
        let layout = try await portal.layout(
            context, request: request, title: "Audit log", section: "admin", breadcrumbs: AdminPages.crumbs, error: error)
        return portal.page("admin-audit", view, layout: layout, status: error == nil ? .ok : .unprocessableContent)
    }

    /// A `datetime-local` value (`2025-03-01T12:00`, no zone) read as UTC, as the form's label says; anything
    /// else is passed on for the API's parser to accept or explain.
    static func time(_ text: String) -> String {
        let local = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/
        guard (try? local.wholeMatch(in: text)) != nil else { return text }
        return text.count == 16 ? text + ":00Z" : text + "Z"
    }

    static func row(_ record: AuditRecord) -> Row {
        // An object's fields one per line (strings as they are, other values as JSON); anything else whole.
        let details: [Detail]
        if case .object(let fields) = record.details {
            details = fields.keys.sorted().map { key in
                let value = fields[key] ?? .null
                return Detail(name: key, value: value.stringValue ?? value.description)
            }
        } else {
            details = [Detail(name: "details", value: record.details.description)]
        }
        return Row(
            sequence: record.sequence, time: Portal.time(record.time), actorName: record.actor.name.isEmpty ? record.actor.id : record.actor.name,
            actorId: record.actor.id, action: record.action.rawValue, target: record.target, outcome: record.outcome.rawValue,
            outcomeClass: record.outcome == .success ? "ok" : "bad", details: details, requestId: record.requestId)
    }

    /// The page's URL with the same filters, starting after `after` (the first page when nil).
    func link(_ filters: Filters, after: Int?) -> String {
        var components = URLComponents()
        components.path = "/admin/audit"
        var items = [
            ("action", filters.action), ("actor", filters.actor), ("target", filters.target), ("from", filters.from), ("to", filters.to),
        ].filter { !$0.1.isEmpty }.map { URLQueryItem(name: $0.0, value: $0.1) }
        if let after { items.append(URLQueryItem(name: "after", value: String(after))) }
        components.queryItems = items.isEmpty ? nil : items
        return components.string ?? "/admin/audit"
    }

    /// Every action and every family (`resource`, `auth`, …), for the action field's suggestions.
    static let actionChoices: [String] = {
        let actions = AuditAction.allCases.map(\.rawValue)
        let families = Set(actions.compactMap { $0.split(separator: ".").first.map(String.init) })
        return families.sorted() + actions.sorted()
    }()

    /// The people the log may name, by id (the filter's value) with their username, built-in accounts first.
    func actorChoices(selected: String) async throws -> [PortalOption] {
        let users = UserDirectory.users(accounts: try await portal.store.users(), seen: try await portal.store.seenUsers())
        var options = [PortalOption(value: "", label: "Anyone", selected: selected.isEmpty)]
        options += users.map { PortalOption(value: $0.id, label: $0.name.isEmpty ? $0.username : "\($0.name) (\($0.username))", selected: $0.id == selected) }
        if !selected.isEmpty, !users.contains(where: { $0.id == selected }) {
            options.append(PortalOption(value: selected, label: selected, selected: true))
        }
        return options
    }
}

import EnclaveAuth
import EnclaveCore
import EnclaveEngine
import EnclavePortal
import EnclaveStore
import Foundation
import Hummingbird

/// The admin area (`/admin/…`, TREAdmins only): an index, the server's health, and the pages for templates,
/// shared services, users and the audit log, each in its own file beside this one.
///
/// Every page checks the same policy action as its API route; a refusal is recorded as `auth.denied`
/// (as the API's denial middleware records it) and shown as the "Not allowed" page.
struct AdminPages: Sendable {
    let portal: Portal
    let provider: BuiltInProvider
    let health: HealthReport

    static let crumbs = [PageLayout.Link("Admin", "/admin")]

    func register(on pages: RouterGroup<PortalContext>) {
        pages.get("/admin") { request, context in try await index(request, context) }
        pages.get("/admin/health") { request, context in try await healthPage(request, context) }
        AdminTemplatesPage(portal: portal).register(on: pages)
        AdminSharedServicesPage(portal: portal).register(on: pages)
        AdminUsersPage(portal: portal, provider: provider).register(on: pages)
        AdminAuditPage(portal: portal).register(on: pages)
    }

    struct IndexView {
        var sections: [Section]
    }

    struct Section {
        var title: String
        var href: String
        var summary: String
    }

    func index(_ request: Request, _ context: PortalContext) async throws -> Response {
        _ = try await portal.requireAudited(.readAdminArea, request, context)
        let sections = [
            Section(title: "Templates", href: "/admin/templates", summary: "Every registered template and its versions; register a new version."),
            Section(title: "Shared services", href: "/admin/shared-services", summary: "Services every workspace uses, such as the firewall: create, disable, delete."),
            Section(title: "Users", href: "/admin/users", summary: "Accounts and their roles; invite a user; disable or enable an account."),
            Section(title: "Audit log", href: "/admin/audit", summary: "Who did what and when, filtered by action, person, target and time."),
            Section(title: "Health", href: "/admin/health", summary: "Whether the store, the resource processor, the data plane and the scanner work."),
        ]
        let layout = try await portal.layout(context, request: request, title: "Administration", section: "admin")
        return portal.page("admin", IndexView(sections: sections), layout: layout)
    }

    struct HealthView {
        var services: [Service]
        var problems: Int
        var allOK: Bool
    }

    struct Service {
        var name: String
        var status: String
        var statusClass: String
        var message: String
    }

    /// What `/api/health` reports, as a table: each part, OK or Not OK, and its message.
    func healthPage(_ request: Request, _ context: PortalContext) async throws -> Response {
        _ = try await portal.requireAudited(.readAdminArea, request, context)
        let services = await health.services().map {
            Service(name: $0.service, status: $0.status, statusClass: $0.isOK ? "ok" : "bad", message: $0.message)
        }
        let problems = services.filter { $0.statusClass != "ok" }.count
        let layout = try await portal.layout(context, request: request, title: "Health", section: "admin", breadcrumbs: Self.crumbs)
        return portal.page("admin-health", HealthView(services: services, problems: problems, allOK: problems == 0), layout: layout)
    }
}

extension Portal {
    /// The signed-in user as an actor when the policy allows `action`; otherwise an `auth.denied` record
    /// (as the API's denial middleware writes for a 403) and the refusal, which renders as "Not allowed".
    func requireAudited(_ action: PolicyAction, _ request: Request, _ context: PortalContext) async throws -> Actor {
        let actor = Actor(user: context.user)
        if case .deny(let message) = Policy.decide(actor, action) {
            let time = controlPlane.environment.now()
            try await store.appendAudit([
                AuditEntry(
                    id: controlPlane.environment.newId(), time: time, actor: AuditActor(context.user), action: .authDenied,
                    target: request.uri.path, outcome: .denied,
                    details: [
                        "method": .string(request.method.rawValue), "path": .string(request.uri.path), "reason": .string(message),
                        "address": .string(context.remoteAddress ?? "unknown"),
                    ],
                    requestId: context.requestId)
            ])
            throw EnclaveError.forbidden(message)
        }
        return actor
    }

    /// `seconds` since 1970 as a UTC time for tables (`2025-03-01 12:00:05 UTC`).
    static func time(_ seconds: Double) -> String { PortalTime.utc(seconds) }
}

/// An `<option>` of a `<select>`: its value, its label and whether it is the selected one.
struct PortalOption {
    var value: String
    var label: String
    var selected: Bool

    static func list(_ pairs: [(value: String, label: String)], selected: String?) -> [PortalOption] {
        pairs.map { PortalOption(value: $0.value, label: $0.label, selected: $0.value == selected) }
    }
}

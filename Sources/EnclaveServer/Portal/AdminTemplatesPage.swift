import EnclaveCore
import EnclavePortal
import EnclaveStore
import Foundation
import HTTPTypes
import Hummingbird

/// `/admin/templates`: every registered template by type with all its versions (which one is current),
/// and a form that registers a version with the same JSON body as `POST /api/workspace-templates` & co.,
/// through the same checks and use case (`ControlPlane.registerTemplate`).
struct AdminTemplatesPage: Sendable {
    let portal: Portal

    func register(on pages: RouterGroup<PortalContext>) {
        pages.get("/admin/templates") { request, context in try await list(request, context) }
        pages.post("/admin/templates") { request, context in try await registerVersion(request, context) }
    }

    /// The kinds of template the form registers, as the API's route names them.
    static let kinds: [(value: String, label: String, type: ResourceType)] = [
        ("workspace", "Workspace", .workspace), ("workspace-service", "Workspace service", .workspaceService),
        ("user-resource", "User resource", .userResource), ("shared-service", "Shared service", .sharedService),
    ]

    struct View {
        var csrf: String
        var groups: [Group]
        var form: Form
    }

    struct Group {
        var id: String
        var title: String
        var templates: [Row]
        var isUserResources: Bool
    }

    struct Row {
        var name: String
        var title: String
        var parent: String?
        var roles: String
        var versions: [Version]
    }

    struct Version {
        var version: String
        var current: Bool
    }

    struct Form {
        var kinds: [PortalOption]
        var parents: [PortalOption]
        var json: String
        var kindError: String?
        var parentError: String?
        var jsonError: String?
    }

    static let example = """
        {
          "name": "tre-workspace-example",
          "version": "1.0.0",
          "current": true,
          "json_schema": {
            "title": "Example workspace",
            "description": "What it is for",
            "type": "object",
            "properties": {}
          }
        }
        """

    func list(_ request: Request, _ context: PortalContext) async throws -> Response {
        _ = try await portal.requireAudited(.registerTemplate, request, context)
        return try await render(request, context, form: FormInput(kind: "workspace", parent: "", json: Self.example))
    }

    struct FormInput {
        var kind: String
        var parent: String
        var json: String
        var kindError: String?
        var parentError: String?
        var jsonError: String?
    }

    func render(_ request: Request, _ context: PortalContext, form: FormInput, status: HTTPResponse.Status = .ok) async throws -> Response {
        var groups: [Group] = []
        var serviceNames: [String] = []
        for kind in Self.kinds {
            let templates = try await portal.store.templates(type: kind.type, name: nil, parent: nil)
            var rows: [String: Row] = [:]
            for template in templates {
                let key = (template.parentWorkspaceService ?? "") + "\u{0}" + template.name
                var row = rows[key] ?? Row(
                    name: template.name, title: template.title, parent: template.parentWorkspaceService,
                    roles: template.authorizedRoles.isEmpty ? "anyone" : template.authorizedRoles.joined(separator: ", "), versions: [])
                row.versions.append(Version(version: template.version, current: template.current))
                if template.current {
                    row.title = template.title
                    row.roles = template.authorizedRoles.isEmpty ? "anyone" : template.authorizedRoles.joined(separator: ", ")
                }
                rows[key] = row
            }
            let sorted = rows.values.sorted { ($0.parent ?? "", $0.name) < ($1.parent ?? "", $1.name) }
            if kind.type == .workspaceService { serviceNames = sorted.map(\.name) }
            groups.append(Group(id: kind.value, title: kind.label + " templates", templates: sorted, isUserResources: kind.type == .userResource))
        }
        let view = View(
            csrf: context.session.csrf, groups: groups,
            form: Form(
                kinds: PortalOption.list(Self.kinds.map { ($0.value, $0.label) }, selected: form.kind),
                parents: PortalOption.list([("", "None (not a user resource)")] + serviceNames.map { ($0, $0) }, selected: form.parent),
                json: form.json, kindError: form.kindError, parentError: form.parentError, jsonError: form.jsonError))
        let layout = try await portal.layout(
            context, request: request, title: "Templates", section: "admin", breadcrumbs: AdminPages.crumbs,
            error: status == .ok ? nil : "The template was not registered: see the message next to the field.")
        return portal.page("admin-templates", view, layout: layout, status: status)
    }

    func registerVersion(_ request: Request, _ context: PortalContext) async throws -> Response {
        _ = try await portal.requireAudited(.registerTemplate, request, context)
        let fields = try await portal.form(request, context: context)
        var input = FormInput(kind: fields["kind"] ?? "", parent: fields["parent"] ?? "", json: fields["json"] ?? "")
        guard let kind = Self.kinds.first(where: { $0.value == input.kind }) else {
            input.kindError = "Choose what kind of template this is."
            return try await render(request, context, form: input, status: .unprocessableContent)
        }
        let parent = input.parent.isEmpty ? nil : input.parent
        if kind.type == .userResource, parent == nil {
            input.parentError = "A user-resource template belongs under a workspace service template: choose one."
            return try await render(request, context, form: input, status: .unprocessableContent)
        }
        if kind.type != .userResource, parent != nil {
            input.parentError = "Only user-resource templates belong under a workspace service: choose None."
            return try await render(request, context, form: input, status: .unprocessableContent)
        }
        do {
            try await TemplatesController.requireParent(parent, store: portal.store)
        } catch let error as EnclaveError {
            input.parentError = error.message
            return try await render(request, context, form: input, status: .unprocessableContent)
        }
        let template: ResourceTemplate
        do {
            let body = try JSONBody.decode(TemplateRegistration.self, from: Data(input.json.utf8))
            template = try await portal.controlPlane.registerTemplate(
                body, type: kind.type, parent: parent, by: AuditActor(context.user), requestId: context.requestId)
        } catch let error as EnclaveError {
            input.jsonError = error.message.replacingOccurrences(of: "The request body", with: "The JSON")
            return try await render(request, context, form: input, status: HTTPResponse.Status(code: error.statusCode))
        }
        let under = template.parentWorkspaceService.map { " under \($0)" } ?? ""
        let current = template.current ? " It is now the current version." : ""
        return portal.redirect(
            "/admin/templates", notice: "Registered \(kind.label.lowercased()) template \(template.name) version \(template.version)\(under).\(current)")
    }
}

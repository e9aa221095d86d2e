import EnclaveCore
import EnclavePortal
import EnclaveStore
import Foundation
import HTTPTypes
import Hummingbird

/// `/admin/shared-services`: the shared services with their status; create one from a shared-service
/// template (properties as JSON, validated by the template's schema), disable or enable it, and delete a
/// disabled one. The same `ControlPlane` calls and policy actions as `/api/shared-services`.
struct AdminSharedServicesPage: Sendable {
    let portal: Portal

    func register(on pages: RouterGroup<PortalContext>) {
        pages.get("/admin/shared-services") { request, context in try await list(request, context) }
        pages.post("/admin/shared-services") { request, context in try await create(request, context) }
        pages.post("/admin/shared-services/:serviceId/enabled") { request, context in try await setEnabled(request, context) }
        pages.post("/admin/shared-services/:serviceId/delete") { request, context in try await delete(request, context) }
    }

    struct View {
        var csrf: String
        var services: [Row]
        var templates: [PortalOption]
        var properties: String
        var templateError: String?
        var propertiesError: String?
    }

    struct Row {
        var id: String
        var name: String
        var template: String
        var version: String
        var status: String
        var statusClass: String
        var enabled: Bool
        var etag: String
        var updated: String
        var busy: Bool
    }

    struct FormInput {
        var template: String = ""
        var properties: String = "{\n  \"display_name\": \"\",\n  \"description\": \"\"\n}"
        var templateError: String?
        var propertiesError: String?
    }

    func list(_ request: Request, _ context: PortalContext) async throws -> Response {
        _ = try await portal.requireAudited(.manageSharedServices, request, context)
        return try await render(request, context, form: FormInput())
    }

    func render(
        _ request: Request, _ context: PortalContext, form: FormInput, error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let services = try await portal.store.resources(ResourceFilter(type: .sharedService)).map { (service: Resource) -> Row in
            let status = OperationStatus(rawValue: service.deploymentStatus ?? "")
            return Row(
                id: service.id, name: PortalText.displayName(service), template: service.templateName, version: service.templateVersion,
                status: PortalText.status(service), statusClass: PortalText.statusClass(service.deploymentStatus),
                enabled: service.isEnabled, etag: service.etag, updated: Portal.time(service.updatedWhen),
                busy: status.map { !$0.isTerminal } ?? false)
        }.sorted { $0.name.localizedCaseInsensitiveCompare($1.name) == .orderedAscending }
        let templates = try await portal.store.templates(type: .sharedService, name: nil, parent: nil).filter(\.current)
            .sorted { $0.name < $1.name }
        let view = View(
            csrf: context.session.csrf, services: services,
            templates: PortalOption.list(
                [("", "Choose a template")] + templates.map { ($0.name, "\($0.title) (\($0.name) \($0.version))") }, selected: form.template),
            properties: form.properties, templateError: form.templateError, propertiesError: form.propertiesError)
        let layout = try await portal.layout(
            context, request: request, title: "Shared services", section: "admin", breadcrumbs: AdminPages.crumbs, error: error)
        return portal.page("admin-shared-services", view, layout: layout, status: status)
    }

    func create(_ request: Request, _ context: PortalContext) async throws -> Response {
        let actor = try await portal.requireAudited(.manageSharedServices, request, context)
        let fields = try await portal.form(request, context: context)
        var input = FormInput(template: fields["template"] ?? "", properties: fields["properties"] ?? "")
        if input.template.isEmpty {
            input.templateError = "Choose the template to create the shared service from."
            return try await render(request, context, form: input, status: .unprocessableContent)
        }
        let text = input.properties.trimmingCharacters(in: .whitespacesAndNewlines)
        let operation: ResourceOperation
        do {
            let properties = try JSONBody.decode([String: JSONValue].self, from: Data((text.isEmpty ? "{}" : text).utf8))
            operation = try await portal.controlPlane.create(
                .sharedService, templateName: input.template, properties: properties, placement: .init(), actor: actor,
                requestId: context.requestId)
        } catch let error as EnclaveError {
            let message = error.message.replacingOccurrences(of: "The request body", with: "The properties text")
            if error.kind == .conflict || error.message.hasPrefix("Template ") {
                input.templateError = message
            } else {
                input.propertiesError = message
            }
            return try await render(request, context, form: input, status: HTTPResponse.Status(code: error.statusCode))
        }
        return portal.redirect(
            "/admin/shared-services", notice: "Creating the shared service from \(input.template) (operation \(operation.id.prefix(8))).")
    }

    /// The shared service named in the path, and the admin acting on it.
    func target(_ request: Request, _ context: PortalContext) async throws -> (Resource, Actor, FormData) {
        let actor = try await portal.requireAudited(.manageSharedServices, request, context)
        let fields = try await portal.form(request, context: context)
        let id = try context.parameters.require("serviceId")
        return (try await portal.access.sharedService(id), actor, fields)
    }

    func setEnabled(_ request: Request, _ context: PortalContext) async throws -> Response {
        let (service, actor, fields) = try await target(request, context)
        let enabled = fields["enabled"] == "true"
        do {
            let patch = try JSONDecoder().decode(ControlPlane.Patch.self, from: Data(#"{"isEnabled":\#(enabled)}"#.utf8))
            _ = try await portal.controlPlane.update(
                service, patch: patch, etag: fields["etag"] ?? "", forceVersionUpdate: false, actor: actor, requestId: context.requestId)
        } catch let error as EnclaveError {
            let message = error == EnclaveError.staleEtag
                ? "The shared service changed since this page was loaded; nothing was changed. Look at its status and try again."
                : error.message
            return try await render(request, context, form: FormInput(), error: message, status: HTTPResponse.Status(code: error.statusCode))
        }
        let name = PortalText.displayName(service)
        return portal.redirect("/admin/shared-services", notice: enabled ? "Enabling \(name)." : "Disabling \(name).")
    }

    func delete(_ request: Request, _ context: PortalContext) async throws -> Response {
        let (service, actor, _) = try await target(request, context)
        do {
            _ = try await portal.controlPlane.delete(service, actor: actor, requestId: context.requestId)
        } catch let error as EnclaveError {
            return try await render(request, context, form: FormInput(), error: error.message, status: HTTPResponse.Status(code: error.statusCode))
        }
        return portal.redirect("/admin/shared-services", notice: "Deleting \(PortalText.displayName(service)).")
    }
}

import EnclaveCore
import EnclavePortal
import EnclaveStore
import Foundation
import HTTPTypes
import Hummingbird

/// The forms that create, change and delete workspaces, workspace services and user resources:
/// `…/new` (pick a template, then a form generated from its schema), `…/{id}/edit` (properties, enable or
/// disable, upgrade) and `…/{id}/delete` (confirm by typing the name).
///
/// Each form posts back to its own page and does what the matching API route does, through the same
/// `ControlPlane` use case after the same `Access`/`Policy` checks; the control plane's validation errors
/// come back next to the fields they name.
struct ResourceFormPages: Sendable {
    let portal: Portal

    typealias Load = @Sendable (PortalContext) async throws -> ResourceFormSubject

    func register(on pages: RouterGroup<PortalContext>) {
        // Parameter names match the API's and the other portal pages' (one trie node per path segment).
        forms(on: pages, "/workspaces", id: "workspaceId", new: { try newWorkspace($0) }, existing: { try await workspace($0) })
        forms(
            on: pages, "/workspaces/:workspaceId/workspace-services", id: "serviceId",
            new: { try await newService($0) }, existing: { try await service($0) })
        forms(
            on: pages, "/workspaces/:workspaceId/workspace-services/:serviceId/user-resources", id: "resourceId",
            new: { try await newUserResource($0) }, existing: { try await userResource($0) })
    }

    private func forms(on pages: RouterGroup<PortalContext>, _ base: String, id: String, new: @escaping Load, existing: @escaping Load) {
        pages.get(RouterPath("\(base)/new")) { request, context in try await showNew(request, context, try await new(context)) }
        pages.post(RouterPath("\(base)/new")) { request, context in try await create(request, context, try await new(context)) }
        pages.get(RouterPath("\(base)/:\(id)/edit")) { request, context in
            let subject = try await existing(context)
            return try await editPage(request, context, subject, template: try await template(of: subject))
        }
        pages.post(RouterPath("\(base)/:\(id)/edit")) { request, context in try await edit(request, context, try await existing(context)) }
        pages.get(RouterPath("\(base)/:\(id)/delete")) { request, context in
            try await deletePage(request, context, try await existing(context))
        }
        pages.post(RouterPath("\(base)/:\(id)/delete")) { request, context in try await delete(request, context, try await existing(context)) }
    }

    // MARK: Shared

    /// The template's uiSchema, plus the portal's own defaults for the base properties every template gets.
    static func uiSchema(_ template: ResourceTemplate) -> JSONValue {
        var ui = template.uiSchema.objectValue ?? [:]
        if ui["overview"] == nil { ui["overview"] = ["ui:widget": "textarea"] }
        return .object(ui)
    }

    func template(of subject: ResourceFormSubject) async throws -> ResourceTemplate {
        guard let resource = subject.resource else { throw EnclaveError.internal("A resource form without its resource") }
        return try await portal.controlPlane.templateOf(resource)
    }

    /// Whether an error from the control plane is about what the form sent (shown on the form again)
    /// rather than about who may do what (an error page).
    static func isFormProblem(_ error: EnclaveError) -> Bool {
        [.badRequest, .unprocessable, .conflict].contains(error.kind)
    }

    /// Characters a query value may carry unencoded (RFC 3986 unreserved), so template names stay readable.
    static let queryValueCharacters = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))

    // MARK: New

    struct TemplateChoice {
        var title: String
        var description: String
        var name: String
        var version: String
        var href: String
    }

    struct NewView {
        var csrf: String
        var noun: String
        var choosing: Bool
        var templates: [TemplateChoice]
        var cancelHref: String
        var chosen: Chosen?

        struct Chosen {
            var title: String
            var name: String
            var version: String
            var description: String
            var action: String
            var changeHref: String
            var submitLabel: String
            var form: RenderedForm
        }
    }

    /// The current versions of this kind's templates the user may use (as the API's template lists filter them).
    func templateChoices(_ subject: ResourceFormSubject) async throws -> [ResourceTemplate] {
        try await portal.store.templates(type: subject.type, name: nil, parent: subject.parentTemplateName)
            .filter { $0.current && Policy.mayUseTemplate(subject.actor, authorizedRoles: $0.authorizedRoles) }
            .sorted { $0.title.localizedCaseInsensitiveCompare($1.title) == .orderedAscending }
    }

    /// The named template, or the error to show on the template picker.
    func chosenTemplate(_ name: String, _ subject: ResourceFormSubject) async throws -> Result<ResourceTemplate, EnclaveError> {
        let template: ResourceTemplate
        do {
            template = try await portal.controlPlane.template(subject.type, name: name, parent: subject.parentTemplateName)
        } catch let error as EnclaveError {
            guard error.kind == .notFound else { throw error }
            return .failure(.notFound("There is no \(subject.noun) template named “\(name)”. Choose one of the templates below."))
        }
        guard Policy.mayUseTemplate(subject.actor, authorizedRoles: template.authorizedRoles) else {
            return .failure(.forbidden("You may not use the template “\(name)”: it is for \(template.authorizedRoles.joined(separator: ", ")). Choose another."))
        }
        return .success(template)
    }

    func showNew(_ request: Request, _ context: PortalContext, _ subject: ResourceFormSubject) async throws -> Response {
        guard let name = request.uri.queryParameters.get("template").map({ String($0) }), !name.isEmpty else {
            return try await pickerPage(request, context, subject, error: nil)
        }
        switch try await chosenTemplate(name, subject) {
        case .failure(let error):
            return try await pickerPage(request, context, subject, error: error)
        case .success(let template):
            let form = SchemaForm(schema: template.enriched(), uiSchema: Self.uiSchema(template), mode: .create)
            return try await formPage(request, context, subject, template: template, form: form.render())
        }
    }

    func create(_ request: Request, _ context: PortalContext, _ subject: ResourceFormSubject) async throws -> Response {
        let data = try await portal.form(request, context: context)
        let template: ResourceTemplate
        switch try await chosenTemplate(data["_template"] ?? "", subject) {
        case .failure(let error): return try await pickerPage(request, context, subject, error: error)
        case .success(let found): template = found
        }
        let form = SchemaForm(schema: template.enriched(), uiSchema: Self.uiSchema(template), mode: .create)
        let parsed = form.parse(data)
        if !parsed.errors.isEmpty {
            return try await formPage(
                request, context, subject, template: template, form: form.render(submitted: data, errors: parsed.errors),
                status: .unprocessableContent)
        }
        let operation: ResourceOperation
        do {
            operation = try await portal.controlPlane.create(
                subject.type, templateName: template.name, properties: parsed.properties, placement: subject.placement,
                actor: subject.actor, requestId: context.requestId)
        } catch let error as EnclaveError {
            guard Self.isFormProblem(error) else { throw error }
            let split = PropertyErrors.split(error.message)
            let rendered = form.render(submitted: data, errors: split?.fields ?? [:], otherProblems: split?.other ?? [error.message])
            return try await formPage(
                request, context, subject, template: template, form: rendered,
                status: error.kind == .conflict ? .conflict : .unprocessableContent)
        }
        let name = parsed.properties["display_name"]?.stringValue ?? template.title
        return portal.redirect(
            subject.pageHref(of: operation.resourceId),
            notice: "Creating the \(subject.noun) “\(name)”: this takes a moment, and its progress is shown here.")
    }

    private func pickerPage(_ request: Request, _ context: PortalContext, _ subject: ResourceFormSubject, error: EnclaveError?)
        async throws -> Response
    {
        let choices = try await templateChoices(subject).map { template in
            TemplateChoice(
                title: template.title.isEmpty ? template.name : template.title, description: template.description,
                name: template.name, version: template.version,
                href: subject.newPath + "?template=" + (template.name.addingPercentEncoding(withAllowedCharacters: Self.queryValueCharacters) ?? ""))
        }
        let view = NewView(
            csrf: context.session.csrf, noun: subject.noun, choosing: true, templates: choices,
            cancelHref: subject.type == .workspace ? "/workspaces" : subject.parentHref, chosen: nil)
        let layout = try await portal.layout(
            context, request: request, title: newTitle(subject), section: "home",
            breadcrumbs: subject.breadcrumbs(includingResource: false), error: error?.message)
        return portal.page("resource-new", view, layout: layout, status: error.map { HTTPResponse.Status(code: $0.statusCode) } ?? .ok)
    }

    private func formPage(
        _ request: Request, _ context: PortalContext, _ subject: ResourceFormSubject, template: ResourceTemplate,
        form: RenderedForm, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let title = template.title.isEmpty ? template.name : template.title
        let chosen = NewView.Chosen(
            title: title, name: template.name, version: template.version, description: template.description,
            action: subject.newPath, changeHref: subject.newPath, submitLabel: "Create \(subject.noun)", form: form)
        let view = NewView(
            csrf: context.session.csrf, noun: subject.noun, choosing: false, templates: [],
            cancelHref: subject.type == .workspace ? "/workspaces" : subject.parentHref, chosen: chosen)
        let error = form.showProblems ? "The \(subject.noun) was not created: please check the fields listed below." : nil
        let layout = try await portal.layout(
            context, request: request, title: "\(newTitle(subject)): \(title)", section: "home",
            breadcrumbs: subject.breadcrumbs(includingResource: false), scripts: ["schema-form.js"], error: error)
        return portal.page("resource-new", view, layout: layout, status: status)
    }

    private func newTitle(_ subject: ResourceFormSubject) -> String {
        subject.type == .workspace ? "Create a workspace" : "Add a \(subject.noun)"
    }
}

import EnclaveCore
import EnclavePortal
import EnclaveStore
import Foundation
import HTTPTypes
import Hummingbird

// `…/{id}/edit` (properties, upgrade, enable/disable: one PATCH each, with the etag the page was shown
// with) and `…/{id}/delete` (disabled first, then confirmed by typing the name).

extension ResourceFormPages {
    struct EditView {
        var csrf: String
        var noun: String
        var nounTitle: String
        var name: String
        var etag: String
        var action: String
        var resourceHref: String
        var deleteHref: String
        var templateName: String
        var templateVersion: String
        var status: String
        var statusClass: String
        var isEnabled: Bool
        var hasChildren: Bool
        var form: RenderedForm
        var upgrades: [Upgrade]
        var hasMajor: Bool
        var upgradeError: String?

        struct Upgrade {
            var index: Int
            var version: String
            var major: Bool
            var first: Bool
        }
    }

    /// What the page says went wrong, and where.
    struct EditProblems {
        var submitted: FormData?
        var fieldErrors: [String: String] = [:]
        var other: [String] = []
        var upgradeError: String?
        var message: String?
    }

    func editPage(
        _ request: Request, _ context: PortalContext, _ subject: ResourceFormSubject, template: ResourceTemplate,
        problems: EditProblems = EditProblems(), status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        guard let resource = subject.resource else { throw EnclaveError.internal("A resource form without its resource") }
        let form = SchemaForm(schema: template.enriched(isUpdate: true), uiSchema: Self.uiSchema(template), mode: .update)
        let rendered = form.render(
            values: resource.properties, submitted: problems.submitted, errors: problems.fieldErrors, otherProblems: problems.other)
        let upgrades = try await portal.controlPlane.availableUpgrades(for: resource)
        let name = PortalText.displayName(resource)
        let view = EditView(
            csrf: context.session.csrf, noun: subject.noun, nounTitle: subject.nounTitle, name: name, etag: resource.etag,
            action: subject.editPath, resourceHref: subject.pageHref(of: resource.id), deleteHref: subject.deletePath,
            templateName: resource.templateName, templateVersion: resource.templateVersion, status: PortalText.status(resource),
            statusClass: PortalText.statusClass(resource.deploymentStatus), isEnabled: resource.isEnabled,
            hasChildren: subject.type != .userResource, form: rendered,
            upgrades: upgrades.enumerated().map { index, upgrade in
                .init(index: index, version: upgrade.version, major: upgrade.forceUpdateRequired, first: index == 0)
            },
            hasMajor: upgrades.contains(where: \.forceUpdateRequired), upgradeError: problems.upgradeError)
        let message = problems.message ?? (rendered.showProblems ? "Nothing was changed: please check the fields listed below." : nil)
        let layout = try await portal.layout(
            context, request: request, title: "Change \(name)", section: "home",
            breadcrumbs: subject.breadcrumbs(includingResource: true), scripts: ["schema-form.js"], error: message)
        return portal.page("resource-edit", view, layout: layout, status: status)
    }

    func edit(_ request: Request, _ context: PortalContext, _ subject: ResourceFormSubject) async throws -> Response {
        guard let resource = subject.resource else { throw EnclaveError.internal("A resource form without its resource") }
        let data = try await portal.form(request, context: context)
        let template = try await template(of: subject)
        let etag = data["_etag"] ?? ""
        let name = PortalText.displayName(resource)
        let intent = data["_intent"] ?? ""
        var patch = ControlPlane.Patch()
        var force = false
        var notice: String
        var next = subject.pageHref(of: resource.id)
        switch intent {
        case "properties":
            let form = SchemaForm(schema: template.enriched(isUpdate: true), uiSchema: Self.uiSchema(template), mode: .update)
            let parsed = form.parse(data, current: resource.properties)
            if !parsed.errors.isEmpty {
                return try await editPage(
                    request, context, subject, template: template,
                    problems: EditProblems(submitted: data, fieldErrors: parsed.errors), status: .unprocessableContent)
            }
            let changes = form.changes(parsed.properties, from: resource.properties)
            if changes.isEmpty { return portal.redirect(subject.editPath, notice: "Nothing was changed.") }
            patch.properties = changes
            notice = "Saving the changes to “\(changes["display_name"]?.stringValue ?? name)”: the update is under way."
        case "enable", "disable":
            patch.isEnabled = intent == "enable"
            notice = intent == "enable" ? "Enabling “\(name)”." : "Disabling “\(name)”."
            if intent == "disable", data["_return"] == "delete" {
                next = subject.deletePath
                notice = "“\(name)” is disabled: you can delete it now."
            }
        case "upgrade":
            guard let version = data["_version"], !version.isEmpty else {
                return try await editPage(
                    request, context, subject, template: template,
                    problems: EditProblems(upgradeError: "Choose the version to upgrade to."), status: .unprocessableContent)
            }
            patch.templateVersion = version
            force = data["_force"] == "true"
            notice = "Upgrading “\(name)” to version \(version)."
        default:
            throw EnclaveError.badRequest("This form asked for an unknown change (\(intent.isEmpty ? "none" : intent)): reload the page and try again")
        }

        do {
            _ = try await portal.controlPlane.update(
                resource, patch: patch, etag: etag, forceVersionUpdate: force, actor: subject.actor, requestId: context.requestId)
        } catch let error as EnclaveError {
            guard Self.isFormProblem(error) else { throw error }
            if error == .staleEtag {
                // Show what is stored now (and its new etag); nothing the user typed is applied unseen.
                var fresh = subject
                fresh.resource = try await portal.store.resource(id: resource.id)
                guard fresh.resource != nil else { throw EnclaveError.notFound("The \(subject.noun) no longer exists") }
                let message = "This \(subject.noun) changed since you opened the form (someone else, or an operation, updated it), so nothing was saved. The form now shows its current values: make your change again."
                return try await editPage(
                    request, context, fresh, template: try await self.template(of: fresh), problems: EditProblems(message: message),
                    status: .conflict)
            }
            var problems = EditProblems()
            switch intent {
            case "properties":
                let split = PropertyErrors.split(error.message)
                problems = EditProblems(submitted: data, fieldErrors: split?.fields ?? [:], other: split?.other ?? [error.message])
            case "upgrade":
                problems.upgradeError = error.message
                problems.message = "The \(subject.noun) was not upgraded."
            default:
                problems.message = error.message
            }
            return try await editPage(
                request, context, subject, template: template, problems: problems,
                status: error.kind == .conflict ? .conflict : .unprocessableContent)
        }
        return portal.redirect(next, notice: notice)
    }

    // MARK: Delete

    struct DeleteView {
        var csrf: String
        var noun: String
        var name: String
        var action: String
        var editAction: String
        var etag: String
        var resourceHref: String
        var isEnabled: Bool
        var typed: String
        /// "the 3 services and user resources in it", when it contains any.
        var cascade: String?
        var error: String?
    }

    func deletePage(
        _ request: Request, _ context: PortalContext, _ subject: ResourceFormSubject, typed: String = "", error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        guard let resource = subject.resource else { throw EnclaveError.internal("A resource form without its resource") }
        let inside = try await portal.controlPlane.descendants(of: resource).count
        let what = subject.type == .workspace ? "workspace services and user resources" : "user resources"
        let name = PortalText.displayName(resource)
        let view = DeleteView(
            csrf: context.session.csrf, noun: subject.noun, name: name, action: subject.deletePath,
            editAction: subject.editPath, etag: resource.etag, resourceHref: subject.pageHref(of: resource.id),
            isEnabled: resource.isEnabled, typed: typed, cascade: inside == 0 ? nil : "the \(inside) \(what) in it", error: error)
        let layout = try await portal.layout(
            context, request: request, title: "Delete \(name)", section: "home",
            breadcrumbs: subject.breadcrumbs(includingResource: true),
            // While enabled there is no confirmation field to show the problem next to.
            error: error.map { resource.isEnabled ? $0 : "The \(subject.noun) was not deleted." })
        return portal.page("resource-delete", view, layout: layout, status: status)
    }

    func delete(_ request: Request, _ context: PortalContext, _ subject: ResourceFormSubject) async throws -> Response {
        guard let resource = subject.resource else { throw EnclaveError.internal("A resource form without its resource") }
        let data = try await portal.form(request, context: context)
        let name = PortalText.displayName(resource)
        let typed = data["_confirm"] ?? ""
        guard typed.trimmingCharacters(in: .whitespacesAndNewlines) == name.trimmingCharacters(in: .whitespacesAndNewlines) else {
            return try await deletePage(
                request, context, subject, typed: typed,
                error: "That is not the \(subject.noun)'s name. Type it exactly as shown to confirm; nothing was deleted.",
                status: .unprocessableContent)
        }
        do {
            _ = try await portal.controlPlane.delete(resource, actor: subject.actor, requestId: context.requestId)
        } catch let error as EnclaveError {
            guard Self.isFormProblem(error) else { throw error }
            return try await deletePage(
                request, context, subject, typed: typed, error: error.message,
                status: error.kind == .conflict ? .conflict : .unprocessableContent)
        }
        return portal.redirect(subject.parentHref, notice: "Deleting the \(subject.noun) “\(name)”: its resources are being removed.")
    }
}

import EnclaveCore
import EnclavePortal
import EnclaveStore
import Foundation
import Hummingbird

/// The airlock's pages: `/airlock` (my requests everywhere, and what awaits my review),
/// `/workspaces/{id}/airlock` (one workspace's requests), `/workspaces/{id}/airlock/new`, and the request
/// page with its actions (`AirlockRequestPage.swift`).
///
/// Every read and every action goes through `AirlockController`'s actions, the same code as the API, so a
/// page shows and allows exactly what the API would for the signed-in user.
struct AirlockPages: Sendable {
    let portal: Portal
    let airlock: AirlockController

    func register(on pages: RouterGroup<PortalContext>) {
        pages.get("/airlock") { request, context in try await home(request, context) }
        pages.get("/workspaces/:workspaceId/airlock") { request, context in try await workspace(request, context) }
        // `new` before `:requestId`: the router tries routes in the order they were added.
        pages.get("/workspaces/:workspaceId/airlock/new") { request, context in try await newForm(request, context) }
        pages.post("/workspaces/:workspaceId/airlock/new") { request, context in try await create(request, context) }
        registerRequestPage(on: pages)
    }

    static func caller(_ context: PortalContext) -> AirlockCaller { AirlockCaller(user: context.user, requestId: context.requestId) }

    /// Display names of the workspaces requests belong to (one store query).
    func workspaceNames() async throws -> [String: String] {
        let workspaces = try await portal.store.resources(ResourceFilter(type: .workspace))
        return Dictionary(workspaces.map { ($0.id, PortalText.displayName($0)) }, uniquingKeysWith: { first, _ in first })
    }

    func workspaceCrumbs(_ workspace: Resource) -> [PageLayout.Link] {
        [PageLayout.Link("Workspaces", "/workspaces"), PageLayout.Link(PortalText.displayName(workspace), "/workspaces/\(AirlockPaths.segment(workspace.id))")]
    }

    // MARK: - /airlock

    func home(_ request: Request, _ context: PortalContext) async throws -> Response {
        let caller = Self.caller(context)
        let mine = try await airlock.crossWorkspace(caller, managerView: false, query: { $0 == "order_by" ? AirlockOrder.updatedWhen.rawValue : $0 == "order_ascending" ? "false" : nil })
        let reviewable = try await airlock.crossWorkspace(
            caller, managerView: true, query: { $0 == "status" ? AirlockStatus.inReview.rawValue : $0 == "order_by" ? AirlockOrder.updatedWhen.rawValue : nil })
        let roles = try await portal.store.workspaceRoles(userId: context.user.id)
        let names = try await workspaceNames()
        let part = { (request: AirlockRequest, actor: Actor) -> String in
            if AirlockRules.allowedUserActions(request, for: actor).contains("review") { return "Review" }
            if request.createdBy.id == actor.user.id { return "Your request: another manager reviews it" }
            return "You voted"
        }
        let view = AirlockHomeView(
            mine: AirlockRequestTable(
                caption: "My airlock requests, most recently changed first",
                rows: mine.map { AirlockRequestTable.row($0.request, workspaceName: names[$0.request.workspaceId] ?? $0.request.workspaceId) },
                showWorkspace: true, showRequester: false, showPart: false),
            isManager: roles.values.contains { $0.contains(.airlockManager) },
            toReview: AirlockRequestTable(
                caption: "Requests in review in workspaces where I am an airlock manager, oldest first",
                rows: reviewable.map {
                    AirlockRequestTable.row($0.request, workspaceName: names[$0.request.workspaceId] ?? $0.request.workspaceId, part: part($0.request, $0.actor))
                },
                showWorkspace: true, showRequester: true, showPart: true),
            workspaces: roles.keys.compactMap { id in names[id].map { AirlockHomeView.WorkspaceLink(name: $0, href: AirlockPaths.workspace(id)) } }
                .sorted { $0.name.localizedCaseInsensitiveCompare($1.name) == .orderedAscending })
        let layout = try await portal.layout(context, request: request, title: "Airlock", section: "airlock")
        return portal.page("airlock-home", view, layout: layout)
    }

    // MARK: - /workspaces/{id}/airlock

    func workspace(_ request: Request, _ context: PortalContext) async throws -> Response {
        let workspaceId = try context.parameters.require("workspaceId")
        let query = request.uri.queryParameters
        // An empty select ("Any") is no filter; the most recently changed come first.
        let lookup = { (name: String) -> String? in
            switch name {
            case "status", "type": return query.get(name).flatMap { $0.isEmpty ? nil : $0 }
            case "order_by": return AirlockOrder.updatedWhen.rawValue
            case "order_ascending": return "false"
            default: return nil
            }
        }
        let (workspace, actor, found) = try await airlock.requests(Self.caller(context), workspaceId: workspaceId, query: lookup)
        let name = PortalText.displayName(workspace)
        let requester = Policy.decide(actor, .createAirlockRequest) == .allow
        let refusal = requester ? AirlockController.creationRefusal(workspace)?.message : nil
        let status = lookup("status"), type = lookup("type")
        let view = WorkspaceAirlockView(
            workspaceId: workspace.id, workspaceName: name, filterAction: AirlockPaths.workspace(workspace.id),
            table: AirlockRequestTable(
                caption: "Airlock requests of \(name), most recently changed first", rows: found.map { AirlockRequestTable.row($0, workspaceName: name) },
                showWorkspace: false, showRequester: true, showPart: false),
            newHref: "\(AirlockPaths.workspace(workspace.id))/new", canCreate: requester && refusal == nil, createRefusal: refusal,
            reviewerOnly: !requester,
            statuses: [WorkspaceAirlockView.Option(value: "", label: "Any status", selected: status == nil)]
                + AirlockStatus.allCases.map { .init(value: $0.rawValue, label: AirlockDisplay.statusText($0), selected: status == $0.rawValue) },
            types: [WorkspaceAirlockView.Option(value: "", label: "Imports and exports", selected: type == nil)]
                + AirlockRequestType.allCases.map { .init(value: $0.rawValue, label: AirlockPageText.typeText($0) + "s", selected: type == $0.rawValue) },
            filtered: status != nil || type != nil)
        let layout = try await portal.layout(
            context, request: request, title: "Airlock", section: "airlock", breadcrumbs: workspaceCrumbs(workspace))
        return portal.page("airlock-workspace", view, layout: layout)
    }

    // MARK: - /workspaces/{id}/airlock/new

    /// The workspace, once the caller may make requests in it and its airlock takes them (else the refusal's page).
    func creatable(_ workspaceId: String, _ context: PortalContext) async throws -> Resource {
        let (workspace, actor) = try await portal.access.workspace(workspaceId, user: context.user)
        try portal.access.require(actor, .createAirlockRequest)
        if let refusal = AirlockController.creationRefusal(workspace) { throw refusal }
        return workspace
    }

    func newForm(_ request: Request, _ context: PortalContext) async throws -> Response {
        let workspace = try await creatable(try context.parameters.require("workspaceId"), context)
        let view = NewAirlockRequestView(
            action: "\(AirlockPaths.workspace(workspace.id))/new", csrf: context.session.csrf, isImport: false, isExport: false, title: "",
            justification: "")
        return try await newPage(view, workspace: workspace, request: request, context: context)
    }

    func newPage(_ view: NewAirlockRequestView, workspace: Resource, request: Request, context: PortalContext, error: String? = nil) async throws -> Response {
        let layout = try await portal.layout(
            context, request: request, title: "New airlock request", section: "airlock",
            breadcrumbs: workspaceCrumbs(workspace) + [PageLayout.Link("Airlock", AirlockPaths.workspace(workspace.id))], error: error)
        return portal.page("airlock-new", view, layout: layout, status: error == nil ? .ok : .unprocessableContent)
    }

    func create(_ request: Request, _ context: PortalContext) async throws -> Response {
        let form = try await portal.form(request, context: context)
        let workspace = try await creatable(try context.parameters.require("workspaceId"), context)
        let type = form["type"] ?? "", title = form["title"] ?? "", justification = form["businessJustification"] ?? ""
        do {
            let (created, _) = try await airlock.create(
                Self.caller(context), workspaceId: workspace.id, type: type, title: title.isEmpty ? nil : title,
                businessJustification: justification.isEmpty ? nil : justification)
            let next = created.type == .import ? "upload its files" : "add files from workspace storage"
            return portal.redirect(AirlockPaths.request(workspace.id, created.id), notice: "Draft created: \(next), then submit it for review.")
        } catch let error as EnclaveError {
            // (No `catch … where`: it crashes Swift 6.3's ownership verifier.)
            guard error.kind == .unprocessable else { throw error }
            var view = NewAirlockRequestView(
                action: "\(AirlockPaths.workspace(workspace.id))/new", csrf: context.session.csrf, isImport: type == "import",
                isExport: type == "export", title: title, justification: justification)
            // The API names the field at fault; the message goes next to it.
            if error.message.hasPrefix("'type'") {
                view.typeError = "Choose import or export."
            } else if error.message.hasPrefix("'title'") {
                view.titleError = error.message
            } else {
                view.justificationError = error.message
            }
            return try await newPage(view, workspace: workspace, request: request, context: context, error: "The request was not created: \(error.message)")
        }
    }
}

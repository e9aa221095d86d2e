import EnclaveAirlock
import EnclaveCore
import EnclavePortal
import EnclaveStore
import Foundation
import HTTPTypes
import Hummingbird

/// `/workspaces/{id}/airlock/{rid}`: a request's details, files, reviews and history, with the actions the
/// viewer may take (from `allowedUserActions` and the file rules), and the file preview page.
///
/// Actions are forms posted here (CSRF-checked by `portal.form`) that call the API's own actions; a
/// refusal re-renders the page with the API's message and status, so nothing changes and the reason shows.
extension AirlockPages {
    func registerRequestPage(on pages: RouterGroup<PortalContext>) {
        let request = "/workspaces/:workspaceId/airlock/:requestId"
        pages.get(RouterPath(request)) { request, context in
            let (workspaceId, requestId) = try Self.ids(context)
            return try await requestPage(request, context, workspaceId: workspaceId, requestId: requestId)
        }
        pages.get(RouterPath("\(request)/files/:name/preview")) { request, context in try await preview(request, context) }
        pages.post(RouterPath("\(request)/submit")) { request, context in
            try await act(request, context) { _, caller, ws, rid in
                _ = try await airlock.submit(caller, workspaceId: ws, requestId: rid)
                return "Submitted: Enclave scans the files, then airlock managers review the request."
            }
        }
        pages.post(RouterPath("\(request)/cancel")) { request, context in
            try await act(request, context) { _, caller, ws, rid in
                _ = try await airlock.cancel(caller, workspaceId: ws, requestId: rid)
                return "Request cancelled; its files will be deleted."
            }
        }
        pages.post(RouterPath("\(request)/review")) { request, context in
            try await act(request, context, keep: { $0.explanation = $1["explanation"] ?? ""; $0.reviewError = $2 }) { form, caller, ws, rid in
                let approve: Bool
                switch form["decision"] {
                case "approve": approve = true
                case "reject": approve = false
                default: throw EnclaveError.unprocessable("Choose approve or reject")
                }
                let (updated, _) = try await airlock.review(caller, workspaceId: ws, requestId: rid, approve: approve, explanation: form["explanation"] ?? "")
                if updated.status == .inReview { return "Your vote is recorded; the request needs more approvals." }
                return approve ? "Approved." : "Rejected."
            }
        }
        pages.post(RouterPath("\(request)/revoke")) { request, context in
            try await act(request, context, keep: { $0.reason = $1["reason"] ?? ""; $0.revokeError = $2 }) { form, caller, ws, rid in
                _ = try await airlock.revoke(caller, workspaceId: ws, requestId: rid, reason: form["reason"] ?? "")
                return "Approval revoked: downloads stop and the files will be deleted."
            }
        }
        pages.post(RouterPath("\(request)/workspace-files")) { request, context in
            try await act(request, context, keep: { $0.pickPath = $1["path"] ?? ""; $0.pickName = $1["name"] ?? ""; $0.pickError = $2 }) { form, caller, ws, rid in
                let name = form["name"].flatMap { $0.isEmpty ? nil : $0 }
                let file = try await airlock.addFromWorkspace(caller, workspaceId: ws, requestId: rid, path: form["path"] ?? "", name: name)
                return "Added \(file.name) (\(AirlockDisplay.bytes(file.size)))."
            }
        }
        pages.post(RouterPath("\(request)/files/:name/delete")) { request, context in
            try await act(request, context) { _, caller, ws, rid in
                let name = try AirlockController.fileName(raw: context.parameters.require("name"))
                try await airlock.deleteFile(caller, workspaceId: ws, requestId: rid, name: name)
                return "Removed \(name)."
            }
        }
        pages.post(RouterPath("\(request)/link")) { request, context in
            // Shown once on the page it returns (a link is a credential for an hour), not kept in a notice.
            _ = try await portal.form(request, context: context)
            let (ws, rid) = try Self.ids(context)
            let made = try await airlock.link(Self.caller(context), workspaceId: ws, requestId: rid, network: nil)
            var state = FormState()
            state.uploadLink = Self.linkCommand(made.url)
            return try await requestPage(request, context, workspaceId: ws, requestId: rid, state: state)
        }
    }

    static func ids(_ context: PortalContext) throws -> (String, String) {
        (try context.parameters.require("workspaceId"), try context.parameters.require("requestId"))
    }

    /// What a failed form keeps, so the person does not type it again.
    struct FormState {
        var explanation = ""
        var reason = ""
        var pickPath = ""
        var pickName = ""
        var uploadLink: String?
        /// The refusal, shown next to the form it concerns (and at the top of the page).
        var reviewError: String?
        var revokeError: String?
        var pickError: String?
    }

    /// Runs one action posted from the request page: back to the page with a notice, or the page again with
    /// the API's refusal (its status, its message, what was typed) and nothing changed.
    func act(
        _ request: Request, _ context: PortalContext, keep: (inout FormState, FormData, String) -> Void = { _, _, _ in },
        _ action: (FormData, AirlockCaller, String, String) async throws -> String
    ) async throws -> Response {
        let form = try await portal.form(request, context: context)
        let (ws, rid) = try Self.ids(context)
        do {
            let notice = try await action(form, Self.caller(context), ws, rid)
            return portal.redirect(AirlockPaths.request(ws, rid), notice: notice)
        } catch let error as EnclaveError {
            var state = FormState()
            keep(&state, form, error.message)
            return try await requestPage(
                request, context, workspaceId: ws, requestId: rid, state: state, error: error.message, status: HTTPResponse.Status(code: error.statusCode))
        }
    }

    /// The terminal command for a signed upload link: `f=NAME; curl -T "$f" "…/files/$f?…"`.
    static func linkCommand(_ url: String) -> String {
        let parts = url.split(separator: "?", maxSplits: 1)
        let query = parts.count > 1 ? "?\(parts[1])" : ""
        return "f=results.csv; curl -T \"$f\" \"\(parts.first ?? "")/files/$f\(query)\""
    }

    func requestPage(
        _ request: Request, _ context: PortalContext, workspaceId: String, requestId: String, state: FormState = FormState(),
        error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let caller = Self.caller(context)
        let (workspace, actor, found) = try await airlock.load(caller, workspaceId: workspaceId, requestId: requestId, .readAirlockRequests)
        let shown = AirlockController.visible(found, to: actor)
        let actions = AirlockRules.allowedUserActions(found, for: actor)
        let readable = AirlockController.readRefusal(found, by: actor) == nil
        let downloadable = airlock.downloadRefusal(found, by: actor) == nil
        let writable = AirlockFileAccess.writeRefusal(found, by: actor) == nil
        let base = AirlockPaths.request(found.workspaceId, found.id)
        let apiFiles = AirlockPaths.apiFiles(found.workspaceId, found.id)
        let publicURL = airlock.links.publicURL.hasSuffix("/") ? String(airlock.links.publicURL.dropLast()) : airlock.links.publicURL
        let manager = actor.workspaceRoles.contains(.airlockManager)
        let reviewNote = manager && found.status == .inReview && !actions.contains("review") ? AirlockController.reviewRefusal(found, by: actor) : nil
        var exportDownloads: String?
        if found.type == .export, found.status == .approved {
            let count = found.downloadCount ?? 0
            let until = found.availableUntil.map { "; available until \(AirlockDisplay.time($0))" } ?? ""
            exportDownloads = "Downloaded \(count) of \(airlock.processor.settings.maxDownloads) times\(until)"
        }
        let uploads = found.status == .draft && writable ? airlock.storage.partialUploads(requestId: found.id) : []
        let canPick = writable && found.type == .export
        let view = AirlockRequestView(
            csrf: context.session.csrf, base: base, workspaceName: PortalText.displayName(workspace),
            workspaceHref: AirlockPaths.workspace(workspace.id), title: found.title, type: AirlockPageText.typeText(found.type),
            isImport: found.type == .import, status: AirlockDisplay.statusText(found.status), statusClass: AirlockDisplay.statusClass(found.status),
            statusHint: AirlockDisplay.statusHint(found.status, type: found.type), statusMessage: found.statusMessage,
            requester: AirlockPageText.name(found.createdBy), created: AirlockDisplay.time(found.createdWhen),
            updated: AirlockDisplay.time(found.updatedWhen), justification: found.businessJustification,
            approvals: found.requiredApprovals.map { $0 == 1 ? "1 approval needed" : "\($0) approvals needed, from different managers" },
            exportDownloads: exportDownloads,
            files: found.files.enumerated().map {
                AirlockFileView($1, index: $0, request: found, readable: readable, downloadable: downloadable, writable: writable)
            },
            hasFiles: !found.files.isEmpty,
            uploads: uploads.map {
                AirlockRequestView.Upload(
                    name: $0.name, received: AirlockDisplay.bytes($0.received), removeAction: "\(base)/files/\(AirlockPaths.segment($0.name))/delete")
            },
            hasUploads: !uploads.isEmpty,
            canUpload: writable && found.type == .import, apiFiles: apiFiles,
            curlToken: "f=results.csv; curl -T \"$f\" -H \"Authorization: Bearer $ENCLAVE_TOKEN\" \"\(publicURL)\(apiFiles)/$f\"",
            uploadLink: state.uploadLink, canPick: canPick,
            candidates: canPick ? WorkspaceStoragePath.candidates(workspaceRoot: airlock.workspaceRoot(workspace.id), userId: context.user.id) : [],
            homePrefix: "home/\(context.user.id)/", pickPath: state.pickPath, pickName: state.pickName, pickError: state.pickError,
            canSubmit: actions.contains("submit"), canCancel: actions.contains("cancel"), canReview: actions.contains("review"),
            reviewNote: reviewNote, explanation: state.explanation, reviewError: state.reviewError, canRevoke: actions.contains("revoke"),
            hasButtons: actions.contains("submit") || actions.contains("cancel"), reason: state.reason, revokeError: state.revokeError, hasActions: !actions.isEmpty || reviewNote != nil,
            reviews: shown.reviews.map {
                AirlockRequestView.Review(
                    reviewer: AirlockPageText.name($0.reviewer), decision: $0.reviewDecision.rawValue,
                    decisionClass: $0.reviewDecision == .approved ? "ok" : "bad", explanation: $0.decisionExplanation,
                    when: AirlockDisplay.time($0.dateCreated))
            },
            hasReviews: !shown.reviews.isEmpty,
            history: found.history.map {
                AirlockRequestView.Change(
                    from: AirlockDisplay.statusText($0.previousStatus), to: AirlockDisplay.statusText($0.status), by: AirlockPageText.name($0.updatedBy),
                    when: AirlockDisplay.time($0.updatedWhen))
            },
            hasHistory: !found.history.isEmpty)
        let layout = try await portal.layout(
            context, request: request, title: found.title, section: "airlock",
            breadcrumbs: workspaceCrumbs(workspace) + [PageLayout.Link("Airlock", AirlockPaths.workspace(workspace.id))],
            scripts: view.canUpload ? ["airlock-upload.js"] : [], error: error)
        return portal.page("airlock-request", view, layout: layout, status: status)
    }

    func preview(_ request: Request, _ context: PortalContext) async throws -> Response {
        let (workspaceId, requestId) = try Self.ids(context)
        let name = try AirlockController.fileName(raw: context.parameters.require("name"))
        let caller = Self.caller(context)
        let (workspace, actor, found) = try await airlock.load(caller, workspaceId: workspaceId, requestId: requestId, .readAirlockRequests)
        let made = try await airlock.preview(caller, workspaceId: workspaceId, requestId: requestId, name: name)
        guard let file = found.files.first(where: { $0.name == name }) else { throw EnclaveError.notFound("Request \(found.id) has no file '\(name)'") }
        let base = AirlockPaths.request(found.workspaceId, found.id)
        let fileView = AirlockFileView(
            file, index: found.files.firstIndex(of: file) ?? 0, request: found, readable: true, downloadable: airlock.downloadRefusal(found, by: actor) == nil, writable: false)
        let layout = try await portal.layout(
            context, request: request, title: "Preview of \(name)", section: "airlock",
            breadcrumbs: workspaceCrumbs(workspace) + [PageLayout.Link("Airlock", AirlockPaths.workspace(workspace.id)), PageLayout.Link(found.title, base)])
        return portal.page("airlock-preview", AirlockPreviewView(back: base, file: fileView, preview: made), layout: layout)
    }
}

import EnclaveAirlock
import EnclaveCore
import EnclaveStore
import Foundation
import Hummingbird

/// Who acts on the airlock, wherever the action came from: the user, and the HTTP request's id that
/// their audit records carry. The API builds one from its token-authenticated context, the portal from
/// its browser session, so both run the same actions below.
struct AirlockCaller: Sendable {
    var user: User
    var requestId: String?

    init(user: User, requestId: String?) {
        self.user = user
        self.requestId = requestId
    }

    init(_ context: AuthenticatedContext) {
        self.init(user: context.user, requestId: context.requestId)
    }
}

/// The airlock's actions, free of HTTP: each resolves the caller's roles in the request's workspace,
/// asks `Policy` and then `AirlockRules`/`AirlockFileAccess`, and writes the change and its audit record
/// in one transaction. The API's handlers and the portal's pages both call these, so a page can never
/// allow (or show) what the API would refuse.
extension AirlockController {
    // MARK: - Loading

    /// The workspace, the caller as an actor in it, and the request (404 unless it belongs to that workspace).
    func load(_ caller: AirlockCaller, workspaceId: String, requestId: String, _ action: PolicyAction) async throws
        -> (Resource, Actor, AirlockRequest)
    {
        let (workspace, actor) = try await access.workspace(workspaceId, user: caller.user)
        try access.require(actor, action)
        guard let request = try await store.airlockRequest(id: requestId), request.workspaceId == workspace.id else {
            throw EnclaveError.notFound("Airlock request \(requestId) does not exist in workspace \(workspaceId)")
        }
        return (workspace, actor, request)
    }

    func audit(_ caller: AirlockCaller, _ action: AuditAction, _ request: AirlockRequest, details: JSONValue = [:], time: Double? = nil)
        -> AuditEntry
    {
        AuditEntry(
            id: newId(), time: time ?? now(), actor: AuditActor(caller.user), action: action, target: AirlockProcessor.target(request),
            details: details, requestId: caller.requestId)
    }

    // MARK: - Requests

    /// Why no request can be created in `workspace` now (its airlock is off, or it is not deployed and
    /// enabled), or nil. Pages ask before offering "New request".
    static func creationRefusal(_ workspace: Resource) -> EnclaveError? {
        if !workspace.isAirlockEnabled {
            return .methodNotAllowed("The airlock is disabled in workspace \(workspace.id) (enable_airlock is false)")
        }
        guard workspace.isEnabled,
            workspace.deploymentStatus == OperationStatus.deployed.rawValue || workspace.deploymentStatus == OperationStatus.updated.rawValue
        else {
            return .conflict(
                "Workspace \(workspace.id) is not deployed (it is \(workspace.deploymentStatus ?? "unknown")); airlock requests need a deployed, enabled workspace")
        }
        return nil
    }

    /// Creates a draft. 422 names the field at fault (`'type'`, `'title'`, `'businessJustification'`).
    func create(_ caller: AirlockCaller, workspaceId: String, type: String, title: String?, businessJustification: String?) async throws
        -> (AirlockRequest, Actor)
    {
        let (workspace, actor) = try await access.workspace(workspaceId, user: caller.user)
        try access.require(actor, .createAirlockRequest)
        guard let type = AirlockRequestType(rawValue: type) else {
            throw EnclaveError.unprocessable("'type' must be \"import\" or \"export\" (got \"\(type)\")")
        }
        if let refusal = Self.creationRefusal(workspace) { throw refusal }
        for (field, value, limit) in [("title", title, 200), ("businessJustification", businessJustification, 4000)] {
            if let value, value.count > limit { throw EnclaveError.unprocessable("'\(field)' is longer than \(limit) characters") }
        }
        let time = now()
        let created = AirlockRequest(
            id: newId(), workspaceId: workspace.id, type: type, title: title, businessJustification: businessJustification,
            createdBy: caller.user, now: time)
        try await store.createAirlockRequest(
            created, audit: [audit(caller, .airlockCreate, created, details: ["type": .string(type.rawValue), "title": .string(created.title)], time: time)])
        return (created, actor)
    }

    /// Azure TRE's query parameters (`creator_user_id`, `type`, `status`, `order_by`, `order_ascending`), read
    /// through `query` so the API's URL and a page's filter form share one parser.
    static func filter(_ query: (String) -> String?, workspaceIds: [String]?) throws -> AirlockRequestFilter {
        var filter = AirlockRequestFilter(workspaceIds: workspaceIds)
        filter.creatorId = query("creator_user_id")
        if let type = query("type") {
            guard let parsed = AirlockRequestType(rawValue: type) else { throw EnclaveError.badRequest("'type' must be import or export") }
            filter.type = parsed
        }
        if let status = query("status") {
            guard let parsed = AirlockStatus(rawValue: status) else {
                throw EnclaveError.badRequest("'status' must be one of: \(AirlockStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.statuses = [parsed]
        }
        if let order = query("order_by") {
            guard let parsed = AirlockOrder(rawValue: order) else {
                throw EnclaveError.badRequest("'order_by' must be one of: \(AirlockOrder.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.orderBy = parsed
        }
        if let ascending = query("order_ascending") {
            guard let parsed = Bool(ascending.lowercased()) else { throw EnclaveError.badRequest("'order_ascending' must be true or false") }
            filter.ascending = parsed
        }
        return filter
    }

    /// One workspace's requests (reviews not yet hidden: render them through `visible`/`withActions`).
    func requests(_ caller: AirlockCaller, workspaceId: String, query: (String) -> String?) async throws -> (Resource, Actor, [AirlockRequest]) {
        let (workspace, actor) = try await access.workspace(workspaceId, user: caller.user)
        try access.require(actor, .readAirlockRequests)
        let found = try await store.airlockRequests(try Self.filter(query, workspaceIds: [workspace.id]))
        return (workspace, actor, found)
    }

    /// The caller's own requests in every workspace, or (`managerView`) every request of the workspaces
    /// where the caller is an airlock manager; each with the caller as an actor in its workspace.
    func crossWorkspace(_ caller: AirlockCaller, managerView: Bool, query: (String) -> String?) async throws
        -> [(request: AirlockRequest, actor: Actor)]
    {
        try access.require(Actor(user: caller.user), .listMyAirlockRequests)
        let roles = try await store.workspaceRoles(userId: caller.user.id)
        let workspaceIds = roles.filter { !managerView || $0.value.contains(.airlockManager) }.keys.sorted()
        var filter = try Self.filter(query, workspaceIds: workspaceIds)
        if !managerView { filter.creatorId = caller.user.id }
        return try await store.airlockRequests(filter).map { ($0, Actor(user: caller.user, workspaceRoles: roles[$0.workspaceId] ?? [])) }
    }

    // MARK: - Status changes

    /// Applies one event through `AirlockRules` inside the store's transaction, audits the status change,
    /// and wakes the processor when it has work.
    func change(
        _ caller: AirlockCaller, workspaceId: String, requestId: String, _ event: AirlockEvent, action: PolicyAction,
        extraAudit: AuditAction? = nil, prepare: (@Sendable (inout AirlockRequest, Resource) -> Void)? = nil
    ) async throws -> (AirlockRequest, Actor) {
        let (workspace, actor, found) = try await load(caller, workspaceId: workspaceId, requestId: requestId, action)
        let time = now()
        let ids = (newId(), newId(), newId())
        let auditActor = AuditActor(caller.user)
        let correlation = caller.requestId
        let updated = try await store.modifyAirlockRequest(id: found.id) { current in
            var base = current
            prepare?(&base, workspace)
            let next = try AirlockRules.apply(
                event, to: base, by: actor, policy: AirlockReviewPolicy(requiredApprovals: base.requiredApprovals ?? 1), reviewId: ids.0, now: time)
            var audit: [AuditEntry] = []
            if let extraAudit, let review = next.reviews.last {
                audit.append(
                    AuditEntry(
                        id: ids.1, time: time, actor: auditActor, action: extraAudit, target: AirlockProcessor.target(next),
                        details: ["decision": .string(review.reviewDecision.rawValue), "explanation": .string(review.decisionExplanation)],
                        requestId: correlation))
            }
            if next.status != current.status {
                audit.append(AirlockProcessor.statusAudit(id: ids.2, from: current, to: next, time: time, actor: auditActor, requestId: correlation))
            }
            return AirlockChange(request: next, audit: audit)
        }
        processor.nudge()
        return (updated, actor)
    }

    func submit(_ caller: AirlockCaller, workspaceId: String, requestId: String) async throws -> (AirlockRequest, Actor) {
        try await change(caller, workspaceId: workspaceId, requestId: requestId, .submit, action: .createAirlockRequest) { request, workspace in
            // Fixed at submit: later changes to the workspace's settings do not move the goalposts.
            request.requiredApprovals = workspace.properties["airlock_required_approvals"]?.intValue ?? 1
            request.checkParameters = Self.checkParameters(workspace)
        }
    }

    static func checkParameters(_ workspace: Resource) -> OutputCheckParameters {
        var parameters = OutputCheckParameters()
        if case .object(let settings)? = workspace.properties["airlock_output_checks"] {
            if let value = settings["threshold"]?.intValue { parameters.threshold = value }
            if let value = settings["max_rows"]?.intValue { parameters.maxRows = value }
            if case .bool(let value)? = settings["check_identifiers"] { parameters.checkIdentifiers = value }
            if case .bool(let value)? = settings["auto_reject"] { parameters.autoReject = value }
        }
        return parameters
    }

    func cancel(_ caller: AirlockCaller, workspaceId: String, requestId: String) async throws -> (AirlockRequest, Actor) {
        try await change(caller, workspaceId: workspaceId, requestId: requestId, .cancel, action: .createAirlockRequest)
    }

    func review(_ caller: AirlockCaller, workspaceId: String, requestId: String, approve: Bool, explanation: String) async throws
        -> (AirlockRequest, Actor)
    {
        try await change(
            caller, workspaceId: workspaceId, requestId: requestId, .vote(approve: approve, explanation: explanation), action: .reviewAirlockRequest,
            extraAudit: .airlockReview)
    }

    func revoke(_ caller: AirlockCaller, workspaceId: String, requestId: String, reason: String) async throws -> (AirlockRequest, Actor) {
        try await change(
            caller, workspaceId: workspaceId, requestId: requestId, .revoke(reason: reason), action: .reviewAirlockRequest, extraAudit: .airlockRevoke)
    }

    /// Why `actor` may not vote on `request` now, in the rules' own words (asked of `AirlockRules.apply`
    /// without storing anything), or nil when a vote would be taken.
    static func reviewRefusal(_ request: AirlockRequest, by actor: Actor) -> String? {
        let outcome: Result<AirlockRequest, EnclaveError>
        do {
            outcome = .success(
                try AirlockRules.apply(
                    .vote(approve: true, explanation: "check"), to: request, by: actor,
                    policy: AirlockReviewPolicy(requiredApprovals: request.requiredApprovals ?? 1), now: 0))
        } catch {
            outcome = .failure(error)
        }
        if case .failure(let refusal) = outcome { return refusal.message }
        return nil
    }

    /// A signed link for an hour (`network` `workspace`: for use inside the workspace, export drafts only).
    func link(_ caller: AirlockCaller, workspaceId: String, requestId: String, network: String?) async throws -> (url: String, expires: Int) {
        let (_, actor, found) = try await load(caller, workspaceId: workspaceId, requestId: requestId, .readAirlockRequests)
        let inside: Bool
        switch network {
        case nil, "public": inside = false
        case "workspace": inside = true
        case let other?: throw EnclaveError.badRequest("'network' must be workspace (a link for use inside the workspace) or left out (got \"\(other)\")")
        }
        switch found.status {
        case .submitted, .approvalInProgress, .rejectionInProgress, .blockingInProgress:
            throw EnclaveError.badRequest("The request is being processed; ask for a link again when it is in review or decided")
        case .cancelled, .revoked:
            throw EnclaveError.badRequest("The request was \(found.status.rawValue); its files are no longer available")
        case .failed, .rejected, .blockedByScan:
            throw EnclaveError.badRequest("A link cannot be issued for a request in status \(found.status.rawValue) (invalid status)")
        case .draft, .inReview, .approved:
            break
        }
        if let refusal = AirlockFileAccess.readRefusal(found, by: actor), AirlockFileAccess.writeRefusal(found, by: actor) != nil {
            throw EnclaveError.forbidden(refusal)
        }
        let made: (url: String, expires: Int)
        if inside {
            guard found.type == .export, found.status == .draft else {
                throw EnclaveError.badRequest(
                    "Links for the workspace network fill export drafts (files go out of a workspace from inside it); this request is \(found.type == .export ? "an export in status \(found.status.rawValue)" : "an import")")
            }
            try Self.requireWritable(found, by: actor)
            made = try await links.workspaceLink(workspaceId: found.workspaceId, requestId: found.id, user: caller.user)
        } else {
            made = links.link(workspaceId: found.workspaceId, requestId: found.id, user: caller.user, draft: found.status == .draft)
        }
        try await store.appendAudit([
            audit(caller, .airlockLink, found, details: ["expires": .int(made.expires), "network": .string(inside ? "workspace" : "public")])
        ])
        return made
    }

    // MARK: - Files

    /// Files change only in a draft, by its requester or an owner: 403 for the wrong person, 409 once submitted.
    static func requireWritable(_ request: AirlockRequest, by actor: Actor) throws {
        if let refusal = AirlockFileAccess.writeRefusal(request, by: actor) {
            throw request.status == .draft ? EnclaveError.forbidden(refusal) : EnclaveError.conflict(refusal)
        }
    }

    struct FileList: Encodable {
        struct Upload: Encodable {
            var name: String
            var received: Int
        }
        var files: [AirlockFile]
        /// Uploads begun but not finished (resume with `Content-Range: bytes <received>-…`).
        var uploads: [Upload]
    }

    /// The request's files and unfinished uploads, for whoever may read or change them.
    func files(_ caller: AirlockCaller, workspaceId: String, requestId: String) async throws -> (request: AirlockRequest, actor: Actor, list: FileList) {
        let (_, actor, found) = try await load(caller, workspaceId: workspaceId, requestId: requestId, .readAirlockRequests)
        if let refusal = AirlockFileAccess.readRefusal(found, by: actor), AirlockFileAccess.writeRefusal(found, by: actor) != nil {
            throw EnclaveError.forbidden(refusal)
        }
        let uploads = found.status == .draft ? storage.partialUploads(requestId: found.id).map { FileList.Upload(name: $0.name, received: $0.received) } : []
        return (found, actor, FileList(files: found.files, uploads: uploads))
    }

    /// Adds a complete file to the draft: the rename into the draft stage and the document update happen
    /// inside one store transaction, so a submit cannot slip in between them.
    func publish(_ file: AirlockFile, into found: AirlockRequest, caller: AirlockCaller) async throws -> AirlockFile {
        let storage = self.storage
        let time = now()
        let entry = audit(
            caller, .airlockFileUpload, found,
            details: ["name": .string(file.name), "size": .int(file.size), "sha256": .string(file.sha256), "source": file.source.map(JSONValue.string) ?? "upload"],
            time: time)
        _ = try await store.modifyAirlockRequest(id: found.id) { current in
            guard current.status == .draft else {
                storage.removeDraftFile(requestId: current.id, name: file.name)
                throw EnclaveError.conflict("The request was submitted while '\(file.name)' was uploading; the file was not added")
            }
            try storage.publish(requestId: current.id, name: file.name)
            var next = current
            next.files.removeAll { $0.name == file.name }
            next.files.append(file)
            next.resourceVersion += 1
            next.updatedWhen = time
            return AirlockChange(request: next, audit: [entry])
        }
        return file
    }

    /// Removes a draft's file, or the part of an unfinished upload.
    func deleteFile(_ caller: AirlockCaller, workspaceId: String, requestId: String, name: String) async throws {
        let (_, actor, found) = try await load(caller, workspaceId: workspaceId, requestId: requestId, .createAirlockRequest)
        try Self.requireWritable(found, by: actor)
        guard found.files.contains(where: { $0.name == name }) || storage.receivedBytes(found.id, name) > 0 else {
            throw EnclaveError.notFound("Request \(found.id) has no file '\(name)'")
        }
        let storage = self.storage
        let time = now()
        let entry = audit(caller, .airlockFileDelete, found, details: ["name": .string(name)], time: time)
        _ = try await store.modifyAirlockRequest(id: found.id) { current in
            guard current.status == .draft else { throw EnclaveError.conflict("Files can be removed only from a draft") }
            storage.removeDraftFile(requestId: current.id, name: name)
            var next = current
            next.files.removeAll { $0.name == name }
            next.resourceVersion += 1
            next.updatedWhen = time
            return AirlockChange(request: next, audit: [entry])
        }
    }

    /// Why `actor` cannot read `request`'s files now (roles, status, deleted data), or nil.
    static func readRefusal(_ request: AirlockRequest, by actor: Actor) -> EnclaveError? {
        if let refusal = AirlockFileAccess.readRefusal(request, by: actor) { return .forbidden(refusal) }
        guard request.dataDeletedWhen == nil, AirlockStage(holding: request.status) != nil else {
            return .notFound("The data of request \(request.id) has been deleted")
        }
        return nil
    }

    /// Why an approved export cannot be downloaded any more (window ended, limit reached), or nil.
    static func exportDownloadRefusal(_ request: AirlockRequest, now: Double, maxDownloads: Int) -> String? {
        if let until = request.availableUntil, now >= until { return "The download window of this export ended; its data is deleted" }
        let count = request.downloadCount ?? 0
        if count >= maxDownloads { return "This export was downloaded \(count) times, the most allowed; its data is deleted" }
        return nil
    }

    /// Why `actor` cannot download `request`'s files now, or nil: the read rule, then an export's window and limit.
    func downloadRefusal(_ request: AirlockRequest, by actor: Actor) -> String? {
        if let refusal = Self.readRefusal(request, by: actor) { return refusal.message }
        guard request.status == .approved, request.type == .export else { return nil }
        return Self.exportDownloadRefusal(request, now: now(), maxDownloads: processor.settings.maxDownloads)
    }

    /// The file a download or preview reads: the caller may read the request's files now, the file exists,
    /// and its data has not been deleted. Returns the request, the file and the stage holding it.
    func readableFile(_ caller: AirlockCaller, workspaceId: String, requestId: String, name: String) async throws
        -> (AirlockRequest, AirlockFile, AirlockStage)
    {
        let (_, actor, found) = try await load(caller, workspaceId: workspaceId, requestId: requestId, .readAirlockRequests)
        if let refusal = AirlockFileAccess.readRefusal(found, by: actor) { throw EnclaveError.forbidden(refusal) }
        guard let file = found.files.first(where: { $0.name == name }) else {
            throw EnclaveError.notFound("Request \(found.id) has no file '\(name)'")
        }
        if let refusal = Self.readRefusal(found, by: actor) { throw refusal }
        guard let stage = AirlockStage(holding: found.status) else { throw EnclaveError.notFound("The data of request \(found.id) has been deleted") }
        return (found, file, stage)
    }

    /// A preview for reviewers (CSV/TSV as a table, text, images) from the file's first bytes; audited.
    func preview(_ caller: AirlockCaller, workspaceId: String, requestId: String, name: String) async throws -> FilePreview {
        let (found, file, stage) = try await readableFile(caller, workspaceId: workspaceId, requestId: requestId, name: name)
        let limit = max(FilePreview.maximumBytes, min(file.size, FilePreview.maximumImageBytes))
        let prefix = try await storage.readPrefix(storage.path(stage, found.id, file.name), length: limit)
        try await store.appendAudit([audit(caller, .airlockPreview, found, details: ["name": .string(file.name)])])
        return FilePreview.make(name: file.name, prefix: prefix, size: file.size)
    }

    // MARK: - Exports from workspace storage

    /// The folder holding a workspace's storage (`shared/`, `home/<user>/`, `imports/`, …).
    func workspaceRoot(_ workspaceId: String) -> String {
        URL(fileURLWithPath: storage.root).deletingLastPathComponent().appendingPathComponent("workspaces/\(workspaceId)").path
    }

    /// Adds a file of the workspace's storage to an export draft, copied (and hashed) into the airlock:
    /// from `shared/` or the requester's own `home/`, never through a symbolic link.
    func addFromWorkspace(_ caller: AirlockCaller, workspaceId: String, requestId: String, path: String, name: String?) async throws -> AirlockFile {
        let (workspace, actor, found) = try await load(caller, workspaceId: workspaceId, requestId: requestId, .createAirlockRequest)
        guard found.type == .export else {
            throw EnclaveError.badRequest("Files from workspace storage go into export requests; upload an import's files instead")
        }
        try Self.requireWritable(found, by: actor)
        let source = try WorkspaceStoragePath.resolve(path, workspaceRoot: workspaceRoot(workspace.id), userId: caller.user.id)
        let name = name ?? (path as NSString).lastPathComponent
        if let problem = AirlockFileName.problem(name) { throw EnclaveError.badRequest(problem) }
        let others = found.files.filter { $0.name != name }.reduce(0) { $0 + $1.size }
        let received = try await storage.copyIn(requestId: found.id, name: name, from: source.path, size: source.size, otherFilesBytes: others)
        guard case .complete(var file) = received else { throw EnclaveError.internal("The copy of '\(path)' did not complete") }
        file.source = source.relative
        return try await publish(file, into: found, caller: caller)
    }
}

import EnclaveAirlock
import EnclaveCore
import EnclaveStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Azure TRE's airlock routes (reference §1.3, §5) plus Enclave's file routes: files stream through
/// the API (`PUT`/`GET …/files/{name}`), so nobody handles storage links by hand.
///
/// Every handler resolves the caller's roles in the request's workspace, asks `Policy` and then
/// `AirlockRules`/`AirlockFileAccess`, and writes the change and its audit record in one transaction.
struct AirlockController: Sendable {
    let store: any Store
    let access: Access
    let storage: AirlockStorage
    let processor: AirlockProcessor
    let links: AirlockLinks
    let now: @Sendable () -> Double
    let newId: @Sendable () -> String

    func register(on group: RouterGroup<AuthenticatedContext>) {
        group.post("workspaces/:workspaceId/requests", use: create)
        group.get("workspaces/:workspaceId/requests", use: list)
        group.get("workspaces/:workspaceId/requests/:requestId", use: get)
        group.post("workspaces/:workspaceId/requests/:requestId/submit", use: submit)
        group.post("workspaces/:workspaceId/requests/:requestId/cancel", use: cancel)
        group.post("workspaces/:workspaceId/requests/:requestId/review", use: review)
        group.post("workspaces/:workspaceId/requests/:requestId/revoke", use: revoke)
        group.get("workspaces/:workspaceId/requests/:requestId/files", use: listFiles)
        group.put("workspaces/:workspaceId/requests/:requestId/files/:name", use: upload)
        group.get("workspaces/:workspaceId/requests/:requestId/files/:name", use: download)
        group.delete("workspaces/:workspaceId/requests/:requestId/files/:name", use: deleteFile)
        group.get("workspaces/:workspaceId/requests/:requestId/files/:name/preview", use: preview)
        group.post("workspaces/:workspaceId/requests/:requestId/workspace-files", use: addFromWorkspace)
        group.get("workspaces/:workspaceId/requests/:requestId/link", use: link)
        group.get("requests", use: crossWorkspace)
    }

    // MARK: - Loading and rendering

    /// The workspace, the caller as an actor in it, and the request (404 unless it belongs to that workspace).
    func load(_ context: AuthenticatedContext, _ action: PolicyAction) async throws -> (Resource, Actor, AirlockRequest) {
        let workspaceId = try context.parameters.require("workspaceId")
        let requestId = try context.parameters.require("requestId")
        let (workspace, actor) = try await access.workspace(workspaceId, user: context.user)
        try access.require(actor, action)
        guard let request = try await store.airlockRequest(id: requestId), request.workspaceId == workspace.id else {
            throw EnclaveError.notFound("Airlock request \(requestId) does not exist in workspace \(workspaceId)")
        }
        return (workspace, actor, request)
    }

    /// What a caller sees of a request: votes stay hidden until the decision.
    static func visible(_ request: AirlockRequest, to actor: Actor) -> AirlockRequest {
        var shown = request
        shown.reviews = AirlockRules.visibleReviews(request, to: actor)
        return shown
    }

    struct WithActions: Encodable {
        var airlockRequest: AirlockRequest
        var allowedUserActions: [String]
    }

    static func withActions(_ request: AirlockRequest, _ actor: Actor) -> WithActions {
        WithActions(airlockRequest: visible(request, to: actor), allowedUserActions: AirlockRules.allowedUserActions(request, for: actor))
    }

    func respond(_ request: AirlockRequest, _ actor: Actor, status: HTTPResponse.Status = .ok) throws -> Response {
        try JSONBody.response(Self.withActions(request, actor), status: status)
    }

    func audit(_ context: AuthenticatedContext, _ action: AuditAction, _ request: AirlockRequest, details: JSONValue = [:], time: Double? = nil)
        -> AuditEntry
    {
        AuditEntry(
            id: newId(), time: time ?? now(), actor: AuditActor(context.user), action: action, target: AirlockProcessor.target(request),
            details: details, requestId: context.requestId)
    }

    // MARK: - Requests

    struct CreateBody: Decodable {
        var type: String
        var title: String?
        var businessJustification: String?
    }

    @Sendable func create(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let workspaceId = try context.parameters.require("workspaceId")
        let (workspace, actor) = try await access.workspace(workspaceId, user: context.user)
        try access.require(actor, .createAirlockRequest)
        let body = try await JSONBody.decode(CreateBody.self, from: request)
        guard let type = AirlockRequestType(rawValue: body.type) else {
            throw EnclaveError.unprocessable("'type' must be \"import\" or \"export\" (got \"\(body.type)\")")
        }
        if !workspace.isAirlockEnabled {
            throw EnclaveError.methodNotAllowed("The airlock is disabled in workspace \(workspace.id) (enable_airlock is false)")
        }
        guard workspace.isEnabled, workspace.deploymentStatus == OperationStatus.deployed.rawValue || workspace.deploymentStatus == OperationStatus.updated.rawValue
        else {
            throw EnclaveError.conflict("Workspace \(workspace.id) is not deployed (it is \(workspace.deploymentStatus ?? "unknown")); airlock requests need a deployed, enabled workspace")
        }
        for (field, value, limit) in [("title", body.title, 200), ("businessJustification", body.businessJustification, 4000)] {
            if let value, value.count > limit { throw EnclaveError.unprocessable("'\(field)' is longer than \(limit) characters") }
        }
        let time = now()
        let created = AirlockRequest(
            id: newId(), workspaceId: workspace.id, type: type, title: body.title, businessJustification: body.businessJustification,
            createdBy: context.user, now: time)
        try await store.createAirlockRequest(
            created, audit: [audit(context, .airlockCreate, created, details: ["type": .string(type.rawValue), "title": .string(created.title)], time: time)])
        return try respond(created, actor, status: .created)
    }

    /// Azure TRE's query parameters: `creator_user_id`, `type`, `status`, `order_by`, `order_ascending`.
    func filter(_ request: Request, workspaceIds: [String]?) throws -> AirlockRequestFilter {
        let query = request.uri.queryParameters
        var filter = AirlockRequestFilter(workspaceIds: workspaceIds)
        filter.creatorId = query.get("creator_user_id")
        if let type = query.get("type") {
            guard let parsed = AirlockRequestType(rawValue: type) else { throw EnclaveError.badRequest("'type' must be import or export") }
            filter.type = parsed
        }
        if let status = query.get("status") {
            guard let parsed = AirlockStatus(rawValue: status) else {
                throw EnclaveError.badRequest("'status' must be one of: \(AirlockStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.statuses = [parsed]
        }
        if let order = query.get("order_by") {
            guard let parsed = AirlockOrder(rawValue: order) else {
                throw EnclaveError.badRequest("'order_by' must be one of: \(AirlockOrder.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.orderBy = parsed
        }
        if let ascending = query.get("order_ascending") {
            guard let parsed = Bool(ascending.lowercased()) else { throw EnclaveError.badRequest("'order_ascending' must be true or false") }
            filter.ascending = parsed
        }
        return filter
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let workspaceId = try context.parameters.require("workspaceId")
        let (workspace, actor) = try await access.workspace(workspaceId, user: context.user)
        try access.require(actor, .readAirlockRequests)
        let requests = try await store.airlockRequests(try filter(request, workspaceIds: [workspace.id]))
        return try JSONBody.response(Envelope("airlockRequests", requests.map { Self.withActions($0, actor) }))
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (_, actor, found) = try await load(context, .readAirlockRequests)
        return try respond(found, actor)
    }

    /// `GET /api/requests`: the caller's own requests in every workspace, or with `airlock_manager=true`
    /// every request of the workspaces where the caller is an airlock manager. A plain array, as Azure TRE.
    @Sendable func crossWorkspace(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try access.require(Actor(user: context.user), .listMyAirlockRequests)
        let managerView = request.uri.queryParameters.get("airlock_manager").map { $0.lowercased() == "true" } ?? false
        let roles = try await store.workspaceRoles(userId: context.user.id)
        let workspaceIds = roles.filter { !managerView || $0.value.contains(.airlockManager) }.keys.sorted()
        var filter = try filter(request, workspaceIds: workspaceIds)
        if !managerView { filter.creatorId = context.user.id }
        let requests = try await store.airlockRequests(filter)
        return try JSONBody.response(
            requests.map { Self.visible($0, to: Actor(user: context.user, workspaceRoles: roles[$0.workspaceId] ?? [])) })
    }

    // MARK: - Status changes

    /// Applies one event through `AirlockRules` inside the store's transaction, audits the status change,
    /// and wakes the processor when it has work.
    func change(
        _ context: AuthenticatedContext, _ event: AirlockEvent, action: PolicyAction, extraAudit: AuditAction? = nil,
        prepare: (@Sendable (inout AirlockRequest, Resource) -> Void)? = nil
    ) async throws -> Response {
        let (workspace, actor, found) = try await load(context, action)
        let time = now()
        let ids = (newId(), newId(), newId())
        let requestId = context.requestId
        let auditActor = AuditActor(context.user)
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
                        requestId: requestId))
            }
            if next.status != current.status {
                audit.append(AirlockProcessor.statusAudit(id: ids.2, from: current, to: next, time: time, actor: auditActor, requestId: requestId))
            }
            return AirlockChange(request: next, audit: audit)
        }
        processor.nudge()
        return try respond(updated, actor)
    }

    @Sendable func submit(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (_, actor, found) = try await load(context, .createAirlockRequest)
        if let refusal = AirlockFileAccess.writeRefusal(found, by: actor), found.status == .draft {
            throw EnclaveError.forbidden(refusal)
        }
        return try await change(context, .submit, action: .createAirlockRequest) { request, workspace in
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

    @Sendable func cancel(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (_, actor, found) = try await load(context, .createAirlockRequest)
        if found.createdBy.id != actor.user.id, !actor.workspaceRoles.contains(.owner) {
            throw EnclaveError.forbidden("Only the requester or a workspace owner can cancel this request")
        }
        return try await change(context, .cancel, action: .createAirlockRequest)
    }

    struct ReviewBody: Decodable {
        var approval: Bool
        var decisionExplanation: String
    }

    @Sendable func review(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        _ = try await load(context, .reviewAirlockRequest)  // refuse before reading the body
        let body = try await JSONBody.decode(ReviewBody.self, from: request)
        return try await change(
            context, .vote(approve: body.approval, explanation: body.decisionExplanation), action: .reviewAirlockRequest,
            extraAudit: .airlockReview)
    }

    struct RevokeBody: Decodable {
        var reason: String
    }

    @Sendable func revoke(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        _ = try await load(context, .reviewAirlockRequest)  // refuse before reading the body
        let body = try await JSONBody.decode(RevokeBody.self, from: request)
        return try await change(context, .revoke(reason: body.reason), action: .reviewAirlockRequest, extraAudit: .airlockRevoke)
    }

    /// Azure TRE's refusals (reference §5.3) plus Enclave's file access rule, then a signed URL for an hour.
    /// `?network=workspace`: a link for use inside the workspace, through the workspace listener (export drafts only).
    @Sendable func link(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (_, actor, found) = try await load(context, .readAirlockRequests)
        let inside: Bool
        switch request.uri.queryParameters.get("network") {
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
            made = try await links.workspaceLink(workspaceId: found.workspaceId, requestId: found.id, user: context.user)
        } else {
            made = links.link(workspaceId: found.workspaceId, requestId: found.id, user: context.user, draft: found.status == .draft)
        }
        try await store.appendAudit([
            audit(context, .airlockLink, found, details: ["expires": .int(made.expires), "network": .string(inside ? "workspace" : "public")])
        ])
        return try JSONBody.response(["containerUrl": JSONValue.string(made.url), "expiresWhen": .int(made.expires)])
    }

    // MARK: - Files

    /// Files change only in a draft, by its requester or an owner: 403 for the wrong person, 409 once submitted.
    static func requireWritable(_ request: AirlockRequest, by actor: Actor) throws {
        if let refusal = AirlockFileAccess.writeRefusal(request, by: actor) {
            throw request.status == .draft ? EnclaveError.forbidden(refusal) : EnclaveError.conflict(refusal)
        }
    }

    /// The `name` path parameter, percent-decoded and checked (no `/`, `..`, control characters, ≤ 255 bytes).
    static func fileName(_ context: AuthenticatedContext) throws -> String {
        let raw = try context.parameters.require("name")
        guard let name = raw.removingPercentEncoding else { throw EnclaveError.badRequest("The file name is not valid percent-encoding") }
        if let problem = AirlockFileName.problem(name) { throw EnclaveError.badRequest(problem) }
        return name
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

    @Sendable func listFiles(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (_, actor, found) = try await load(context, .readAirlockRequests)
        if let refusal = AirlockFileAccess.readRefusal(found, by: actor), AirlockFileAccess.writeRefusal(found, by: actor) != nil {
            throw EnclaveError.forbidden(refusal)
        }
        let uploads = found.status == .draft ? storage.partialUploads(requestId: found.id).map { FileList.Upload(name: $0.name, received: $0.received) } : []
        return try JSONBody.response(FileList(files: found.files, uploads: uploads))
    }

    @Sendable func upload(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try await upload(request, context: context, source: nil)
    }

    /// Streams the body into the draft (in parts with `Content-Range`), hashing it as it arrives; `source`
    /// says where it came from when not from outside (the workspace listener's uploads).
    func upload(_ request: Request, context: AuthenticatedContext, source: String?) async throws -> Response {
        let (_, actor, found) = try await load(context, .createAirlockRequest)
        let name = try Self.fileName(context)
        try Self.requireWritable(found, by: actor)
        let range = try request.headers[.contentRange].map { try UploadRange.parse($0).get() }
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        let others = found.files.filter { $0.name != name }.reduce(0) { $0 + $1.size }
        let received = try await storage.receive(
            requestId: found.id, name: name, range: range, declaredLength: declared, otherFilesBytes: others, body: request.body)
        switch received {
        case .partial(let bytes):
            var headers = HTTPFields()
            headers[.range] = "bytes=0-\(bytes - 1)"
            return try JSONBody.response(["name": JSONValue.string(name), "received": .int(bytes), "complete": false], status: .accepted, headers: headers)
        case .complete(var file):
            file.source = source
            let stored = try await publish(file, into: found, context: context)
            return try JSONBody.response(["file": stored], status: .created)
        }
    }

    /// Adds a complete file to the draft: the rename into the draft stage and the document update happen
    /// inside one store transaction, so a submit cannot slip in between them.
    func publish(_ file: AirlockFile, into found: AirlockRequest, context: AuthenticatedContext) async throws -> AirlockFile {
        let storage = self.storage
        let time = now()
        let entry = audit(
            context, .airlockFileUpload, found,
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

    @Sendable func deleteFile(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (_, actor, found) = try await load(context, .createAirlockRequest)
        let name = try Self.fileName(context)
        try Self.requireWritable(found, by: actor)
        guard found.files.contains(where: { $0.name == name }) || storage.receivedBytes(found.id, name) > 0 else {
            throw EnclaveError.notFound("Request \(found.id) has no file '\(name)'")
        }
        let storage = self.storage
        let time = now()
        let entry = audit(context, .airlockFileDelete, found, details: ["name": .string(name)], time: time)
        _ = try await store.modifyAirlockRequest(id: found.id) { current in
            guard current.status == .draft else { throw EnclaveError.conflict("Files can be removed only from a draft") }
            storage.removeDraftFile(requestId: current.id, name: name)
            var next = current
            next.files.removeAll { $0.name == name }
            next.resourceVersion += 1
            next.updatedWhen = time
            return AirlockChange(request: next, audit: [entry])
        }
        return Response(status: .noContent)
    }

    /// The file a download or preview reads: the caller may read the request's files now, the file exists,
    /// and its data has not been deleted. Returns the request, the file and the stage holding it.
    func readableFile(_ context: AuthenticatedContext) async throws -> (AirlockRequest, AirlockFile, AirlockStage) {
        let (_, actor, found) = try await load(context, .readAirlockRequests)
        let name = try Self.fileName(context)
        if let refusal = AirlockFileAccess.readRefusal(found, by: actor) { throw EnclaveError.forbidden(refusal) }
        guard let file = found.files.first(where: { $0.name == name }) else {
            throw EnclaveError.notFound("Request \(found.id) has no file '\(name)'")
        }
        guard found.dataDeletedWhen == nil, let stage = AirlockStage(holding: found.status) else {
            throw EnclaveError.notFound("The data of request \(found.id) has been deleted")
        }
        return (found, file, stage)
    }

    @Sendable func download(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (found, file, stage) = try await readableFile(context)
        let name = file.name
        let time = now()
        let settings = processor.settings
        let entry = audit(context, .airlockDownload, found, details: ["name": .string(name), "sha256": .string(file.sha256)], time: time)
        // Approved exports: a limited window and number of downloads, counted before any byte leaves.
        _ = try await store.modifyAirlockRequest(id: found.id) { current in
            var next = current
            if current.status == .approved, current.type == .export {
                if let until = current.availableUntil, time >= until {
                    throw EnclaveError.forbidden("The download window of this export ended; its data is deleted")
                }
                let count = current.downloadCount ?? 0
                guard count < settings.maxDownloads else {
                    throw EnclaveError.forbidden("This export was downloaded \(count) times, the most allowed; its data is deleted")
                }
                next.downloadCount = count + 1
            } else if current.status != found.status {
                throw EnclaveError.conflict("The request changed status while the download started; try again")
            }
            return AirlockChange(request: next, audit: [entry])
        }
        let path = storage.path(stage, found.id, name)
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.contentDisposition] = "attachment; filename*=UTF-8''\(name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "file")"
        headers[.acceptRanges] = "bytes"
        headers[HTTPField.Name("X-Content-SHA256")!] = file.sha256
        let fileIO = FileIO()
        if let rangeHeader = request.headers[.range], let range = Self.byteRange(rangeHeader, size: file.size) {
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(file.size)"
            headers[.contentLength] = "\(range.count)"
            return Response(status: .partialContent, headers: headers, body: try await fileIO.loadFile(path: path, range: range, context: context, chunkLength: Self.downloadChunk))
        }
        headers[.contentLength] = "\(file.size)"
        return Response(status: .ok, headers: headers, body: try await fileIO.loadFile(path: path, context: context, chunkLength: Self.downloadChunk))
    }

    /// A preview for reviewers (CSV/TSV as a table, text, images) from the file's first bytes; audited.
    @Sendable func preview(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (found, file, stage) = try await readableFile(context)
        let name = file.name
        let limit = max(FilePreview.maximumBytes, min(file.size, FilePreview.maximumImageBytes))
        let prefix = try await storage.readPrefix(storage.path(stage, found.id, name), length: limit)
        try await store.appendAudit([audit(context, .airlockPreview, found, details: ["name": .string(name)])])
        return try JSONBody.response(FilePreview.make(name: name, prefix: prefix, size: file.size).json)
    }

    /// Downloads read the disk in 1 MiB chunks (Hummingbird's default 128 KiB costs a hop per chunk).
    static let downloadChunk = 1 << 20

    /// `bytes=START-END`, `bytes=START-` or `bytes=-SUFFIX`, clamped to the file; nil when unusable (the whole file is sent).
    static func byteRange(_ header: String, size: Int) -> ClosedRange<Int>? {
        guard size > 0, header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst("bytes=".count).split(separator: "-", omittingEmptySubsequences: false)
        guard spec.count == 2 else { return nil }
        if spec[0].isEmpty, let suffix = Int(spec[1]), suffix > 0 { return max(0, size - suffix)...(size - 1) }
        guard let start = Int(spec[0]), start < size else { return nil }
        let end = spec[1].isEmpty ? size - 1 : min(Int(spec[1]) ?? (size - 1), size - 1)
        return start <= end ? start...end : nil
    }

    // MARK: - Exports from workspace storage

    struct WorkspaceFileBody: Decodable {
        /// `shared/…` or `home/<your user id>/…`, relative to the workspace's storage.
        var path: String
        /// The name in the request; default: the path's last component.
        var name: String?
    }

    /// Adds a file of the workspace's storage to an export draft, copied (and hashed) into the airlock:
    /// from `shared/` or the requester's own `home/`, never through a symbolic link.
    @Sendable func addFromWorkspace(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspace, actor, found) = try await load(context, .createAirlockRequest)
        let body = try await JSONBody.decode(WorkspaceFileBody.self, from: request)
        guard found.type == .export else {
            throw EnclaveError.badRequest("Files from workspace storage go into export requests; upload an import's files instead")
        }
        try Self.requireWritable(found, by: actor)
        let root = URL(fileURLWithPath: storage.root).deletingLastPathComponent().appendingPathComponent("workspaces/\(workspace.id)").path
        let source = try WorkspaceStoragePath.resolve(body.path, workspaceRoot: root, userId: context.user.id)
        let name = body.name ?? (body.path as NSString).lastPathComponent
        if let problem = AirlockFileName.problem(name) { throw EnclaveError.badRequest(problem) }
        let others = found.files.filter { $0.name != name }.reduce(0) { $0 + $1.size }
        let received = try await storage.copyIn(requestId: found.id, name: name, from: source.path, size: source.size, otherFilesBytes: others)
        guard case .complete(var file) = received else { throw EnclaveError.internal("The copy of '\(body.path)' did not complete") }
        file.source = source.relative
        return try JSONBody.response(["file": try await publish(file, into: found, context: context)], status: .created)
    }
}

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

    // MARK: - Rendering

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

    /// The workspace and request ids of a request route.
    static func ids(_ context: AuthenticatedContext) throws -> (workspaceId: String, requestId: String) {
        (try context.parameters.require("workspaceId"), try context.parameters.require("requestId"))
    }

    // MARK: - Requests

    struct CreateBody: Decodable {
        var type: String
        var title: String?
        var businessJustification: String?
    }

    @Sendable func create(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let workspaceId = try context.parameters.require("workspaceId")
        // Refused before the body is read, as before: the role decides first.
        let (_, actor) = try await access.workspace(workspaceId, user: context.user)
        try access.require(actor, .createAirlockRequest)
        let body = try await JSONBody.decode(CreateBody.self, from: request)
        let (created, creator) = try await create(
            AirlockCaller(context), workspaceId: workspaceId, type: body.type, title: body.title, businessJustification: body.businessJustification)
        return try respond(created, creator, status: .created)
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let query = request.uri.queryParameters
        let (_, actor, requests) = try await requests(
            AirlockCaller(context), workspaceId: try context.parameters.require("workspaceId"), query: { query.get($0) })
        return try JSONBody.response(Envelope("airlockRequests", requests.map { Self.withActions($0, actor) }))
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspaceId, requestId) = try Self.ids(context)
        let (_, actor, found) = try await load(AirlockCaller(context), workspaceId: workspaceId, requestId: requestId, .readAirlockRequests)
        return try respond(found, actor)
    }

    /// `GET /api/requests`: the caller's own requests in every workspace, or with `airlock_manager=true`
    /// every request of the workspaces where the caller is an airlock manager. A plain array, as Azure TRE.
    @Sendable func crossWorkspace(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let query = request.uri.queryParameters
        let managerView = query.get("airlock_manager").map { $0.lowercased() == "true" } ?? false
        let found = try await crossWorkspace(AirlockCaller(context), managerView: managerView, query: { query.get($0) })
        return try JSONBody.response(found.map { Self.visible($0.request, to: $0.actor) })
    }

    // MARK: - Status changes

    @Sendable func submit(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspaceId, requestId) = try Self.ids(context)
        let (updated, actor) = try await submit(AirlockCaller(context), workspaceId: workspaceId, requestId: requestId)
        return try respond(updated, actor)
    }

    @Sendable func cancel(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspaceId, requestId) = try Self.ids(context)
        let (updated, actor) = try await cancel(AirlockCaller(context), workspaceId: workspaceId, requestId: requestId)
        return try respond(updated, actor)
    }

    struct ReviewBody: Decodable {
        var approval: Bool
        var decisionExplanation: String
    }

    @Sendable func review(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspaceId, requestId) = try Self.ids(context)
        let caller = AirlockCaller(context)
        _ = try await load(caller, workspaceId: workspaceId, requestId: requestId, .reviewAirlockRequest)  // refuse before reading the body
        let body = try await JSONBody.decode(ReviewBody.self, from: request)
        let (updated, actor) = try await review(
            caller, workspaceId: workspaceId, requestId: requestId, approve: body.approval, explanation: body.decisionExplanation)
        return try respond(updated, actor)
    }

    struct RevokeBody: Decodable {
        var reason: String
    }

    @Sendable func revoke(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspaceId, requestId) = try Self.ids(context)
        let caller = AirlockCaller(context)
        _ = try await load(caller, workspaceId: workspaceId, requestId: requestId, .reviewAirlockRequest)  // refuse before reading the body
        let body = try await JSONBody.decode(RevokeBody.self, from: request)
        let (updated, actor) = try await revoke(caller, workspaceId: workspaceId, requestId: requestId, reason: body.reason)
        return try respond(updated, actor)
    }

    /// Azure TRE's refusals (reference §5.3) plus Enclave's file access rule, then a signed URL for an hour.
    /// `?network=workspace`: a link for use inside the workspace, through the workspace listener (export drafts only).
    @Sendable func link(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspaceId, requestId) = try Self.ids(context)
        let made = try await link(
            AirlockCaller(context), workspaceId: workspaceId, requestId: requestId, network: request.uri.queryParameters.get("network"))
        return try JSONBody.response(["containerUrl": JSONValue.string(made.url), "expiresWhen": .int(made.expires)])
    }

    // MARK: - Files

    /// The `name` path parameter, percent-decoded and checked (no `/`, `..`, control characters, ≤ 255 bytes).
    static func fileName(_ context: some RequestContext) throws -> String {
        try fileName(raw: context.parameters.require("name"))
    }

    static func fileName(raw: String) throws -> String {
        guard let name = raw.removingPercentEncoding else { throw EnclaveError.badRequest("The file name is not valid percent-encoding") }
        if let problem = AirlockFileName.problem(name) { throw EnclaveError.badRequest(problem) }
        return name
    }

    @Sendable func listFiles(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspaceId, requestId) = try Self.ids(context)
        return try JSONBody.response(try await files(AirlockCaller(context), workspaceId: workspaceId, requestId: requestId).list)
    }

    @Sendable func upload(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try await upload(request, context: context, source: nil)
    }

    /// Streams the body into the draft (in parts with `Content-Range`), hashing it as it arrives; `source`
    /// says where it came from when not from outside (the workspace listener's uploads).
    func upload(_ request: Request, context: AuthenticatedContext, source: String?) async throws -> Response {
        let (workspaceId, requestId) = try Self.ids(context)
        let caller = AirlockCaller(context)
        let (_, actor, found) = try await load(caller, workspaceId: workspaceId, requestId: requestId, .createAirlockRequest)
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
            let stored = try await publish(file, into: found, caller: caller)
            return try JSONBody.response(["file": stored], status: .created)
        }
    }

    @Sendable func deleteFile(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspaceId, requestId) = try Self.ids(context)
        try await deleteFile(AirlockCaller(context), workspaceId: workspaceId, requestId: requestId, name: try Self.fileName(context))
        return Response(status: .noContent)
    }

    @Sendable func download(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspaceId, requestId) = try Self.ids(context)
        let caller = AirlockCaller(context)
        let (found, file, stage) = try await readableFile(caller, workspaceId: workspaceId, requestId: requestId, name: try Self.fileName(context))
        let name = file.name
        let time = now()
        let settings = processor.settings
        let entry = audit(caller, .airlockDownload, found, details: ["name": .string(name), "sha256": .string(file.sha256)], time: time)
        // Approved exports: a limited window and number of downloads, counted before any byte leaves.
        _ = try await store.modifyAirlockRequest(id: found.id) { current in
            var next = current
            if current.status == .approved, current.type == .export {
                if let refusal = Self.exportDownloadRefusal(current, now: time, maxDownloads: settings.maxDownloads) {
                    throw EnclaveError.forbidden(refusal)
                }
                next.downloadCount = (current.downloadCount ?? 0) + 1
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
        let (workspaceId, requestId) = try Self.ids(context)
        let made = try await preview(AirlockCaller(context), workspaceId: workspaceId, requestId: requestId, name: try Self.fileName(context))
        return try JSONBody.response(made.json)
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

    @Sendable func addFromWorkspace(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspaceId, requestId) = try Self.ids(context)
        let caller = AirlockCaller(context)
        _ = try await load(caller, workspaceId: workspaceId, requestId: requestId, .createAirlockRequest)  // refuse before reading the body
        let body = try await JSONBody.decode(WorkspaceFileBody.self, from: request)
        let file = try await addFromWorkspace(caller, workspaceId: workspaceId, requestId: requestId, path: body.path, name: body.name)
        return try JSONBody.response(["file": file], status: .created)
    }
}

public import EnclaveCore
public import EnclaveStore
import Foundation
public import Logging
public import ServiceLifecycle

/// Enclave's airlock processor (Azure TRE's Functions app, in-process): moves each request's files
/// between stages, scans them, runs the output checks, and applies the processor's side of the state
/// machine through `AirlockRules`.
///
/// The request's status is the queue: after a crash the processor finds every request still in a
/// processing status and finishes it, and each step is idempotent (a move already done is skipped).
public final class AirlockProcessor: Service, Sendable {
    public let store: any AirlockRepository & AuditRepository
    public let storage: AirlockStorage
    public let scanner: any MalwareScanner
    /// Runs the output checks of an export's files; nil: no checks.
    public let checker: (any OutputChecker)?
    public let settings: AirlockSettings
    let now: @Sendable () -> Double
    let newId: @Sendable () -> String
    let logger: Logger
    let nudges: AsyncStream<Void>
    let nudgeContinuation: AsyncStream<Void>.Continuation
    /// Where approved imports appear for a workspace: `DATA/workspaces/<ws>/imports/<request>/`.
    let workspacesDirectory: String

    public init(
        store: any AirlockRepository & AuditRepository, storage: AirlockStorage, scanner: any MalwareScanner, checker: (any OutputChecker)?,
        settings: AirlockSettings = .init(), workspacesDirectory: String, now: @escaping @Sendable () -> Double,
        newId: @escaping @Sendable () -> String, logger: Logger
    ) {
        self.store = store
        self.storage = storage
        self.scanner = scanner
        self.checker = checker
        self.settings = settings
        self.workspacesDirectory = workspacesDirectory
        self.now = now
        self.newId = newId
        self.logger = logger
        (nudges, nudgeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The processor acts as Enclave in histories and audit records.
    public static let systemUser = User(id: AuditActor.system.id, name: AuditActor.system.name, email: "", roles: [])

    /// Wakes the processor now (after a submit or a review) instead of at its next poll.
    public func nudge() { nudgeContinuation.yield() }

    public func run() async throws {
        try? storage.prepare()
        // A poll as well as nudges: requests submitted by another process, and retention deadlines.
        let poll = settings.pollSeconds
        let ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(poll))
                self?.nudge()
            }
        }
        defer { ticker.cancel() }
        nudge()
        await cancelWhenGracefulShutdown {
            for await _ in self.nudges {
                await self.processPending()
            }
        }
    }

    static let processing: [AirlockStatus] = [.submitted, .approvalInProgress, .rejectionInProgress, .blockingInProgress]

    /// One pass over every request that needs the processor; also the retention sweep. Errors are logged
    /// and the request retried on the next pass.
    public func processPending() async {
        do {
            for request in try await store.airlockRequests(AirlockRequestFilter(statuses: Self.processing)) {
                if Task.isCancelled { return }
                do {
                    try await process(request)
                } catch {
                    if Task.isCancelled { return }
                    logger.error("airlock request not processed", metadata: ["request": "\(request.id)", "error": "\(error)"])
                }
            }
            try await sweep()
        } catch {
            if Task.isCancelled { return }
            logger.error("airlock processor pass failed", metadata: ["error": "\(error)"])
        }
    }

    func process(_ request: AirlockRequest) async throws {
        switch request.status {
        case .submitted:
            try storage.move(requestId: request.id, from: .draft, to: .inProgress)
            try await scanAndCheck(request)
        case .approvalInProgress:
            try storage.move(requestId: request.id, from: .inProgress, to: .approved)
            if request.type == .import { try deliverImport(request) }
            try await complete(request) { next in
                if next.type == .export {
                    next.availableUntil = self.now() + self.settings.exportAvailabilitySeconds
                    next.downloadCount = 0
                }
            }
        case .rejectionInProgress:
            try storage.move(requestId: request.id, from: .inProgress, to: .rejected)
            try await complete(request) { _ in }
        case .blockingInProgress:
            try storage.move(requestId: request.id, from: .inProgress, to: .blocked)
            try await complete(request) { _ in }
        default:
            return
        }
    }

    /// `*_in_progress` → its final status once the files are in place.
    func complete(_ request: AirlockRequest, _ adjust: @escaping @Sendable (inout AirlockRequest) -> Void) async throws {
        let time = now()
        let auditId = newId()
        _ = try await store.modifyAirlockRequest(id: request.id) { current in
            guard current.status == request.status else { return nil }
            var next = try AirlockRules.apply(.stageCompleted, to: current, by: Actor(user: Self.systemUser), now: time)
            adjust(&next)
            return AirlockChange(request: next, audit: [Self.statusAudit(id: auditId, from: current, to: next, time: time)])
        }
    }

    /// Scans every file (and, for exports, runs the checks), then moves the request to review, to
    /// blocking, or — when the scanner cannot give verdicts for longer than allowed — to failed.
    func scanAndCheck(_ request: AirlockRequest) async throws {
        var files = request.files
        var infected: [String] = []
        var unscannable: [String] = []
        for index in files.indices {
            let path = storage.path(.inProgress, request.id, files[index].name)
            guard FileManager.default.fileExists(atPath: path) else {
                unscannable.append("\(files[index].name): the file is missing from the airlock's storage")
                continue
            }
            switch await scanner.scan(path: path) {
            case .clean:
                files[index].scanResult = scanner is NoMalwareScanner ? "not scanned (scanning is disabled)" : "clean"
            case .infected(let signature):
                files[index].scanResult = "infected: \(signature)"
                infected.append("\(files[index].name): \(signature)")
            case .unscannable(let reason):
                files[index].scanResult = "not scanned: \(reason)"
                unscannable.append("\(files[index].name): \(reason)")
            }
        }
        let time = now()
        if infected.isEmpty, !unscannable.isEmpty {
            // Fail closed: retry while the scanner may come back, then fail; never review unscanned data.
            let submittedAt = request.history.last { $0.status == .submitted }?.updatedWhen ?? request.updatedWhen
            guard time - submittedAt >= settings.scanRetrySeconds else {
                logger.warning("airlock scan will be retried", metadata: ["request": "\(request.id)", "reason": "\(unscannable.joined(separator: "; "))"])
                return
            }
        }
        if infected.isEmpty, unscannable.isEmpty, request.type == .export, let checker {
            for index in files.indices {
                files[index].checks = await checker.check(
                    file: files[index], path: storage.path(.inProgress, request.id, files[index].name), allFiles: files,
                    directory: storage.directory(.inProgress, request.id), parameters: request.checkParameters ?? .init())
            }
        }
        let scannedFiles = files
        let ids = (newId(), newId(), newId(), newId(), newId())
        let event: AirlockEvent
        if !infected.isEmpty {
            event = .scanBlocked(verdict: "Malware found: " + infected.joined(separator: "; "))
        } else if !unscannable.isEmpty {
            event = .fail(reason: "The files could not be scanned, so the request cannot be reviewed: " + unscannable.joined(separator: "; "))
        } else {
            event = .scanClean
        }
        let scanner = self.scanner
        let allClean = infected.isEmpty && unscannable.isEmpty
        _ = try await store.modifyAirlockRequest(id: request.id) { current in
            guard current.status == .submitted else { return nil }
            var next = try AirlockRules.apply(event, to: current, by: Actor(user: Self.systemUser), now: time)
            next.files = scannedFiles
            var audit = [
                AuditEntry(
                    id: ids.0, time: time, actor: .system, action: .airlockScan, target: Self.target(current),
                    outcome: allClean ? .success : .failed,
                    details: [
                        "scanner": .string(String(describing: type(of: scanner))),
                        "files": .array(scannedFiles.map { ["name": .string($0.name), "sha256": .string($0.sha256), "result": .string($0.scanResult ?? "")] }),
                    ])
            ]
            if scannedFiles.contains(where: { $0.checks != nil }) {
                audit.append(
                    AuditEntry(
                        id: ids.2, time: time, actor: .system, action: .airlockCheck, target: Self.target(current),
                        details: [
                            "files": .array(
                                scannedFiles.map { file in
                                    ["name": .string(file.name), "verdicts": .array((file.checks ?? []).map { ["check": .string($0.check), "verdict": .string($0.verdict.rawValue)] })]
                                })
                        ]))
            }
            audit.append(Self.statusAudit(id: ids.1, from: current, to: next, time: time))
            // Auto-reject (off by default): a hard check failure rejects at once, with the failures as the reason.
            let hardFailures = scannedFiles.flatMap { file in
                (file.checks ?? []).filter { $0.verdict == .fail }.map { "\(file.name): \($0.summary)" }
            }
            if next.status == .inReview, current.checkParameters?.autoReject == true, !hardFailures.isEmpty {
                let reviewed = next
                next = try AirlockRules.apply(
                    .autoReject(reason: "Rejected automatically (auto_reject): " + hardFailures.joined(separator: "; ")), to: reviewed,
                    by: Actor(user: Self.systemUser), reviewId: ids.3, now: time)
                audit.append(Self.statusAudit(id: ids.4, from: reviewed, to: next, time: time))
            }
            return AirlockChange(request: next, audit: audit)
        }
    }

    /// Approved imports appear read-only in the workspace: `imports/<request>/` (root-owned, group-readable
    /// as the imports folder is, so the workspace's sandboxes read but never change them).
    func deliverImport(_ request: AirlockRequest) throws {
        let importsRoot = "\(workspacesDirectory)/\(request.workspaceId)/imports"
        let fm = FileManager.default
        if !fm.fileExists(atPath: importsRoot) {
            try fm.createDirectory(atPath: importsRoot, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        }
        let target = "\(importsRoot)/\(request.id)"
        let partial = "\(importsRoot)/.\(request.id).partial"
        if fm.fileExists(atPath: target) { return }
        try? fm.removeItem(atPath: partial)
        try fm.createDirectory(atPath: partial, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o750])
        var importsInfo = stat()
        let group: gid_t? = stat(importsRoot, &importsInfo) == 0 ? importsInfo.st_gid : nil
        for file in request.files {
            let destination = "\(partial)/\(file.name)"
            try fm.copyItem(atPath: storage.path(.approved, request.id, file.name), toPath: destination)
            _ = chmod(destination, 0o440)
            if let group { _ = chown(destination, 0, group) }
        }
        if let group { _ = chown(partial, 0, group) }
        _ = chmod(partial, 0o550)
        try fm.moveItem(atPath: partial, toPath: target)
    }

    /// Deletes data that must not stay: requests that ended without approval (cancelled, failed, revoked),
    /// rejected and blocked data after the retention period, approved exports after their download window,
    /// approved imports once delivered into the workspace. Each deletion is an audit record naming the files.
    func sweep() async throws {
        let time = now()
        let candidates = try await store.airlockRequests(
            AirlockRequestFilter(statuses: [.cancelled, .failed, .revoked, .rejected, .blockedByScan, .approved]))
        for request in candidates where request.dataDeletedWhen == nil {
            let reason: String?
            switch request.status {
            case .cancelled, .failed, .revoked: reason = "request \(request.status.rawValue)"
            case .rejected, .blockedByScan:
                reason = time - request.updatedWhen >= settings.retentionSeconds ? "retention period ended" : nil
            case .approved where request.type == .export:
                if let until = request.availableUntil, time >= until {
                    reason = "download window ended"
                } else if let count = request.downloadCount, count >= settings.maxDownloads {
                    reason = "download limit reached"
                } else {
                    reason = nil
                }
            case .approved:
                reason = "delivered to the workspace's imports folder"
            default: reason = nil
            }
            guard let reason else { continue }
            try await deleteData(request, reason: reason, time: time)
        }
    }

    public func deleteData(_ request: AirlockRequest, reason: String, time: Double) async throws {
        let deletion = storage.deleteData(requestId: request.id)
        let auditId = newId()
        _ = try await store.modifyAirlockRequest(id: request.id) { current in
            guard current.dataDeletedWhen == nil else { return nil }
            var next = current
            next.dataDeletedWhen = time
            return AirlockChange(
                request: next,
                audit: [
                    AuditEntry(
                        id: auditId, time: time, actor: .system, action: .airlockDataDelete, target: Self.target(current),
                        details: [
                            "reason": .string(reason), "files": .array(deletion.files.map(JSONValue.string)), "bytes": .int(deletion.bytes),
                            "sha256": .array(current.files.map { JSONValue.string("\($0.name):\($0.sha256)") }),
                        ])
                ])
        }
    }

    public static func target(_ request: AirlockRequest) -> String { "/workspaces/\(request.workspaceId)/requests/\(request.id)" }

    public static func statusAudit(id: String, from: AirlockRequest, to: AirlockRequest, time: Double, actor: AuditActor = .system, requestId: String? = nil)
        -> AuditEntry
    {
        AuditEntry(
            id: id, time: time, actor: actor, action: .airlockStatusChange, target: target(to),
            details: [
                "previousStatus": .string(from.status.rawValue), "status": .string(to.status.rawValue), "type": .string(to.type.rawValue),
                "statusMessage": to.statusMessage.map(JSONValue.string) ?? .null,
            ], requestId: requestId)
    }
}

/// The processor's knobs (defaults from the issue: exports downloadable 7 days, 3 times; rejected and
/// blocked data kept 30 days for review, then deleted; an unreachable scanner retried for 10 minutes).
public struct AirlockSettings: Sendable, Hashable {
    public var pollSeconds: Double
    public var exportAvailabilitySeconds: Double
    public var maxDownloads: Int
    public var retentionSeconds: Double
    public var scanRetrySeconds: Double

    public init(
        pollSeconds: Double = 2, exportAvailabilitySeconds: Double = 7 * 86_400, maxDownloads: Int = 3, retentionSeconds: Double = 30 * 86_400,
        scanRetrySeconds: Double = 600
    ) {
        self.pollSeconds = pollSeconds
        self.exportAvailabilitySeconds = exportAvailabilitySeconds
        self.maxDownloads = maxDownloads
        self.retentionSeconds = retentionSeconds
        self.scanRetrySeconds = scanRetrySeconds
    }
}

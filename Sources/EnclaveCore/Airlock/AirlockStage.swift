/// Where a request's bytes live on disk. Each stage is its own directory that only Enclave can read,
/// so the status and the place of the data cannot disagree: a file under review is never in the folder
/// a download reads from.
public enum AirlockStage: String, Sendable, Hashable, CaseIterable {
    case draft
    case inProgress = "in-progress"
    case approved, rejected, blocked

    /// The stage holding a request's data in this status; nil when the request keeps no data
    /// (cancelled, failed, revoked: the processor deletes it).
    public init?(holding status: AirlockStatus) {
        switch status {
        case .draft: self = .draft
        case .submitted, .inReview, .approvalInProgress, .rejectionInProgress, .blockingInProgress: self = .inProgress
        case .approved: self = .approved
        case .rejected: self = .rejected
        case .blockedByScan: self = .blocked
        case .cancelled, .failed, .revoked: return nil
        }
    }
}

/// Which stage a reader may read a request's files from, by role (reference §4.3 note: in review only
/// airlock managers and owners; otherwise the requester side), so previews and downloads follow one rule.
public enum AirlockFileAccess {
    /// nil when allowed; else why not (403).
    public static func readRefusal(_ request: AirlockRequest, by actor: Actor) -> String? {
        let roles = actor.workspaceRoles
        let requester = !roles.isDisjoint(with: [.owner, .researcher])
        let manager = roles.contains(.airlockManager)
        switch request.status {
        case .draft:
            if roles.contains(.owner) || request.createdBy.id == actor.user.id { return nil }
            return "Only the requester or a workspace owner can read the files of a draft"
        case .submitted, .approvalInProgress, .rejectionInProgress, .blockingInProgress:
            return "The request is being processed; its files can be read again when it is in review or decided"
        case .inReview:
            if manager || roles.contains(.owner) { return nil }
            return "Files of a request under review can be read by airlock managers and workspace owners only"
        case .approved:
            if request.type == .export {
                // An approved export leaves the workspace through its requester's download only.
                if request.createdBy.id == actor.user.id { return nil }
                return "An approved export can be downloaded only by its requester"
            }
            if requester { return nil }
            return "The files of an approved import are in the workspace's imports folder"
        case .rejected, .blockedByScan:
            if manager || roles.contains(.owner) { return nil }
            return "The files of a rejected or blocked request are kept for review by airlock managers and owners only"
        case .cancelled, .failed, .revoked:
            return "The request was \(request.status.rawValue); its files are no longer available"
        }
    }

    /// Whether the caller may add or remove files: only in a draft, by its requester or a workspace owner.
    public static func writeRefusal(_ request: AirlockRequest, by actor: Actor) -> String? {
        guard request.status == .draft else {
            return "Files can be added or removed only while the request is a draft (it is \(request.status.rawValue))"
        }
        if request.createdBy.id == actor.user.id, !actor.workspaceRoles.isDisjoint(with: [.owner, .researcher]) { return nil }
        if actor.workspaceRoles.contains(.owner) { return nil }
        return "Only the requester or a workspace owner can change this draft's files"
    }
}

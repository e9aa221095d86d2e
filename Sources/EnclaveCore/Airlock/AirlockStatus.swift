/// Azure TRE's airlock statuses, with their wire names, and the one table of legal transitions.
///
/// Every status change of every request goes through `AirlockStatus.canMove(to:)` (via
/// `AirlockRules.apply`), so the API, the scanner and the reviewers cannot disagree about what may
/// follow what.
public enum AirlockStatus: String, Codable, Sendable, Hashable, CaseIterable {
    case draft, submitted
    case inReview = "in_review"
    case approvalInProgress = "approval_in_progress"
    case approved
    case rejectionInProgress = "rejection_in_progress"
    case rejected
    case blockingInProgress = "blocking_in_progress"
    case blockedByScan = "blocked_by_scan"
    case cancelled, failed, revoked

    /// Azure TRE's `validate_status_update` table (reference §5.1).
    public var successors: Set<AirlockStatus> {
        switch self {
        case .draft: [.submitted, .cancelled, .failed]
        case .submitted: [.inReview, .blockingInProgress, .failed]
        case .inReview: [.approvalInProgress, .rejectionInProgress, .cancelled, .failed]
        case .approvalInProgress: [.approved, .failed]
        case .rejectionInProgress: [.rejected, .failed]
        case .blockingInProgress: [.blockedByScan, .failed]
        case .approved: [.revoked]
        case .rejected, .blockedByScan, .cancelled, .failed, .revoked: []
        }
    }

    public func canMove(to next: AirlockStatus) -> Bool { successors.contains(next) }

    public var isTerminal: Bool { successors.isEmpty }

    /// Files may be added or removed only while the request is a draft; afterwards they are immutable.
    public var filesAreMutable: Bool { self == .draft }
}

/// `import` brings data into a workspace, `export` takes it out.
public enum AirlockRequestType: String, Codable, Sendable, Hashable, CaseIterable {
    case `import`, export
}

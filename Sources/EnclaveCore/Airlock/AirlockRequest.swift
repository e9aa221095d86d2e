/// An airlock request (Azure TRE's `AirlockRequest`, reference §2.7) with Enclave's additions: many
/// files with checksums, and several reviewers' votes.
public struct AirlockRequest: Codable, Sendable, Hashable {
    public var id: String
    public var workspaceId: String
    public var type: AirlockRequestType
    public var title: String
    public var businessJustification: String
    public var status: AirlockStatus
    /// Why the request is where it is (a scan verdict, a failure), for people.
    public var statusMessage: String?
    public var files: [AirlockFile]
    public var createdBy: User
    public var createdWhen: Double
    public var updatedBy: User
    public var updatedWhen: Double
    /// Incremented on every change (Azure TRE's `resourceVersion`).
    public var resourceVersion: Int
    public var history: [AirlockHistoryItem]
    public var reviews: [AirlockReview]
    /// Approvals this request needs, fixed at submit from the workspace's `airlock_required_approvals`.
    public var requiredApprovals: Int?
    /// The output checks' parameters, fixed at submit from the workspace's settings (exports).
    public var checkParameters: OutputCheckParameters?
    /// Approved exports: how often the requester has downloaded, and until when downloads are open.
    public var downloadCount: Int?
    public var availableUntil: Double?
    /// When Enclave deleted the request's data (retention, cancel, revoke, expiry), for proof of deletion.
    public var dataDeletedWhen: Double?

    public init(
        id: String, workspaceId: String, type: AirlockRequestType, title: String?, businessJustification: String?, createdBy: User,
        now: Double
    ) {
        self.id = id
        self.workspaceId = workspaceId
        self.type = type
        self.title = title ?? "Airlock Request"
        self.businessJustification = businessJustification ?? "Business Justification(s)"
        self.status = .draft
        self.files = []
        self.createdBy = createdBy
        self.createdWhen = now
        self.updatedBy = createdBy
        self.updatedWhen = now
        self.resourceVersion = 0
        self.history = []
        self.reviews = []
    }
}

/// One file of a request; `sha256` is computed while the bytes stream in and never changes after submit.
public struct AirlockFile: Codable, Sendable, Hashable {
    public var name: String
    public var size: Int
    public var sha256: String
    /// The malware scan's verdict once scanned: `clean`, or what was found or why it could not be scanned.
    public var scanResult: String?
    /// Where the bytes came from when not uploaded from outside: `shared/…` or `home/<user>/…` in workspace
    /// storage, or `workspace network` for an upload from inside the workspace (the workspace listener).
    public var source: String?
    /// Automated output checks (exports), run after the scan.
    public var checks: [OutputCheckResult]?

    public init(name: String, size: Int, sha256: String) {
        self.name = name
        self.size = size
        self.sha256 = sha256
    }
}

/// A status change, as Azure TRE records it (`properties.previousStatus`).
public struct AirlockHistoryItem: Codable, Sendable, Hashable {
    public var resourceVersion: Int
    public var updatedWhen: Double
    public var updatedBy: User
    public var previousStatus: AirlockStatus
    public var status: AirlockStatus

    public init(resourceVersion: Int, updatedWhen: Double, updatedBy: User, previousStatus: AirlockStatus, status: AirlockStatus) {
        self.resourceVersion = resourceVersion
        self.updatedWhen = updatedWhen
        self.updatedBy = updatedBy
        self.previousStatus = previousStatus
        self.status = status
    }
}

public enum AirlockReviewDecision: String, Codable, Sendable, Hashable {
    case approved, rejected, revoked
}

/// A reviewer's vote (or a revocation), with the explanation people will read.
public struct AirlockReview: Codable, Sendable, Hashable {
    public var id: String
    public var reviewer: User
    public var dateCreated: Double
    public var reviewDecision: AirlockReviewDecision
    public var decisionExplanation: String

    public init(id: String, reviewer: User, dateCreated: Double, reviewDecision: AirlockReviewDecision, decisionExplanation: String) {
        self.id = id
        self.reviewer = reviewer
        self.dateCreated = dateCreated
        self.reviewDecision = reviewDecision
        self.decisionExplanation = decisionExplanation
    }
}

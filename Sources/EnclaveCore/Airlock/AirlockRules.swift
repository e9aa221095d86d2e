/// What can happen to an airlock request.
public enum AirlockEvent: Sendable, Hashable {
    /// The requester (owner or researcher) submits the draft; it needs at least one file.
    case submit
    /// The requester cancels before a decision (from `draft` or `in_review`).
    case cancel
    /// The malware scan (and, for exports, the output checks) found nothing: the request waits for review.
    case scanClean
    /// The scan found a threat, or could not scan (fail closed): the request is blocked with this verdict.
    case scanBlocked(verdict: String)
    /// A reviewer's vote.
    case vote(approve: Bool, explanation: String)
    /// An airlock manager withdraws an approval; downloads stop.
    case revoke(reason: String)
    /// Enclave finished moving the files to the decided stage (`*_in_progress` → final status).
    case stageCompleted
    /// Enclave could not continue (the reason is shown as the status message).
    case fail(reason: String)
    /// The workspace chose `auto_reject` and an output check failed hard: Enclave rejects a request in
    /// review on its own, recording the reason as a review.
    case autoReject(reason: String)
}

/// Who may review, and how many approvals a request needs (`airlock_required_approvals`, default 1).
public struct AirlockReviewPolicy: Sendable, Hashable {
    public var requiredApprovals: Int

    public init(requiredApprovals: Int = 1) {
        self.requiredApprovals = max(1, requiredApprovals)
    }
}

/// The one transition function of the airlock: every change a person or Enclave makes goes through
/// `apply`, which checks the status table, who is acting and the review rules, and returns the new
/// request (history and version included) or a 400/403/409 saying why nothing changed.
public enum AirlockRules {
    /// Azure TRE's message for a transition the table forbids (its clients match on it).
    public static let illegalTransition = "Airlock request status change was illegal"

    public static func apply(
        _ event: AirlockEvent, to request: AirlockRequest, by actor: Actor, policy: AirlockReviewPolicy = .init(), reviewId: String = "",
        now: Double
    ) throws(EnclaveError) -> AirlockRequest {
        var next = request
        switch event {
        case .submit:
            try requireRequester(actor)
            guard request.status == .draft else { throw .badRequest(illegalTransition) }
            if let refusal = AirlockFileAccess.writeRefusal(request, by: actor) { throw .forbidden(refusal) }
            guard !request.files.isEmpty else {
                throw .badRequest("The request has no files: upload at least one before submitting")
            }
            try move(&next, to: .submitted, by: actor.user, now: now)
        case .cancel:
            try requireRequester(actor)
            guard mayCancel(request, actor) else { throw .forbidden("Only the requester or a workspace owner can cancel this request") }
            guard request.status == .draft || request.status == .inReview else { throw .badRequest(illegalTransition) }
            try move(&next, to: .cancelled, by: actor.user, now: now)
        case .scanClean:
            try move(&next, to: .inReview, by: actor.user, now: now)
        case .scanBlocked(let verdict):
            try move(&next, to: .blockingInProgress, by: actor.user, now: now)
            next.statusMessage = verdict
        case .vote(let approve, let explanation):
            try vote(&next, approve: approve, explanation: explanation, by: actor, policy: policy, reviewId: reviewId, now: now)
        case .revoke(let reason):
            guard actor.workspaceRoles.contains(.airlockManager) else {
                throw .forbidden("Only an airlock manager of this workspace can revoke a request")
            }
            guard !reason.allSatisfy(\.isWhitespace) else { throw .badRequest("A revocation needs a reason") }
            try move(&next, to: .revoked, by: actor.user, now: now)
            next.reviews.append(
                AirlockReview(id: reviewId, reviewer: actor.user, dateCreated: now, reviewDecision: .revoked, decisionExplanation: reason))
        case .stageCompleted:
            let final: AirlockStatus
            switch request.status {
            case .approvalInProgress: final = .approved
            case .rejectionInProgress: final = .rejected
            case .blockingInProgress: final = .blockedByScan
            default: throw .badRequest(illegalTransition)
            }
            try move(&next, to: final, by: actor.user, now: now)
        case .fail(let reason):
            try move(&next, to: .failed, by: actor.user, now: now)
            next.statusMessage = reason
        case .autoReject(let reason):
            guard request.status == .inReview else { throw .badRequest(illegalTransition) }
            next.reviews.append(
                AirlockReview(id: reviewId, reviewer: actor.user, dateCreated: now, reviewDecision: .rejected, decisionExplanation: reason))
            try move(&next, to: .rejectionInProgress, by: actor.user, now: now)
            next.statusMessage = reason
        }
        return next
    }

    /// Votes: airlock managers only, never on their own request, once each; any rejection rejects at
    /// once; approval needs `requiredApprovals` distinct approvers.
    static func vote(
        _ request: inout AirlockRequest, approve: Bool, explanation: String, by actor: Actor, policy: AirlockReviewPolicy,
        reviewId: String, now: Double
    ) throws(EnclaveError) {
        guard actor.workspaceRoles.contains(.airlockManager) else {
            throw .forbidden("Only an airlock manager of this workspace can review a request")
        }
        guard request.status == .inReview else { throw .badRequest(illegalTransition) }
        guard request.createdBy.id != actor.user.id else {
            throw .forbidden("You cannot review your own request: another airlock manager must")
        }
        guard !request.reviews.contains(where: { $0.reviewer.id == actor.user.id && $0.reviewDecision != .revoked }) else {
            throw .conflict("You have already reviewed this request: each reviewer votes once")
        }
        guard !explanation.allSatisfy(\.isWhitespace) else { throw .badRequest("A review needs an explanation (decisionExplanation)") }
        request.reviews.append(
            AirlockReview(
                id: reviewId, reviewer: actor.user, dateCreated: now, reviewDecision: approve ? .approved : .rejected,
                decisionExplanation: explanation))
        if !approve {
            try move(&request, to: .rejectionInProgress, by: actor.user, now: now)
        } else if approvals(request) >= policy.requiredApprovals {
            try move(&request, to: .approvalInProgress, by: actor.user, now: now)
        } else {
            request.resourceVersion += 1
            request.updatedBy = actor.user
            request.updatedWhen = now
        }
    }

    public static func approvals(_ request: AirlockRequest) -> Int {
        Set(request.reviews.filter { $0.reviewDecision == .approved }.map(\.reviewer.id)).count
    }

    /// A request is cancelled by the person who made it or by a workspace owner, never by another researcher.
    static func mayCancel(_ request: AirlockRequest, _ actor: Actor) -> Bool {
        request.createdBy.id == actor.user.id || actor.workspaceRoles.contains(.owner)
    }

    /// The requester side: workspace owners and researchers.
    static func requireRequester(_ actor: Actor) throws(EnclaveError) {
        guard !actor.workspaceRoles.isDisjoint(with: [.owner, .researcher]) else {
            throw .forbidden("Only a workspace owner or researcher can submit or cancel airlock requests")
        }
    }

    static func move(_ request: inout AirlockRequest, to status: AirlockStatus, by user: User, now: Double) throws(EnclaveError) {
        guard request.status.canMove(to: status) else { throw .badRequest(illegalTransition) }
        request.resourceVersion += 1
        request.history.append(
            AirlockHistoryItem(
                resourceVersion: request.resourceVersion, updatedWhen: now, updatedBy: user, previousStatus: request.status,
                status: status))
        request.status = status
        request.updatedBy = user
        request.updatedWhen = now
    }

    /// Azure TRE's `allowedUserActions`: what this caller could do next (`review`, `cancel`, `submit`,
    /// `revoke`), so a client can show only the buttons that will work: each entry passes the same checks
    /// `apply` makes (another researcher of the workspace is offered neither submit nor cancel of your draft).
    public static func allowedUserActions(_ request: AirlockRequest, for actor: Actor) -> [String] {
        var actions: [String] = []
        let requester = !actor.workspaceRoles.isDisjoint(with: [.owner, .researcher])
        let manager = actor.workspaceRoles.contains(.airlockManager)
        if manager, request.status == .inReview, request.createdBy.id != actor.user.id,
            !request.reviews.contains(where: { $0.reviewer.id == actor.user.id })
        {
            actions.append("review")
        }
        if requester, request.status == .draft || request.status == .inReview, mayCancel(request, actor) { actions.append("cancel") }
        if requester, request.status == .draft, AirlockFileAccess.writeRefusal(request, by: actor) == nil { actions.append("submit") }
        if manager, request.status == .approved { actions.append("revoke") }
        return actions
    }

    /// The reviews a caller may see: votes stay hidden from other reviewers until the decision is made,
    /// so nobody is swayed by the first vote. The requester sees none until then either.
    public static func visibleReviews(_ request: AirlockRequest, to actor: Actor) -> [AirlockReview] {
        if request.status != .inReview { return request.reviews }
        return request.reviews.filter { $0.reviewer.id == actor.user.id }
    }
}

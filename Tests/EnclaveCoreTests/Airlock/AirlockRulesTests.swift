import EnclaveCore
import Testing

@Suite("Airlock rules")
struct AirlockRulesTests {
    let researcher = User(id: "r1", name: "Rita", email: "r@x", roles: ["TREUser"])
    let manager1 = User(id: "m1", name: "Mo", email: "m1@x", roles: ["TREUser"])
    let manager2 = User(id: "m2", name: "Mia", email: "m2@x", roles: ["TREUser"])
    let system = User(id: "system:enclave", name: "Enclave", email: "", roles: [])

    var requester: Actor { Actor(user: researcher, workspaceRoles: [.researcher]) }
    func manager(_ user: User) -> Actor { Actor(user: user, workspaceRoles: [.airlockManager]) }
    var enclave: Actor { Actor(user: system) }

    func draft(files: Int = 1) -> AirlockRequest {
        var request = AirlockRequest(
            id: "req", workspaceId: "ws", type: .import, title: nil, businessJustification: "study", createdBy: researcher, now: 0)
        request.files = (0..<files).map { AirlockFile(name: "f\($0).csv", size: 10, sha256: String(repeating: "0", count: 64)) }
        return request
    }

    func inReview() throws -> AirlockRequest {
        let submitted = try AirlockRules.apply(.submit, to: draft(), by: requester, now: 1)
        return try AirlockRules.apply(.scanClean, to: submitted, by: enclave, now: 2)
    }

    @Test("the transition table is exactly Azure TRE's", arguments: AirlockStatus.allCases)
    func table(from: AirlockStatus) {
        let expected: [AirlockStatus: Set<AirlockStatus>] = [
            .draft: [.submitted, .cancelled, .failed], .submitted: [.inReview, .blockingInProgress, .failed],
            .inReview: [.approvalInProgress, .rejectionInProgress, .cancelled, .failed], .approvalInProgress: [.approved, .failed],
            .rejectionInProgress: [.rejected, .failed], .blockingInProgress: [.blockedByScan, .failed], .approved: [.revoked],
        ]
        for to in AirlockStatus.allCases {
            #expect(from.canMove(to: to) == (expected[from]?.contains(to) ?? false), "\(from) → \(to)")
        }
        #expect(AirlockStatus(rawValue: "blocked_by_scan") == .blockedByScan)
    }

    @Test("import flow: submit, clean scan, one approval (default policy), files moved; history and version grow")
    func happyPath() throws {
        var request = try inReview()
        request = try AirlockRules.apply(.vote(approve: true, explanation: "fine"), to: request, by: manager(manager1), now: 3)
        #expect(request.status == .approvalInProgress)
        request = try AirlockRules.apply(.stageCompleted, to: request, by: enclave, now: 4)
        #expect(request.status == .approved)
        #expect(request.history.map(\.previousStatus) == [.draft, .submitted, .inReview, .approvalInProgress])
        #expect(request.resourceVersion == 4)
        request = try AirlockRules.apply(.revoke(reason: "consent withdrawn"), to: request, by: manager(manager2), now: 5)
        #expect(request.status == .revoked && request.reviews.last?.reviewDecision == .revoked)
    }

    @Test("two-person review: the first approval waits, hidden from the other reviewer; the second approves")
    func twoApprovals() throws {
        let policy = AirlockReviewPolicy(requiredApprovals: 2)
        var request = try inReview()
        request = try AirlockRules.apply(.vote(approve: true, explanation: "ok"), to: request, by: manager(manager1), policy: policy, now: 3)
        #expect(request.status == .inReview && request.resourceVersion == 3)
        #expect(AirlockRules.visibleReviews(request, to: manager(manager2)).isEmpty)
        #expect(AirlockRules.visibleReviews(request, to: manager(manager1)).count == 1)
        #expect(AirlockRules.allowedUserActions(request, for: manager(manager1)) == [])
        #expect(AirlockRules.allowedUserActions(request, for: manager(manager2)) == ["review"])
        #expect(throws: EnclaveError.conflict("You have already reviewed this request: each reviewer votes once")) {
            try AirlockRules.apply(.vote(approve: true, explanation: "again"), to: request, by: manager(manager1), policy: policy, now: 4)
        }
        request = try AirlockRules.apply(.vote(approve: true, explanation: "ok"), to: request, by: manager(manager2), policy: policy, now: 5)
        #expect(request.status == .approvalInProgress)
        #expect(AirlockRules.visibleReviews(request, to: requester).count == 2)
    }

    @Test("any rejection rejects, even after an approval")
    func rejectionWins() throws {
        let policy = AirlockReviewPolicy(requiredApprovals: 2)
        var request = try inReview()
        request = try AirlockRules.apply(.vote(approve: true, explanation: "ok"), to: request, by: manager(manager1), policy: policy, now: 3)
        request = try AirlockRules.apply(.vote(approve: false, explanation: "small cells"), to: request, by: manager(manager2), policy: policy, now: 4)
        #expect(request.status == .rejectionInProgress)
        #expect(try AirlockRules.apply(.stageCompleted, to: request, by: enclave, now: 5).status == .rejected)
    }

    @Test("refusals: own request, not a manager, no explanation, empty submit, wrong state; nothing changes")
    func refusals() throws {
        let review = try inReview()
        let selfReviewer = Actor(user: researcher, workspaceRoles: [.researcher, .airlockManager])
        #expect(throws: EnclaveError.forbidden("You cannot review your own request: another airlock manager must")) {
            try AirlockRules.apply(.vote(approve: true, explanation: "mine"), to: review, by: selfReviewer, now: 3)
        }
        #expect(throws: EnclaveError.self) { try AirlockRules.apply(.vote(approve: true, explanation: "x"), to: review, by: requester, now: 3) }
        #expect(throws: EnclaveError.badRequest("A review needs an explanation (decisionExplanation)")) {
            try AirlockRules.apply(.vote(approve: true, explanation: "  "), to: review, by: manager(manager1), now: 3)
        }
        #expect(throws: EnclaveError.badRequest("The request has no files: upload at least one before submitting")) {
            try AirlockRules.apply(.submit, to: draft(files: 0), by: requester, now: 1)
        }
        #expect(throws: EnclaveError.badRequest(AirlockRules.illegalTransition)) {
            try AirlockRules.apply(.submit, to: review, by: requester, now: 3)
        }
        #expect(throws: EnclaveError.badRequest(AirlockRules.illegalTransition)) {
            try AirlockRules.apply(.revoke(reason: "x"), to: review, by: manager(manager1), now: 3)
        }
        #expect(throws: EnclaveError.self) { try AirlockRules.apply(.cancel, to: review, by: manager(manager1), now: 3) }
    }

    @Test("scan verdicts: a threat (or a scanner that could not scan) blocks with the verdict as the message")
    func blocked() throws {
        let submitted = try AirlockRules.apply(.submit, to: draft(), by: requester, now: 1)
        var request = try AirlockRules.apply(.scanBlocked(verdict: "Eicar-Signature FOUND in f0.csv"), to: submitted, by: enclave, now: 2)
        #expect(request.status == .blockingInProgress && request.statusMessage == "Eicar-Signature FOUND in f0.csv")
        request = try AirlockRules.apply(.stageCompleted, to: request, by: enclave, now: 3)
        #expect(request.status == .blockedByScan && request.status.isTerminal)
        #expect(throws: EnclaveError.self) { try AirlockRules.apply(.fail(reason: "x"), to: request, by: enclave, now: 4) }
    }

    @Test("cancel before a decision only; allowed actions follow the status and the role")
    func cancelAndActions() throws {
        #expect(AirlockRules.allowedUserActions(draft(), for: requester) == ["cancel", "submit"])
        #expect(try AirlockRules.apply(.cancel, to: inReview(), by: requester, now: 3).status == .cancelled)
        let submitted = try AirlockRules.apply(.submit, to: draft(), by: requester, now: 1)
        #expect(throws: EnclaveError.badRequest(AirlockRules.illegalTransition)) {
            try AirlockRules.apply(.cancel, to: submitted, by: requester, now: 2)
        }
        #expect(AirlockRules.allowedUserActions(submitted, for: requester) == [])
    }

    @Test("another researcher is neither offered nor allowed submit or cancel of someone's draft; a workspace owner may cancel")
    func onlyTheRequesterOrAnOwnerActsOnADraft() throws {
        let colleague = Actor(user: User(id: "r2", name: "Rob", email: "r2@x", roles: ["TREUser"]), workspaceRoles: [.researcher])
        let owner = Actor(user: User(id: "o1", name: "Olga", email: "o@x", roles: ["TREUser"]), workspaceRoles: [.owner])
        #expect(AirlockRules.allowedUserActions(draft(), for: colleague) == [])
        #expect(throws: EnclaveError.forbidden("Only the requester or a workspace owner can change this draft's files")) {
            try AirlockRules.apply(.submit, to: draft(), by: colleague, now: 1)
        }
        #expect(throws: EnclaveError.forbidden("Only the requester or a workspace owner can cancel this request")) {
            try AirlockRules.apply(.cancel, to: draft(), by: colleague, now: 1)
        }
        #expect(AirlockRules.allowedUserActions(draft(), for: owner) == ["cancel", "submit"])
        #expect(try AirlockRules.apply(.cancel, to: draft(), by: owner, now: 1).status == .cancelled)
    }

    @Test(
        "file names that could leave the request's folder or hide in a terminal are refused",
        arguments: ["", ".", "..", "../x", "a/b", "a\\b", "a\u{0}b", "tab\there", "esc\u{1b}[31m", "-rf", " lead", "trail ",
                    String(repeating: "é", count: 128)])
    func badNames(_ name: String) {
        #expect(AirlockFileName.problem(name) != nil, "\(name.debugDescription)")
    }

    @Test("ordinary file names pass", arguments: ["results.csv", "Table 1 (final).xlsx", "données-été.txt", "a.b.c", String(repeating: "a", count: 255)])
    func goodNames(_ name: String) {
        #expect(AirlockFileName.problem(name) == nil)
    }
}

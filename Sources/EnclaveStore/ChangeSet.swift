public import EnclaveCore

/// A description of changes the store applies in one transaction.
///
/// Handlers and the engine compute new states with pure rules and describe them here, so no request
/// can leave a resource updated without its operation, or an operation without its queued step.
public struct ChangeSet: Sendable {
    /// New resources (version 0).
    public var insertResources: [Resource] = []
    /// Updated resources. The store checks `expectedEtag` (nil = unconditional), saves the previous state as
    /// a history item when `recordHistory`, and writes the new state as given (callers bump version and etag).
    public var updateResources: [ResourceUpdate] = []
    public var insertOperations: [ResourceOperation] = []
    public var updateOperations: [ResourceOperation] = []
    public var enqueue: [QueuedStep] = []
    /// Jobs this change finishes; each must still be leased by `workerId` (or, with `workerId` nil, be expired).
    public var completeJobs: [JobCompletion] = []
    /// Jobs that must still be leased by the given worker for the change to apply (nothing is removed).
    public var requireLeases: [JobCompletion] = []
    /// Sealed secret values per resource id, replacing what was stored before.
    public var putSecrets: [String: String] = [:]
    /// Workspace role assignments created with the change (a new workspace's owner, or an admin's assignment).
    /// Assigning a role already held is not an error.
    public var assignRoles: [RoleAssignment] = []
    /// Workspace role assignments removed with the change; each must exist, or the whole change fails with 404.
    public var unassignRoles: [RoleAssignment] = []
    /// Audit records describing this change, appended to the chain in the same transaction, after everything else
    /// has applied: nothing is audited that did not happen, and nothing happens that is not audited.
    public var appendAudit: [AuditEntry] = []

    public init() {}

    public var isEmpty: Bool {
        insertResources.isEmpty && updateResources.isEmpty && insertOperations.isEmpty && updateOperations.isEmpty
            && enqueue.isEmpty && completeJobs.isEmpty && requireLeases.isEmpty && putSecrets.isEmpty
            && assignRoles.isEmpty && unassignRoles.isEmpty && appendAudit.isEmpty
    }
}

public struct ResourceUpdate: Sendable {
    public var resource: Resource
    public var expectedEtag: String?
    public var recordHistory: Bool
    public var historyId: String

    public init(resource: Resource, expectedEtag: String?, recordHistory: Bool, historyId: String) {
        self.resource = resource
        self.expectedEtag = expectedEtag
        self.recordHistory = recordHistory
        self.historyId = historyId
    }
}

public struct JobCompletion: Sendable, Hashable {
    public var jobId: String
    /// The worker that holds the lease; nil when the reaper finishes a job whose lease expired.
    public var workerId: String?
    /// For the reaper: the lease must have expired before this time (so a worker that renewed in between wins).
    public var expiredBefore: Double?

    public init(jobId: String, workerId: String?, expiredBefore: Double? = nil) {
        self.jobId = jobId
        self.workerId = workerId
        self.expiredBefore = expiredBefore
    }
}

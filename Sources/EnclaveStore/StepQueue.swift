/// One operation step waiting for, or held by, a worker.
public struct QueuedStep: Sendable, Hashable {
    /// The step id (`OperationStep.id`).
    public var id: String
    public var operationId: String
    /// The resource the step changes; steps on the same resource run one at a time, in enqueue order.
    public var resourceId: String
    public var enqueuedAt: Double

    public init(id: String, operationId: String, resourceId: String, enqueuedAt: Double) {
        self.id = id
        self.operationId = operationId
        self.resourceId = resourceId
        self.enqueuedAt = enqueuedAt
    }
}

/// A step a worker has claimed, with the lease it must keep renewing.
public struct ClaimedStep: Sendable, Hashable {
    public var id: String
    public var operationId: String
    public var resourceId: String
    /// 1 on the first run; higher when a step is retried after a lost worker.
    public var attempt: Int
    public var leaseExpires: Double
}

/// A running step whose worker stopped renewing its lease.
public struct ExpiredStep: Sendable, Hashable {
    public var id: String
    public var operationId: String
    public var resourceId: String
    public var attempt: Int
    public var leaseOwner: String
}

/// The operation-step work queue, with leases.
///
/// Engines differ in how they claim (`UPDATE … RETURNING` under SQLite's single writer, `FOR UPDATE SKIP
/// LOCKED` in PostgreSQL); the contract is the same: a step is held by at most one worker at a time, and
/// the next step of a resource is not handed out while an earlier one is queued or running.
public protocol StepQueue: Sendable {
    func claimNextStep(workerId: String, leaseSeconds: Double, now: Double) async throws -> ClaimedStep?
    /// Extends the lease; false when the worker no longer holds it (it must stop the step).
    func renewLease(jobId: String, workerId: String, leaseSeconds: Double, now: Double) async throws -> Bool
    func expiredSteps(now: Double) async throws -> [ExpiredStep]
    /// Puts an expired step back at its place in the queue; false if someone else already dealt with it.
    func requeueExpired(jobId: String, now: Double) async throws -> Bool
    /// Queue depth and the age of the oldest queued step, for health and metrics.
    func queueStats(now: Double) async throws -> QueueStats
}

public struct QueueStats: Sendable, Hashable {
    public var queued: Int
    public var running: Int
    public var oldestQueuedAgeSeconds: Double?

    public init(queued: Int, running: Int, oldestQueuedAgeSeconds: Double?) {
        self.queued = queued
        self.running = running
        self.oldestQueuedAgeSeconds = oldestQueuedAgeSeconds
    }
}

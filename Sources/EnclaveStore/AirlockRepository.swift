public import EnclaveCore

/// Airlock requests (Azure TRE's `Requests` container).
///
/// Every change is a read-modify-write inside one write transaction (`modifyAirlockRequest`), so two
/// reviewers voting at once, or a reviewer and the processor, can never both act on the same version:
/// the second sees the first's result and `AirlockRules` decides again.
public protocol AirlockRepository: Sendable {
    /// Stores a new request with its audit record in one transaction.
    func createAirlockRequest(_ request: AirlockRequest, audit: [AuditEntry]) async throws
    func airlockRequest(id: String) async throws -> AirlockRequest?
    /// Requests matching the filter, in the filter's order.
    func airlockRequests(_ filter: AirlockRequestFilter) async throws -> [AirlockRequest]
    /// Reads the request, applies `change` and writes the result and the change's audit records in one
    /// IMMEDIATE transaction. `change` returning nil writes nothing (and no audit).
    ///
    /// - Returns: the request as stored afterwards.
    /// - Throws: 404 when there is no such request; whatever `change` throws, and then nothing is written.
    func modifyAirlockRequest(
        id: String, _ change: @escaping @Sendable (AirlockRequest) throws -> AirlockChange?
    ) async throws -> AirlockRequest
}

/// What `modifyAirlockRequest` writes.
public struct AirlockChange: Sendable {
    public var request: AirlockRequest
    public var audit: [AuditEntry]

    public init(request: AirlockRequest, audit: [AuditEntry] = []) {
        self.request = request
        self.audit = audit
    }
}

/// Which requests to list (Azure TRE's query parameters, plus the processor's needs).
public struct AirlockRequestFilter: Sendable, Hashable {
    /// Only these workspaces; nil: every workspace.
    public var workspaceIds: [String]?
    public var creatorId: String?
    public var type: AirlockRequestType?
    public var statuses: [AirlockStatus]?
    /// Field to order by (`createdWhen`, `updatedWhen`, `status`, `type`, `title`); default `createdWhen`.
    public var orderBy: AirlockOrder
    public var ascending: Bool

    public init(
        workspaceIds: [String]? = nil, creatorId: String? = nil, type: AirlockRequestType? = nil, statuses: [AirlockStatus]? = nil,
        orderBy: AirlockOrder = .createdWhen, ascending: Bool = true
    ) {
        self.workspaceIds = workspaceIds
        self.creatorId = creatorId
        self.type = type
        self.statuses = statuses
        self.orderBy = orderBy
        self.ascending = ascending
    }
}

/// The fields a list may be ordered by. Azure TRE appends `order_by` to its SQL as given; Enclave only
/// accepts these names, so the parameter cannot inject anything.
public enum AirlockOrder: String, Sendable, Hashable, CaseIterable {
    case createdWhen, updatedWhen, status, type, title
}

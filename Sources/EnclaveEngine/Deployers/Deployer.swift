public import EnclaveCore

/// One step of an operation handed to a deployer: everything it needs, with sensitive values unmasked.
///
/// The request is self-contained so a deployer never reads the store: the engine resolves the
/// template, the parent chain and the secrets before calling it.
public struct DeploymentRequest: Sendable, Hashable {
    public var operationId: String
    public var stepId: String
    /// `install`, `upgrade`, `uninstall` or a custom action name such as `start`.
    public var action: String
    public var resourceId: String
    public var resourceType: ResourceType
    public var templateName: String
    public var templateVersion: String
    /// The resource's properties (user input, system properties, earlier outputs), secrets unmasked.
    public var parameters: [String: JSONValue]
    public var workspaceId: String?
    public var parentWorkspaceServiceId: String?
    public var ownerId: String?

    public init(
        operationId: String, stepId: String, action: String, resourceId: String, resourceType: ResourceType,
        templateName: String, templateVersion: String, parameters: [String: JSONValue],
        workspaceId: String? = nil, parentWorkspaceServiceId: String? = nil, ownerId: String? = nil
    ) {
        self.operationId = operationId
        self.stepId = stepId
        self.action = action
        self.resourceId = resourceId
        self.resourceType = resourceType
        self.templateName = templateName
        self.templateVersion = templateVersion
        self.parameters = parameters
        self.workspaceId = workspaceId
        self.parentWorkspaceServiceId = parentWorkspaceServiceId
        self.ownerId = ownerId
    }
}

/// What a deployer reports when a step ends.
public struct DeploymentResult: Sendable, Hashable {
    public var succeeded: Bool
    /// Merged into the resource's `properties` when the step succeeded.
    public var outputs: [String: JSONValue]
    /// Shown as the step's message; on failure it carries the tail of the action's error output.
    public var message: String

    public init(succeeded: Bool, outputs: [String: JSONValue] = [:], message: String) {
        self.succeeded = succeeded
        self.outputs = outputs
        self.message = message
    }
}

/// Runs template actions. Implementations: `ExecDeployer` (child processes from bundle.yaml), later
/// the local data-plane and Kubernetes deployers.
///
/// A deployer must not throw for a failing action — it returns `succeeded: false` with a message.
/// Throwing means the deployer itself could not work (and the step fails with that error's text).
/// It must honour task cancellation by stopping the action it started.
public protocol Deployer: Sendable {
    /// A short name shown in `/api/health` ("exec").
    var name: String { get }

    /// Whether re-running this action after a lost worker is safe (bundle.yaml `idempotent: true`).
    func isIdempotent(templateName: String, templateVersion: String, action: String) -> Bool

    /// Whether this deployer has a bundle that implements the action at all.
    func supports(templateName: String, templateVersion: String, action: String) -> Bool

    /// Runs one step. `progress` updates the step's message while it runs (e.g. "installing tools 40%").
    func deploy(_ request: DeploymentRequest, progress: @escaping @Sendable (String) async -> Void) async throws
        -> DeploymentResult

    /// Reports the deployer's readiness for `/api/health`: nil when ready, else why not.
    func healthProblem() async -> String?

    /// Stops processes a lost worker's step left behind on this host (see the extension's default).
    func stopLeftovers(ofStep stepId: String) async -> Int
}

extension Deployer {
    /// Stops whatever a step left running on this host after its worker was lost (killed, crashed).
    ///
    /// The reaper calls this before it retries or fails the step, so a retry never runs beside an
    /// orphan of the first attempt. Returns how many processes were stopped. Deployers with nothing
    /// on this host to stop keep this default.
    public func stopLeftovers(ofStep stepId: String) async -> Int { 0 }
}

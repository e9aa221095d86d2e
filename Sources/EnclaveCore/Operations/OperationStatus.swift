/// Azure TRE's operation and step status strings, byte for byte: clients poll and match on them.
public enum OperationStatus: String, Codable, Sendable, Hashable, CaseIterable {
    case awaitingDeployment = "awaiting_deployment", deploying, deployed, deploymentFailed = "deployment_failed"
    case awaitingUpdate = "awaiting_update", updating, updated, updatingFailed = "updating_failed"
    case awaitingDeletion = "awaiting_deletion", deleting, deleted, deletingFailed = "deleting_failed"
    case awaitingAction = "awaiting_action", invokingAction = "invoking_action"
    case actionSucceeded = "action_succeeded", actionFailed = "action_failed"
    case pipelineRunning = "pipeline_running"

    /// Statuses of operations still in flight (`GET /api/operations` lists only these).
    public static let inFlight: Set<OperationStatus> = [
        .awaitingAction, .invokingAction, .awaitingDeployment, .deploying, .awaitingDeletion, .deleting,
        .awaitingUpdate, .updating, .pipelineRunning,
    ]

    public var isTerminal: Bool { !Self.inFlight.contains(self) }
    public var isFailure: Bool { [.deploymentFailed, .updatingFailed, .deletingFailed, .actionFailed].contains(self) }
}

/// What an operation does to its resource. Custom actions carry the template's action name.
public enum ResourceAction: Sendable, Hashable, CustomStringConvertible {
    case install, upgrade, uninstall
    case custom(String)

    public init(_ raw: String) {
        switch raw {
        case "install": self = .install
        case "upgrade": self = .upgrade
        case "uninstall": self = .uninstall
        default: self = .custom(raw)
        }
    }

    public var description: String {
        switch self {
        case .install: "install"
        case .upgrade: "upgrade"
        case .uninstall: "uninstall"
        case .custom(let name): name
        }
    }

    public var awaiting: OperationStatus {
        switch self {
        case .install: .awaitingDeployment
        case .upgrade: .awaitingUpdate
        case .uninstall: .awaitingDeletion
        case .custom: .awaitingAction
        }
    }

    public var running: OperationStatus {
        switch self {
        case .install: .deploying
        case .upgrade: .updating
        case .uninstall: .deleting
        case .custom: .invokingAction
        }
    }

    public var succeeded: OperationStatus {
        switch self {
        case .install: .deployed
        case .upgrade: .updated
        case .uninstall: .deleted
        case .custom: .actionSucceeded
        }
    }

    public var failed: OperationStatus {
        switch self {
        case .install: .deploymentFailed
        case .upgrade: .updatingFailed
        case .uninstall: .deletingFailed
        case .custom: .actionFailed
        }
    }

    /// Azure TRE's initial message (`OperationRepository.get_initial_status`).
    public var awaitingMessage: String {
        switch self {
        case .install: "This resource is waiting to be deployed"
        case .upgrade: "This resource is waiting to be updated"
        case .uninstall: "This resource is waiting to be deleted"
        case .custom: "This resource is waiting for an action to be invoked"
        }
    }
}

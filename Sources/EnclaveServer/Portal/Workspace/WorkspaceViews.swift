import EnclaveCore
import EnclavePortal
import Foundation

/// The rows the workspace, service and operations pages show, built from store records for one user.
/// Mustache has no logic, so every decision (may this user see a Connect button?) is made here as a value.
enum WorkspaceViews {
    struct Service {
        var id: String
        var name: String
        var description: String
        var templateName: String
        var templateVersion: String
        var status: String
        var statusClass: String
        var href: String
        var connectURL: String?
        var canManage: Bool
        var canAddUserResource: Bool
        var editHref: String
        var deleteHref: String
        var newUserResourceHref: String
    }

    struct UserResource {
        var id: String
        var name: String
        var serviceName: String
        var serviceHref: String
        var templateName: String
        var owner: String
        var status: String
        var statusClass: String
        var powerState: String?
        var connectURL: String?
        /// The form action prefix: `…/user-resources/{id}/actions/` + `start` or `stop`.
        var actionsPath: String
        var canStart: Bool
        var canStop: Bool
        var editHref: String
        var deleteHref: String
    }

    struct Operation {
        var id: String
        var title: String
        var status: String
        var statusText: String
        var statusClass: String
        var message: String
        var userName: String
        var created: String
        var createdISO: String
        var updated: String
        var href: String
        /// The JSON API URL `operations.js` polls while the operation runs (its `Location`).
        var pollURL: String
        var inFlight: Bool
        var steps: [Step]
    }

    struct Step {
        var title: String
        var resourceName: String
        var action: String
        var status: String
        var statusText: String
        var statusClass: String
        var message: String
        /// Mustache has no emptiness test for strings (and a nil value would be looked up in the enclosing
        /// operation instead), so the template asks this.
        var hasMessage: Bool
    }

    /// Statuses after which a resource is up (a Connect link may work).
    static let upStatuses: Set<String> = [
        OperationStatus.deployed.rawValue, OperationStatus.updated.rawValue, OperationStatus.actionSucceeded.rawValue,
    ]

    /// The gateway URL to open `resource` at: its `connection_uri`, shown only while it is deployed, enabled
    /// and not stopped, and only when it is an http(s) URL ending in the resource's own gateway path (a
    /// property edited to point elsewhere is not offered as Connect).
    static func connectURL(_ resource: Resource, parentsEnabled: Bool) -> String? {
        guard parentsEnabled, resource.isEnabled, let status = resource.deploymentStatus, upStatuses.contains(status),
            resource.azureStatus["powerState"]?.stringValue != "stopped",
            let uri = resource.properties[GatewayOutputs.connectionURI]?.stringValue,
            let path = GatewayOutputs.path(of: resource), uri.hasSuffix(path),
            uri.hasPrefix("/") || (SafeMarkdown.isSafeLinkTarget(uri) && !uri.lowercased().hasPrefix("mailto:"))
        else { return nil }
        return uri.hasPrefix("//") ? nil : uri
    }

    static func service(_ service: Resource, in contents: WorkspaceContents) -> Service {
        let base = "/workspaces/\(contents.workspace.id)/workspace-services/\(service.id)"
        let canConnect = contents.may(.connectWorkspaceService)
        return Service(
            id: service.id, name: PortalText.displayName(service), description: PortalText.description(service),
            templateName: service.templateName, templateVersion: service.templateVersion, status: PortalText.status(service),
            statusClass: PortalText.statusClass(service.deploymentStatus), href: base,
            connectURL: canConnect ? connectURL(service, parentsEnabled: contents.workspace.isEnabled) : nil,
            canManage: contents.may(.manageWorkspaceService), canAddUserResource: contents.may(.createUserResource),
            editHref: base + "/edit", deleteHref: base + "/delete", newUserResourceHref: base + "/user-resources/new")
    }

    /// - Parameters:
    ///   - actions: the custom actions each user-resource template version defines, by `name@version`.
    ///   - names: display names of users by id (owners see everyone's resources).
    static func userResource(
        _ resource: Resource, in contents: WorkspaceContents, actions: [String: Set<String>], names: [String: String]
    ) -> UserResource {
        let serviceId = resource.parentWorkspaceServiceId ?? ""
        let service = contents.services.first { $0.id == serviceId }
        let base = "/workspaces/\(contents.workspace.id)/workspace-services/\(serviceId)"
        let path = "\(base)/user-resources/\(resource.id)"
        let manage = contents.may(.manageUserResource, resourceOwnerId: resource.ownerId)
        let defined = actions["\(resource.templateName)@\(resource.templateVersion)"] ?? []
        let power = resource.azureStatus["powerState"]?.stringValue
        let settled = resource.deploymentStatus.flatMap(OperationStatus.init(rawValue:)).map { $0.isTerminal && !$0.isFailure } ?? false
        let usable = manage && settled && resource.isEnabled
        let parentsEnabled = contents.workspace.isEnabled && (service?.isEnabled ?? false)
        let owner = resource.ownerId.map { names[$0] ?? $0 } ?? ""
        return UserResource(
            id: resource.id, name: PortalText.displayName(resource), serviceName: service.map(PortalText.displayName) ?? "",
            serviceHref: base, templateName: resource.templateName, owner: owner, status: PortalText.status(resource),
            statusClass: PortalText.statusClass(resource.deploymentStatus), powerState: power,
            connectURL: contents.may(.connectUserResource, resourceOwnerId: resource.ownerId)
                ? connectURL(resource, parentsEnabled: parentsEnabled) : nil,
            actionsPath: path + "/actions/", canStart: usable && defined.contains("start") && power != "running",
            canStop: usable && defined.contains("stop") && power != "stopped", editHref: path + "/edit",
            deleteHref: path + "/delete")
    }

    /// - Parameter names: display names of the workspace's resources by id, for steps and titles.
    static func operation(_ op: ResourceOperation, workspaceId: String, names: [String: String]) -> Operation {
        let target = names[op.resourceId] ?? op.steps.first { $0.resourceId == op.resourceId }?.resourceTemplateName ?? "a deleted resource"
        return Operation(
            id: op.id, title: "\(actionWords(op.action)) \(target)", status: op.status.rawValue,
            statusText: statusWords(op.status.rawValue), statusClass: PortalText.statusClass(op.status.rawValue),
            message: op.message, userName: op.user.name.isEmpty ? op.user.id : op.user.name, created: PortalTime.utc(op.createdWhen),
            createdISO: PortalTime.iso(op.createdWhen), updated: PortalTime.utc(op.updatedWhen),
            href: "/workspaces/\(workspaceId)/operations/\(op.id)", pollURL: op.location, inFlight: !op.status.isTerminal,
            steps: op.steps.map { step in
                Step(
                    title: step.stepTitle, resourceName: names[step.resourceId] ?? step.resourceTemplateName,
                    action: step.resourceAction, status: step.status.rawValue, statusText: statusWords(step.status.rawValue),
                    statusClass: PortalText.statusClass(step.status.rawValue), message: step.message,
                    hasMessage: !step.message.isEmpty)
            })
    }

    static func statusWords(_ status: String) -> String { status.replacingOccurrences(of: "_", with: " ") }

    /// `install` → "Install", a custom action `start` → "Start".
    static func actionWords(_ action: String) -> String {
        action.prefix(1).uppercased() + action.dropFirst().replacingOccurrences(of: "_", with: " ")
    }
}

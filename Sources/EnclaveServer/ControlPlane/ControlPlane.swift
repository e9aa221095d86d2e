public import EnclaveCore
public import EnclaveEngine
public import EnclaveStore
import Foundation

/// Settings that shape what the API reports about itself and injects into resources.
public struct ControlPlaneSettings: Sendable {
    /// Azure TRE's `tre_id`: names this installation in system properties.
    public var treId: String
    /// The token audience; also every workspace's `scope_id`/`client_id` so Azure TRE clients find it.
    public var audience: String
    public var location: String

    public init(treId: String = "enclave", audience: String = "api://enclave", location: String = "local") {
        self.treId = treId
        self.audience = audience
        self.location = location
    }
}

/// The control plane's use cases: create, update, delete and act on resources, each as one atomic
/// change set (resource + history + operation + queued step), after every rule has been checked.
///
/// Handlers authorise and parse; this type validates against templates and decides what changes.
public struct ControlPlane: Sendable {
    public let store: any Store
    public let secrets: SecretBox
    public let signal: WorkSignal
    public let environment: EngineEnvironment
    public let settings: ControlPlaneSettings
    let versionCache = TemplateVersionCache()
    /// Compiled create-schemas by template id: a registered template's content never changes (only its
    /// `current` flag does), so a compiled schema stays right for as long as the process runs.
    let schemaCache = BoundedCache<String, JSONSchema>(capacity: 1_000)

    public init(
        store: any Store, secrets: SecretBox, signal: WorkSignal, environment: EngineEnvironment,
        settings: ControlPlaneSettings
    ) {
        self.store = store
        self.secrets = secrets
        self.signal = signal
        self.environment = environment
        self.settings = settings
    }

    var now: Double { environment.now() }
    func newId() -> String { environment.newId() }

    // MARK: Templates

    /// The current version of a template (or the given version); 404 when there is none.
    public func template(
        _ type: ResourceType, name: String, version: String? = nil, parent: String? = nil
    ) async throws -> ResourceTemplate {
        let all = try await store.templates(type: type, name: name, parent: type == .userResource ? parent : nil)
        let found = version.map { v in all.first { $0.version == v } } ?? all.first { $0.current }
        guard let found else {
            let what = version.map { "version \($0) of " } ?? ""
            throw EnclaveError.notFound("Could not retrieve \(what)the \(type.rawValue) template '\(name)': it is not registered")
        }
        return found
    }

    /// Registered versions newer than the resource's, flagging major upgrades as needing force.
    public func availableUpgrades(for resource: Resource) async throws -> [AvailableUpgrade] {
        let parentTemplate = try await parentServiceTemplateName(of: resource)
        let registered = try await versionCache.versions(
            type: resource.resourceType, name: resource.templateName, parent: parentTemplate
        ) {
            try await store.templateVersions(type: resource.resourceType, name: resource.templateName, parent: parentTemplate)
        }
        return SemanticVersion.availableUpgrades(from: resource.templateVersion, registered: registered)
    }

    func parentServiceTemplateName(of resource: Resource) async throws -> String? {
        guard resource.resourceType == .userResource, let svc = resource.parentWorkspaceServiceId else { return nil }
        return try await store.resourceIncludingDeleted(id: svc)?.templateName
    }

    func templateOf(_ resource: Resource) async throws -> ResourceTemplate {
        try await template(
            resource.resourceType, name: resource.templateName, version: resource.templateVersion,
            parent: try await parentServiceTemplateName(of: resource))
    }

    // MARK: Create

    /// Where a new resource goes: its parents, already loaded and checked to exist.
    public struct Placement: Sendable {
        public var workspace: Resource?
        public var service: Resource?
        public init(workspace: Resource? = nil, service: Resource? = nil) {
            self.workspace = workspace
            self.service = service
        }
    }

    /// The gateway's upstream and credential come only from deployer outputs: a caller who could set them
    /// could point the gateway anywhere the Enclave host reaches.
    static func refuseGatewayOutputs(_ names: some Sequence<String>) throws {
        if let name = names.first(where: { GatewayOutputs.sealed.contains($0) }) {
            throw EnclaveError.badRequest("Property '\(name)' is set by the service's deployer, not by callers: leave it out")
        }
    }

    public func create(
        _ type: ResourceType, templateName: String, properties input: [String: JSONValue], placement: Placement,
        actor: Actor, requestId: String?
    ) async throws -> ResourceOperation {
        let template: ResourceTemplate
        do {
            template = try await self.template(type, name: templateName, parent: placement.service?.templateName)
        } catch let error as EnclaveError where error.kind == .notFound {
            throw EnclaveError.badRequest(
                "Template '\(templateName)' is not registered as a \(type.rawValue) template\(placement.service.map { " under '\($0.templateName)'" } ?? ""): list the available ones with GET \(templateListPath(type, parent: placement.service?.templateName))")
        }
        guard Policy.mayUseTemplate(actor, authorizedRoles: template.authorizedRoles) else {
            throw EnclaveError.forbidden(
                "The user is not authorized to use template '\(templateName)': it requires one of the roles \(template.authorizedRoles)")
        }
        try Self.refuseGatewayOutputs(input.keys)
        try template.validateCreate(input, against: try compiledSchema(for: template))
        if let workspace = placement.workspace { try await requireDeployed(workspace, what: "Workspace") }
        if let service = placement.service { try await requireDeployed(service, what: "Workspace service") }

        let id = newId()
        let now = self.now
        var properties = template.applyingDefaults(to: input)
        properties["tre_id"] = .string(settings.treId)
        var ownerId: String?
        var assignments: [RoleAssignment] = []
        switch type {
        case .workspace:
            properties["workspace_id"] = .string(String(id.suffix(4)))
            properties["azure_location"] = .string(settings.location)
            properties["scope_id"] = .string(settings.audience)
            properties["client_id"] = .string(settings.audience)
            let owner = input["workspace_owner_object_id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? actor.user.id
            properties["workspace_owner_object_id"] = .string(owner)
            assignments.append(RoleAssignment(workspaceId: id, userId: owner, role: .owner))
        case .sharedService:
            properties["shared_service_id"] = .string(id)
            let existing = try await store.resources(ResourceFilter(type: .sharedService, templateName: templateName))
            if existing.contains(where: { $0.deploymentStatus != OperationStatus.deploymentFailed.rawValue }) {
                throw EnclaveError.conflict(
                    "A shared service from template '\(templateName)' already exists: shared services are singletons per template")
            }
        case .userResource:
            if input["assign_to_another_user"]?.boolValue == true, let other = input["owner_id"]?.stringValue, !other.isEmpty {
                ownerId = other
            } else {
                ownerId = actor.user.id
            }
            fallthrough
        case .workspaceService:
            if let ws = placement.workspace {
                properties["workspace_id"] = .string(String(ws.id.suffix(4)))
                if let sub = ws.properties["workspace_subscription_id"] { properties["workspace_subscription_id"] = sub }
            }
        }
        let sensitive = template.sensitivePropertyNames
        let secretValues = properties.filter { sensitive.contains($0.key) }
        properties = template.masked(properties)

        let path = Resource.path(type: type, id: id, workspaceId: placement.workspace?.id, serviceId: placement.service?.id)
        let resource = Resource(
            id: id, resourceType: type, templateName: template.name, templateVersion: template.version,
            properties: properties, isEnabled: true, deploymentStatus: OperationStatus.awaitingDeployment.rawValue,
            etag: newId(), resourcePath: path, resourceVersion: 0, user: actor.user, updatedWhen: now,
            workspaceId: placement.workspace?.id, parentWorkspaceServiceId: placement.service?.id, ownerId: ownerId,
            azureStatus: [:])

        var changes = ChangeSet()
        changes.insertResources = [resource]
        changes.assignRoles = assignments
        // The new workspace's owner is a role change like any other, so it gets its own record.
        changes.appendAudit = assignments.map {
            auditEntry(
                .roleAssign, actor: actor, target: path, requestId: requestId,
                details: ["role": .string($0.role.rawValue), "userIds": [.string($0.userId)]])
        }
        if !secretValues.isEmpty { changes.putSecrets[id] = try secrets.seal(secretValues) }
        let op = try await plan(.install, primary: resource, scope: [resource], templates: [resource.id: template], actor: actor)
        return try await submit(
            op, with: changes,
            audit: auditEntry(
                .resourceCreate, actor: actor, target: path, requestId: requestId,
                details: [
                    "resourceType": .string(type.rawValue), "templateName": .string(template.name),
                    "templateVersion": .string(template.version),
                ]))
    }

    func compiledSchema(for template: ResourceTemplate) throws -> JSONSchema {
        if let hit = schemaCache.value(for: template.id) { return hit }
        let compiled = try template.createSchema()
        schemaCache.set(compiled, for: template.id)
        return compiled
    }

    func templateListPath(_ type: ResourceType, parent: String?) -> String {
        switch type {
        case .workspace: "/api/workspace-templates"
        case .workspaceService: "/api/workspace-service-templates"
        case .userResource: "/api/workspace-service-templates/\(parent ?? "{service}")/user-resource-templates"
        case .sharedService: "/api/shared-service-templates"
        }
    }

    /// Children may be created only under a parent that has been deployed at least once (Azure TRE rule).
    func requireDeployed(_ parent: Resource, what: String) async throws {
        let ops = try await store.operations(resourceId: parent.id)
        let deployed = ops.contains {
            ($0.action == "install" && $0.status == .deployed) || ($0.action == "upgrade" && $0.status == .updated)
        }
        if !deployed || !parent.isEnabled {
            throw EnclaveError.conflict(
                "\(what) is not deployed. Wait until its deployment has finished (deploymentStatus 'deployed') and it is enabled.")
        }
    }

    // MARK: Update

    public struct Patch: Sendable, Decodable {
        public var isEnabled: Bool?
        public var properties: [String: JSONValue]?
        public var templateVersion: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case isEnabled, properties, templateVersion }

        /// A patch built in code (the portal's forms), with the same meaning as the JSON body.
        public init(isEnabled: Bool? = nil, properties: [String: JSONValue]? = nil, templateVersion: String? = nil) {
            self.isEnabled = isEnabled
            self.properties = properties
            self.templateVersion = templateVersion
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            let unknown = c.allKeys.map(\.stringValue).filter { key in !CodingKeys.allCases.contains { $0.rawValue == key } }
            if let first = unknown.sorted().first {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: [], debugDescription: "extra field '\(first)' is not permitted (allowed: isEnabled, properties, templateVersion)"))
            }
            let k = try decoder.container(keyedBy: CodingKeys.self)
            isEnabled = try k.decodeIfPresent(Bool.self, forKey: .isEnabled)
            properties = try k.decodeIfPresent([String: JSONValue].self, forKey: .properties)
            templateVersion = try k.decodeIfPresent(String.self, forKey: .templateVersion)
        }
    }

    public func update(
        _ resource: Resource, patch: Patch, etag: String, forceVersionUpdate: Bool, actor: Actor, requestId: String?
    ) async throws -> ResourceOperation {
        if etag != "*" && etag != resource.etag { throw EnclaveError.staleEtag }
        var template = try await templateOf(resource)
        var updated = resource
        var secretValues: [String: JSONValue] = [:]
        if let version = patch.templateVersion, version != resource.templateVersion {
            template = try await checkedUpgradeTarget(resource, to: version, force: forceVersionUpdate)
            updated.templateVersion = version
        }
        if let props = patch.properties, !props.isEmpty {
            try Self.refuseGatewayOutputs(props.keys)
            try template.validateUpdate(props, current: resource.properties)
            let sensitive = template.sensitivePropertyNames
            for (key, value) in props {
                if sensitive.contains(key) {
                    secretValues[key] = value
                    updated.properties[key] = .string("REDACTED")
                } else {
                    updated.properties[key] = value
                }
            }
        }
        if let enabled = patch.isEnabled { updated.isEnabled = enabled }
        let now = self.now
        updated.resourceVersion += 1
        updated.etag = newId()
        updated.updatedWhen = now
        updated.user = actor.user

        var changes = ChangeSet()
        changes.updateResources = [ResourceUpdate(resource: updated, expectedEtag: resource.etag, recordHistory: true, historyId: newId())]
        if !secretValues.isEmpty {
            var all = try await store.sealedSecrets(resourceId: resource.id).map { try secrets.open($0) } ?? [:]
            for (k, v) in secretValues { all[k] = v }
            changes.putSecrets[resource.id] = try secrets.seal(all)
        }
        var scope = [updated]
        var templates = [updated.id: template]
        // Disabling a workspace or service disables everything under it, in the same operation (children first).
        if patch.isEnabled == false, resource.resourceType == .workspace || resource.resourceType == .workspaceService {
            let descendants = try await descendants(of: resource)
            for var child in descendants {
                let before = child.etag
                if child.isEnabled {
                    child.isEnabled = false
                    child.resourceVersion += 1
                    child.etag = newId()
                    child.updatedWhen = now
                    child.user = actor.user
                    changes.updateResources.append(
                        ResourceUpdate(resource: child, expectedEtag: before, recordHistory: true, historyId: newId()))
                }
                templates[child.id] = try await templateOf(child)
                scope.append(child)
            }
            scope.sort { $0.depth > $1.depth }
        }
        let op = try await plan(.upgrade, primary: updated, scope: scope, templates: templates, actor: actor)
        // Property names only: values may be sensitive, and the resource's history keeps the non-sensitive ones.
        var details: [String: JSONValue] = ["resourceType": .string(resource.resourceType.rawValue)]
        if let enabled = patch.isEnabled { details["isEnabled"] = .bool(enabled) }
        if let props = patch.properties, !props.isEmpty { details["properties"] = .array(props.keys.sorted().map(JSONValue.string)) }
        if updated.templateVersion != resource.templateVersion {
            details["templateVersion"] = ["from": .string(resource.templateVersion), "to": .string(updated.templateVersion)]
        }
        if scope.count > 1 { details["cascade"] = .int(scope.count - 1) }
        return try await submit(
            op, with: changes,
            audit: auditEntry(.resourceUpdate, actor: actor, target: resource.resourcePath, requestId: requestId, details: details))
    }

    func checkedUpgradeTarget(_ resource: Resource, to version: String, force: Bool) async throws -> ResourceTemplate {
        let parent = try await parentServiceTemplateName(of: resource)
        let registered = try await store.templates(type: resource.resourceType, name: resource.templateName, parent: parent)
        try SemanticVersion.validateUpgrade(
            templateName: resource.templateName, resourceType: resource.resourceType, from: resource.templateVersion,
            to: version, registered: registered.map(\.version), force: force)
        guard let target = registered.first(where: { $0.version == version }) else {
            throw EnclaveError.badRequest("Template '\(resource.templateName)' has no version \(version)")
        }
        return target
    }

    // MARK: Delete

    public func delete(_ resource: Resource, actor: Actor, requestId: String?) async throws -> ResourceOperation {
        var scope = [resource]
        if resource.resourceType == .workspace || resource.resourceType == .workspaceService {
            scope += try await descendants(of: resource)
        }
        if scope.contains(where: \.isEnabled) {
            let noun: String
            switch resource.resourceType {
            case .workspace: noun = "The workspace needs"
            case .workspaceService: noun = "The workspace service needs"
            case .userResource: noun = "The resource needs"
            case .sharedService: noun = "The shared service needs"
            }
            let detail = resource.isEnabled
                ? "PATCH it with {\"isEnabled\": false} first"
                : "some resources inside it are still enabled; disable them first"
            throw EnclaveError.badRequest("\(noun) to be disabled before you can delete it: \(detail)")
        }
        scope.sort { $0.depth > $1.depth }
        var templates: [String: ResourceTemplate] = [:]
        for r in scope { templates[r.id] = try await templateOf(r) }
        let op = try await plan(.uninstall, primary: resource, scope: scope, templates: templates, actor: actor)
        var details: [String: JSONValue] = ["resourceType": .string(resource.resourceType.rawValue)]
        if scope.count > 1 { details["cascade"] = .int(scope.count - 1) }
        return try await submit(
            op, with: ChangeSet(),
            audit: auditEntry(.resourceDelete, actor: actor, target: resource.resourcePath, requestId: requestId, details: details))
    }

    // MARK: Custom actions

    public func invoke(_ resource: Resource, action: String, actor: Actor, requestId: String?) async throws
        -> ResourceOperation
    {
        let template = try await templateOf(resource)
        if template.customActions.isEmpty {
            throw EnclaveError.badRequest("Template '\(template.name)' defines no custom actions")
        }
        guard template.customActions.contains(where: { $0.name == action }) else {
            throw EnclaveError.badRequest(
                "Action '\(action)' is not defined by template '\(template.name)'; it defines: \(template.customActions.map(\.name).joined(separator: ", "))")
        }
        let op = try await plan(.custom(action), primary: resource, scope: [resource], templates: [resource.id: template], actor: actor)
        return try await submit(
            op, with: ChangeSet(),
            audit: auditEntry(
                .resourceAction, actor: actor, target: resource.resourcePath, requestId: requestId,
                details: ["resourceType": .string(resource.resourceType.rawValue), "action": .string(action)]))
    }

    // MARK: Shared plumbing

    /// Non-deleted resources under a workspace or service.
    public func descendants(of resource: Resource) async throws -> [Resource] {
        switch resource.resourceType {
        case .workspace:
            return try await store.resources(ResourceFilter(workspaceId: resource.id))
        case .workspaceService:
            return try await store.resources(ResourceFilter(type: .userResource, parentServiceId: resource.id))
        case .userResource, .sharedService:
            return []
        }
    }

    func plan(
        _ action: ResourceAction, primary: Resource, scope: [Resource], templates: [String: ResourceTemplate], actor: Actor
    ) async throws -> ResourceOperation {
        // Resolve every pipeline target first: the planner itself is pure and synchronous.
        var sharedByTemplate: [String: Resource] = [:]
        var parents: [String: Resource] = [:]
        for resource in scope {
            for spec in Self.pipelineSpecs(templates[resource.id], action: action) ?? [] where spec.stepId != "main" {
                switch spec.targetType {
                case .sharedService:
                    if let name = spec.targetTemplateName, sharedByTemplate[name] == nil {
                        sharedByTemplate[name] = try await store.resources(
                            ResourceFilter(type: .sharedService, templateName: name)
                        ).first { $0.deploymentStatus != OperationStatus.deploymentFailed.rawValue }
                    }
                case .workspace:
                    if let ws = resource.workspaceId { parents[ws] = try await store.resource(id: ws) }
                case .workspaceService:
                    if let svc = resource.parentWorkspaceServiceId { parents[svc] = try await store.resource(id: svc) }
                default:
                    break
                }
            }
        }
        let now = self.now
        return try OperationPlanner.plan(
            operationId: newId(), primary: primary, action: action, scope: scope,
            pipeline: { Self.pipelineSpecs(templates[$0.id], action: action) },
            resolveTarget: { resource, spec in
                switch spec.targetType {
                case .sharedService:
                    guard let name = spec.targetTemplateName, let target = sharedByTemplate[name] else {
                        throw EnclaveError.badRequest(
                            "Pipeline step '\(spec.stepId)' of template '\(resource.templateName)' updates the shared service '\(spec.targetTemplateName ?? "?")', which does not exist: create it first (POST /api/shared-services)")
                    }
                    return target
                case .workspace:
                    guard let id = resource.workspaceId, let target = parents[id] else {
                        throw EnclaveError.badRequest("Pipeline step '\(spec.stepId)' targets a parent workspace that \(resource.templateName) does not have")
                    }
                    return target
                case .workspaceService:
                    guard let id = resource.parentWorkspaceServiceId, let target = parents[id] else {
                        throw EnclaveError.badRequest("Pipeline step '\(spec.stepId)' targets a parent workspace service that \(resource.templateName) does not have")
                    }
                    return target
                default:
                    throw EnclaveError.badRequest("Pipeline step '\(spec.stepId)' has no usable resourceType")
                }
            },
            user: actor.user, now: now, newId: { newId() })
    }

    static func pipelineSpecs(_ template: ResourceTemplate?, action: ResourceAction) -> [PlannedStepSpec]? {
        guard let pipeline = template?.pipeline else { return nil }
        let steps: [PipelineStep]?
        switch action {
        case .install: steps = pipeline.install
        case .upgrade: steps = pipeline.upgrade
        case .uninstall: steps = pipeline.uninstall
        case .custom: steps = nil
        }
        return steps?.map { step in
            PlannedStepSpec(
                stepId: step.stepId, stepTitle: step.stepTitle ?? step.stepId,
                targetType: step.resourceType, targetTemplateName: step.resourceTemplateName,
                resourceAction: step.resourceAction, properties: step.properties ?? [])
        }
    }

    /// An audit record of something `actor` did now, during request `requestId`.
    func auditEntry(
        _ action: AuditAction, actor: Actor, target: String, requestId: String?, details: [String: JSONValue] = [:]
    ) -> AuditEntry {
        AuditEntry(
            id: newId(), time: now, actor: AuditActor(actor.user), action: action, target: target, outcome: .success,
            details: .object(details), requestId: requestId)
    }

    /// Commits the changes plus the operation, its first step and its audit record (which gains the operation id),
    /// then wakes the workers.
    func submit(_ op: ResourceOperation, with changes: ChangeSet, audit: AuditEntry) async throws -> ResourceOperation {
        var changes = changes
        var audit = audit
        if case .object(var details) = audit.details {
            details["operationId"] = .string(op.id)
            audit.details = .object(details)
        }
        changes.appendAudit.append(audit)
        changes.insertOperations.append(op)
        if let first = op.steps.first {
            changes.enqueue.append(QueuedStep(id: first.id, operationId: op.id, resourceId: first.resourceId, enqueuedAt: now))
        }
        try await store.commit(changes)
        signal.ring()
        return op
    }
}


struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

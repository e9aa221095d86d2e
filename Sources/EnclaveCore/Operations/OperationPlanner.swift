/// One step of a template's pipeline for one action, reduced to what planning needs.
public struct PlannedStepSpec: Sendable, Hashable {
    public var stepId: String
    public var stepTitle: String
    /// The kind of resource a non-`main` step targets (parent workspace, parent service, or a shared service).
    public var targetType: ResourceType?
    /// For shared-service targets: the template name that identifies the singleton.
    public var targetTemplateName: String?
    public var resourceAction: String?
    public var properties: [PipelineStepProperty]

    public init(
        stepId: String, stepTitle: String, targetType: ResourceType?, targetTemplateName: String?,
        resourceAction: String?, properties: [PipelineStepProperty]
    ) {
        self.stepId = stepId
        self.stepTitle = stepTitle
        self.targetType = targetType
        self.targetTemplateName = targetTemplateName
        self.resourceAction = resourceAction
        self.properties = properties
    }
}

/// Expands an action on one or more resources into an operation with ordered steps (Azure TRE
/// `create_operation_item`): each resource contributes its template's pipeline for the action, or a
/// single `main` step when it has none.
public enum OperationPlanner {
    /// - Parameters:
    ///   - scope: the resources the action applies to, in the order their steps must run (deepest first for
    ///     cascades); the primary resource is among them.
    ///   - pipeline: a resource's pipeline for the action, or nil/empty for a lone `main` step.
    ///   - resolveTarget: finds the resource a non-`main` step updates; throws a 400 when it does not exist.
    public static func plan(
        operationId: String, primary: Resource, action: ResourceAction, scope: [Resource],
        pipeline: (Resource) throws -> [PlannedStepSpec]?,
        resolveTarget: (Resource, PlannedStepSpec) throws -> Resource,
        user: User, now: Double, newId: () -> String
    ) throws -> ResourceOperation {
        var steps: [OperationStep] = []
        for resource in scope {
            let specs = try pipeline(resource) ?? []
            if specs.isEmpty {
                steps.append(mainStep(for: resource, action: action, now: now, id: newId()))
                continue
            }
            for spec in specs {
                if spec.stepId == "main" {
                    steps.append(mainStep(for: resource, action: action, now: now, id: newId()))
                } else {
                    let target = try resolveTarget(resource, spec)
                    let stepAction = ResourceAction(spec.resourceAction ?? "upgrade")
                    steps.append(
                        OperationStep(
                            id: newId(), templateStepId: spec.stepId, stepTitle: spec.stepTitle, resourceId: target.id,
                            resourceTemplateName: target.templateName, resourceType: target.resourceType,
                            resourceAction: stepAction.description, status: stepAction.awaiting,
                            message: stepAction.awaitingMessage, updatedWhen: now, sourceTemplateResourceId: resource.id,
                            properties: spec.properties))
                }
            }
        }
        return ResourceOperation(
            id: operationId, resourceId: primary.id, resourcePath: primary.resourcePath,
            resourceVersion: primary.resourceVersion, status: action.awaiting, action: action.description,
            message: action.awaitingMessage, createdWhen: now, updatedWhen: now, user: user, steps: steps)
    }

    static func mainStep(for resource: Resource, action: ResourceAction, now: Double, id: String) -> OperationStep {
        OperationStep(
            id: id, templateStepId: "main", stepTitle: "Main step for \(resource.id)", resourceId: resource.id,
            resourceTemplateName: resource.templateName, resourceType: resource.resourceType,
            resourceAction: action.description, status: action.awaiting, message: action.awaitingMessage,
            updatedWhen: now, sourceTemplateResourceId: resource.id)
    }
}

/// How an operation's overall status follows its steps (Azure TRE `deployment_status_updater`).
public enum OperationProgress {
    public static let pipelineRunningMessage = "Multi step pipeline running. See steps for details."
    public static let pipelineSucceededMessage = "Multi step pipeline completed successfully"

    /// The operation once step `index` has started running.
    public static func started(_ operation: ResourceOperation, step index: Int, now: Double) -> ResourceOperation {
        var op = operation
        let action = ResourceAction(op.steps[index].resourceAction)
        op.steps[index].status = action.running
        op.steps[index].message = "\(op.steps[index].resourceId): Job starting"
        op.steps[index].updatedWhen = now
        if op.steps.count == 1 {
            op.status = op.steps[index].status
            op.message = op.steps[index].message
        } else {
            op.status = .pipelineRunning
            op.message = pipelineRunningMessage
        }
        op.updatedWhen = now
        return op
    }

    /// Updates a running step's message (progress reported by the deployer).
    public static func progressed(_ operation: ResourceOperation, step index: Int, message: String, now: Double) -> ResourceOperation {
        var op = operation
        op.steps[index].message = message
        op.steps[index].updatedWhen = now
        if op.steps.count == 1 { op.message = message }
        op.updatedWhen = now
        return op
    }

    /// The operation once step `index` has ended; `next` is the step to run now, if any.
    public static func finished(
        _ operation: ResourceOperation, step index: Int, succeeded: Bool, message: String, now: Double
    ) -> (operation: ResourceOperation, next: Int?) {
        var op = operation
        let stepAction = ResourceAction(op.steps[index].resourceAction)
        let opAction = ResourceAction(op.action)
        op.steps[index].status = succeeded ? stepAction.succeeded : stepAction.failed
        op.steps[index].message = message
        op.steps[index].updatedWhen = now
        op.updatedWhen = now
        let single = op.steps.count == 1
        if !succeeded {
            op.status = single ? op.steps[index].status : opAction.failed
            op.message = single ? message : "Multi step pipeline failed on step \(op.steps[index].templateStepId)"
            return (op, nil)
        }
        if index + 1 < op.steps.count {
            op.status = .pipelineRunning
            op.message = pipelineRunningMessage
            return (op, index + 1)
        }
        op.status = single ? op.steps[index].status : opAction.succeeded
        op.message = single ? message : pipelineSucceededMessage
        return (op, nil)
    }
}

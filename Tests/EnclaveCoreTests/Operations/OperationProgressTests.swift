import EnclaveCore
import Testing

@Suite("Operations")
struct OperationProgressTests {
    let user = User(id: "u", name: "U", email: "u@x", roles: ["TREAdmin"])

    func resource(_ id: String, _ type: ResourceType = .workspace, template: String = "t") -> Resource {
        Resource(
            id: id, resourceType: type, templateName: template, templateVersion: "1.0.0", properties: [:], etag: "e",
            resourcePath: Resource.path(type: type, id: id, workspaceId: "ws"), user: user, updatedWhen: 0)
    }

    func plan(_ action: ResourceAction, specs: [PlannedStepSpec]? = nil, scope: [Resource]? = nil) throws -> ResourceOperation {
        let primary = resource("ws")
        var n = 0
        return try OperationPlanner.plan(
            operationId: "op", primary: primary, action: action, scope: scope ?? [primary],
            pipeline: { $0.id == "ws" ? specs : nil },
            resolveTarget: { _, spec in self.resource("fw", .sharedService, template: spec.targetTemplateName ?? "") },
            user: user, now: 1, newId: { n += 1; return "s\(n)" })
    }

    @Test("an action without a pipeline is one main step in the awaiting status")
    func singleStep() throws {
        let op = try plan(.install)
        #expect(op.steps.count == 1)
        #expect(op.steps[0].templateStepId == "main")
        #expect(op.status == .awaitingDeployment)
        #expect(op.message == "This resource is waiting to be deployed")
        #expect(op.location == "/api/workspaces/ws/operations/op")
    }

    @Test("a single-step operation copies its step's status and message")
    func singleStepFollowsStep() throws {
        var op = OperationProgress.started(try plan(.install), step: 0, now: 2)
        #expect(op.status == .deploying)
        let (done, next) = OperationProgress.finished(op, step: 0, succeeded: true, message: "ok", now: 3)
        #expect(next == nil)
        #expect(done.status == .deployed && done.message == "ok")
        op = OperationProgress.finished(op, step: 0, succeeded: false, message: "boom", now: 3).operation
        #expect(op.status == .deploymentFailed && op.message == "boom")
    }

    @Test("pipeline steps target the shared service and run in order; the operation is pipeline_running until the last")
    func pipeline() throws {
        let specs = [
            PlannedStepSpec(stepId: "main", stepTitle: "main", targetType: nil, targetTemplateName: nil, resourceAction: nil, properties: []),
            PlannedStepSpec(
                stepId: "fw", stepTitle: "Update firewall", targetType: .sharedService,
                targetTemplateName: "tre-shared-service-firewall", resourceAction: "upgrade", properties: []),
        ]
        var op = try plan(.install, specs: specs)
        #expect(op.steps.map(\.resourceId) == ["ws", "fw"])
        #expect(op.steps[1].resourceAction == "upgrade" && op.steps[1].status == .awaitingUpdate)
        op = OperationProgress.started(op, step: 0, now: 2)
        #expect(op.status == .pipelineRunning)
        var next: Int?
        (op, next) = OperationProgress.finished(op, step: 0, succeeded: true, message: "main ok", now: 3)
        #expect(next == 1 && op.status == .pipelineRunning)
        (op, next) = OperationProgress.finished(op, step: 1, succeeded: true, message: "fw ok", now: 4)
        #expect(next == nil && op.status == .deployed && op.message == "Multi step pipeline completed successfully")
    }

    @Test("a failed pipeline step fails the operation with the action's failure status, naming the step")
    func pipelineFailure() throws {
        let specs = [
            PlannedStepSpec(stepId: "main", stepTitle: "m", targetType: nil, targetTemplateName: nil, resourceAction: nil, properties: []),
            PlannedStepSpec(stepId: "fw-rules", stepTitle: "f", targetType: .sharedService, targetTemplateName: "fw", resourceAction: "upgrade", properties: []),
        ]
        let op = try plan(.install, specs: specs)
        let (failed, next) = OperationProgress.finished(op, step: 1, succeeded: false, message: "x", now: 2)
        #expect(next == nil)
        #expect(failed.status == .deploymentFailed)
        #expect(failed.message == "Multi step pipeline failed on step fw-rules")
        #expect(failed.steps[1].status == .updatingFailed)
    }

    @Test("a cascade puts one main step per resource in the given order")
    func cascade() throws {
        let scope = [resource("ur", .userResource), resource("svc", .workspaceService), resource("ws")]
        let op = try plan(.uninstall, scope: scope)
        #expect(op.steps.map(\.resourceId) == ["ur", "svc", "ws"])
        #expect(op.steps.allSatisfy { $0.status == .awaitingDeletion })
    }

    @Test("status strings are Azure TRE's, byte for byte")
    func statusStrings() {
        #expect(OperationStatus.allCases.map(\.rawValue).sorted() == [
            "action_failed", "action_succeeded", "awaiting_action", "awaiting_deletion", "awaiting_deployment",
            "awaiting_update", "deleted", "deleting", "deleting_failed", "deployed", "deploying", "deployment_failed",
            "invoking_action", "pipeline_running", "updated", "updating", "updating_failed",
        ])
    }
}

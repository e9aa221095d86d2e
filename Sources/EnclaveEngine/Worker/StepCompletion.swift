import EnclaveCore
import EnclaveStore
import Logging

/// Turns a step's result into the store changes that record it (Azure TRE's status update handling):
/// step and operation statuses, the resource's `deploymentStatus`, merged outputs, soft delete after a
/// successful uninstall, and the next step of the pipeline.
struct StepCompletion {
    let engine: Engine

    func changes(op operation: ResourceOperation, index: Int, result: DeploymentResult, job: JobCompletion) async throws -> ChangeSet {
        let now = engine.environment.now()
        let (op, next) = OperationProgress.finished(
            operation, step: index, succeeded: result.succeeded, message: result.message, now: now)
        var changes = ChangeSet()
        changes.completeJobs = [job]
        changes.updateOperations = [op]
        let step = op.steps[index]

        if var target = try await engine.store.resourceIncludingDeleted(id: step.resourceId) {
            let readEtag = target.etag
            target.deploymentStatus = step.status.rawValue
            if result.succeeded {
                // The gateway's upstream and credential are sealed with the resource's secrets, never shown.
                let gateway = result.outputs.filter { GatewayOutputs.sealed.contains($0.key) }
                if !gateway.isEmpty {
                    var all = try await engine.store.sealedSecrets(resourceId: target.id).map { try engine.secrets.open($0) } ?? [:]
                    for (name, value) in gateway { all[name] = value }
                    changes.putSecrets[target.id] = try engine.secrets.seal(all)
                    if gateway[GatewayOutputs.upstream] != nil, let path = GatewayOutputs.path(of: target) {
                        target.properties[GatewayOutputs.connectionURI] = .string(engine.configuration.publicURL + path)
                    }
                }
                for (name, value) in result.outputs where !GatewayOutputs.sealed.contains(name) { target.properties[name] = value }
                if let power = result.outputs["power_state"]?.stringValue {
                    target.azureStatus = ["powerState": .string(power)]
                }
            }
            target.etag = engine.environment.newId()
            changes.updateResources.append(
                ResourceUpdate(resource: target, expectedEtag: readEtag, recordHistory: false, historyId: ""))
        }
        // A failed pipeline marks its primary resource failed too, so the failure shows where users look.
        if !result.succeeded, op.steps.count > 1, op.resourceId != step.resourceId,
            var primary = try await engine.store.resourceIncludingDeleted(id: op.resourceId)
        {
            let readEtag = primary.etag
            primary.deploymentStatus = op.status.rawValue
            primary.etag = engine.environment.newId()
            changes.updateResources.append(
                ResourceUpdate(resource: primary, expectedEtag: readEtag, recordHistory: false, historyId: ""))
        }
        if let next {
            changes.enqueue = [
                QueuedStep(id: op.steps[next].id, operationId: op.id, resourceId: op.steps[next].resourceId, enqueuedAt: now)
            ]
        }
        return changes
    }
}

/// Recovers steps whose worker stopped renewing its lease: idempotent actions are retried, others failed
/// with a message saying the worker was lost. A step is never left `deploying` forever.
struct Reaper {
    let engine: Engine

    func reapExpired() async throws {
        let now = engine.environment.now()
        for expired in try await engine.store.expiredSteps(now: now) {
            guard let op = try await engine.store.operation(id: expired.operationId),
                let index = op.steps.firstIndex(where: { $0.id == expired.id })
            else { continue }
            let step = op.steps[index]
            let target = try await engine.store.resourceIncludingDeleted(id: step.resourceId)
            let idempotent = target.map {
                engine.deployer.isIdempotent(
                    templateName: $0.templateName, templateVersion: $0.templateVersion, action: step.resourceAction)
            } ?? false
            // Whatever the lost worker's step left running here must stop before anything else happens to it.
            _ = await engine.deployer.stopLeftovers(ofStep: expired.id)
            if idempotent && expired.attempt < engine.configuration.maxAttempts {
                if try await engine.store.requeueExpired(jobId: expired.id, now: now) {
                    engine.logger.warning(
                        "worker lost; retrying idempotent step",
                        metadata: ["step": "\(expired.id)", "lostWorker": "\(expired.leaseOwner)", "attempt": "\(expired.attempt)"])
                    engine.signal.ring()
                }
                continue
            }
            let reason =
                idempotent
                ? "The worker running this step (\(expired.leaseOwner)) was lost and the step already failed this way \(expired.attempt) times; it was not retried again."
                : "The worker running this step (\(expired.leaseOwner)) was lost before it finished. The '\(step.resourceAction)' action is not declared idempotent, so it was not retried: check the resource, then retry the operation."
            let changes = try await StepCompletion(engine: engine).changes(
                op: op, index: index, result: DeploymentResult(succeeded: false, message: reason),
                job: JobCompletion(jobId: expired.id, workerId: nil, expiredBefore: now))
            do {
                try await engine.store.commit(changes)  // a stale etag here just means: try again next round
                engine.logger.error("worker lost; step failed", metadata: ["step": "\(expired.id)", "lostWorker": "\(expired.leaseOwner)"])
            } catch StoreError.leaseLost {
                // Another reaper (or the worker itself, renewing just in time) got there first.
            }
        }
    }
}

import EnclaveCore
import EnclaveStore
import Logging
import Metrics
import ServiceLifecycle

/// One worker loop: claim a step, run it under a heartbeat-renewed lease, apply the result.
struct StepRunner: Sendable {
    let engine: Engine
    let workerId: String

    var store: any Store { engine.store }
    var now: Double { engine.environment.now() }
    var logger: Logger { engine.logger }

    func loop() async {
        engine.liveWorkers.increment()
        defer { engine.liveWorkers.decrement() }
        var lastReap = 0.0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if now - lastReap >= min(engine.configuration.leaseSeconds / 2, 5) {
                    lastReap = now
                    try await Reaper(engine: engine).reapExpired()
                }
                if let claimed = try await store.claimNextStep(
                    workerId: workerId, leaseSeconds: engine.configuration.leaseSeconds, now: now)
                {
                    await run(claimed)
                } else {
                    await engine.signal.wait(timeout: engine.configuration.pollInterval)
                }
            } catch {
                logger.error("worker loop error", metadata: ["worker": "\(workerId)", "error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Runs one claimed step to its end. Never throws: every failure becomes the step's failure.
    func run(_ claimed: ClaimedStep) async {
        let log = logger.with(["worker": "\(workerId)", "step": "\(claimed.id)", "operation": "\(claimed.operationId)"])
        do {
            guard var op = try await store.operation(id: claimed.operationId),
                let index = op.steps.firstIndex(where: { $0.id == claimed.id })
            else {
                log.warning("claimed step has no operation; dropping it")
                try await store.commit(completing(claimed))
                return
            }
            guard var target = try await store.resourceIncludingDeleted(id: op.steps[index].resourceId) else {
                try await finish(claimed, op: op, index: index, result: DeploymentResult(
                    succeeded: false, message: "The resource \(op.steps[index].resourceId) of this step no longer exists"))
                return
            }

            var start = ChangeSet()
            start.requireLeases = [JobCompletion(jobId: claimed.id, workerId: workerId)]
            // Pipeline steps update the target's properties before it runs (Azure TRE `update_resource_for_step`).
            if let props = op.steps[index].properties, !props.isEmpty {
                let context = try await substitutionContext(resourceId: op.steps[index].sourceTemplateResourceId)
                let before = target.etag
                for prop in props {
                    target.properties[prop.name] = PipelineSubstitution.newValue(
                        for: prop, context: context, current: target.properties[prop.name])
                }
                target.resourceVersion += 1
                target.updatedWhen = now
                target.user = op.user
                target.etag = engine.environment.newId()
                start.updateResources.append(
                    ResourceUpdate(resource: target, expectedEtag: before, recordHistory: true, historyId: engine.environment.newId()))
            }
            op = OperationProgress.started(op, step: index, now: now)
            target.deploymentStatus = op.steps[index].status.rawValue
            if start.updateResources.isEmpty {
                let readEtag = target.etag
                target.etag = engine.environment.newId()
                start.updateResources.append(
                    ResourceUpdate(resource: target, expectedEtag: readEtag, recordHistory: false, historyId: ""))
            } else {
                start.updateResources[0].resource = target
            }
            start.updateOperations = [op]
            try await store.commit(start)
            log.info("step started", metadata: ["action": "\(op.steps[index].resourceAction)", "resource": "\(target.id)"])

            let request = try await deploymentRequest(op: op, index: index, target: target)
            let result = await deployUnderLease(claimed, request: request, op: op, index: index, log: log)
            guard let result else { return }  // lease lost: the reaper owns the step now
            try await finish(claimed, op: op, index: index, result: result)
        } catch StoreError.leaseLost {
            log.warning("lease lost before the step's result could be saved; another worker or the reaper owns it")
        } catch {
            log.error("step failed in the engine", metadata: ["error": "\(error)"])
            if let op = try? await store.operation(id: claimed.operationId),
                let index = op.steps.firstIndex(where: { $0.id == claimed.id })
            {
                try? await finish(claimed, op: op, index: index, result: DeploymentResult(
                    succeeded: false, message: "Enclave could not run this step: \(error)"))
            }
        }
    }

    /// Runs the deployer while a heartbeat renews the lease; returns nil if the lease was lost (the deployer is
    /// cancelled then, so the step never runs on two workers at once).
    func deployUnderLease(
        _ claimed: ClaimedStep, request: DeploymentRequest, op: ResourceOperation, index: Int, log: Logger
    ) async -> DeploymentResult? {
        let lease = engine.configuration.leaseSeconds
        return await withTaskGroup(of: Outcome.self) { group in
            group.addTask {
                do {
                    let result = try await engine.deployer.deploy(request) { message in
                        await reportProgress(claimed, operationId: op.id, stepIndex: index, message: message)
                    }
                    return .finished(result)
                } catch is CancellationError {
                    return .leaseLost
                } catch {
                    return .finished(DeploymentResult(succeeded: false, message: "The deployer failed: \(error)"))
                }
            }
            group.addTask {
                var lastRenewed = now
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(Int(lease * 1000 / 3)))
                    if Task.isCancelled { break }
                    do {
                        if try await store.renewLease(jobId: claimed.id, workerId: workerId, leaseSeconds: lease, now: now) {
                            lastRenewed = now
                            continue
                        }
                        log.warning("lease taken over by another worker; stopping the step")
                        return .leaseLost
                    } catch {
                        // The store did not answer: keep running while the lease we hold is surely still ours.
                        if now - lastRenewed >= lease * 0.9 {
                            log.warning("lease could not be renewed in time; stopping the step", metadata: ["error": "\(error)"])
                            return .leaseLost
                        }
                    }
                }
                return .heartbeatStopped
            }
            var outcome: DeploymentResult?
            for await event in group {
                switch event {
                case .finished(let result):
                    outcome = result
                    group.cancelAll()
                case .leaseLost:
                    outcome = nil
                    group.cancelAll()
                case .heartbeatStopped:
                    break
                }
                if event != .heartbeatStopped { break }
            }
            return outcome
        }
    }

    enum Outcome: Sendable, Equatable {
        case finished(DeploymentResult)
        case leaseLost
        case heartbeatStopped
    }

    func reportProgress(_ claimed: ClaimedStep, operationId: String, stepIndex: Int, message: String) async {
        guard let op = try? await store.operation(id: operationId) else { return }
        var changes = ChangeSet()
        changes.requireLeases = [JobCompletion(jobId: claimed.id, workerId: workerId)]
        changes.updateOperations = [OperationProgress.progressed(op, step: stepIndex, message: message, now: now)]
        try? await store.commit(changes)
    }

    func finish(_ claimed: ClaimedStep, op: ResourceOperation, index: Int, result: DeploymentResult) async throws {
        let changes = try await commitRetryingStaleEtags {
            try await StepCompletion(engine: engine).changes(
                op: op, index: index, result: result, job: JobCompletion(jobId: claimed.id, workerId: workerId))
        }
        if !changes.enqueue.isEmpty { engine.signal.ring() }
        logger.info(
            "step finished",
            metadata: [
                "step": "\(claimed.id)", "succeeded": "\(result.succeeded)",
                "status": "\(changes.updateOperations.first?.status.rawValue ?? "")",
            ])
        Counter(label: "enclave_steps_total", dimensions: [("result", result.succeeded ? "succeeded" : "failed")]).increment()
    }

    /// Status updates race with API PATCHes on the same resource; rebuild from fresh reads until one wins.
    @discardableResult
    func commitRetryingStaleEtags(_ build: () async throws -> ChangeSet) async throws -> ChangeSet {
        var attempt = 0
        while true {
            let changes = try await build()
            do {
                try await store.commit(changes)
                return changes
            } catch let error as EnclaveError where error == .staleEtag && attempt < 10 {
                attempt += 1
            }
        }
    }

    func completing(_ claimed: ClaimedStep) -> ChangeSet {
        var changes = ChangeSet()
        changes.completeJobs = [JobCompletion(jobId: claimed.id, workerId: workerId)]
        return changes
    }

    func deploymentRequest(op: ResourceOperation, index: Int, target: Resource) async throws -> DeploymentRequest {
        var parameters = target.properties
        if let sealed = try await store.sealedSecrets(resourceId: target.id) {
            for (name, value) in try engine.secrets.open(sealed) { parameters[name] = value }
        }
        let step = op.steps[index]
        return DeploymentRequest(
            operationId: op.id, stepId: step.id, action: step.resourceAction, resourceId: target.id,
            resourceType: target.resourceType, templateName: target.templateName, templateVersion: target.templateVersion,
            parameters: parameters, workspaceId: target.workspaceId, parentWorkspaceServiceId: target.parentWorkspaceServiceId,
            ownerId: target.ownerId)
    }

    /// `{"resource": {id, properties, parent: {…, parent: {…}}}}` for `{{ resource.… }}` tokens.
    func substitutionContext(resourceId: String) async throws -> JSONValue {
        func node(_ resource: Resource, parent: JSONValue?) -> JSONValue {
            var object: [String: JSONValue] = [
                "id": .string(resource.id), "templateName": .string(resource.templateName),
                "templateVersion": .string(resource.templateVersion), "properties": .object(resource.properties),
            ]
            if let parent { object["parent"] = parent }
            return .object(object)
        }
        guard let resource = try await store.resourceIncludingDeleted(id: resourceId) else { return .object([:]) }
        var parentNode: JSONValue?
        switch resource.resourceType {
        case .workspaceService:
            if let ws = resource.workspaceId, let workspace = try await store.resourceIncludingDeleted(id: ws) {
                parentNode = node(workspace, parent: nil)
            }
        case .userResource:
            var grand: JSONValue?
            if let ws = resource.workspaceId, let workspace = try await store.resourceIncludingDeleted(id: ws) {
                grand = node(workspace, parent: nil)
            }
            if let svc = resource.parentWorkspaceServiceId, let service = try await store.resourceIncludingDeleted(id: svc) {
                parentNode = node(service, parent: grand)
            }
        case .workspace, .sharedService:
            break
        }
        return .object(["resource": node(resource, parent: parentNode)])
    }
}

extension Logger {
    func with(_ metadata: Logger.Metadata) -> Logger {
        var copy = self
        for (key, value) in metadata { copy[metadataKey: key] = value }
        return copy
    }
}

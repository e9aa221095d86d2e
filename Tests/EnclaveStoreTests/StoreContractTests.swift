import EnclaveCore
import EnclaveStore
import EnclaveTesting
import Foundation
import Testing

/// The behaviour every `Store` must have. Parameterised over store factories so the PostgreSQL
/// implementation, when it comes, runs the same suite.
@Suite("Store contract")
struct StoreContractTests {
    struct Factory: CustomTestStringConvertible, Sendable {
        let name: String
        let make: @Sendable () throws -> any Store
        var testDescription: String { name }
    }

    static let factories: [Factory] = [
        Factory(name: "SQLite") {
            let dir = try TestPaths.temporaryDirectory("store")
            return try SQLiteStore(path: dir.appendingPathComponent("enclave.sqlite").path)
        }
    ]

    let user = User(id: "u1", name: "U", email: "u@x", roles: ["TREAdmin"])

    func workspace(_ id: String = UUID().uuidString.lowercased(), etag: String = "e0") -> Resource {
        Resource(
            id: id, resourceType: .workspace, templateName: "tre-workspace-base", templateVersion: "1.0.0",
            properties: ["display_name": "W"], deploymentStatus: "awaiting_deployment", etag: etag,
            resourcePath: "/workspaces/\(id)", user: user, updatedWhen: 1)
    }

    func operation(for resource: Resource, id: String = UUID().uuidString.lowercased()) -> ResourceOperation {
        ResourceOperation(
            id: id, resourceId: resource.id, resourcePath: resource.resourcePath, resourceVersion: 0,
            status: .awaitingDeployment, action: "install", message: "m", createdWhen: 1, updatedWhen: 1, user: user,
            steps: [
                OperationStep(
                    id: "\(id)-s1", templateStepId: "main", stepTitle: "t", resourceId: resource.id,
                    resourceTemplateName: resource.templateName, resourceType: .workspace, resourceAction: "install",
                    status: .awaitingDeployment, message: "m", updatedWhen: 1, sourceTemplateResourceId: resource.id)
            ])
    }

    func registered(_ version: String) -> AuditEntry {
        AuditEntry(
            id: UUID().uuidString, time: 1, actor: .system, action: .templateRegister, target: "/workspace-templates/t",
            details: ["templateVersion": .string(version)])
    }

    func create(_ store: any Store, _ resource: Resource, enqueueAt: Double = 1) async throws -> ResourceOperation {
        let op = operation(for: resource)
        var changes = ChangeSet()
        changes.insertResources = [resource]
        changes.insertOperations = [op]
        changes.enqueue = [QueuedStep(id: op.steps[0].id, operationId: op.id, resourceId: resource.id, enqueuedAt: enqueueAt)]
        try await store.commit(changes)
        return op
    }

    @Test("a change set is applied whole", arguments: factories)
    func commitIsAtomic(factory: Factory) async throws {
        let store = try factory.make()
        let ws = workspace()
        let op = try await create(store, ws)
        #expect(try await store.resource(id: ws.id) == ws)
        #expect(try await store.operation(id: op.id) == op)
        #expect(try await store.queueStats(now: 1).queued == 1)
    }

    @Test("a stale etag changes nothing: no update, no history, no operation, no queued step", arguments: factories)
    func staleEtagChangesNothing(factory: Factory) async throws {
        let store = try factory.make()
        let ws = workspace()
        _ = try await create(store, ws)
        var updated = ws
        updated.properties["display_name"] = "changed"
        updated.etag = "e1"
        updated.resourceVersion = 1
        let op = operation(for: updated)
        var changes = ChangeSet()
        changes.updateResources = [ResourceUpdate(resource: updated, expectedEtag: "not-the-etag", recordHistory: true, historyId: "h1")]
        changes.insertOperations = [op]
        changes.enqueue = [QueuedStep(id: op.steps[0].id, operationId: op.id, resourceId: ws.id, enqueuedAt: 2)]
        await #expect(throws: EnclaveError.staleEtag) { try await store.commit(changes) }
        #expect(try await store.resource(id: ws.id) == ws)
        #expect(try await store.history(resourceId: ws.id).isEmpty)
        #expect(try await store.operation(id: op.id) == nil)
        #expect(try await store.queueStats(now: 2).queued == 1)
    }

    @Test("an update with the right etag writes the previous state to history", arguments: factories)
    func updateWritesHistory(factory: Factory) async throws {
        let store = try factory.make()
        let ws = workspace()
        _ = try await create(store, ws)
        var updated = ws
        updated.properties["display_name"] = "v2"
        updated.etag = "e1"
        updated.resourceVersion = 1
        var changes = ChangeSet()
        changes.updateResources = [ResourceUpdate(resource: updated, expectedEtag: "e0", recordHistory: true, historyId: "h1")]
        try await store.commit(changes)
        let history = try await store.history(resourceId: ws.id)
        #expect(history.count == 1)
        #expect(history[0].properties["display_name"] == "W")
        #expect(history[0].resourceVersion == 0)
        #expect(try await store.resource(id: ws.id)?.properties["display_name"] == "v2")
    }

    @Test("soft-deleted resources are invisible to reads and lists", arguments: factories)
    func softDelete(factory: Factory) async throws {
        let store = try factory.make()
        let ws = workspace()
        _ = try await create(store, ws)
        var deleted = ws
        deleted.deploymentStatus = "deleted"
        deleted.etag = "e9"
        var changes = ChangeSet()
        changes.updateResources = [ResourceUpdate(resource: deleted, expectedEtag: nil, recordHistory: false, historyId: "")]
        try await store.commit(changes)
        #expect(try await store.resource(id: ws.id) == nil)
        #expect(try await store.resources(ResourceFilter(type: .workspace)).isEmpty)
        #expect(try await store.resourceIncludingDeleted(id: ws.id)?.isDeleted == true)
    }

    @Test("a workspace's operations: its own and every child's (deleted ones too), newest first, limited", arguments: factories)
    func workspaceOperations(factory: Factory) async throws {
        let store = try factory.make()
        let ws = workspace()
        let other = workspace()
        let serviceId = UUID().uuidString.lowercased()
        var service = workspace(serviceId)
        service.resourceType = .workspaceService
        service.workspaceId = ws.id
        service.resourcePath = "/workspaces/\(ws.id)/workspace-services/\(serviceId)"
        var changes = ChangeSet()
        changes.insertResources = [ws, other, service]
        var ops: [ResourceOperation] = []
        for (index, resource) in [ws, service, other, service, ws].enumerated() {
            var op = operation(for: resource)
            op.createdWhen = Double(index)
            ops.append(op)
        }
        changes.insertOperations = ops
        try await store.commit(changes)
        // Deleting the service keeps its operations in the workspace's activity.
        var deleted = service
        deleted.deploymentStatus = "deleted"
        var delete = ChangeSet()
        delete.updateResources = [ResourceUpdate(resource: deleted, expectedEtag: nil, recordHistory: false, historyId: "")]
        try await store.commit(delete)

        let all = try await store.operations(workspaceId: ws.id, limit: 100)
        #expect(all.map(\.id) == [ops[4], ops[3], ops[1], ops[0]].map(\.id))
        #expect(try await store.operations(workspaceId: ws.id, limit: 2).map(\.id) == [ops[4], ops[3]].map(\.id))
        #expect(try await store.operations(workspaceId: other.id, limit: 100).map(\.id) == [ops[2].id])
        #expect(try await store.operations(workspaceId: UUID().uuidString, limit: 100).isEmpty)
    }

    @Test("templates: duplicate name and version is a conflict, the first is current, a new current demotes the old", arguments: factories)
    func templates(factory: Factory) async throws {
        let store = try factory.make()
        func template(_ version: String, current: Bool) -> ResourceTemplate {
            ResourceTemplate(
                id: UUID().uuidString, name: "t", title: "T", description: "", version: version, resourceType: .workspace,
                current: current, schema: ["type": "object", "properties": [:]], customActions: [], parentWorkspaceService: nil)
        }
        #expect(try await store.register(template("1.0.0", current: false), audit: registered("1.0.0")).current)
        _ = try await store.register(template("1.1.0", current: false), audit: registered("1.1.0"))
        await #expect(throws: EnclaveError.self) { try await store.register(template("1.0.0", current: true), audit: registered("1.0.0")) }
        _ = try await store.register(template("2.0.0", current: true), audit: registered("2.0.0"))
        let all = try await store.templates(type: .workspace, name: "t", parent: nil)
        #expect(all.map(\.version) == ["1.0.0", "1.1.0", "2.0.0"])
        #expect(all.filter(\.current).map(\.version) == ["2.0.0"])
        let audit = try await store.auditRecords(AuditFilter(action: "template"), after: nil, limit: 10)
        #expect(audit.map { $0.details["templateVersion"] } == ["1.0.0", "1.1.0", "2.0.0"], "the refused duplicate left no record")
    }

    @Test("steps of one resource are handed out one at a time, in order; other resources run in parallel", arguments: factories)
    func queueSerialisesPerResource(factory: Factory) async throws {
        let store = try factory.make()
        let a = workspace()
        let b = workspace()
        let first = try await create(store, a, enqueueAt: 1)
        // A second operation on the same resource, queued behind the first.
        let second = operation(for: a)
        var changes = ChangeSet()
        changes.insertOperations = [second]
        changes.enqueue = [QueuedStep(id: second.steps[0].id, operationId: second.id, resourceId: a.id, enqueuedAt: 2)]
        try await store.commit(changes)
        let other = try await create(store, b, enqueueAt: 3)

        let c1 = try #require(try await store.claimNextStep(workerId: "w1", leaseSeconds: 30, now: 10))
        #expect(c1.operationId == first.id)
        let c2 = try #require(try await store.claimNextStep(workerId: "w2", leaseSeconds: 30, now: 10))
        #expect(c2.operationId == other.id, "the other resource's step runs in parallel, the same resource's waits")
        #expect(try await store.claimNextStep(workerId: "w3", leaseSeconds: 30, now: 10) == nil)

        var done = ChangeSet()
        done.completeJobs = [JobCompletion(jobId: c1.id, workerId: "w1")]
        try await store.commit(done)
        let c3 = try #require(try await store.claimNextStep(workerId: "w3", leaseSeconds: 30, now: 11))
        #expect(c3.operationId == second.id)
    }

    @Test("a lease can only be renewed and completed by its holder, and expires", arguments: factories)
    func leases(factory: Factory) async throws {
        let store = try factory.make()
        _ = try await create(store, workspace())
        let claimed = try #require(try await store.claimNextStep(workerId: "w1", leaseSeconds: 5, now: 100))
        #expect(claimed.attempt == 1)
        #expect(try await store.renewLease(jobId: claimed.id, workerId: "w1", leaseSeconds: 5, now: 101))
        #expect(try await !store.renewLease(jobId: claimed.id, workerId: "intruder", leaseSeconds: 5, now: 101))
        var wrong = ChangeSet()
        wrong.completeJobs = [JobCompletion(jobId: claimed.id, workerId: "intruder")]
        await #expect(throws: StoreError.leaseLost(jobId: claimed.id)) { try await store.commit(wrong) }

        #expect(try await store.expiredSteps(now: 105).isEmpty)
        let expired = try await store.expiredSteps(now: 107)
        #expect(expired.map(\.id) == [claimed.id] && expired[0].leaseOwner == "w1")
        // The reaper cannot finish a step whose lease has not expired yet.
        var early = ChangeSet()
        early.completeJobs = [JobCompletion(jobId: claimed.id, workerId: nil, expiredBefore: 105)]
        await #expect(throws: StoreError.self) { try await store.commit(early) }
        // Requeued, it is handed out again with its attempt counted; the old holder can no longer renew.
        #expect(try await store.requeueExpired(jobId: claimed.id, now: 107))
        #expect(try await !store.renewLease(jobId: claimed.id, workerId: "w1", leaseSeconds: 5, now: 107))
        let again = try #require(try await store.claimNextStep(workerId: "w2", leaseSeconds: 5, now: 108))
        #expect(again.id == claimed.id && again.attempt == 2)
    }

    @Test("role assignments and seen users", arguments: factories)
    func identity(factory: Factory) async throws {
        let store = try factory.make()
        func roles(_ assign: [RoleAssignment] = [], unassign: [RoleAssignment] = []) async throws {
            var changes = ChangeSet()
            changes.assignRoles = assign
            changes.unassignRoles = unassign
            try await store.commit(changes)
        }
        try await roles([.init(workspaceId: "ws1", userId: "a", role: .researcher), .init(workspaceId: "ws1", userId: "b", role: .researcher)])
        try await roles([.init(workspaceId: "ws1", userId: "a", role: .owner)])
        try await roles([.init(workspaceId: "ws1", userId: "a", role: .owner)])  // idempotent
        #expect(try await store.roles(userId: "a", workspaceId: "ws1") == [.owner, .researcher])
        #expect(try await store.workspaceIds(userId: "b") == ["ws1"])
        try await roles([.init(workspaceId: "ws2", userId: "a", role: .airlockManager)])
        #expect(try await store.workspaceRoles(userId: "a") == ["ws1": [.owner, .researcher], "ws2": [.airlockManager]])
        #expect(try await store.workspaceRoles(userId: "nobody").isEmpty)
        try await roles(unassign: [.init(workspaceId: "ws1", userId: "b", role: .researcher)])
        #expect(try await store.workspaceIds(userId: "b").isEmpty)
        await #expect(throws: EnclaveError.self, "a role not held cannot be removed") {
            try await roles(unassign: [.init(workspaceId: "ws1", userId: "b", role: .researcher)])
        }
        try await store.recordUserSeen(User(id: "a", name: "Alice", email: "a@x", roles: ["TREUser"]), now: 1)
        try await store.recordUserSeen(User(id: "a", name: "Alice B", email: "a@x", roles: ["TREUser"]), now: 2)
        #expect(try await store.knownUsers(ids: ["a", "zz"]).map(\.name) == ["Alice B"])
    }
}

import EnclaveCore
import EnclaveStore
import EnclaveTesting
import Foundation
import GRDB
import Testing

/// The audit log in SQLite: chained inside the change's own transaction, append-only, one chain across writers.
@Suite("Audit log (SQLite)")
struct AuditLogTests {
    let user = User(id: "u1", name: "Una", email: "u@x", roles: ["TREAdmin"])

    func openStore() throws -> (SQLiteStore, String) {
        let dir = try TestPaths.temporaryDirectory("audit")
        let path = dir.appendingPathComponent("enclave.sqlite").path
        return (try SQLiteStore(path: path), path)
    }

    func entry(_ action: AuditAction = .resourceCreate, target: String = "/workspaces/w1", actor: String = "u1", time: Double = 10)
        -> AuditEntry
    {
        AuditEntry(
            id: UUID().uuidString, time: time, actor: AuditActor(id: actor, name: actor.uppercased()), action: action,
            target: target, details: ["operationId": "op-1"], requestId: "req-1")
    }

    func workspace(_ id: String, etag: String = "e0") -> Resource {
        Resource(
            id: id, resourceType: .workspace, templateName: "tre-workspace-base", templateVersion: "1.0.0",
            properties: ["display_name": "W"], deploymentStatus: "awaiting_deployment", etag: etag,
            resourcePath: "/workspaces/\(id)", user: user, updatedWhen: 1)
    }

    func everything(_ store: SQLiteStore) async throws -> [AuditRecord] {
        try await store.auditRecords(AuditFilter(), after: nil, limit: 100_000)
    }

    @Test("a record commits with the change it describes and starts the chain at the genesis hash")
    func recordCommitsWithChange() async throws {
        let (store, _) = try openStore()
        var changes = ChangeSet()
        changes.insertResources = [workspace("w1")]
        changes.appendAudit = [entry()]
        try await store.commit(changes)
        let records = try await everything(store)
        #expect(records.count == 1)
        #expect(records.first?.sequence == 1)
        #expect(records.first?.previousHash == AuditChain.genesisHash)
        #expect(records.first?.entry == changes.appendAudit[0])
        #expect(try await store.resource(id: "w1") != nil)
        #expect(AuditChain.verify(records) == .intact(count: 1, lastHash: records[0].hash))
    }

    @Test("a change refused for a stale etag leaves no audit record")
    func failedChangeLeavesNoRecord() async throws {
        let (store, _) = try openStore()
        var create = ChangeSet()
        create.insertResources = [workspace("w1")]
        create.appendAudit = [entry()]
        try await store.commit(create)

        var stale = ChangeSet()
        var updated = workspace("w1", etag: "e1")
        updated.resourceVersion = 1
        stale.updateResources = [ResourceUpdate(resource: updated, expectedEtag: "not-the-etag", recordHistory: true, historyId: "h1")]
        stale.appendAudit = [entry(.resourceUpdate)]
        await #expect(throws: EnclaveError.staleEtag) { try await store.commit(stale) }
        #expect(try await everything(store).map(\.action) == [.resourceCreate])
        #expect(try await store.resource(id: "w1")?.etag == "e0")
    }

    @Test("removing a role nobody holds fails whole: no record")
    func failedUnassignLeavesNoRecord() async throws {
        let (store, _) = try openStore()
        var changes = ChangeSet()
        changes.unassignRoles = [RoleAssignment(workspaceId: "w1", userId: "nobody", role: .researcher)]
        changes.appendAudit = [entry(.roleUnassign)]
        await #expect(throws: EnclaveError.self) { try await store.commit(changes) }
        #expect(try await everything(store).isEmpty)
    }

    @Test("UPDATE and DELETE of audit rows are refused by triggers", arguments: [
        "UPDATE audit SET target = '/elsewhere' WHERE sequence = 1",
        "DELETE FROM audit WHERE sequence = 1",
        "DELETE FROM audit",
    ])
    func appendOnly(sql: String) async throws {
        let (store, path) = try openStore()
        try await store.appendAudit([entry(), entry(.roleAssign)])
        let queue = try DatabaseQueue(path: path)
        #expect {
            try queue.write { db in try db.execute(sql: sql) }
        } throws: { error in
            "\(error)".contains("append-only")
        }
        let records = try await everything(store)
        #expect(records.count == 2)
        #expect(AuditChain.verify(records) == .intact(count: 2, lastHash: records[1].hash))
    }

    @Test("two stores on one file appending in parallel form one intact chain")
    func concurrentWritersFormOneChain() async throws {
        let (first, path) = try openStore()
        let second = try SQLiteStore(path: path)
        let perWriter = 40
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, store) in [first, second].enumerated() {
                group.addTask {
                    for n in 0..<perWriter {
                        if n % 2 == 0 {
                            try await store.appendAudit([self.entry(.authDenied, actor: "writer-\(index)")])
                        } else {
                            // Records that ride on a change take the same path through the chain.
                            var changes = ChangeSet()
                            changes.assignRoles = [RoleAssignment(workspaceId: "w\(index)", userId: "u\(n)", role: .researcher)]
                            changes.appendAudit = [self.entry(.roleAssign, actor: "writer-\(index)")]
                            try await store.commit(changes)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let records = try await everything(first)
        #expect(records.count == 2 * perWriter)
        #expect(records.map(\.sequence) == Array(1...(2 * perWriter)))
        #expect(AuditChain.verify(records) == .intact(count: 2 * perWriter, lastHash: records.last?.hash ?? ""))
        #expect(Set(records.map(\.actor.id)) == ["writer-0", "writer-1"])
    }

    @Test("filters: actor, action family, target subtree, time range; paging by sequence")
    func filters() async throws {
        let (store, _) = try openStore()
        try await store.appendAudit([
            entry(.resourceCreate, target: "/workspaces/w1", actor: "ann", time: 100),
            entry(.resourceCreate, target: "/workspaces/w1/workspace-services/s1", actor: "bob", time: 200),
            entry(.roleAssign, target: "/workspaces/w1", actor: "ann", time: 300),
            entry(.resourceDelete, target: "/workspaces/w10", actor: "ann", time: 400),
            entry(.authDenied, target: "/workspaces/w1_x", actor: "bob", time: 500),
        ])
        func seqs(_ filter: AuditFilter, after: Int? = nil, limit: Int = 100) async throws -> [Int] {
            try await store.auditRecords(filter, after: after, limit: limit).map(\.sequence)
        }
        #expect(try await seqs(AuditFilter(actorId: "ann")) == [1, 3, 4])
        #expect(try await seqs(AuditFilter(action: "resource")) == [1, 2, 4])
        #expect(try await seqs(AuditFilter(action: "resource.create")) == [1, 2])
        #expect(try await seqs(AuditFilter(action: "resource.cr")) == [], "a prefix matches whole dotted segments only")
        #expect(try await seqs(AuditFilter(target: "/workspaces/w1")) == [1, 2, 3], "w10 and w1_x are not under w1")
        #expect(try await seqs(AuditFilter(from: 200, to: 400)) == [2, 3], "from is inclusive, to exclusive")
        #expect(try await seqs(AuditFilter(actorId: "ann", action: "resource")) == [1, 4])
        #expect(try await seqs(AuditFilter(), limit: 2) == [1, 2])
        #expect(try await seqs(AuditFilter(), after: 2, limit: 2) == [3, 4])
    }
}

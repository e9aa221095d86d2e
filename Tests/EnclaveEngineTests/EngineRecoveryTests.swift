import EnclaveCore
import EnclaveEngine
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import Testing

/// The engine's guarantees: a step lost with its worker is retried (idempotent) or failed with a
/// message saying so, never left running; steps of one resource never overlap; the queue keeps going.
@Suite("Engine recovery and ordering")
struct EngineRecoveryTests {
    let admin = Actor(user: TestUsers.admin)

    func engine(_ enclave: TestEnclave, workers: Int = 1, lease: Double = 1) -> Engine {
        Engine(
            store: enclave.deps.store, deployer: enclave.deps.deployer, secrets: enclave.deps.controlPlane.secrets,
            configuration: EngineConfiguration(
                workers: workers, leaseSeconds: lease, pollInterval: .milliseconds(50), workerIdPrefix: "test"),
            signal: enclave.deps.controlPlane.signal)
    }

    func create(_ enclave: TestEnclave, template: String, properties: [String: JSONValue] = [:]) async throws -> ResourceOperation {
        var props = properties
        props["display_name"] = "W"
        props["description"] = "d"
        return try await enclave.deps.controlPlane.create(
            .workspace, templateName: template, properties: props, placement: .init(), actor: admin, requestId: nil)
    }

    /// 60 s: a bound that proves "never stuck", not a speed. Alone the retry takes under a second; in a CI run
    /// where a hundred suites start at once one took 50 s before the engine's first pass (20 s was too tight).
    func waitTerminal(_ enclave: TestEnclave, _ opId: String, timeout: Double = 60) async throws -> ResourceOperation {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let op = try await enclave.deps.store.operation(id: opId), op.status.isTerminal { return op }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw EnclaveError.internal("operation \(opId) still running after \(timeout) s")
    }

    /// A worker that claims the step and then "dies": it never renews or completes.
    func loseWorker(_ enclave: TestEnclave) async throws {
        let claimed = try await enclave.deps.store.claimNextStep(
            workerId: "doomed-worker", leaseSeconds: 0.2, now: Date().timeIntervalSince1970)
        #expect(claimed != nil)
    }

    @Test("a non-idempotent step whose worker was lost ends failed, saying the worker was lost; the queue keeps going")
    func lostNonIdempotentStepFails() async throws {
        let enclave = try await TestEnclave.make(workers: 0, templatesDir: try TestPaths.combinedTemplates())
        defer { enclave.remove() }
        let lost = try await create(enclave, template: "tre-test-workspace")
        try await loseWorker(enclave)
        let next = try await create(enclave, template: "tre-test-workspace")
        let runner = Task { try await engine(enclave).run() }
        defer { runner.cancel() }
        let failed = try await waitTerminal(enclave, lost.id)
        #expect(failed.status == .deploymentFailed)
        #expect(failed.message.contains("doomed-worker") && failed.message.contains("not declared idempotent"))
        let resource = try await enclave.deps.store.resource(id: lost.resourceId)
        #expect(resource?.deploymentStatus == "deployment_failed")
        #expect(try await waitTerminal(enclave, next.id).status == .deployed)
        #expect(try await enclave.deps.store.queueStats(now: Date().timeIntervalSince1970).running == 0)
    }

    @Test("an idempotent step whose worker was lost is run again and succeeds")
    func lostIdempotentStepIsRetried() async throws {
        let enclave = try await TestEnclave.make(workers: 0, templatesDir: try TestPaths.combinedTemplates())
        defer { enclave.remove() }
        let op = try await create(enclave, template: "tre-test-idempotent-workspace")
        try await loseWorker(enclave)
        let runner = Task { try await engine(enclave).run() }
        defer { runner.cancel() }
        let done = try await waitTerminal(enclave, op.id)
        #expect(done.status == .deployed)
        let resource = try await enclave.deps.store.resource(id: op.resourceId)
        #expect(resource?.properties["attempts"] == 1, "the lost worker never ran the script; the retry is its first run")
    }

    @Test("steps of one resource never overlap and run in order, while other resources run in parallel")
    func ordering() async throws {
        let enclave = try await TestEnclave.make(workers: 0, templatesDir: try TestPaths.combinedTemplates())
        defer { enclave.remove() }
        let a = try await create(enclave, template: "tre-test-workspace", properties: ["sleep_seconds": 0.6])
        let b = try await create(enclave, template: "tre-test-workspace", properties: ["sleep_seconds": 0.6])
        // A second operation on `a` (a custom action) is queued behind its install.
        let poke = try await enclave.deps.controlPlane.invoke(
            try #require(try await enclave.deps.store.resource(id: a.resourceId)), action: "poke", actor: admin, requestId: nil)
        let runner = Task { try await engine(enclave, workers: 3, lease: 10).run() }
        defer { runner.cancel() }
        for id in [a.id, b.id, poke.id] { #expect(try await waitTerminal(enclave, id).status.isFailure == false) }

        let log = try String(contentsOf: enclave.dataDir.appendingPathComponent("test-actions.log"), encoding: .utf8)
        var spans: [String: [(action: String, start: Double, end: Double)]] = [:]
        var open: [String: Double] = [:]
        for line in log.split(separator: "\n") {
            let f = line.split(separator: " ").map(String.init)
            guard f.count == 4, let t = Double(f[3]) else { continue }
            let key = "\(f[1]) \(f[2])"
            if f[0] == "start" { open[key] = t } else if let s = open[key] { spans[f[1], default: []].append((f[2], s, t)) }
        }
        let aSpans = try #require(spans[a.resourceId])
        #expect(aSpans.map(\.action) == ["install", "poke"], "the resource's steps ran in the order queued")
        #expect(aSpans[0].end <= aSpans[1].start, "the custom action started only after the install ended")
        let bSpan = try #require(spans[b.resourceId]?.first)
        #expect(bSpan.start < aSpans[0].end && aSpans[0].start < bSpan.end, "different resources ran at the same time")
    }
}

import EnclaveCore
import EnclaveTesting
import Foundation
import NIOHTTP1
import Testing

/// The real `enclave` binary on a free port: the two commands a user runs, and what happens when a
/// worker process is killed in the middle of a step.
@Suite("End to end", .serialized)
struct ServerProcessTests {
    @Test("enclave serve creates its data dir, serves, deploys a workspace and stops cleanly on SIGTERM")
    func serveAndToken() async throws {
        let data = try TestPaths.temporaryDirectory("e2e")
        defer { try? FileManager.default.removeItem(at: data) }
        let port = try freePort()
        let base = "http://127.0.0.1:\(port)"
        let server = try EnclaveProcess(
            ["serve", "--data-dir", data.path, "--port", "\(port)", "--templates", TestPaths.templates],
            log: data.appendingPathComponent("serve.log"))
        defer { server.terminate() }
        _ = try await LiveAPI.waitHealthy(base)
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("enclave.sqlite").path))
        let keyMode = try FileManager.default.attributesOfItem(atPath: data.appendingPathComponent("keys/signing-es256.pem").path)[.posixPermissions] as? Int
        #expect(keyMode == 0o600)

        let token = try await EnclaveBinary.run([
            "token", "--data-dir", data.path, "--user", "admin-e2e", "--name", "Admin", "--email", "a@x", "--role", "TREAdmin",
        ])
        let api = LiveAPI(base: base, token: token)
        let created = try await api.call(
            .POST, "/api/workspaces", json: ["templateName": "tre-workspace-base", "properties": ["display_name": "E2E", "description": "d"]])
        #expect(created.status == 202)
        let op = try await api.waitTerminal(try #require(created.location))
        #expect(op["status"] == "deployed")
        let id = try #require(op["resourceId"]?.stringValue)
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("workspaces/\(id)/shared").path))
        let log = server.log
        #expect(log.contains("\"message\":\"enclave serving\""), "logs are JSON lines")
        #expect(log.contains("hb.request.id"), "request logs carry the request id")

        let metrics = try await api.call(.GET, "/metrics")
        let text = metrics.json.stringValue ?? ""
        #expect(text.contains("enclave_operations{status=\"deployed\"}"), "\(text.prefix(400))")
        #expect(text.contains("hb_requests{") && text.contains("http_server_request_duration_bucket"), "request count and latency are exported")

        #expect(await server.stop() == 0, "SIGTERM shuts down gracefully")
    }

    @Test("kill -9 of a worker mid-step: its steps end failed or succeeded, never stuck, never run twice at once, and the queue keeps going")
    func workerCrash() async throws {
        let data = try TestPaths.temporaryDirectory("e2e-crash")
        defer { try? FileManager.default.removeItem(at: data) }
        let templates = try TestPaths.combinedTemplates()
        let port = try freePort()
        let base = "http://127.0.0.1:\(port)"
        let common = ["--data-dir", data.path, "--templates", templates, "--lease-seconds", "2"]
        // The API process runs no workers: all work happens in separate worker processes.
        let server = try EnclaveProcess(
            ["serve", "--port", "\(port)", "--workers", "0"] + common, log: data.appendingPathComponent("serve.log"))
        defer { server.terminate() }
        _ = try await LiveAPI.waitHealthy(base)
        let token = try await EnclaveBinary.run([
            "token", "--data-dir", data.path, "--user", "admin-e2e", "--name", "Admin", "--email", "a@x", "--role", "TREAdmin",
        ])
        let api = LiveAPI(base: base, token: token)
        // Only the first attempt of any action is slow, so a retried step finishes quickly.
        _ = FileManager.default.createFile(atPath: data.appendingPathComponent("slow-first-only").path, contents: nil)

        let doomed = try EnclaveProcess(["worker", "--workers", "2"] + common, log: data.appendingPathComponent("worker-a.log"))
        func create(_ template: String) async throws -> String {
            let reply = try await api.call(
                .POST, "/api/workspaces",
                json: ["templateName": .string(template), "properties": ["display_name": "C", "description": "d", "sleep_seconds": 30]])
            #expect(reply.status == 202)
            return try #require(reply.location)
        }
        let plain = try await create("tre-test-workspace")
        let idempotent = try await create("tre-test-idempotent-workspace")
        for location in [plain, idempotent] {
            _ = try await api.waitFor(location, timeout: 30) { $0["status"] == "deploying" }
        }
        await doomed.kill9()

        let rescuer = try EnclaveProcess(["worker", "--workers", "2"] + common, log: data.appendingPathComponent("worker-b.log"))
        defer { rescuer.terminate() }
        let failed = try await api.waitTerminal(plain, timeout: 60)
        #expect(failed["status"] == "deployment_failed")
        #expect(failed["message"]?.stringValue?.contains("was lost") == true, "\(failed)")
        let retried = try await api.waitTerminal(idempotent, timeout: 60)
        #expect(retried["status"] == "deployed", "\(retried)")

        // The queue keeps going after the crash.
        let after = try await api.call(
            .POST, "/api/workspaces",
            json: ["templateName": "tre-test-workspace", "properties": ["display_name": "After", "description": "d"]])
        #expect(try await api.waitTerminal(try #require(after.location))["status"] == "deployed")

        // The killed worker's orphaned step processes were stopped: none finishes, none is still running.
        try await Task.sleep(for: .seconds(1))
        let plainId = try #require(failed["resourceId"]?.stringValue)
        let log = (try? String(contentsOf: data.appendingPathComponent("test-actions.log"), encoding: .utf8)) ?? ""
        #expect(!log.contains("end \(plainId) install"), "the orphan of the lost step was stopped before it could finish")
        let idemId = try #require(retried["resourceId"]?.stringValue)
        let idemRuns = log.split(separator: "\n").filter { $0.hasPrefix("end \(idemId) install") }.count
        #expect(idemRuns == 1, "the idempotent step completed exactly once")
        #expect(!stepProcessesRunning(stepOf: failed) , "no process of the lost step is left")
    }

    func stepProcessesRunning(stepOf op: JSONValue) -> Bool {
        guard let step = op["steps"]?.arrayValue?.first?["id"]?.stringValue else { return false }
        let marker = "ENCLAVE_STEP_ID=\(step)"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.contains { entry in
            guard Int(entry) != nil, let env = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { return false }
            return env.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == marker }
        }
    }
}

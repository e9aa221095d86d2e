// End to end, as root: a restricted workspace with an MLflow tracking server installed from PyPI and run as a
// supervised workload; through the gateway an experiment, a run, a parameter, a metric and an artifact are
// logged with MLflow's REST API and read back; job execution is off; deleting leaves no process of the uid.
import EnclaveCore
import EnclaveLocal
import EnclaveServer
import EnclaveTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite(
    "MLflow workload end to end", .serialized,
    .enabled(if: WorkloadE2ESupport.shouldRun, "needs root, ip, nft, setpriv, bwrap, python3 (\(WorkloadE2ESupport.unavailableReason ?? ""))"))
struct MLflowWorkloadTests {
    @Test func experimentsParamsMetricsAndArtifactsAreLoggedThroughTheGatewayWithJobExecutionOff() async throws {
        let enclave = try await WorkloadScenario.enclave(prefix: "m")
        defer { enclave.remove() }
        try await buildApplication(enclave.deps).test(.live) { client in
            let scenario = WorkloadScenario(enclave: enclave, client: client)
            let (ws, uid) = try await scenario.createWorkspace()
            #expect(uid != nil, "the workspace reports no workspace_uid")
            let svc = try await scenario.createService("tre-service-mlflow", in: ws)
            let marker = "\(enclave.dataDir.path)/tools/mlflow-3.17.2/.enclave-installed"
            print("MLflow tool: \((try? String(contentsOfFile: marker, encoding: .utf8)) ?? "no install marker\n")", terminator: "")
            let api = "/workspaces/\(ws)/services/\(svc)/api/2.0/mlflow"
            let researcher = TestUsers.owner

            let posted = Date()
            let experiment = try await scenario.call(.post, "\(api)/experiments/create", as: researcher, json: ["name": "e2e"])
            print(
                "MLflow: first POST through the gateway answered \(experiment.status.code) in \(String(format: "%.3f", Date().timeIntervalSince(posted))) s"
            )
            #expect(experiment.status == .ok, "\(experiment.text)")
            let experimentId = try #require(experiment.json["experiment_id"]?.stringValue)

            let run = try await scenario.call(
                .post, "\(api)/runs/create", as: researcher,
                json: ["experiment_id": .string(experimentId), "start_time": .int(Int(Date().timeIntervalSince1970 * 1000))])
            #expect(run.status == .ok, "\(run.text)")
            let runId = try #require(run.json["run"]?["info"]?["run_id"]?.stringValue)
            let param = try await scenario.call(
                .post, "\(api)/runs/log-parameter", as: researcher, json: ["run_id": .string(runId), "key": "alpha", "value": "0.5"])
            #expect(param.status == .ok, "\(param.text)")
            let metric = try await scenario.call(
                .post, "\(api)/runs/log-metric", as: researcher,
                json: [
                    "run_id": .string(runId), "key": "rmse", "value": 0.25, "timestamp": .int(Int(Date().timeIntervalSince1970 * 1000)),
                    "step": 0,
                ])
            #expect(metric.status == .ok, "\(metric.text)")

            let read = try await scenario.call(.get, "\(api)/runs/get?run_id=\(runId)", as: researcher)
            #expect(read.status == .ok, "\(read.text)")
            let params = read.json["run"]?["data"]?["params"]?.arrayValue ?? []
            let metrics = read.json["run"]?["data"]?["metrics"]?.arrayValue ?? []
            #expect(params.contains { $0["key"] == "alpha" && $0["value"] == "0.5" }, "\(read.text)")
            #expect(metrics.contains { $0["key"] == "rmse" && $0["value"]?.numberValue == 0.25 }, "\(read.text)")

            // Artifacts go through the server (--artifacts-destination) into the workspace's shared storage.
            let artifactPath = "\(experimentId)/\(runId)/artifacts/notes.txt"
            let upload = try await scenario.call(
                .put, "/workspaces/\(ws)/services/\(svc)/api/2.0/mlflow-artifacts/artifacts/\(artifactPath)", as: researcher,
                body: ByteBuffer(string: "hello from e2e\n"))
            #expect(upload.status == .ok, "\(upload.text)")
            let stored = "\(enclave.dataDir.path)/workspaces/\(ws)/shared/services/\(svc)/artifacts/\(artifactPath)"
            #expect((try? String(contentsOfFile: stored, encoding: .utf8)) == "hello from e2e\n", "no artifact at \(stored)")

            // Nobody without a role in the workspace gets in.
            #expect(try await scenario.call(.get, "\(api)/experiments/search?max_results=10", as: TestUsers.noRole).status == .forbidden)

            // Job execution off: the server and its uvicorn worker only, no huey consumers.
            let processes = try await scenario.command.check(["ps", "-e", "-o", "uid=,args="])
            let mine = processes.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\(uid ?? -1) ") }
            #expect(!mine.isEmpty, "no MLflow process runs as the workspace uid")
            #expect(!mine.contains { $0.contains("huey") }, "\(mine)")
            if let uid {
                print("MLflow: \(mine.count) processes of the workspace uid, \(String(format: "%.0f", try await scenario.memoryMB(uid: uid))) MB PSS")
            }

            try await scenario.deleteWorkspace(ws, uid: uid)
        }
        let leftover = try await HostCommand().check(["ps", "-e", "-o", "args="])
        #expect(!leftover.contains(enclave.dataDir.path), "no process runs from the test's DATA any more")
    }
}

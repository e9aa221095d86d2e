import ArgumentParser
import AsyncHTTPClient
import EnclaveAPI
import EnclaveAuth
import EnclaveCore
import EnclaveLocal
import EnclaveServer
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// `enclave-bench jupyterlab-start`: a JupyterLab service's POST → first 200 from `<connection_uri>lab`
/// through the gateway, against JupyterLab's own cold start on the same machine.
///
/// One process runs the real application (`buildApplication`, host data plane: needs root) and creates one
/// restricted workspace; a first service installs the JupyterLab tool into `DATA/tools` (not timed) and is
/// deleted. Then each round, alternating so both share the machine's noise: (1) POST a
/// `tre-service-jupyterlab` service, poll its operation until `deployed`, then GET `<connection_uri>lab`
/// through the gateway until 200 (then the service is disabled and deleted, not timed); (2) start the same
/// `jupyter lab` binary directly, with the workload's arguments minus the sandbox (no namespace, no
/// bubblewrap, root with `--allow-root`, a fresh HOME and runtime dir), poll `/lab?token=…` until 200, kill it.
struct JupyterLabStartBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jupyterlab-start",
        abstract: "JupyterLab service POST -> first 200 through the gateway vs JupyterLab's own cold start (root).")

    @Option(help: "Data directory (default: a fresh temporary one; the tool install is kept there).") var dataDir: String?
    @Option(help: "Directory of template folders.") var templates: String = "templates"
    @Option(help: "Timed rounds (one service start and one direct start each).") var rounds: Int = 5
    @Option(help: "Enclave's port; the direct JupyterLab uses the next one.") var port: Int = 18450
    @Option(help: "Milliseconds between polls (of the operation, then of the page).") var pollMs: Int = 20
    @Option(help: "Enclave's log level.") var logLevel: String = "warning"

    static let toolFolder = "jupyterlab-4.6.6"

    func run() async throws {
        guard geteuid() == 0 else { throw ValidationError("Run as root: the host data plane creates namespaces and cgroups") }
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("Unknown log level '\(logLevel)'") }
        let work = URL(fileURLWithPath: "/var/tmp").appendingPathComponent("enclave-bench-jupyter-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var logger = Logger(label: "enclave")
        logger.logLevel = level
        let config = ServerConfiguration(
            dataDir: dataDir ?? work.appendingPathComponent("data").path, port: port, workers: 2, templatesDir: templates,
            logLevel: level, dataPlane: DataPlaneSettings(mode: .host, addressPool: "10.237.0.0/24", namePrefix: "bjl"))
        let deps = try await buildDependencies(config, logger: logger)
        let enclave = try buildApplication(deps)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: enclave)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let issuer = TokenIssuer(key: deps.signingKey, issuer: config.issuer, audience: config.settings.audience)
        let user = User(id: "bench", name: "Bench", email: "bench@localhost", roles: ["TREAdmin"])
        let token = try await issuer.token(for: user, ttl: 24 * 3600)

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var failure: (any Error)?
            do {
                let api = EnclaveClient(baseURL: "http://127.0.0.1:\(port)", token: token)
                try await BenchAPI.waitUntilHealthy(api, timeout: .seconds(30))
                try await measure(api, dataDir: config.dataDir, work: work)
            } catch {
                failure = error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            if let failure { throw failure }
        }
    }

    func measure(_ api: EnclaveClient, dataDir: String, work: URL) async throws {
        let workspace = try await createWorkspace(api)
        say("machine: nproc \(ProcessInfo.processInfo.activeProcessorCount), load average \(Self.loadAverage())")
        let warm = try await startService(api, workspace: workspace, dataDir: dataDir)
        say(String(format: "first service (installs %@ unless present): %.1f s to deployed", Self.toolFolder, warm.deployed))
        try await deleteService(api, workspace: workspace, service: warm.id)

        let jupyter = "\(dataDir)/tools/\(Self.toolFolder)/bin/jupyter"
        var service: [Double] = []
        var deployed: [Double] = []
        var direct: [Double] = []
        for round in 1...rounds {
            let started = try await startService(api, workspace: workspace, dataDir: dataDir)
            service.append(started.firstPage)
            deployed.append(started.deployed)
            try await deleteService(api, workspace: workspace, service: started.id)
            let own = try await startDirectly(jupyter, port: port + 1, work: work, round: round)
            direct.append(own.firstPage)
            say(
                "round \(round) (load \(Self.loadAverage())): service POST -> JupyterLab's first log line \(Self.format(started.firstLog)), "
                    + "-> its 'is running' \(Self.format(started.running)), -> deployed \(Self.format(started.deployed)), "
                    + "-> first 200 \(Self.format(started.firstPage)); direct spawn -> first log line \(Self.format(own.firstLog)), "
                    + "-> 'is running' \(Self.format(own.running)), -> first 200 \(Self.format(own.firstPage))")
        }
        let (s, d, p) = (Self.median(service), Self.median(direct), Self.median(deployed))
        say(String(format: "median over %d: service POST -> first 200 through the gateway %.2f s (POST -> deployed %.2f s)", rounds, s, p))
        say(String(format: "median over %d: JupyterLab's own cold start -> first 200 %.2f s", rounds, d))
        say(String(format: "ratio service / direct: %.2f (goal <= 1.2); load average %@", s / d, Self.loadAverage()))
        // Disable and delete the workspace, so its namespace, table and cgroups leave the host.
        let path = "/api/workspaces/\(workspace)"
        if let location = try await api.patch(path, body: Data(#"{"isEnabled": false}"#.utf8), etag: "*").location {
            _ = try await waitForOperation(api, location, timeout: 300)
        }
        if let location = try await api.delete(path).location { _ = try await waitForOperation(api, location, timeout: 300) }
    }

    /// A restricted workspace owned by the bench user (so it may add services and use the gateway).
    func createWorkspace(_ api: EnclaveClient) async throws -> String {
        let body: JSONValue = [
            "templateName": "tre-workspace-base",
            "properties": ["display_name": "jupyter bench", "description": "enclave-bench jupyterlab-start", "workspace_owner_object_id": "bench"],
        ]
        let created = try await api.post("/api/workspaces", body: Data(body.description.utf8))
        guard let location = created.location else { throw BenchError("POST /api/workspaces: \(created.status) \(created.text)") }
        let status = try await waitForOperation(api, location, timeout: 120)
        guard status == "deployed" else { throw BenchError("Workspace install ended \(status)") }
        return try BenchAPI.workspaceId(fromLocation: location)
    }

    struct StartedService {
        var id: String
        /// Seconds from the POST to JupyterLab's first log line and to its "is running" line (from its log).
        var firstLog: Double?
        var running: Double?
        /// Seconds from the POST to the operation's `deployed`, and to the first 200 from the page.
        var deployed: Double
        var firstPage: Double
    }

    func startService(_ api: EnclaveClient, workspace: String, dataDir: String) async throws -> StartedService {
        let body: JSONValue = ["templateName": "tre-service-jupyterlab", "properties": ["display_name": "Lab", "description": "bench"]]
        let clock = ContinuousClock()
        let start = clock.now
        let posted = Self.secondsOfDay(Date())
        let created = try await api.post("/api/workspaces/\(workspace)/workspace-services", body: Data(body.description.utf8))
        guard let location = created.location, let id = Self.component(after: "workspace-services", in: location) else {
            throw BenchError("POST workspace-services: \(created.status) \(created.text)")
        }
        let status = try await waitForOperation(api, location, timeout: 900)
        let deployed = (clock.now - start).seconds
        guard status == "deployed" else { throw BenchError("JupyterLab service install ended \(status)") }
        let resource = try await api.get("/api/workspaces/\(workspace)/workspace-services/\(id)")
        let json = try JSONDecoder().decode(JSONValue.self, from: resource.body)
        guard let uri = json["workspaceService"]?["properties"]?["connection_uri"]?.stringValue else {
            throw BenchError("The service reports no connection_uri: \(resource.text)")
        }
        while clock.now - start < .seconds(300) {
            if let page = try? await api.get("\(uri)lab"), page.status == 200 {
                let times = Self.jupyterTimes(log: "\(dataDir)/run/workloads/\(id).log")
                return StartedService(
                    id: id, firstLog: times.first.map { $0 - posted }, running: times.running.map { $0 - posted }, deployed: deployed,
                    firstPage: (clock.now - start).seconds)
            }
            try await Task.sleep(for: .milliseconds(pollMs))
        }
        throw BenchError("\(uri)lab did not answer 200 within 300 s")
    }

    func deleteService(_ api: EnclaveClient, workspace: String, service: String) async throws {
        let path = "/api/workspaces/\(workspace)/workspace-services/\(service)"
        let disabled = try await api.patch(path, body: Data(#"{"isEnabled": false}"#.utf8), etag: "*")
        guard let location = disabled.location else { throw BenchError("PATCH \(path): \(disabled.status) \(disabled.text)") }
        _ = try await waitForOperation(api, location, timeout: 300)
        let deleted = try await api.delete(path)
        guard let location = deleted.location else { throw BenchError("DELETE \(path): \(deleted.status) \(deleted.text)") }
        let status = try await waitForOperation(api, location, timeout: 300)
        guard status == "deleted" else { throw BenchError("Deleting the service ended \(status)") }
    }

    /// Polls an operation until it is terminal; an operation gone with its resource counts as `deleted`.
    func waitForOperation(_ api: EnclaveClient, _ location: String, timeout: Double) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            let response = try await api.send(.get, location)
            if response.status == 404 { return "deleted" }
            let status = try api.decode(BenchAPI.OperationEnvelope.self, from: response).operation.status
            if ["deployed", "deployment_failed", "updated", "update_failed", "deleted", "deletion_failed"].contains(status) { return status }
            try await Task.sleep(for: .milliseconds(pollMs))
        }
        throw BenchError("Operation \(location) did not finish within \(timeout) s")
    }

    /// The workload's command line without the sandbox, as root; seconds from spawn to the first 200 from `/lab`.
    func startDirectly(_ jupyter: String, port: Int, work: URL, round: Int) async throws -> (firstPage: Double, firstLog: Double?, running: Double?) {
        let run = work.appendingPathComponent("direct-\(round)")
        for folder in ["home", "runtime", "root"] {
            try FileManager.default.createDirectory(at: run.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let token = UUID().uuidString.lowercased()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: jupyter)
        process.arguments = [
            "lab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1", "--ServerApp.port=\(port)", "--ServerApp.port_retries=0",
            "--ServerApp.base_url=/", "--ServerApp.root_dir=\(run.appendingPathComponent("root").path)", "--ServerApp.allow_origin=*",
            "--ServerApp.trust_xheaders=True",
        ]
        process.environment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": run.appendingPathComponent("home").path, "LANG": "C.UTF-8", "TMPDIR": "/tmp",
            "JUPYTER_TOKEN": token, "JUPYTER_RUNTIME_DIR": run.appendingPathComponent("runtime").path,
        ]
        let log = try FileHandle(forWritingTo: Self.createFile(run.appendingPathComponent("jupyter.log")))
        process.standardOutput = log
        process.standardError = log
        let clock = ContinuousClock()
        let start = clock.now
        let spawned = Self.secondsOfDay(Date())
        try process.run()
        defer {
            kill(process.processIdentifier, SIGKILL)
            try? log.close()
        }
        let url = "http://127.0.0.1:\(port)/lab?token=\(token)"
        while clock.now - start < .seconds(300), process.isRunning {
            // The same probe as the supervisor's: AsyncHTTPClient alone backs off on refused connects.
            guard await PortProbe.accepts(host: "127.0.0.1", port: port) else {
                try await Task.sleep(for: .milliseconds(pollMs))
                continue
            }
            let request = HTTPClientRequest(url: url)
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(5)), response.status.code == 200 {
                _ = try? await response.body.collect(upTo: 1 << 24)
                let elapsed = (clock.now - start).seconds
                kill(process.processIdentifier, SIGKILL)
                while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
                let times = Self.jupyterTimes(log: run.appendingPathComponent("jupyter.log").path)
                return (elapsed, times.first.map { $0 - spawned }, times.running.map { $0 - spawned })
            }
            try await Task.sleep(for: .milliseconds(pollMs))
        }
        throw BenchError("JupyterLab started directly did not answer 200 from /lab (log: \(run.path)/jupyter.log)")
    }

    /// Writes a line at once (print is buffered when redirected to a file, and rounds take seconds).
    func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func format(_ seconds: Double?) -> String {
        seconds.map { String(format: "%.2f s", $0) } ?? "?"
    }

    /// Seconds since local midnight, the clock JupyterLab's log lines use.
    static func secondsOfDay(_ date: Date) -> Double {
        let parts = Calendar.current.dateComponents([.hour, .minute, .second, .nanosecond], from: date)
        let whole: Int = (parts.hour ?? 0) * 3600 + (parts.minute ?? 0) * 60 + (parts.second ?? 0)
        let fraction: Double = Double(parts.nanosecond ?? 0) / 1e9
        return Double(whole) + fraction
    }

    /// The local times (seconds of the day) of a JupyterLab log's first line and its "is running at" line
    /// (`[I 2026-11-22 02:02:16.351 ServerApp] …`).
    static func jupyterTimes(log path: String) -> (first: Double?, running: Double?) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return (nil, nil) }
        func time(_ line: Substring) -> Double? {
            let fields = line.split(separator: " ")
            guard fields.count > 2, fields[0].hasPrefix("[") else { return nil }
            let clock = fields[2].split(separator: ":")
            guard clock.count == 3, let h = Double(clock[0]), let m = Double(clock[1]), let s = Double(clock[2]) else { return nil }
            return h * 3600 + m * 60 + s
        }
        let lines = text.split(separator: "\n")
        return (lines.lazy.compactMap(time).first, lines.first { $0.contains("is running at") }.flatMap(time))
    }

    static func createFile(_ url: URL) -> URL {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        return url
    }

    static func component(after name: String, in location: String) -> String? {
        let parts = location.split(separator: "/")
        guard let index = parts.firstIndex(where: { $0 == name }), index + 1 < parts.count else { return nil }
        return String(parts[index + 1])
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}

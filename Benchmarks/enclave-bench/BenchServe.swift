import ArgumentParser
import EnclaveAPI
import EnclaveAuth
import EnclaveCore
import EnclaveServer
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `enclave-bench serve` (hidden): the real control plane plus a bare route returning the same bytes.
///
/// The GET benchmark compares `GET /api/workspaces/{id}` with a route that does no work, so both
/// must run in the same binary, on the same event loops, with the same logging and metrics set-up:
/// then the ratio isolates what Enclave's own code (token check, store read, policy, JSON) costs.
/// The process builds the app exactly as `enclave serve` does (`buildDependencies`, `buildRouter`),
/// creates one workspace through its own API, captures that GET response once, and serves a copy:
///
/// - `/bench/bare` on the real router: behind the same middleware (errors, metrics, request log) but
///   no token check, no store read;
/// - `/bench/bare` on `--bare-port`: a plain Hummingbird router with no middleware at all.
///
/// When everything is ready it writes `WORKSPACE_ID=` and `TOKEN=` lines to `--ready-file`.
struct BenchServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the real API plus /bench/bare (a captured GET workspace response) for wrk.",
        shouldDisplay: false)

    @Option(help: "Data directory (use a fresh one).") var dataDir: String
    @Option(help: "Directory of template folders.") var templates: String = "Benchmarks/templates"
    @Option(help: "Template of the workspace whose GET response is captured.") var template: String = "bench-noop"
    @Option(help: "Port of the real API (and its /bench/bare).") var port: Int = 8301
    @Option(help: "Port of the middleware-free bare router.") var barePort: Int = 8302
    @Option(help: "In-process workers.") var workers: Int = 2
    @Option(help: "Log level, as `enclave serve` (info logs every request).") var logLevel: String = "info"
    @Option(help: "File that receives WORKSPACE_ID= and TOKEN= once the bare routes are ready.") var readyFile: String

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("Unknown log level '\(logLevel)'") }
        let config = ServerConfiguration(
            dataDir: dataDir, port: port, workers: workers, templatesDir: templates, logLevel: level)
        // The same process-wide set-up as `enclave serve`, so the middleware costs the same.
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var logger = Logger(label: "enclave")
        logger.logLevel = level

        let deps = try await buildDependencies(config, registry: registry, logger: logger)
        let captured = CapturedResponse()
        let router = try buildRouter(deps)
        router.get("bench/bare") { _, _ in try captured.response() }
        let bareRouter = Router()
        bareRouter.get("bench/bare") { _, _ in try captured.response() }

        let app = Application(
            router: router,
            configuration: .init(address: .hostname(config.host, port: port), serverName: "enclave"),
            services: [deps.engine], logger: logger)
        let bareApp = Application(
            router: bareRouter,
            configuration: .init(address: .hostname(config.host, port: barePort), serverName: "enclave"),
            logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app), .init(service: bareApp)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))

        let issuer = TokenIssuer(key: deps.signingKey, issuer: config.issuer, audience: config.settings.audience)
        let token = try await issuer.token(
            for: User(id: "bench", name: "Bench", email: "bench@localhost", roles: ["TREAdmin"]), ttl: 24 * 3600)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let client = EnclaveClient(baseURL: "http://\(config.host):\(port)", token: token)
            try await BenchAPI.waitUntilHealthy(client, timeout: .seconds(30))
            let workspaceId = try await BenchAPI.createWorkspace(client, template: template, timeout: .seconds(60))
            let response = try await client.get("/api/workspaces/\(workspaceId)")
            captured.set(body: response.body, contentType: response.header("content-type") ?? "application/json")
            let ready = "WORKSPACE_ID=\(workspaceId)\nTOKEN=\(token)\n"
            guard FileManager.default.createFile(atPath: readyFile, contents: Data(ready.utf8)) else {
                throw BenchError("Cannot write \(readyFile)")
            }
            logger.notice("bench serve ready", metadata: ["workspace": "\(workspaceId)", "bytes": "\(response.body.count)"])
            try await tasks.waitForAll()
        }
    }
}

/// The GET workspace response, captured once, served by both bare routes.
///
/// Set once by the start-up task and read by every request, so a mutex around an immutable buffer
/// is enough; routes answer 503 until the capture is done (the ready file is written after it).
final class CapturedResponse: Sendable {
    private struct Snapshot: Sendable {
        var body: ByteBuffer
        var contentType: String
    }

    private let snapshot = Mutex<Snapshot?>(nil)

    func set(body: Data, contentType: String) {
        snapshot.withLock { $0 = Snapshot(body: ByteBuffer(bytes: body), contentType: contentType) }
    }

    func response() throws -> Response {
        guard let current = snapshot.withLock({ $0 }) else {
            throw HTTPError(.serviceUnavailable, message: "The benchmark response is not captured yet")
        }
        return Response(
            status: .ok, headers: [.contentType: current.contentType], body: ResponseBody(byteBuffer: current.body))
    }
}

import ArgumentParser
import EnclaveAPI
import EnclaveAuth
import EnclaveCore
import EnclaveServer
import EnclaveStore
import Foundation
import Histogram
import Logging
import ServiceLifecycle
import UnixSignals

/// `enclave-bench portal`: the workspace page with 50 services and 200 operations (issue 6's figure).
///
/// A fresh store is seeded directly (a deployed workspace, `--services` deployed services with connection
/// URIs, `--operations` finished operations spread over them with three steps each, two still running) and
/// a browser session is written into it, as a sign-in would leave it. The real application (`buildApplication`,
/// as `enclave serve`) then answers sequential GETs of `/workspaces/{id}` with that session's cookie,
/// alternating by round with `GET /api/workspaces/{id}/workspace-services` (the same services as JSON, with
/// a bearer token) so both share the machine's noise. Reported: p50/p99 per target, and the bytes a browser
/// transfers for the page: its HTML, `portal.css` and every script it loads, uncompressed.
struct PortalBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portal",
        abstract: "Workspace page render time (p50/p99) and bytes with N services and M operations, against the services API.")

    @Option(help: "Services in the workspace.") var services: Int = 50
    @Option(help: "Operations on the workspace's services.") var operations: Int = 200
    @Option(help: "Requests per target per round.") var requests: Int = 300
    @Option(help: "Rounds (page, then API, each round).") var rounds: Int = 3
    @Option(help: "Loopback port for Enclave.") var port: Int = 18480
    @Option(help: "Directory of template folders.") var templates: String = "Benchmarks/templates"
    @Option(help: "Also write the page and its static files into this directory (to look at it in a browser).")
    var savePage: String?

    func run() async throws {
        let work = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("enclave-bench-portal-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var logger = Logger(label: "enclave")
        logger.logLevel = .warning
        var config = ServerConfiguration(
            dataDir: work.appendingPathComponent("data").path, port: port, workers: 0, templatesDir: templates, logLevel: .warning)
        // No airlock scanning is measured here: no clamd.
        config.airlock.scanner = .none
        let deps = try await buildDependencies(config, logger: logger)
        let app = try buildApplication(deps)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))

        let user = User(id: "bench-owner", name: "Bench Owner", email: "owner@bench.localhost", roles: ["TREAdmin"])
        let workspaceId = try await seed(deps.store, user: user)
        let cookie = SecretToken.random()
        let now = Date().timeIntervalSince1970
        try await deps.store.createSession(
            BrowserSession(
                id: SecretToken.sha256Hex(cookie), user: user, amr: ["pwd", "otp"], csrf: SecretToken.random(), issuer: "bench",
                idToken: nil, createdAt: now),
            audit: [])
        let token = try await TokenIssuer(key: deps.signingKey, issuer: config.issuer, audience: config.settings.audience)
            .token(for: user, ttl: 24 * 3600)

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let base = "http://127.0.0.1:\(port)"
            let browser = EnclaveClient(baseURL: base, token: nil)
            let api = EnclaveClient(baseURL: base, token: token)
            try await BenchAPI.waitUntilHealthy(api, timeout: .seconds(30))
            let page = "/workspaces/\(workspaceId)"
            let headers = ["Cookie": "enclave_session=\(cookie)", "Accept": "text/html"]

            let first = try await browser.send(.get, page, headers: headers)
            guard first.status == 200, first.text.contains("<h1>Bench workspace</h1>") else {
                throw BenchError("GET \(page) answered \(first.status): \(first.text.prefix(300))")
            }
            let apiFirst = try await api.get("/api\(page)/workspace-services")
            let assets = try await assetBytes(browser, html: first.text)
            if let savePage { try await save(first.text, assets: assets, client: browser, to: savePage) }
            print("portal: workspace page with \(services) services and \(operations) operations; \(requests) sequential requests per target, \(rounds) rounds")
            print("bytes: page \(first.body.count), \(assets.map { "\($0.name) \($0.bytes)" }.joined(separator: ", ")); total \(first.body.count + assets.reduce(0) { $0 + $1.bytes }) (goal < 102400); services API JSON \(apiFirst.body.count)")

            var pageAll = Self.histogram()
            var apiAll = Self.histogram()
            for round in 1...rounds {
                let pageRound = try await measure { _ = try await browser.send(.get, page, headers: headers) }
                let apiRound = try await measure { _ = try await api.send(.get, "/api\(page)/workspace-services") }
                pageAll.add(pageRound)
                apiAll.add(apiRound)
                print(String(
                    format: "round %d: page p50 %.2f ms p99 %.2f ms; services API p50 %.2f ms p99 %.2f ms", round,
                    Self.ms(pageRound, 50), Self.ms(pageRound, 99), Self.ms(apiRound, 50), Self.ms(apiRound, 99)))
            }
            print(String(
                format: "all rounds: page p50 %.2f ms p99 %.2f ms (goal p50 < 20 ms: %@); services API p50 %.2f ms p99 %.2f ms",
                Self.ms(pageAll, 50), Self.ms(pageAll, 99), Self.ms(pageAll, 50) < 20 ? "met" : "NOT met", Self.ms(apiAll, 50),
                Self.ms(apiAll, 99)))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    static func histogram() -> Histogram<UInt64> {
        Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    }

    static func ms(_ histogram: Histogram<UInt64>, _ percentile: Double) -> Double {
        Double(histogram.valueAtPercentile(percentile)) / 1000
    }

    /// Microseconds of each of `requests` sequential calls, after a few unmeasured ones.
    func measure(_ call: () async throws -> Void) async throws -> Histogram<UInt64> {
        for _ in 0..<10 { try await call() }
        var histogram = Self.histogram()
        for _ in 0..<requests {
            let start = ContinuousClock.now
            try await call()
            let elapsed = ContinuousClock.now - start
            histogram.record(UInt64(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000))
        }
        return histogram
    }

    /// The stylesheet and scripts the page links (`/static/…`), each fetched once, with its size.
    func assetBytes(_ client: EnclaveClient, html: String) async throws -> [(name: String, bytes: Int)] {
        var found: [(name: String, bytes: Int)] = []
        var rest = Substring(html)
        while let range = rest.range(of: "\"/static/") {
            let start = rest.index(after: range.lowerBound)
            guard let end = rest[start...].firstIndex(of: "\"") else { break }
            let url = String(rest[start..<end])
            let response = try await client.send(.get, url)
            guard response.status == 200 else { throw BenchError("GET \(url) answered \(response.status)") }
            found.append((String(url.dropFirst("/static/".count).prefix { $0 != "?" }), response.body.count))
            rest = rest[end...]
        }
        return found
    }

    /// The page with its `/static/…` links made relative, and those files beside it.
    func save(_ html: String, assets: [(name: String, bytes: Int)], client: EnclaveClient, to directory: String) async throws {
        let folder = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("static"), withIntermediateDirectories: true)
        var page = html
        for asset in assets {
            try await client.send(.get, "/static/\(asset.name)").body.write(to: folder.appendingPathComponent("static/\(asset.name)"))
        }
        page = page.replacingOccurrences(of: "\"/static/", with: "\"static/")
        try page.write(to: folder.appendingPathComponent("workspace.html"), atomically: true, encoding: .utf8)
    }

    /// A deployed workspace owned by `user`, its services and their operations, written in one transaction.
    func seed(_ store: any Store, user: User) async throws -> String {
        let now = Date().timeIntervalSince1970
        let workspaceId = UUID().uuidString.lowercased()
        let overview = """
            # Bench workspace

            A workspace for measuring the portal: **\(services) services** and \(operations) operations.
            See [the protocol](https://example.org/protocol) before you start.
            """
        var changes = ChangeSet()
        changes.insertResources.append(
            Resource(
                id: workspaceId, resourceType: .workspace, templateName: "tre-workspace-base", templateVersion: "0.1.0",
                properties: ["display_name": "Bench workspace", "description": "Seeded by enclave-bench portal", "overview": .string(overview)],
                deploymentStatus: "deployed", etag: workspaceId, resourcePath: Resource.path(type: .workspace, id: workspaceId), user: user,
                updatedWhen: now))
        var serviceIds: [String] = []
        for index in 0..<services {
            let id = UUID().uuidString.lowercased()
            serviceIds.append(id)
            changes.insertResources.append(
                Resource(
                    id: id, resourceType: .workspaceService, templateName: "tre-service-jupyterlab", templateVersion: "0.3.0",
                    properties: [
                        "display_name": .string("Analysis service \(index + 1)"),
                        "description": "JupyterLab for the study's analysts",
                        "connection_uri": .string("https://enclave.example/workspaces/\(workspaceId)/services/\(id)/"),
                    ],
                    deploymentStatus: "deployed", etag: id,
                    resourcePath: Resource.path(type: .workspaceService, id: id, workspaceId: workspaceId), user: user,
                    updatedWhen: now, workspaceId: workspaceId))
        }
        for index in 0..<operations {
            let serviceId = serviceIds[index % max(1, serviceIds.count)]
            let path = Resource.path(type: .workspaceService, id: serviceId, workspaceId: workspaceId)
            let running = index >= operations - 2
            let action = index < serviceIds.count ? "install" : "upgrade"
            let done: OperationStatus = action == "install" ? .deployed : .updated
            let status: OperationStatus = running ? .updating : done
            let steps = ["prepare", "install tools", "start"].enumerated().map { step, title in
                OperationStep(
                    id: UUID().uuidString.lowercased(), templateStepId: "main", stepTitle: title, resourceId: serviceId,
                    resourceTemplateName: "tre-service-jupyterlab", resourceType: .workspaceService, resourceAction: action,
                    status: running && step > 0 ? .awaitingUpdate : status, message: running ? "" : "\(title): done",
                    updatedWhen: now, sourceTemplateResourceId: serviceId)
            }
            changes.insertOperations.append(
                ResourceOperation(
                    id: UUID().uuidString.lowercased(), resourceId: serviceId, resourcePath: path, resourceVersion: index / max(1, services),
                    status: status, action: action, message: running ? "" : "\(action) finished",
                    createdWhen: now - Double(operations - index) * 60, updatedWhen: now, user: user, steps: steps))
        }
        changes.assignRoles = [RoleAssignment(workspaceId: workspaceId, userId: user.id, role: .owner)]
        try await store.commit(changes)
        return workspaceId
    }
}

import AsyncHTTPClient
import ArgumentParser
import EnclaveAPI
import EnclaveAuth
import EnclaveCore
import EnclaveServer
import EnclaveStore
import Foundation
import Histogram
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import UnixSignals

/// `enclave-bench gateway`: the gateway against the same tool reached directly, and against nginx as a reverse proxy.
///
/// One process runs a static upstream (a Hummingbird route answering a fixed `--body-kib` body, as a tool's static
/// file would be) and the real Enclave application (`buildApplication`, as `enclave serve`) with one workspace and a
/// workspace service whose deployer-reported upstream is that route; nginx, if installed, runs as a reverse proxy to
/// it with a generated configuration (keep-alive to the upstream, no access log). Each round loads direct, gateway
/// and nginx in turn with `--connections` keep-alive connections (AsyncHTTPClient, one request in flight per
/// connection) for `--seconds`; rounds alternate so every ratio shares the machine's noise. Enclave logs at
/// `--log-level` (warning: no per-request line, as nginx without an access log).
struct GatewayBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Gateway vs direct vs nginx: req/s and p50/p99 for a static body at N keep-alive connections.")

    @Option(help: "Data directory (default: a fresh temporary one).") var dataDir: String?
    @Option(help: "Directory of template folders.") var templates: String = "Benchmarks/templates"
    @Option(help: "Keep-alive connections per target.") var connections: Int = 64
    @Option(help: "Seconds of load per target per round.") var seconds: Int = 5
    @Option(help: "Rounds (direct, gateway, nginx each round).") var rounds: Int = 3
    @Option(help: "Size of the static body in KiB.") var bodyKib: Int = 16
    @Option(help: "First of three loopback ports (upstream, Enclave, nginx).") var portBase: Int = 18400
    @Option(help: "nginx binary (skipped with a message if absent).") var nginx: String = "/usr/sbin/nginx"
    @Option(help: "Enclave's log level.") var logLevel: String = "warning"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("Unknown log level '\(logLevel)'") }
        let work = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("enclave-bench-gateway-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let (upstreamPort, enclavePort, nginxPort) = (portBase, portBase + 1, portBase + 2)
        var logger = Logger(label: "enclave")
        logger.logLevel = level

        let body = ByteBuffer(repeating: UInt8(ascii: "x"), count: bodyKib * 1024)
        let upstreamRouter = Router()
        upstreamRouter.get("static") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: body))
        }
        var quiet = Logger(label: "upstream")
        quiet.logLevel = .warning
        let upstream = Application(
            router: upstreamRouter, configuration: .init(address: .hostname("127.0.0.1", port: upstreamPort)), logger: quiet)

        let config = ServerConfiguration(
            dataDir: dataDir ?? work.appendingPathComponent("data").path, port: enclavePort, workers: 2, templatesDir: templates,
            logLevel: level)
        let deps = try await buildDependencies(config, logger: logger)
        let enclave = try buildApplication(deps)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: upstream), .init(service: enclave)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))

        let nginxProcess = try startNginx(work: work, listen: nginxPort, upstreamPort: upstreamPort)
        defer { nginxProcess?.terminate() }

        let issuer = TokenIssuer(key: deps.signingKey, issuer: config.issuer, audience: config.settings.audience)
        let user = User(id: "bench", name: "Bench", email: "bench@localhost", roles: ["TREAdmin"])
        let token = try await issuer.token(for: user, ttl: 24 * 3600)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let api = EnclaveClient(baseURL: "http://127.0.0.1:\(enclavePort)", token: token)
            try await BenchAPI.waitUntilHealthy(api, timeout: .seconds(30))
            let workspaceId = try await BenchAPI.createWorkspace(api, template: "bench-noop", timeout: .seconds(60))
            let serviceId = try await registerService(deps, workspaceId: workspaceId, user: user, upstreamPort: upstreamPort)

            var targets: [(String, String)] = [
                ("direct", "http://127.0.0.1:\(upstreamPort)/static"),
                ("gateway", "http://127.0.0.1:\(enclavePort)/workspaces/\(workspaceId)/services/\(serviceId)/static"),
            ]
            if nginxProcess != nil { targets.append(("nginx", "http://127.0.0.1:\(nginxPort)/static")) }
            try await measure(targets, bearer: "Bearer \(token)", expectedBytes: body.readableBytes)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// A workspace service whose deployer reported the static upstream, as `StepCompletion` records it.
    func registerService(_ deps: EnclaveDependencies, workspaceId: String, user: User, upstreamPort: Int) async throws -> String {
        let id = UUID().uuidString.lowercased()
        let service = Resource(
            id: id, resourceType: .workspaceService, templateName: "bench-static", templateVersion: "1.0.0",
            properties: ["display_name": "static"], deploymentStatus: "deployed", etag: id,
            resourcePath: Resource.path(type: .workspaceService, id: id, workspaceId: workspaceId, serviceId: nil),
            user: user, updatedWhen: Date().timeIntervalSince1970, workspaceId: workspaceId)
        var changes = ChangeSet()
        changes.insertResources = [service]
        changes.putSecrets[id] = try deps.controlPlane.secrets.seal([
            GatewayOutputs.upstream: .string("http://127.0.0.1:\(upstreamPort)")
        ])
        changes.assignRoles = [RoleAssignment(workspaceId: workspaceId, userId: user.id, role: .owner)]
        try await deps.store.commit(changes)
        return id
    }

    /// nginx as a reverse proxy on loopback (as an operator would put it in front of the tool), or nil when absent.
    func startNginx(work: URL, listen: Int, upstreamPort: Int) throws -> Process? {
        guard FileManager.default.isExecutableFile(atPath: nginx) else {
            print("nginx: not found at \(nginx); skipped (Debian: apt-get install nginx-light)")
            return nil
        }
        let dir = work.appendingPathComponent("nginx")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        let conf = """
            daemon off;
            worker_processes auto;
            pid \(dir.path)/nginx.pid;
            error_log \(dir.path)/error.log warn;
            events { worker_connections 4096; }
            http {
                access_log off;
                client_body_temp_path \(dir.path)/tmp/body;
                proxy_temp_path \(dir.path)/tmp/proxy;
                fastcgi_temp_path \(dir.path)/tmp/fastcgi;
                uwsgi_temp_path \(dir.path)/tmp/uwsgi;
                scgi_temp_path \(dir.path)/tmp/scgi;
                keepalive_requests 1000000;
                upstream tool { server 127.0.0.1:\(upstreamPort); keepalive 128; }
                server {
                    listen 127.0.0.1:\(listen);
                    location / {
                        proxy_pass http://tool;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_set_header Host $host;
                        proxy_set_header X-Forwarded-For $remote_addr;
                    }
                }
            }
            """
        let file = dir.appendingPathComponent("nginx.conf")
        try conf.write(to: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: nginx)
        process.arguments = ["-e", dir.appendingPathComponent("error.log").path, "-p", dir.path, "-c", file.path]
        try process.run()
        return process
    }

    struct Round {
        var requests = 0
        var errors = 0
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var seconds = 0.0
        var rate: Double { Double(requests) / seconds }
    }

    func measure(_ targets: [(String, String)], bearer: String, expectedBytes: Int) async throws {
        let client = BenchAPI.httpClient(connections: connections)
        let outcome = await asyncOutcome { try await report(client, targets, bearer: bearer, expectedBytes: expectedBytes) }
        try? await client.shutdown()
        try outcome.get()
    }

    func report(_ client: HTTPClient, _ targets: [(String, String)], bearer: String, expectedBytes: Int) async throws {
        for (name, url) in targets {  // warm up, and check every target answers the same body
            let warm = try await load(client, url: url, bearer: bearer, seconds: 1, expectedBytes: expectedBytes)
            guard warm.requests > 0, warm.errors == 0 else { throw BenchError("\(name) (\(url)) did not answer 200 with \(expectedBytes) bytes") }
        }
        var all: [String: [Round]] = [:]
        print(String(format: "%-6@ %-8@ %10@ %9@ %9@ %7@", "round", "target", "req/s", "p50 ms", "p99 ms", "errors"))
        for round in 1...rounds {
            for (name, url) in targets {
                let result = try await load(client, url: url, bearer: bearer, seconds: seconds, expectedBytes: expectedBytes)
                all[name, default: []].append(result)
                print(String(format: "%-6d %-8@ %10.0f %9.3f %9.3f %7d", round, name, result.rate,
                    ms(result.latency.valueAtPercentile(50)), ms(result.latency.valueAtPercentile(99)), result.errors))
            }
        }
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        let direct = all["direct"] ?? []
        for (name, _) in targets {
            let rounds = all[name] ?? []
            print(String(format: "median %-8@ %10.0f req/s, p50 %.3f ms, p99 %.3f ms", name, median(rounds.map(\.rate)),
                median(rounds.map { ms($0.latency.valueAtPercentile(50)) }), median(rounds.map { ms($0.latency.valueAtPercentile(99)) })))
        }
        for (name, _) in targets where name != "direct" {
            let rounds = all[name] ?? []
            let ratio = median(zip(rounds, direct).map { $0.rate / $1.rate })
            let added = median(zip(rounds, direct).map { ms($0.latency.valueAtPercentile(50)) - ms($1.latency.valueAtPercentile(50)) })
            let goal = name == "gateway" ? String(format: "  (goals >= 0.8 and < 1 ms: %@, %@)", ratio >= 0.8 ? "met" : "NOT met", added < 1 ? "met" : "NOT met") : ""
            print(String(format: "%@ / direct: throughput ratio %.3f, added p50 %.3f ms (medians over %d rounds)%@", name, ratio, added, rounds.count, goal))
        }
    }

    func ms(_ micros: UInt64) -> Double { Double(micros) / 1000 }

    /// `connections` loops, each sending GET `url` back to back on its keep-alive connection for `seconds`.
    func load(_ client: HTTPClient, url: String, bearer: String, seconds: Int, expectedBytes: Int) async throws -> Round {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: bearer)
        let started = ContinuousClock.now
        let deadline = started + .seconds(seconds)
        let request1 = request
        var total = try await withThrowingTaskGroup(of: Round.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    var round = Round()
                    while ContinuousClock.now < deadline {
                        let sent = ContinuousClock.now
                        let outcome = await asyncOutcome {
                            let response = try await client.execute(request1, timeout: .seconds(30))
                            let body = try await response.body.collect(upTo: expectedBytes * 2)
                            return response.status.code == 200 && body.readableBytes == expectedBytes
                        }
                        let elapsed = ContinuousClock.now - sent
                        if case .success(true) = outcome {
                            round.requests += 1
                            _ = round.latency.record(UInt64(max(1, elapsed.components.attoseconds / 1_000_000_000_000 + elapsed.components.seconds * 1_000_000)))
                        } else {
                            round.errors += 1
                        }
                    }
                    return round
                }
            }
            var total = Round()
            for try await round in group {
                total.requests += round.requests
                total.errors += round.errors
                total.latency.add(round.latency)
            }
            return total
        }
        let elapsed = ContinuousClock.now - started
        total.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return total
    }
}

/// `Result(catching:)` for async bodies.
func asyncOutcome<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}

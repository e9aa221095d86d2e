import EnclaveAirlock
import EnclaveAuth
import EnclaveCore
import EnclaveEngine
import EnclaveStore
import Foundation
import Hummingbird
import Logging
import HTTPTypes

/// Unauthenticated routes: health, ping, metadata, the JWKS and the OpenAPI document.
struct HealthController: Sendable {
    let report: HealthReport
    let settings: ControlPlaneSettings
    let signIn: SignInMetadata
    let jwksJSON: String
    let openAPIDocument: Data

    typealias ServiceHealth = HealthReport.ServiceHealth

    func register(on router: Router<EnclaveRequestContext>) {
        for path in ["/health", "/api/health"] {
            router.get(RouterPath(path)) { _, _ in try await health() }
        }
        for path in ["/ping", "/api", "/api/ping"] {
            router.get(RouterPath(path)) { _, _ in try JSONBody.response("pong") }
        }
        // `/` answers "pong" as Azure TRE's does, except to browsers, which go to the portal's home page.
        router.get("/") { request, _ in
            if request.headers[.accept]?.contains("text/html") == true {
                return Response(status: .seeOther, headers: [.location: "/workspaces", .cacheControl: "no-store"])
            }
            return try JSONBody.response("pong")
        }
        for path in ["/.metadata", "/api/.metadata"] {
            router.get(RouterPath(path)) { _, _ in
                try JSONBody.response([
                    "api_version": EnclaveVersion.api, "api_client_id": settings.audience,
                    "api_root_scope": "\(settings.audience)/user_impersonation", "aad_tenant_id": "",
                    "oidc_issuer": signIn.issuer, "cli_client_id": signIn.cliClientId, "cli_scopes": signIn.cliScopes,
                ])
            }
        }
        router.get("/.well-known/jwks.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: .init(string: jwksJSON)))
        }
        router.get("/api/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: .init(bytes: openAPIDocument)))
        }
    }

    /// Always 200, as Azure TRE: each part reports OK or Not OK with a message saying what is wrong.
    func health() async throws -> Response {
        try JSONBody.response(Envelope("services", await report.services()))
    }
}

/// What `/api/health` and the portal's health page report: each part of the server, OK or Not OK, with
/// a message saying what is wrong (or what mode it runs in).
struct HealthReport: Sendable {
    let store: any Store
    let engine: EngineStatus
    let deployers: [any Deployer]
    let dataPlane: any IsolationStepRunner
    let dataPlaneMode: DataPlaneMode
    let airlockScanner: any MalwareScanner
    /// The external OIDC provider's key fetcher; nil when only Enclave's own tokens are trusted.
    let identityProvider: OIDCKeyProvider?

    struct ServiceHealth: Encodable {
        var service: String
        var status: String
        var message: String

        var isOK: Bool { status == "OK" }
    }

    func services() async -> [ServiceHealth] {
        var services: [ServiceHealth] = []
        let storeProblem = await store.healthProblem()
        services.append(ServiceHealth(service: "Store", status: storeProblem == nil ? "OK" : "Not OK", message: storeProblem ?? ""))
        services.append(await engine.health(store: store))
        for deployer in deployers {
            let problem = await deployer.healthProblem()
            services.append(
                ServiceHealth(service: "Deployer: \(deployer.name)", status: problem == nil ? "OK" : "Not OK", message: problem ?? ""))
        }
        services.append(await dataPlaneHealth())
        services.append(await airlockScannerHealth())
        services.append(await identityHealth())
        return services
    }

    /// Whether workspaces can be isolated on this host (root, `ip`, `nft`, cgroup controllers).
    func dataPlaneHealth() async -> ServiceHealth {
        if dataPlaneMode == .simulated {
            return ServiceHealth(
                service: "Data plane", status: "OK",
                message: "Simulated (--data-plane simulated): workspaces are NOT isolated on this host; development only")
        }
        if let problem = await dataPlane.healthProblem() {
            return ServiceHealth(service: "Data plane", status: "Not OK", message: problem)
        }
        return ServiceHealth(
            service: "Data plane", status: "OK", message: "Network namespaces, nftables and cgroup limits available")
    }

    /// Whether the airlock can scan files now (it fails closed: without a scanner, requests never reach review).
    func airlockScannerHealth() async -> ServiceHealth {
        if airlockScanner is NoMalwareScanner {
            return ServiceHealth(
                service: "Airlock scanner", status: "OK", message: "Scanning disabled (--airlock-scanner none): files are recorded as not scanned")
        }
        if let problem = await airlockScanner.healthProblem() {
            return ServiceHealth(service: "Airlock scanner", status: "Not OK", message: problem)
        }
        return ServiceHealth(service: "Airlock scanner", status: "OK", message: "ClamAV answers and its signatures are loaded")
    }

    /// Whether bearer tokens from the configured external provider can be verified now.
    func identityHealth() async -> ServiceHealth {
        guard let identityProvider else {
            return ServiceHealth(
                service: "Identity provider", status: "OK",
                message: "Enclave's own tokens only (issuer and JWKS of this server); no external OIDC provider configured")
        }
        let status = await identityProvider.status
        return ServiceHealth(service: "Identity provider", status: status.ok ? "OK" : "Not OK", message: status.message)
    }
}

/// What `/api/health` and `/metrics` report about the resource processor.
struct EngineStatus: Sendable {
    /// Live in-process workers, or nil when this process runs none (workers run elsewhere).
    let aliveWorkers: @Sendable () -> Int
    let configuredWorkers: Int
    let now: @Sendable () -> Double

    func health(store: any Store) async -> HealthReport.ServiceHealth {
        let stats = try? await store.queueStats(now: now())
        let alive = aliveWorkers()
        var parts = ["\(alive)/\(configuredWorkers) workers alive in this process"]
        if let stats {
            parts.append("\(stats.queued) steps queued, \(stats.running) running")
            if let age = stats.oldestQueuedAgeSeconds { parts.append(String(format: "oldest queued step waiting %.1f s", age)) }
        }
        let ok = stats != nil && (configuredWorkers == 0 || alive > 0)
        let message = ok ? parts.joined(separator: "; ") : "No worker is running: " + parts.joined(separator: "; ")
        return .init(service: "Resource Processor", status: ok ? "OK" : "Not OK", message: message)
    }
}

/// Version strings reported by the API.
public enum EnclaveVersion {
    public static let api = "0.1.0"
}

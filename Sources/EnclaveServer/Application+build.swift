import Crypto
public import EnclaveAirlock
import EnclavePortal
import EnclaveAPI
public import EnclaveAuth
import EnclaveCore
public import EnclaveEngine
public import EnclaveGateway
public import EnclaveLocal
public import EnclaveStore
import Foundation
public import Hummingbird
public import Logging
public import Prometheus
import HummingbirdWebSocket
import ServiceLifecycle

/// Everything `enclave serve` can be told.
public struct ServerConfiguration: Sendable {
    public var dataDir: String
    public var host: String
    public var port: Int
    /// In-process workers; 0 leaves all work to `enclave worker` processes.
    public var workers: Int
    public var templatesDir: String
    public var issuer: String
    public var settings: ControlPlaneSettings
    public var leaseSeconds: Double
    public var logLevel: Logger.Level
    /// An external OpenID Connect provider whose tokens are trusted besides Enclave's own; nil: none.
    public var oidc: OIDCConfiguration?
    /// The URL browsers reach this server at (behind a proxy, the proxy's); nil: `http://<host>:<port>`.
    /// The built-in provider's issuer is `<public URL>/oidc`, so it must not change while tokens are out.
    public var publicURL: String?
    /// Whether the built-in provider's tokens need `otp` in `amr` (and Enclave's own tokens `otp` or
    /// `operator`). External providers' tokens are not checked: their MFA is their provider's policy.
    public var requireMFA: Bool
    /// Browser session lifetimes (idle 30 min, absolute 12 h by default).
    public var sessions: SessionPolicy
    /// How `isolate:` steps isolate workspaces on this host.
    public var dataPlane: DataPlaneSettings
    /// The airlock's limits, timings and scanner.
    public var airlock: AirlockServerSettings

    public init(
        dataDir: String = ".enclave", host: String = "127.0.0.1", port: Int = 8000, workers: Int = 2,
        templatesDir: String = "templates", issuer: String = "enclave", settings: ControlPlaneSettings = .init(),
        leaseSeconds: Double = 30, logLevel: Logger.Level = .info, oidc: OIDCConfiguration? = nil,
        publicURL: String? = nil, requireMFA: Bool = true, sessions: SessionPolicy = .init(),
        dataPlane: DataPlaneSettings = .init(), airlock: AirlockServerSettings = .init()
    ) {
        self.dataPlane = dataPlane
        self.airlock = airlock
        self.sessions = sessions
        self.dataDir = dataDir
        self.host = host
        self.port = port
        self.workers = workers
        self.templatesDir = templatesDir
        self.issuer = issuer
        self.settings = settings
        self.leaseSeconds = leaseSeconds
        self.logLevel = logLevel
        self.oidc = oidc
        self.publicURL = publicURL
        self.requireMFA = requireMFA
    }

    /// `publicURL` without a trailing slash, or `http://<host>:<port>`.
    public var resolvedPublicURL: String {
        guard let publicURL, !publicURL.isEmpty else { return "http://\(host):\(port)" }
        return publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
    }

    /// The built-in provider's `iss`: `<public URL>/oidc`.
    public var providerIssuer: String { "\(resolvedPublicURL)/oidc" }

    public var databasePath: String { URL(fileURLWithPath: dataDir).appendingPathComponent("enclave.sqlite").path }
}

/// The parts of a running control plane, built once and shared by the router and the services.
public struct EnclaveDependencies: Sendable {
    public var configuration: ServerConfiguration
    public var store: any Store
    public var signingKey: SigningKey
    /// Verifies Enclave's own tokens (issuer `configuration.issuer`).
    public var verifier: TokenVerifier
    /// Every trusted issuer: Enclave's own verifier and, when configured, the external provider's.
    public var tokens: TrustedIssuers
    /// The external provider's key fetcher (a service of the application), when one is configured.
    public var identityProvider: OIDCKeyProvider?
    /// The built-in OpenID Connect provider (`/oidc`): sign-in pages, codes, the setup link.
    public var provider: BuiltInProvider
    /// Verifies the built-in provider's tokens (issuer `configuration.providerIssuer`).
    public var providerVerifier: TokenVerifier
    /// Browser sessions, signed in through the external provider when one is configured, else the built-in one.
    public var sessions: SessionManager
    public var deployer: any Deployer
    /// The local data plane that runs `isolate:` steps and knows where each workspace's network is.
    public var dataPlane: LocalDataPlane
    public var engine: Engine
    public var controlPlane: ControlPlane
    public var registry: PrometheusCollectorRegistry
    public var logger: Logger
    /// The gateway's upstream connection pool (created on first use, closed by a service of the application).
    public var gatewayProxy: GatewayHTTPProxy
    public var gatewayAudit: GatewayAudit
    /// The airlock's file stages and its processor (a service of the application).
    public var airlockStorage: AirlockStorage
    public var airlock: AirlockProcessor
    /// The clamd Enclave runs for the airlock (a service of the application), when it manages one.
    public var clamd: ClamdDaemon?
    /// The key signing airlock links, derived from the secrets key (read once, here).
    var airlockLinkKey: SymmetricKey
}

/// Opens (or creates) the data dir: database, signing key, secrets key; registers the built-in templates.
public func buildDependencies(
    _ configuration: ServerConfiguration, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    environment: EngineEnvironment = .live, logger: Logger = Logger(label: "enclave")
) async throws -> EnclaveDependencies {
    let fm = FileManager.default
    try fm.createDirectory(atPath: configuration.dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
    let store = try SQLiteStore(path: configuration.databasePath)
    // DATA becomes traversable (o+x) once workloads run in sandboxes; the database stays private.
    for suffix in ["", "-wal", "-shm"] where fm.fileExists(atPath: configuration.databasePath + suffix) {
        try? fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: configuration.databasePath + suffix)
    }
    let signingKey = try SigningKey.loadOrCreate(dataDir: configuration.dataDir)
    let secretsKey = try DataDirKeys.secretsKey(dataDir: configuration.dataDir)
    let secrets = SecretBox(key: secretsKey)
    // Under --require-mfa: Enclave's own tokens pass with `operator` (minted with the key file by
    // `enclave token`) or `otp`; the built-in provider's only with `otp`.
    let requireMFA = configuration.requireMFA
    let verifier = try await TokenVerifier(
        jwksJSON: signingKey.jwksJSON, issuer: configuration.issuer, audience: configuration.settings.audience,
        requiredAMR: requireMFA ? [AMR.otp, AMR.operator] : [])
    let providerVerifier = try await TokenVerifier(
        jwksJSON: signingKey.jwksJSON, issuer: configuration.providerIssuer, audience: configuration.settings.audience,
        requiredAMR: requireMFA ? [AMR.otp, AMR.client] : [])
    let provider = BuiltInProvider(
        settings: BuiltInProviderSettings(
            issuer: configuration.providerIssuer, apiAudience: configuration.settings.audience,
            clients: OIDCClient.builtIn(publicURL: configuration.resolvedPublicURL), requireMFA: requireMFA),
        store: store, secrets: secrets, signingKey: signingKey, now: environment.now)
    var identityProvider: OIDCKeyProvider?
    var verifiers = [verifier, providerVerifier]
    if let oidc = configuration.oidc {
        try oidc.validate()
        let provider = OIDCKeyProvider(configuration: oidc, logger: logger)
        identityProvider = provider
        verifiers.append(TokenVerifier(keySource: provider, rules: oidc.rules))
    }
    let tokens = try TrustedIssuers(verifiers)
    let signIn: SessionSignIn
    if let identityProvider, let oidc = configuration.oidc, let clientID = oidc.clientID {
        signIn = .external(identityProvider, clientId: clientID, clientSecret: oidc.clientSecret, scopes: oidc.scopes)
    } else {
        signIn = .builtIn(provider, clientId: "enclave-portal")
    }
    let sessions = SessionManager(
        signIn: signIn, store: store, verifier: tokens, publicURL: configuration.resolvedPublicURL, policy: configuration.sessions,
        now: environment.now)
    let catalog = BundleCatalog.load(from: configuration.templatesDir)
    for problem in catalog.problems {
        logger.error("template bundle not loaded", metadata: ["problem": "\(problem)"])
    }
    // The workspace listener's port is open to every workspace, whatever its template says.
    let dataPlane = try configuration.dataPlane.build(allocations: store, hostPorts: configuration.airlock.workspacePort.map { [$0] } ?? [])
    if let problem = await dataPlane.healthProblem() {
        logger.warning("workspace isolation unavailable; isolate steps will fail", metadata: ["reason": "\(problem)"])
    }
    // One supervisor per server process. Workloads outlive an Enclave stop (nothing stops them on
    // shutdown): the next start adopts those still running and starts again those that are not.
    let workloadState = LocalWorkloads.stateDirectory(dataDirectory: configuration.dataDir)
    let supervisor = Supervisor(stateDirectory: workloadState, logger: logger)
    if !dataPlane.isSimulated {
        let recovered = await supervisor.recover()
        if !recovered.isEmpty { logger.info("workloads recovered", metadata: ["count": "\(recovered.count)"]) }
    }
    let workloads = LocalWorkloads(
        plane: dataPlane, supervisor: supervisor, dataDirectory: configuration.dataDir, stateDirectory: workloadState)
    let deployer = ExecDeployer(catalog: catalog, dataDirectory: configuration.dataDir, isolation: dataPlane, workloads: workloads)
    let signal = WorkSignal()
    let engine = Engine(
        store: store, deployer: deployer, secrets: secrets,
        configuration: EngineConfiguration(
            workers: configuration.workers, leaseSeconds: configuration.leaseSeconds, publicURL: configuration.resolvedPublicURL),
        environment: environment, signal: signal, logger: logger)
    let controlPlane = ControlPlane(
        store: store, secrets: secrets, signal: signal, environment: environment, settings: configuration.settings)
    try await BuiltInTemplates.register(catalog: catalog, controlPlane: controlPlane, logger: logger)
    let airlockStorage = AirlockStorage(
        root: AirlockStorage.root(dataDirectory: configuration.dataDir), limits: configuration.airlock.effectiveLimits)
    try airlockStorage.prepare()
    let scanning = try AirlockScanning(configuration.airlock, dataDirectory: configuration.dataDir, logger: logger)
    let airlock = AirlockProcessor(
        store: store, storage: airlockStorage, scanner: scanning.scanner, checker: StatisticalOutputChecker(),
        settings: configuration.airlock.processing,
        workspacesDirectory: URL(fileURLWithPath: configuration.dataDir).appendingPathComponent("workspaces").path,
        now: environment.now, newId: environment.newId, logger: logger)
    return EnclaveDependencies(
        configuration: configuration, store: store, signingKey: signingKey, verifier: verifier, tokens: tokens,
        identityProvider: identityProvider, provider: provider, providerVerifier: providerVerifier, sessions: sessions, deployer: deployer, dataPlane: dataPlane,
        engine: engine, controlPlane: controlPlane, registry: registry, logger: logger,
        gatewayProxy: GatewayHTTPProxy(),
        gatewayAudit: GatewayAudit(store: store, now: environment.now, newId: environment.newId),
        airlockStorage: airlockStorage, airlock: airlock, clamd: scanning.daemon,
        airlockLinkKey: AirlockLinks.deriveKey(secretsKey: secretsKey))
}

/// The router: unauthenticated routes, then `/api` behind the token middleware, then the portal's pages.
///
/// `includePortal: false` leaves out the portal's HTML pages and static files: what remains is the
/// machine-facing surface `openapi.yaml` must describe exactly (its contract test builds it that way).
public func buildRouter(_ deps: EnclaveDependencies, includePortal: Bool = true) throws -> Router<EnclaveRequestContext> {
    let router = Router(context: EnclaveRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: RequestLogMiddleware(level: .info))
    let engine = deps.engine
    let status = EngineStatus(
        aliveWorkers: { engine.aliveWorkers }, configuredWorkers: deps.configuration.workers,
        now: deps.controlPlane.environment.now)
    let health = HealthReport(
        store: deps.store, engine: status, deployers: [deps.deployer], dataPlane: deps.dataPlane,
        dataPlaneMode: deps.configuration.dataPlane.mode, airlockScanner: deps.airlock.scanner, identityProvider: deps.identityProvider)
    HealthController(
        report: health, settings: deps.configuration.settings, signIn: SignInMetadata(deps.configuration),
        jwksJSON: deps.signingKey.jwksJSON, openAPIDocument: try OpenAPIDocument.json()
    ).register(on: router)
    MetricsController(registry: deps.registry, store: deps.store, engine: status).register(on: router)
    OIDCController(provider: deps.provider, jwksJSON: deps.signingKey.jwksJSON, verifier: deps.providerVerifier)
        .register(on: router)
    SessionController(sessions: deps.sessions).register(on: router)

    let access = Access(store: deps.store)
    let routes = ResourceRoutes(controlPlane: deps.controlPlane, access: access)
    gatewayController(deps).register(on: router)
    let api = router.group("api")
        .add(middleware: tokenAuthentication(deps))
        .group(context: AuthenticatedContext.self)
        .add(middleware: AuditDenialMiddleware(store: deps.store, environment: deps.controlPlane.environment))
    TemplatesController(controlPlane: deps.controlPlane, access: access).register(on: api)
    WorkspacesController(routes: routes).register(on: api)
    WorkspaceServicesController(routes: routes).register(on: api)
    SharedServicesController(routes: routes).register(on: api)
    AuditController(store: deps.store, access: access).register(on: api)
    AirlockNotificationsController(store: deps.store, access: access).register(on: api)
    let (links, airlock) = airlockRoutes(deps)
    airlock.register(on: api)
    links.register(on: router, controller: airlock)
    UsersController(store: deps.store, access: access, provider: deps.provider, now: deps.controlPlane.environment.now)
        .register(on: api)
    guard includePortal else { return router }
    let sessions = deps.sessions
    let portal = Portal(
        views: try PortalViews.load(), store: deps.store, controlPlane: deps.controlPlane, access: access, sessions: sessions,
        formActionOrigins: deps.configuration.oidc.flatMap { SignInPage.origin(of: $0.issuer) }.map { [$0] } ?? [])
    PortalRoutes.register(on: router, portal: portal, airlock: airlock, provider: deps.provider, health: health) { cookie in
        try await sessions.session(cookie: cookie)
    }
    return router
}

/// The airlock's signed links and its request handlers, shared by the main router and the workspace listener.
func airlockRoutes(_ deps: EnclaveDependencies) -> (AirlockLinks, AirlockController) {
    let environment = deps.controlPlane.environment
    let links = AirlockLinks(
        key: deps.airlockLinkKey, publicURL: deps.configuration.resolvedPublicURL, store: deps.store, plane: deps.dataPlane,
        workspacePort: deps.configuration.airlock.workspacePort, now: environment.now, newId: environment.newId)
    let controller = AirlockController(
        store: deps.store, access: Access(store: deps.store), storage: deps.airlockStorage, processor: deps.airlock, links: links,
        now: environment.now, newId: environment.newId)
    return (links, controller)
}

/// The listener workspaces fill export drafts through from their own network, when configured.
func airlockWorkspaceListener(_ deps: EnclaveDependencies) -> AirlockWorkspaceListener? {
    guard let port = deps.configuration.airlock.workspacePort else { return nil }
    let (links, controller) = airlockRoutes(deps)
    return AirlockWorkspaceListener(links: links, controller: controller, port: port)
}

/// The bearer-token-or-session authentication of `/api` (with CSRF checks) and of the gateway (without CSRF
/// checks, and also accepting Basic with an access token as the password, which is all git can send).
func tokenAuthentication(_ deps: EnclaveDependencies, requireCSRF: Bool = true, acceptsBasic: Bool = false) -> TokenAuthMiddleware {
    var middleware = TokenAuthMiddleware(
        verifier: deps.tokens, cache: VerifiedTokenCache(), store: deps.store, seen: BoundedCache(capacity: 10_000),
        now: deps.controlPlane.environment.now, sessions: deps.sessions)
    middleware.requireCSRF = requireCSRF
    middleware.acceptsBasic = acceptsBasic
    return middleware
}

func gatewayController(_ deps: EnclaveDependencies) -> GatewayController {
    GatewayController(
        deps: deps, access: Access(store: deps.store), authentication: tokenAuthentication(deps, requireCSRF: false, acceptsBasic: true))
}

/// The whole server: HTTP (with the gateway's WebSocket upgrades) plus the engine's workers, as one service group.
public func buildApplication(_ deps: EnclaveDependencies) throws -> some ApplicationProtocol {
    let router = try buildRouter(deps)
    var logger = deps.logger
    logger.logLevel = deps.configuration.logLevel
    var services: [any Service] = [deps.engine, GatewayHTTPProxy.Shutdown(deps.gatewayProxy), deps.airlock]
    if let provider = deps.identityProvider { services.append(provider) }
    if let clamd = deps.clamd { services.append(clamd) }
    if let listener = airlockWorkspaceListener(deps) { services.append(listener.application(logger: logger)) }
    services.append(
        AirlockNotificationService(
            store: deps.store, settings: deps.configuration.airlock.notifications, publicURL: deps.configuration.resolvedPublicURL,
            now: deps.controlPlane.environment.now, logger: logger))
    let gateway = gatewayController(deps)
    let refusal = WebSocketRefusal(responder: router.buildResponder())
    return Application(
        router: router,
        server: .http1WebSocketUpgrade { head, channel, logger in
            await gateway.shouldUpgrade(head, channel: channel, logger: logger, refusal: refusal)
        },
        configuration: .init(address: .hostname(deps.configuration.host, port: deps.configuration.port), serverName: "enclave"),
        services: services,
        logger: logger)
}

/// Keys kept in `DATA/keys/` besides the signing key.
enum DataDirKeys {
    /// The AES key sealing sensitive property values; created 0600 on first start.
    static func secretsKey(dataDir: String) throws -> SymmetricKey {
        let dir = URL(fileURLWithPath: dataDir).appendingPathComponent("keys")
        let file = dir.appendingPathComponent("secrets.key")
        let fm = FileManager.default
        if let data = fm.contents(atPath: file.path), data.count == 32 { return SymmetricKey(data: data) }
        try fm.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = SecretBox.generateKey()
        let bytes = key.withUnsafeBytes { Data($0) }
        guard fm.createFile(atPath: file.path, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
            throw EnclaveError.internal("Cannot write \(file.path)")
        }
        return key
    }
}

/// What `enclave login` needs to sign in (served in `/api/.metadata`): the provider's issuer, the public
/// client to use there, and the scopes to ask for.
struct SignInMetadata: Sendable {
    var issuer: String
    var cliClientId: String
    var cliScopes: String

    init(_ configuration: ServerConfiguration) {
        if let oidc = configuration.oidc, let client = oidc.cliClientID ?? oidc.clientID {
            issuer = oidc.issuer
            cliClientId = client
            cliScopes = (["openid", "profile", "email", "offline_access"] + oidc.scopes).joined(separator: " ")
        } else {
            issuer = configuration.providerIssuer
            cliClientId = "enclave-cli"
            cliScopes = "openid profile email offline_access"
        }
    }
}

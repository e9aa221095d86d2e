import ArgumentParser
import EnclaveAirlock
import EnclaveAuth
import EnclaveCore
import EnclaveEngine
import EnclaveServer
import EnclaveStore
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals

/// Options shared by `serve` and `worker`.
struct ServerOptions: ParsableArguments {
    @Option(help: "Data directory (database, keys, workspace storage).")
    var dataDir: String = ProcessInfo.processInfo.environment["ENCLAVE_DATA_DIR"] ?? ".enclave"

    @Option(help: "Directory of template folders (template_schema.json + bundle.yaml).")
    var templates: String = ProcessInfo.processInfo.environment["ENCLAVE_TEMPLATES"] ?? "templates"

    @Option(help: "Seconds a worker holds a step without a heartbeat before another worker may recover it.")
    var leaseSeconds: Double = 30

    @Option(help: "Token issuer (iss) accepted and used by `enclave token`.")
    var issuer: String = ProcessInfo.processInfo.environment["ENCLAVE_ISSUER"] ?? "enclave"

    @Option(help: "Token audience (aud); also every workspace's scope_id.")
    var audience: String = ProcessInfo.processInfo.environment["ENCLAVE_AUDIENCE"] ?? "api://enclave"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info"

    @Option(help: "Workspace isolation: host (network namespaces, nftables, cgroups; needs root) or simulated (changes nothing on the host: development only, no isolation).")
    var dataPlane: String = ProcessInfo.processInfo.environment["ENCLAVE_DATA_PLANE"] ?? "host"

    @Option(help: "IPv4 pool the workspaces' /30 links are allocated from.")
    var addressPool: String = ProcessInfo.processInfo.environment["ENCLAVE_ADDRESS_POOL"] ?? "10.200.0.0/16"

    @Option(help: "Prefix of the host objects the data plane creates (namespaces, veths, nft tables, cgroups); 1-5 lowercase letters or digits.")
    var dataPlanePrefix: String = ProcessInfo.processInfo.environment["ENCLAVE_DATA_PLANE_PREFIX"] ?? "enc"

    @Option(help: "First uid of workspaces' tools (or ENCLAVE_FIRST_WORKSPACE_UID; default 200000; 65,536 uids). Two installations on one host need apart ranges: removing a workspace kills every process of its uids.")
    var firstWorkspaceUid: Int?

    @Option(help: "First uid of per-user resources such as personal desktops (or ENCLAVE_FIRST_USER_UID; default 400000; 65,536 uids; must not overlap the workspace uids).")
    var firstUserUid: Int?

    /// A uid flag, else its environment variable, else nil (the default); or why the variable is unusable.
    static func uid(_ flag: Int?, environment name: String) throws -> Int? {
        if let flag { return flag }
        guard let text = ProcessInfo.processInfo.environment[name] else { return nil }
        guard let value = Int(text) else { throw ValidationError("\(name) must be a uid number, not '\(text)'") }
        return value
    }

    @Option(help: "Airlock malware scanner: managed (Enclave runs clamd with --clamav-database), clamd:<socket> (an existing clamd), or none (no scanning; development only).")
    var airlockScanner: String = ProcessInfo.processInfo.environment["ENCLAVE_AIRLOCK_SCANNER"] ?? "managed"

    @Option(help: "Directory of ClamAV signatures for the managed clamd (freshclam's DatabaseDirectory).")
    var clamavDatabase: String = ProcessInfo.processInfo.environment["ENCLAVE_CLAMAV_DATABASE"] ?? "/var/lib/clamav"

    @Option(help: "Port of the airlock's listener on workspaces' networks, through which a workspace uploads into its export drafts (or ENCLAVE_AIRLOCK_WORKSPACE_PORT; default 8010 with --data-plane host, else off; 0: off). Workers need it too: every workspace's firewall rules open it.")
    var airlockWorkspacePort: Int?

    /// The workspace listener's port: the flag, else the environment (0: none), else 8010 where workspaces
    /// have networks of their own; or why the value given is unusable.
    var resolvedWorkspacePort: (port: Int?, problem: String?) {
        let environment = ProcessInfo.processInfo.environment["ENCLAVE_AIRLOCK_WORKSPACE_PORT"]
        let given = airlockWorkspacePort ?? environment.flatMap { Int($0) }
        if airlockWorkspacePort == nil, environment != nil, given == nil { return (nil, "ENCLAVE_AIRLOCK_WORKSPACE_PORT must be a port number") }
        let port = given ?? (dataPlane == DataPlaneMode.host.rawValue ? 8010 : 0)
        guard (0...65535).contains(port) else { return (nil, "--airlock-workspace-port must be a TCP port (1–65535), or 0 for none") }
        return (port == 0 ? nil : port, nil)
    }

    func validate() throws {
        if let problem = resolvedWorkspacePort.problem { throw ValidationError(problem) }
        _ = try Self.uid(firstWorkspaceUid, environment: "ENCLAVE_FIRST_WORKSPACE_UID")
        _ = try Self.uid(firstUserUid, environment: "ENCLAVE_FIRST_USER_UID")
    }

    func configuration(host: String = "127.0.0.1", port: Int = 8000, workers: Int) throws -> ServerConfiguration {
        guard let scanner = AirlockScannerChoice.parse(airlockScanner, databaseDirectory: clamavDatabase) else {
            throw ValidationError("Unknown airlock scanner '\(airlockScanner)': use managed, clamd:<socket path> or none")
        }
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("Unknown log level '\(logLevel)'") }
        guard let mode = DataPlaneMode(rawValue: dataPlane) else {
            throw ValidationError("Unknown data plane '\(dataPlane)': use host or simulated")
        }
        let (workspacePort, problem) = resolvedWorkspacePort
        if let problem { throw ValidationError(problem) }
        return ServerConfiguration(
            dataDir: dataDir, host: host, port: port, workers: workers, templatesDir: templates, issuer: issuer,
            settings: ControlPlaneSettings(audience: audience), leaseSeconds: leaseSeconds, logLevel: level,
            dataPlane: DataPlaneSettings(
                mode: mode, addressPool: addressPool, namePrefix: dataPlanePrefix, firstWorkspaceUid: try Self.uid(firstWorkspaceUid, environment: "ENCLAVE_FIRST_WORKSPACE_UID"),
                firstUserUid: try Self.uid(firstUserUid, environment: "ENCLAVE_FIRST_USER_UID")),
            airlock: AirlockServerSettings(scanner: scanner, workspacePort: workspacePort))
    }

    func bootstrapLogging(_ level: Logger.Level) {
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
    }
}

/// `enclave serve`'s options for trusting an external OpenID Connect provider (Entra ID, Keycloak, …).
///
/// The client secret is read from the environment or a file, never from a flag: flags show in `ps`.
struct OIDCOptions: ParsableArguments {
    private static let env = ProcessInfo.processInfo.environment

    @Option(help: "External OIDC issuer URL, exactly as in its tokens' iss (Entra ID: https://login.microsoftonline.com/<tenant>/v2.0).")
    var oidcIssuer: String = env["ENCLAVE_OIDC_ISSUER"] ?? ""

    @Option(help: "Accepted aud of the provider's tokens; repeatable (default: the client id).")
    var oidcAudience: [String] = env["ENCLAVE_OIDC_AUDIENCE"].map { [$0] } ?? []

    @Option(help: "The OIDC client id registered for Enclave (also the default audience).")
    var oidcClientId: String = env["ENCLAVE_OIDC_CLIENT_ID"] ?? ""

    @Option(help: "File holding the OIDC client secret (or set ENCLAVE_OIDC_CLIENT_SECRET).")
    var oidcClientSecretFile: String = env["ENCLAVE_OIDC_CLIENT_SECRET_FILE"] ?? ""

    @Option(help: "Claim (or dotted path) holding role names, e.g. realm_access.roles for Keycloak.")
    var oidcRolesClaim: String = env["ENCLAVE_OIDC_ROLES_CLAIM"] ?? "roles"

    @Option(help: "Claim holding group ids, for --oidc-group-role.")
    var oidcGroupsClaim: String = env["ENCLAVE_OIDC_GROUPS_CLAIM"] ?? "groups"

    @Option(help: "Grant a core role to members of a group: <group-id>=TREAdmin|TREUser; repeatable.")
    var oidcGroupRole: [String] = []

    @Option(help: "Public client id `enclave login` uses at the provider (default: --oidc-client-id).")
    var oidcCliClientId: String = env["ENCLAVE_OIDC_CLI_CLIENT_ID"] ?? ""

    @Option(help: "Extra scope requested at sign-in so access tokens carry the API audience, e.g. api://<client-id>/user_impersonation; repeatable.")
    var oidcScope: [String] = env["ENCLAVE_OIDC_SCOPE"].map { [$0] } ?? []

    func validate() throws {
        if oidcIssuer.isEmpty && (!oidcClientId.isEmpty || !oidcAudience.isEmpty || !oidcGroupRole.isEmpty) {
            throw ValidationError("--oidc-client-id, --oidc-audience and --oidc-group-role need --oidc-issuer")
        }
        for mapping in oidcGroupRole {
            do { _ = try OIDCConfiguration.parseGroupRole(mapping) } catch { throw ValidationError(error.message) }
        }
    }

    /// The provider's configuration, or nil when no issuer is given.
    func configuration() throws -> OIDCConfiguration? {
        let issuer = oidcIssuer
        guard !issuer.isEmpty else { return nil }
        var secret = Self.env["ENCLAVE_OIDC_CLIENT_SECRET"]
        if !oidcClientSecretFile.isEmpty {
            let file = oidcClientSecretFile
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("Cannot read the OIDC client secret file \(file)")
            }
            secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var groupRoles: [String: CoreRole] = [:]
        for mapping in oidcGroupRole {
            let (group, role) = try OIDCConfiguration.parseGroupRole(mapping)
            groupRoles[group] = role
        }
        let clientID: String? = oidcClientId.isEmpty ? nil : oidcClientId
        let audiences = oidcAudience.isEmpty ? (clientID.map { [$0] } ?? []) : oidcAudience
        let config = OIDCConfiguration(
            issuer: issuer, audiences: audiences, clientID: clientID, clientSecret: secret,
            rolesClaim: oidcRolesClaim, groupsClaim: oidcGroupsClaim, groupRoles: groupRoles,
            cliClientID: oidcCliClientId.isEmpty ? nil : oidcCliClientId, scopes: oidcScope)
        do { try config.validate() } catch { throw ValidationError(error.message) }
        return config
    }
}

/// `enclave serve`'s airlock notification options: signed webhooks and SMTP mail.
///
/// Secrets (the webhook key, the SMTP password) come from files or the environment, never from flags:
/// flags show in `ps`.
struct NotificationOptions: ParsableArguments {
    private static let env = ProcessInfo.processInfo.environment

    @Option(help: "URL every airlock status change is POSTed to, signed (X-Enclave-Signature); repeatable.")
    var airlockWebhook: [String] = env["ENCLAVE_AIRLOCK_WEBHOOK"].map { [$0] } ?? []

    @Option(help: "File holding the webhooks' HMAC-SHA256 key (or set ENCLAVE_AIRLOCK_WEBHOOK_SECRET).")
    var airlockWebhookSecretFile: String = env["ENCLAVE_AIRLOCK_WEBHOOK_SECRET_FILE"] ?? ""

    @Option(help: "SMTP server for airlock notification mail (none: no mail).")
    var smtpHost: String = env["ENCLAVE_SMTP_HOST"] ?? ""

    @Option(help: "SMTP port (587: submission with STARTTLS; 25: relay).")
    var smtpPort: Int = env["ENCLAVE_SMTP_PORT"].flatMap(Int.init) ?? 587

    @Option(help: "STARTTLS: required (the server must offer it and its certificate must verify) or off (plain text, no AUTH).")
    var smtpStarttls: String = env["ENCLAVE_SMTP_STARTTLS"] ?? "required"

    @Option(help: "SMTP AUTH user name (with --smtp-password-file).")
    var smtpUsername: String = env["ENCLAVE_SMTP_USERNAME"] ?? ""

    @Option(help: "File holding the SMTP password (or set ENCLAVE_SMTP_PASSWORD).")
    var smtpPasswordFile: String = env["ENCLAVE_SMTP_PASSWORD_FILE"] ?? ""

    @Option(help: "Sender address of notification mail, e.g. enclave@tre.example.org.")
    var smtpFrom: String = env["ENCLAVE_SMTP_FROM"] ?? ""

    @Option(help: "PEM file of CA certificates trusted for the SMTP server besides the system's (a private CA).")
    var smtpCaFile: String = env["ENCLAVE_SMTP_CA_FILE"] ?? ""

    func validate() throws {
        _ = try configuration()
    }

    /// The notification settings; empty when no webhook and no SMTP host is given.
    func configuration() throws -> AirlockNotificationSettings {
        var settings = AirlockNotificationSettings()
        if !airlockWebhook.isEmpty {
            var secret = Self.env["ENCLAVE_AIRLOCK_WEBHOOK_SECRET"] ?? ""
            if !airlockWebhookSecretFile.isEmpty {
                secret = try Self.readSecret(airlockWebhookSecretFile, what: "webhook secret")
            }
            settings.webhooks = airlockWebhook.map { WebhookEndpoint(url: $0, secret: secret) }
        }
        if !smtpHost.isEmpty {
            guard let tls = SMTPTLSMode(rawValue: smtpStarttls) else {
                throw ValidationError("Unknown --smtp-starttls '\(smtpStarttls)': use required or off")
            }
            var password = Self.env["ENCLAVE_SMTP_PASSWORD"]
            if !smtpPasswordFile.isEmpty { password = try Self.readSecret(smtpPasswordFile, what: "SMTP password") }
            settings.smtp = SMTPSettings(
                host: smtpHost, port: smtpPort, tls: tls, username: smtpUsername.isEmpty ? nil : smtpUsername,
                password: smtpUsername.isEmpty ? nil : password, from: smtpFrom, trustedCertificatesFile: smtpCaFile.isEmpty ? nil : smtpCaFile)
        } else if !smtpFrom.isEmpty || !smtpUsername.isEmpty || !smtpPasswordFile.isEmpty {
            throw ValidationError("--smtp-from, --smtp-username and --smtp-password-file need --smtp-host")
        }
        do { try settings.validate() } catch { throw ValidationError((error as? EnclaveError)?.message ?? "\(error)") }
        return settings
    }

    static func readSecret(_ file: String, what: String) throws -> String {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ValidationError("Cannot read the \(what) file \(file)")
        }
        let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !secret.isEmpty else { throw ValidationError("The \(what) file \(file) is empty") }
        return secret
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the control plane: API, portal and in-process workers.")

    @OptionGroup var options: ServerOptions

    @OptionGroup(title: "External identity provider") var oidc: OIDCOptions

    @OptionGroup(title: "Airlock notifications") var notifications: NotificationOptions

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port: Int = 8000

    @Option(help: "In-process workers running operation steps (0: leave them to `enclave worker`).")
    var workers: Int = 2

    @Option(help: "URL browsers reach this server at, e.g. https://tre.example.org (default: http://<host>:<port>). The built-in sign-in's issuer is <public-url>/oidc.")
    var publicURL: String = ProcessInfo.processInfo.environment["ENCLAVE_PUBLIC_URL"] ?? ""

    @Flag(
        inversion: .prefixedNo,
        help: "Refuse built-in sign-in tokens without otp in amr (enclave token's operator tokens pass; external providers are not checked).")
    var requireMFA = true

    @Option(help: "Minutes a browser session may stay unused before it ends.")
    var sessionIdleMinutes: Double = 30

    @Option(help: "Hours after sign-in a browser session ends, however active.")
    var sessionHours: Double = 12

    func validate() throws {
        guard sessionIdleMinutes >= 1, sessionHours > 0, sessionIdleMinutes <= sessionHours * 60 else {
            throw ValidationError("--session-idle-minutes must be at least 1 and at most --session-hours × 60")
        }
        if let port = options.resolvedWorkspacePort.port, port == self.port {
            throw ValidationError("--airlock-workspace-port must differ from --port (\(port))")
        }
        if !publicURL.isEmpty, URL(string: publicURL)?.host == nil || !(publicURL.hasPrefix("http://") || publicURL.hasPrefix("https://")) {
            throw ValidationError("--public-url must be an http:// or https:// URL with a host, e.g. https://tre.example.org")
        }
    }

    func run() async throws {
        var config = try options.configuration(host: host, port: port, workers: workers)
        config.oidc = try oidc.configuration()
        config.airlock.notifications = try notifications.configuration()
        config.publicURL = publicURL.isEmpty ? nil : publicURL
        config.requireMFA = requireMFA
        config.sessions = SessionPolicy(idle: sessionIdleMinutes * 60, absolute: sessionHours * 3600)
        options.bootstrapLogging(config.logLevel)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var logger = Logger(label: "enclave")
        logger.logLevel = config.logLevel
        let deps = try await buildDependencies(config, registry: registry, logger: logger)
        let app = try buildApplication(deps)
        logger.info(
            "enclave serving",
            metadata: [
                "url": "http://\(host):\(port)", "publicURL": "\(config.resolvedPublicURL)", "dataDir": "\(config.dataDir)",
                "workers": "\(workers)", "requireMFA": "\(config.requireMFA)",
                "airlockWorkspacePort": "\(config.airlock.workspacePort.map(String.init) ?? "off")",
            ])
        // Printed, never logged: the link is a credential for whoever opens it first, and logs travel further.
        if let token = try await deps.provider.setupTokenIfNeeded() {
            let text = """
                No administrator account exists yet. Open this link within an hour to create one (it works once;
                restart `enclave serve` for a new one, or use `enclave users add --role TREAdmin`):
                  \(config.providerIssuer)/setup?token=\(token)

                """
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        try await app.runService()
    }
}

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run workers against a data dir's store, beside or instead of those in `enclave serve`.")

    @OptionGroup var options: ServerOptions

    @Option(help: "Workers in this process.")
    var workers: Int = 2

    func run() async throws {
        let config = try options.configuration(workers: workers)
        options.bootstrapLogging(config.logLevel)
        var logger = Logger(label: "enclave.worker")
        logger.logLevel = config.logLevel
        let deps = try await buildDependencies(config, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: deps.engine)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a bearer token signed with the data dir's key (an operator's tool: it needs the key file).")

    @Option(help: "Data directory holding keys/signing-es256.pem.")
    var dataDir: String = ProcessInfo.processInfo.environment["ENCLAVE_DATA_DIR"] ?? ".enclave"

    @Option(help: "User id (the oid claim).") var user: String
    @Option(help: "Display name.") var name: String
    @Option(help: "Email address.") var email: String
    @Option(name: .customLong("role"), help: "Core role (TREAdmin, TREUser); repeat for several.") var roles: [String] = []
    @Option(help: "Lifetime in seconds.") var ttl: Double = 3600
    @Option(help: "Issuer (iss).") var issuer: String = ProcessInfo.processInfo.environment["ENCLAVE_ISSUER"] ?? "enclave"
    @Option(help: "Audience (aud).") var audience: String = ProcessInfo.processInfo.environment["ENCLAVE_AUDIENCE"] ?? "api://enclave"

    func validate() throws {
        for role in roles where CoreRole(rawValue: role) == nil {
            throw ValidationError("Unknown role '\(role)': core roles are TREAdmin and TREUser (workspace roles are assigned through the API)")
        }
        if ttl <= 0 { throw ValidationError("--ttl must be positive") }
    }

    func run() async throws {
        let key = try SigningKey.load(dataDir: dataDir)
        let issuer = TokenIssuer(key: key, issuer: issuer, audience: audience)
        print(try await issuer.token(for: User(id: user, name: name, email: email, roles: roles), ttl: ttl))
    }
}

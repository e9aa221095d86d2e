public import EnclaveAirlock
public import EnclaveAuth
public import EnclaveCore
public import EnclaveEngine
public import EnclaveServer
import EnclaveStore
public import Foundation
public import Logging

/// Paths of the checkout, found from this file so tests run from any working directory.
public enum TestPaths {
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let templates = repoRoot.appendingPathComponent("templates").path

    /// A fresh temporary directory, removed by the caller (or left for inspection after a failure).
    public static func temporaryDirectory(_ prefix: String = "enclave-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Users in every role the permission matrix distinguishes.
public enum TestUsers {
    public static let admin = User(id: "admin-0001", name: "Ada Admin", email: "ada@example.org", roles: ["TREAdmin"])
    public static let treUser = User(id: "user-0002", name: "Tom User", email: "tom@example.org", roles: ["TREUser"])
    public static let owner = User(id: "owner-0003", name: "Olga Owner", email: "olga@example.org", roles: ["TREUser"])
    public static let researcher = User(id: "res-0004", name: "Ravi Researcher", email: "ravi@example.org", roles: ["TREUser"])
    public static let researcher2 = User(id: "res-0005", name: "Rita Researcher", email: "rita@example.org", roles: ["TREUser"])
    public static let manager = User(id: "mgr-0006", name: "Mia Manager", email: "mia@example.org", roles: ["TREUser"])
    public static let noRole = User(id: "none-0007", name: "Nick Nobody", email: "nick@example.org", roles: [])
}

/// A complete control plane on a temporary data dir, built by the same functions `enclave serve` uses.
public struct TestEnclave: Sendable {
    public let deps: EnclaveDependencies
    public let dataDir: URL
    public let issuer: TokenIssuer

    public static func make(
        workers: Int = 2, leaseSeconds: Double = 30, templatesDir: String = TestPaths.templates,
        oidc: OIDCConfiguration? = nil, requireMFA: Bool = true, environment: EngineEnvironment = .live,
        dataPlane: DataPlaneSettings = DataPlaneSettings(mode: .simulated),
        airlock: AirlockServerSettings = AirlockServerSettings(processing: AirlockSettings(pollSeconds: 0.2), scanner: .none),
        logLevel: Logger.Level = .warning
    ) async throws -> TestEnclave {
        let dir = try TestPaths.temporaryDirectory()
        var logger = Logger(label: "enclave.test")
        logger.logLevel = logLevel
        let config = ServerConfiguration(
            dataDir: dir.path, port: 0, workers: workers, templatesDir: templatesDir, leaseSeconds: leaseSeconds,
            logLevel: logLevel, oidc: oidc, requireMFA: requireMFA, dataPlane: dataPlane, airlock: airlock)
        let deps = try await buildDependencies(config, environment: environment, logger: logger)
        let issuer = TokenIssuer(key: deps.signingKey, issuer: config.issuer, audience: config.settings.audience)
        return TestEnclave(deps: deps, dataDir: dir, issuer: issuer)
    }

    public func token(_ user: User, ttl: TimeInterval = 3600) async throws -> String {
        try await issuer.token(for: user, ttl: ttl)
    }

    public func bearer(_ user: User) async throws -> String { "Bearer \(try await token(user))" }

    /// Runs the engine's workers until `body` returns.
    public func withEngine<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let engine = deps.engine
        let task = Task { try await engine.run() }
        defer { task.cancel() }
        return try await body()
    }

    public func remove() {
        try? FileManager.default.removeItem(at: dataDir)
    }
}

extension TestPaths {
    public static let fixtureTemplates = repoRoot.appendingPathComponent("Tests/Fixtures/templates").path

    /// The built-in templates plus the test fixtures, copied into one fresh directory.
    public static func combinedTemplates() throws -> String {
        let dir = try temporaryDirectory("templates")
        let fm = FileManager.default
        for source in [templates, fixtureTemplates] {
            for kind in try fm.contentsOfDirectory(atPath: source) {
                let from = URL(fileURLWithPath: source).appendingPathComponent(kind)
                let to = dir.appendingPathComponent(kind)
                try fm.createDirectory(at: to, withIntermediateDirectories: true)
                for item in try fm.contentsOfDirectory(atPath: from.path) {
                    try fm.copyItem(at: from.appendingPathComponent(item), to: to.appendingPathComponent(item))
                }
            }
        }
        return dir.path
    }
}

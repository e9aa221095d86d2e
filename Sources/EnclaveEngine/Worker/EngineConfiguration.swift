import EnclaveCore
import Foundation

/// Tunables of the resource processor.
public struct EngineConfiguration: Sendable {
    /// In-process workers (`enclave serve --workers`).
    public var workers: Int
    /// How long a claimed step stays ours without a heartbeat; a lost worker's step is reclaimed after this.
    public var leaseSeconds: Double
    /// Idle workers poll the queue this often (other processes' enqueues are only seen by polling).
    public var pollInterval: Duration
    /// Attempts of an idempotent step before it is failed.
    public var maxAttempts: Int
    /// Prefix of worker ids (host and pid make them unique across processes).
    public var workerIdPrefix: String
    /// The URL browsers reach Enclave at, without a trailing slash: a resource whose deployer reports a
    /// `gateway_upstream` gets `connection_uri` = this + its gateway path.
    public var publicURL: String

    public init(
        workers: Int = 2, leaseSeconds: Double = 30, pollInterval: Duration = .milliseconds(500), maxAttempts: Int = 3,
        workerIdPrefix: String = EngineConfiguration.defaultWorkerPrefix(), publicURL: String = "http://127.0.0.1:8000"
    ) {
        self.publicURL = publicURL
        self.workers = workers
        self.leaseSeconds = leaseSeconds
        self.pollInterval = pollInterval
        self.maxAttempts = maxAttempts
        self.workerIdPrefix = workerIdPrefix
    }

    public static func defaultWorkerPrefix() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }
}

/// The clock and id source, injected so tests are deterministic.
public struct EngineEnvironment: Sendable {
    public var now: @Sendable () -> Double
    public var newId: @Sendable () -> String

    public init(now: @escaping @Sendable () -> Double, newId: @escaping @Sendable () -> String) {
        self.now = now
        self.newId = newId
    }

    public static let live = EngineEnvironment(
        now: { Date().timeIntervalSince1970 }, newId: { UUID().uuidString.lowercased() })
}

public import EnclaveCore
import Foundation
public import Logging
public import ServiceLifecycle
import Subprocess
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The clamd Enclave runs itself (`DATA/airlock/clamd/`), as a `Service` of the server's group.
///
/// It writes `clamd.conf` from a `ClamdConfiguration` on every start (so limits always cover Enclave's
/// per-file limit and `AlertExceedsMax` is on), runs clamd in the foreground, marks itself ready once
/// clamd answers `PING`, restarts clamd with a backoff if it dies (scans meanwhile are unscannable,
/// which fails closed), and sends it SIGTERM on graceful shutdown. Operators with a clamd of their own
/// give its socket to `ClamdScanner` instead and run no daemon.
public actor ClamdDaemon: Service {
    public nonisolated let configuration: ClamdConfiguration
    /// Where the generated `clamd.conf` is written.
    public nonisolated let configPath: String
    /// The clamd binary; nil looks in the usual sbin folders.
    public nonisolated let executable: String?
    /// How long a start may take before it counts as failed (the full official database loads in tens of seconds).
    public nonisolated let startTimeout: Duration
    let logger: Logger

    private var ready = false
    private var pid: Int32?
    private var lastProblem: String?

    /// A daemon for `DATA/airlock/clamd/` (`directory`): socket, configuration and scratch space live there.
    public init(
        configuration: ClamdConfiguration, configPath: String, executable: String? = nil, startTimeout: Duration = .seconds(120),
        logger: Logger = Logger(label: "enclave.airlock.clamd")
    ) {
        self.configuration = configuration
        self.configPath = configPath
        self.executable = executable
        self.startTimeout = startTimeout
        self.logger = logger
    }

    /// The configuration for a daemon under `directory` (Enclave's `DATA/airlock/clamd`), whose limits
    /// cover `perFileLimit`; signatures come from `databaseDirectory`.
    public static func configuration(directory: String, databaseDirectory: String, perFileLimit: Int) -> ClamdConfiguration {
        ClamdConfiguration(
            socketPath: directory + "/clamd.sock", databaseDirectory: databaseDirectory, temporaryDirectory: directory + "/tmp",
            perFileLimit: perFileLimit)
    }

    /// Where clamd is usually installed (Debian puts it in /usr/sbin).
    static let searchPaths = ["/usr/sbin/clamd", "/usr/local/sbin/clamd", "/usr/bin/clamd", "/usr/local/bin/clamd", "/opt/homebrew/sbin/clamd"]

    /// The clamd binary this machine has, or nil.
    public static func locate() -> String? { searchPaths.first { FileManager.default.isExecutableFile(atPath: $0) } }

    /// Whether clamd answers PING now.
    public var isReady: Bool { ready }
    /// clamd's process id while it runs (tests kill it to prove scans fail closed).
    public var processIdentifier: Int32? { pid }

    /// Waits until clamd answers PING; returns nil then, or why it did not within `timeout`.
    public func waitUntilReady(timeout: Duration) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while !ready {
            if ContinuousClock.now >= deadline || Task.isCancelled {
                return lastProblem ?? "clamd did not answer PING within \(timeout)"
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    public func run() async throws {
        guard let binary = executable ?? Self.locate() else {
            // Not fatal for Enclave: the airlock fails closed (requests wait, then fail) and /api/health says why.
            lastProblem = "clamd is not installed (looked for \(Self.searchPaths.joined(separator: ", "))); on Debian: apt-get install clamav-daemon"
            logger.error("airlock scanner unavailable", metadata: ["problem": "\(lastProblem ?? "")"])
            try? await gracefulShutdown()
            return
        }
        try prepareDirectories()
        var failuresInRow = 0
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let shutdownRequested = await runOnce(binary: binary)
            ready = false
            pid = nil
            if shutdownRequested || Task.isCancelled || Task.isShuttingDownGracefully { break }
            failuresInRow += 1
            let delay = min(30, 1 << min(failuresInRow - 1, 5))
            logger.error("clamd exited; starting it again", metadata: ["in": "\(delay)s", "problem": "\(lastProblem ?? "")"])
            try? await Task.sleep(for: .seconds(delay))
        }
    }

    /// Creates the socket's and scratch folders (owner only: the socket is how files get scanned) and writes the configuration.
    private func prepareDirectories() throws {
        let manager = FileManager.default
        let socketDirectory = (configuration.socketPath as NSString).deletingLastPathComponent
        for directory in [socketDirectory, configuration.temporaryDirectory, (configPath as NSString).deletingLastPathComponent] {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        try configuration.render().write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    private enum Event: Sendable { case exited([String]), shutdown, answered }

    /// One run of clamd. Returns true when it ended because Enclave shut down.
    private func runOnce(binary: String) async -> Bool {
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(10))]
        let processConfiguration = Configuration(
            executable: .path(FilePath(binary)), arguments: ["--foreground", "--config-file=\(configPath)"],
            environment: .custom(["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"]), platformOptions: options)
        let scanner = ClamdScanner(configuration: .init(socketPath: configuration.socketPath))
        let startTimeout = self.startTimeout
        do {
            let outcome = try await Subprocess.run(processConfiguration, input: .none, output: .discarded, error: .sequence) {
                execution -> Bool in
                self.started(pid: execution.processIdentifier.value)
                return await withTaskGroup(of: Event.self) { group -> Bool in
                    group.addTask {
                        // stderr ends when clamd exits: that is how an unexpected exit is noticed.
                        var tail: [String] = []
                        do {
                            for try await line in execution.standardError.strings() {
                                tail.append(line)
                                if tail.count > 20 { tail.removeFirst() }
                            }
                        } catch {}
                        return .exited(tail)
                    }
                    group.addTask {
                        do { try await gracefulShutdown() } catch {}
                        return .shutdown
                    }
                    group.addTask {
                        let deadline = ContinuousClock.now + startTimeout
                        while ContinuousClock.now < deadline, !Task.isCancelled {
                            if await scanner.pingOnly() { return .answered }
                            try? await Task.sleep(for: .milliseconds(50))
                        }
                        return .answered
                    }
                    var shutdown = false
                    while let event = await group.next() {
                        switch event {
                        case .answered:
                            await self.answered()
                        case .shutdown:
                            shutdown = true
                            try? execution.send(signal: .terminate)
                        case .exited(let tail):
                            self.exited(tail: tail)
                            group.cancelAll()
                            return shutdown
                        }
                    }
                    return shutdown
                }
            }
            return outcome.closureResult
        } catch {
            lastProblem = "clamd could not be started: \(error)"
            return false
        }
    }

    private func started(pid: Int32) {
        self.pid = pid
        logger.info("clamd started", metadata: ["pid": "\(pid)", "socket": "\(configuration.socketPath)"])
    }

    private func answered() async {
        guard let pid else { return }
        let scanner = ClamdScanner(configuration: .init(socketPath: configuration.socketPath))
        if await scanner.pingOnly() {
            ready = true
            lastProblem = nil
            logger.info("clamd answers PING", metadata: ["pid": "\(pid)"])
        } else {
            lastProblem = "clamd (pid \(pid)) did not answer PING within \(startTimeout)"
            logger.error("clamd did not answer PING in time", metadata: ["pid": "\(pid)"])
        }
    }

    private func exited(tail: [String]) {
        ready = false
        let output = tail.joined(separator: " | ")
        lastProblem = output.isEmpty ? "clamd exited" : "clamd exited: \(output)"
    }
}

extension ClamdScanner {
    /// Whether clamd answers PING with PONG (readiness, without the signature checks of `healthProblem`).
    func pingOnly() async -> Bool {
        if case .success("PONG") = await command("zPING") { return true }
        return false
    }
}

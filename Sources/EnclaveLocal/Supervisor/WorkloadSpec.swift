import Foundation

/// A long-running tool process (JupyterLab, a VNC desktop, MLflow) as a template's `workload` step
/// describes it: what to run, how to tell it is ready, and what to do when it dies.
public struct WorkloadSpec: Codable, Sendable, Hashable {
    /// argv; the first element is the program (a path, or a name looked up in `PATH`).
    public var command: [String]
    public var environment: [String: String]
    public var workingDirectory: String?
    /// How to tell the workload is serving; nil: running is enough.
    public var health: HealthCheck?
    public var restart: RestartPolicy
    /// Seconds between SIGTERM and SIGKILL when stopping (a sandbox's pid 1 ignores SIGTERM).
    public var stopGracePeriod: Double
    /// false: the process gets `environment` only, not Enclave's own (nil: inherited, then `environment`).
    public var inheritsEnvironment: Bool?

    public init(
        command: [String], environment: [String: String] = [:], workingDirectory: String? = nil, health: HealthCheck? = nil,
        restart: RestartPolicy = .init(), stopGracePeriod: Double = 5, inheritsEnvironment: Bool? = nil
    ) {
        self.inheritsEnvironment = inheritsEnvironment
        self.command = command
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.health = health
        self.restart = restart
        self.stopGracePeriod = stopGracePeriod
    }
}

/// "Ready" means an HTTP GET of `url` answers below 500 (a login page or a redirect is a live server).
public struct HealthCheck: Codable, Sendable, Hashable {
    public var url: String
    /// How long a start may take before it counts as a failed start.
    public var startTimeout: Double
    /// Seconds between probes while starting.
    public var interval: Double

    public init(url: String, startTimeout: Double = 60, interval: Double = 0.2) {
        self.url = url
        self.startTimeout = startTimeout
        self.interval = interval
    }
}

/// When a workload that exits is started again, and how long to wait first.
///
/// The wait doubles with each failure in a row (from `initialBackoff` up to `maximumBackoff`), so a
/// tool that crashes at once does not spin; a run that lasted `resetAfter` seconds clears the count,
/// so a tool that crashes once a day restarts at once.
public struct RestartPolicy: Codable, Sendable, Hashable {
    public enum Mode: String, Codable, Sendable, Hashable {
        case always
        case onFailure = "on-failure"
        case never
    }

    public var mode: Mode
    public var initialBackoff: Double
    public var maximumBackoff: Double
    public var resetAfter: Double

    public init(mode: Mode = .always, initialBackoff: Double = 1, maximumBackoff: Double = 60, resetAfter: Double = 60) {
        self.mode = mode
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.resetAfter = resetAfter
    }

    /// Whether an exit (`cleanly`: status 0) is followed by a restart.
    public func restarts(afterCleanExit cleanly: Bool) -> Bool {
        switch mode {
        case .always: true
        case .onFailure: !cleanly
        case .never: false
        }
    }

    /// Seconds to wait before the restart that follows `failuresInRow` failures (1 = the first).
    public func delay(failuresInRow: Int) -> Double {
        guard failuresInRow > 0 else { return 0 }
        let exponent = min(failuresInRow - 1, 30)
        return min(maximumBackoff, initialBackoff * pow(2, Double(exponent)))
    }

    /// The failure count after a run of `ranFor` seconds ended.
    public func failuresInRow(previous: Int, ranFor: Double) -> Int {
        ranFor >= resetAfter ? 1 : previous + 1
    }
}

/// Where a workload is in its life, as `/api/health` and the resource's status show it.
public enum WorkloadState: String, Codable, Sendable, Hashable {
    case starting, running
    /// Exited; waiting before the next start.
    case backingOff = "backing_off"
    case stopped
    /// Exited and not restarted (policy `never`/`on-failure`, or it could not be started at all).
    case failed
}

/// A snapshot of one workload.
public struct WorkloadStatus: Codable, Sendable, Hashable {
    public var state: WorkloadState
    public var pid: Int32?
    /// How many times it has been started again after exiting.
    public var restarts: Int
    /// What happened last: how it exited, why it could not start.
    public var lastEvent: String?

    public init(state: WorkloadState, pid: Int32?, restarts: Int, lastEvent: String?) {
        self.state = state
        self.pid = pid
        self.restarts = restarts
        self.lastEvent = lastEvent
    }
}

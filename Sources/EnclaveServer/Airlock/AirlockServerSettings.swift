public import EnclaveAirlock
import EnclaveCore
import Foundation
import Logging

/// What `enclave serve` is told about the airlock.
public struct AirlockServerSettings: Sendable {
    public var limits: AirlockLimits
    public var processing: AirlockSettings
    public var scanner: AirlockScannerChoice
    /// Webhooks and SMTP for status-change notifications; nothing configured: nothing is sent.
    public var notifications: AirlockNotificationSettings
    /// The port of the listener workspaces fill export drafts through, from their own network (on every
    /// address of the host; only workspaces' addresses are served); nil: no such listener.
    public var workspacePort: Int?

    public init(
        limits: AirlockLimits = .init(), processing: AirlockSettings = .init(),
        scanner: AirlockScannerChoice = .managed(databaseDirectory: "/var/lib/clamav"), notifications: AirlockNotificationSettings = .init(),
        workspacePort: Int? = nil
    ) {
        self.limits = limits
        self.processing = processing
        self.scanner = scanner
        self.notifications = notifications
        self.workspacePort = workspacePort
    }

    /// The limits in force: with ClamAV, no file may be larger than clamd can scan (about 2 GiB), so
    /// an upload clamd would refuse is refused up front (413) instead of being blocked after submit.
    public var effectiveLimits: AirlockLimits {
        var limits = self.limits
        if scanner != .none { limits.maxFileBytes = min(limits.maxFileBytes, ClamdConfiguration.largestScannableFile) }
        return limits
    }
}

/// Which malware scanner the airlock uses.
public enum AirlockScannerChoice: Sendable, Hashable {
    /// No scanning: the operator's explicit choice (development); every file is recorded as "not scanned".
    case none
    /// Enclave runs its own clamd (`DATA/airlock/clamd/`) with the signatures in this directory.
    case managed(databaseDirectory: String)
    /// An existing clamd listening on this Unix socket (its limits must cover Enclave's; see docs/airlock.md).
    case clamd(socket: String)

    /// Parses `--airlock-scanner`: `none`, `managed`, or `clamd:<socket path>`.
    public static func parse(_ text: String, databaseDirectory: String) -> AirlockScannerChoice? {
        if text == "none" { return AirlockScannerChoice.none }
        if text == "managed" { return .managed(databaseDirectory: databaseDirectory) }
        if text.hasPrefix("clamd:"), text.count > 6 { return .clamd(socket: String(text.dropFirst(6))) }
        return nil
    }
}

/// The airlock's scanner as built for one data directory: the scanner, and the clamd to run when managed.
struct AirlockScanning: Sendable {
    var scanner: any MalwareScanner
    var daemon: ClamdDaemon?

    init(_ settings: AirlockServerSettings, dataDirectory: String, logger: Logger) throws {
        switch settings.scanner {
        case .none:
            scanner = NoMalwareScanner()
            daemon = nil
        case .managed(let databaseDirectory):
            let directory = URL(fileURLWithPath: AirlockStorage.root(dataDirectory: dataDirectory)).appendingPathComponent("clamd").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let configuration = ClamdDaemon.configuration(
                directory: directory, databaseDirectory: databaseDirectory, perFileLimit: settings.effectiveLimits.maxFileBytes)
            daemon = ClamdDaemon(configuration: configuration, configPath: directory + "/clamd.conf", logger: logger)
            scanner = ClamdScanner(
                configuration: .init(socketPath: configuration.socketPath, maxFileSize: configuration.maxFileSize, databaseDirectory: databaseDirectory))
        case .clamd(let socket):
            scanner = ClamdScanner(configuration: .init(socketPath: socket, maxFileSize: settings.effectiveLimits.maxFileBytes))
            daemon = nil
        }
    }
}

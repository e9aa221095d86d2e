// The typed form of a template's `bundle.yaml`: what the exec deployer runs for each action.
public import EnclaveCore
import Foundation
import Yams

/// A template's `bundle.yaml`: its identity and, for each action, the commands that carry it out.
///
/// It plays the role of Azure TRE's `porter.yaml`, without images: the steps are argv lists run
/// from the template folder, so any tool on the host (sh, terraform, ansible, …) can implement an
/// action. Unknown keys are rejected when decoding so that a typo (`timout:`) fails at load time
/// instead of silently falling back to a default. See `docs/templates.md` for the author's view.
public struct BundleManifest: Codable, Sendable, Hashable {
    /// The template name; must equal the name the template is registered under.
    public var name: String
    /// The template version (semver `MAJOR.MINOR.PATCH`, optional `-pre` and `+build`).
    public var version: String
    /// The kind of resource the template creates.
    public var type: ResourceType
    /// For a user resource only: the name of its parent workspace-service template.
    public var parent: String?
    /// A human summary, shown to template authors and operators (the UI uses the schema's own).
    public var description: String?
    /// Action name (`install`, `upgrade`, `uninstall`, or a custom action such as `start`) → what it runs.
    public var actions: [String: BundleAction]

    /// The action names every resource lifecycle uses; any other action is a custom action.
    public static let standardActions: Set<String> = ["install", "upgrade", "uninstall"]

    public init(
        name: String, version: String, type: ResourceType, parent: String? = nil, description: String? = nil,
        actions: [String: BundleAction]
    ) {
        self.name = name
        self.version = version
        self.type = type
        self.parent = parent
        self.description = description
        self.actions = actions
    }

    /// The custom actions (everything but install/upgrade/uninstall), sorted, as Azure TRE's
    /// `customActions` would list them.
    public var customActionNames: [String] {
        actions.keys.filter { !Self.standardActions.contains($0) }.sorted()
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, version, type, parent, description, actions
    }

    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        version = try container.decode(String.self, forKey: .version)
        type = try container.decode(ResourceType.self, forKey: .type)
        parent = try container.decodeIfPresent(String.self, forKey: .parent)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        actions = try container.decode([String: BundleAction].self, forKey: .actions)
    }

    /// Parses and validates `bundle.yaml` text.
    ///
    /// - Throws: `EnclaveError.unprocessable` naming the first problem found (YAML syntax, a missing
    ///   or unknown key, an invalid version, a step without a command, …).
    public static func parse(yaml: String) throws -> BundleManifest {
        let manifest: BundleManifest
        do {
            manifest = try YAMLDecoder().decode(BundleManifest.self, from: yaml)
        } catch let error as EnclaveError {
            throw error
        } catch let error as DecodingError {
            // Yams wraps errors thrown by our decoders (unknown keys) as the underlying error.
            if let ownError = underlyingEnclaveError(of: error) { throw ownError }
            throw EnclaveError.unprocessable("Invalid bundle.yaml: \(describe(error))")
        } catch {
            throw EnclaveError.unprocessable("Invalid bundle.yaml: \(error)")
        }
        try manifest.validate()
        return manifest
    }

    /// Checks the rules the decoder cannot express; `parse(yaml:)` calls it.
    ///
    /// - Throws: `EnclaveError.unprocessable` with a message that names the offending field.
    public func validate() throws {
        func fail(_ message: String) -> EnclaveError { .unprocessable("Invalid bundle.yaml: \(message)") }
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else {
            throw fail("name '\(name)' must be non-empty and use only letters, digits, '-' and '_'")
        }
        guard Self.isSemanticVersion(version) else {
            throw fail("version '\(version)' is not a semantic version (MAJOR.MINOR.PATCH, e.g. 0.1.0)")
        }
        switch (type, parent) {
        case (.userResource, nil), (.userResource, ""):
            throw fail("a user-resource template must name its parent workspace-service template in 'parent'")
        case (.userResource, _), (_, nil):
            break
        case (_, .some):
            throw fail("'parent' is only allowed for user-resource templates, not \(type.rawValue)")
        }
        guard actions["install"] != nil else {
            throw fail("actions must define 'install'")
        }
        for (actionName, action) in actions.sorted(by: { $0.key < $1.key }) {
            guard !actionName.isEmpty,
                actionName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            else {
                throw fail("action name '\(actionName)' must use only letters, digits, '-' and '_'")
            }
            guard !action.steps.isEmpty else { throw fail("action '\(actionName)' has no steps") }
            if let timeout = action.timeout, timeout <= 0 {
                throw fail("action '\(actionName)' has timeout \(timeout); it must be a positive number of seconds")
            }
            var stepNames = Set<String>()
            for step in action.steps {
                guard !step.name.isEmpty else { throw fail("a step of action '\(actionName)' has an empty name") }
                guard stepNames.insert(step.name).inserted else {
                    throw fail("action '\(actionName)' has two steps named '\(step.name)'")
                }
                let kinds = [step.isolate != nil, step.workload != nil, step.tool != nil].filter { $0 }.count
                guard kinds <= 1, kinds == 0 || step.run.isEmpty else {
                    throw fail("step '\(step.name)' of action '\(actionName)' combines 'run', 'isolate', 'workload' and 'tool'; use one per step")
                }
                if let workload = step.workload {
                    try workload.validate(step: step.name)
                } else if let tool = step.tool {
                    try tool.validate(step: step.name)
                } else if let isolation = step.isolate {
                    guard BundleIsolation.networkModes.contains(isolation.network) else {
                        throw fail(
                            "step '\(step.name)' asks for network '\(isolation.network)'; use one of: \(BundleIsolation.networkModes.joined(separator: ", "))")
                    }
                    for port in isolation.allowedHostPorts ?? [] where !(1...65535).contains(port) {
                        throw fail("step '\(step.name)' allows host port \(port), which is not a TCP port (1–65535)")
                    }
                    for (key, value) in [
                        ("memory_limit_mb", isolation.memoryLimitMb), ("cpu_limit_percent", isolation.cpuLimitPercent),
                        ("max_processes", isolation.maxProcesses),
                    ] {
                        if let value, value < 0 { throw fail("step '\(step.name)' has \(key) \(value); it must be ≥ 0") }
                    }
                } else {
                    guard let program = step.run.first, !program.isEmpty else {
                        throw fail("step '\(step.name)' of action '\(actionName)' has an empty 'run' command")
                    }
                }
                if let timeout = step.timeout, timeout <= 0 {
                    throw fail("step '\(step.name)' has timeout \(timeout); it must be a positive number of seconds")
                }
                for key in (step.environment ?? [:]).keys where !Self.isEnvironmentName(key) {
                    throw fail("step '\(step.name)' sets environment variable '\(key)', which is not a valid name")
                }
            }
        }
    }

    /// Whether `text` is `MAJOR.MINOR.PATCH` with optional `-prerelease` and `+build` parts (semver 2.0).
    public static func isSemanticVersion(_ text: String) -> Bool {
        var core = Substring(text)
        if let plus = core.firstIndex(of: "+") {
            let build = core[core.index(after: plus)...]
            guard isDotSeparatedIdentifiers(build) else { return false }
            core = core[..<plus]
        }
        if let dash = core.firstIndex(of: "-") {
            let pre = core[core.index(after: dash)...]
            guard isDotSeparatedIdentifiers(pre) else { return false }
            core = core[..<dash]
        }
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3
            && parts.allSatisfy { part in
                !part.isEmpty && part.allSatisfy { $0.isASCII && $0.isNumber } && (part == "0" || part.first != "0")
            }
    }

    private static func isDotSeparatedIdentifiers(_ text: Substring) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return !parts.isEmpty
            && parts.allSatisfy { part in
                !part.isEmpty && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }
    }

    private static func isEnvironmentName(_ text: String) -> Bool {
        guard let first = text.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return text.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }

    private static func underlyingEnclaveError(of error: DecodingError) -> EnclaveError? {
        let context: DecodingError.Context
        switch error {
        case .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            context = c
        @unknown default:
            return nil
        }
        switch context.underlyingError {
        case let own as EnclaveError: return own
        case let nested as DecodingError: return underlyingEnclaveError(of: nested)
        default: return nil
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
            return path.isEmpty ? "" : " at '\(path)'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing key '\(key.stringValue)'\(path(context))"
        case .dataCorrupted(let context):
            if let underlying = context.underlyingError {
                return "\(context.debugDescription) \(underlying)" + path(context)
            }
            return context.debugDescription + path(context)
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return context.debugDescription + path(context)
        @unknown default:
            return "\(error)"
        }
    }
}

/// One action of a bundle: the steps run in order, all of which must succeed.
public struct BundleAction: Codable, Sendable, Hashable {
    /// Whether the action may safely be run again from the start after its worker was lost
    /// mid-way; the engine only retries such actions (default `false`).
    public var idempotent: Bool
    /// Seconds each step may run before it is killed, unless the step sets its own (default 600).
    public var timeout: Int?
    public var steps: [BundleStep]

    /// The per-step timeout used when neither the action nor the step sets one.
    public static let defaultTimeoutSeconds = 600

    public init(idempotent: Bool = false, timeout: Int? = nil, steps: [BundleStep]) {
        self.idempotent = idempotent
        self.timeout = timeout
        self.steps = steps
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case idempotent, timeout, steps
    }

    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        idempotent = try container.decodeIfPresent(Bool.self, forKey: .idempotent) ?? false
        timeout = try container.decodeIfPresent(Int.self, forKey: .timeout)
        steps = try container.decode([BundleStep].self, forKey: .steps)
    }
}

/// One command of an action.
public struct BundleStep: Codable, Sendable, Hashable {
    /// Shown in progress and failure messages ("Step 'create folders' failed …").
    public var name: String
    /// The argv. A first element containing `/` but not starting with it is resolved against the
    /// template folder; a bare name is looked up on `PATH`. The working directory is the template
    /// folder, so relative arguments (`scripts/install.sh`) work as written.
    public var run: [String]
    /// Overrides the action's timeout for this step, in seconds.
    public var timeout: Int?
    /// Fixed extra environment variables for this step (e.g. `TF_IN_AUTOMATION: "1"`).
    public var environment: [String: String]?
    /// Instead of `run`: the local data plane isolates the workspace (network namespace, nftables,
    /// uid/gid, cgroup limits) on install/upgrade and removes all of it on uninstall.
    public var isolate: BundleIsolation?
    /// Instead of `run`: a supervised long-running tool in the workspace's sandbox, started on
    /// install/upgrade/custom actions and stopped on `uninstall` and `stop`.
    public var workload: BundleWorkload?
    /// Instead of `run`: installs tool software once into `DATA/tools/<name>-<version>/`.
    public var tool: BundleTool?

    public init(
        name: String, run: [String], timeout: Int? = nil, environment: [String: String]? = nil,
        isolate: BundleIsolation? = nil, workload: BundleWorkload? = nil, tool: BundleTool? = nil
    ) {
        self.name = name
        self.run = run
        self.timeout = timeout
        self.environment = environment
        self.isolate = isolate
        self.workload = workload
        self.tool = tool
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, run, timeout, environment, isolate, workload, tool
    }

    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        isolate = try container.decodeIfPresent(BundleIsolation.self, forKey: .isolate)
        workload = try container.decodeIfPresent(BundleWorkload.self, forKey: .workload)
        tool = try container.decodeIfPresent(BundleTool.self, forKey: .tool)
        // A step either runs a command or is one of the data plane's kinds; those leave out `run`.
        let special = isolate != nil || workload != nil || tool != nil
        run = try special ? (container.decodeIfPresent([String].self, forKey: .run) ?? []) : container.decode([String].self, forKey: .run)
        timeout = try container.decodeIfPresent(Int.self, forKey: .timeout)
        environment = try container.decodeIfPresent([String: String].self, forKey: .environment)
    }
}

/// An `isolate:` step: what the local data plane sets up for the workspace.
///
/// Limits given here are defaults; the resource's properties `memory_limit_mb`,
/// `cpu_limit_percent` and `max_processes` override them (0 = unlimited).
public struct BundleIsolation: Codable, Sendable, Hashable {
    /// `restricted` (no egress) or `unrestricted` (egress through NAT).
    public var network: String
    public var memoryLimitMb: Int?
    public var cpuLimitPercent: Int?
    public var maxProcesses: Int?
    /// TCP ports on the host end of the workspace's veth it may connect to (package mirror, airlock).
    public var allowedHostPorts: [Int]?

    public static let networkModes = ["restricted", "unrestricted"]

    public init(
        network: String, memoryLimitMb: Int? = nil, cpuLimitPercent: Int? = nil, maxProcesses: Int? = nil,
        allowedHostPorts: [Int]? = nil
    ) {
        self.network = network
        self.memoryLimitMb = memoryLimitMb
        self.cpuLimitPercent = cpuLimitPercent
        self.maxProcesses = maxProcesses
        self.allowedHostPorts = allowedHostPorts
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case network
        case memoryLimitMb = "memory_limit_mb"
        case cpuLimitPercent = "cpu_limit_percent"
        case maxProcesses = "max_processes"
        case allowedHostPorts = "allowed_host_ports"
    }

    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        network = try container.decode(String.self, forKey: .network)
        memoryLimitMb = try container.decodeIfPresent(Int.self, forKey: .memoryLimitMb)
        cpuLimitPercent = try container.decodeIfPresent(Int.self, forKey: .cpuLimitPercent)
        maxProcesses = try container.decodeIfPresent(Int.self, forKey: .maxProcesses)
        allowedHostPorts = try container.decodeIfPresent([Int].self, forKey: .allowedHostPorts)
    }
}

/// A `workload:` step: a long-running tool (JupyterLab, a desktop) that the local data plane runs in
/// the workspace's sandbox under its supervisor.
///
/// `command`, `environment` values, `health_path` and the credential's `value` may use `{{ name }}`
/// placeholders: `address`, `port`, `base_path` (the gateway path, `/workspaces/<ws>/services/<svc>/`),
/// `token` (a random secret kept for the resource), `data_dir`, `tools_dir`, `workspace_dir`, `shared`,
/// `home`, `resource_id`, `workspace_id`, or any string parameter of the resource.
public struct BundleWorkload: Codable, Sendable, Hashable {
    public var command: [String]
    public var environment: [String: String]?
    /// The TCP port the tool listens on at the workspace address; the gateway forwards there.
    public var port: Int
    /// Path (after `base_path`) whose GET answers below 500 once the tool serves; nil: running is enough.
    public var healthPath: String?
    /// `always` (default), `on-failure` or `never`.
    public var restart: String?
    /// Seconds a start may take before it counts as failed (default 120).
    public var startTimeout: Int?
    /// What the gateway adds to every request so users never see the tool's secret.
    public var credential: BundleCredential?

    public static let restartModes = ["always", "on-failure", "never"]

    public init(
        command: [String], environment: [String: String]? = nil, port: Int, healthPath: String? = nil, restart: String? = nil,
        startTimeout: Int? = nil, credential: BundleCredential? = nil
    ) {
        self.command = command
        self.environment = environment
        self.port = port
        self.healthPath = healthPath
        self.restart = restart
        self.startTimeout = startTimeout
        self.credential = credential
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case command, environment, port, restart, credential
        case healthPath = "health_path"
        case startTimeout = "start_timeout"
    }

    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        command = try container.decode([String].self, forKey: .command)
        environment = try container.decodeIfPresent([String: String].self, forKey: .environment)
        port = try container.decode(Int.self, forKey: .port)
        healthPath = try container.decodeIfPresent(String.self, forKey: .healthPath)
        restart = try container.decodeIfPresent(String.self, forKey: .restart)
        startTimeout = try container.decodeIfPresent(Int.self, forKey: .startTimeout)
        credential = try container.decodeIfPresent(BundleCredential.self, forKey: .credential)
    }

    func validate(step: String) throws {
        func fail(_ message: String) -> EnclaveError { .unprocessable("Invalid bundle.yaml: step '\(step)' \(message)") }
        guard let program = command.first, !program.isEmpty else { throw fail("has an empty workload 'command'") }
        guard (1...65535).contains(port) else { throw fail("has port \(port), which is not a TCP port (1–65535)") }
        if let restart, !Self.restartModes.contains(restart) {
            throw fail("has restart '\(restart)'; use one of: \(Self.restartModes.joined(separator: ", "))")
        }
        if let startTimeout, startTimeout <= 0 { throw fail("has start_timeout \(startTimeout); it must be positive") }
        if let credential, (credential.header == nil) == (credential.query == nil) {
            throw fail("has a credential that needs exactly one of 'header' and 'query'")
        }
    }
}

/// `{header: Authorization, value: "token {{ token }}"}` or `{query: token, value: "{{ token }}"}`.
public struct BundleCredential: Codable, Sendable, Hashable {
    public var header: String?
    public var query: String?
    public var value: String

    public init(header: String? = nil, query: String? = nil, value: String) {
        self.header = header
        self.query = query
        self.value = value
    }
}

/// A `tool:` step: software installed once into `DATA/tools/<name>-<version>/` and shared read-only by
/// every workspace's sandbox. `pip` packages go into a venv there (the machine's configured index);
/// `debian` packages are installed with apt-get when Enclave runs as root.
public struct BundleTool: Codable, Sendable, Hashable {
    public var name: String
    public var version: String
    public var pip: [String]?
    public var debian: [String]?

    public init(name: String, version: String, pip: [String]? = nil, debian: [String]? = nil) {
        self.name = name
        self.version = version
        self.pip = pip
        self.debian = debian
    }

    /// The folder under `DATA/tools`.
    public var folderName: String { "\(name)-\(version)" }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, version, pip, debian
    }

    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        version = try container.decode(String.self, forKey: .version)
        pip = try container.decodeIfPresent([String].self, forKey: .pip)
        debian = try container.decodeIfPresent([String].self, forKey: .debian)
    }

    func validate(step: String) throws {
        func fail(_ message: String) -> EnclaveError { .unprocessable("Invalid bundle.yaml: step '\(step)' \(message)") }
        let safe: (String) -> Bool = { text in
            !text.isEmpty && text.first != "." && text.first != "-"
                && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        }
        guard safe(name), safe(version) else { throw fail("has tool name '\(name)' or version '\(version)' that is not a plain folder name") }
        guard !(pip ?? []).isEmpty || !(debian ?? []).isEmpty else { throw fail("installs nothing: give 'pip' or 'debian' packages") }
        for package in (pip ?? []) + (debian ?? []) where package.isEmpty || package.hasPrefix("-") {
            throw fail("has package '\(package)'; options are not allowed, only package names and versions")
        }
    }
}

private struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Fails decoding when the mapping holds a key the type does not know, so typos are reported.
private func rejectUnknownKeys(in decoder: any Decoder, allowed: [String]) throws {
    let container = try decoder.container(keyedBy: AnyCodingKey.self)
    let unknown = container.allKeys.map(\.stringValue).filter { !allowed.contains($0) }.sorted()
    guard unknown.isEmpty else {
        let path = decoder.codingPath.map(\.stringValue).joined(separator: ".")
        let place = path.isEmpty ? "at the top level" : "in '\(path)'"
        throw EnclaveError.unprocessable(
            "Invalid bundle.yaml: unknown key '\(unknown.joined(separator: "', '"))' \(place) (allowed: \(allowed.joined(separator: ", ")))"
        )
    }
}

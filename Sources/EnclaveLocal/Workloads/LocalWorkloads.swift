// What `workload:` and `tool:` bundle steps do on this host.
import EnclaveCore
public import EnclaveEngine
public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs workspace tools: installs their software once under `DATA/tools`, starts them in the
/// workspace's sandbox (`Sandbox`) under the `Supervisor`, and reports where the gateway finds them
/// (`gateway_upstream`, `gateway_credential`).
///
/// With the simulated data plane nothing is installed or started: the steps succeed with a note, so
/// control-plane tests and development without root still deploy tool templates.
public struct LocalWorkloads: WorkloadStepRunner {
    public let plane: LocalDataPlane
    public let supervisor: Supervisor
    /// `DATA` (absolute).
    public let dataDirectory: String
    /// Where the supervisor keeps records, logs and each workload's token.
    public let stateDirectory: URL

    public init(plane: LocalDataPlane, supervisor: Supervisor, dataDirectory: String, stateDirectory: URL) {
        self.plane = plane
        self.supervisor = supervisor
        self.dataDirectory = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
        self.stateDirectory = stateDirectory
    }

    /// The supervisor state folder for a data directory: `DATA/run/workloads`.
    public static func stateDirectory(dataDirectory: String) -> URL {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("run/workloads")
    }

    var toolsDirectory: String { "\(dataDirectory)/tools" }

    public func tool(
        _ tool: BundleTool, request: DeploymentRequest, progress: @escaping @Sendable (String) async -> Void
    ) async throws -> DeploymentResult {
        if plane.isSimulated {
            return DeploymentResult(succeeded: true, message: "Simulated data plane: \(tool.folderName) not installed")
        }
        guard request.action != "uninstall" else {
            return DeploymentResult(succeeded: true, message: "\(tool.folderName) stays installed (shared by every workspace)")
        }
        switch await ToolInstaller(toolsDirectory: toolsDirectory).install(tool, progress: progress) {
        case .success(let folder):
            return DeploymentResult(succeeded: true, outputs: ["tool_dir": .string(folder)], message: "\(tool.folderName) is installed in \(folder)")
        case .failure(let error):
            return DeploymentResult(succeeded: false, message: error.message)
        }
    }

    public func workload(
        _ workload: BundleWorkload, request: DeploymentRequest, progress: @escaping @Sendable (String) async -> Void
    ) async throws -> DeploymentResult {
        let id = request.resourceId
        guard let workspaceId = request.workspaceId, request.resourceType != .workspace else {
            return DeploymentResult(succeeded: false, message: "A workload runs inside a workspace; use it in a workspace service or user resource")
        }
        if plane.isSimulated {
            let stopping = request.action == "stop" || request.action == "uninstall"
            return DeploymentResult(
                succeeded: true, outputs: ["power_state": .string(stopping ? "stopped" : "not_started")],
                message: "Simulated data plane: the workload was not started (run serve with --data-plane host)")
        }
        guard Self.isPathComponent(id) else {
            return DeploymentResult(succeeded: false, message: "Resource id '\(id)' cannot name a cgroup or a file")
        }
        if request.action == "uninstall" || request.action == "stop" {
            await progress("stopping workload")
            await supervisor.stop(id)
            if let placement = try await plane.placement(workspaceId: workspaceId) {
                // The workload's own cgroup; its processes went with the sandbox.
                try? plane.configuration.cgroups?.remove("\(placement.names.cgroup)/\(id)")
            }
            if request.action == "uninstall" {
                try? FileManager.default.removeItem(at: tokenURL(id))
                if request.resourceType == .userResource { try await plane.releaseUserPort(workspaceId: workspaceId, resourceId: id) }
            }
            return DeploymentResult(succeeded: true, outputs: ["power_state": .string("stopped")], message: "Workload stopped")
        }
        guard let placement = try await plane.placement(workspaceId: workspaceId) else {
            return DeploymentResult(succeeded: false, message: "Workspace '\(workspaceId)' is not isolated on this host; deploy it (with an isolate: step) first")
        }
        let size: WorkloadSize?
        switch Result(catching: { try WorkloadSize.from(parameters: request.parameters) }) {
        case .success(let chosen): size = chosen
        case .failure(let error): return DeploymentResult(succeeded: false, message: (error as? EnclaveError)?.message ?? "\(error)")
        }
        let workspaceDirectory = "\(dataDirectory)/workspaces/\(workspaceId)"
        let fm = FileManager.default
        for folder in ["shared", "home"] where !fm.fileExists(atPath: "\(workspaceDirectory)/\(folder)") {
            return DeploymentResult(succeeded: false, message: "Workspace storage \(workspaceDirectory)/\(folder) is missing; deploy the workspace first")
        }
        // A user resource runs as its owner's own uid, on a port of its own, in the owner's home;
        // a workspace service as the workspace uid on its bundle's port.
        var identity = WorkloadIdentity(uid: placement.uid, gid: nil, port: workload.port, home: "\(workspaceDirectory)/shared")
        if request.resourceType == .userResource {
            guard let owner = request.ownerId, Self.isPathComponent(owner) else {
                return DeploymentResult(
                    succeeded: false, message: "A user resource's workload runs for its owner; '\(request.ownerId ?? "")' is not a usable user id")
            }
            let uid = try await plane.userUid(workspaceId: workspaceId, userId: owner)
            let home = "\(workspaceDirectory)/home/\(owner)"
            if case .failure(let error) = Self.prepareHome(home, uid: uid, gid: placement.uid) {
                return DeploymentResult(succeeded: false, message: error.message)
            }
            identity = WorkloadIdentity(
                uid: uid, gid: placement.uid, port: try await plane.userPort(workspaceId: workspaceId, resourceId: id), home: home)
        } else if let owner = request.ownerId {
            // The creator's home, while it is still the workspace uid's (a personal tool of theirs makes it their own).
            let home = "\(workspaceDirectory)/home/\(owner)"
            var info = stat()
            if stat(home, &info) == 0, Int(info.st_uid) == placement.uid { identity.home = home }
        }
        var workload = workload
        workload.port = identity.port
        let home = identity.home
        let token: String
        switch loadOrCreateToken(id) {
        case .success(let value): token = value
        case .failure(let error): return DeploymentResult(succeeded: false, message: error.message)
        }
        let basePath = GatewayOutputs.path(of: request) ?? "/"
        var values: [String: String] = [:]
        for (name, value) in request.parameters {
            switch value {
            case .string(let text): values[name] = text
            // Booleans and whole numbers too, so a script's argument can carry a switch (`{{ disable_copy }}`).
            case .bool(let flag): values[name] = flag ? "true" : "false"
            case .int(let number): values[name] = String(number)
            default: break
            }
        }
        values.merge([
            "address": placement.link.workspaceAddress, "port": "\(workload.port)", "base_path": basePath, "token": token,
            "data_dir": dataDirectory, "tools_dir": toolsDirectory, "workspace_dir": workspaceDirectory,
            "shared": "\(workspaceDirectory)/shared", "home": home, "resource_id": id, "workspace_id": workspaceId,
        ]) { _, fixed in fixed }

        let spec: WorkloadSpec
        let cgroup = "\(placement.names.cgroup)/\(id)"
        if let cgroups = plane.configuration.cgroups {
            do {
                try cgroups.ensure(cgroup, limits: size?.limits ?? ResourceLimits())
            } catch {
                return DeploymentResult(succeeded: false, message: "Cannot create the workload's cgroup \(cgroup): \(error)")
            }
        }
        switch makeSpec(
            workload, values: values, placement: placement, identity: identity, cgroup: cgroup, workspaceDirectory: workspaceDirectory, home: home)
        {
        case .success(let made): spec = made
        case .failure(let error): return DeploymentResult(succeeded: false, message: error.message)
        }
        makeTraversable()
        await progress("starting workload")
        let started = Date()
        let status: WorkloadStatus
        do {
            status = try await supervisor.start(id, spec)
        } catch {
            return DeploymentResult(succeeded: false, message: "\(error)")
        }
        let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
        var outputs: [String: JSONValue] = [
            GatewayOutputs.upstream: .string("http://\(placement.link.workspaceAddress):\(workload.port)\(basePath.hasSuffix("/") ? String(basePath.dropLast()) : basePath)"),
            "power_state": .string("running"),
        ]
        if let credential = workload.credential {
            switch Placeholders.substitute(credential.value, values) {
            case .success(let value):
                var object: [String: JSONValue] = ["value": .string(value)]
                if let header = credential.header { object["header"] = .string(header) }
                if let query = credential.query { object["query"] = .string(query) }
                outputs[GatewayOutputs.credential] = .object(object)
            case .failure(let error):
                return DeploymentResult(succeeded: false, message: error.message)
            }
        }
        return DeploymentResult(
            succeeded: true, outputs: outputs,
            message: "Workload running (pid \(status.pid.map(String.init) ?? "?"), healthy after \(seconds) s); log: \(stateDirectory.path)/\(id).log")
    }

    func makeSpec(
        _ workload: BundleWorkload, values: [String: String], placement: (names: WorkspaceHostNames, link: WorkspaceLink, uid: Int),
        identity: WorkloadIdentity, cgroup: String, workspaceDirectory: String, home: String
    ) -> Result<WorkloadSpec, SandboxError> {
        var command: [String] = []
        for part in workload.command {
            switch Placeholders.substitute(part, values) {
            case .success(let text): command.append(text)
            case .failure(let error): return .failure(error)
            }
        }
        var environment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "USER": "workspace", "TMPDIR": "/tmp",
        ]
        for (key, value) in workload.environment ?? [:] {
            switch Placeholders.substitute(value, values) {
            case .success(let text): environment[key] = text
            case .failure(let error): return .failure(error)
            }
        }
        let cgroupProcs = plane.configuration.cgroups.map { $0.paths(of: cgroup).map { "\($0)/cgroup.procs" } } ?? []
        let sandbox = Sandbox(
            namespace: placement.names.namespace, uid: identity.uid, cgroupProcs: cgroupProcs, dataDirectory: dataDirectory,
            workspaceDirectory: workspaceDirectory, workingDirectory: identity.gid == nil ? "\(workspaceDirectory)/shared" : home,
            gid: identity.gid)
        let argv: [String]
        switch sandbox.argv(command) {
        case .success(let made): argv = made
        case .failure(let error): return .failure(error)
        }
        var health: HealthCheck?
        if let path = workload.healthPath {
            switch Placeholders.substitute(path, values) {
            case .success(let text):
                let base = values["base_path"] ?? "/"
                let relative = text.hasPrefix("/") ? String(text.dropFirst()) : text
                // Polled every 50 ms while starting: a refused connect costs microseconds, and every poll
                // interval is added to the service's start (0.25 s made a JupyterLab start 1.3× its own).
                health = HealthCheck(
                    url: "http://\(placement.link.workspaceAddress):\(workload.port)\(base.hasSuffix("/") ? base : base + "/")\(relative)",
                    startTimeout: Double(workload.startTimeout ?? 120), interval: 0.05)
            case .failure(let error): return .failure(error)
            }
        }
        let mode = RestartPolicy.Mode(rawValue: workload.restart ?? "always") ?? .always
        return .success(
            WorkloadSpec(
                command: argv, environment: environment, workingDirectory: "/", health: health, restart: RestartPolicy(mode: mode),
                stopGracePeriod: 5, inheritsEnvironment: false))
    }

    /// bubblewrap runs as the workspace uid, which must be able to traverse `DATA` and
    /// `DATA/workspaces` to bind folders below them: execute-only for others (no listing). Inside the
    /// sandbox `DATA` is hidden under a tmpfs anyway.
    func makeTraversable() {
        for path in [dataDirectory, "\(dataDirectory)/workspaces"] {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            if info.st_mode & 0o001 == 0 { _ = chmod(path, (info.st_mode & 0o7777) | 0o001) }
        }
    }

    func tokenURL(_ id: String) -> URL { stateDirectory.appendingPathComponent("\(id).token") }

    /// The workload's secret, kept across restarts of the workload and of Enclave (0600, root only).
    func loadOrCreateToken(_ id: String) -> Result<String, SandboxError> {
        let url = tokenURL(id)
        if let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8), text.count >= 32 {
            return .success(text)
        }
        var bytes = [UInt8](repeating: 0, count: 24)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        do {
            try FileManager.default.createDirectory(at: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            return .failure(SandboxError(message: "Cannot create \(stateDirectory.path): \(error.localizedDescription)"))
        }
        guard FileManager.default.createFile(atPath: url.path, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600]) else {
            return .failure(SandboxError(message: "Cannot write \(url.path)"))
        }
        return .success(token)
    }
}

extension GatewayOutputs {
    /// The gateway path of the resource a request deploys.
    static func path(of request: DeploymentRequest) -> String? {
        switch request.resourceType {
        case .workspaceService:
            guard let ws = request.workspaceId else { return nil }
            return "/workspaces/\(ws)/services/\(request.resourceId)/"
        case .userResource:
            guard let ws = request.workspaceId, let svc = request.parentWorkspaceServiceId else { return nil }
            return "/workspaces/\(ws)/services/\(svc)/user-resources/\(request.resourceId)/"
        case .workspace, .sharedService:
            return nil
        }
    }
}

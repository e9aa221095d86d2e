// The one-host data plane's workspace isolation: what an `isolate:` bundle step does.
import EnclaveCore
public import EnclaveEngine
public import EnclaveStore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Settings of the local data plane.
public struct LocalDataPlaneConfiguration: Sendable, Hashable {
    /// The pool workspaces' /30 links come from (default `10.200.0.0/16`).
    public var pool: AddressPool
    /// Prefix of every host object's name (namespaces, veths, nft tables, cgroups); default `enc`.
    public var namePrefix: String
    /// uids/gids handed to workspaces.
    public var identities: IdentityRange
    /// uids handed to each (workspace, user) whose own workloads (personal desktops, notebooks) run
    /// apart from the workspace uid; their gid is the workspace's.
    public var userIdentities: IdentityRange
    /// Ports of user resources' workloads.
    public var userPorts: WorkloadPortRange
    /// Where limits go; nil applies none (the simulated data plane).
    public var cgroups: Cgroups?
    /// TCP ports on its host end that every workspace may open, besides its template's
    /// `allowed_host_ports`: listeners of Enclave itself (the airlock's workspace listener), whose
    /// port is the server's setting, so no template has to know it.
    public var hostPorts: [Int]

    public init(
        pool: AddressPool, namePrefix: String = "enc", identities: IdentityRange = .init(), cgroups: Cgroups? = Cgroups(),
        userIdentities: IdentityRange = .users, userPorts: WorkloadPortRange = .init(), hostPorts: [Int] = []
    ) throws {
        guard WorkspaceHostNames.isValidPrefix(namePrefix) else {
            throw EnclaveError.unprocessable("Data plane name prefix '\(namePrefix)' must be 1–5 lowercase letters or digits, starting with a letter")
        }
        // Removing a workspace kills every process of its uids: a range reaching the system's own uids (root,
        // daemons, people's accounts) would let it kill those.
        for (name, range) in [("Workspace", identities), ("Per-user", userIdentities)]
        where range.first < IdentityRange.lowestAllowed || range.first + range.count > IdentityRange.highestAllowed + 1 {
            throw EnclaveError.unprocessable(
                "\(name) uids must lie within \(IdentityRange.lowestAllowed)–\(IdentityRange.highestAllowed) (got \(range.first) + \(range.count)): lower uids belong to the system and its people")
        }
        let workspaceUids = identities.first..<(identities.first + identities.count)
        let userUids = userIdentities.first..<(userIdentities.first + userIdentities.count)
        guard !workspaceUids.overlaps(userUids) else {
            throw EnclaveError.unprocessable(
                "Workspace uids \(workspaceUids) and per-user uids \(userUids) overlap; give them separate ranges")
        }
        self.pool = pool
        self.namePrefix = namePrefix
        self.identities = identities
        self.cgroups = cgroups
        self.userIdentities = userIdentities
        self.userPorts = userPorts
        self.hostPorts = hostPorts
    }

    public static func standard() throws -> LocalDataPlaneConfiguration {
        try LocalDataPlaneConfiguration(pool: AddressPool(cidr: "10.200.0.0/16"))
    }

    /// Store kinds of this pool's allocations (the pool is part of the key, so changing it never reuses slots wrongly).
    var linkKind: String { "link:\(namePrefix):\(pool)" }
    var uidKind: String { "uid:\(namePrefix):\(identities.first)" }
    /// Owners are `<workspace>/<user>`, so a workspace's user uids can be found and freed with it.
    var userUidKind: String { "user-uid:\(namePrefix):\(userIdentities.first)" }
    /// Owners are `<workspace>/<resource>`.
    var userPortKind: String { "user-port:\(namePrefix):\(userPorts.first)" }
}

/// Isolates workspaces on this host: a network namespace with a veth /30 from the pool, an
/// nftables table (restricted: no route out, only allowed host ports; unrestricted: NAT egress),
/// a uid/gid and cgroup limits. Uninstall removes every piece, stopping the workspace's
/// processes first (SIGKILL: a pid-namespace init ignores SIGTERM).
public struct LocalDataPlane: IsolationStepRunner {
    public let configuration: LocalDataPlaneConfiguration
    let network: any HostNetwork
    let allocations: any HostAllocationRepository
    let now: @Sendable () -> Double

    public init(
        configuration: LocalDataPlaneConfiguration, network: any HostNetwork = CommandHostNetwork(),
        allocations: any HostAllocationRepository, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.configuration = configuration
        self.network = network
        self.allocations = allocations
        self.now = now
    }

    public func healthProblem() async -> String? {
        if let missing = await network.missingCapability() { return missing }
        return configuration.cgroups?.missingCapability()
    }

    public func isolate(
        _ isolation: BundleIsolation, request: DeploymentRequest, progress: @escaping @Sendable (String) async -> Void
    ) async throws -> DeploymentResult {
        guard request.resourceType == .workspace else {
            return DeploymentResult(succeeded: false, message: "Only workspaces can be isolated, not a \(request.resourceType.rawValue)")
        }
        if let missing = await healthProblem() {
            return DeploymentResult(succeeded: false, message: missing)
        }
        if request.action == "uninstall" {
            await progress("removing workspace isolation")
            let removed = try await remove(workspaceId: request.resourceId)
            return DeploymentResult(succeeded: true, message: removed ? "Workspace isolation removed" : "No workspace isolation to remove")
        }
        guard let mode = NetworkMode(rawValue: isolation.network) else {
            return DeploymentResult(succeeded: false, message: "Unknown network mode '\(isolation.network)'")
        }
        let limits: ResourceLimits
        do {
            let defaults = ResourceLimits(
                memoryBytes: isolation.memoryLimitMb.flatMap { $0 == 0 ? nil : $0 * 1024 * 1024 },
                cpuPercent: isolation.cpuLimitPercent.flatMap { $0 == 0 ? nil : $0 },
                maxProcesses: isolation.maxProcesses.flatMap { $0 == 0 ? nil : $0 })
            limits = try ResourceLimits.from(parameters: request.parameters, defaults: defaults)
        } catch let error as EnclaveError {
            return DeploymentResult(succeeded: false, message: error.message)
        }
        await progress("isolating workspace network")
        return try await ensure(
            workspaceId: request.resourceId, mode: mode, limits: limits, allowedHostPorts: isolation.allowedHostPorts ?? [])
    }

    /// Creates or converges the workspace's isolation and returns its outputs.
    func ensure(workspaceId: String, mode: NetworkMode, limits: ResourceLimits, allowedHostPorts: [Int]) async throws
        -> DeploymentResult
    {
        let config = configuration
        let linkSlot = try await allocations.allocateSlot(
            kind: config.linkKind, owner: workspaceId, capacity: config.pool.slotCount, now: now())
        let uidSlot = try await allocations.allocateSlot(
            kind: config.uidKind, owner: workspaceId, capacity: config.identities.count, now: now())
        guard let link = config.pool.link(slot: linkSlot), let uid = config.identities.uid(slot: uidSlot) else {
            throw EnclaveError.internal("Allocated slot \(linkSlot)/\(uidSlot) is outside the configured pool")
        }
        let names = WorkspaceHostNames(prefix: config.namePrefix, slot: linkSlot)
        let spec = WorkspaceNetworkSpec(
            names: names, link: link, mode: mode, pool: config.pool, allowedHostPorts: allowedHostPorts + config.hostPorts)
        try await network.ensure(spec)
        try config.cgroups?.ensure(names.cgroup, limits: limits)
        var outputs: [String: JSONValue] = [
            "network_mode": .string(mode.rawValue),
            "network_namespace": .string(names.namespace),
            "workspace_address": .string(link.workspaceAddress),
            "host_address": .string(link.hostAddress),
            "workspace_subnet": .string(link.subnet),
            "workspace_uid": .int(uid),
            "workspace_gid": .int(uid),
            "cgroup": config.cgroups.map { .string("\($0.parent)/\(names.cgroup)") } ?? .null,
        ]
        outputs["memory_limit_bytes"] = limits.memoryBytes.map { .int($0) } ?? .null
        outputs["cpu_limit_percent"] = limits.cpuPercent.map { .int($0) } ?? .null
        outputs["max_processes"] = limits.maxProcesses.map { .int($0) } ?? .null
        return DeploymentResult(
            succeeded: true, outputs: outputs,
            message: "Workspace isolated (\(mode.rawValue)): \(link.workspaceAddress) in \(names.namespace), uid \(uid)")
    }

    /// Where an isolated workspace lives on this host: its host names, /30 link and uid (= gid); nil
    /// when the workspace has no isolation.
    public func placement(workspaceId: String) async throws -> (names: WorkspaceHostNames, link: WorkspaceLink, uid: Int)? {
        let config = configuration
        guard let linkSlot = try await allocations.slot(kind: config.linkKind, owner: workspaceId),
            let uidSlot = try await allocations.slot(kind: config.uidKind, owner: workspaceId),
            let link = config.pool.link(slot: linkSlot), let uid = config.identities.uid(slot: uidSlot)
        else { return nil }
        return (WorkspaceHostNames(prefix: config.namePrefix, slot: linkSlot), link, uid)
    }

    /// Whether this data plane changes the host (false: the simulated one, which records allocations only).
    public var isSimulated: Bool { network is SimulatedHostNetwork }

    /// Stops the workspace's processes and removes its namespace, veth, nft table, cgroups and
    /// allocations. Returns false when there was nothing allocated (already removed).
    public func remove(workspaceId: String) async throws -> Bool {
        let config = configuration
        guard let linkSlot = try await allocations.slot(kind: config.linkKind, owner: workspaceId) else {
            try await allocations.releaseSlot(kind: config.uidKind, owner: workspaceId)
            try await releaseUserAllocations(workspaceId: workspaceId)
            return false
        }
        let names = WorkspaceHostNames(prefix: config.namePrefix, slot: linkSlot)
        let uidSlot = try await allocations.slot(kind: config.uidKind, owner: workspaceId)
        let uid = uidSlot.flatMap { config.identities.uid(slot: $0) }
        // The simulated plane ran nothing as these uids and must change nothing on the host: killing by uid
        // there reached real processes of the same number (another installation's, or a root test's beside it).
        let uids = isSimulated ? [] : (uid.map { [$0] } ?? []) + (try await userUids(workspaceId: workspaceId))
        // SIGKILL, not SIGTERM: a pid-namespace init ignores SIGTERM. Tools get their graceful stop
        // from the workload supervisor before uninstall reaches this step.
        for _ in 0..<50 {
            var pids = Set(try await network.processes(in: names))
            pids.formUnion(config.cgroups?.processes(of: names.cgroup) ?? [])
            for uid in uids { pids.formUnion(Self.processes(ofUid: uid)) }
            if pids.isEmpty { break }
            for pid in pids where pid > 1 { kill(pid, SIGKILL) }
            try await Task.sleep(for: .milliseconds(20))
        }
        try config.cgroups?.remove(names.cgroup)
        try await network.remove(names)
        try await releaseUserAllocations(workspaceId: workspaceId)
        try await allocations.releaseSlot(kind: config.uidKind, owner: workspaceId)
        try await allocations.releaseSlot(kind: config.linkKind, owner: workspaceId)
        return true
    }

    /// Process ids whose real uid is `uid` (from `/proc`).
    static func processes(ofUid uid: Int) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry),
                let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") })
            else { return nil }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.count > 1 && Int(fields[1]) == uid ? pid : nil
        }
    }
}

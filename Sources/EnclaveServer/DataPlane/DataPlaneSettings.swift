import EnclaveEngine
import EnclaveLocal
import EnclaveStore

/// Which host isolation `isolate:` steps get.
public enum DataPlaneMode: String, Sendable, Hashable {
    /// Network namespaces, veths, nftables and cgroups on this host (needs root, `ip`, `nft`).
    case host
    /// Changes nothing on the host and records allocations only: development and control-plane
    /// tests. Workspaces are NOT isolated; `/api/health` says so.
    case simulated
}

/// The data plane's settings from `enclave serve`'s options.
public struct DataPlaneSettings: Sendable, Hashable {
    public var mode: DataPlaneMode
    /// IPv4 pool of workspace links (default `10.200.0.0/16`).
    public var addressPool: String
    /// Prefix of host object names (default `enc`).
    public var namePrefix: String
    /// First workspace uid and first per-user uid (nil: the defaults, 200000 and 400000). Two
    /// installations on one host (or root tests running in parallel) need apart ranges: removing a
    /// workspace kills every process of its uids.
    public var firstWorkspaceUid: Int?
    public var firstUserUid: Int?

    public init(
        mode: DataPlaneMode = .host, addressPool: String = "10.200.0.0/16", namePrefix: String = "enc", firstWorkspaceUid: Int? = nil,
        firstUserUid: Int? = nil
    ) {
        self.mode = mode
        self.addressPool = addressPool
        self.namePrefix = namePrefix
        self.firstWorkspaceUid = firstWorkspaceUid
        self.firstUserUid = firstUserUid
    }

    /// The uid ranges: the default counts from the chosen firsts.
    var identities: (workspaces: IdentityRange, users: IdentityRange) {
        let defaults = (workspaces: IdentityRange(), users: IdentityRange.users)
        return (
            firstWorkspaceUid.map { IdentityRange(first: $0, count: defaults.workspaces.count) } ?? defaults.workspaces,
            firstUserUid.map { IdentityRange(first: $0, count: defaults.users.count) } ?? defaults.users
        )
    }

    /// The data plane for these settings, keeping its allocations in `allocations`; every workspace
    /// may reach `hostPorts` on its host end (Enclave's own listeners for workspaces).
    ///
    /// - Throws: `EnclaveError.unprocessable` for an invalid pool or prefix.
    func build(allocations: any HostAllocationRepository, hostPorts: [Int] = []) throws -> LocalDataPlane {
        let pool = try AddressPool(cidr: addressPool)
        switch mode {
        case .host:
            let configuration = try LocalDataPlaneConfiguration(
                pool: pool, namePrefix: namePrefix, identities: identities.workspaces, userIdentities: identities.users, hostPorts: hostPorts)
            return LocalDataPlane(configuration: configuration, allocations: allocations)
        case .simulated:
            let configuration = try LocalDataPlaneConfiguration(pool: pool, namePrefix: namePrefix, cgroups: nil, hostPorts: hostPorts)
            return LocalDataPlane(configuration: configuration, network: SimulatedHostNetwork(), allocations: allocations)
        }
    }
}

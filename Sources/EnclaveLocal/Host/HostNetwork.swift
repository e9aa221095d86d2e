/// The host's network operations for workspaces: namespaces, veth pairs, nftables.
///
/// Every operation is idempotent: `ensure` checks before it creates and converges a half-made
/// network, `remove` tolerates pieces that are already gone.
public protocol HostNetwork: Sendable {
    /// Creates (or repairs) the namespace, the veth pair, addresses, routes and the nft table.
    func ensure(_ spec: WorkspaceNetworkSpec) async throws
    /// Removes the nft table, the veth pair and the namespace; absent pieces are skipped.
    func remove(_ names: WorkspaceHostNames) async throws
    /// Process ids running in the workspace's namespace (empty when it does not exist).
    func processes(in names: WorkspaceHostNames) async throws -> [Int32]
    /// Why the host cannot isolate workspaces (not root, a tool missing), or nil when it can.
    func missingCapability() async -> String?
}

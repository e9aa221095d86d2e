import Synchronization

/// A HostNetwork that changes nothing on the host and only records which workspace networks exist.
///
/// For development machines without root and for tests of the control plane: `enclave serve
/// --data-plane simulated` runs `isolate:` steps against it. Workspaces then have NO isolation;
/// `/api/health` says so. Never use it for real data.
public final class SimulatedHostNetwork: HostNetwork {
    private let networks = Mutex<[String: WorkspaceNetworkSpec]>([:])

    public init() {}

    public func ensure(_ spec: WorkspaceNetworkSpec) async throws {
        networks.withLock { $0[spec.names.namespace] = spec }
    }

    public func remove(_ names: WorkspaceHostNames) async throws {
        _ = networks.withLock { $0.removeValue(forKey: names.namespace) }
    }

    public func processes(in names: WorkspaceHostNames) async throws -> [Int32] { [] }

    public func missingCapability() async -> String? { nil }

    /// The namespaces currently "created".
    public var namespaces: [String] { networks.withLock { $0.keys.sorted() } }
}

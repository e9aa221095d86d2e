// HostNetwork with iproute2 and nftables: 3–4 commands per workspace (about 20 ms on our VMs).
import EnclaveCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Creates workspace networks with the `ip` and `nft` commands (root only).
public struct CommandHostNetwork: HostNetwork {
    let command = HostCommand()

    public init() {}

    /// The message shown when isolation cannot work on this host.
    public static func capabilityMessage(_ missing: [String]) -> String {
        "Workspace isolation needs root and nftables: run `apt-get install nftables iproute2` and start enclave as root"
            + " (missing: \(missing.joined(separator: ", ")))"
    }

    public func missingCapability() async -> String? {
        var missing: [String] = []
        if geteuid() != 0 { missing.append("root") }
        for tool in ["ip", "nft"] where HostCommand.locate(tool) == nil { missing.append("`\(tool)`") }
        return missing.isEmpty ? nil : Self.capabilityMessage(missing)
    }

    public func ensure(_ spec: WorkspaceNetworkSpec) async throws {
        let names = spec.names
        if !namespaceExists(names.namespace) {
            try await command.check(["ip", "netns", "add", names.namespace])
        }
        if interfaceExists(names.hostInterface) {
            // A veth whose peer is not in the namespace (half-made by a lost worker) is recreated.
            let inside = try await command.run(["ip", "-n", names.namespace, "link", "show", names.workspaceInterface])
            if inside.status != 0 { try await command.check(["ip", "link", "del", names.hostInterface]) }
        }
        if !interfaceExists(names.hostInterface) {
            try await command.check([
                "ip", "link", "add", names.hostInterface, "type", "veth", "peer", "name", names.workspaceInterface,
                "netns", names.namespace,
            ])
        }
        // No IPv6 on the host end: the host's link-local chatter would otherwise hit the drop rules.
        writeIfPresent("/proc/sys/net/ipv6/conf/\(names.hostInterface)/disable_ipv6", "1")
        try await command.check(["ip", "-batch", "-"], input: spec.hostBatch)
        try await command.check(["ip", "-n", names.namespace, "-batch", "-"], input: spec.namespaceBatch)
        if spec.mode == .restricted {
            // A workspace switched from unrestricted loses its default route (absence is fine).
            _ = try await command.run(["ip", "-n", names.namespace, "route", "del", "default"])
        }
        try await command.check(["nft", "-f", "-"], input: spec.nftRuleset)
        if spec.mode == .unrestricted {
            guard writeIfPresent("/proc/sys/net/ipv4/ip_forward", "1") else {
                throw EnclaveError.internal("Cannot enable IPv4 forwarding (/proc/sys/net/ipv4/ip_forward) for an unrestricted workspace")
            }
        }
    }

    public func remove(_ names: WorkspaceHostNames) async throws {
        try await command.check(
            ["nft", "-f", "-"], input: "table inet \(names.nftTable) {}\ndelete table inet \(names.nftTable)\n")
        if interfaceExists(names.hostInterface) {
            let result = try await command.run(["ip", "link", "del", names.hostInterface])
            if result.status != 0, interfaceExists(names.hostInterface) {
                throw EnclaveError.internal("Cannot delete veth \(names.hostInterface): \(result.error)")
            }
        }
        if namespaceExists(names.namespace) {
            try await command.check(["ip", "netns", "del", names.namespace])
        }
    }

    public func processes(in names: WorkspaceHostNames) async throws -> [Int32] {
        guard namespaceExists(names.namespace) else { return [] }
        let output = try await command.check(["ip", "netns", "pids", names.namespace])
        return output.split(whereSeparator: \.isNewline).compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
    }

    func namespaceExists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: "/run/netns/\(name)")
    }

    func interfaceExists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: "/sys/class/net/\(name)")
    }

    @discardableResult
    func writeIfPresent(_ path: String, _ value: String) -> Bool {
        guard let handle = FileHandle(forWritingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.write(contentsOf: Data(value.utf8))) != nil
    }
}

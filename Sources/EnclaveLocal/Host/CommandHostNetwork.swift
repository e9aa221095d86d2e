// HostNetwork with iproute2 and nftables: 3 commands per workspace, two of them at once.
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

    /// Three processes, two of them at once: the nft table does not need the interfaces (it matches
    /// their names), so `nft -f -` runs while one `ip -batch -` creates the namespace and the veth and
    /// configures the host end, and one `ip -n <ns> -batch -` configures the namespace. Each process
    /// costs 4–50 ms on a busy two-core host; the earlier six in a row were most of a workspace's install.
    public func ensure(_ spec: WorkspaceNetworkSpec) async throws {
        let names = spec.names
        async let rules = command.check(["nft", "-f", "-"], input: spec.nftRuleset)
        if namespaceExists(names.namespace), interfaceExists(names.hostInterface) {
            // A veth whose peer is not in the namespace (half-made by a lost worker) is recreated.
            let inside = try await command.run(["ip", "-n", names.namespace, "link", "show", names.workspaceInterface])
            if inside.status != 0 { try await command.check(["ip", "link", "del", names.hostInterface]) }
        } else if interfaceExists(names.hostInterface) {
            // Its namespace is gone, so the kernel may be deleting it already: absence afterwards is fine.
            let result = try await command.run(["ip", "link", "del", names.hostInterface])
            if result.status != 0, interfaceExists(names.hostInterface) {
                throw EnclaveError.internal("Cannot delete veth \(names.hostInterface): \(result.error)")
            }
        }
        var host: [String] = []
        if !namespaceExists(names.namespace) { host.append("netns add \(names.namespace)") }
        if !interfaceExists(names.hostInterface) {
            host.append("link add \(names.hostInterface) type veth peer name \(names.workspaceInterface) netns \(names.namespace)")
        }
        try await command.check(["ip", "-batch", "-"], input: host.map { $0 + "\n" }.joined() + spec.hostBatch)
        // No IPv6 on the host end: the host's link-local chatter would otherwise hit the drop rules.
        // (The link has no carrier until the namespace batch brings its peer up, so nothing left yet.)
        writeIfPresent("/proc/sys/net/ipv6/conf/\(names.hostInterface)/disable_ipv6", "1")
        // A workspace switched from unrestricted loses its default route (`flush` is fine with none).
        let inside = spec.namespaceBatch + (spec.mode == .restricted ? "route flush default\n" : "")
        try await command.check(["ip", "-n", names.namespace, "-batch", "-"], input: inside)
        _ = try await rules
        if spec.mode == .unrestricted {
            guard writeIfPresent("/proc/sys/net/ipv4/ip_forward", "1") else {
                throw EnclaveError.internal("Cannot enable IPv4 forwarding (/proc/sys/net/ipv4/ip_forward) for an unrestricted workspace")
            }
        }
    }

    /// The nft table goes while one `ip -batch -` deletes the veth and the namespace; if that batch
    /// fails (a piece vanished in between), each is deleted on its own, tolerating absence.
    public func remove(_ names: WorkspaceHostNames) async throws {
        async let rules = command.check(
            ["nft", "-f", "-"], input: "table inet \(names.nftTable) {}\ndelete table inet \(names.nftTable)\n")
        var batch: [String] = []
        if interfaceExists(names.hostInterface) { batch.append("link del \(names.hostInterface)\n") }
        if namespaceExists(names.namespace) { batch.append("netns del \(names.namespace)\n") }
        if !batch.isEmpty, try await command.run(["ip", "-batch", "-"], input: batch.joined()).status != 0 {
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
        _ = try await rules
    }

    /// What `ip netns pids` does, without a process: the pids whose `/proc/<pid>/ns/net` is the
    /// namespace bound at `/run/netns/<name>` (same device and inode).
    public func processes(in names: WorkspaceHostNames) async throws -> [Int32] {
        var namespace = stat()
        guard stat("/run/netns/\(names.namespace)", &namespace) == 0 else { return [] }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry) else { return nil }
            var own = stat()
            guard stat("/proc/\(entry)/ns/net", &own) == 0 else { return nil }
            return own.st_dev == namespace.st_dev && own.st_ino == namespace.st_ino ? pid : nil
        }
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

// The nftables ruleset that isolates one workspace, as text for `nft -f -`.

/// Whether a workspace may reach the Internet.
public enum NetworkMode: String, Sendable, Hashable, CaseIterable, Codable {
    /// No default route, nothing forwarded: the workspace reaches only allowed host ports.
    case restricted
    /// Egress forwarded and masqueraded; still no other workspace and no host port but allowed ones.
    case unrestricted
}

/// Everything the host needs to create one workspace's network.
public struct WorkspaceNetworkSpec: Sendable, Hashable {
    public var names: WorkspaceHostNames
    public var link: WorkspaceLink
    public var mode: NetworkMode
    /// The whole pool: forwarded traffic into it is dropped so no workspace reaches another.
    public var pool: AddressPool
    /// TCP ports on the host end of the veth the workspace may open connections to (mirror, airlock).
    public var allowedHostPorts: [Int]

    public init(
        names: WorkspaceHostNames, link: WorkspaceLink, mode: NetworkMode, pool: AddressPool, allowedHostPorts: [Int] = []
    ) {
        self.names = names
        self.link = link
        self.mode = mode
        self.pool = pool
        self.allowedHostPorts = allowedHostPorts
    }

    /// The workspace's own `inet` table. The text first creates and deletes the table, then
    /// declares it, so applying it is idempotent and atomic (`nft -f` runs it as one transaction):
    /// rules never pile up and there is no moment without them.
    ///
    /// - input: from the workspace only replies (`established,related`) and new TCP connections to
    ///   the allowed ports on the host end; everything else from the veth is dropped, so no other
    ///   host address or port (nor another workspace's host end) is reachable.
    /// - forward: restricted drops everything in and out of the veth; unrestricted drops traffic
    ///   into the pool (other workspaces) and new connections from outside, and accepts the rest.
    /// - postrouting (unrestricted only): masquerade the workspace's address.
    public var nftRuleset: String {
        let table = names.nftTable
        let host = "\"\(names.hostInterface)\""
        var lines: [String] = [
            "table inet \(table) {}",
            "delete table inet \(table)",
            "table inet \(table) {",
            "  chain input {",
            "    type filter hook input priority filter; policy accept;",
            "    iifname \(host) ct state established,related accept",
        ]
        let ports = allowedHostPorts.filter { (1...65535).contains($0) }
        if !ports.isEmpty {
            let list = Array(Set(ports)).sorted().map(String.init).joined(separator: ", ")
            lines.append("    iifname \(host) ip daddr \(link.hostAddress) tcp dport { \(list) } ct state new accept")
        }
        lines += [
            "    iifname \(host) counter drop",
            "  }",
            "  chain forward {",
            "    type filter hook forward priority filter; policy accept;",
        ]
        switch mode {
        case .restricted:
            lines += [
                "    iifname \(host) counter drop",
                "    oifname \(host) counter drop",
            ]
        case .unrestricted:
            lines += [
                "    iifname \(host) ip daddr \(pool) counter drop",
                "    iifname \(host) ip saddr != \(link.workspaceAddress) counter drop",
                "    iifname \(host) accept",
                "    oifname \(host) ct state established,related accept",
                "    oifname \(host) counter drop",
            ]
        }
        lines.append("  }")
        if mode == .unrestricted {
            lines += [
                "  chain postrouting {",
                "    type nat hook postrouting priority srcnat; policy accept;",
                "    ip saddr \(link.workspaceAddress) oifname != \(host) masquerade",
                "  }",
            ]
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Removes the table if present (no error when it is already gone).
    public var nftTeardown: String {
        "table inet \(names.nftTable) {}\ndelete table inet \(names.nftTable)\n"
    }

    /// `ip -batch` commands run on the host (the veth's peer is created straight in the namespace).
    public var hostBatch: String {
        [
            "addr replace \(link.hostAddress)/30 dev \(names.hostInterface)",
            "link set \(names.hostInterface) up",
        ].joined(separator: "\n") + "\n"
    }

    /// `ip -n <ns> -batch` commands run in the namespace.
    public var namespaceBatch: String {
        var lines = [
            "link set lo up",
            "addr replace \(link.workspaceAddress)/30 dev \(names.workspaceInterface)",
            "link set \(names.workspaceInterface) up",
        ]
        if mode == .unrestricted { lines.append("route replace default via \(link.hostAddress)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

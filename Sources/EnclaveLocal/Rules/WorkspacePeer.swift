// Which workspace a connection to a listener on the host comes from, judged by its source address alone.
import EnclaveCore

extension AddressPool {
    /// The slot of the workspace whose end of the veth has `address`; nil for any other address.
    ///
    /// Only the `.2` of a /30 is a workspace: the `.1` is the host's own end (a process on the host
    /// connecting to that address speaks from it), and `.0`/`.3` are the link's network and broadcast.
    public func workspaceSlot(of address: String) -> Int? {
        guard let value = Self.parse(address) else { return nil }
        let mask: UInt32 = ~UInt32(0) << UInt32(32 - prefixLength)
        guard value & mask == network, value & 3 == 2 else { return nil }
        let slot = Int((value - network) / 4)
        return slot < slotCount ? slot : nil
    }

    /// Why a connection from `peer` is refused by a listener that serves workspaces only (it does not
    /// come from a workspace's end of a veth of this pool); nil when it comes from a workspace.
    public func outsiderRefusal(_ peer: String?) -> String? {
        guard let peer, workspaceSlot(of: peer) != nil else {
            return "This port serves workspaces' own networks only (\(self)); \(peer ?? "a connection without an address") is not a workspace"
        }
        return nil
    }

    /// Why a connection from `peer` may not act for workspace `workspaceId`, whose link is `link`
    /// (nil: it has no network on this host); nil when it may.
    ///
    /// A link names its workspace, and the host knows each workspace's address: a connection counts as
    /// that workspace's only when it comes from that workspace's end of its veth. A workspace cannot
    /// speak from another's address: its processes hold no `CAP_NET_ADMIN` or `CAP_NET_RAW` in its
    /// namespace, and even a forged packet would get its TCP handshake reply down the other
    /// workspace's veth, so no connection could be completed.
    public func peerRefusal(_ peer: String?, workspaceId: String, link: WorkspaceLink?) -> String? {
        if let refusal = outsiderRefusal(peer) { return refusal }
        guard let peer, let link else {
            return "Workspace \(workspaceId) has no network on this host, so no connection can come from it"
        }
        guard link.workspaceAddress == peer else {
            return "This link is for workspace \(workspaceId) and works only from that workspace's network; this connection comes from \(peer), another workspace"
        }
        return nil
    }
}

// The IPv4 pool workspaces' /30 links are cut from, and the addresses of one link.
import EnclaveCore

/// An IPv4 pool (default `10.200.0.0/16`) divided into /30 links, one per workspace.
///
/// Slot `n` is the n-th /30 of the pool: `.1` of it is the host side of the veth, `.2` the
/// workspace side. The slot is allocated in the store, so the same workspace keeps its addresses
/// across restarts and two workers never hand out the same link.
public struct AddressPool: Sendable, Hashable, CustomStringConvertible {
    public let network: UInt32
    public let prefixLength: Int

    /// Parses `a.b.c.d/len`; the pool must be aligned and between /8 and /30.
    ///
    /// - Throws: `EnclaveError.unprocessable` naming the problem.
    public init(cidr: String) throws {
        let parts = cidr.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = Self.parse(String(parts[0])), let length = Int(parts[1]),
            (8...30).contains(length)
        else {
            throw EnclaveError.unprocessable("Address pool '\(cidr)' must look like 10.200.0.0/16 (prefix length 8–30)")
        }
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length)
        guard address & ~mask == 0 else {
            throw EnclaveError.unprocessable(
                "Address pool '\(cidr)' is not aligned to its prefix; use \(Self.format(address & mask))/\(length)")
        }
        network = address
        prefixLength = length
    }

    /// How many /30 links the pool holds.
    public var slotCount: Int { 1 << (30 - prefixLength) }

    public var description: String { "\(Self.format(network))/\(prefixLength)" }

    /// The link of slot `slot`, or nil when the slot is outside the pool.
    public func link(slot: Int) -> WorkspaceLink? {
        guard slot >= 0, slot < slotCount else { return nil }
        let base = network + UInt32(slot) * 4
        return WorkspaceLink(
            subnet: Self.format(base) + "/30", hostAddress: Self.format(base + 1), workspaceAddress: Self.format(base + 2))
    }

    static func parse(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy({ $0.isASCII && $0.isNumber }),
                let byte = UInt32(octet), byte <= 255
            else { return nil }
            value = value << 8 | byte
        }
        return value
    }

    static func format(_ value: UInt32) -> String {
        "\(value >> 24 & 255).\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)"
    }
}

/// The addresses of one workspace's veth pair (a /30).
public struct WorkspaceLink: Sendable, Hashable {
    /// `10.200.0.4/30`
    public var subnet: String
    /// The host end (`.1` of the /30): the only host address the workspace may talk to.
    public var hostAddress: String
    /// The workspace end (`.2` of the /30).
    public var workspaceAddress: String

    public init(subnet: String, hostAddress: String, workspaceAddress: String) {
        self.subnet = subnet
        self.hostAddress = hostAddress
        self.workspaceAddress = workspaceAddress
    }
}

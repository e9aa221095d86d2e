/// The names of one workspace's host objects, derived from its allocated slot.
///
/// Linux limits interface names to 15 bytes, so names come from a short prefix and the slot
/// number (unique per pool because the store allocates it), not from the 36-character workspace id.
/// The prefix (default `enc`, at most 5 letters or digits) keeps parallel test runs and several
/// Enclave installations on one host apart.
public struct WorkspaceHostNames: Sendable, Hashable {
    /// Network namespace (`ip netns`), e.g. `enc-ws-12`.
    public var namespace: String
    /// Host end of the veth pair, e.g. `ench12`.
    public var hostInterface: String
    /// Workspace end of the veth pair (inside the namespace), e.g. `encw12`.
    public var workspaceInterface: String
    /// The workspace's own nftables table (family `inet`), e.g. `enc_ws_12`.
    public var nftTable: String
    /// The workspace's cgroup under each controller's `enclave` folder, e.g. `enc-ws-12`.
    public var cgroup: String

    /// The longest interface name Linux accepts (IFNAMSIZ − 1).
    public static let maxInterfaceNameLength = 15

    /// Whether `prefix` can be used: 1–5 ASCII lowercase letters or digits, starting with a letter.
    public static func isValidPrefix(_ prefix: String) -> Bool {
        guard let first = prefix.first, first.isASCII, first.isLetter, (1...5).contains(prefix.count) else { return false }
        return prefix.allSatisfy { $0.isASCII && ($0.isNumber || ($0.isLetter && $0.isLowercase)) }
    }

    /// Names for slot `slot` (0 ≤ slot < 10⁸ keeps every interface name within 15 bytes).
    public init(prefix: String, slot: Int) {
        namespace = "\(prefix)-ws-\(slot)"
        hostInterface = "\(prefix)h\(slot)"
        workspaceInterface = "\(prefix)w\(slot)"
        nftTable = "\(prefix)_ws_\(slot)"
        cgroup = "\(prefix)-ws-\(slot)"
    }
}

/// TCP ports handed to user resources' workloads on their workspace address.
///
/// A workspace service listens on the fixed port its bundle names, but many personal notebooks
/// and desktops share one workspace address, so each user resource gets a port of its own from
/// this range, allocated in the store like uids and links (unique host-wide, hence within every
/// workspace) and freed when the resource is uninstalled.
public struct WorkloadPortRange: Sendable, Hashable {
    public var first: Int
    public var count: Int

    public init(first: Int = 20_000, count: Int = 10_000) {
        self.first = first
        self.count = count
    }

    /// The port of slot `slot`, or nil outside the range (or beyond 65535).
    public func port(slot: Int) -> Int? {
        guard slot >= 0, slot < count, first + slot <= 65_535 else { return nil }
        return first + slot
    }
}

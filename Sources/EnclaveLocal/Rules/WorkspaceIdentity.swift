/// The Unix uid and gid a workspace's files and processes use on the host.
///
/// They come from a reserved range (default 200000–265535, above the usual `/etc/subuid` blocks of
/// the first users) by the same store slot mechanism as addresses. No `/etc/passwd` entry is
/// written: files are owned numerically, processes switch with `setpriv --reuid/--regid`. The uid
/// therefore leaves no trace on the host once its files and processes are gone.
public struct IdentityRange: Sendable, Hashable {
    public var first: Int
    public var count: Int

    /// Uids below this are Debian's system and regular accounts (`/etc/login.defs`, `adduser.conf` go up to 59999).
    public static let lowestAllowed = 100_000
    /// The largest uid Linux accepts for a process (`(uid_t)-1` and `-2` are reserved).
    public static let highestAllowed = 4_294_967_293

    public init(first: Int = 200_000, count: Int = 65_536) {
        self.first = first
        self.count = count
    }

    /// The uid (= gid) of slot `slot`, or nil outside the range.
    public func uid(slot: Int) -> Int? {
        guard slot >= 0, slot < count else { return nil }
        return first + slot
    }
}

import HummingbirdBcrypt
import NIOCore
import NIOPosix
import Synchronization

/// bcrypt hashing and checking, run on NIO's thread pool so a sign-in never blocks the event loop or the
/// cooperative thread pool (one cost-12 hash takes a few hundred milliseconds of CPU).
///
/// Not on a Dispatch queue: Dispatch's concurrent queues draw on the same per-core worker slots as Swift's
/// cooperative pool, and a `.userInitiated` one outranks it, so a burst of sign-ins (or of accounts made
/// by tests) held every async task of the process — request handlers included — for tens of seconds.
/// Nor on NIO's shared blocking pool, where file I/O (the airlock's, static files) would queue behind the
/// hashes: a pool of its own, one thread per core; the kernel shares the cores with everything else.
public struct PasswordHasher: Sendable {
    /// The least cost Enclave accepts: 2^12 rounds.
    public static let minimumCost: UInt8 = 12

    public let cost: UInt8
    private let pool: NIOThreadPool
    private let dummy = DummyHash()

    /// The hashing threads, started once and kept for the life of the process.
    public static let sharedPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: System.coreCount)
        pool.start()
        return pool
    }()

    public init(cost: UInt8 = PasswordHasher.minimumCost, pool: NIOThreadPool = PasswordHasher.sharedPool) {
        self.cost = max(cost, Self.minimumCost)
        self.pool = pool
    }

    public func hash(_ password: String) async -> String {
        let cost = self.cost
        return await offload { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`. With no hash (unknown user, no password yet) a dummy hash is
    /// checked anyway, so the answer takes as long as for a real user and timing does not reveal who exists.
    public func verify(_ password: String, hash: String?) async -> Bool {
        let target: String
        if let hash { target = hash } else { target = await dummyHash() }
        let matches = await offload { Bcrypt.verify(password, hash: target) }
        return hash != nil && matches
    }

    /// Runs `work` on the pool. The shared pool never shuts down; should a pool given to `init` be shut
    /// down, the work runs where the caller is rather than failing a sign-in.
    private func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        do { return try await pool.runIfActive(work) } catch { return work() }
    }

    /// A hash at this cost of a random string nobody knows, made once.
    private func dummyHash() async -> String {
        if let known = dummy.value.withLock({ $0 }) { return known }
        let made = await hash(TOTPCode.generateSecret())
        dummy.value.withLock { $0 = $0 ?? made }
        return made
    }
}

private final class DummyHash: Sendable {
    let value = Mutex<String?>(nil)
}

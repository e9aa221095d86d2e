import Dispatch
import HummingbirdBcrypt
import Synchronization

/// bcrypt hashing and checking, run on a queue of its own so a sign-in never blocks the event loop
/// or the cooperative thread pool (one cost-12 hash takes a few hundred milliseconds of CPU).
public struct PasswordHasher: Sendable {
    /// The least cost Enclave accepts: 2^12 rounds.
    public static let minimumCost: UInt8 = 12

    public let cost: UInt8
    private let queue: DispatchQueue
    private let dummy = DummyHash()

    public init(cost: UInt8 = PasswordHasher.minimumCost) {
        self.cost = max(cost, Self.minimumCost)
        self.queue = DispatchQueue(label: "enclave.bcrypt", qos: .userInitiated, attributes: .concurrent)
    }

    public func hash(_ password: String) async -> String {
        let cost = self.cost
        return await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Bcrypt.hash(password, cost: cost)) }
        }
    }

    /// Whether `password` matches `hash`. With no hash (unknown user, no password yet) a dummy hash is
    /// checked anyway, so the answer takes as long as for a real user and timing does not reveal who exists.
    public func verify(_ password: String, hash: String?) async -> Bool {
        let target: String
        if let hash { target = hash } else { target = await dummyHash() }
        let matches = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Bcrypt.verify(password, hash: target)) }
        }
        return hash != nil && matches
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

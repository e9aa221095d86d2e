import Synchronization

/// A dictionary behind a lock that is emptied when it reaches its capacity.
///
/// Enclave's in-memory caches (verified tokens, decoded resources, compiled schemas, template
/// versions, users seen) only ever save work that can be redone, so emptying when full is the whole
/// eviction policy: it bounds memory, costs nothing per entry, and at worst repeats some work.
public final class BoundedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let entries = Mutex<[Key: Value]>([:])
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public func value(for key: Key) -> Value? {
        entries.withLock { $0[key] }
    }

    /// Stores `value`, first emptying the cache if it is full.
    public func set(_ value: Value, for key: Key) {
        entries.withLock { map in
            if map.count >= capacity && map[key] == nil { map.removeAll(keepingCapacity: true) }
            map[key] = value
        }
    }

    public func removeValue(for key: Key) {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }

    public func removeAll() {
        entries.withLock { $0.removeAll() }
    }
}

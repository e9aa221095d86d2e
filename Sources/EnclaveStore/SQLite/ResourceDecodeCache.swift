import EnclaveCore
import Synchronization

/// Decoded resources keyed by id and etag, so reading an unchanged resource skips JSON decoding.
///
/// Every write gives a resource a new `_etag` (the store's contract), so an entry whose etag still
/// matches the row's is exactly what decoding the row would produce — also when another process
/// wrote it. Bounded: emptied when full.
final class ResourceDecodeCache: Sendable {
    private let entries = Mutex<[String: Resource]>([:])
    private let capacity: Int

    init(capacity: Int = 20_000) {
        self.capacity = capacity
    }

    func get(_ id: String, etag: String) -> Resource? {
        entries.withLock { map in
            guard let hit = map[id], hit.etag == etag else { return nil }
            return hit
        }
    }

    func put(_ resource: Resource) {
        entries.withLock { map in
            if map.count >= capacity { map.removeAll(keepingCapacity: true) }
            map[resource.id] = resource
        }
    }
}

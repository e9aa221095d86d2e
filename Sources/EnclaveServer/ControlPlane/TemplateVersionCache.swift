import EnclaveCore
import Foundation

/// Registered version strings per template, kept for a few seconds.
///
/// Every resource in every response lists `availableUpgrades`, so without this each GET reads the
/// template registry. Registration in this process clears the cache at once; a registration by
/// another process (an `enclave worker` registering built-in templates at start) shows within `ttl`.
final class TemplateVersionCache: Sendable {
    private struct Entry: Sendable {
        var versions: [String]
        var fetched: Date
    }

    private let entries = BoundedCache<String, Entry>(capacity: 1_000)
    let ttl: TimeInterval

    init(ttl: TimeInterval = 5) {
        self.ttl = ttl
    }

    func versions(
        type: ResourceType, name: String, parent: String?, load: () async throws -> [String]
    ) async throws -> [String] {
        let key = "\(type.rawValue)\u{1}\(name)\u{1}\(parent ?? "")"
        let now = Date()
        if let hit = entries.value(for: key), now.timeIntervalSince(hit.fetched) < ttl { return hit.versions }
        let versions = try await load()
        entries.set(Entry(versions: versions, fetched: now), for: key)
        return versions
    }

    func invalidate() {
        entries.removeAll()
    }
}

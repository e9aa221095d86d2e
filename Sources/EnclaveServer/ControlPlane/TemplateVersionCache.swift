import EnclaveCore
import Foundation
import Synchronization

/// Registered version strings per template, kept for a few seconds.
///
/// Every resource in every response lists `availableUpgrades`, so without this each GET reads the
/// template registry. Registration in this process clears the cache at once; a registration by
/// another process (an `enclave worker` registering built-in templates at start) shows within `ttl`.
final class TemplateVersionCache: Sendable {
    private struct Entry {
        var versions: [String]
        var fetched: Date
    }

    private let entries = Mutex<[String: Entry]>([:])
    let ttl: TimeInterval

    init(ttl: TimeInterval = 5) {
        self.ttl = ttl
    }

    func versions(
        type: ResourceType, name: String, parent: String?, load: () async throws -> [String]
    ) async throws -> [String] {
        let key = "\(type.rawValue)\u{1}\(name)\u{1}\(parent ?? "")"
        let now = Date()
        if let hit = entries.withLock({ $0[key] }), now.timeIntervalSince(hit.fetched) < ttl { return hit.versions }
        let versions = try await load()
        entries.withLock { $0[key] = Entry(versions: versions, fetched: now) }
        return versions
    }

    func invalidate() {
        entries.withLock { $0.removeAll() }
    }
}

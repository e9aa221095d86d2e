import EnclaveCore
import Synchronization

/// Compiled create-schemas per template id.
///
/// Enriching a template and compiling it into a `JSONSchema` cost more than the rest of a create
/// request. A registered template's content never changes (only its `current` flag does), so a
/// compiled schema stays right for as long as the process runs. Bounded: emptied when full.
final class CompiledSchemaCache: Sendable {
    private let schemas = Mutex<[String: JSONSchema]>([:])
    private let capacity = 1_000

    func schema(for template: ResourceTemplate) throws -> JSONSchema {
        if let hit = schemas.withLock({ $0[template.id] }) { return hit }
        let compiled = try template.createSchema()
        schemas.withLock { map in
            if map.count >= capacity { map.removeAll() }
            map[template.id] = compiled
        }
        return compiled
    }
}

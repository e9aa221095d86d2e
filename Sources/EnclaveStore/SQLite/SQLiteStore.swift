import EnclaveCore
import Foundation
import GRDB

/// The default store: one SQLite file in WAL mode through GRDB.
///
/// Several processes (`enclave serve` and `enclave worker`) may open the same file: writes take an
/// IMMEDIATE transaction and wait on a busy timeout, so the single-writer rule holds across processes.
public final class SQLiteStore: Store {
    let pool: DatabasePool
    let path: String
    /// Decoded resources by id. Every write gives a resource a new `_etag` (the store's contract), so a
    /// cached copy whose etag matches the row's is what decoding would produce, also after another
    /// process wrote it.
    let decoded = BoundedCache<String, Resource>(capacity: 20_000)

    /// Opens (creating if needed) the database and runs pending migrations.
    public init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        self.path = path
        self.pool = try DatabasePool(path: path, configuration: config)
        try SQLiteMigrations.migrator().migrate(pool)
    }

    /// Writes in an IMMEDIATE transaction, so a writer in another process cannot interleave between our read and write.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            guard let result else { throw EnclaveError.internal("transaction produced no result") }
            return result
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.read(body)
    }

    public func healthProblem() async -> String? {
        do {
            _ = try await read { db in try Int.fetchOne(db, sql: "SELECT 1") }
            return nil
        } catch {
            return "SQLite at \(path) does not answer: \(error)"
        }
    }
}

/// JSON coding for documents kept in `doc` columns.
enum DocumentCoding {
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

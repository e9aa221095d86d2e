import EnclaveCore
import EnclaveTesting
import Foundation
import NIOHTTP1
import Testing

/// `enclave audit verify` and `enclave audit list` with the real binary, and tampering done with the `sqlite3` CLI —
/// what someone with write access to the database file could do once they drop the append-only triggers.
@Suite("Audit log end to end", .serialized)
struct AuditVerifyTests {
    /// Runs a command to completion, returning its exit status and standard output (stderr appended).
    static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await Blocking.run { try runSync(executable, arguments) }
    }

    static func runSync(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let result = try Blocking.runProcessSync(executable, arguments)
        return (result.status, result.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func sqlite(_ database: String, _ sql: String) async throws -> String {
        try await Blocking.run { try sqliteSync(database, sql) }
    }

    static func sqliteSync(_ database: String, _ sql: String) throws -> String {
        let candidates = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3", "/opt/homebrew/bin/sqlite3"]
        guard let tool = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw EnclaveError.internal("the sqlite3 command-line tool is not installed (apt-get install sqlite3)")
        }
        let result = try runSync(tool, [database, sql])
        guard result.status == 0 else { throw EnclaveError.internal("sqlite3 failed: \(result.output)") }
        return result.output
    }

    @Test("verify reports an intact chain, then the first record altered or removed with sqlite3 after dropping the triggers")
    func verifyDetectsTampering() async throws {
        let data = try TestPaths.temporaryDirectory("e2e-audit")
        defer { try? FileManager.default.removeItem(at: data) }
        let binary = try EnclaveBinary.path
        let port = try freePort()
        let base = "http://127.0.0.1:\(port)"
        let server = try EnclaveProcess(
            ["serve", "--data-dir", data.path, "--port", "\(port)", "--workers", "0", "--templates", TestPaths.templates],
            log: data.appendingPathComponent("serve.log"))
        var running = true
        defer { if running { server.terminate() } }
        _ = try await LiveAPI.waitHealthy(base)
        let admin = try await EnclaveBinary.run([
            "token", "--data-dir", data.path, "--user", "admin-e2e", "--name", "Admin", "--email", "a@x", "--role", "TREAdmin",
        ])
        let user = try await EnclaveBinary.run([
            "token", "--data-dir", data.path, "--user", "user-e2e", "--name", "User", "--email", "u@x", "--role", "TREUser",
        ])
        let created = try await LiveAPI(base: base, token: admin).call(
            .POST, "/api/workspaces", json: ["templateName": "tre-workspace-base", "properties": ["display_name": "A", "description": "d"]])
        #expect(created.status == 202)
        #expect(try await LiveAPI(base: base, token: user).call(.GET, "/api/workspace-templates").status == 403)

        // `audit list` goes through the API with the admin's token.
        let list = try await Self.run(binary, ["audit", "list", "--url", base, "--token", admin, "--action", "resource"])
        #expect(list.status == 0, "\(list.output)")
        #expect(list.output.contains("resource.create") && !list.output.contains("template.register"), "\(list.output)")
        let denied = try await Self.run(binary, ["audit", "list", "--url", base, "--token", user])
        #expect(denied.status != 0)
        #expect(await server.stop() == 0)
        running = false

        let database = data.appendingPathComponent("enclave.sqlite").path
        let total = try #require(Int(try await Self.sqlite(database, "SELECT COUNT(*) FROM audit")))
        let ok = try await Self.run(binary, ["audit", "verify", "--data-dir", data.path])
        #expect(ok.status == 0)
        #expect(ok.output.hasPrefix("OK: \(total) records, chain intact"), "\(ok.output)")
        let lastHash = try await Self.sqlite(database, "SELECT hash FROM audit ORDER BY sequence DESC LIMIT 1")
        #expect(ok.output.contains("Latest hash: \(lastHash)"))

        // The triggers refuse edits, even from sqlite3 …
        let refused = try await Self.run("/usr/bin/env", ["sqlite3", database, "UPDATE audit SET target = '/elsewhere'"])
        #expect(refused.status != 0 && refused.output.contains("append-only"), "\(refused.output)")
        // … until they are dropped. An altered record no longer matches its hash.
        let create = try #require(Int(try await Self.sqlite(database, "SELECT sequence FROM audit WHERE action = 'resource.create'")))
        _ = try await Self.sqlite(
            database,
            "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; UPDATE audit SET actor_name = 'Mallory' WHERE sequence = \(create)")
        let altered = try await Self.run(binary, ["audit", "verify", "--data-dir", data.path])
        #expect(altered.status == 1)
        #expect(altered.output.hasPrefix("BROKEN at record #\(create): "), "\(altered.output)")
        #expect(altered.output.contains("altered"), "\(altered.output)")

        // Removing an earlier record is reported where the sequence breaks.
        _ = try await Self.sqlite(database, "DELETE FROM audit WHERE sequence = 2")
        let removed = try await Self.run(binary, ["audit", "verify", "--data-dir", data.path])
        #expect(removed.status == 1)
        #expect(removed.output.hasPrefix("BROKEN at record #3: expected record #2"), "\(removed.output)")
    }

    @Test("verify refuses a data dir without a database instead of creating one")
    func verifyNeedsADatabase() async throws {
        let data = try TestPaths.temporaryDirectory("e2e-audit-empty")
        defer { try? FileManager.default.removeItem(at: data) }
        let result = try await Self.run(try EnclaveBinary.path, ["audit", "verify", "--data-dir", data.path])
        #expect(result.status != 0)
        #expect(result.output.contains("No database"), "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("enclave.sqlite").path))
    }
}

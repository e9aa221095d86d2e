import EnclaveCore
import EnclaveStore
import EnclaveTesting
import Foundation
import Testing

@Suite("enclave clients")
struct ClientsCommandTests {
    @Test("add prints the secret once and stores only its hash; list, disable, bad ids and unknown clients are clear")
    func addListDisable() async throws {
        let data = try TestPaths.temporaryDirectory("e2e-clients")
        defer { try? FileManager.default.removeItem(at: data) }
        let path = data.appendingPathComponent("enclave.sqlite").path
        _ = try SQLiteStore(path: path)
        let added = try await UsersCommandTests.enclave(["clients", "add", "ci-pipeline", "--role", "TREUser", "--data-dir", data.path])
        #expect(added.status == 0, "\(added.output)")
        let secret = try #require(UsersCommandTests.capture(#"Secret \(shown once\): (\S+)"#, in: added.output))
        let stored = try #require(try await SQLiteStore(path: path).client(id: "ci-pipeline"))
        #expect(stored.secretHash != secret && stored.secretHash.count == 64 && stored.roles == ["TREUser"])

        let listed = try await UsersCommandTests.enclave(["clients", "list", "--data-dir", data.path])
        #expect(listed.output.contains("ci-pipeline") && listed.output.contains("yes"), "\(listed.output)")
        let disabled = try await UsersCommandTests.enclave(["clients", "disable", "ci-pipeline", "--data-dir", data.path])
        #expect(disabled.status == 0)
        #expect(try await SQLiteStore(path: path).client(id: "ci-pipeline")?.enabled == false)

        let bad = try await UsersCommandTests.enclave(["clients", "add", "Bad Id", "--data-dir", data.path])
        #expect(bad.status != 0 && bad.output.contains("lower-case"), "\(bad.output)")
        let unknown = try await UsersCommandTests.enclave(["clients", "enable", "nope", "--data-dir", data.path])
        #expect(unknown.status != 0 && unknown.output.contains("No client with id 'nope'"), "\(unknown.output)")
        let records = try await SQLiteStore(path: path).auditRecords(AuditFilter(action: "client.update"), after: nil, limit: 10)
        #expect(records.count == 2)
    }
}

import ArgumentParser
import EnclaveCLI
import EnclaveCore
import EnclaveStore
import Foundation

/// `enclave audit verify|list`: check the audit chain on disk, or read records through the API.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The hash-chained audit log: verify it on disk, or list records through the API.",
        subcommands: [AuditVerify.self, AuditListCommand.self])
}

/// Recomputes every hash of the chain straight from the database, like `enclave token` an operator's tool: it
/// needs read access to the data dir, not a token, so it still works when the server does not.
struct AuditVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Recompute the audit chain from the database and report the first broken link.",
        discussion: """
            Prints "OK: N records, chain intact" and the latest hash (exit 0), or "BROKEN at record #S: why" \
            (exit 1). Keep the latest hash somewhere the database's writers cannot reach: a chain rewritten from \
            the start verifies, but no longer ends at that hash.
            """)

    @Option(help: "Data directory holding enclave.sqlite.")
    var dataDir: String = ProcessInfo.processInfo.environment["ENCLAVE_DATA_DIR"] ?? ".enclave"

    @Option(help: "Records read per page.") var pageSize: Int = 5000

    func validate() throws {
        guard pageSize > 0 else { throw ValidationError("--page-size must be positive") }
    }

    func run() async throws {
        let path = URL(fileURLWithPath: dataDir).appendingPathComponent("enclave.sqlite").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("No database at \(path): pass the data dir `enclave serve` uses (--data-dir)")
        }
        let store = try SQLiteStore(path: path)
        var verifier = AuditChain.Verifier()
        var after = 0
        while true {
            let page: [AuditRecord]
            do {
                page = try await store.auditRecords(AuditFilter(), after: after, limit: pageSize)
            } catch {
                print("BROKEN after record #\(after): a record cannot be read (\(error))")
                throw ExitCode.failure
            }
            for record in page {
                if let broken = verifier.check(record) {
                    print("BROKEN at record #\(broken.sequence): \(broken)")
                    throw ExitCode.failure
                }
            }
            guard let last = page.last, page.count == pageSize else { break }
            after = last.sequence
        }
        print("OK: \(verifier.count) records, chain intact")
        print("Latest hash: \(verifier.lastHash)")
    }
}

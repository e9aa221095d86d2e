public import ArgumentParser
import EnclaveAPI
import EnclaveCore
import Foundation

/// `enclave audit list`: one page of `GET /api/audit` (TREAdmin), newest filters first applied by the server.
public struct AuditListCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List audit records through the API (GET /api/audit, TREAdmin).",
        discussion: "Prints one page, oldest first; when there are more, the last line says which --after to pass next.")

    @Option(help: "Only records by this user id (oid), or system:enclave.") var actor: String?
    @Option(help: "An action (resource.create) or a family by dotted prefix (resource, role, auth).") var action: String?
    @Option(help: "A target, or everything under it (/workspaces/ID).") var target: String?
    @Option(help: "From this time, inclusive (ISO 8601: 2025-03-01T12:00:00Z or 2025-03-01).") var from: String?
    @Option(help: "Before this time (ISO 8601).") var to: String?
    @Option(help: "Records per page (1-1000).") var limit: Int = 100
    @Option(help: "Only records after this sequence number (the previous page's next).") var after: Int?
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    public init() {}

    struct Page: Decodable {
        var auditRecords: [AuditRecord]
        var next: Int?
    }

    var path: String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&+=?#")
        let pairs: [(String, String?)] = [
            ("actor", actor), ("action", action), ("target", target), ("from", from), ("to", to), ("limit", String(limit)),
            ("after", after.map(String.init)),
        ]
        let query = pairs.compactMap { name, value in
            value.map { "\(name)=\($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0)" }
        }
        return "/api/audit?" + query.joined(separator: "&")
    }

    public func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let response = try await client.get(path)
            let page = try client.decode(Page.self, from: response)
            try Printer(environment: environment, format: output.output).print(response) { Self.table(page.auditRecords) }
            if output.output == .table, let next = page.next {
                environment.print("More records: run again with --after \(next)")
            }
        }
    }

    /// sequence, time (UTC), actor, action, outcome, target.
    static func table(_ records: [AuditRecord]) -> Table {
        Table(
            columns: ["#", "time", "actor", "action", "outcome", "target"],
            rows: records.map { record in
                [
                    String(record.sequence), Date(timeIntervalSince1970: record.time).formatted(.iso8601), record.actor.name,
                    record.action.rawValue, record.outcome.rawValue, record.target,
                ]
            },
            maxCellWidth: 80)
    }
}

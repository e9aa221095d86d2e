import ArgumentParser
import EnclaveAuth
import EnclaveCore
import EnclaveStore
import Foundation

/// `enclave clients add|list|disable|enable|rotate-secret`: automation clients of the built-in provider
/// (CI pipelines that sign in with `client_credentials`), changed straight in the data dir's database.
struct Clients: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage automation clients (client_credentials sign-in) in a data dir.",
        subcommands: [ClientsAdd.self, ClientsList.self, ClientsDisable.self, ClientsEnable.self, ClientsRotateSecret.self])
}

struct ClientsOptions: ParsableArguments {
    @Option(help: "Data directory holding enclave.sqlite.")
    var dataDir: String = ProcessInfo.processInfo.environment["ENCLAVE_DATA_DIR"] ?? ".enclave"

    func administration() throws -> ClientAdministration {
        let path = URL(fileURLWithPath: dataDir).appendingPathComponent("enclave.sqlite").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("No database at \(path): run `enclave serve --data-dir \(dataDir)` once, or pass its --data-dir")
        }
        let login = ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        return ClientAdministration(
            store: try SQLiteStore(path: path), actor: AuditActor(id: "operator:\(login)", name: "Operator \(login) (enclave clients)"))
    }
}

struct ClientsAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Register a client; its secret is printed once (only a hash is kept).")

    @OptionGroup var options: ClientsOptions
    @Argument(help: "Client id: 3–64 lower-case letters, digits or dashes.") var id: String
    @Option(help: "Display name (default: the id).") var name: String = ""
    @Option(name: .customLong("role"), help: "Core role (TREAdmin, TREUser); repeat for several.") var roles: [String] = ["TREUser"]

    func run() async throws {
        let admin = try options.administration()
        let (client, secret) = try await administer { try await admin.add(id: id, name: name, roles: roles) }
        print("Registered client \(client.id) with roles \(client.roles.joined(separator: ", "))")
        print("Secret (shown once): \(secret)")
    }
}

struct ClientsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List clients.")

    @OptionGroup var options: ClientsOptions

    func run() async throws {
        let clients = try await options.administration().list()
        let rows = [["ID", "NAME", "ROLES", "ENABLED"]]
            + clients.map { [$0.id, $0.name, $0.roles.joined(separator: ","), $0.enabled ? "yes" : "no"] }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
    }
}

struct ClientsDisable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disable", abstract: "Refuse the client's secret from now on.")

    @OptionGroup var options: ClientsOptions
    @Argument(help: "Client id.") var id: String

    func run() async throws {
        let admin = try options.administration()
        _ = try await administer { try await admin.setEnabled(id, false) }
        print("Disabled \(id)")
    }
}

struct ClientsEnable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enable", abstract: "Accept the client's secret again.")

    @OptionGroup var options: ClientsOptions
    @Argument(help: "Client id.") var id: String

    func run() async throws {
        let admin = try options.administration()
        _ = try await administer { try await admin.setEnabled(id, true) }
        print("Enabled \(id)")
    }
}

struct ClientsRotateSecret: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-secret", abstract: "Replace the client's secret (the old one stops working at once).")

    @OptionGroup var options: ClientsOptions
    @Argument(help: "Client id.") var id: String

    func run() async throws {
        let admin = try options.administration()
        let secret = try await administer { try await admin.rotateSecret(id) }
        print("New secret for \(id) (shown once): \(secret)")
    }
}

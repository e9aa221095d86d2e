import ArgumentParser
import EnclaveAuth
import EnclaveCLI
import EnclaveCore
import EnclaveStore
import Foundation

/// `enclave users …`: the TRE's users. Through the API (`/api/users`, as the logged-in TREAdmin) by
/// default; `add`, `reset-password` and `reset-mfa`, and `list`, `disable`, `enable`, `assign` and
/// `remove` given `--data-dir`, change the data dir's database directly (an operator's tool, like
/// `enclave token`: no server or token needed). Both ways check the same rules in the same transaction.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the TRE's users: through the API, or with --data-dir straight in a data dir.",
        subcommands: [
            UsersList.self, UsersShowCommand.self, UsersInviteCommand.self, UsersReinviteCommand.self, UsersDisable.self,
            UsersEnable.self, UsersAssign.self, UsersRemove.self, UsersAdd.self, UsersResetPassword.self, UsersResetMFA.self,
        ])
}

/// The data dir and the administration it opens; every change is audited as the local operator.
struct UsersOptions: ParsableArguments {
    @Option(help: "Data directory holding enclave.sqlite.")
    var dataDir: String = ProcessInfo.processInfo.environment["ENCLAVE_DATA_DIR"] ?? ".enclave"

    func administration() throws -> AccountAdministration { try operatorAdministration(dataDir: dataDir) }
}

/// `--data-dir` of the commands that otherwise use the API: given, they work on the database directly.
struct OperatorMode: ParsableArguments {
    @Option(help: "Work on this data directory's database directly, as an operator (no server or token).")
    var dataDir: String?
}

/// The data dir's account administration, acting as the local operator.
func operatorAdministration(dataDir: String) throws -> AccountAdministration {
    let path = URL(fileURLWithPath: dataDir).appendingPathComponent("enclave.sqlite").path
    guard FileManager.default.fileExists(atPath: path) else {
        throw ValidationError("No database at \(path): run `enclave serve --data-dir \(dataDir)` once, or pass its --data-dir")
    }
    let login = ProcessInfo.processInfo.environment["USER"] ?? "unknown"
    return AccountAdministration(
        store: try SQLiteStore(path: path), actor: AuditActor(id: "operator:\(login)", name: "Operator \(login) (enclave users)"))
}

/// Runs an administration call, turning its `EnclaveError` into a message and exit status 1.
func administer<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as EnclaveError {
        FileHandle.standardError.write(Data("Error: \(error.message)\n".utf8))
        throw ExitCode.failure
    }
}

/// A password from a file (first line), or a generated one that is printed once. Never a flag: flags show in `ps`.
func password(fromFile file: String) throws -> (password: String, generated: Bool) {
    guard !file.isEmpty else { return (AccountAdministration.generatePassword(), true) }
    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("Cannot read \(file)") }
    return (String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? ""), false)
}

struct UsersAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Operator, in a data dir: add an account with a password; the user enrolls an authenticator at first sign-in.")

    @OptionGroup var options: UsersOptions
    @Option(help: "Username (letters, digits, . _ - @; unique ignoring case).") var username: String
    @Option(help: "Display name (default: the username).") var name: String = ""
    @Option(help: "Email address.") var email: String = ""
    @Option(name: .customLong("role"), help: "Core role (TREAdmin, TREUser); repeat for several.") var roles: [String] = ["TREUser"]
    @Option(help: "File whose first line is the password (default: generate one and print it).") var passwordFile: String = ""

    func run() async throws {
        let admin = try options.administration()
        let (password, generated) = try password(fromFile: passwordFile)
        let account = try await administer {
            try await admin.add(username: username, name: name, email: email, roles: roles, password: password)
        }
        print("Added \(account.username) (\(account.id)) with roles \(account.roles.joined(separator: ", "))")
        if generated { print("Password (shown once): \(password)") }
    }
}

struct UsersList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List users (GET /api/users); with --data-dir, the data dir's built-in accounts.")

    @OptionGroup var mode: OperatorMode
    @OptionGroup var request: UsersListRequest

    func run() async throws {
        guard let dataDir = mode.dataDir else { return try await request.run() }
        let filter = request.filter ?? ""
        let accounts = try await operatorAdministration(dataDir: dataDir).list()
            .filter { DirectoryUser(account: $0, lastSeen: nil).matches(filter) }
        let now = Date().timeIntervalSince1970
        let rows = [["USERNAME", "ID", "NAME", "ROLES", "ENABLED", "MFA", "LOCKED"]]
            + accounts.map { account in
                [
                    account.username, account.id, account.name, account.roles.joined(separator: ","), account.enabled ? "yes" : "no",
                    account.totpSecretSealed == nil ? "not enrolled" : "enrolled",
                    (account.lockout.lockedUntil ?? 0) > now ? "yes" : "no",
                ]
            }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
    }
}

struct UsersDisable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable", abstract: "Disable a built-in account (the last enabled TREAdmin cannot be disabled).")
    @OptionGroup var mode: OperatorMode
    @OptionGroup var request: UserEnabledRequest

    func run() async throws {
        guard let dataDir = mode.dataDir else { return try await request.run(enabled: false) }
        let admin = try operatorAdministration(dataDir: dataDir)
        let account = try await administer { try await admin.setEnabled(.usernameOrId(request.user), false) }
        print("Disabled \(account.username)")
    }
}

struct UsersEnable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enable", abstract: "Enable a disabled built-in account.")
    @OptionGroup var mode: OperatorMode
    @OptionGroup var request: UserEnabledRequest

    func run() async throws {
        guard let dataDir = mode.dataDir else { return try await request.run(enabled: true) }
        let admin = try operatorAdministration(dataDir: dataDir)
        let account = try await administer { try await admin.setEnabled(.usernameOrId(request.user), true) }
        print("Enabled \(account.username)")
    }
}

struct UsersAssign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign", abstract: "Give a built-in account a core role (TREAdmin or TREUser).")
    @OptionGroup var mode: OperatorMode
    @OptionGroup var request: UserRoleRequest

    func run() async throws {
        guard let dataDir = mode.dataDir else { return try await request.run(add: true) }
        let admin = try operatorAdministration(dataDir: dataDir)
        let account = try await administer { try await admin.addRole(.usernameOrId(request.user), request.role) }
        print("\(account.username) has roles: \(account.roles.joined(separator: ", "))")
    }
}

struct UsersRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Take a core role away from a built-in account (the last enabled TREAdmin keeps it).")
    @OptionGroup var mode: OperatorMode
    @OptionGroup var request: UserRoleRequest

    func run() async throws {
        guard let dataDir = mode.dataDir else { return try await request.run(add: false) }
        let admin = try operatorAdministration(dataDir: dataDir)
        let account = try await administer { try await admin.removeRole(.usernameOrId(request.user), request.role) }
        print("\(account.username) has roles: \(account.roles.isEmpty ? "none" : account.roles.joined(separator: ", "))")
    }
}

struct UsersResetPassword: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset-password", abstract: "Operator, in a data dir: set a new password (and lift a lockout).")
    @OptionGroup var options: UsersOptions
    @Argument(help: "Username.") var username: String
    @Option(help: "File whose first line is the password (default: generate one and print it).") var passwordFile: String = ""

    func run() async throws {
        let admin = try options.administration()
        let (password, generated) = try password(fromFile: passwordFile)
        let account = try await administer { try await admin.resetPassword(.usernameOrId(username), password: password) }
        print("New password set for \(account.username)")
        if generated { print("Password (shown once): \(password)") }
    }
}

struct UsersResetMFA: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset-mfa", abstract: "Operator, in a data dir: forget the authenticator and recovery codes; the user enrolls again at next sign-in.")
    @OptionGroup var options: UsersOptions
    @Argument(help: "Username.") var username: String

    func run() async throws {
        let admin = try options.administration()
        let account = try await administer { try await admin.resetMFA(.usernameOrId(username)) }
        print("Authenticator reset for \(account.username): they enroll a new one at their next sign-in")
    }
}

public import ArgumentParser
import EnclaveAPI
import EnclaveCore
import Foundation

/// `enclave workspace WS …`: commands about one workspace that are not resource operations — today its
/// users and their workspace roles (Azure TRE's `tre workspace WS users …`).
public struct WorkspaceCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "workspace", abstract: "One workspace's users and their roles.",
        subcommands: [WorkspaceUsersCommand.self])

    @Argument(help: "The workspace's id.") public var workspace: String

    public init() {}

    /// `/api/workspaces/WS`.
    var path: String { "/api/workspaces/" + Self.escape(workspace) }

    static func escape(_ component: String) -> String {
        OAuthClient.percentEncode(component)
    }
}

/// `enclave workspace WS users list|assign|remove`.
struct WorkspaceUsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "List, assign and remove workspace roles (WorkspaceOwner, WorkspaceResearcher, AirlockManager).",
        subcommands: [WorkspaceUsersList.self, WorkspaceUsersAssign.self, WorkspaceUsersRemove.self])
}

/// A workspace user as `GET /api/workspaces/{id}/users` lists them.
struct WorkspaceUser: Decodable {
    struct Role: Decodable {
        var id: String
    }
    var id: String
    var displayName: String?
    var email: String?
    var roles: [Role]
}

struct WorkspaceUsersList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the workspace's users and their roles (GET …/users).")

    @ParentCommand var workspace: WorkspaceCommand
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let response = try await client.get(workspace.path + "/users")
            try Printer(environment: environment, format: output.output).print(response) { () throws(EnclaveClientError) in
                Tables.workspaceUsers(try client.decode([WorkspaceUser].self, key: "users", from: response))
            }
        }
    }
}

/// The role option shared by assign and remove.
struct RoleOption: ParsableArguments {
    @Option(help: "Workspace role: WorkspaceOwner, WorkspaceResearcher or AirlockManager (GET /api/workspaces/WS/roles).")
    var role: String
}

struct WorkspaceUsersAssign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign", abstract: "Give users a workspace role (POST …/users/assign).",
        discussion: "User ids are the users' oid (Entra ID) or sub claims, as `enclave workspace WS users list` shows them.")

    @ParentCommand var workspace: WorkspaceCommand
    @OptionGroup var role: RoleOption
    @Argument(help: "The users' ids.") var users: [String]
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if users.isEmpty { throw ValidationError("Name at least one user id") }
    }

    func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let body: JSONValue = ["role_id": .string(role.role), "user_ids": .array(users.map(JSONValue.string))]
            let response = try await client.post(workspace.path + "/users/assign", body: Data(body.description.utf8))
            switch output.output {
            case .json: environment.print(try Printer.prettyJSON(response.body))
            case .table:
                environment.print("Assigned \(role.role) to \(users.joined(separator: ", ")) in workspace \(workspace.workspace)")
            }
        }
    }
}

struct WorkspaceUsersRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Take a workspace role from users (DELETE …/users/assign).")

    @ParentCommand var workspace: WorkspaceCommand
    @OptionGroup var role: RoleOption
    @Argument(help: "The users' ids.") var users: [String]
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if users.isEmpty { throw ValidationError("Name at least one user id") }
    }

    func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            // The API takes one user per call; stop at the first refusal so the message names that user.
            var answers: [JSONValue] = []
            for user in users {
                let query = "user_id=\(WorkspaceCommand.escape(user))&role_id=\(WorkspaceCommand.escape(role.role))"
                let response = try await client.delete(workspace.path + "/users/assign?" + query)
                answers.append(try client.decode(JSONValue.self, from: response))
            }
            switch output.output {
            case .json: environment.print(Printer.prettyJSON(answers.count == 1 ? answers[0] : .array(answers)))
            case .table:
                environment.print("Removed \(role.role) from \(users.joined(separator: ", ")) in workspace \(workspace.workspace)")
            }
        }
    }
}

extension Tables {
    /// `GET /api/workspaces/{id}/users`: id, name, email, roles.
    static func workspaceUsers(_ users: [WorkspaceUser]) -> Table {
        Table(
            columns: ["id", "name", "email", "roles"],
            rows: users.map { user in
                [user.id, user.displayName ?? "", user.email ?? "", user.roles.map(\.id).joined(separator: ", ")]
            })
    }
}

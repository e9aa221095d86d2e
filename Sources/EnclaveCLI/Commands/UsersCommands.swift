public import ArgumentParser
import EnclaveAPI
import EnclaveCore
import Foundation

// `enclave users …` through the API (`/api/users`, TREAdmin), with the saved login or --url/--token.
//
// `list`, `disable`, `enable`, `assign` and `remove` also work straight on a data dir (`--data-dir`, an
// operator's tool with no server or token); the `enclave` executable adds that mode around the
// requests defined here, which is why they are `ParsableArguments` with a `run` of their own.

/// `enclave users list [--filter TEXT]`.
public struct UsersListRequest: ParsableArguments {
    @Option(help: "Only users whose username, name, email or id contains this text (ignoring case).") public var filter: String?
    @OptionGroup public var connection: ConnectionOptions
    @OptionGroup public var output: OutputOptions

    public init() {}

    public func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let response = try await client.get("/api/users" + (filter.map { "?filter=\(UsersAPI.queryEscaped($0))" } ?? ""))
            let users = try client.decode([DirectoryUser].self, key: "users", from: response)
            try Printer(environment: environment, format: output.output).print(response) { Tables.users(users) }
        }
    }
}

/// `enclave users disable|enable USER`.
public struct UserEnabledRequest: ParsableArguments {
    @Argument(help: "The user: a built-in account's username, or an id from `enclave users list`.") public var user: String
    @OptionGroup public var connection: ConnectionOptions
    @OptionGroup public var output: OutputOptions

    public init() {}

    public func run(enabled: Bool) async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let id = try await UsersAPI.id(of: user, client: client)
            let body = Data(JSONValue.object(["enabled": .bool(enabled)]).description.utf8)
            let response = try await client.send(.patch, UsersAPI.path(id), body: body).requireSuccess()
            try UsersAPI.printUser(response, client: client, environment: environment, format: output.output)
        }
    }
}

/// `enclave users assign|remove USER ROLE`: core roles of a built-in account.
public struct UserRoleRequest: ParsableArguments {
    @Argument(help: "The user: a built-in account's username, or an id from `enclave users list`.") public var user: String
    @Argument(help: "A core role: TREAdmin or TREUser.") public var role: String
    @OptionGroup public var connection: ConnectionOptions
    @OptionGroup public var output: OutputOptions

    public init() {}

    public func run(add: Bool) async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let id = try await UsersAPI.id(of: user, client: client)
            let response: EnclaveClient.Response
            if add {
                let body = Data(JSONValue.object(["role": .string(role)]).description.utf8)
                response = try await client.post(UsersAPI.path(id) + "/roles", body: body)
            } else {
                response = try await client.delete(UsersAPI.path(id) + "/roles/" + UsersAPI.pathEscaped(role))
            }
            try UsersAPI.printUser(response, client: client, environment: environment, format: output.output)
        }
    }
}

/// `enclave users show USER`.
public struct UsersShowCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one user (GET /api/users/{id}, TREAdmin).")

    @Argument(help: "A built-in account's username, or an id from `enclave users list`.") public var user: String
    @OptionGroup public var connection: ConnectionOptions
    @OptionGroup public var output: OutputOptions

    public init() {}

    public func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let response = try await client.get(UsersAPI.path(try await UsersAPI.id(of: user, client: client)))
            try UsersAPI.printUser(response, client: client, environment: environment, format: output.output)
        }
    }
}

/// `enclave users invite USERNAME --name N --email E --role R…`.
public struct UsersInviteCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "invite", abstract: "Invite a user of the built-in sign-in and print their one-time link (POST /api/users).",
        discussion: """
            The account is created without a password. The link, valid 7 days and usable once, opens a page \
            where the user chooses a password and sets up an authenticator app. Only its hash is stored, so it \
            is shown only now: `enclave users reinvite USER` makes a new one (and voids this one).
            """)

    @Argument(help: "Username (letters, digits, . _ - @; unique ignoring case).") public var username: String
    @Option(help: "Display name (default: the username).") public var name: String?
    @Option(help: "Email address.") public var email: String
    @Option(name: .customLong("role"), help: "Core role (TREAdmin, TREUser); repeat for several. Default: TREUser.")
    public var roles: [String] = []
    @OptionGroup public var connection: ConnectionOptions
    @OptionGroup public var output: OutputOptions

    public init() {}

    public func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            var body: [String: JSONValue] = ["username": .string(username), "email": .string(email)]
            if let name { body["name"] = .string(name) }
            if !roles.isEmpty { body["roles"] = .array(roles.map(JSONValue.string)) }
            let response = try await client.post("/api/users", body: Data(JSONValue.object(body).description.utf8))
            try UsersAPI.printInvitation(response, client: client, environment: environment, format: output.output)
        }
    }
}

/// `enclave users reinvite USER`.
public struct UsersReinviteCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "reinvite",
        abstract: "Print a new invitation link for an account that has not set a password yet; the old link stops working.")

    @Argument(help: "A built-in account's username, or its id.") public var user: String
    @OptionGroup public var connection: ConnectionOptions
    @OptionGroup public var output: OutputOptions

    public init() {}

    public func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let id = try await UsersAPI.id(of: user, client: client)
            let response = try await client.post(UsersAPI.path(id) + "/invitation")
            try UsersAPI.printInvitation(response, client: client, environment: environment, format: output.output)
        }
    }
}

/// What the users commands share: finding a user's id, paths, printing.
enum UsersAPI {
    struct One: Decodable {
        var user: DirectoryUser
    }

    struct Invitation: Decodable {
        var user: DirectoryUser
        var invitationUrl: String
        var expiresAt: Double
    }

    /// The id of the user a person typed: an id as is, else the built-in account with that username
    /// (ignoring case), else an external user whose username (email) it is.
    static func id(of user: String, client: EnclaveClient) async throws -> String {
        let response = try await client.get("/api/users?filter=\(queryEscaped(user))")
        let users = try client.decode([DirectoryUser].self, key: "users", from: response)
        let lowered = user.lowercased()
        let found =
            users.first { $0.id == user } ?? users.first { $0.source == .builtin && $0.username == lowered }
            ?? users.first { $0.username.lowercased() == lowered }
        guard let found else { throw CLIError("No user '\(user)': `enclave users list` shows who there is") }
        return found.id
    }

    static func path(_ id: String) -> String { "/api/users/" + pathEscaped(id) }

    static func pathEscaped(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#;")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func queryEscaped(_ text: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&+=?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// `{"user": …}` as JSON, or as a one-row table.
    static func printUser(
        _ response: EnclaveClient.Response, client: EnclaveClient, environment: CLIEnvironment, format: OutputFormat
    ) throws(EnclaveClientError) {
        let one = try client.decode(One.self, from: response)
        try Printer(environment: environment, format: format).print(response) { Tables.users([one.user]) }
    }

    /// An invitation as JSON, or as a sentence and the link on a line of its own.
    static func printInvitation(
        _ response: EnclaveClient.Response, client: EnclaveClient, environment: CLIEnvironment, format: OutputFormat
    ) throws(EnclaveClientError) {
        let invitation = try client.decode(Invitation.self, from: response)
        switch format {
        case .json: environment.print(try Printer.prettyJSON(response.body))
        case .table:
            let user = invitation.user
            let until = Date(timeIntervalSince1970: invitation.expiresAt).formatted(.iso8601)
            environment.print(
                "Invited \(user.username) (\(user.id)) with roles \(user.roles.isEmpty ? "none" : user.roles.joined(separator: ", ")).")
            environment.print("Give them this link; it works once, until \(until):")
            environment.print(invitation.invitationUrl)
        }
    }
}

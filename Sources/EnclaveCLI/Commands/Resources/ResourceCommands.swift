import ArgumentParser
import EnclaveAPI
import EnclaveCore
import Foundation

// The leaf commands of the four resource groups, generic over `ResourceScope`.

struct ListResources<Scope: ResourceScope>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "list", abstract: "List \(Scope.plural) (deleted ones are not shown).")
    }

    @ParentCommand var group: Scope.Group
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let response = try await client.get("/api" + Scope.collectionPath(group))
            try Printer(environment: environment, format: output.output).print(response) { () throws(EnclaveClientError) in
                Tables.resources(try client.decode([Resource].self, key: Scope.listKey, from: response))
            }
        }
    }
}

struct ShowResource<Scope: ResourceScope>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "show", abstract: "Show a \(Scope.singular).")
    }

    @ParentCommand var group: Scope.Group
    @Argument(help: "The \(Scope.singular)'s id.") var id: String
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let response = try await client.get("/api" + Scope.collectionPath(group) + "/" + id)
            try Printer(environment: environment, format: output.output).print(response) { () throws(EnclaveClientError) in
                Tables.resources([try client.decode(Resource.self, key: Scope.itemKey, from: response)])
            }
        }
    }
}

struct NewResource<Scope: ResourceScope>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "new", abstract: "Create a \(Scope.singular) and wait until it is deployed.",
            discussion: """
                The definition is the API's request body: {"templateName": "…", "properties": {…}}.
                """)
    }

    @ParentCommand var group: Scope.Group
    @OptionGroup var definition: DefinitionOptions
    @OptionGroup var wait: WaitOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let body = try definition.body(environment)
            let response = try await client.post("/api" + Scope.collectionPath(group), body: body)
            try await Mutation(client: client, environment: environment, output: output.output, wait: wait.policy)
                .complete(response)
        }
    }
}

struct UpdateResource<Scope: ResourceScope>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "update", abstract: "Change a \(Scope.singular)'s properties or template version.",
            discussion: """
                The definition is the API's PATCH body: {"properties": {…}}, {"templateVersion": "…"} or \
                {"isEnabled": …}. --etag is the resource's current _etag (`show -o json`), or * to overwrite.
                """)
    }

    @ParentCommand var group: Scope.Group
    @Argument(help: "The \(Scope.singular)'s id.") var id: String
    @Option(help: "The resource's current _etag, or * to overwrite regardless.") var etag: String
    @Flag(help: "Allow a major template version upgrade.") var forceVersionUpdate = false
    @OptionGroup var definition: DefinitionOptions
    @OptionGroup var wait: WaitOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let body = try definition.body(environment)
            var path = "/api" + Scope.collectionPath(group) + "/" + id
            if forceVersionUpdate { path += "?force_version_update=true" }
            let response = try await client.patch(path, body: body, etag: etag)
            try await Mutation(client: client, environment: environment, output: output.output, wait: wait.policy)
                .complete(response)
        }
    }
}

/// `--enable` or `--disable`.
enum Enablement: String, EnumerableFlag {
    case enable, disable
}

struct SetEnabled<Scope: ResourceScope>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "set-enabled",
            abstract: "Enable or disable a \(Scope.singular) (disabling cascades to what it contains).")
    }

    @ParentCommand var group: Scope.Group
    @Argument(help: "The \(Scope.singular)'s id.") var id: String
    @Option(help: "The resource's current _etag, or * to overwrite regardless.") var etag: String
    @Flag(help: "Enable or disable.") var state: Enablement
    @OptionGroup var wait: WaitOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let body = Data(#"{"isEnabled": \#(state == .enable)}"#.utf8)
            let response = try await client.patch("/api" + Scope.collectionPath(group) + "/" + id, body: body, etag: etag)
            try await Mutation(client: client, environment: environment, output: output.output, wait: wait.policy)
                .complete(response)
        }
    }
}

struct DeleteResource<Scope: ResourceScope>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "delete",
            abstract: "Delete a \(Scope.singular) and everything in it (it must be disabled first).")
    }

    @ParentCommand var group: Scope.Group
    @Argument(help: "The \(Scope.singular)'s id.") var id: String
    @Flag(name: .shortAndLong, help: "Do not ask for confirmation.") var yes = false
    @Flag(help: "Disable the \(Scope.singular) first (and wait for that) if it is enabled.") var ensureDisabled = false
    @OptionGroup var wait: WaitOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let path = "/api" + Scope.collectionPath(group) + "/" + id
            if !yes {
                environment.writeError("Delete \(Scope.singular) \(id)? [y/N] ")
                let answer = environment.readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
                guard answer == "y" || answer == "yes" else { throw CLIError("Not deleted (pass --yes to skip this question)") }
            }
            if ensureDisabled {
                let current = try client.decode(Resource.self, key: Scope.itemKey, from: try await client.get(path))
                if current.isEnabled {
                    var waitForDisable = wait.policy
                    waitForDisable.noWait = false
                    let response = try await client.patch(path, body: Data(#"{"isEnabled": false}"#.utf8), etag: current.etag)
                    try await Mutation(client: client, environment: environment, output: output.output, wait: waitForDisable)
                        .complete(response, printResult: false)
                }
            }
            let response = try await client.delete(path)
            try await Mutation(client: client, environment: environment, output: output.output, wait: wait.policy)
                .complete(response)
        }
    }
}

struct InvokeAction<Scope: ResourceScope>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "invoke-action", abstract: "Run one of a \(Scope.singular)'s template custom actions.")
    }

    @ParentCommand var group: Scope.Group
    @Argument(help: "The \(Scope.singular)'s id.") var id: String
    @Argument(help: "The custom action's name (see `templates show`).") var action: String
    @OptionGroup var wait: WaitOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let name = action.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(["&", "=", "+"])) ?? action
            let response = try await client.post("/api" + Scope.collectionPath(group) + "/" + id + "/invoke-action?action=" + name)
            try await Mutation(client: client, environment: environment, output: output.output, wait: wait.policy)
                .complete(response)
        }
    }
}

struct ResourceOperations<Scope: ResourceScope>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "operations", abstract: "List a \(Scope.singular)'s operations, oldest first.")
    }

    @ParentCommand var group: Scope.Group
    @Argument(help: "The \(Scope.singular)'s id.") var id: String
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let response = try await client.get("/api" + Scope.collectionPath(group) + "/" + id + "/operations")
            try Printer(environment: environment, format: output.output).print(response) { () throws(EnclaveClientError) in
                Tables.operations(try client.decode([ResourceOperation].self, key: "operations", from: response))
            }
        }
    }
}

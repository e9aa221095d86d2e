public import ArgumentParser
import EnclaveAPI
import EnclaveCore

/// `enclave operations list|show`: operations across resources.
public struct OperationsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "operations", abstract: "Your in-flight operations, or one operation by path.",
        subcommands: [ListOperations.self, ShowOperation.self])

    public init() {}
}

struct ListOperations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List your operations still in flight (GET /api/operations).")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let response = try await client.get("/api/operations")
            try Printer(environment: environment, format: output.output).print(response) { () throws(EnclaveClientError) in
                Tables.operations(try client.decode([ResourceOperation].self, key: "operations", from: response))
            }
        }
    }
}

struct ShowOperation: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one operation, optionally waiting for it to finish.",
        discussion: """
            Name it by its Location (/api/workspaces/WS/operations/OP), or by --resource-path and its id \
            (--resource-path /workspaces/WS OP).
            """)

    @Argument(help: "The operation's Location, or its id with --resource-path.") var operation: String
    @Option(help: "The resource's path, e.g. /workspaces/WS (the operation's resourcePath).") var resourcePath: String?
    @Flag(help: "Wait until the operation finishes, showing progress.") var wait = false
    @Option(help: "Seconds between polls when waiting.") var pollInterval: Double = 1
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if resourcePath == nil && !operation.hasPrefix("/api/") {
            throw ValidationError("Pass the operation's Location (/api/…/operations/ID) or --resource-path PATH ID")
        }
        guard pollInterval > 0 else { throw ValidationError("--poll-interval must be positive") }
    }

    var location: String {
        guard var path = resourcePath else { return operation }
        if path.hasPrefix("/api/") { path.removeFirst(4) }
        if !path.hasPrefix("/") { path = "/" + path }
        while path.hasSuffix("/") { path.removeLast() }
        return "/api\(path)/operations/\(operation)"
    }

    func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let response = try await client.get(location)
            if wait {
                let policy = WaitPolicy(pollInterval: .seconds(pollInterval))
                try await Mutation(client: client, environment: environment, output: output.output, wait: policy)
                    .complete(response)
            } else {
                try Printer(environment: environment, format: output.output).print(response) { () throws(EnclaveClientError) in
                    Tables.operations([try client.decode(ResourceOperation.self, key: "operation", from: response)])
                }
            }
        }
    }
}

public import ArgumentParser
import EnclaveAPI
import EnclaveCore

/// `enclave health`: the server's `GET /api/health`, exiting non-zero if any part is not OK.
public struct HealthCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "health", abstract: "Show the health of the server's parts (exits 1 if any is not OK).")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    public init() {}

    public func run() async throws {
        let environment = CLIEnvironment.current
        var healthy = true
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let response = try await client.get("/api/health")
            let services = try client.decode([JSONValue].self, key: "services", from: response)
            healthy = services.allSatisfy { $0["status"]?.stringValue == "OK" }
            try Printer(environment: environment, format: output.output).print(response) { Tables.health(services) }
        }
        if !healthy { throw ExitCode.failure }
    }
}

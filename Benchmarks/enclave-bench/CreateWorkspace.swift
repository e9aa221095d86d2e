import ArgumentParser
import EnclaveAPI

/// `enclave-bench create-workspace`: one deployed workspace for `run.sh` to GET (prints its id).
///
/// Used against a plain `enclave serve` to measure idle memory after a GET load, where the
/// instrumented `serve` subcommand would not be the process the goal is about.
struct CreateWorkspace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-workspace", abstract: "Create a workspace, wait until deployed, print its id.")

    @Option(help: "Server URL.") var url: String
    @Option(help: "Bearer token (TREAdmin).") var token: String
    @Option(help: "Workspace template.") var template: String = "bench-noop"

    func run() async throws {
        let client = EnclaveClient(baseURL: url, token: token)
        try await BenchAPI.waitUntilHealthy(client, timeout: .seconds(30))
        print(try await BenchAPI.createWorkspace(client, template: template, timeout: .seconds(60)))
    }
}

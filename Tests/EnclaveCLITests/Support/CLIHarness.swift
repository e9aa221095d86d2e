import ArgumentParser
import Foundation
import Synchronization

@testable import EnclaveCLI

/// A root command holding only the client commands, parsed the way `enclave` parses them.
struct TestRoot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enclave", subcommands: ClientCommands.all)
}

/// Standard output and error of one command run, collected.
final class Captured: Sendable {
    private let output = Mutex("")
    private let error = Mutex("")

    var stdout: String { output.withLock { $0 } }
    var stderr: String { error.withLock { $0 } }

    func environment(variables: [String: String], terminal: Bool = false, input: [String] = []) -> CLIEnvironment {
        let lines = Mutex(input)
        return CLIEnvironment(
            variables: variables,
            writeOutput: { text in self.output.withLock { $0 += text } },
            writeError: { text in self.error.withLock { $0 += text } },
            errorIsTerminal: terminal,
            readLine: { lines.withLock { $0.isEmpty ? nil : $0.removeFirst() } })
    }
}

/// The outcome of running a command line: its output and the exit code `enclave` would exit with.
struct RunResult {
    var stdout: String
    var stderr: String
    var exitCode: Int32
}

/// Parses and runs a client command line with captured output and the given environment variables
/// (a private config dir unless the caller sets one), as `enclave` would; `configure` may change the rest
/// of the environment (browser, clock).
func runCLI(
    _ arguments: [String], variables: [String: String] = [:], input: [String] = [],
    configure: (inout CLIEnvironment) -> Void = { _ in }
) async -> RunResult {
    let captured = Captured()
    var environment = captured.environment(variables: variables, input: input)
    configure(&environment)
    var exitCode: Int32 = 0
    do {
        var command = try TestRoot.parseAsRoot(arguments)
        try await CLIEnvironment.$current.withValue(environment) {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        }
    } catch {
        exitCode = TestRoot.exitCode(for: error).rawValue
        if !(error is ExitCode) { environment.printError(TestRoot.message(for: error)) }
    }
    return RunResult(stdout: captured.stdout, stderr: captured.stderr, exitCode: exitCode)
}

/// A fresh, empty config home for one test.
func temporaryConfigHome() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("enclave-cli-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

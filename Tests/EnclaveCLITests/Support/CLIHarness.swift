import ArgumentParser
import Foundation
import Synchronization

@testable import EnclaveCLI

/// A root command holding only the client commands, parsed the way `enclave` parses them.
struct TestRoot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enclave", subcommands: ClientCommands.all + [TestUsersGroup.self])
}

/// `enclave users` as the executable assembles it from EnclaveCLI's requests, without the `--data-dir`
/// mode (which needs the executable's store; `EndToEndTests` run that).
struct TestUsersGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        subcommands: [
            List.self, UsersShowCommand.self, UsersInviteCommand.self, UsersReinviteCommand.self, Disable.self, Enable.self,
            Assign.self, Remove.self,
        ])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list")
        @OptionGroup var request: UsersListRequest
        func run() async throws { try await request.run() }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "disable")
        @OptionGroup var request: UserEnabledRequest
        func run() async throws { try await request.run(enabled: false) }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "enable")
        @OptionGroup var request: UserEnabledRequest
        func run() async throws { try await request.run(enabled: true) }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "assign")
        @OptionGroup var request: UserRoleRequest
        func run() async throws { try await request.run(add: true) }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove")
        @OptionGroup var request: UserRoleRequest
        func run() async throws { try await request.run(add: false) }
    }
}

/// Standard output and error of one command run, collected.
final class Captured: Sendable {
    private let output = Mutex("")
    private let error = Mutex("")

    var stdout: String { output.withLock { $0 } }
    var stderr: String { error.withLock { $0 } }

    func environment(variables: [String: String], terminal: Bool = false, input: [String] = []) -> CLIEnvironment {
        let lines = Mutex(input)
        // Answers are awaited for up to two minutes unless a test sets its own: the whole suite shares two
        // cores, and a server's first answer has taken over 30 s while tool installs and sign-ins ran beside it.
        return CLIEnvironment(
            variables: variables.merging(["ENCLAVE_TIMEOUT": "120"]) { given, _ in given },
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

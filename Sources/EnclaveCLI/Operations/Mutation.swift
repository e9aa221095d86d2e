import ArgumentParser
public import EnclaveAPI
public import EnclaveCore

/// What every mutation does with the API's answer: take the operation and its `Location`, then either
/// print it (`--no-wait`) or wait for it with a progress line and print where it ended.
///
/// A failed operation (`deployment_failed`, `updating_failed`, `deleting_failed`, `action_failed`) is
/// reported on standard error with its message and exits non-zero, so scripts can chain commands.
public struct Mutation: Sendable {
    public var client: EnclaveClient
    public var environment: CLIEnvironment
    public var output: OutputFormat
    public var wait: WaitPolicy

    public init(client: EnclaveClient, environment: CLIEnvironment, output: OutputFormat, wait: WaitPolicy) {
        self.client = client
        self.environment = environment
        self.output = output
        self.wait = wait
    }

    /// Handles the 200/202 answer of a POST, PATCH, DELETE or invoke-action; returns the final operation.
    /// `printResult: false` keeps an intermediate step (the disable before a delete) off standard output.
    @discardableResult
    public func complete(_ response: EnclaveClient.Response, printResult: Bool = true) async throws -> ResourceOperation {
        let accepted = try client.decode(ResourceOperation.self, key: "operation", from: response)
        let location = response.location ?? accepted.location
        let printer = Printer(environment: environment, format: output)
        if wait.noWait {
            if printResult { printer.print(accepted) }
            return accepted
        }
        let waiter = OperationWaiter(client: client, pollInterval: wait.pollInterval, timeout: wait.timeout)
        var progress = ProgressLine(isTerminal: environment.errorIsTerminal, write: environment.writeError)
        let final = try await waiter.wait(for: accepted, at: location, progress: &progress)
        if printResult || final.status.isFailure { printer.print(final) }
        if final.status.isFailure {
            environment.printError("Error: operation \(final.id) (\(final.action)) ended \(final.status.rawValue): \(final.message)")
            throw ExitCode.failure
        }
        return final
    }
}

extension CLIEnvironment {
    /// Runs a command body, printing client, API and transport errors as one line on standard error
    /// (`Error (409): …`) and exiting non-zero, instead of ArgumentParser's generic rendering.
    public func reportingErrors(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as EnclaveClientError {
            printError(error.description)
            throw ExitCode.failure
        } catch let error as CLIError {
            printError(error.description)
            throw ExitCode.failure
        }
    }
}

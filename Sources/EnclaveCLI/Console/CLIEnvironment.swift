public import AsyncHTTPClient
public import EnclaveAPI
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the client commands read from and write to outside their arguments: environment variables,
/// standard output and error, the terminal, and the HTTP client.
///
/// ArgumentParser builds commands from arguments alone, so this is handed to them through a task-local
/// (`CLIEnvironment.$current.withValue(...)`) rather than an initializer. `enclave` runs with `.live`;
/// tests bind one that captures output and points the config dir at a temporary folder.
public struct CLIEnvironment: Sendable {
    /// Environment variables (`ENCLAVE_URL`, `ENCLAVE_TOKEN`, `XDG_CONFIG_HOME`, `HOME`).
    public var variables: [String: String]
    /// Writes text to standard output, as given (callers add newlines).
    public var writeOutput: @Sendable (String) -> Void
    /// Writes text to standard error, as given.
    public var writeError: @Sendable (String) -> Void
    /// Whether standard error is a terminal: progress is redrawn in place only then.
    public var errorIsTerminal: Bool
    /// Reads one line of standard input (nil at end of input), for confirmation prompts.
    public var readLine: @Sendable () -> String?
    public var httpClient: HTTPClient
    /// Opens a URL in the user's browser (returning whether it could); nil when this session has no
    /// browser, so `enclave login` signs in with a device code.
    public var openBrowser: (@Sendable (String) -> Bool)?
    /// The time in seconds since 1970, for token expiry.
    public var now: @Sendable () -> Double
    /// Waits (device sign-in polling); tests make it instant.
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(
        variables: [String: String], writeOutput: @escaping @Sendable (String) -> Void,
        writeError: @escaping @Sendable (String) -> Void, errorIsTerminal: Bool,
        readLine: @escaping @Sendable () -> String?, httpClient: HTTPClient = EnclaveClient.sharedHTTPClient,
        openBrowser: (@Sendable (String) -> Bool)? = nil,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.variables = variables
        self.writeOutput = writeOutput
        self.writeError = writeError
        self.errorIsTerminal = errorIsTerminal
        self.readLine = readLine
        self.httpClient = httpClient
        self.openBrowser = openBrowser
        self.now = now
        self.sleep = sleep
    }

    /// How long to wait for each answer from a server: `ENCLAVE_TIMEOUT` seconds, else 30.
    public var requestTimeout: Duration {
        guard let text = variables["ENCLAVE_TIMEOUT"], let seconds = Double(text), seconds > 0 else { return .seconds(30) }
        return .seconds(seconds)
    }

    /// The process's real environment, stdout, stderr, stdin and browser.
    public static var live: CLIEnvironment {
        let variables = ProcessInfo.processInfo.environment
        return CLIEnvironment(
            variables: variables,
            writeOutput: { FileHandle.standardOutput.write(Data($0.utf8)) },
            writeError: { FileHandle.standardError.write(Data($0.utf8)) },
            errorIsTerminal: isatty(STDERR_FILENO) == 1,
            readLine: { Swift.readLine() },
            openBrowser: Browser.opener(variables: variables))
    }

    /// The environment commands run in; `.live` unless a caller (a test) binds another.
    @TaskLocal public static var current: CLIEnvironment = .live

    /// Prints a line on standard output.
    public func print(_ line: String) { writeOutput(line + "\n") }

    /// Prints a line on standard error.
    public func printError(_ line: String) { writeError(line + "\n") }
}

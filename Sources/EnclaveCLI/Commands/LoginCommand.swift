public import ArgumentParser
import EnclaveAPI
import Foundation

/// `enclave login --url URL --token TOKEN`: saves where and as whom later commands connect.
public struct LoginCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Save the server URL and a bearer token for the client commands.",
        discussion: """
            Saved to $XDG_CONFIG_HOME/enclave/config.json (else ~/.config/enclave/config.json), mode 0600. \
            Tokens come from your identity provider or, on a development server, `enclave token`.
            """)

    @Option(help: "Server URL, e.g. https://enclave.example.org.") public var url: String
    @Option(help: "Bearer token (default: $ENCLAVE_TOKEN).") public var token: String?
    @Flag(help: "Save without checking that the server accepts the token.") public var noVerify = false

    public init() {}

    public func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            guard let token = token ?? environment.variables["ENCLAVE_TOKEN"], !token.isEmpty else {
                throw CLIError("A token is required: pass --token or set ENCLAVE_TOKEN")
            }
            if !noVerify {
                // Any authenticated route will do; this one is open to both core roles and cheap.
                _ = try await EnclaveClient(baseURL: url, token: token, httpClient: environment.httpClient)
                    .get("/api/operations")
            }
            let store = ConfigStore(variables: environment.variables)
            try store.save(StoredLogin(url: url, token: token))
            environment.printError("Logged in to \(url); saved to \(store.file.path)")
        }
    }
}

/// `enclave logout`: forgets the saved login.
public struct LogoutCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "logout", abstract: "Remove the login saved by `enclave login`.")

    public init() {}

    public func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let store = ConfigStore(variables: environment.variables)
            let removed = try store.remove()
            environment.printError(removed ? "Logged out; removed \(store.file.path)" : "Not logged in")
        }
    }
}

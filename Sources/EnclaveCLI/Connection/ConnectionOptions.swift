public import ArgumentParser
public import EnclaveAPI

/// `--url` and `--token`, taken by every client command.
///
/// Precedence: the flag, then `ENCLAVE_URL` / `ENCLAVE_TOKEN`, then what `enclave login` saved — so a
/// script can point one command at another server without touching the saved login.
public struct ConnectionOptions: ParsableArguments {
    @Option(help: "Server URL (default: $ENCLAVE_URL, else the one saved by `enclave login`).")
    public var url: String?

    @Option(help: "Bearer token (default: $ENCLAVE_TOKEN, else the one saved by `enclave login`).")
    public var token: String?

    public init() {}

    /// The URL and token to use, after applying the precedence above.
    public func resolve(_ environment: CLIEnvironment) throws(CLIError) -> (url: String, token: String?) {
        let stored = try ConfigStore(variables: environment.variables).load()
        let url = nonEmpty(url) ?? nonEmpty(environment.variables["ENCLAVE_URL"]) ?? stored?.url
        guard let url else {
            throw CLIError(
                "No server URL: run `enclave login --url URL --token TOKEN`, pass --url or set ENCLAVE_URL")
        }
        let token = nonEmpty(token) ?? nonEmpty(environment.variables["ENCLAVE_TOKEN"]) ?? stored?.token
        return (url, token)
    }

    /// A client for the resolved server.
    public func client(_ environment: CLIEnvironment) throws(CLIError) -> EnclaveClient {
        let (url, token) = try resolve(environment)
        return EnclaveClient(baseURL: url, token: token, httpClient: environment.httpClient)
    }

    private func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}

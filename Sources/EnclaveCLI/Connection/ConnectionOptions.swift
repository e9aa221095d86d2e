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
                "No server URL: run `enclave login --url URL` (or `--token TOKEN`), pass --url or set ENCLAVE_URL")
        }
        let token = nonEmpty(token) ?? nonEmpty(environment.variables["ENCLAVE_TOKEN"]) ?? nonEmpty(stored?.token)
        return (url, token)
    }

    /// A client for the resolved server. When the token is the saved login's and that login came from a
    /// sign-in at an identity provider, the client refreshes it as needed (`SavedLoginSession`).
    public func client(_ environment: CLIEnvironment) throws(CLIError) -> EnclaveClient {
        let (url, token) = try resolve(environment)
        var client = EnclaveClient(baseURL: url, token: token, httpClient: environment.httpClient, timeout: environment.requestTimeout)
        if nonEmpty(self.token) == nil, nonEmpty(environment.variables["ENCLAVE_TOKEN"]) == nil {
            let store = ConfigStore(variables: environment.variables)
            if let saved = try store.load(), saved.canRefresh {
                client.tokenProvider = SavedLoginSession(
                    login: saved, store: store, oauth: OAuthClient(httpClient: environment.httpClient, timeout: environment.requestTimeout),
                    now: environment.now)
            }
        }
        return client
    }

    private func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}

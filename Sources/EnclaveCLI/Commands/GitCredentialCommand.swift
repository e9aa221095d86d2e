public import ArgumentParser
import EnclaveAPI
import Foundation

/// `enclave git-credential get`: a git credential helper that answers with the signed-in user's access token.
///
/// The gateway in front of a workspace's git service takes an Enclave access token as the HTTP Basic
/// password, since Basic is all git sends. Configured as
/// `git config --global credential.https://enclave.example.org.helper '!enclave git-credential'`, git asks
/// this command whenever it needs a password. The token is then the saved login's, refreshed as for any other
/// command, and git never stores it. The token goes only to the server the login (or `--url`/`ENCLAVE_URL`)
/// names: for another protocol or host the command answers nothing, and git moves on to its next helper or
/// prompt. `store` and `erase` do nothing: the login is the token's only store.
public struct GitCredentialCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "git-credential",
        abstract: "git credential helper: your access token as the password for workspace git services.",
        discussion: """
            Set it up once per server:
              git config --global credential.https://enclave.example.org.helper '!enclave git-credential'
            then clone https://enclave.example.org/workspaces/<ws>/services/<svc>/repo/<name>.git
            """)

    @Argument(help: "git's helper operation: get (answered), store or erase (ignored).")
    var operation: String

    @OptionGroup var connection: ConnectionOptions

    public init() {}

    public func validate() throws {
        guard ["get", "store", "erase"].contains(operation) else {
            throw ValidationError("Unknown operation '\(operation)': git calls credential helpers with get, store or erase")
        }
    }

    public func run() async throws {
        let environment = CLIEnvironment.current
        var request: [String: String] = [:]
        while let line = environment.readLine(), !line.isEmpty {
            guard let equals = line.firstIndex(of: "=") else { continue }
            request[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard operation == "get" else { return }
        try await environment.reportingErrors {
            let (url, _) = try connection.resolve(environment)
            guard Self.isForServer(request, serverURL: url) else { return }
            let client = try connection.client(environment)
            let token: String?
            if let provider = client.tokenProvider { token = try await provider.currentToken() } else { token = client.token }
            guard let token, !token.isEmpty else {
                throw CLIError("Not signed in to \(url): run `enclave login --url \(url)` (or set ENCLAVE_TOKEN)")
            }
            environment.writeOutput("username=enclave\npassword=\(token)\n")
        }
    }

    /// Whether git's request (`protocol`, `host` with a non-default port) is for the server at `serverURL`.
    static func isForServer(_ request: [String: String], serverURL: String) -> Bool {
        guard let server = URLComponents(string: serverURL), let scheme = server.scheme?.lowercased(), let host = server.host?.lowercased(),
            let asked = request["host"]?.lowercased(), request["protocol"]?.lowercased() == scheme
        else { return false }
        let defaultPort = scheme == "https" ? 443 : 80
        let authority = server.port.map { $0 == defaultPort ? host : "\(host):\($0)" } ?? host
        return asked == authority || (asked == "\(host):\(defaultPort)" && authority == host)
    }
}

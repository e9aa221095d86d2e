import AsyncHTTPClient
import EnclaveAuth
import EnclaveCore
import EnclaveTesting
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// `enclave serve`'s setup link and `enclave users …` with the real binary, then a browser-style sign-in
/// (password, TOTP enrollment, code + PKCE) against the running server.
@Suite("Users command end to end", .serialized)
struct UsersCommandTests {
    /// Runs the binary to completion off the cooperative pool: exit status and stdout + stderr.
    static func enclave(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        let path = try EnclaveBinary.path
        return try await Blocking.runProcess(
            path, arguments, environment: environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 })
    }

    struct Page {
        var status: Int
        var location: String?
        var setCookie: String?
        var text: String
    }

    static func send(
        _ client: HTTPClient, _ url: String, method: HTTPMethod = .GET, form: [String: String]? = nil, cookie: String? = nil
    ) async throws -> Page {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let cookie { request.headers.add(name: "Cookie", value: "enclave_signin=\(cookie)") }
        if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: formBody(form)))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Page(
            status: Int(response.status.code), location: response.headers.first(name: "Location"),
            setCookie: response.headers.first(name: "Set-Cookie"), text: String(buffer: body))
    }

    static func formBody(_ fields: [String: String]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }

    static func capture(_ pattern: String, in text: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let range = Range(match.range(at: 1), in: text)
        else { return nil }
        return String(text[range])
    }

    static func cookie(_ header: String?) -> String? {
        guard let header, header.hasPrefix("enclave_signin=") else { return nil }
        return String(header.dropFirst("enclave_signin=".count).prefix(while: { $0 != ";" }))
    }


    @Test("serve prints a setup link with no admin; users add makes one who signs in with password and TOTP; the last admin cannot be disabled")
    func addThenSignIn() async throws {
        let data = try TestPaths.temporaryDirectory("e2e-users")
        defer { try? FileManager.default.removeItem(at: data) }
        let port = try freePort()
        let base = "http://127.0.0.1:\(port)"
        let log = data.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: try EnclaveBinary.path)
        server.arguments = ["serve", "--data-dir", data.path, "--port", "\(port)", "--workers", "0", "--templates", TestPaths.templates]
        let handle = try FileHandle(forWritingTo: log)
        server.standardOutput = handle
        server.standardError = handle
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        _ = try await LiveAPI.waitHealthy(base)
        let serveLog = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(serveLog.contains("\(base)/oidc/setup?token="), "\(serveLog)")

        let passwordFile = data.appendingPathComponent("password.txt")
        try "alice's long password\n".write(to: passwordFile, atomically: true, encoding: .utf8)
        let added = try await Self.enclave([
            "users", "add", "--data-dir", data.path, "--username", "alice", "--name", "Alice Admin", "--email", "alice@example.org",
            "--role", "TREAdmin", "--password-file", passwordFile.path,
        ])
        #expect(added.status == 0, "\(added.output)")
        #expect(added.output.contains("Added alice"))
        #expect(!added.output.contains("Password (shown once)"))
        let listed = try await Self.enclave(["users", "list", "--data-dir", data.path])
        #expect(listed.output.contains("alice") && listed.output.contains("not enrolled"), "\(listed.output)")

        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            let verifier = (UUID().uuidString + UUID().uuidString).replacingOccurrences(of: "-", with: "")
            let redirect = "http://127.0.0.1:53682/callback"
            let query = Self.formBody([
                "client_id": "enclave-cli", "redirect_uri": redirect, "response_type": "code",
                "code_challenge": PKCE.challenge(for: verifier), "code_challenge_method": "S256", "state": "s",
            ])
            let start = try await Self.send(client, "\(base)/oidc/authorize?\(query)")
            #expect(start.status == 200)
            var cookie = try #require(Self.cookie(start.setCookie))
            var csrf = try #require(Self.capture(#"name="csrf" value="([^"]+)""#, in: start.text))
            let enroll = try await Self.send(
                client, "\(base)/oidc/authorize", method: .POST,
                form: ["username": "alice", "password": "alice's long password", "csrf": csrf], cookie: cookie)
            #expect(enroll.text.contains("Set up your authenticator"), "\(enroll.text)")
            cookie = Self.cookie(enroll.setCookie) ?? cookie
            csrf = try #require(Self.capture(#"name="csrf" value="([^"]+)""#, in: enroll.text))
            let secret = Base32.decode(try #require(Self.capture(#"id="totp-secret">([^<]+)<"#, in: enroll.text)))
            let codes = try await Self.send(
                client, "\(base)/oidc/authorize", method: .POST,
                form: ["code": TOTPCode(secret: secret).code(at: Date()), "csrf": csrf], cookie: cookie)
            #expect(codes.text.contains("Recovery codes"), "\(codes.text)")
            let done = try await Self.send(client, "\(base)/oidc/authorize", method: .POST, form: ["csrf": csrf], cookie: cookie)
            #expect(done.status == 303)
            let location = try #require(done.location)
            let code = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "code" }?.value)
            let tokens = try await Self.send(
                client, "\(base)/oidc/token", method: .POST,
                form: [
                    "grant_type": "authorization_code", "code": code, "client_id": "enclave-cli", "redirect_uri": redirect,
                    "code_verifier": verifier,
                ])
            #expect(tokens.status == 200, "\(tokens.text)")
            let json = try JSONDecoder().decode(JSONValue.self, from: Data(tokens.text.utf8))
            let access = try #require(json["access_token"]?.stringValue)
            let workspaces = try await LiveAPI(base: base, token: access).call(.GET, "/api/workspaces")
            #expect(workspaces.status == 200, "\(workspaces.json)")
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()

        let disable = try await Self.enclave(["users", "disable", "alice", "--data-dir", data.path])
        #expect(disable.status != 0)
        #expect(disable.output.contains("is the last TREAdmin"), "\(disable.output)")
        let verify = try await Self.enclave(["audit", "verify", "--data-dir", data.path])
        #expect(verify.status == 0, "\(verify.output)")
    }

    @Test("the binary's users commands use the API without --data-dir and the database with it, under the same rules")
    func apiAndOperatorModes() async throws {
        let data = try TestPaths.temporaryDirectory("e2e-users-api")
        defer { try? FileManager.default.removeItem(at: data) }
        let port = try freePort()
        let base = "http://127.0.0.1:\(port)"
        let server = try EnclaveProcess(
            ["serve", "--data-dir", data.path, "--port", "\(port)", "--workers", "0", "--templates", TestPaths.templates],
            log: data.appendingPathComponent("serve.log"))
        defer { server.terminate() }
        _ = try await LiveAPI.waitHealthy(base)
        let token = try await EnclaveBinary.run([
            "token", "--data-dir", data.path, "--user", "admin-e2e", "--name", "Admin", "--email", "a@x", "--role", "TREAdmin",
        ])
        let client = ["ENCLAVE_URL": base, "ENCLAVE_TOKEN": token, "XDG_CONFIG_HOME": data.appendingPathComponent("config").path]

        let invited = try await Self.enclave(["users", "invite", "ada", "--email", "ada@example.org", "--role", "TREAdmin"], environment: client)
        #expect(invited.status == 0, "\(invited.output)")
        #expect(invited.output.contains("\(base)/oidc/invitation?token="), "\(invited.output)")
        let listed = try await Self.enclave(["users", "list"], environment: client)
        #expect(listed.status == 0 && listed.output.contains("ada") && listed.output.contains("builtin"), "\(listed.output)")
        #expect(listed.output.contains("admin-e2e") && listed.output.contains("external"), "\(listed.output)")

        // The same refusal either way: ada is the only built-in TREAdmin.
        let viaAPI = try await Self.enclave(["users", "remove", "ada", "TREAdmin"], environment: client)
        #expect(viaAPI.status == 1 && viaAPI.output.contains("Error (409): 'ada' is the last TREAdmin"), "\(viaAPI.output)")
        let direct = try await Self.enclave(["users", "remove", "ada", "TREAdmin", "--data-dir", data.path])
        #expect(direct.status == 1 && direct.output.contains("Error: 'ada' is the last TREAdmin"), "\(direct.output)")

        let operatorAssign = try await Self.enclave(["users", "assign", "ada", "TREUser", "--data-dir", data.path])
        #expect(operatorAssign.status == 0 && operatorAssign.output.contains("ada has roles: TREAdmin, TREUser"), "\(operatorAssign.output)")
        let shown = try await Self.enclave(["users", "show", "ada", "-o", "json"], environment: client)
        let user = try JSONDecoder().decode(JSONValue.self, from: Data(shown.output.utf8))["user"]
        #expect(user?["roles"] == ["TREAdmin", "TREUser"], "\(shown.output)")

        let records = try await LiveAPI(base: base, token: token).call(.GET, "/api/audit?action=user.role_add").json
        let actors = records["auditRecords"]?.arrayValue?.compactMap { $0["actor"]?["id"]?.stringValue } ?? []
        #expect(actors.count == 1 && actors.first?.hasPrefix("operator:") == true, "\(records)")
        let verify = try await Self.enclave(["audit", "verify", "--data-dir", data.path])
        #expect(verify.status == 0, "\(verify.output)")
    }
}

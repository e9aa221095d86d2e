// A scripted browser for the built-in provider's sign-in pages: it keeps the sign-in cookie, reads
// each page's CSRF token and posts forms as a browser would.
import EnclaveAuth
import EnclaveCore
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

struct SignInBrowser {
    let api: APIClient
    /// The `enclave_signin` cookie value, as the last response set it.
    var cookie: String?
    /// The CSRF token of the last page.
    var csrf: String?
    var lastPage = ""

    static let redirectURI = "http://127.0.0.1:53682/callback"
    static let clientId = "enclave-cli"

    init(_ api: APIClient) { self.api = api }

    typealias Reply = APIClient.Reply

    /// GET /oidc/authorize for the CLI client with a PKCE challenge of `verifier`.
    mutating func authorize(verifier: String, redirectURI: String = redirectURI, state: String = "st-123") async throws -> Reply {
        let query = Self.formBody([
            "client_id": Self.clientId, "redirect_uri": redirectURI, "response_type": "code",
            "code_challenge": PKCE.challenge(for: verifier), "code_challenge_method": "S256", "state": state, "nonce": "n-1",
        ])
        return try await get("/oidc/authorize?\(query)")
    }

    mutating func get(_ uri: String) async throws -> Reply {
        let reply = try await send(.get, uri, body: nil, cookie: cookie)
        absorb(reply)
        return reply
    }

    /// Posts a sign-in form with the page's CSRF token (unless `csrf` is given, or `withCSRF` is false).
    mutating func post(_ fields: [String: String], withCSRF: Bool = true, cookie override: String? = nil) async throws -> Reply {
        var fields = fields
        if withCSRF, fields["csrf"] == nil { fields["csrf"] = csrf ?? "" }
        let reply = try await send(.post, "/oidc/authorize", body: Self.formBody(fields), cookie: override ?? cookie)
        absorb(reply)
        return reply
    }

    func send(_ method: HTTPRequest.Method, _ uri: String, body: String?, cookie: String?) async throws -> Reply {
        var headers = HTTPFields()
        if let cookie { headers[.cookie] = "\(OIDCCookie.name)=\(cookie)" }
        if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        return try await api.client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) {
            APIClient.Reply(status: $0.status, headers: $0.headers, body: $0.body)
        }
    }

    private mutating func absorb(_ reply: Reply) {
        if let set = reply.headers[.setCookie], set.hasPrefix("\(OIDCCookie.name)=") {
            let value = set.dropFirst(OIDCCookie.name.count + 1).prefix(while: { $0 != ";" })
            cookie = value.isEmpty ? nil : String(value)
        }
        lastPage = reply.text
        if let token = Self.capture(#"name="csrf" value="([^"]+)""#, in: reply.text) { csrf = token }
    }

    /// Redeems a code at /oidc/token.
    func redeem(code: String, verifier: String, redirectURI: String = redirectURI) async throws -> Reply {
        let body = Self.formBody([
            "grant_type": "authorization_code", "code": code, "client_id": Self.clientId, "redirect_uri": redirectURI,
            "code_verifier": verifier,
        ])
        var headers = HTTPFields()
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await api.client.execute(uri: "/oidc/token", method: .post, headers: headers, body: ByteBuffer(string: body)) {
            APIClient.Reply(status: $0.status, headers: $0.headers, body: $0.body)
        }
    }

    /// Password, then TOTP (computed from `secret`), ending at the redirect: its `code` query item.
    mutating func signIn(username: String, password: String, secret: String, verifier: String) async throws -> String {
        let page = try await authorize(verifier: verifier)
        #expect(page.status == .ok, "\(page.text)")
        let afterPassword = try await post(["username": username, "password": password])
        #expect(afterPassword.text.contains("Authenticator code"), "\(afterPassword.text)")
        let done = try await post(["code": TOTPCode(secret: secret).code(at: Date())])
        #expect(done.status == .seeOther, "\(done.text)")
        return try #require(Self.queryItem("code", in: done.location))
    }

    static func formBody(_ fields: [String: String]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.sorted { $0.key < $1.key }.map { key, value in
            "\(key.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }.joined(separator: "&")
    }

    static func capture(_ pattern: String, in text: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let range = Range(match.range(at: 1), in: text)
        else { return nil }
        return String(text[range])
    }

    static func queryItem(_ name: String, in url: String?) -> String? {
        guard let url, let components = URLComponents(string: url) else { return nil }
        return components.queryItems?.first { $0.name == name }?.value
    }

}

enum OIDCCookie {
    static let name = "enclave_signin"
}

/// Accounts made straight in the store, as `enclave users add` would.
enum TestAccounts {
    static let password = "correct horse battery"

    /// A TREUser with a password and, when `secret` is given, an enrolled authenticator.
    @discardableResult
    static func create(
        _ enclave: TestEnclave, username: String = "rosa", roles: [String] = ["TREUser"], secret: String? = TOTPCode.generateSecret()
    ) async throws -> (account: UserAccount, secret: String?) {
        let account = UserAccount(
            id: UUID().uuidString.lowercased(), username: username, name: "Rosa Franklin", email: "\(username)@example.org",
            roles: roles, passwordHash: await PasswordHasher().hash(password),
            totpSecretSealed: try secret.map { try enclave.deps.controlPlane.secrets.seal(["totp": .string($0)]) },
            createdAt: Date().timeIntervalSince1970)
        try await enclave.deps.store.createUser(
            account,
            audit: AuditEntry(
                id: UUID().uuidString.lowercased(), time: account.createdAt, actor: .system, action: .userCreate,
                target: "/oidc/users/\(account.id)"))
        return (account, secret)
    }

    /// Audit records whose action starts with `prefix`, oldest first.
    static func audit(_ enclave: TestEnclave, _ prefix: String?) async throws -> [AuditRecord] {
        try await enclave.deps.store.auditRecords(AuditFilter(action: prefix), after: nil, limit: 1000)
    }
}

/// A fresh PKCE verifier (43+ unreserved characters).
func makeVerifier() -> String {
    (UUID().uuidString + UUID().uuidString).replacingOccurrences(of: "-", with: "").lowercased()
}

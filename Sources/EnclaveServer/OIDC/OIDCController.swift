import EnclaveAuth
import EnclaveCore
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore

/// The built-in OpenID Connect provider's endpoints under `/oidc`: discovery, JWKS, authorize (the
/// sign-in pages), token, userinfo, the first-admin setup link and invitation links.
struct OIDCController {
    let provider: BuiltInProvider
    let jwksJSON: String
    /// Verifies the provider's own access tokens for `/oidc/userinfo`.
    let verifier: TokenVerifier

    static let flowCookie = "enclave_signin"

    func register(on router: Router<EnclaveRequestContext>) {
        let oidc = router.group("oidc")
        oidc.get(".well-known/openid-configuration") { _, _ in discovery() }
        oidc.get("jwks") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: jwksJSON)))
        }
        oidc.get("authorize") { request, context in try await authorize(request, context: context) }
        oidc.post("authorize") { request, context in try await submit(request, context: context) }
        oidc.post("token") { request, context in try await token(request, context: context) }
        oidc.get("userinfo") { request, _ in try await userinfo(request) }
        oidc.get("setup") { request, _ in try await setup(request) }
        oidc.post("device_authorization") { request, context in try await deviceAuthorization(request, context: context) }
        oidc.get("device") { request, _ in try await device(request) }
        oidc.post("revoke") { request, context in try await revoke(request, context: context) }
        oidc.get("logout") { request, context in try await endSession(Self.query(request), context: context) }
        oidc.post("logout") { request, context in try await endSession(try await Self.form(request, context: context), context: context) }
        oidc.get("invitation") { request, context in try await invitation(request, context: context) }
    }

    private var issuer: String { provider.settings.issuer }

    private func discovery() -> Response {
        let document: [String: JSONValue] = [
            "issuer": .string(issuer),
            "authorization_endpoint": .string("\(issuer)/authorize"),
            "token_endpoint": .string("\(issuer)/token"),
            "userinfo_endpoint": .string("\(issuer)/userinfo"),
            "jwks_uri": .string("\(issuer)/jwks"),
            "response_types_supported": ["code"],
            "device_authorization_endpoint": .string("\(issuer)/device_authorization"),
            "revocation_endpoint": .string("\(issuer)/revoke"),
            "end_session_endpoint": .string("\(issuer)/logout"),
            "grant_types_supported": [
                "authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code",
            ],
            "code_challenge_methods_supported": ["S256"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
            "revocation_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "claims_supported": ["sub", "oid", "name", "email", "preferred_username", "roles", "amr", "iss", "aud", "exp", "nonce"],
        ]
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: JSONValue.object(document).description)))
    }

    private func authorize(_ request: Request, context: EnclaveRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        func value(_ name: String) -> String? { query[name[...]].map(String.init) }
        let validated: Result<AuthorizeRequest, AuthorizeRedirectError>
        do {
            validated = try await provider.validate(
                clientId: value("client_id"), redirectURI: value("redirect_uri"), responseType: value("response_type"),
                codeChallenge: value("code_challenge"), method: value("code_challenge_method"), state: value("state"),
                nonce: value("nonce"))
        } catch {
            try await provider.recordRefusedRequest(
                error.message, clientId: value("client_id"), redirectURI: value("redirect_uri"),
                address: context.remoteAddress ?? "unknown")
            return html(SignInPage.error(error.message), status: .badRequest)
        }
        switch validated {
        case .failure(let redirect):
            return Response(status: .found, headers: [.location: redirect.location])
        case .success(let authorize):
            let flow = await provider.begin(authorize)
            return html(
                SignInPage.render(flow.step, csrf: flow.csrf, action: "\(issuer)/authorize"), cookie: flow.flowId,
                redirectURI: authorize.redirectURI)
        }
    }

    private func setup(_ request: Request) async throws -> Response {
        let token = request.uri.queryParameters["token"].map(String.init) ?? ""
        do {
            let flow = try await provider.beginSetup(token: token)
            return html(SignInPage.render(flow.step, csrf: flow.csrf, action: "\(issuer)/authorize"), cookie: flow.flowId)
        } catch {
            return html(SignInPage.error(error.message), status: .forbidden)
        }
    }

    /// An invitation link (`POST /api/users`): the page where the invited user chooses a password.
    private func invitation(_ request: Request, context: EnclaveRequestContext) async throws -> Response {
        let token = request.uri.queryParameters["token"].map(String.init) ?? ""
        do {
            let flow = try await provider.beginInvitation(token: token, address: context.remoteAddress ?? "unknown")
            return html(SignInPage.render(flow.step, csrf: flow.csrf, action: "\(issuer)/authorize"), cookie: flow.flowId)
        } catch let error as EnclaveError {
            return html(SignInPage.error(error.message), status: HTTPResponse.Status(code: error.statusCode))
        }
    }

    private func submit(_ request: Request, context: EnclaveRequestContext) async throws -> Response {
        let form = try await Self.form(request, context: context)
        let flowId = Self.cookie(Self.flowCookie, in: request)
        do {
            let result = try await provider.submit(flowId: flowId, form: form, address: context.remoteAddress ?? "unknown")
            if case .redirect(let location) = result.step {
                var headers = HTTPFields()
                headers[.location] = location
                headers[.setCookie] = "\(Self.flowCookie)=; Path=/oidc; HttpOnly; SameSite=Lax; Max-Age=0"
                headers[.cacheControl] = "no-store"
                return Response(status: .seeOther, headers: headers)
            }
            return html(
                SignInPage.render(result.step, csrf: result.csrf, action: "\(issuer)/authorize"),
                cookie: result.flowId == flowId ? nil : result.flowId, redirectURI: await provider.redirectURI(flowId: result.flowId))
        } catch let error as EnclaveError {
            return html(SignInPage.error(error.message), status: HTTPResponse.Status(code: error.statusCode))
        }
    }

    private func token(_ request: Request, context: EnclaveRequestContext) async throws -> Response {
        let form = try await Self.form(request, context: context)
        let address = context.remoteAddress ?? "unknown"
        func required(_ names: String...) throws(OAuthError) -> [String] {
            let values = names.compactMap { form[$0].flatMap { $0.isEmpty ? nil : $0 } }
            guard values.count == names.count else {
                throw OAuthError(error: "invalid_request", description: "\(names.joined(separator: ", ")) are required")
            }
            return values
        }
        do {
            let tokens: TokenResponse
            switch form["grant_type"] {
            case "authorization_code":
                let v = try required("code", "client_id", "redirect_uri", "code_verifier")
                tokens = try await provider.redeem(code: v[0], clientId: v[1], redirectURI: v[2], verifier: v[3])
            case "refresh_token":
                let v = try required("refresh_token", "client_id")
                tokens = try await provider.refresh(token: v[0], clientId: v[1], address: address)
            case "client_credentials":
                guard let (clientId, secret) = Self.clientCredentials(request, form: form) else {
                    return json(
                        OAuthError(error: "invalid_client", description: "client_id and client_secret (form or HTTP Basic) are required"),
                        status: .unauthorized)
                }
                tokens = try await provider.clientCredentials(clientId: clientId, secret: secret, address: address)
            case "urn:ietf:params:oauth:grant-type:device_code":
                let v = try required("device_code", "client_id")
                tokens = try await provider.pollDevice(deviceCode: v[0], clientId: v[1])
            default:
                return json(
                    OAuthError(
                        error: "unsupported_grant_type",
                        description: "grant_type must be authorization_code, refresh_token, client_credentials or device_code"),
                    status: .badRequest)
            }
            return json(tokens, status: .ok)
        } catch let error as OAuthError {
            return json(error, status: error.error == "invalid_client" ? .unauthorized : .badRequest)
        }
    }

    /// `client_id` and `client_secret` from HTTP Basic (RFC 6749 §2.3.1, form-encoded inside) or the form.
    static func clientCredentials(_ request: Request, form: [String: String]) -> (String, String)? {
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("basic "),
            let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        {
            let id = String(text[..<colon]).removingPercentEncoding ?? ""
            let secret = String(text[text.index(after: colon)...]).removingPercentEncoding ?? ""
            return id.isEmpty || secret.isEmpty ? nil : (id, secret)
        }
        guard let id = form["client_id"], let secret = form["client_secret"], !id.isEmpty, !secret.isEmpty else { return nil }
        return (id, secret)
    }

    private func deviceAuthorization(_ request: Request, context: EnclaveRequestContext) async throws -> Response {
        let form = try await Self.form(request, context: context)
        do {
            return json(try await provider.startDeviceAuthorization(clientId: form["client_id"] ?? ""), status: .ok)
        } catch {
            return json(error, status: error.error == "invalid_client" ? .unauthorized : .badRequest)
        }
    }

    private func device(_ request: Request) async throws -> Response {
        guard let typed = request.uri.queryParameters["user_code"].map(String.init), !typed.isEmpty else {
            return html(SignInPage.deviceEntry(action: "\(issuer)/device", error: nil))
        }
        do {
            let flow = try await provider.beginDevice(userCode: typed)
            return html(SignInPage.render(flow.step, csrf: flow.csrf, action: "\(issuer)/authorize"), cookie: flow.flowId)
        } catch {
            return html(SignInPage.deviceEntry(action: "\(issuer)/device", error: error.message), status: .badRequest)
        }
    }

    private func revoke(_ request: Request, context: EnclaveRequestContext) async throws -> Response {
        let form = try await Self.form(request, context: context)
        guard let token = form["token"], let clientId = form["client_id"] else {
            return json(OAuthError(error: "invalid_request", description: "token and client_id are required"), status: .badRequest)
        }
        // RFC 7009 §2.2: 200 whether or not the token was known.
        try await provider.revoke(token: token, clientId: clientId, address: context.remoteAddress ?? "unknown")
        return Response(status: .ok, headers: [.cacheControl: "no-store"])
    }

    private func endSession(_ parameters: [String: String], context: EnclaveRequestContext) async throws -> Response {
        let target = try await provider.endSession(
            idTokenHint: parameters["id_token_hint"], postLogoutRedirectURI: parameters["post_logout_redirect_uri"],
            state: parameters["state"], address: context.remoteAddress ?? "unknown")
        if let target { return Response(status: .seeOther, headers: [.location: target, .cacheControl: "no-store"]) }
        return html(SignInPage.render(.done("You are signed out."), csrf: "", action: ""))
    }

    private func userinfo(_ request: Request) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw EnclaveError.unauthorized("Send Authorization: Bearer <access token>")
        }
        let user = try await verifier.verify(String(header.dropFirst(7)))
        let account = try await provider.account(id: user.id)
        let info: [String: JSONValue] = [
            "sub": .string(user.id), "oid": .string(user.id), "name": .string(user.name), "email": .string(user.email),
            "preferred_username": .string(account?.username ?? user.email), "roles": .array(user.roles.map(JSONValue.string)),
        ]
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: JSONValue.object(info).description)))
    }

    // MARK: Helpers

    /// A sign-in page; `redirectURI` is the flow's client redirect URI, which its forms may end at.
    private func html(_ text: String, status: HTTPResponse.Status = .ok, cookie: String? = nil, redirectURI: String? = nil) -> Response {
        var response = SignInPage.response(text, status: status, redirectURI: redirectURI)
        if let cookie {
            let secure = issuer.hasPrefix("https://") ? "; Secure" : ""
            response.headers[.setCookie] = "\(Self.flowCookie)=\(cookie); Path=/oidc; HttpOnly; SameSite=Lax; Max-Age=900\(secure)"
        }
        return response
    }

    private func json(_ value: some Encodable, status: HTTPResponse.Status) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// An `application/x-www-form-urlencoded` body (at most 64 KiB) as a dictionary.
    static func form(_ request: Request, context: EnclaveRequestContext) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        let text = String(buffer: buffer)
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            let key = decode(parts[0])
            if fields[key] == nil { fields[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return fields
    }

    /// The query's parameters as a dictionary (the first value of each name).
    static func query(_ request: Request) -> [String: String] {
        var fields: [String: String] = [:]
        for (key, value) in request.uri.queryParameters where fields[String(key)] == nil {
            fields[String(key)] = String(value)
        }
        return fields
    }

    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if pair.count == 2, pair[0] == name { return String(pair[1]) }
            }
        }
        return nil
    }
}

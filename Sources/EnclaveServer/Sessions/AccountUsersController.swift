import EnclaveAuth
import EnclaveCore
import EnclaveStore
import Foundation
import HTTPTypes
import Hummingbird

/// The account area's user management for admins (`/account/users`): the same changes as `/api/users`,
/// through `AccountAdministration` as the signed-in admin, from plain HTML forms that carry the session's
/// CSRF token. Each change answers with the page again (303 after success, so a reload does not repeat it),
/// and a refused change shows its reason and changes nothing.
struct AccountUsersController {
    let sessions: SessionManager
    let store: any Store
    let provider: BuiltInProvider
    let now: @Sendable () -> Double

    func register(on router: Router<EnclaveRequestContext>) {
        router.get("/account/users") { request, context in try await page(request, context: context) }
        router.post("/account/users") { request, context in try await invite(request, context: context) }
        router.post("/account/users/:userId/enabled") { request, context in try await setEnabled(request, context: context) }
        router.post("/account/users/:userId/roles") { request, context in try await changeRole(request, context: context) }
    }

    /// The signed-in admin and the form (CSRF checked), or the response that refuses the request.
    private func admin(_ request: Request, context: EnclaveRequestContext, form: [String: String]?) async throws
        -> Result<BrowserSession, HTTPError>
    {
        guard let cookie = OIDCController.cookie(SessionController.sessionCookie, in: request),
            let session = try await sessions.session(cookie: cookie)
        else { return .failure(HTTPError(.seeOther, headers: [.location: "/auth/login?return_to=%2Faccount%2Fusers"])) }
        let address = context.remoteAddress ?? "unknown"
        if let form, !ConstantTime.equals(form["csrf"] ?? "", session.csrf) {
            try await sessions.refuseCSRF(session, target: request.uri.path, address: address)
            return .failure(HTTPError(.forbidden, message: "The form is missing its CSRF token: reload the page and try again. Nothing was changed."))
        }
        guard Policy.decide(Actor(user: session.user), .manageUsers).isAllowed else {
            try await store.appendAudit([
                AuditEntry(
                    id: UUID().uuidString.lowercased(), time: now(), actor: AuditActor(session.user), action: .authDenied,
                    target: request.uri.path, outcome: .denied,
                    details: ["reason": "managing users needs the TREAdmin role", "address": .string(address)])
            ])
            return .failure(HTTPError(.forbidden, message: "Managing users needs the TREAdmin role."))
        }
        return .success(session)
    }

    private func administration(_ session: BrowserSession) -> AccountAdministration {
        AccountAdministration(store: store, actor: AuditActor(session.user), now: now)
    }

    private func page(_ request: Request, context: EnclaveRequestContext) async throws -> Response {
        switch try await admin(request, context: context, form: nil) {
        case .failure(let refusal): return respond(refusal)
        case .success(let session):
            let notice = request.uri.queryParameters["done"].map(String.init)
            return try await render(session, notice: notice.flatMap(Self.notices.index(forKey:)).map { Self.notices[$0].value }, error: nil)
        }
    }

    /// Fixed messages for `?done=`: the query never carries text that the page would show.
    static let notices = ["enabled": "The account was enabled.", "disabled": "The account was disabled.", "role": "The roles were changed."]

    private func invite(_ request: Request, context: EnclaveRequestContext) async throws -> Response {
        let form = try await OIDCController.form(request, context: context)
        switch try await admin(request, context: context, form: form) {
        case .failure(let refusal): return respond(refusal)
        case .success(let session):
            do {
                let issued = try await administration(session).invite(
                    username: form["username"] ?? "", name: form["name"] ?? "", email: form["email"] ?? "",
                    roles: [form["role"] ?? CoreRole.treUser.rawValue])
                let link = provider.invitationURL(token: issued.token)
                let until = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: issued.expiresAt))
                return try await render(
                    session,
                    notice: "Invited \(issued.account.username). Send them this link (shown only now, valid until \(until)): \(link)",
                    error: nil, status: .created)
            } catch let error as EnclaveError {
                return try await render(session, notice: nil, error: error.message, status: HTTPResponse.Status(code: error.statusCode))
            }
        }
    }

    private func setEnabled(_ request: Request, context: EnclaveRequestContext) async throws -> Response {
        let form = try await OIDCController.form(request, context: context)
        switch try await admin(request, context: context, form: form) {
        case .failure(let refusal): return respond(refusal)
        case .success(let session):
            let enabled = form["enabled"] == "true"
            return try await change(session) {
                _ = try await administration(session).setEnabled(.id(try context.parameters.require("userId")), enabled)
                return enabled ? "enabled" : "disabled"
            }
        }
    }

    private func changeRole(_ request: Request, context: EnclaveRequestContext) async throws -> Response {
        let form = try await OIDCController.form(request, context: context)
        switch try await admin(request, context: context, form: form) {
        case .failure(let refusal): return respond(refusal)
        case .success(let session):
            return try await change(session) {
                let id = try context.parameters.require("userId")
                let role = form["role"] ?? ""
                switch form["change"] {
                case "add": _ = try await administration(session).addRole(.id(id), role)
                case "remove": _ = try await administration(session).removeRole(.id(id), role)
                default: throw EnclaveError.badRequest("The form must say whether to add or remove the role")
                }
                return "role"
            }
        }
    }

    /// Runs a change: 303 back to the list on success, the list with the reason on refusal.
    private func change(_ session: BrowserSession, _ body: () async throws -> String) async throws -> Response {
        do {
            let done = try await body()
            return Response(status: .seeOther, headers: [.location: "/account/users?done=\(done)", .cacheControl: "no-store"])
        } catch let error as EnclaveError {
            return try await render(session, notice: nil, error: error.message, status: HTTPResponse.Status(code: error.statusCode))
        }
    }

    private func render(_ session: BrowserSession, notice: String?, error: String?, status: HTTPResponse.Status = .ok) async throws
        -> Response
    {
        let users = UserDirectory.users(accounts: try await store.users(), seen: try await store.seenUsers())
        let csrf = SignInPage.escape(session.csrf)
        let roleOptions = CoreRole.allCases.map { "<option>\($0.rawValue)</option>" }.joined()
        var rows = ""
        for user in users {
            let id = SignInPage.escape(user.id)
            var actions = "managed by the identity provider"
            if user.source == .builtin {
                let toggle = """
                    <form method="post" action="/account/users/\(id)/enabled"><input type="hidden" name="csrf" value="\(csrf)">\
                    <input type="hidden" name="enabled" value="\(user.enabled ? "false" : "true")">\
                    <button type="submit">\(user.enabled ? "Disable" : "Enable")</button></form>
                    """
                let removes = user.roles.map { role in
                    """
                    <form method="post" action="/account/users/\(id)/roles"><input type="hidden" name="csrf" value="\(csrf)">\
                    <input type="hidden" name="change" value="remove"><input type="hidden" name="role" value="\(SignInPage.escape(role))">\
                    <button type="submit">Remove \(SignInPage.escape(role))</button></form>
                    """
                }.joined()
                let add = """
                    <form method="post" action="/account/users/\(id)/roles"><input type="hidden" name="csrf" value="\(csrf)">\
                    <input type="hidden" name="change" value="add"><label>Role <select name="role">\(roleOptions)</select></label>\
                    <button type="submit">Add role</button></form>
                    """
                actions = toggle + removes + add
            }
            rows += """
                <tr><td>\(SignInPage.escape(user.username))</td><td>\(SignInPage.escape(user.name))</td>\
                <td>\(SignInPage.escape(user.roles.joined(separator: ", ")))</td><td>\(user.enabled ? "yes" : "no")</td>\
                <td>\(user.source.rawValue)</td><td>\(actions)</td></tr>
                """
        }
        let body = """
            \(notice.map { "<p class=\"notice\" role=\"status\">\(SignInPage.escape($0))</p>" } ?? "")
            <table><thead><tr><th>Username</th><th>Name</th><th>Roles</th><th>Enabled</th><th>Source</th><th>Change</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            <h2>Invite a user</h2>
            <form method="post" action="/account/users"><input type="hidden" name="csrf" value="\(csrf)">
            <label>Username <input name="username" required></label>
            <label>Name <input name="name"></label>
            <label>Email <input name="email" type="email" required></label>
            <label>Role <select name="role">\(roleOptions)</select></label>
            <button type="submit">Invite</button>
            </form>
            <p><a href="/account">Back to your account</a></p>
            """
        return SignInPage.response(SignInPage.page("Users", error: error, body: body), status: status)
    }

    private func respond(_ refusal: HTTPError) -> Response {
        if refusal.status == .seeOther {
            var headers = refusal.headers
            headers[.cacheControl] = "no-store"
            return Response(status: .seeOther, headers: headers)
        }
        let html = SignInPage.page("Not allowed", error: refusal.body ?? "", body: "<p><a href=\"/account\">Back to your account</a></p>")
        return SignInPage.response(html, status: refusal.status)
    }
}

import EnclaveAuth
import EnclaveCore
import EnclavePortal
import EnclaveStore
import Foundation
import HTTPTypes
import Hummingbird

/// `/account`, for every signed-in user: who they are to Enclave (name, email, core roles, workspace roles),
/// how and until when they are signed in, and, for built-in accounts, their second factor: how many
/// recovery codes are left and a form that replaces them (after a current authenticator code).
///
/// Replacing the authenticator itself needs an administrator (`enclave users reset-mfa`), after which the
/// user enrolls again at the next sign-in: the provider has no enrollment from a signed-in session yet.
struct AccountPage: Sendable {
    let portal: Portal
    let provider: BuiltInProvider

    func register(on pages: RouterGroup<PortalContext>) {
        pages.get("/account") { request, context in try await account(request, context) }
        pages.post("/account/recovery-codes") { request, context in try await regenerate(request, context) }
    }

    struct View {
        var csrf: String
        var name: String
        var email: String
        var userId: String
        var roles: String
        var signedInWith: String
        var idleMinutes: Int
        var sessionEnds: String
        var isAdmin: Bool
        var workspaces: [Workspace]
        var mfa: MFA
    }

    struct Workspace {
        var id: String
        var name: String
        var roles: String
    }

    /// The second-factor section: for built-in accounts with an authenticator, the renewal form.
    struct MFA {
        var external: Bool
        var authenticator: Bool
        var recoveryCodesLeft: Int
        var fewLeft: Bool
        var codeError: String?
    }

    struct CodesView {
        var codes: [String]
    }

    func account(_ request: Request, _ context: PortalContext) async throws -> Response {
        try await render(request, context, codeError: nil)
    }

    func render(_ request: Request, _ context: PortalContext, codeError: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let session = context.session
        let user = context.user
        let roles = try await portal.store.workspaceRoles(userId: user.id)
        var workspaces: [Workspace] = []
        if !roles.isEmpty {
            for workspace in try await portal.store.resources(ResourceFilter(type: .workspace)) {
                guard let held = roles[workspace.id] else { continue }
                workspaces.append(
                    Workspace(id: workspace.id, name: PortalText.displayName(workspace), roles: PortalText.roles(held, admin: false) ?? ""))
            }
        }
        workspaces.sort { $0.name.localizedCaseInsensitiveCompare($1.name) == .orderedAscending }
        let view = View(
            csrf: session.csrf, name: user.name, email: user.email, userId: user.id,
            roles: user.roles.isEmpty ? "none" : user.roles.joined(separator: ", "),
            signedInWith: Self.signedInWith(session, builtIn: isBuiltIn(session)),
            idleMinutes: Int(portal.sessions.policy.idle / 60),
            sessionEnds: Portal.time(session.createdAt + portal.sessions.policy.absolute), isAdmin: Actor(user: user).isAdmin,
            workspaces: workspaces, mfa: try await mfa(session, codeError: codeError))
        let layout = try await portal.layout(context, request: request, title: "Your account", section: "account")
        return portal.page("account", view, layout: layout, status: status)
    }

    /// Whether the session's user is an account of the built-in provider (not of an external provider).
    func isBuiltIn(_ session: BrowserSession) -> Bool { session.issuer == provider.settings.issuer }

    func mfa(_ session: BrowserSession, codeError: String?) async throws -> MFA {
        guard isBuiltIn(session), let account = try await portal.store.user(id: session.user.id) else {
            return MFA(external: true, authenticator: false, recoveryCodesLeft: 0, fewLeft: false, codeError: nil)
        }
        let left = account.recoveryCodeHashes.count
        return MFA(
            external: false, authenticator: account.totpSecretSealed != nil, recoveryCodesLeft: left, fewLeft: left < 3, codeError: codeError)
    }

    static func signedInWith(_ session: BrowserSession, builtIn: Bool) -> String {
        let methods = session.amr.map { method in
            switch method {
            case AMR.password: "password"
            case AMR.otp: "authenticator code"
            default: method
            }
        }
        let provider = builtIn ? "Enclave's sign-in" : "your identity provider (\(session.issuer))"
        return methods.isEmpty ? provider : "\(methods.joined(separator: " + ")) at \(provider)"
    }

    /// Replaces the recovery codes after a current TOTP code; the new codes are shown on this answer only
    /// (never stored in the clear, never in a redirect), so reloading it cannot show them again.
    func regenerate(_ request: Request, _ context: PortalContext) async throws -> Response {
        let form = try await portal.form(request, context: context)
        guard isBuiltIn(context.session) else {
            throw EnclaveError.badRequest("Your sign-in and recovery codes are managed by your identity provider.")
        }
        let result = try await provider.regenerateRecoveryCodes(
            userId: context.user.id, code: form["code"] ?? "", address: context.remoteAddress ?? "unknown")
        switch result {
        case .success(let codes):
            let layout = try await portal.layout(
                context, request: request, title: "Your new recovery codes", section: "account",
                breadcrumbs: [PageLayout.Link("Your account", "/account")])
            return portal.page("account-recovery-codes", CodesView(codes: codes), layout: layout)
        case .failure(let refusal):
            return try await render(request, context, codeError: refusal.message, status: .unprocessableContent)
        }
    }
}

import EnclaveAuth
import EnclaveCore
import EnclaveStore
import Foundation
import Hummingbird

/// `/api/users/…` (TREAdmin): the TRE's users — built-in provider accounts and users seen on requests
/// from other issuers — and, for built-in accounts, invitations, enabling and core roles. Also Azure
/// TRE's `GET /api/workspaces/{id}/assignable-users`, the same directory as the workspace user picker
/// sees it.
///
/// Every change goes through `AccountAdministration` as the calling admin, so it is checked, written and
/// audited in one transaction; external users are read-only here (their identity provider manages them).
struct UsersController: Sendable {
    let store: any Store
    let access: Access
    let provider: BuiltInProvider
    let now: @Sendable () -> Double

    func register(on group: RouterGroup<AuthenticatedContext>) {
        group.get("users", use: list)
        group.post("users", use: invite)
        group.get("users/:userId", use: get)
        group.patch("users/:userId", use: patch)
        group.post("users/:userId/invitation", use: reinvite)
        group.post("users/:userId/roles", use: addRole)
        group.delete("users/:userId/roles/:role", use: removeRole)
        group.get("workspaces/:workspaceId/assignable-users", use: assignable)
    }

    func administration(_ context: AuthenticatedContext) -> AccountAdministration {
        AccountAdministration(store: store, actor: AuditActor(context.user), requestId: context.requestId, now: now)
    }

    /// Everyone, built-in accounts first.
    func directory() async throws -> [DirectoryUser] {
        UserDirectory.users(accounts: try await store.users(), seen: try await store.seenUsers())
    }

    /// The user named by the `userId` path parameter; 404 when Enclave knows no such user.
    func user(_ context: AuthenticatedContext) async throws -> DirectoryUser {
        let id = try context.parameters.require("userId")
        let seen = try await store.seenUsers().first { $0.user.id == id }
        if let account = try await store.user(id: id) { return DirectoryUser(account: account, lastSeen: seen?.lastSeen) }
        if let seen { return DirectoryUser(seen: seen) }
        throw EnclaveError.notFound("No user has the id '\(id)': GET /api/users lists them")
    }

    /// The user named by the path, which must be a built-in account: external users are changed at their provider.
    func builtInAccount(_ context: AuthenticatedContext, change: String) async throws -> DirectoryUser {
        let user = try await user(context)
        guard user.source == .builtin else {
            throw EnclaveError.conflict(
                "'\(user.username)' is managed by the identity provider that signs their tokens, not by Enclave: \(change) there")
        }
        return user
    }

    struct One: Encodable {
        var user: DirectoryUser
    }

    /// `{"user": …}` for the account as stored after a change.
    func respond(_ account: UserAccount, status: HTTPResponse.Status = .ok) async throws -> Response {
        let seen = try await store.seenUsers().first { $0.user.id == account.id }
        return try JSONBody.response(One(user: DirectoryUser(account: account, lastSeen: seen?.lastSeen)), status: status)
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try access.require(Actor(user: context.user), .readUsers)
        let filter = request.uri.queryParameters.get("filter") ?? ""
        return try JSONBody.response(Envelope("users", try await directory().filter { $0.matches(filter) }))
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try access.require(Actor(user: context.user), .readUsers)
        return try JSONBody.response(One(user: try await user(context)))
    }

    struct InviteBody: Decodable {
        var username: String
        var name: String?
        var email: String
        var roles: [String]?
    }

    struct Invited: Encodable {
        var user: DirectoryUser
        var invitationUrl: String
        var expiresAt: Double
    }

    func invited(_ issued: AccountAdministration.IssuedInvitation) throws -> Response {
        try JSONBody.response(
            Invited(
                user: DirectoryUser(account: issued.account, lastSeen: nil),
                invitationUrl: provider.invitationURL(token: issued.token), expiresAt: issued.expiresAt),
            status: .created)
    }

    @Sendable func invite(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try access.require(Actor(user: context.user), .manageUsers)
        let body = try await JSONBody.decode(InviteBody.self, from: request)
        let issued = try await administration(context).invite(
            username: body.username, name: body.name ?? "", email: body.email, roles: body.roles ?? [CoreRole.treUser.rawValue])
        return try invited(issued)
    }

    @Sendable func reinvite(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try access.require(Actor(user: context.user), .manageUsers)
        let user = try await builtInAccount(context, change: "invite them")
        return try invited(try await administration(context).reissueInvitation(.id(user.id)))
    }

    @Sendable func patch(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try access.require(Actor(user: context.user), .manageUsers)
        let body = try await JSONBody.decode([String: JSONValue].self, from: request)
        guard body.count == 1, case .bool(let enabled)? = body["enabled"] else {
            throw EnclaveError.unprocessable("The body must be {\"enabled\": true} or {\"enabled\": false}, with no other field")
        }
        let user = try await builtInAccount(context, change: "disable or enable them")
        return try await respond(try await administration(context).setEnabled(.id(user.id), enabled))
    }

    struct RoleBody: Decodable {
        var role: String
    }

    @Sendable func addRole(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try access.require(Actor(user: context.user), .manageUsers)
        // The role is checked before the user is looked up, so a bad role is a 400 whoever it was meant for.
        let role = try CoreRole.named(try await JSONBody.decode(RoleBody.self, from: request).role).rawValue
        let user = try await builtInAccount(context, change: "their roles come from its tokens, so change them")
        return try await respond(try await administration(context).addRole(.id(user.id), role))
    }

    @Sendable func removeRole(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try access.require(Actor(user: context.user), .manageUsers)
        let role = try CoreRole.named(try context.parameters.require("role")).rawValue
        let user = try await builtInAccount(context, change: "their roles come from its tokens, so change them")
        return try await respond(try await administration(context).removeRole(.id(user.id), role))
    }

    /// Azure TRE's assignable user: `displayName` and `userPrincipalName` as Microsoft Graph names them;
    /// `name` repeats `displayName` for clients that read that.
    struct AssignableUser: Encodable {
        var id: String
        var displayName: String
        var userPrincipalName: String
        var email: String
        var name: String
    }

    static let defaultResultCount = 5
    static let maxResultCount = 1000

    @Sendable func assignable(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let id = try requireUUID(context, "workspaceId")
        let (_, actor) = try await access.workspace(id, user: context.user)
        try access.require(actor, .manageWorkspaceUsers)
        let query = request.uri.queryParameters
        let filter = query.get("filter") ?? ""
        let count = try query.get("maxResultCount").flatMap { $0.isEmpty ? nil : $0 }.map {
            try AuditController.integer($0, parameter: "maxResultCount", range: 1...Self.maxResultCount)
        } ?? Self.defaultResultCount
        let users = try await directory().filter { $0.enabled && $0.matches(filter) }.prefix(count).map {
            AssignableUser(id: $0.id, displayName: $0.name, userPrincipalName: $0.username, email: $0.email, name: $0.name)
        }
        return try JSONBody.response(Envelope("assignable_users", Array(users)))
    }
}

public import EnclaveCore

/// Resources of all four types, with soft delete: deleted ones are invisible to every read here.
public protocol ResourceRepository: Sendable {
    /// A non-deleted resource, or nil.
    func resource(id: String) async throws -> Resource?
    /// A resource even when soft-deleted (operations and history of deleted resources stay readable to the engine).
    func resourceIncludingDeleted(id: String) async throws -> Resource?
    func resources(_ filter: ResourceFilter) async throws -> [Resource]
    func history(resourceId: String) async throws -> [ResourceHistoryItem]
    /// The sealed sensitive values of a resource (see `SecretBox`), or nil when it has none.
    func sealedSecrets(resourceId: String) async throws -> String?
}

/// Which resources to list. Every filter excludes soft-deleted resources.
public struct ResourceFilter: Sendable, Hashable {
    public var type: ResourceType?
    public var workspaceId: String?
    public var parentServiceId: String?
    public var templateName: String?
    public var ownerId: String?
    public var ids: [String]?

    public init(
        type: ResourceType? = nil, workspaceId: String? = nil, parentServiceId: String? = nil,
        templateName: String? = nil, ownerId: String? = nil, ids: [String]? = nil
    ) {
        self.type = type
        self.workspaceId = workspaceId
        self.parentServiceId = parentServiceId
        self.templateName = templateName
        self.ownerId = ownerId
        self.ids = ids
    }
}

/// Registered templates (Azure TRE's `ResourceTemplates`): many versions per name, one current.
public protocol TemplateRepository: Sendable {
    /// Adds a version, with its audit record in the same transaction. Throws 409 if name+version exists; when
    /// `current`, the previous current version is demoted in the same transaction; the first version of a name is
    /// always current.
    func register(_ template: ResourceTemplate, audit: AuditEntry) async throws -> ResourceTemplate
    /// Versions of a template; `parent` scopes user-resource templates to their workspace-service template.
    func templates(type: ResourceType, name: String?, parent: String?) async throws -> [ResourceTemplate]
    /// Only the registered version strings of one template: `availableUpgrades` needs no schemas.
    func templateVersions(type: ResourceType, name: String, parent: String?) async throws -> [String]
}

/// Operations and their steps.
public protocol OperationRepository: Sendable {
    func operation(id: String) async throws -> ResourceOperation?
    func operations(resourceId: String) async throws -> [ResourceOperation]
    /// Operations on a workspace and on every resource ever in it (deleted ones too), newest first, at most
    /// `limit`: one query for pages that show a whole workspace's activity.
    func operations(workspaceId: String, limit: Int) async throws -> [ResourceOperation]
    /// The caller's own in-flight operations, oldest first.
    func inFlightOperations(userId: String) async throws -> [ResourceOperation]
    /// Counts by status, for `/metrics`.
    func operationCounts() async throws -> [String: Int]
}

/// Who holds which role in which workspace, and every user the control plane has seen.
///
/// Roles change only through `ChangeSet.assignRoles`/`unassignRoles`, so every change commits with its audit record.
public protocol IdentityRepository: Sendable {
    func assignments(workspaceId: String) async throws -> [RoleAssignment]
    func roles(userId: String, workspaceId: String) async throws -> Set<WorkspaceRole>
    /// Workspace ids where the user holds any role.
    func workspaceIds(userId: String) async throws -> Set<String>
    /// Every workspace role the user holds, by workspace id, in one query (list pages and the portal's
    /// navigation need them all; asking workspace by workspace would be one query each).
    func workspaceRoles(userId: String) async throws -> [String: Set<WorkspaceRole>]
    /// Records the user's latest name and email (called on authenticated requests).
    func recordUserSeen(_ user: User, now: Double) async throws
    func knownUsers(ids: [String]) async throws -> [User]
    /// Every user seen on a request, with when they were first and last seen.
    func seenUsers() async throws -> [SeenUser]
}

/// A role held by a user in one workspace.
public struct RoleAssignment: Sendable, Hashable, Codable {
    public var workspaceId: String
    public var userId: String
    public var role: WorkspaceRole

    public init(workspaceId: String, userId: String, role: WorkspaceRole) {
        self.workspaceId = workspaceId
        self.userId = userId
        self.role = role
    }
}

/// Accounts of the built-in identity provider. Every change commits with its audit records, so a sign-in
/// failure counted toward lockout and its audit record cannot be separated.
public protocol AccountRepository: Sendable {
    /// Throws 409 when the username (ignoring case) is taken.
    func createUser(_ account: UserAccount, audit: AuditEntry) async throws
    func user(id: String) async throws -> UserAccount?
    /// `username` already normalized (`UserAccount.normalize`).
    func user(username: String) async throws -> UserAccount?
    /// Every account, by username.
    func users() async throws -> [UserAccount]
    /// Replaces an account (404 when it does not exist), appending `audit` in the same transaction.
    func updateUser(_ account: UserAccount, audit: [AuditEntry]) async throws
    /// Reads an account and every account, and writes what `change` makes of them, in one write
    /// transaction: no other writer (in this process or another) can change an account between the
    /// read and the write, so rules over all accounts (the last TREAdmin) hold under concurrency.
    ///
    /// - Returns: the account as stored afterwards.
    /// - Throws: 404 when there is no such account; whatever `change` throws, and then nothing is written.
    func modifyUser(
        id: String, _ change: @escaping @Sendable (_ account: UserAccount, _ all: [UserAccount]) throws -> AccountChange
    ) async throws -> UserAccount
    /// Creates an account with its invitation and audit records in one transaction; 409 when the username is taken.
    func createUser(_ account: UserAccount, invitation: Invitation, audit: [AuditEntry]) async throws
    /// The invitation whose token has this SHA-256 (used or not), or nil.
    func invitation(tokenHash: String) async throws -> Invitation?
    /// Spends an invitation: in one write transaction checks it (`Invitation.refusal`), writes what
    /// `redeem` makes of the account, and marks the invitation used. A refusal writes nothing (the caller
    /// audits it), so of two concurrent redemptions of one link exactly one succeeds.
    func redeemInvitation(
        tokenHash: String, now: Double, _ redeem: @escaping @Sendable (UserAccount) throws -> AccountChange
    ) async throws -> InvitationRedemption
}

/// What `AccountRepository.modifyUser` writes for one account.
public struct AccountChange: Sendable {
    /// The account's new state; nil leaves it as it is.
    public var account: UserAccount?
    /// Replaces the account's invitation (and so invalidates an earlier link).
    public var invitation: Invitation?
    /// Records describing the change, appended in the same transaction.
    public var audit: [AuditEntry]

    public init(account: UserAccount? = nil, invitation: Invitation? = nil, audit: [AuditEntry] = []) {
        self.account = account
        self.invitation = invitation
        self.audit = audit
    }

    /// Nothing to write: the account already is as asked.
    public static let unchanged = AccountChange()
}

/// The outcome of `AccountRepository.redeemInvitation`.
public enum InvitationRedemption: Sendable, Hashable {
    /// The account as stored after the change.
    case redeemed(UserAccount)
    /// Nothing was written; `account` is the invited account when the token was known.
    case refused(Invitation.Refusal, account: UserAccount?)
}

/// What proves a caller signed in, beyond their token: browser sessions, refresh tokens and automation
/// clients. Only hashes of the secrets are stored. Every change commits with its audit records.
public protocol CredentialRepository: Sendable {
    func createSession(_ session: BrowserSession, audit: [AuditEntry]) async throws
    /// A session by the SHA-256 of its cookie, ended or not.
    func session(id: String) async throws -> BrowserSession?
    /// Records activity (only ever moves `lastSeenAt` forward).
    func touchSession(id: String, at time: Double) async throws
    /// Ends a session; false (and no audit) when it had already ended or does not exist.
    func endSession(id: String, at time: Double, audit: [AuditEntry]) async throws -> Bool
    /// Ends every live session of a user (account disabled) and revokes their refresh tokens; returns how many
    /// sessions ended.
    func endCredentials(userId: String, at time: Double, audit: [AuditEntry]) async throws -> Int

    func saveRefreshToken(_ token: RefreshToken, audit: [AuditEntry]) async throws
    func refreshToken(id: String) async throws -> RefreshToken?
    /// In one write transaction: if the token may still be used by `clientId`, marks it spent and stores the
    /// successor that `successor` makes from it; if it was already spent, revokes its whole family and appends
    /// `reuseAudit`. Concurrent rotations of one token therefore succeed at most once.
    func rotateRefreshToken(
        id: String, clientId: String, now: Double, successor: @escaping @Sendable (RefreshToken) -> RefreshToken,
        audit: @escaping @Sendable (RefreshToken) -> [AuditEntry], reuseAudit: @escaping @Sendable (RefreshToken) -> [AuditEntry]
    ) async throws -> RefreshRotation
    /// Revokes the family of a token (RFC 7009); false when the token is unknown.
    func revokeRefreshFamily(ofToken id: String, at time: Double, audit: [AuditEntry]) async throws -> Bool
    /// Revokes every live refresh token of a user for one client (end-session); returns how many.
    func revokeRefreshTokens(userId: String, clientId: String, at time: Double, audit: [AuditEntry]) async throws -> Int

    /// Throws 409 when the id is taken.
    func createClient(_ client: AutomationClient, audit: AuditEntry) async throws
    func client(id: String) async throws -> AutomationClient?
    func clients() async throws -> [AutomationClient]
    func updateClient(_ client: AutomationClient, audit: [AuditEntry]) async throws
}

/// The append-only, hash-chained audit log.
///
/// There is deliberately no way to change or remove a record. Records that describe a change are appended by
/// `commit` (`ChangeSet.appendAudit`) in the change's own transaction; the store assigns each its sequence
/// number and hashes inside the write transaction, after the last record's hash, so concurrent writers —
/// even in other processes — extend one chain.
public protocol AuditRepository: Sendable {
    /// Appends records that accompany no other change (denials).
    func appendAudit(_ entries: [AuditEntry]) async throws
    /// Records matching the filter with a sequence number greater than `after`, oldest first, at most `limit`.
    /// With an empty filter this pages through the whole chain, as verification needs.
    func auditRecords(_ filter: AuditFilter, after: Int?, limit: Int) async throws -> [AuditRecord]
}

/// Which audit records to read. Every set field must match.
public struct AuditFilter: Sendable, Hashable {
    public var actorId: String?
    /// An action (`resource.create`) or a family of them by dotted prefix (`resource`).
    public var action: String?
    /// A target, or everything under it by path prefix (`/workspaces/{id}` includes its services).
    public var target: String?
    /// Inclusive lower bound, seconds since 1970.
    public var from: Double?
    /// Exclusive upper bound, seconds since 1970.
    public var to: Double?

    public init(actorId: String? = nil, action: String? = nil, target: String? = nil, from: Double? = nil, to: Double? = nil) {
        self.actorId = actorId
        self.action = action
        self.target = target
        self.from = from
        self.to = to
    }
}

/// The whole persistent state of a control plane, behind one protocol so SQLite and PostgreSQL are interchangeable.
public protocol Store: ResourceRepository, TemplateRepository, OperationRepository, IdentityRepository, AuditRepository,
    AccountRepository, CredentialRepository, AirlockRepository, NotificationRepository, StepQueue
{
    /// Applies a change set atomically: all of it or none of it, audit records included.
    ///
    /// - Throws: `EnclaveError.staleEtag` (409) when an update's expected etag no longer matches;
    ///   `EnclaveError.notFound` when a role to unassign is not held;
    ///   `StoreError.leaseLost` when a job the change completes is no longer held by that worker.
    func commit(_ changes: ChangeSet) async throws
    /// A non-deleted resource and the roles a user holds in the workspace with the same id, read together.
    ///
    /// Workspace routes need both on every request; one read instead of two halves the thread hops.
    func resourceAndRoles(id: String, userId: String) async throws -> (resource: Resource, roles: Set<WorkspaceRole>)?
    /// nil when the store answers; else what is wrong (for `/api/health`).
    func healthProblem() async -> String?
}

public enum StoreError: Error, Sendable, Hashable {
    /// The worker's lease on a step expired and another worker (or the reaper) took it over.
    case leaseLost(jobId: String)
}

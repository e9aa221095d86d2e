/// Who did something that the audit log records: a signed-in user, or Enclave itself (start-up
/// registration of built-in templates, and later the engine).
public struct AuditActor: Codable, Sendable, Hashable {
    /// The user's `oid`, or `system:enclave` for Enclave itself (a value no identity provider issues as an oid).
    public var id: String
    public var name: String

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }

    public init(_ user: User) {
        self.init(id: user.id, name: user.name)
    }

    /// Enclave acting on its own behalf.
    public static let system = AuditActor(id: "system:enclave", name: "Enclave")
}

/// The closed set of things the audit log records. Each raw value is `subject.verb`, so a dotted
/// prefix (`resource`) selects a family in `GET /api/audit?action=`.
///
/// Adding a case is a compatible change; renaming one is not (old records keep the old string and
/// would no longer decode).
public enum AuditAction: String, Codable, Sendable, Hashable, CaseIterable {
    /// A resource (workspace, service, user resource, shared service) was created: its install operation was queued.
    case resourceCreate = "resource.create"
    /// A resource's properties, enabled flag or template version were changed.
    case resourceUpdate = "resource.update"
    /// A resource (and its descendants) was queued for deletion.
    case resourceDelete = "resource.delete"
    /// A template's custom action was invoked on a resource.
    case resourceAction = "resource.action"
    /// Users were given a workspace role.
    case roleAssign = "role.assign"
    /// A user lost a workspace role.
    case roleUnassign = "role.unassign"
    /// A template version was registered (by an admin, or at start-up by Enclave).
    case templateRegister = "template.register"
    /// An authenticated caller was refused (HTTP 403).
    case authDenied = "auth.denied"
    /// A sign-in attempt at the built-in provider: password step, recovery code, or a completed sign-in
    /// (outcome `failed` for a wrong password, `denied` for a locked or disabled account or a PKCE mismatch).
    case signIn = "auth.sign_in"
    /// A wrong TOTP or recovery code after a correct password.
    case signInMFAFailure = "auth.mfa_failure"
    /// An account was locked after too many failures in a row.
    case accountLock = "auth.lockout"
    /// An authorization code was presented a second time.
    case codeReplay = "auth.code_replay"
    /// A request to the built-in provider was refused before any account was involved: an unregistered
    /// client or redirect URI, a form without its CSRF token, or a post to an unknown or expired sign-in.
    case signInRefused = "auth.request_refused"
    /// A built-in provider account was created (setup link or `enclave users add`).
    case userCreate = "user.create"
    /// A user enrolled an authenticator (TOTP).
    case userMFAEnroll = "user.mfa_enroll"
    /// A user replaced their recovery codes from the account page (after typing a current TOTP code).
    case userRecoveryCodes = "user.recovery_codes"
    /// An operator changed an account: disabled, enabled, reset its password or its authenticator.
    case userUpdate = "user.update"
    /// A refresh token was exchanged for new tokens (rotation).
    case tokenRefresh = "auth.token_refresh"
    /// A spent refresh token was presented again: its whole family was revoked.
    case tokenReuse = "auth.token_reuse"
    /// Tokens were issued to an automation client (`client_credentials`), or its secret was refused.
    case clientSignIn = "auth.client_sign_in"
    /// A device code (`enclave login` without a browser) was approved by a signed-in user.
    case deviceApprove = "auth.device_approve"
    /// A browser session began (after the provider's sign-in), with its issuer and `amr`.
    case sessionStart = "auth.session_start"
    /// A session ended: sign-out, idle or absolute timeout, or the account was disabled.
    case signOut = "auth.sign_out"
    /// Refresh tokens were revoked (RFC 7009 revocation, end-session).
    case tokenRevoke = "auth.token_revoke"
    /// An automation client was registered or changed by an operator.
    case clientUpdate = "client.update"
    /// A built-in account was given a core role (`TREAdmin`, `TREUser`).
    case userRoleAdd = "user.role_add"
    /// A built-in account lost a core role.
    case userRoleRemove = "user.role_remove"
    /// An invitation link was issued for an account without a password (first issue or re-issue).
    case userInvite = "user.invite"
    /// An invited user chose a password through the invitation link, which is then spent.
    case invitationAccept = "user.invitation_accept"
    /// An invitation link was refused: unknown or superseded, already used (a replay), expired, or its
    /// account disabled or no longer waiting for a password.
    case invitationRefused = "auth.invitation_refused"
    /// The gateway opened a connection to a workspace service or user resource for a user: one record per
    /// WebSocket, and one per user and resource for plain HTTP until the user has been idle there for a while.
    case gatewayConnect = "gateway.connect"
    /// A gateway WebSocket closed (with its duration and message counts).
    case gatewayDisconnect = "gateway.disconnect"
    /// An airlock request was created (a draft).
    case airlockCreate = "airlock.create"
    /// A file of an airlock request was uploaded (completely), added from workspace storage, or deleted from a draft.
    case airlockFileUpload = "airlock.file_upload"
    case airlockFileDelete = "airlock.file_delete"
    /// Someone downloaded or previewed a file of a request.
    case airlockDownload = "airlock.download"
    case airlockPreview = "airlock.preview"
    /// A signed link to a request's files was issued (`GET …/link`).
    case airlockLink = "airlock.link"
    /// A request changed status (submit, cancel, the processor's moves), with the previous and new status.
    case airlockStatusChange = "airlock.status_change"
    /// The malware scan or the output checks of a request finished (verdict per file).
    case airlockScan = "airlock.scan"
    case airlockCheck = "airlock.check"
    /// A reviewer voted; a manager revoked an approval.
    case airlockReview = "airlock.review"
    case airlockRevoke = "airlock.revoke"
    /// A request's data was deleted from a stage (retention, cancel, revoke, download limits): SATRE's proof of deletion.
    case airlockDataDelete = "airlock.data_delete"
}

/// How the recorded attempt ended.
public enum AuditOutcome: String, Codable, Sendable, Hashable, CaseIterable {
    case success, denied, failed
}

/// What a caller asks the store to record: an audit record before the store gives it its place in
/// the chain (sequence number and hashes are assigned inside the write transaction, never by callers).
public struct AuditEntry: Codable, Sendable, Hashable {
    public var id: String
    /// Seconds since 1970, as every time in the store.
    public var time: Double
    public var actor: AuditActor
    public var action: AuditAction
    /// What was acted on: a resource path (`/workspaces/{id}/…`), a template path, or the API path of a denied request.
    public var target: String
    public var outcome: AuditOutcome
    /// Facts a reader needs (template and version, operation id, role, the denial reason). Never secret values.
    public var details: JSONValue
    /// Hummingbird's request id, to find the request's log lines; nil for work not started by a request.
    public var requestId: String?

    public init(
        id: String, time: Double, actor: AuditActor, action: AuditAction, target: String, outcome: AuditOutcome = .success,
        details: JSONValue = [:], requestId: String? = nil
    ) {
        self.id = id
        self.time = time
        self.actor = actor
        self.action = action
        self.target = target
        self.outcome = outcome
        self.details = details
        self.requestId = requestId
    }
}

/// One link of the audit chain: an entry, its position, the hash of the record before it, and its own hash.
///
/// The hash is SHA-256 (lower-case hex) of the UTF-8 bytes of `canonicalText`: the compact, key-sorted
/// JSON (`JSONValue.description`) of the object
/// `{"action","actor":{"id","name"},"details","id","outcome","previousHash","requestId","sequence","target","time"}`
/// — every field except `hash`, with `requestId` as `null` when absent and `time` as `JSONValue.double`
/// prints it. Because the previous hash and the sequence number are inside the hashed text, changing,
/// removing or reordering any record breaks every link after it.
public struct AuditRecord: Codable, Sendable, Hashable {
    public var sequence: Int
    public var id: String
    public var time: Double
    public var actor: AuditActor
    public var action: AuditAction
    public var target: String
    public var outcome: AuditOutcome
    public var details: JSONValue
    public var requestId: String?
    public var previousHash: String
    public var hash: String

    /// Places an entry in the chain after the record whose hash is `previousHash`, computing its hash.
    public init(_ entry: AuditEntry, sequence: Int, previousHash: String) {
        self.sequence = sequence
        self.id = entry.id
        self.time = entry.time
        self.actor = entry.actor
        self.action = entry.action
        self.target = entry.target
        self.outcome = entry.outcome
        self.details = entry.details
        self.requestId = entry.requestId
        self.previousHash = previousHash
        self.hash = ""
        self.hash = computedHash
    }

    /// A record exactly as stored, hash included (the store reads records back with this).
    public init(
        sequence: Int, id: String, time: Double, actor: AuditActor, action: AuditAction, target: String,
        outcome: AuditOutcome, details: JSONValue, requestId: String?, previousHash: String, hash: String
    ) {
        self.sequence = sequence
        self.id = id
        self.time = time
        self.actor = actor
        self.action = action
        self.target = target
        self.outcome = outcome
        self.details = details
        self.requestId = requestId
        self.previousHash = previousHash
        self.hash = hash
    }

    /// The entry this record was made from.
    public var entry: AuditEntry {
        AuditEntry(
            id: id, time: time, actor: actor, action: action, target: target, outcome: outcome, details: details,
            requestId: requestId)
    }

    /// The text the hash covers (see the type's documentation).
    public var canonicalText: String {
        let object: JSONValue = [
            "sequence": .int(sequence),
            "id": .string(id),
            "time": .double(time),
            "actor": ["id": .string(actor.id), "name": .string(actor.name)],
            "action": .string(action.rawValue),
            "target": .string(target),
            "outcome": .string(outcome.rawValue),
            "details": details,
            "requestId": requestId.map(JSONValue.string) ?? .null,
            "previousHash": .string(previousHash),
        ]
        return object.description
    }

    /// The hash recomputed from the other fields; equals `hash` unless the record was altered.
    public var computedHash: String { AuditChain.sha256Hex(canonicalText) }
}

import Crypto
import Foundation

/// Why someone is told about an airlock status change; the raw values are the keys of a webhook's
/// `recipients` object (Azure TRE's `recipient_emails_by_role` uses the same spelling).
public enum AirlockNotificationRole: String, Codable, Sendable, Hashable, CaseIterable, Comparable {
    /// The person who created the request.
    case requester
    /// The workspace's airlock managers: the people who review.
    case airlockManager = "airlock_manager"
    /// The workspace's owners: told when data was blocked or an approval revoked, which they may need to follow up.
    case workspaceOwner = "workspace_owner"

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Who is told about which airlock status change: the people who must act, or who need to know.
///
/// Azure TRE's notifier mails only `in_review` (to managers) and `approved` (to researchers), so
/// requesters never hear of a rejection, a blocked scan or a failure (reference §5.5). Enclave tells
/// the requester about every outcome, managers when there is something to review, and owners when
/// data was blocked or an approval withdrawn. Transient `*_in_progress` statuses notify nobody: the
/// final status follows within seconds and would only double the mail.
public enum AirlockNotificationRules {
    /// The roles told about a request reaching `status`.
    public static func roles(for status: AirlockStatus) -> Set<AirlockNotificationRole> {
        switch status {
        case .submitted: [.requester]
        case .inReview: [.airlockManager]
        case .approved, .rejected, .failed, .cancelled: [.requester]
        case .blockedByScan, .revoked: [.requester, .workspaceOwner]
        case .draft, .approvalInProgress, .rejectionInProgress, .blockingInProgress: []
        }
    }

    /// The user ids to tell, by role, for a request reaching `status`.
    ///
    /// A requester who is also an airlock manager is not asked to review their own request (they may
    /// not), and a user in several roles is told once, under the first role in `requester`,
    /// `airlock_manager`, `workspace_owner` order, so nobody gets the same news twice.
    public static func recipients(
        status: AirlockStatus, requesterId: String, assignments: [(userId: String, role: WorkspaceRole)]
    ) -> [AirlockNotificationRole: [String]] {
        let wanted = roles(for: status)
        var told: Set<String> = []
        var result: [AirlockNotificationRole: [String]] = [:]
        func add(_ role: AirlockNotificationRole, _ ids: [String]) {
            for id in ids where !told.contains(id) {
                told.insert(id)
                result[role, default: []].append(id)
            }
        }
        if wanted.contains(.requester) { add(.requester, [requesterId]) }
        if wanted.contains(.airlockManager) {
            // Never the requester: reviewers may not review their own request.
            told.insert(requesterId)
            add(.airlockManager, assignments.filter { $0.role == .airlockManager }.map(\.userId).sorted())
        }
        if wanted.contains(.workspaceOwner) { add(.workspaceOwner, assignments.filter { $0.role == .owner }.map(\.userId).sorted()) }
        return result
    }
}

/// The text of one notification email: what a person needs to decide whether to act without opening
/// Enclave — Azure TRE's mails lacked the workspace and requester (its issue #3960).
public struct AirlockNotificationMessage: Sendable, Hashable, Codable {
    public var subject: String
    public var body: String

    public init(subject: String, body: String) {
        self.subject = subject
        self.body = body
    }

    /// The message for one recipient role.
    ///
    /// - Parameters:
    ///   - link: where the request is shown: `<public URL>/workspaces/{ws}/airlock/{rid}`.
    public static func make(
        role: AirlockNotificationRole, status: AirlockStatus, type: AirlockRequestType, title: String, workspaceName: String,
        requesterName: String, statusMessage: String?, link: String
    ) -> AirlockNotificationMessage {
        let statusText = status.rawValue.replacingOccurrences(of: "_", with: " ")
        let subject = "[Enclave] \(workspaceName): \(type.rawValue) request \"\(title)\" is \(statusText)"
        let lead: String
        switch (role, status) {
        case (.airlockManager, .inReview):
            lead = "An airlock \(type.rawValue) request in workspace \"\(workspaceName)\" by \(requesterName) needs your review."
        case (.requester, .submitted):
            lead =
                "Your airlock \(type.rawValue) request in workspace \"\(workspaceName)\" was submitted; it is being scanned and checked before review."
        case (.requester, _):
            lead = "Your airlock \(type.rawValue) request in workspace \"\(workspaceName)\" is now \(statusText)."
        default:
            lead = "An airlock \(type.rawValue) request in workspace \"\(workspaceName)\" by \(requesterName) is now \(statusText)."
        }
        var lines = [
            lead, "",
            "Workspace: \(workspaceName)",
            "Requester: \(requesterName)",
            "Title:     \(title)",
            "Type:      \(type.rawValue)",
            "Status:    \(status.rawValue)",
        ]
        if let statusMessage, !statusMessage.isEmpty { lines.append("Reason:    \(statusMessage)") }
        lines += ["", "Open the request: \(link)", ""]
        return AirlockNotificationMessage(subject: subject, body: lines.joined(separator: "\n"))
    }
}

/// The `X-Enclave-Signature` of a webhook body: `sha256=<hex HMAC-SHA256(secret, body)>`, as GitHub
/// signs its webhooks, so receivers can verify with a one-line `openssl dgst -sha256 -hmac`.
public enum WebhookSignature {
    public static let header = "X-Enclave-Signature"

    public static func sign(secret: String, body: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `signature` is the body's signature, compared in constant time.
    public static func verify(secret: String, body: [UInt8], signature: String) -> Bool {
        guard signature.hasPrefix("sha256="), let mac = hexBytes(String(signature.dropFirst(7))) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: SymmetricKey(data: Data(secret.utf8)))
    }

    static func hexBytes(_ hex: String) -> [UInt8]? {
        let chars = Array(hex.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let byte = UInt8(String(decoding: chars[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
            index += 2
        }
        return bytes
    }
}

/// When a failed delivery is tried again, and when it is given up.
///
/// Network errors, 5xx and 429 are worth retrying (the receiver or the mail server may be back soon);
/// any other 4xx means the request itself is refused and will be refused again.
public struct NotificationRetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    /// Seconds before the second attempt; each later wait doubles, up to `maxDelay`.
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 5, baseDelay: Double = 2, maxDelay: Double = 600) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Seconds to wait after `attempts` failed attempts, or nil when the delivery is to be given up.
    public func delay(afterAttempts attempts: Int) -> Double? {
        guard attempts < maxAttempts else { return nil }
        return min(maxDelay, baseDelay * pow(2, Double(max(0, attempts - 1))))
    }

    /// Whether an HTTP status means delivered, worth another try, or refused for good.
    public static func classify(httpStatus: Int) -> NotificationAttemptResult {
        switch httpStatus {
        case 200..<300: .delivered
        case 429, 500..<600: .retry("HTTP \(httpStatus)")
        default: .refused("HTTP \(httpStatus)")
        }
    }
}

/// How one delivery attempt ended.
public enum NotificationAttemptResult: Sendable, Hashable {
    case delivered
    /// Worth trying again later (network error, 5xx, 429, SMTP 4xx).
    case retry(String)
    /// Refused for good (4xx other than 429, SMTP 5xx, bad configuration).
    case refused(String)
}

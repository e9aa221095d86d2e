public import EnclaveCore
import Foundation

/// Where airlock notifications go: operator-configured webhooks and an SMTP server. Nothing configured
/// is valid: the notifier then only keeps its place in the audit log, so enabling it later does not
/// replay old status changes.
public struct AirlockNotificationSettings: Sendable, Hashable {
    public var webhooks: [WebhookEndpoint]
    public var smtp: SMTPSettings?
    /// Seconds between looks at the audit log and the delivery log.
    public var pollSeconds: Double
    public var retry: NotificationRetryPolicy

    public init(webhooks: [WebhookEndpoint] = [], smtp: SMTPSettings? = nil, pollSeconds: Double = 1, retry: NotificationRetryPolicy = .init()) {
        self.webhooks = webhooks
        self.smtp = smtp
        self.pollSeconds = pollSeconds
        self.retry = retry
    }

    public var isEmpty: Bool { webhooks.isEmpty && smtp == nil }

    /// - Throws: `EnclaveError.badRequest` naming the setting that is wrong and how to fix it.
    public func validate() throws {
        for webhook in webhooks { try webhook.validate() }
        try smtp?.validate()
        guard retry.maxAttempts >= 1, retry.baseDelay >= 0, pollSeconds > 0 else {
            throw EnclaveError.badRequest("Notification retries need at least 1 attempt, a delay of 0 s or more, and a poll interval above 0 s")
        }
    }
}

/// A webhook receiver: every status change is POSTed here, signed with `secret`.
public struct WebhookEndpoint: Sendable, Hashable {
    public var url: String
    /// The HMAC-SHA256 key of `X-Enclave-Signature`; shared with the receiver out of band.
    public var secret: String

    public init(url: String, secret: String) {
        self.url = url
        self.secret = secret
    }

    public func validate() throws {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = parsed.host, !host.isEmpty
        else {
            throw EnclaveError.badRequest(
                "Webhook URL '\(url)' is not an http:// or https:// URL with a host, e.g. https://hooks.example.org/enclave")
        }
        guard !secret.isEmpty else {
            throw EnclaveError.badRequest(
                "Webhook \(url) has no secret: set --airlock-webhook-secret-file or ENCLAVE_AIRLOCK_WEBHOOK_SECRET so receivers can verify the signature"
            )
        }
    }
}

/// Whether the SMTP conversation is encrypted with STARTTLS.
public enum SMTPTLSMode: String, Sendable, Hashable, CaseIterable {
    /// The server must offer STARTTLS and its certificate must verify; otherwise nothing is sent.
    case required
    /// Plain text (a relay on localhost or a trusted network); no AUTH is sent then.
    case off
}

/// The SMTP server notification emails are sent through.
public struct SMTPSettings: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var tls: SMTPTLSMode
    /// AUTH PLAIN or LOGIN (whichever the server offers) when set; needs `tls == .required`.
    public var username: String?
    public var password: String?
    /// The envelope sender and the From header.
    public var from: String
    /// A PEM file of certificates trusted besides the system's (a private CA, or a test's self-signed server).
    public var trustedCertificatesFile: String?
    /// Seconds one SMTP conversation may take before it is abandoned (and retried).
    public var timeoutSeconds: Double

    public init(
        host: String, port: Int = 587, tls: SMTPTLSMode = .required, username: String? = nil, password: String? = nil, from: String,
        trustedCertificatesFile: String? = nil, timeoutSeconds: Double = 30
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.username = username
        self.password = password
        self.from = from
        self.trustedCertificatesFile = trustedCertificatesFile
        self.timeoutSeconds = timeoutSeconds
    }

    public func validate() throws {
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace }) else {
            throw EnclaveError.badRequest("--smtp-host '\(host)' is not a host name or address")
        }
        guard (1...65535).contains(port) else { throw EnclaveError.badRequest("--smtp-port \(port) is not a port (1-65535)") }
        guard SMTPAddress.isValid(from) else {
            throw EnclaveError.badRequest("--smtp-from '\(from)' is not an email address like enclave@tre.example.org")
        }
        if username != nil || password != nil {
            guard let username, !username.isEmpty, let password, !password.isEmpty else {
                throw EnclaveError.badRequest("SMTP AUTH needs both --smtp-username and --smtp-password-file")
            }
            guard tls == .required else {
                throw EnclaveError.badRequest("SMTP AUTH needs --smtp-starttls required: Enclave does not send passwords in clear text")
            }
        }
        guard timeoutSeconds > 0 else { throw EnclaveError.badRequest("The SMTP timeout must be above 0 s") }
    }
}

/// The one check Enclave makes of an email address before putting it in an SMTP command: something
/// `local@domain` without spaces, angle brackets or control characters, so no address can smuggle in a
/// second command or header.
public enum SMTPAddress {
    public static func isValid(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, address.utf8.count <= 254 else { return false }
        return !address.unicodeScalars.contains { $0.value < 0x21 || $0.value == 0x7F || "<>,;\"()[]\\".unicodeScalars.contains($0) }
    }
}

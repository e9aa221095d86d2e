import EnclaveAirlock
import EnclaveCore
import EnclaveStore
import EnclaveTesting
import Foundation
import Testing

/// Mail through a real SMTP server (aiosmtpd, Tests/Fixtures/smtp/smtp_sink.py).
@Suite("Airlock mail over SMTP", .enabled(if: SMTPSink.shouldRun, "\(SMTPSink.unavailableReason ?? "")"))
struct SMTPNotificationTests {
    @Test("an in_review change mails the manager: To, Subject with workspace, title and status, body with requester, reason and link")
    func managerIsMailed() async throws {
        let fixture = try await NotificationFixture.make(title: "Cohort\r\nBcc: eve@example.org")
        defer { fixture.remove() }
        try await fixture.recordStatusChange(to: .inReview, message: "scanned clean")
        try await SMTPSink.with { sink in
            let settings = AirlockNotificationSettings(
                smtp: SMTPSettings(host: "127.0.0.1", port: sink.port, tls: .off, from: "enclave@tre.example.org"),
                retry: NotificationRetryPolicy(maxAttempts: 2, baseDelay: 0))
            await fixture.service(settings).runOnce()

            let mails = await sink.waitForMails(1)
            #expect(mails.count == 1)
            let mail = try #require(mails.first)
            #expect(mail["rcptTos"] == ["mia@example.org"], "only the manager; the title's Bcc line must not add a recipient")
            #expect(mail["mailFrom"] == "enclave@tre.example.org")
            #expect(mail["headers"]?["To"] == "mia@example.org")
            #expect(mail["headers"]?["Bcc"] == nil)
            #expect(mail["headers"]?["Subject"] == "[Enclave] ws-1: import request \"Cohort  Bcc: eve@example.org\" is in review")
            #expect(mail["headers"]?["Message-ID"]?.stringValue?.hasPrefix("<ntf-") == true)
            #expect(mail["headers"]?["Date"] != nil)
            let body = try #require(mail["body"]?.stringValue)
            #expect(body.contains("by Ravi Researcher needs your review"))
            #expect(body.contains("Reason:    scanned clean"))
            #expect(body.contains("Open the request: https://tre.example.org/workspaces/ws-1/airlock/req-1"))
            let log = try await fixture.store.notificationDeliveries(status: nil, auditSequence: nil, limit: 10)
            #expect(log.map(\.status) == [.delivered])
            #expect(log.map(\.target) == ["mia@example.org"])
        }
    }

    @Test("STARTTLS with a certificate the client trusts, then AUTH: the mail arrives encrypted and authenticated")
    func startTLSAndAuth() async throws {
        let directory = try TestPaths.temporaryDirectory("enclave-smtp-tls")
        defer { try? FileManager.default.removeItem(at: directory) }
        let made = try await Blocking.run { try SMTPSink.selfSignedCertificate(in: directory) }
        let pair = try #require(made, "openssl could not make a certificate")
        try await SMTPSink.with(tls: pair, auth: (user: "enclave", password: "pa55word")) { sink in
            let smtp = SMTPSettings(
                host: "127.0.0.1", port: sink.port, tls: .required, username: "enclave", password: "pa55word", from: "enclave@tre.example.org",
                trustedCertificatesFile: pair.cert)
            let text = NotificationMail.render(
                from: smtp.from, to: "mia@example.org", subject: "Über 100 files", body: "line one\n.hidden line\n", messageId: "m1",
                date: Date())
            try await SMTPClient(settings: smtp).send(from: smtp.from, to: ["mia@example.org"], message: text)
            let mails = await sink.waitForMails(1)
            let mail = try #require(mails.first)
            #expect(mail["tls"] == true)
            #expect(mail["login"] == "enclave")
            #expect(mail["headers"]?["Subject"] == "Über 100 files")
            #expect(mail["body"] == "line one\n.hidden line\n")

            // A wrong password is refused by the server: permanent, nothing delivered.
            var wrong = smtp
            wrong.password = "nope"
            let refused = await failure { try await SMTPClient(settings: wrong).send(from: smtp.from, to: ["mia@example.org"], message: text) }
            let refusal = try #require(refused as? SMTPError)
            #expect(refusal.code == 535)
            #expect(refusal.permanent)
            #expect(!refusal.description.contains("nope"))
            #expect(sink.mails().count == 1)
        }
    }

    @Test("STARTTLS required against an untrusted certificate sends nothing and is worth retrying")
    func untrustedCertificateIsRefused() async throws {
        let directory = try TestPaths.temporaryDirectory("enclave-smtp-tls")
        defer { try? FileManager.default.removeItem(at: directory) }
        let made = try await Blocking.run { try SMTPSink.selfSignedCertificate(in: directory) }
        let pair = try #require(made, "openssl could not make a certificate")
        try await SMTPSink.with(tls: pair) { sink in
            let smtp = SMTPSettings(host: "127.0.0.1", port: sink.port, tls: .required, from: "enclave@tre.example.org", timeoutSeconds: 10)
            let result = await failure {
                try await SMTPClient(settings: smtp).send(from: smtp.from, to: ["mia@example.org"], message: "Subject: x\r\n\r\nx\r\n")
            }
            #expect(result != nil)
            #expect((result as? SMTPError)?.permanent != true, "a certificate problem may be fixed: the service retries")
            #expect(sink.mails().isEmpty)
        }
    }

    @Test("a trusted certificate issued for another name is refused: the host name is verified, not only the issuer")
    func certificateForAnotherHostIsRefused() async throws {
        let directory = try TestPaths.temporaryDirectory("enclave-smtp-tls")
        defer { try? FileManager.default.removeItem(at: directory) }
        let made = try await Blocking.run { try SMTPSink.selfSignedCertificate(in: directory, subjectAltName: "DNS:mail.example.org") }
        let pair = try #require(made, "openssl could not make a certificate")
        try await SMTPSink.with(tls: pair) { sink in
            let smtp = SMTPSettings(
                host: "127.0.0.1", port: sink.port, tls: .required, from: "enclave@tre.example.org", trustedCertificatesFile: pair.cert,
                timeoutSeconds: 10)
            let result = await failure {
                try await SMTPClient(settings: smtp).send(from: smtp.from, to: ["mia@example.org"], message: "Subject: x\r\n\r\nx\r\n")
            }
            #expect(result != nil)
            #expect(sink.mails().isEmpty)
        }
    }

    @Test("a server without STARTTLS is refused when STARTTLS is required")
    func missingStartTLSIsRefused() async throws {
        try await SMTPSink.with { sink in
            let smtp = SMTPSettings(host: "127.0.0.1", port: sink.port, tls: .required, from: "enclave@tre.example.org")
            let result = await failure {
                try await SMTPClient(settings: smtp).send(from: smtp.from, to: ["mia@example.org"], message: "Subject: x\r\n\r\nx\r\n")
            }
            let error = try #require(result as? SMTPError)
            #expect(error.permanent)
            #expect(error.message.contains("STARTTLS"))
            #expect(sink.mails().isEmpty)
        }
    }

    @Test("DATA doubles leading dots and ends with a lone dot")
    func dotStuffing() {
        #expect(SMTPClient.dotStuffed("a\r\n.b\r\n..c\r\n") == "a\r\n..b\r\n...c\r\n.")
        #expect(SMTPClient.dotStuffed("a\nb") == "a\r\nb\r\n.")
    }
}

/// The error `body` throws, or nil.
func failure(_ body: () async throws -> Void) async -> (any Error)? {
    do {
        try await body()
        return nil
    } catch {
        return error
    }
}

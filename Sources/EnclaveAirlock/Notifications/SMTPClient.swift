// A small SMTP client (RFC 5321) on SwiftNIO: enough to hand notification mails to a relay — EHLO,
// STARTTLS, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, QUIT — without blocking a thread.

import Foundation
public import NIOCore
public import NIOPosix
import NIOSSL

/// Sends mails through one SMTP server, one connection per mail.
///
/// A connection per mail is slower than keeping one open, but notifications are few and a fresh
/// conversation never inherits a half-failed one's state.
public struct SMTPClient: Sendable {
    public let settings: SMTPSettings
    let group: any EventLoopGroup

    public init(settings: SMTPSettings, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.settings = settings
        self.group = group
    }

    /// Delivers `message` (a complete RFC 5322 message, lines ending in CRLF) to `recipients`.
    ///
    /// - Throws: `SMTPError` with the server's reply code when it refuses (5xx: permanent), or when the
    ///   conversation breaks (network, TLS, timeout: worth retrying).
    public func send(from: String, to recipients: [String], message: String) async throws {
        guard SMTPAddress.isValid(from), !recipients.isEmpty, recipients.allSatisfy(SMTPAddress.isValid) else {
            throw SMTPError(code: nil, message: "not an email address: \(([from] + recipients).filter { !SMTPAddress.isValid($0) })", permanent: true)
        }
        let settings = self.settings
        let tlsContext: NIOSSLContext? = settings.tls == .required ? try Self.tlsContext(settings) : nil
        let channel: NIOAsyncChannel<SMTPReply, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(Int64(max(1, min(settings.timeoutSeconds, 30)))))
                .connect(host: settings.host, port: settings.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                        return try NIOAsyncChannel<SMTPReply, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw SMTPError(code: nil, message: "cannot connect to \(settings.host):\(settings.port): \(error)", permanent: false)
        }
        let underlying = channel.channel
        // One deadline for the whole conversation: closing the channel ends every pending read.
        let timeout = underlying.eventLoop.scheduleTask(in: .milliseconds(Int64(settings.timeoutSeconds * 1000))) {
            underlying.close(promise: nil)
        }
        defer { timeout.cancel() }
        try await channel.executeThenClose { inbound, outbound in
            var conversation = SMTPConversation(replies: inbound.makeAsyncIterator(), outbound: outbound, server: "\(settings.host):\(settings.port)")
            try await conversation.expect(220, after: "connecting")
            let helo = Self.heloName(from: from)
            var capabilities = try await conversation.command("EHLO \(helo)", expect: 250).lines
            if let tlsContext {
                guard capabilities.contains(where: { $0.uppercased() == "STARTTLS" }) else {
                    throw SMTPError(
                        code: nil,
                        message:
                            "\(settings.host) does not offer STARTTLS, which --smtp-starttls required demands (it offers: \(capabilities.joined(separator: ", ")))",
                        permanent: true)
                }
                _ = try await conversation.command("STARTTLS", expect: 220)
                let serverName: String? = Self.isIPAddress(settings.host) ? nil : settings.host
                try await underlying.eventLoop.submit {
                    let handler = try NIOSSLClientHandler(context: tlsContext, serverHostname: serverName)
                    try underlying.pipeline.syncOperations.addHandler(handler, position: .first)
                }.get()
                capabilities = try await conversation.command("EHLO \(helo)", expect: 250).lines
            }
            if let username = settings.username, let password = settings.password {
                try await conversation.authenticate(username: username, password: password, capabilities: capabilities)
            }
            _ = try await conversation.command("MAIL FROM:<\(from)>", expect: 250)
            for recipient in recipients {
                _ = try await conversation.command("RCPT TO:<\(recipient)>", expect: 250, 251)
            }
            _ = try await conversation.command("DATA", expect: 354)
            _ = try await conversation.send(Self.dotStuffed(message), expect: 250)
            // The mail is accepted; a QUIT the server does not answer changes nothing.
            _ = try? await conversation.command("QUIT", expect: 221)
        }
    }

    static func tlsContext(_ settings: SMTPSettings) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let file = settings.trustedCertificatesFile {
            do {
                configuration.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(file))]
            } catch {
                throw SMTPError(code: nil, message: "cannot read the SMTP trusted certificates \(file): \(error)", permanent: true)
            }
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw SMTPError(code: nil, message: "cannot set up TLS for SMTP: \(error)", permanent: true)
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    /// The EHLO argument: the sender's domain (RFC 5321 wants our name; the From domain is the best we know).
    static func heloName(from: String) -> String {
        let domain = from.split(separator: "@").last.map(String.init) ?? "localhost"
        return domain.isEmpty ? "localhost" : domain
    }

    /// The DATA section: CRLF line endings, a leading `.` doubled (RFC 5321 §4.5.2), then the lone `.` line.
    public static func dotStuffed(_ message: String) -> String {
        let normalized = message.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var lines = normalized.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasPrefix(".") ? "." + $0 : String($0) }
        if lines.last == "" { lines.removeLast() }
        return lines.joined(separator: "\r\n") + "\r\n."
    }
}

/// A reply from the server: its code and the text of every line.
public struct SMTPReply: Sendable, Hashable {
    public var code: Int
    public var lines: [String]

    public var text: String { lines.joined(separator: " ") }
}

/// Why a mail was not sent; `permanent` (a 5xx reply, bad configuration) means trying again is pointless.
public struct SMTPError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: Int?
    public var message: String
    public var permanent: Bool

    public init(code: Int?, message: String, permanent: Bool) {
        self.code = code
        self.message = message
        self.permanent = permanent
    }

    public var description: String { code.map { "SMTP \($0): \(message)" } ?? "SMTP: \(message)" }
}

/// One conversation's commands and replies, in order.
struct SMTPConversation {
    var replies: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let server: String

    mutating func expect(_ codes: Int..., after step: String) async throws {
        try await expect(codes, after: step)
    }

    @discardableResult
    mutating func expect(_ codes: [Int], after step: String) async throws -> SMTPReply {
        guard let reply = try await replies.next() else {
            throw SMTPError(code: nil, message: "\(server) closed the connection (or the conversation timed out) after \(step)", permanent: false)
        }
        guard codes.contains(reply.code) else {
            throw SMTPError(code: reply.code, message: "\(server) answered \(step) with: \(reply.text)", permanent: (500..<600).contains(reply.code))
        }
        return reply
    }

    mutating func command(_ line: String, expect codes: Int...) async throws -> SMTPReply {
        try await outbound.write(ByteBuffer(string: line + "\r\n"))
        // Never echo credentials into errors.
        let step = line.hasPrefix("AUTH") ? "AUTH" : line
        return try await expect(codes, after: step)
    }

    mutating func send(_ data: String, expect codes: Int...) async throws -> SMTPReply {
        try await outbound.write(ByteBuffer(string: data + "\r\n"))
        return try await expect(codes, after: "the message data")
    }

    /// AUTH PLAIN when offered, else AUTH LOGIN (RFC 4954, RFC 4616).
    mutating func authenticate(username: String, password: String, capabilities: [String]) async throws {
        let mechanisms = Set(
            capabilities.map { $0.uppercased() }.filter { $0.hasPrefix("AUTH ") || $0.hasPrefix("AUTH=") }
                .flatMap { $0.dropFirst(5).split(separator: " ").map(String.init) })
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        if mechanisms.contains("PLAIN") {
            _ = try await command("AUTH PLAIN " + base64("\u{0}\(username)\u{0}\(password)"), expect: 235)
        } else if mechanisms.contains("LOGIN") {
            _ = try await command("AUTH LOGIN", expect: 334)
            _ = try await command(base64(username), expect: 334)
            try await outbound.write(ByteBuffer(string: base64(password) + "\r\n"))
            try await expect([235], after: "AUTH LOGIN password")
        } else {
            throw SMTPError(
                code: nil, message: "\(server) offers neither AUTH PLAIN nor AUTH LOGIN (it offers: \(mechanisms.sorted()))", permanent: true)
        }
    }
}

/// Splits the byte stream into replies: `250-first`, `250-second`, `250 last` is one reply.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply
    var lines: [String] = []
    var code: Int?

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > 4096 { throw SMTPError(code: nil, message: "a reply line longer than 4096 bytes", permanent: false) }
            return .needMoreData
        }
        guard var utf8 = buffer.readBytes(length: newline - view.startIndex + 1) else { return .needMoreData }
        // Bytes, not Characters: "\r\n" is one Character, so String suffix checks would miss it.
        while let last = utf8.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { utf8.removeLast() }
        let line = String(decoding: utf8, as: UTF8.self)
        guard utf8.count >= 3, let lineCode = Int(String(decoding: utf8[0..<3], as: UTF8.self)), (200..<600).contains(lineCode) else {
            throw SMTPError(code: nil, message: "not an SMTP reply: \(line.prefix(80))", permanent: false)
        }
        let more = utf8.count > 3 && utf8[3] == UInt8(ascii: "-")
        lines.append(utf8.count > 4 ? String(decoding: utf8[4...], as: UTF8.self) : "")
        if more {
            if lines.count > 200 { throw SMTPError(code: nil, message: "a reply of more than 200 lines", permanent: false) }
            return .continue
        }
        let reply = SMTPReply(code: lineCode, lines: lines)
        lines = []
        context.fireChannelRead(wrapInboundOut(reply))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while case .continue = try decode(context: context, buffer: &buffer) {}
        return .needMoreData
    }
}

// Real receivers for airlock notifications: an HTTP webhook receiver (Hummingbird) and an SMTP server
// (aiosmtpd, run as a child process).
public import EnclaveCore
public import Foundation
import Hummingbird
import HummingbirdTesting

#if canImport(Glibc)
    import Glibc
#endif

/// A webhook receiver on a free local port that records every POST and answers with scripted statuses.
public actor WebhookReceiver {
    public struct Received: Sendable {
        /// By lower-case name.
        public var headers: [String: String]
        public var body: [UInt8]
        public var json: JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: Data(body))) ?? .null }
    }

    public private(set) var received: [Received] = []
    /// Statuses for the first requests, in order; 200 afterwards.
    var script: [Int]

    init(script: [Int]) { self.script = script }

    func record(_ request: Received) -> Int {
        received.append(request)
        return script.isEmpty ? 200 : script.removeFirst()
    }

    /// Polls until at least `count` requests arrived (or `timeout` passed); returns what arrived.
    public func waitFor(_ count: Int, timeout: Double = 20) async -> [Received] {
        let deadline = Date().addingTimeInterval(timeout)
        while received.count < count, Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return received
    }

    /// Runs `body` with a receiver listening at the URL passed to it.
    public static func with<T: Sendable>(
        script: [Int] = [], _ body: @escaping @Sendable (WebhookReceiver, String) async throws -> T
    ) async throws -> T {
        let receiver = WebhookReceiver(script: script)
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let status = await receiver.record(Received(headers: headers, body: Array(bytes.readableBytesView)))
            return Response(status: .init(code: status))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            guard let port = client.port else { throw TestFailure("the webhook receiver has no port") }
            return try await body(receiver, "http://127.0.0.1:\(port)/hook")
        }
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A real SMTP server (Tests/Fixtures/smtp/smtp_sink.py on aiosmtpd) writing each mail it accepts as JSON.
public struct SMTPSink: Sendable {
    public let port: Int
    public let directory: URL

    /// Why the SMTP tests cannot run here, or nil (CI installs aiosmtpd with pip in .ci/run).
    public static let unavailableReason: String? = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import aiosmtpd"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "python3 is not installed" }
        process.waitUntilExit()
        return process.terminationStatus == 0 ? nil : "aiosmtpd is not installed (python3 -m pip install aiosmtpd)"
    }()

    /// Skipped locally with the reason; never skipped under CI=true, where a missing aiosmtpd fails.
    public static let shouldRun = unavailableReason == nil || ProcessInfo.processInfo.environment["CI"] == "true"

    /// The mails received so far, oldest first.
    public func mails() -> [JSONValue] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasPrefix("mail-") && $0.hasSuffix(".json") }
            .sorted { (Int($0.dropFirst(5).dropLast(5)) ?? 0) < (Int($1.dropFirst(5).dropLast(5)) ?? 0) }
        return names.compactMap { name in
            FileManager.default.contents(atPath: directory.appendingPathComponent(name).path)
                .flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) }
        }
    }

    public func waitForMails(_ count: Int, timeout: Double = 20) async -> [JSONValue] {
        let deadline = Date().addingTimeInterval(timeout)
        while mails().count < count, Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return mails()
    }

    /// Runs `body` with an SMTP server of its own; `tls` is a (certificate, key) PEM pair to require
    /// STARTTLS with, `auth` a (user, password) pair to require AUTH with.
    public static func with<T: Sendable>(
        tls: (cert: String, key: String)? = nil, auth: (user: String, password: String)? = nil,
        _ body: @Sendable (SMTPSink) async throws -> T
    ) async throws -> T {
        let directory = try TestPaths.temporaryDirectory("enclave-smtp")
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = TestPaths.repoRoot.appendingPathComponent("Tests/Fixtures/smtp/smtp_sink.py").path
        var arguments = ["python3", script, directory.path]
        if let tls { arguments += ["--tls-cert", tls.cert, "--tls-key", tls.key] }
        if let auth { arguments += ["--user", auth.user, "--password", auth.password] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        // Its output goes to a file: a child holding the test runner's pipes open would keep `swift test` waiting.
        let log = directory.appendingPathComponent("sink.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        defer { try? logHandle.close() }
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        defer { kill(process.processIdentifier, SIGKILL) }
        let portFile = directory.appendingPathComponent("port").path
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: portFile) {
            guard process.isRunning, Date() < deadline else {
                throw TestFailure("the SMTP sink did not start (exit \(process.isRunning ? -1 : process.terminationStatus))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        guard let text = FileManager.default.contents(atPath: portFile), let port = Int(String(decoding: text, as: UTF8.self)) else {
            throw TestFailure("the SMTP sink wrote no port")
        }
        return try await body(SMTPSink(port: port, directory: directory))
    }

    /// A self-signed certificate for 127.0.0.1 and localhost, made with openssl; nil when openssl is missing.
    public static func selfSignedCertificate(in directory: URL, subjectAltName: String = "DNS:localhost,IP:127.0.0.1") throws -> (
        cert: String, key: String
    )? {
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=\(subjectAltName)", "-keyout", key, "-out", cert,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        process.waitUntilExit()
        return process.terminationStatus == 0 ? (cert, key) : nil
    }
}

import AsyncHTTPClient
public import EnclaveCore
import Foundation
import NIOCore
import NIOHTTP1

/// `Tests/Fixtures/oidc/fake_idp.py` as a child process: an OIDC provider built with PyJWT and
/// cryptography, so external-token tests use keys and tokens Enclave did not make.
/// `@unchecked`: `Process` and `Pipe` are not marked Sendable; after `init` only `stop()` touches them.
public final class FakeIdentityProvider: @unchecked Sendable {
    public let issuer: String
    private let process: Process
    private let stdin: Pipe

    /// Why the helper cannot run here, or nil when `python3` has PyJWT and cryptography.
    public static let unavailableReason: String? = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import jwt, cryptography"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
            process.waitUntilExit()
        } catch {
            return "python3 cannot be started: \(error)"
        }
        return process.terminationStatus == 0 ? nil : "python3 lacks PyJWT/cryptography (python3 -m pip install pyjwt cryptography)"
    }()

    /// True when the tests should run: the helper works, or CI=true (where a missing part must fail).
    public static let shouldRun = unavailableReason == nil || ProcessInfo.processInfo.environment["CI"] == "true"

    /// Starts the helper and waits for it to listen; `discoveryIssuer` makes discovery lie about the issuer.
    public init(discoveryIssuer: String? = nil, clientSecret: String? = nil) throws {
        let script = TestPaths.repoRoot.appendingPathComponent("Tests/Fixtures/oidc/fake_idp.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", script, "--port", "0"] + (discoveryIssuer.map { ["--discovery-issuer", $0] } ?? [])
            + (clientSecret.map { ["--client-secret", $0] } ?? [])
        let stdout = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("READY "), let port = Int(text.dropFirst(6)) else {
            process.terminate()
            throw FakeIdentityProviderError(description: "fake_idp.py did not start (said '\(text)')")
        }
        self.process = process
        self.stdin = stdin
        self.issuer = "http://127.0.0.1:\(port)"
    }

    deinit { stop() }

    public func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }

    /// A token signed by the provider. `alg`: RS256, ES256, none, HS256-public-key; `kid` overrides the header's.
    public func mint(alg: String = "RS256", kid: String? = nil, claims: JSONValue) async throws -> String {
        var query = "alg=\(alg)&claims=\(Self.escape(claims.description))"
        if let kid { query += "&kid=\(Self.escape(kid))" }
        return try await get("/mint?\(query)")
    }

    /// Replaces the key for `alg` with a new one; returns its kid.
    public func rotate(alg: String = "RS256") async throws -> String {
        try await get("/rotate?alg=\(alg)")
    }

    /// Who the next `/authorize` signs in (claims of the access and id tokens, besides iss/aud/exp).
    public func loginAs(claims: JSONValue) async throws {
        _ = try await get("/login-as?claims=\(Self.escape(claims.description))")
    }

    /// Opens an authorization URL as a browser would and returns where the provider redirects (not followed).
    public func authorize(_ url: String) async throws -> String {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            try await client.shutdown()
            guard response.status.code == 302, let location = response.headers.first(name: "Location") else {
                throw FakeIdentityProviderError(description: "fake_idp.py /authorize answered \(response.status.code)")
            }
            return location
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// How many times the JWKS has been fetched.
    public func jwksFetches() async throws -> Int {
        let data = Data(try await get("/stats").utf8)
        let stats = try JSONDecoder().decode([String: Int].self, from: data)
        return stats["jwks_fetches"] ?? -1
    }

    private func get(_ path: String) async throws -> String {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: issuer + path), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        let text = String(buffer: body)
        guard response.status.code == 200 else {
            throw FakeIdentityProviderError(description: "fake_idp.py \(path): \(response.status.code) \(text)")
        }
        return text
    }

    private static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

public struct FakeIdentityProviderError: Error, CustomStringConvertible {
    public var description: String
}

public import AsyncHTTPClient
import EnclaveCore
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle

/// Fetches an OIDC provider's discovery document and JWKS, keeps the keys, and refreshes them on a
/// timer and when a token names a key Enclave has not seen (the provider rotated its keys).
///
/// Refetches caused by unknown `kid`s are rate-limited (`minimumRefetchInterval` since the last fetch
/// of any kind) and concurrent misses wait for the one fetch in flight, so tokens naming made-up keys
/// cannot turn Enclave into a load generator against the provider. The discovery document must name
/// exactly the configured issuer, as OpenID Connect Discovery §4.3 requires; otherwise no key is
/// trusted and `/api/health` says why. A failed refresh keeps the last good keys.
public actor OIDCKeyProvider: Service, VerificationKeySource {
    public nonisolated let configuration: OIDCConfiguration
    private let httpClient: HTTPClient
    private let logger: Logger

    private var keySet = VerificationKeySet.empty
    private var lastAttempt: ContinuousClock.Instant?
    private var refreshing = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var problem: String? = "The provider's keys have not been fetched yet"
    private var lastSuccess: Date?

    /// Bodies larger than this are refused: a JWKS is a few KiB.
    static let maximumDocumentSize = 1024 * 1024

    public init(configuration: OIDCConfiguration, httpClient: HTTPClient = .shared, logger: Logger) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
    }

    /// What `/api/health` reports: OK with the key count, or Not OK with the reason.
    public struct Status: Sendable {
        public var ok: Bool
        public var message: String
    }

    public var status: Status {
        if let problem { return Status(ok: false, message: "\(configuration.issuer): \(problem)") }
        let when = lastSuccess.map { ISO8601DateFormatter().string(from: $0) } ?? "?"
        return Status(
            ok: true, message: "\(configuration.issuer): \(keySet.algorithms.count) signing keys, fetched \(when)")
    }

    public func keys(forKid kid: String?) async -> VerificationKeySet {
        if keySet.contains(kid: kid) { return keySet }
        await refresh(onDemand: true)
        return keySet
    }

    /// Fetches now, or waits for the fetch in flight; on demand only when the rate limit allows.
    public func refresh(onDemand: Bool) async {
        if refreshing {
            await withCheckedContinuation { waiters.append($0) }
            return
        }
        if onDemand, let lastAttempt,
            ContinuousClock.now - lastAttempt < .milliseconds(Int(configuration.minimumRefetchInterval * 1000))
        {
            return
        }
        refreshing = true
        lastAttempt = .now
        await fetch()
        refreshing = false
        let resumed = waiters
        waiters = []
        for waiter in resumed { waiter.resume() }
    }

    public func run() async throws {
        logger.info("trusting an external OIDC provider", metadata: ["oidc": "\(configuration)"])
        let interval = configuration.refreshInterval
        let retry = max(1, min(interval, configuration.minimumRefetchInterval))
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.refresh(onDemand: false)
                let ok = await self.problem == nil
                try await Task.sleep(for: .milliseconds(Int((ok ? interval : retry) * 1000)))
            }
        }
    }

    private struct Discovery: Decodable {
        var issuer: String?
        var jwks_uri: String?
        var authorization_endpoint: String?
        var token_endpoint: String?
        var end_session_endpoint: String?
    }

    /// The provider's browser sign-in endpoints, from its discovery document (nil until it was fetched).
    public struct Endpoints: Sendable, Hashable {
        public var authorization: String
        public var token: String
        public var endSession: String?
    }

    public private(set) var endpoints: Endpoints?

    /// The endpoints, fetching discovery first if they are not known yet.
    public func signInEndpoints() async -> Endpoints? {
        if endpoints == nil { await refresh(onDemand: true) }
        return endpoints
    }

    /// Redeems an authorization code at the token endpoint as Enclave's confidential client: the answer's
    /// status and JSON body (at most 1 MiB).
    public func postForm(_ url: String, fields: [(String, String)], basicAuth: (String, String)?) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        if let (user, password) = basicAuth {
            let credentials = "\(Self.formEncode(user)):\(Self.formEncode(password))"
            request.headers.add(name: "Authorization", value: "Basic \(Data(credentials.utf8).base64EncodedString())")
        }
        let body = fields.map { "\(Self.formEncode($0.0))=\(Self.formEncode($0.1))" }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await httpClient.execute(request, timeout: .seconds(10))
        let data = try await response.body.collect(upTo: Self.maximumDocumentSize)
        return (Int(response.status.code), Data(data.readableBytesView))
    }

    /// `application/x-www-form-urlencoded` escaping (RFC 6749 Appendix B).
    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._*")
        return (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "").replacingOccurrences(of: "%20", with: "+")
    }

    private func fetch() async {
        do {
            let discoveryData = try await get(configuration.discoveryURL)
            let discovery = try JSONDecoder().decode(Discovery.self, from: discoveryData)
            guard discovery.issuer == configuration.issuer else {
                keySet = .empty
                fail(
                    "discovery at \(configuration.discoveryURL) reports issuer '\(discovery.issuer ?? "")', not the configured '\(configuration.issuer)'; no token from it is trusted until they match"
                )
                return
            }
            guard let jwksURI = discovery.jwks_uri, let url = URL(string: jwksURI), let host = url.host,
                url.scheme == "https" || (url.scheme == "http" && OIDCConfiguration.isLoopback(host))
            else {
                fail("discovery names no usable https jwks_uri ('\(discovery.jwks_uri ?? "")')")
                return
            }
            let set = try await VerificationKeySet.parse(jwksJSON: try await get(jwksURI))
            for skipped in set.skipped {
                logger.debug("OIDC key not used", metadata: ["issuer": "\(configuration.issuer)", "why": "\(skipped)"])
            }
            guard !set.algorithms.isEmpty else {
                fail("the JWKS at \(jwksURI) has no RS256 or ES256 signing key")
                return
            }
            if Set(set.algorithms.keys) != Set(keySet.algorithms.keys) {
                logger.info(
                    "OIDC signing keys loaded",
                    metadata: ["issuer": "\(configuration.issuer)", "kids": "\(set.algorithms.keys.sorted())"])
            }
            keySet = set
            if let authorization = discovery.authorization_endpoint, let token = discovery.token_endpoint {
                endpoints = Endpoints(authorization: authorization, token: token, endSession: discovery.end_session_endpoint)
            }
            problem = nil
            lastSuccess = Date()
        } catch {
            fail("cannot fetch discovery or JWKS: \(error)")
        }
    }

    private func fail(_ message: String) {
        if problem != message { logger.error("OIDC provider not usable", metadata: ["problem": "\(message)"]) }
        problem = message
    }

    private func get(_ url: String) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await httpClient.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: Self.maximumDocumentSize)
        guard response.status == .ok else {
            throw OIDCFetchError(description: "GET \(url) answered \(response.status.code)")
        }
        return Data(body.readableBytesView)
    }
}

struct OIDCFetchError: Error, CustomStringConvertible {
    var description: String
}

public import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A small HTTP client for Enclave's (Azure TRE's) REST API, used by the `enclave` client commands.
///
/// It adds the bearer token, resolves paths and `Location` headers against the server URL, and caps
/// every response body (64 MiB by default) so a misbehaving server cannot make the CLI buffer without
/// bound. Errors say which URL failed: `EnclaveClientError.unreachable` for transport failures,
/// `.api` with the server's plain-text message for non-2xx answers.
public struct EnclaveClient: Sendable {
    /// The request methods the API uses.
    public enum Method: String, Sendable {
        case get = "GET", post = "POST", patch = "PATCH", delete = "DELETE"
    }

    /// A received response with its body fully read (up to the cap).
    public struct Response: Sendable {
        public var url: String
        public var status: Int
        /// Header fields in the order received, names as sent.
        public var headers: [(name: String, value: String)]
        public var body: Data

        public init(url: String, status: Int, headers: [(name: String, value: String)], body: Data) {
            self.url = url
            self.status = status
            self.headers = headers
            self.body = body
        }

        public var isSuccess: Bool { (200..<300).contains(status) }

        /// The first value of a header, matched case-insensitively.
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        /// The `Location` header every asynchronous mutation answers with.
        public var location: String? { header("location") }

        /// The body as UTF-8 text, trimmed: the API's error messages are plain text.
        public var text: String {
            String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// Returns the response if it is a 2xx, else throws `.api` with the server's message.
        @discardableResult
        public func requireSuccess() throws(EnclaveClientError) -> Response {
            guard isSuccess else {
                let message = text.isEmpty ? HTTPResponseStatus(statusCode: status).reasonPhrase : text
                throw EnclaveClientError.api(status: status, message: message, url: url)
            }
            return self
        }
    }

    /// Server root, e.g. `https://enclave.example.org`; API paths (`/api/...`) are appended to it.
    public var baseURL: String
    /// Bearer token; nil sends no `Authorization` header (enough for `/api/health`).
    public var token: String?
    /// Where the bearer token comes from when it can change while a command runs (a saved sign-in that
    /// is refreshed); when set, it replaces `token`.
    public var tokenProvider: (any BearerTokenProvider)?
    /// Largest response body read; larger bodies fail with `.bodyTooLarge`.
    public var maxBodyBytes: Int
    /// Deadline for one request, connection to last byte.
    public var timeout: Duration
    public var httpClient: HTTPClient

    public init(
        baseURL: String, token: String?, tokenProvider: (any BearerTokenProvider)? = nil,
        httpClient: HTTPClient = EnclaveClient.sharedHTTPClient, maxBodyBytes: Int = 64 << 20,
        timeout: Duration = .seconds(30)
    ) {
        self.baseURL = baseURL
        self.token = token
        self.tokenProvider = tokenProvider
        self.httpClient = httpClient
        self.maxBodyBytes = maxBodyBytes
        self.timeout = timeout
    }

    /// The process-wide HTTP client: `HTTPClient.shared`'s settings, except that a refused or failed
    /// connection is reported at once (connect timeout 10 s) instead of being retried until the request's
    /// deadline — a CLI pointed at the wrong URL should say so, not hang for 30 s. Like `.shared`, it
    /// lives as long as the process and is never shut down.
    public static let sharedHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// The absolute URL for an API path or a `Location` header value (absolute URLs pass through).
    public func url(for path: String) -> String {
        if path.hasPrefix("http://") || path.hasPrefix("https://") { return path }
        var root = baseURL
        while root.hasSuffix("/") { root.removeLast() }
        return path.hasPrefix("/") ? root + path : root + "/" + path
    }

    /// Sends a request and returns the response whatever its status; throws only for transport
    /// failures, oversized bodies and a token provider that cannot renew the sign-in.
    ///
    /// With a `tokenProvider`, a 401 is answered by asking it once for a renewed token and sending the
    /// request again with it (a 401 means the server did not act on the request, so resending is safe).
    public func send(
        _ method: Method, _ path: String, body: Data? = nil, headers: [String: String] = [:]
    ) async throws(EnclaveClientError) -> Response {
        guard let tokenProvider else {
            return try await send(method, path, body: body, headers: headers, bearer: token)
        }
        let bearer = try await tokenProvider.currentToken()
        let response = try await send(method, path, body: body, headers: headers, bearer: bearer)
        guard response.status == 401, let renewed = try await tokenProvider.token(replacing: bearer), renewed != bearer
        else { return response }
        return try await send(method, path, body: body, headers: headers, bearer: renewed)
    }

    private func send(
        _ method: Method, _ path: String, body: Data?, headers: [String: String], bearer: String?
    ) async throws(EnclaveClientError) -> Response {
        let url = url(for: path)
        guard URL(string: url)?.host != nil else { throw EnclaveClientError.invalidURL(url) }
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method.rawValue)
        request.headers.add(name: "Accept", value: "application/json, text/plain")
        request.headers.add(name: "User-Agent", value: "enclave-cli")
        if let bearer, !bearer.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
        }
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, timeout: TimeAmount(timeout))
        } catch {
            throw EnclaveClientError.unreachable(url: url, reason: Self.describe(error))
        }
        let buffer: ByteBuffer
        do {
            buffer = try await response.body.collect(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw EnclaveClientError.bodyTooLarge(url: url, limit: maxBodyBytes)
        } catch {
            throw EnclaveClientError.unreachable(url: url, reason: Self.describe(error))
        }
        return Response(
            url: url, status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
            body: Data(buffer.readableBytesView))
    }

    /// GET that throws `.api` unless the answer is 2xx.
    public func get(_ path: String) async throws(EnclaveClientError) -> Response {
        try await send(.get, path).requireSuccess()
    }

    /// POST that throws `.api` unless the answer is 2xx.
    public func post(_ path: String, body: Data? = nil) async throws(EnclaveClientError) -> Response {
        try await send(.post, path, body: body).requireSuccess()
    }

    /// PATCH that throws `.api` unless the answer is 2xx; `etag` is sent as the API requires.
    public func patch(_ path: String, body: Data, etag: String) async throws(EnclaveClientError) -> Response {
        try await send(.patch, path, body: body, headers: ["etag": etag]).requireSuccess()
    }

    /// DELETE that throws `.api` unless the answer is 2xx.
    public func delete(_ path: String) async throws(EnclaveClientError) -> Response {
        try await send(.delete, path).requireSuccess()
    }

    /// Decodes a whole JSON body.
    public func decode<T: Decodable>(_ type: T.Type, from response: Response) throws(EnclaveClientError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: response.body)
        } catch {
            throw EnclaveClientError.invalidResponse(url: response.url, reason: String(describing: error))
        }
    }

    /// Decodes the value under `key` of Azure TRE's envelope, e.g. `{"workspace": {...}}`.
    public func decode<T: Decodable>(
        _ type: T.Type, key: String, from response: Response
    ) throws(EnclaveClientError) -> T {
        let envelope = try decode([String: T].self, from: response)
        guard let value = envelope[key] else {
            throw EnclaveClientError.invalidResponse(url: response.url, reason: "no \"\(key)\" member in the body")
        }
        return value
    }

    /// A transport error in a few words ("Connection refused"), not NIO's debugging description.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as IOError: String(cString: strerror(error.errnoCode))
        case let error as SocketAddressError.UnknownHost: "unknown host \(error.host) (\(error.errorDescription))"
        case let error as NIOConnectionError:
            error.connectionErrors.first.map { describe($0.error) }
                ?? (error.dnsAError ?? error.dnsAAAAError).map { describe($0) }
                ?? String(describing: error)
        case let error as HTTPClientError where error == .connectTimeout: "connection timed out"
        case let error as HTTPClientError where error == .deadlineExceeded: "no answer within the request timeout"
        case let error as HTTPClientError: error.description
        default: String(describing: error)
        }
    }
}

/// Supplies `EnclaveClient`'s bearer token when it may change during a command: a saved sign-in whose
/// access token is refreshed shortly before it expires, or after the server refused it.
public protocol BearerTokenProvider: Sendable {
    /// The token to send now; may first refresh one that is about to expire. Nil sends none.
    func currentToken() async throws(EnclaveClientError) -> String?
    /// Called once after the server answered 401 to `rejected`: a different token to retry with, or nil
    /// to give up and report the 401. Throws when renewing failed in a way the user must act on.
    func token(replacing rejected: String?) async throws(EnclaveClientError) -> String?
}

/// Why a call to the API failed, with the URL so the message can say what was asked of whom.
public enum EnclaveClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered with a non-2xx status; `message` is its plain-text body.
    case api(status: Int, message: String, url: String)
    /// The server could not be reached (DNS, refused connection, TLS, timeout).
    case unreachable(url: String, reason: String)
    /// The body exceeded `EnclaveClient.maxBodyBytes`.
    case bodyTooLarge(url: String, limit: Int)
    /// The body was not the JSON the API documents.
    case invalidResponse(url: String, reason: String)
    /// The configured server URL is not an http(s) URL.
    case invalidURL(String)
    /// The saved sign-in could not be used or renewed (refresh refused, config unreadable); the message says what to do.
    case credentials(String)

    public var description: String {
        switch self {
        case .api(let status, let message, _):
            "Error (\(status)): \(message.isEmpty ? "no message" : message)"
        case .unreachable(let url, let reason):
            "Error: could not reach \(url): \(reason)"
        case .bodyTooLarge(let url, let limit):
            "Error: the response from \(url) is larger than \(limit) bytes"
        case .invalidResponse(let url, let reason):
            "Error: unexpected response from \(url): \(reason)"
        case .invalidURL(let url):
            "Error: '\(url)' is not a server URL (expected e.g. https://enclave.example.org)"
        case .credentials(let message):
            "Error: \(message)"
        }
    }
}

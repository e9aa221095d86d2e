import AsyncHTTPClient
import EnclaveCore
public import Hummingbird
import HTTPTypes
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Forwards HTTP requests to upstreams over a keep-alive connection pool, streaming both bodies: the request
/// body goes upstream as it arrives, the response body comes back as the upstream sends it.
///
/// The HTTP client is created on first use (so building a router creates no event-loop resources) and shut
/// down by `GatewayHTTPProxy.Shutdown`, a service of the application.
public final class GatewayHTTPProxy: Sendable {
    private let client = NIOLockedValueBox<HTTPClient?>(nil)
    private let closed = NIOLockedValueBox(false)
    /// The longest the gateway waits for an upstream's response head (a long-poll or a slow notebook cell may
    /// take a while; the body then streams without a deadline).
    public let responseTimeout: TimeAmount

    public init(responseTimeout: TimeAmount = .minutes(10)) {
        self.responseTimeout = responseTimeout
    }

    var httpClient: HTTPClient {
        get throws {
            try client.withLockedValue { client in
                if let client { return client }
                if closed.withLockedValue({ $0 }) { throw EnclaveError.serviceUnavailable("The gateway is shutting down") }
                var configuration = HTTPClient.Configuration(
                    redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: nil), decompression: .disabled)
                configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
                configuration.httpVersion = .http1Only
                let created = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
                client = created
                return created
            }
        }
    }

    /// Forwards `request` to `target` and returns the upstream's response, body streaming.
    /// - Throws: `badGateway` when the upstream cannot be reached or fails before its response head.
    public func forward(
        _ request: Request, path: GatewayPath, to target: GatewayTarget, origin: ForwardedHeaders.Origin, sessionCookie: String
    ) async throws -> Response {
        var upstream = HTTPClientRequest(url: target.url(for: path))
        upstream.method = HTTPMethod(rawValue: request.method.rawValue)
        let fields = ForwardedHeaders.request(
            request.headers, origin: origin, credential: target.credential, sessionCookie: sessionCookie)
        upstream.headers = HTTPHeaders(fields.map { ($0.name.rawName, $0.value) })
        if let length = request.headers[.contentLength].flatMap(Int64.init) {
            if length > 0 { upstream.body = .stream(request.body, length: .known(length)) }
        } else if request.headers[.transferEncoding] != nil {
            upstream.body = .stream(request.body, length: .unknown)
        }
        let client = try httpClient
        let response: HTTPClientResponse
        do {
            response = try await client.execute(upstream, timeout: responseTimeout)
        } catch {
            throw EnclaveError.badGateway("The service did not answer (is it running?): \(Self.describe(error))")
        }
        var headers = HTTPFields()
        for (name, value) in response.headers {
            if let name = HTTPField.Name(name) { headers.append(HTTPField(name: name, value: value)) }
        }
        headers = ForwardedHeaders.response(headers, sessionCookie: sessionCookie)
        let status = HTTPResponse.Status(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase)
        let body = response.body
        let length = headers[.contentLength].flatMap(Int.init)
        return Response(
            status: status, headers: headers,
            body: ResponseBody(contentLength: length) { writer in
                for try await buffer in body { try await writer.write(buffer) }
                try await writer.finish(nil)
            })
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return "\(error)" }
        return String(describing: type(of: error))
    }

    /// Shuts the pool down: later requests get 503.
    public func shutdown() async throws {
        closed.withLockedValue { $0 = true }
        if let client = client.withLockedValue({ client in defer { client = nil }; return client }) {
            try await client.shutdown()
        }
    }

    /// Runs until graceful shutdown, then closes the gateway's upstream connections.
    public struct Shutdown: Service {
        let proxy: GatewayHTTPProxy

        public init(_ proxy: GatewayHTTPProxy) {
            self.proxy = proxy
        }

        public func run() async throws {
            try? await gracefulShutdown()
            try await proxy.shutdown()
        }
    }
}

public import AsyncHTTPClient
public import EnclaveCore
import Foundation
public import NIOCore
import NIOHTTP1

/// POSTs signed notification bodies to webhook receivers.
public struct WebhookSender: Sendable {
    let client: HTTPClient
    let timeout: TimeAmount

    /// `client` should not follow redirects: a signed body is meant for the configured URL only.
    public init(client: HTTPClient, timeout: TimeAmount = .seconds(10)) {
        self.client = client
        self.timeout = timeout
    }

    /// A client for webhooks: no redirects, the shared event loops.
    public static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// One attempt: 2xx delivered; 429, 5xx and network errors worth retrying; anything else refused.
    public func send(to endpoint: WebhookEndpoint, deliveryId: String, body: [UInt8]) async -> NotificationAttemptResult {
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Enclave-Airlock-Notifier")
        request.headers.add(name: WebhookSignature.header, value: WebhookSignature.sign(secret: endpoint.secret, body: body))
        request.headers.add(name: "X-Enclave-Delivery", value: deliveryId)
        request.headers.add(name: "X-Enclave-Event", value: "airlock.status_changed")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: timeout)
            // Read (and bound) the reply so the connection can be reused; its content is not needed.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return NotificationRetryPolicy.classify(httpStatus: Int(response.status.code))
        } catch {
            return .retry("\(error)")
        }
    }
}

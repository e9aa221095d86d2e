public import HTTPTypes
public import HummingbirdWebSocket
import HummingbirdWSClient
public import Logging
import NIOConcurrencyHelpers
import NIOWebSocket

/// Relays a WebSocket accepted from a browser to the upstream's WebSocket, message by message, both ways,
/// until either side closes; the other side is then closed too.
public enum WebSocketRelay {
    /// The largest message relayed (a noVNC frame update or a notebook output can be large).
    public static let maxMessageSize = 16 * 1024 * 1024

    /// What went through, for the `gateway.disconnect` record.
    public struct Counts: Sendable {
        public var toUpstream = 0
        public var toClient = 0

        public init(toUpstream: Int = 0, toClient: Int = 0) {
            self.toUpstream = toUpstream
            self.toClient = toClient
        }
    }

    /// Connects to `url` with `headers` and relays until one side closes.
    /// - Throws: when the upstream cannot be reached (the client's socket is then closed with 1011).
    public static func run(
        client inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter, upstreamURL url: String,
        headers: HTTPFields, logger: Logger
    ) async throws -> Counts {
        let configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 20, additionalHeaders: headers)
        let counts = NIOLockedValueBox(Counts())
        do {
            try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { upIn, upOut, _ in
                let relayed = try await withThrowingTaskGroup(of: Counts.self) { group in
                    group.addTask {
                        var counts = Counts()
                        for try await message in inbound.messages(maxSize: maxMessageSize) {
                            try await send(message, to: upOut)
                            counts.toUpstream += 1
                        }
                        return counts
                    }
                    group.addTask {
                        var counts = Counts()
                        for try await message in upIn.messages(maxSize: maxMessageSize) {
                            try await send(message, to: outbound)
                            counts.toClient += 1
                        }
                        return counts
                    }
                    // The first side to finish ends the relay; the other is cancelled.
                    let first = try await group.next() ?? Counts()
                    group.cancelAll()
                    let second = (try? await group.next()) ?? Counts()
                    return Counts(toUpstream: first.toUpstream + second.toUpstream, toClient: first.toClient + second.toClient)
                }
                counts.withLockedValue { $0 = relayed }
                try? await upOut.close(.normalClosure, reason: nil)
            }
        } catch {
            try? await outbound.close(.unexpectedServerError, reason: "upstream unavailable")
            throw error
        }
        try? await outbound.close(.normalClosure, reason: nil)
        return counts.withLockedValue { $0 }
    }

    private static func send(_ message: WebSocketMessage, to writer: WebSocketOutboundWriter) async throws {
        switch message {
        case .text(let text): try await writer.write(.text(text))
        case .binary(let buffer): try await writer.write(.binary(buffer))
        }
    }
}

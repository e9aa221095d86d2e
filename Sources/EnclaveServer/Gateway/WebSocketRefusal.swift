// A refused WebSocket upgrade answered like the same request over plain HTTP (401, 403 with its audit record,
// 404…), instead of hummingbird-websocket's fixed, bare 400.
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// Answers a WebSocket upgrade that `shouldUpgrade` refused with the router's own response to that request.
///
/// hummingbird-websocket 2.8 writes `400` with `Connection: close` for every refused upgrade and offers no way to
/// change it. So, before returning `.dontUpgrade`, the request is run through the application's router (the same
/// authentication, `AuditDenialMiddleware` and error mapping as any HTTP request), and a `Rewriter` added to the
/// connection turns the package's 400 into that response. The request has no body (an upgrade carries none).
struct WebSocketRefusal: Sendable {
    let responder: RouterResponder<EnclaveRequestContext>
    /// The largest refusal body kept (error bodies are small JSON; anything larger is cut, not streamed).
    static let maxBody = 64 * 1024

    func answer(_ head: HTTPRequest, channel: any Channel, logger: Logger) async {
        let request = Request(head: head, body: .init(buffer: ByteBuffer()))
        let context = EnclaveRequestContext(source: .init(channel: channel, logger: logger))
        let outcome = await asyncResult { () -> (HTTPResponse, ByteBuffer) in
            let response = try await responder.respond(to: request, context: context)
            let sink = BodyCollector.Sink()
            try await response.body.write(BodyCollector(limit: Self.maxBody, sink: sink))
            return (response.head, sink.buffer)
        }
        let (response, body): (HTTPResponse, ByteBuffer)
        switch outcome {
        case .success(let answered): (response, body) = answered
        case .failure(let error):
            logger.error("could not answer a refused WebSocket upgrade", metadata: ["error": "\(error)"])
            (response, body) = (HTTPResponse(status: .internalServerError), ByteBuffer())
        }
        var headers = HTTPHeaders()
        for field in response.headerFields where field.name != .contentLength && field.name != .connection
            && field.name != .transferEncoding
        {
            headers.add(name: field.name.canonicalName, value: field.value)
        }
        headers.replaceOrAdd(name: "content-length", value: "\(body.readableBytes)")
        headers.replaceOrAdd(name: "connection", value: "close")
        let status = HTTPResponseStatus(statusCode: response.status.code, reasonPhrase: response.status.reasonPhrase)
        let rewriter = Rewriter(head: HTTPResponseHead(version: .http1_1, status: status, headers: headers), body: body)
        let added = await asyncResult { try await channel.pipeline.addHandler(rewriter).get() }
        if case .failure(let error) = added {
            logger.debug("could not answer a refused WebSocket upgrade", metadata: ["error": "\(error)"])
        }
    }

    /// Replaces the response hummingbird-websocket writes for a failed upgrade (`400`, then end) with the router's.
    ///
    /// Added after the upgrade handler, it sits between the HTTP/1 encoder and the codec hummingbird adds once the
    /// upgrade is refused, so the package's own write (after the refusal, on the connection it then closes) carries
    /// this response: nothing races it.
    final class Rewriter: ChannelOutboundHandler, Sendable {
        typealias OutboundIn = HTTPServerResponsePart
        typealias OutboundOut = HTTPServerResponsePart
        let head: HTTPResponseHead
        let body: ByteBuffer

        init(head: HTTPResponseHead, body: ByteBuffer) {
            self.head = head
            self.body = body
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            switch unwrapOutboundIn(data) {
            case .head:
                context.write(wrapOutboundOut(.head(head)), promise: promise)
            case .body:
                promise?.succeed()
            case .end(let trailers):
                if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
                context.write(wrapOutboundOut(.end(trailers)), promise: promise)
            }
        }
    }

    /// Keeps a response body in memory (at most `limit` bytes).
    struct BodyCollector: ResponseBodyWriter {
        final class Sink {
            var buffer = ByteBuffer()
        }
        let limit: Int
        let sink: Sink

        mutating func write(_ part: ByteBuffer) async throws {
            var part = part
            let room = max(0, limit - sink.buffer.readableBytes)
            if let kept = part.readSlice(length: min(room, part.readableBytes)) { sink.buffer.writeImmutableBuffer(kept) }
        }

        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}

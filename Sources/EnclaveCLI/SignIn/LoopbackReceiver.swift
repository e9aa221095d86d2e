import Foundation
import NIOCore
import Synchronization
import NIOHTTP1
import NIOPosix

/// The one-request HTTP listener on `127.0.0.1` that receives the provider's redirect after a browser
/// sign-in (a native app's loopback redirect, RFC 8252 §7.3).
///
/// It binds an ephemeral port, so the redirect URI is only known once listening; `ready` gets it to build
/// the authorization URL and open the browser. Requests to other paths (a browser's `/favicon.ico`)
/// get a 404 and waiting goes on; the first request to `path` ends the wait: `judge` decides from its
/// query whether the sign-in succeeded, and the browser tab is told so in a small page. Connections are
/// served concurrently, so a browser's idle pre-connection cannot hold up the real request. The port is
/// closed when `receive` returns, throws, times out or is cancelled.
public enum LoopbackReceiver {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// Listens, calls `ready` with the redirect URI, and returns what `judge` made of the first request
    /// to `path` (or throws its refusal); throws a `CLIError` if none came within `timeout`.
    public static func receive<T: Sendable>(
        path: String = "/callback", timeout: Duration,
        ready: (_ redirectURI: String) async throws -> Void,
        judge: @escaping @Sendable (_ query: [String: String]) -> Result<T, CLIError>
    ) async throws -> T {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        guard let port = server.channel.localAddress?.port else {
            try? await server.channel.close()
            throw CLIError("Could not listen on 127.0.0.1 for the sign-in redirect")
        }
        let (outcomes, outcome) = AsyncStream<Result<T, CLIError>>.makeStream()
        defer { outcome.finish() }
        return try await server.executeThenClose { inbound in
            try await ready("http://127.0.0.1:\(port)\(path)")
            return try await withThrowingTaskGroup(of: Result<T, CLIError>?.self) { group in
                group.addTask {
                    // Accepts connections until cancelled; each is served in its own child task.
                    try await withTaskCancellationHandler {
                        try await withThrowingDiscardingTaskGroup { connections in
                            for try await connection in inbound {
                                connections.addTask {
                                    if let result = await serve(connection, path: path, judge: judge) { outcome.yield(result) }
                                }
                            }
                        }
                    } onCancel: {
                        server.channel.close(promise: nil)
                    }
                    return nil
                }
                group.addTask {
                    for await result in outcomes { return result }
                    return nil
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return .failure(
                        CLIError("No sign-in arrived from the browser within \(timeout.components.seconds) s; run `enclave login` again"))
                }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let result = next { return try result.get() }
                }
                throw CancellationError()
            }
        }
    }

    /// Serves one connection: one request, one answer, then close. Returns the outcome when the request
    /// was to `path`.
    private static func serve<T: Sendable>(
        _ connection: Connection, path: String, judge: @Sendable ([String: String]) -> Result<T, CLIError>
    ) async -> Result<T, CLIError>? {
        // The verdict is kept apart from the connection: if the browser closes first and writing the page
        // or closing the connection throws, the verdict still ends the wait (a loaded CI run otherwise
        // waited out the whole timeout after answering a forged state with 400).
        let decided = Mutex<Result<T, CLIError>?>(nil)
        let served: Result<T, CLIError>?? = try? await withTaskCancellationHandler {
            try await connection.executeThenClose { input, output in
                var head: HTTPRequestHead?
                for try await part in input {
                    switch part {
                    case .head(let received): head = received
                    case .body: continue
                    case .end:
                        guard let head else { return nil }
                        let components = URLComponents(string: "http://127.0.0.1" + head.uri)
                        guard head.method == .GET, components?.path == path else {
                            try await respond(output, status: .notFound, page: page("Not found", "Nothing here."))
                            return nil
                        }
                        var query: [String: String] = [:]
                        for item in components?.queryItems ?? [] where query[item.name] == nil { query[item.name] = item.value ?? "" }
                        let result = judge(query)
                        decided.withLock { $0 = result }
                        switch result {
                        case .success:
                            try await respond(
                                output, status: .ok,
                                page: page("Signed in", "You are signed in to Enclave. You can close this tab and return to the terminal."))
                        case .failure(let error):
                            try await respond(
                                output, status: .badRequest,
                                page: page("Sign-in failed", "\(error.message) You can close this tab."))
                        }
                        return result
                    }
                }
                return nil
            }
        } onCancel: {
            connection.channel.close(promise: nil)
        }
        return decided.withLock { $0 } ?? served ?? nil
    }

    private static func respond(
        _ output: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, status: HTTPResponseStatus, page: String
    ) async throws {
        let body = ByteBuffer(string: page)
        let headers = HTTPHeaders([
            ("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "\(body.readableBytes)"),
            ("Cache-Control", "no-store"), ("Connection", "close"), ("Referrer-Policy", "no-referrer"),
        ])
        try await output.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
        try await output.write(.body(.byteBuffer(body)))
        try await output.write(.end(nil))
    }

    /// A minimal page; the text is escaped.
    static func page(_ title: String, _ text: String) -> String {
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        return """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Enclave: \(escape(title))</title></head>
            <body style="font-family: sans-serif; margin: 3em"><h1>\(escape(title))</h1><p>\(escape(text))</p></body></html>

            """
    }
}

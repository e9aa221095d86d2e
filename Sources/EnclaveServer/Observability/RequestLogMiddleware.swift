import Foundation
import Hummingbird
import Logging

/// Logs every request as Hummingbird's `LogRequestsMiddleware` does (a `Request` line with
/// `hb.request.method` and `hb.request.path`), except that the values of query parameters that are
/// secrets — the `token` of setup and invitation links — are written as `REDACTED`: whoever reads the
/// logs must not be able to open someone's invitation before they do.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let level: Logger.Level

    /// Query parameters whose values are never logged.
    static var secretParameters: Set<String> { ["token"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        context.logger.log(
            level: level, "Request",
            metadata: [
                "hb.request.path": .string(Self.loggable(path: request.uri.path, query: request.uri.query)),
                "hb.request.method": .string(request.method.rawValue),
            ])
        return try await next(request, context)
    }

    /// The path and query with the values of secret parameters replaced.
    static func loggable(path: String, query: String?) -> String {
        guard let query, !query.isEmpty else { return path }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            let name = String(pair.prefix { $0 != "=" })
            let decoded = name.removingPercentEncoding ?? name
            return secretParameters.contains(decoded) ? "\(name)=REDACTED" : String(pair)
        }
        return path + "?" + pairs.joined(separator: "&")
    }
}

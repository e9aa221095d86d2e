import EnclaveCore
import Foundation

/// A gateway request target, `/workspaces/{ws}/services/{svc}[/user-resources/{ur}]/{rest}?{query}`, checked so
/// that what is forwarded stays inside the service.
///
/// Every segment is percent-decoded once and refused (400) when it decodes to `.` or `..`, or contains a
/// slash, a backslash or NUL: an upstream that decodes `%2F` or treats `\` as a separator would otherwise see a
/// different path than the one authorised. The rest is forwarded as received (still encoded), so the
/// upstream decodes exactly what was checked.
public struct GatewayPath: Sendable, Hashable {
    public var workspaceId: String
    public var serviceId: String
    public var userResourceId: String?
    /// The path after the resource's prefix, starting with `/`; empty when the request named the resource
    /// without a trailing slash (the gateway redirects to the prefix with one, as tools expect).
    public var remainder: String
    public var query: String?

    /// Longest request target accepted (414 beyond).
    public static let maxTargetLength = 8 * 1024

    /// The resource's gateway prefix, without a trailing slash.
    public var prefix: String {
        var prefix = "/workspaces/\(workspaceId)/services/\(serviceId)"
        if let userResourceId { prefix += "/user-resources/\(userResourceId)" }
        return prefix
    }

    /// The audit target: the resource's API path.
    public var resourcePath: String {
        var path = "/workspaces/\(workspaceId)/workspace-services/\(serviceId)"
        if let userResourceId { path += "/user-resources/\(userResourceId)" }
        return path
    }

    /// Parses a raw request target (`request.uri.string`); throws `uriTooLong`, `badRequest` or `notFound`.
    public static func parse(_ target: String) throws -> GatewayPath {
        guard target.utf8.count <= maxTargetLength else {
            throw EnclaveError.uriTooLong("The request target is longer than \(maxTargetLength) bytes")
        }
        let path: Substring
        let query: String?
        if let mark = target.firstIndex(of: "?") {
            path = target[..<mark]
            query = String(target[target.index(after: mark)...])
        } else {
            path = target[...]
            query = nil
        }
        let raw = path.split(separator: "/", omittingEmptySubsequences: false)
        guard raw.count >= 5, raw[0].isEmpty, raw[1] == "workspaces", raw[3] == "services" else {
            throw EnclaveError.notFound("Not a gateway path: /workspaces/{workspaceId}/services/{serviceId}/…")
        }
        var decoded: [String] = []
        for segment in raw.dropFirst() {
            guard let text = segment.removingPercentEncoding else {
                throw EnclaveError.badRequest("The path has an invalid percent-encoding in '\(segment)'")
            }
            if text == "." || text == ".." {
                throw EnclaveError.badRequest("The path must not contain '.' or '..' segments")
            }
            if text.contains("/") || text.contains("\\") || text.unicodeScalars.contains("\0") {
                throw EnclaveError.badRequest("The path must not contain encoded slashes, backslashes or NUL")
            }
            decoded.append(text)
        }
        // decoded[0] = "workspaces", [1] = ws, [2] = "services", [3] = svc, …
        guard !decoded[1].isEmpty, !decoded[3].isEmpty else {
            throw EnclaveError.notFound("Not a gateway path: /workspaces/{workspaceId}/services/{serviceId}/…")
        }
        var rest = 4
        var userResourceId: String?
        if decoded.count > 4, decoded[4] == "user-resources" {
            guard decoded.count > 5, !decoded[5].isEmpty else {
                throw EnclaveError.notFound("Not a gateway path: …/user-resources/{userResourceId}/…")
            }
            userResourceId = decoded[5]
            rest = 6
        }
        // raw has the leading empty segment, so raw index = decoded index + 1.
        let remainder = rest + 1 < raw.count ? "/" + raw[(rest + 1)...].joined(separator: "/") : ""
        return GatewayPath(
            workspaceId: decoded[1], serviceId: decoded[3], userResourceId: userResourceId, remainder: remainder, query: query)
    }
}

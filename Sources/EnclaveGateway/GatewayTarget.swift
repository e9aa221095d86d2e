public import EnclaveCore
import Foundation

/// Where the gateway forwards a resource's traffic, read from its sealed `gateway_upstream` and
/// `gateway_credential` deployer outputs (see `GatewayOutputs`).
public struct GatewayTarget: Sendable, Hashable {
    /// `http` or `https`.
    public var scheme: String
    public var host: String
    public var port: Int
    /// The upstream's base path without a trailing slash ("" for the root).
    public var basePath: String
    public var credential: Credential?

    /// A secret the gateway adds to every forwarded request; users never see it.
    public enum Credential: Sendable, Hashable {
        case header(name: String, value: String)
        case query(name: String, value: String)
    }

    public init(scheme: String, host: String, port: Int, basePath: String = "", credential: Credential? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
        self.credential = credential
    }

    /// Reads the target from a resource's opened secrets; nil when the deployer reported no upstream.
    /// Throws when the values are malformed (a template bug: 502 to the caller, the reason in the message).
    public init?(secrets: [String: JSONValue]) throws {
        guard let upstream = secrets[GatewayOutputs.upstream]?.stringValue, !upstream.isEmpty else { return nil }
        guard let url = URLComponents(string: upstream), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.query == nil
        else {
            throw EnclaveError.badGateway("The service's gateway_upstream is not an http(s) URL without a query")
        }
        var base = url.percentEncodedPath
        while base.hasSuffix("/") { base.removeLast() }
        var credential: Credential?
        if let spec = secrets[GatewayOutputs.credential], spec != .null {
            guard let value = spec["value"]?.stringValue else {
                throw EnclaveError.badGateway("The service's gateway_credential has no string 'value'")
            }
            if let name = spec["header"]?.stringValue, !name.isEmpty {
                credential = .header(name: name, value: value)
            } else if let name = spec["query"]?.stringValue, !name.isEmpty {
                credential = .query(name: name, value: value)
            } else {
                throw EnclaveError.badGateway("The service's gateway_credential needs 'header' or 'query'")
            }
        }
        self.init(
            scheme: scheme, host: host, port: url.port ?? (scheme == "https" ? 443 : 80), basePath: base, credential: credential)
    }

    /// The upstream URL of a checked gateway path: base path + remainder, the query with the credential added.
    public func url(for path: GatewayPath, webSocket: Bool = false) -> String {
        var query = path.query
        if case .query(let name, let value) = credential {
            let pair = "\(Self.encode(name))=\(Self.encode(value))"
            query = query.map { $0.isEmpty ? pair : "\($0)&\(pair)" } ?? pair
        }
        let wsScheme = scheme == "https" ? "wss" : "ws"
        let remainder = path.remainder.isEmpty ? "/" : path.remainder
        var url = "\(webSocket ? wsScheme : scheme)://\(hostForURL):\(port)\(basePath)\(remainder)"
        if let query { url += "?\(query)" }
        return url
    }

    private var hostForURL: String { host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host }

    private static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

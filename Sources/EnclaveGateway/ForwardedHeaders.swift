import EnclaveCore
public import HTTPTypes

/// The headers the gateway sends upstream and returns downstream (RFC 9110 §7.6.1 for hop-by-hop).
///
/// Upstream never sees Enclave's own credentials (the bearer token, the session cookie, the CSRF token) nor
/// client-supplied `X-Forwarded-*`; it gets the tool's credential, when the deployer gave one, and the
/// gateway's own `X-Forwarded-For/-Proto/-Host/-Prefix`, plus who the gateway authenticated in
/// `X-Forwarded-User` (the user id) and `X-Forwarded-Email` (as oauth2-proxy does). A tool may trust those only
/// together with its credential (the git server does: they become git's REMOTE_USER). Downstream never gets a
/// `Set-Cookie` for the session cookie, so a tool cannot replace the user's Enclave session.
public enum ForwardedHeaders {
    /// More header fields than this: 431.
    public static let maxFieldCount = 100
    /// More header bytes (names + values) than this: 431.
    public static let maxFieldBytes = 32 * 1024

    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer",
        "transfer-encoding", "upgrade",
    ]
    /// Never forwarded upstream: Enclave's credentials, what the HTTP client sets itself, and what the gateway sets.
    static let dropped: Set<String> = [
        "authorization", "x-csrf-token", "host", "content-length", "forwarded", "x-forwarded-for", "x-forwarded-proto",
        "x-forwarded-host", "x-forwarded-prefix", "x-forwarded-port", "x-real-ip", "x-forwarded-user", "x-forwarded-email",
    ]
    /// The WebSocket handshake fields the gateway's own client negotiates with the upstream.
    static let webSocketHandshake: Set<String> = ["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-accept"]

    /// Who asked, as the upstream is told.
    public struct Origin: Sendable {
        public var clientAddress: String?
        /// `http` or `https`: the scheme of the public URL.
        public var proto: String
        /// The public host (and port) browsers use.
        public var host: String
        /// The resource's gateway prefix (`X-Forwarded-Prefix`), so tools can build their own URLs.
        public var prefix: String
        /// The authenticated caller's user id (`X-Forwarded-User`) and email (`X-Forwarded-Email`).
        public var user: String?
        public var email: String?

        public init(clientAddress: String?, proto: String, host: String, prefix: String, user: String? = nil, email: String? = nil) {
            self.clientAddress = clientAddress
            self.proto = proto
            self.host = host
            self.prefix = prefix
            self.user = user
            self.email = email
        }
    }

    /// Throws `headersTooLarge` (431) when a request has too many header fields or too many header bytes.
    public static func checkLimits(_ fields: HTTPFields) throws {
        guard fields.count <= maxFieldCount else {
            throw EnclaveError.headersTooLarge("The request has more than \(maxFieldCount) header fields")
        }
        var bytes = 0
        for field in fields { bytes += field.name.rawName.utf8.count + field.value.utf8.count + 4 }
        guard bytes <= maxFieldBytes else {
            throw EnclaveError.headersTooLarge("The request headers are larger than \(maxFieldBytes / 1024) KiB")
        }
    }

    /// The request headers for the upstream.
    public static func request(
        _ fields: HTTPFields, origin: Origin, credential: GatewayTarget.Credential?, sessionCookie: String, webSocket: Bool = false
    ) -> HTTPFields {
        let connectionListed = listedInConnection(fields)
        var out = HTTPFields()
        for field in fields {
            let name = field.name.canonicalName
            if hopByHop.contains(name) || dropped.contains(name) || connectionListed.contains(name) { continue }
            if webSocket && webSocketHandshake.contains(name) { continue }
            if case .header(let credentialName, _) = credential, name == credentialName.lowercased() { continue }
            if field.name == .cookie {
                let kept = field.value.split(separator: ";").map { $0.trimmingLeadingSpaces() }
                    .filter { !$0.hasPrefix("\(sessionCookie)=") }
                if !kept.isEmpty { out.append(HTTPField(name: .cookie, value: kept.joined(separator: "; "))) }
                continue
            }
            out.append(field)
        }
        if let address = origin.clientAddress { set("X-Forwarded-For", address, in: &out) }
        set("X-Forwarded-Proto", origin.proto, in: &out)
        set("X-Forwarded-Host", origin.host, in: &out)
        set("X-Forwarded-Prefix", origin.prefix, in: &out)
        if let user = origin.user { set("X-Forwarded-User", user, in: &out) }
        if let email = origin.email { set("X-Forwarded-Email", email, in: &out) }
        if case .header(let name, let value) = credential { set(name, value, in: &out) }
        return out
    }

    /// The response headers for the client.
    public static func response(_ fields: HTTPFields, sessionCookie: String) -> HTTPFields {
        let connectionListed = listedInConnection(fields)
        var out = HTTPFields()
        for field in fields {
            let name = field.name.canonicalName
            if hopByHop.contains(name) || connectionListed.contains(name) { continue }
            if field.name == .setCookie, field.value.trimmingLeadingSpaces().hasPrefix("\(sessionCookie)=") { continue }
            out.append(field)
        }
        return out
    }

    static func listedInConnection(_ fields: HTTPFields) -> Set<String> {
        Set(fields[values: .connection].flatMap { $0.split(separator: ",") }.map { $0.trimmingLeadingSpaces().lowercased() })
    }

    private static func set(_ name: String, _ value: String, in fields: inout HTTPFields) {
        if let name = HTTPField.Name(name) { fields[name] = value }
    }
}

extension Substring {
    func trimmingLeadingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" })).trimmingTrailingSpaces()
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }

    func trimmingLeadingSpaces() -> String { self[...].trimmingLeadingSpaces() }
}

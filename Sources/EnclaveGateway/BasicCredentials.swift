// HTTP Basic credentials at the gateway: how command-line clients that only speak Basic (git) present an
// Enclave access token, and when a 401 should invite them to.
public import EnclaveCore
import Foundation
public import HTTPTypes

/// `Authorization: Basic base64(user:password)` (RFC 7617), where the password is an Enclave access token.
///
/// git sends nothing but Basic (or a fixed extra header), so the gateway accepts an access token as the
/// password; the user name is not checked (git insists on one; `token` or the user's email both work), because
/// the token alone says who the caller is.
public struct BasicCredentials: Sendable, Hashable {
    public var user: String
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// The realm of the gateway's Basic challenge: git shows it when it asks for a password.
    public static let realm = "Enclave workspace services"
    /// `WWW-Authenticate` value that makes curl (and so git) send Basic credentials.
    public static let challenge = "Basic realm=\"\(realm)\", charset=\"UTF-8\""

    /// Whether an `Authorization` header value uses the Basic scheme (case-insensitive, RFC 9110 §11.1).
    public static func isBasic(_ header: String) -> Bool {
        header.split(separator: " ", maxSplits: 1).first.map { $0.lowercased() == "basic" } ?? false
    }

    /// Parses a Basic `Authorization` header value.
    /// - Returns: the credentials, or `unauthorized` saying what was malformed (not base64, no colon, no password).
    public static func parse(_ header: String) -> Result<BasicCredentials, EnclaveError> {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic" else {
            return .failure(.unauthorized("Could not validate credentials: the Authorization header is not 'Basic <base64(user:token)>'"))
        }
        let encoded = parts[1].trimmingCharacters(in: .whitespaces)
        guard let data = Data(base64Encoded: encoded), let decoded = String(data: data, encoding: .utf8) else {
            return .failure(.unauthorized("Could not validate credentials: the Basic credentials are not base64-encoded UTF-8"))
        }
        guard let colon = decoded.firstIndex(of: ":") else {
            return .failure(.unauthorized("Could not validate credentials: the Basic credentials have no ':' between user name and token"))
        }
        let password = String(decoded[decoded.index(after: colon)...])
        guard !password.isEmpty else {
            return .failure(.unauthorized("Could not validate credentials: the Basic password is empty; use an Enclave access token as the password"))
        }
        return .success(BasicCredentials(user: String(decoded[..<colon]), password: password))
    }

    /// Whether a refused gateway request should get the Basic challenge besides the Bearer one.
    ///
    /// Clients without credentials (git's first request) and clients that sent Basic do: curl only sends Basic
    /// credentials after a Basic challenge. A browser with a session cookie does not, even when its session has
    /// expired: a Basic challenge would make it show its own password dialog over the tool.
    public static func shouldChallenge(_ headers: HTTPFields, sessionCookie: String) -> Bool {
        if let authorization = headers[.authorization] { return isBasic(authorization) }
        let cookies = headers[values: .cookie].flatMap { $0.split(separator: ";") }
        return !cookies.contains { $0.drop(while: { $0 == " " }).hasPrefix("\(sessionCookie)=") }
    }

    /// Whether a Basic-authenticated request comes from another site in a browser (a form or script on another
    /// origin that the browser sent with credentials it remembered). git sends no `Sec-Fetch-Site` nor `Origin`.
    public static func isCrossSiteBrowserRequest(_ headers: HTTPFields) -> Bool {
        guard let site = HTTPField.Name("Sec-Fetch-Site").flatMap({ headers[$0] })?.lowercased() else { return false }
        return site != "same-origin" && site != "none"
    }
}

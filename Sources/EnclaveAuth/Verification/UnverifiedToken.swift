public import EnclaveCore
import Foundation

/// What can be read from a bearer token before its signature is checked: the header's `alg` and `kid`,
/// and the payload's `iss`, used only to choose which key set and rules verify the token.
///
/// Nothing read here is trusted: the issuer picks a verifier, the verifier then checks the signature
/// and every claim again. The size limit is applied before any decoding, so an oversized header cannot
/// make the server parse megabytes of JSON.
public struct UnverifiedToken: Sendable {
    /// Tokens longer than this are refused unread (Entra ID tokens with many groups stay well below it).
    public static let maximumLength = 16 * 1024

    /// Algorithms accepted from any issuer: asymmetric only, so a public key can never act as an HMAC
    /// secret, and `none` is never a signature.
    public enum Algorithm: String, Sendable, CaseIterable {
        case rs256 = "RS256"
        case es256 = "ES256"
    }

    public let algorithm: Algorithm
    public let kid: String?
    /// The `iss` claim as written, unverified.
    public let issuer: String?
    /// The payload, parsed once: the issuer's verifier checks the signature, then applies its rules to
    /// these same claims, so routing and verification can never read two different parses.
    let claims: [String: JSONValue]

    /// Parses the header and payload, refusing what no verifier would accept.
    ///
    /// Throws 401 `EnclaveError`s: too long, malformed, an algorithm outside RS256/ES256, or a critical
    /// header extension (which RFC 7515 requires a verifier to understand).
    public init(_ token: String) throws(EnclaveError) {
        guard token.utf8.count <= Self.maximumLength else {
            throw .unauthorized("Invalid token: it is longer than \(Self.maximumLength / 1024) KiB")
        }
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Self.base64URLDecode(parts[0]),
            let payloadData = Self.base64URLDecode(parts[1]),
            case .object(let header)? = try? JSONValue.parse(headerData),
            case .object(let claims)? = try? JSONValue.parse(payloadData)
        else {
            throw .unauthorized("Invalid token: its signature or format could not be verified")
        }
        guard case .string(let name)? = header["alg"], let algorithm = Algorithm(rawValue: name) else {
            throw .unauthorized("Invalid token: algorithm '\(header["alg"]?.stringValue ?? "")' is not accepted (RS256 or ES256 only)")
        }
        guard header["crit"] == nil else {
            throw .unauthorized("Invalid token: it has critical header extensions, which are not supported")
        }
        if let kid = header["kid"], kid.stringValue == nil {
            throw .unauthorized("Invalid token: its kid is not a string")
        }
        self.kid = header["kid"]?.stringValue
        self.issuer = claims["iss"]?.stringValue
        self.claims = claims
        self.algorithm = algorithm
    }

    /// base64url (no padding) to bytes, or nil.
    static func base64URLDecode(_ text: Substring.UTF8View) -> [UInt8]? {
        var base64: [UInt8] = []
        base64.reserveCapacity(text.count + 3)
        for byte in text {
            switch byte {
            case UInt8(ascii: "-"): base64.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): base64.append(UInt8(ascii: "/"))
            default: base64.append(byte)
            }
        }
        let remainder = base64.count % 4
        if remainder == 1 { return nil }
        if remainder > 0 { base64.append(contentsOf: repeatElement(UInt8(ascii: "="), count: 4 - remainder)) }
        return Data(base64Encoded: Data(base64)).map { [UInt8]($0) }
    }
}

/// A domain error that knows which HTTP status it maps to and carries a message a person can act on.
///
/// Errors are values rather than an enum so that adding a new kind never breaks callers; the
/// server turns `status` into the response code and `message` into Azure TRE's plain-text body.
public struct EnclaveError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case badRequest, unauthorized, forbidden, notFound, methodNotAllowed, conflict, payloadTooLarge
        case unprocessable, tooManyRequests, serviceUnavailable, badGateway, `internal`
        case uriTooLong, headersTooLarge
        /// 416: an upload's `Content-Range` does not continue where the stored part ends.
        case rangeNotSatisfiable
        /// 507: the disk cannot hold what the request would store.
        case insufficientStorage
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The HTTP status code this error is reported with.
    public var statusCode: Int {
        switch kind {
        case .badRequest: 400
        case .unauthorized: 401
        case .forbidden: 403
        case .notFound: 404
        case .methodNotAllowed: 405
        case .conflict: 409
        case .payloadTooLarge: 413
        case .unprocessable: 422
        case .tooManyRequests: 429
        case .serviceUnavailable: 503
        case .badGateway: 502
        case .internal: 500
        case .uriTooLong: 414
        case .headersTooLarge: 431
        case .rangeNotSatisfiable: 416
        case .insufficientStorage: 507
        }
    }

    public var description: String { "\(statusCode): \(message)" }

    public static func badRequest(_ message: String) -> EnclaveError { .init(.badRequest, message) }
    public static func unauthorized(_ message: String) -> EnclaveError { .init(.unauthorized, message) }
    public static func forbidden(_ message: String) -> EnclaveError { .init(.forbidden, message) }
    public static func notFound(_ message: String) -> EnclaveError { .init(.notFound, message) }
    public static func conflict(_ message: String) -> EnclaveError { .init(.conflict, message) }
    public static func unprocessable(_ message: String) -> EnclaveError { .init(.unprocessable, message) }
    public static func methodNotAllowed(_ message: String) -> EnclaveError { .init(.methodNotAllowed, message) }
    public static func payloadTooLarge(_ message: String) -> EnclaveError { .init(.payloadTooLarge, message) }
    public static func tooManyRequests(_ message: String) -> EnclaveError { .init(.tooManyRequests, message) }
    public static func serviceUnavailable(_ message: String) -> EnclaveError { .init(.serviceUnavailable, message) }
    /// An upstream (the identity provider, later a workspace tool) answered something unusable.
    public static func badGateway(_ message: String) -> EnclaveError { .init(.badGateway, message) }
    public static func `internal`(_ message: String) -> EnclaveError { .init(.internal, message) }
    public static func uriTooLong(_ message: String) -> EnclaveError { .init(.uriTooLong, message) }
    public static func headersTooLarge(_ message: String) -> EnclaveError { .init(.headersTooLarge, message) }
    public static func rangeNotSatisfiable(_ message: String) -> EnclaveError { .init(.rangeNotSatisfiable, message) }
    public static func insufficientStorage(_ message: String) -> EnclaveError { .init(.insufficientStorage, message) }

    /// Azure TRE's exact wording, which its clients and tests match on.
    public static let staleEtag = EnclaveError.conflict(
        "This document has been modified by another user or process. Fetch it again (GET) and retry with its current _etag.")
}

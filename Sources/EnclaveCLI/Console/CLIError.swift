/// A client-side failure with a message for the user (bad input, unreadable config, failed operation).
///
/// API and transport failures are `EnclaveClientError`s instead, so their message keeps the server's
/// status code and the URL that failed.
public struct CLIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "Error: \(message)" }
}

/// What one clamd scan reply (`zFILDES`, `zINSTREAM`) says, read without I/O so the fail-closed rules
/// are testable on their own.
///
/// clamd answers `<name>: OK`, `<name>: <signature> FOUND` or `<message> ERROR`. Anything else is not a
/// verdict: an airlock must never read an unexpected answer as clean.
public enum ClamdReply: Sendable, Hashable {
    case clean
    /// A signature matched. `Heuristics.Limits.Exceeded.*` (a size, recursion or file-count limit with
    /// `AlertExceedsMax yes`) arrives here too: part of the file went unscanned, so it is a finding.
    case found(signature: String)
    /// clamd stopped reading the stream at `StreamMaxLength`: the rest went unscanned, so the file is
    /// treated as a finding under this name rather than as an error that could be retried into a pass.
    case streamLimitExceeded
    /// clamd could not scan (an I/O error, a missing descriptor) or answered something unexpected.
    case error(String)

    /// The signature name reported when clamd cut a stream at `StreamMaxLength`.
    public static let streamLimitSignature = "Heuristics.Limits.Exceeded.StreamMaxLength"

    /// Parses one reply, with or without its `\0`/newline terminator.
    public init(parsing raw: String) {
        var reply = Substring(raw)
        while let last = reply.last, last == "\0" || last == "\n" || last == "\r" || last == " " { reply.removeLast() }
        if reply.hasSuffix(" FOUND") {
            let body = reply.dropLast(" FOUND".count)
            let signature = body.ranges(of: ": ").last.map { body[$0.upperBound...] } ?? body
            self = signature.isEmpty ? .error("clamd reported a finding without a name: \(reply)") : .found(signature: String(signature))
        } else if reply.hasSuffix(": OK") {
            self = .clean
        } else if reply.hasSuffix(" ERROR") {
            let message = String(reply.dropLast(" ERROR".count))
            self = message.contains("size limit exceeded") ? .streamLimitExceeded : .error(message)
        } else if reply.isEmpty {
            self = .error("clamd closed the connection without a verdict")
        } else {
            self = .error("unexpected reply from clamd: \(reply.prefix(200))")
        }
    }
}

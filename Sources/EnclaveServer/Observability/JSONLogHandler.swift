import EnclaveCore
public import Logging
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes one JSON object per log line to stderr, so logs can be shipped and queried without parsing.
///
/// Request logs carry Hummingbird's `hb.request.id`, which ties every line of one request together.
/// Lines are built by hand (keys sorted, strings escaped) rather than through `JSONSerialization`:
/// one line is written per request, and the generic encoder cost as much as the request itself.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String

    static let timestamp = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    public init(label: String, level: Logger.Level = .info) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (key, value) in metadata { fields[key] = value.description }
        if let extra = event.metadata { for (key, value) in extra { fields[key] = value.description } }
        fields["ts"] = Self.timestamp.format(Date())
        fields["level"] = event.level.rawValue
        fields["logger"] = label
        fields["message"] = event.message.description
        var line = "{"
        var first = true
        for key in fields.keys.sorted() {
            if !first { line += "," }
            first = false
            Self.appendQuoted(key, to: &line)
            line += ":"
            Self.appendQuoted(fields[key] ?? "", to: &line)
        }
        line += "}\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(2, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }

    /// Appends `text` as a JSON string literal (RFC 8259 escaping).
    static func appendQuoted(_ text: String, to line: inout String) {
        line += JSONValue.quote(text)
    }
}

public import EnclaveCore
import Foundation

/// What a reviewer sees of a file without downloading it: a CSV/TSV as a table, text, or an image,
/// from the first bytes only (a preview never reads a whole large file).
public enum FilePreview: Sendable, Hashable {
    case table(columns: [String], rows: [[String]], truncated: Bool)
    case text(String, truncated: Bool)
    case image(mediaType: String, base64: String)
    /// Binary content that has no safe preview; the reviewer downloads it into a review environment instead.
    case none(reason: String)

    public static let maximumBytes = 256 * 1024
    public static let maximumRows = 200
    public static let maximumImageBytes = 4 * 1024 * 1024

    /// Builds a preview from a file's first bytes (`prefix`), its full size and its name.
    public static func make(name: String, prefix: [UInt8], size: Int) -> FilePreview {
        let lower = name.lowercased()
        if let media = imageType(prefix) {
            guard size <= maximumImageBytes, prefix.count == size else {
                return .none(reason: "The image is larger than \(maximumImageBytes / 1024 / 1024) MiB; download it to view it")
            }
            return .image(mediaType: media, base64: Data(prefix).base64EncodedString())
        }
        let textPrefix = prefix.count > maximumBytes ? Array(prefix[..<maximumBytes]) : prefix
        guard let text = decodeText(textPrefix) else {
            return .none(reason: "The file is not text, CSV or an image (PNG, JPEG, GIF)")
        }
        let truncated = size > textPrefix.count
        if lower.hasSuffix(".csv") || lower.hasSuffix(".tsv") {
            var parser = CSVParser(delimiter: lower.hasSuffix(".tsv") ? UInt8(ascii: "\t") : UInt8(ascii: ","))
            var records: [[String]] = []
            var more = truncated
            parser.feed(text) { record in
                if records.count <= maximumRows { records.append(record.strings) } else { more = true }
            }
            // A record cut by the prefix's end would be shown half: keep it only when the file ended.
            if !truncated { parser.finish { if records.count <= maximumRows { records.append($0.strings) } else { more = true } } }
            if records.count > maximumRows { records.removeLast(records.count - maximumRows - 1); more = true }
            let columns = records.first ?? []
            return .table(columns: columns, rows: Array(records.dropFirst()), truncated: more)
        }
        return .text(text, truncated: truncated)
    }

    static func imageType(_ bytes: [UInt8]) -> String? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if bytes.starts(with: Array("GIF87a".utf8)) || bytes.starts(with: Array("GIF89a".utf8)) { return "image/gif" }
        return nil
    }

    /// UTF-8 text without NULs (a cut multi-byte character at the end is dropped).
    static func decodeText(_ bytes: [UInt8]) -> String? {
        if bytes.contains(0) { return nil }
        for cut in 0...min(3, bytes.count) {
            if let text = String(validating: bytes[..<(bytes.count - cut)], as: UTF8.self) { return text }
        }
        return nil
    }

    /// The JSON the API returns (`kind` says which fields are present).
    public var json: JSONValue {
        switch self {
        case .table(let columns, let rows, let truncated):
            return [
                "kind": "table", "columns": .array(columns.map(JSONValue.string)),
                "rows": .array(rows.map { .array($0.map(JSONValue.string)) }), "truncated": .bool(truncated),
            ]
        case .text(let text, let truncated): return ["kind": "text", "text": .string(text), "truncated": .bool(truncated)]
        case .image(let media, let base64): return ["kind": "image", "mediaType": .string(media), "base64": .string(base64)]
        case .none(let reason): return ["kind": "none", "reason": .string(reason)]
        }
    }
}

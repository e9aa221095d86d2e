public import EnclaveCore
import Foundation

/// The part of a file one `PUT` carries: all of it, or `Content-Range: bytes START-END/TOTAL` to resume a
/// large upload where the stored part ends.
public struct UploadRange: Sendable, Hashable {
    public var start: Int
    /// Inclusive, as in HTTP.
    public var end: Int
    public var total: Int

    public init(start: Int, end: Int, total: Int) {
        self.start = start
        self.end = end
        self.total = total
    }

    public var length: Int { end - start + 1 }
    /// Whether this part ends the file.
    public var completes: Bool { end + 1 == total }

    /// Parses `bytes START-END/TOTAL` (the only form an upload may use: the total must be known).
    public static func parse(_ header: String) -> Result<UploadRange, EnclaveError> {
        let bad = EnclaveError.badRequest(
            "Content-Range must be 'bytes START-END/TOTAL' with START ≤ END < TOTAL (got '\(header)')")
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("bytes ") else { return .failure(bad) }
        let spec = trimmed.dropFirst("bytes ".count)
        let halves = spec.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2, let total = Int(halves[1]) else { return .failure(bad) }
        let bounds = halves[0].split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let start = Int(bounds[0]), let end = Int(bounds[1]), start >= 0, start <= end, end < total
        else { return .failure(bad) }
        return .success(UploadRange(start: start, end: end, total: total))
    }
}

/// How much the airlock accepts (defaults: 100 GiB per file and per request; keep 1 GiB free).
public struct AirlockLimits: Sendable, Hashable {
    public var maxFileBytes: Int
    public var maxRequestBytes: Int
    /// Uploads are refused (507) when they would leave less than this free on the airlock's disk.
    public var minFreeBytes: Int

    public static let gibibyte = 1 << 30

    public init(maxFileBytes: Int = 100 * gibibyte, maxRequestBytes: Int = 100 * gibibyte, minFreeBytes: Int = gibibyte) {
        self.maxFileBytes = maxFileBytes
        self.maxRequestBytes = maxRequestBytes
        self.minFreeBytes = minFreeBytes
    }
}

public import EnclaveCore
import Foundation

/// How airlock requests read on pages: status words and badge colours, sizes, times, and the output
/// checks' machine-readable findings as a table. Pure, so the pages' wording is tested without a server.
public enum AirlockDisplay {
    /// `ok` (approved), `busy` (waiting on Enclave or a reviewer), `bad` (refused, blocked, failed, withdrawn) or `neutral`.
    public static func statusClass(_ status: AirlockStatus) -> String {
        switch status {
        case .approved: "ok"
        case .submitted, .inReview, .approvalInProgress, .rejectionInProgress, .blockingInProgress: "busy"
        case .rejected, .blockedByScan, .failed, .revoked: "bad"
        case .draft, .cancelled: "neutral"
        }
    }

    /// The status in words: `in_review` → "in review".
    public static func statusText(_ status: AirlockStatus) -> String { status.rawValue.replacingOccurrences(of: "_", with: " ") }

    /// What the status means for the person looking, in one sentence.
    public static func statusHint(_ status: AirlockStatus, type: AirlockRequestType) -> String {
        switch status {
        case .draft: type == .import ? "Add files, then submit the request for review." : "Add files from workspace storage, then submit the request for review."
        case .submitted: "Enclave is scanning the files; the request goes to review when the scan is done."
        case .inReview: "Airlock managers are reviewing the request."
        case .approvalInProgress, .rejectionInProgress, .blockingInProgress: "The decision is being carried out."
        case .approved:
            type == .import
                ? "Approved: the files are in the workspace's imports folder."
                : "Approved: the requester can download the files for a limited time."
        case .rejected: "Rejected by a reviewer."
        case .blockedByScan: "Blocked: the malware scan found something."
        case .cancelled: "Cancelled; its files were deleted."
        case .failed: "Enclave could not process the request; its files were deleted."
        case .revoked: "The approval was revoked; its files were deleted."
        }
    }

    /// `ok` for a clean scan, `bad` for a finding, `busy` for a file that was not scanned, `neutral` before the scan.
    public static func scanClass(_ result: String?) -> String {
        guard let result else { return "neutral" }
        if result == "clean" { return "ok" }
        if result.hasPrefix("infected") { return "bad" }
        return "busy"
    }

    public static func verdictClass(_ verdict: OutputCheckVerdict) -> String {
        switch verdict {
        case .pass: "ok"
        case .review: "busy"
        case .fail: "bad"
        }
    }

    /// Bytes for people: "812 bytes", "1.5 MiB".
    public static func bytes(_ count: Int) -> String {
        if count < 1024 { return count == 1 ? "1 byte" : "\(count) bytes" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(count) / 1024
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let text = value < 10 ? String(format: "%.1f", value) : String(format: "%.0f", value)
        return "\(text) \(units[unit])"
    }

    /// A Unix time as `2026-01-02 13:45 UTC` (pages show one time zone, the server's records are UTC).
    public static func time(_ seconds: Double) -> String { PortalTime.utc(seconds, withSeconds: false) }

    /// An output check's findings (objects such as `{"row": 3, "column": "count", "value": 4}`) as a
    /// table: the columns are every key in order of first appearance, values as text; at most `limit` rows.
    public struct FindingsTable: Sendable, Hashable {
        public var columns: [String]
        public var rows: [[String]]
        /// Findings left out beyond `limit`.
        public var more: Int

        public init(_ findings: [JSONValue], limit: Int = 50) {
            var columns: [String] = []
            for finding in findings.prefix(limit) {
                guard let object = finding.objectValue else {
                    if !columns.contains("finding") { columns.append("finding") }
                    continue
                }
                // Keys in a stable, readable order: the usual ones first, then the rest alphabetically.
                let preferred = ["row", "column", "value", "labels", "rule", "reasons", "output", "status", "type", "summary"]
                for key in preferred where object[key] != nil && !columns.contains(key) { columns.append(key) }
                for key in object.keys.sorted() where !columns.contains(key) { columns.append(key) }
            }
            self.columns = columns
            self.rows = findings.prefix(limit).map { finding in
                guard let object = finding.objectValue else { return columns.map { $0 == "finding" ? Self.text(finding) : "" } }
                return columns.map { object[$0].map(Self.text) ?? "" }
            }
            self.more = max(0, findings.count - limit)
        }

        /// A value as text: strings as they are, lists joined, objects as `key: value` pairs, the rest as JSON.
        static func text(_ value: JSONValue) -> String {
            switch value {
            case .string(let string): return string
            case .array(let items): return items.map(text).joined(separator: items.contains { $0.objectValue != nil } ? "; " : ", ")
            case .object(let members): return members.keys.sorted().map { "\($0): \(text(members[$0] ?? .null))" }.joined(separator: ", ")
            default: return value.description
            }
        }
    }
}

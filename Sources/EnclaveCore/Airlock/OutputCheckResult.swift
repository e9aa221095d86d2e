/// One automated output check's result for one file (Five Safes "safe outputs", SATRE 3.3.x): advice
/// for reviewers, kept with the request as a machine-readable record.
public struct OutputCheckResult: Codable, Sendable, Hashable {
    /// The check's name: `frequency_table`, `identifiers`, `size`, `acro`.
    public var check: String
    /// The parameters it ran with (thresholds, limits), so a record says what was checked.
    public var parameters: JSONValue
    public var verdict: OutputCheckVerdict
    /// One sentence for the reviewer.
    public var summary: String
    /// What was flagged: cells (`{"row": 3, "column": "count", "value": 4}`), columns, ACRO's per-output verdicts.
    public var findings: [JSONValue]

    public init(check: String, parameters: JSONValue, verdict: OutputCheckVerdict, summary: String, findings: [JSONValue] = []) {
        self.check = check
        self.parameters = parameters
        self.verdict = verdict
        self.summary = summary
        self.findings = findings
    }
}

/// `pass`: nothing found; `review`: something a reviewer should look at; `fail`: a hard failure (e.g. an
/// ACRO checksum that does not match). Checks advise; only the optional auto-reject acts on `fail`.
public enum OutputCheckVerdict: String, Codable, Sendable, Hashable {
    case pass, review, fail
}

/// The output checks' parameters for one workspace (its `airlock_output_checks` property), defaulting to
/// ACRO's rules (reference field.md §6). Fixed on a request at submit, so a later change of the
/// workspace's settings does not change what an earlier request was checked against.
public struct OutputCheckParameters: Codable, Sendable, Hashable {
    /// Frequency-table cells below this count are flagged (ACRO's `safe_threshold`, 10); zeros too.
    public var threshold: Int
    /// Files with more data rows than this are flagged.
    public var maxRows: Int
    /// Whether to look for columns that look like direct identifiers.
    public var checkIdentifiers: Bool
    /// Reject automatically when a check fails hard (off by default: checks advise, people decide).
    public var autoReject: Bool

    public init(threshold: Int = 10, maxRows: Int = 5_000, checkIdentifiers: Bool = true, autoReject: Bool = false) {
        self.threshold = threshold
        self.maxRows = maxRows
        self.checkIdentifiers = checkIdentifiers
        self.autoReject = autoReject
    }
}

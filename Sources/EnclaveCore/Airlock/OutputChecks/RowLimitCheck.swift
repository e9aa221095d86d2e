/// Flags outputs with more data rows than a workspace allows (default 5,000): a long table is more
/// likely row-level data than an aggregate. Reports the file's size alongside, for the reviewer.
public enum RowLimitCheck {
    public static let name = "size"

    public static func result(rows: Int, bytes: Int, maxRows: Int, parameters: JSONValue) -> OutputCheckResult {
        let size = ["rows": JSONValue.int(rows), "bytes": .int(bytes)]
        guard rows > maxRows else {
            return OutputCheckResult(
                check: name, parameters: parameters, verdict: .pass, summary: "\(rows) data rows, \(bytes) bytes: within the \(maxRows)-row limit.",
                findings: [.object(size)])
        }
        return OutputCheckResult(
            check: name, parameters: parameters, verdict: .review,
            summary: "\(rows) data rows, more than the \(maxRows) allowed: this may be row-level data rather than an aggregate.",
            findings: [.object(size)])
    }
}

/// The checks for one CSV/TSV output, fed record by record (header first) so a large file is read once.
public struct TabularOutputChecks: Sendable {
    public let parameters: OutputCheckParameters
    private var frequency: FrequencyTableCheck
    private var identifiers = IdentifierCheck()
    private var records = 0

    public init(parameters: OutputCheckParameters) {
        self.parameters = parameters
        self.frequency = FrequencyTableCheck(threshold: parameters.threshold)
    }

    /// The delimiter for a file: tab for `.tsv`/`.tab`, else comma.
    public static func delimiter(forFileName name: String) -> UInt8 {
        let lower = name.lowercased()
        return lower.hasSuffix(".tsv") || lower.hasSuffix(".tab") ? UInt8(ascii: "\t") : UInt8(ascii: ",")
    }

    /// Whether the checks apply to a file, by its name.
    public static func applies(toFileName name: String) -> Bool {
        let lower = name.lowercased()
        return [".csv", ".tsv", ".tab"].contains { lower.hasSuffix($0) }
    }

    public mutating func add(_ record: CSVRecord) {
        records += 1
        frequency.add(record)
        if parameters.checkIdentifiers { identifiers.add(record) }
    }

    /// The results once every record is in; `bytes` is the file's size.
    public func results(bytes: Int) -> [OutputCheckResult] {
        let rows = max(records - 1, 0)
        var results = [
            frequency.result(parameters: .object(["threshold": .int(parameters.threshold), "zerosAreDisclosive": .bool(true)])),
            RowLimitCheck.result(rows: rows, bytes: bytes, maxRows: parameters.maxRows, parameters: .object(["maxRows": .int(parameters.maxRows)])),
        ]
        if parameters.checkIdentifiers {
            results.append(identifiers.result(parameters: .object(["sampleRows": .int(IdentifierCheck.sampleSize)])))
        }
        return results
    }
}

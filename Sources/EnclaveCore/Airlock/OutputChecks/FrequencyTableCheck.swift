/// ACRO's threshold and zeros rules on a frequency table exported as CSV/TSV (field.md §6.2): cells
/// counting fewer than `threshold` people, and empty cells (zeros are disclosive by default), are
/// flagged with their row, column and value.
///
/// A table is recognised two ways: a count column by its header (`count`, `n`, `freq`, `frequency`),
/// or a crosstab whose body — every column after the leading label columns — holds only integers.
/// Small cells are `review`, not `fail`: ACRO lets a researcher ask for an exception, and a person decides.
public struct FrequencyTableCheck: Sendable {
    public static let name = "frequency_table"
    /// Headers that name a count column.
    public static let countHeaders: Set<String> = ["count", "counts", "n", "freq", "frequency", "frequencies"]
    /// At most this many flagged cells are listed; the summary gives the total.
    public static let maxFindings = 1_000

    public let threshold: Int
    private var header: [String] = []
    private var countColumn: Int?
    private var rows = 0
    /// Per column: whether every value so far was an integer, and how many were below the threshold.
    private var allIntegers: [Bool] = []
    private var smallCells: [Int] = []
    /// Small cells in table order, kept up to a bound until it is known which columns are counts.
    private var candidates: [(row: Int, column: Int, value: Int, label: [String])] = []
    private static let candidateLimit = 50_000

    public init(threshold: Int) {
        self.threshold = threshold
    }

    /// Feeds the header, then each data row.
    public mutating func add(_ record: CSVRecord) {
        if header.isEmpty {
            header = record.strings.map { $0.trimmed }
            countColumn = header.firstIndex { Self.countHeaders.contains($0.lowercased()) }
            allIntegers = Array(repeating: true, count: header.count)
            smallCells = Array(repeating: 0, count: header.count)
            return
        }
        rows += 1
        if let countColumn {
            check(record, column: countColumn)
            return
        }
        for column in 0..<header.count where allIntegers[column] {
            check(record, column: column)
        }
    }

    private mutating func check(_ record: CSVRecord, column: Int) {
        guard let value = record.integer(column) else {
            allIntegers[column] = false
            return
        }
        guard value < threshold else { return }
        smallCells[column] += 1
        if candidates.count < Self.candidateLimit {
            candidates.append((rows, column, value, labels(of: record, excluding: column)))
        }
    }

    /// The label fields of a row: the non-numeric leading columns (for a count column, every other column).
    private func labels(of record: CSVRecord, excluding column: Int) -> [String] {
        if countColumn != nil {
            return (0..<header.count).filter { $0 != column }.map { record.string($0) }
        }
        return (0..<header.count).prefix { !(allIntegers[$0]) || $0 == 0 }.filter { $0 != column }.map { record.string($0) }
    }

    /// The count columns once the whole table is seen: the named one, or a crosstab's integer body.
    private var countColumns: [Int] {
        if let countColumn { return [countColumn] }
        guard header.count >= 2, rows > 0 else { return [] }
        // Leading label columns (at least one), then integers to the end.
        guard let firstCount = (1..<header.count).first(where: { allIntegers[$0] }),
            (firstCount..<header.count).allSatisfy({ allIntegers[$0] })
        else { return [] }
        let body = Array(firstCount..<header.count)
        // One unnamed integer column could be anything (ages, years); two or more make a crosstab.
        return body.count >= 2 ? body : []
    }

    public func result(parameters: JSONValue) -> OutputCheckResult {
        let columns = countColumns
        guard !columns.isEmpty else {
            return OutputCheckResult(
                check: Self.name, parameters: parameters, verdict: .pass,
                summary: "Not a frequency table (no count column, and no all-integer crosstab body): no cells checked.")
        }
        let counted = Set(columns)
        let total = columns.reduce(0) { $0 + smallCells[$1] }
        let findings: [JSONValue] = candidates.lazy.filter { counted.contains($0.column) }.prefix(Self.maxFindings).map { cell in
            .object([
                "row": .int(cell.row), "column": .string(header[cell.column]), "value": .int(cell.value),
                "labels": .array(cell.label.map(JSONValue.string)),
                "rule": .string(cell.value == 0 ? "zero" : "threshold"),
            ])
        }
        let kind = countColumn != nil ? "count column '\(header[columns[0]])'" : "crosstab of \(columns.count) count columns"
        guard total > 0 else {
            return OutputCheckResult(
                check: Self.name, parameters: parameters, verdict: .pass,
                summary: "Frequency table (\(kind), \(rows) rows): no cell below \(threshold).")
        }
        let listed = findings.count < total ? " (first \(findings.count) listed)" : ""
        return OutputCheckResult(
            check: Self.name, parameters: parameters, verdict: .review,
            summary: "Frequency table (\(kind), \(rows) rows): \(total) cell(s) below \(threshold) or zero\(listed).", findings: findings)
    }
}

extension String {
    /// Without surrounding spaces and tabs (header cells are often padded).
    var trimmed: String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" { view.removeLast() }
        return String(view)
    }
}

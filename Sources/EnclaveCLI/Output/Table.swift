/// A plain-text table: upper-case headers, columns padded to their widest cell, two spaces apart.
///
/// Cells longer than `maxCellWidth` are cut with `…` so one long message cannot push the other
/// columns off the screen; `--output json` has the full values.
public struct Table: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[String]]
    public var maxCellWidth: Int

    public init(columns: [String], rows: [[String]] = [], maxCellWidth: Int = 60) {
        self.columns = columns
        self.rows = rows
        self.maxCellWidth = maxCellWidth
    }

    /// The table as lines joined by newlines, without a trailing newline; no trailing spaces.
    public func render() -> String {
        let header = columns.map { $0.uppercased() }
        let body = rows.map { row in
            columns.indices.map { index in Self.cut(index < row.count ? row[index] : "", to: maxCellWidth) }
        }
        let all = [header] + body
        let widths = columns.indices.map { index in all.map { $0[index].count }.max() ?? 0 }
        return all.map { cells in
            var line = ""
            for (index, cell) in cells.enumerated() {
                if index > 0 { line += "  " }
                line += cell
                if index < cells.count - 1 { line += String(repeating: " ", count: widths[index] - cell.count) }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    static func cut(_ text: String, to width: Int) -> String {
        let oneLine = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        guard oneLine.count > width, width > 1 else { return oneLine }
        return String(oneLine.prefix(width - 1)) + "…"
    }
}

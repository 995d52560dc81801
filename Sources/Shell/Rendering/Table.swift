/// A plain-text table whose last column is shortened (with …) so that rows fit `width`.
public struct Table {
    public var headers: [String]
    public var rows: [[String]]
    /// Columns aligned right (numbers).
    public var rightAligned: Set<Int>

    public init(headers: [String], rows: [[String]], rightAligned: Set<Int> = []) {
        self.headers = headers; self.rows = rows; self.rightAligned = rightAligned
    }

    public func render(width: Int) -> String {
        let all = [headers] + rows
        var widths = headers.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
        let used = widths.dropLast().reduce(0, +) + 2 * (widths.count - 1)
        if let last = widths.indices.last { widths[last] = max(8, min(widths[last], width - used)) }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, text in
                var t = text
                if t.count > widths[c] { t = String(t.prefix(max(widths[c] - 1, 0))) + "…" }
                let pad = String(repeating: " ", count: max(widths[c] - t.count, 0))
                if c == cells.count - 1 && !rightAligned.contains(c) { return t }
                return rightAligned.contains(c) ? pad + t : t + pad
            }.joined(separator: "  ")
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }
}

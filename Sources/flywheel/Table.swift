import TerminalKit

/// A plain-text table whose columns line up with CJK text; cells are sanitised and cut to width.
struct TextTable {
    var headers: [String]
    var widths: [Int]
    var rows: [[String]] = []

    mutating func add(_ cells: [String]) { rows.append(cells) }

    func render() -> String {
        var lines = [line(headers), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        lines += rows.map(line)
        return lines.joined(separator: "\n")
    }

    private func line(_ cells: [String]) -> String {
        zip(cells, widths).enumerated().map { i, pair in
            let text = TextWidth.sanitize(pair.0)
            return i == widths.count - 1 ? TextWidth.truncate(text, to: pair.1) : TextWidth.pad(text, to: pair.1)
        }.joined(separator: "  ")
    }
}

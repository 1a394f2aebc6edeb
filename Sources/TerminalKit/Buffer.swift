/// TerminalKit: the terminal-independent half of the console. Cells, a screen buffer that knows display
/// width, geometry, key events and their text notation, and small editing widgets.
/// It must not import ncurses, GRDB or anything that does I/O: screens draw into a `ScreenBuffer` and
/// tests compare whole screens as text.

/// A colour as themes name it. Backends map it to what the terminal can show (256, 8, or none).
public enum Color: Hashable, Sendable {
    case `default`
    /// One of the 256 xterm colours; 0-15 are the basic and bright ANSI colours.
    case indexed(UInt8)

    public static let black = Color.indexed(0), red = Color.indexed(1), green = Color.indexed(2),
        yellow = Color.indexed(3), blue = Color.indexed(4), magenta = Color.indexed(5),
        cyan = Color.indexed(6), white = Color.indexed(7)

    /// The nearest of the 8 basic colours, for terminals without 256 colours.
    public var basic: Color {
        guard case .indexed(let i) = self else { return self }
        if i < 8 { return self }
        if i < 16 { return .indexed(i - 8) }
        let (r, g, b): (Int, Int, Int)
        if i >= 232 {
            let level = Int(i - 232) * 10 + 8
            let bit = level > 127 ? 1 : 0
            (r, g, b) = (bit, bit, bit)
        } else {
            let c = Int(i) - 16
            // Channel levels 0-5; 3 and above counts as on.
            (r, g, b) = (c / 36 >= 3 ? 1 : 0, (c / 6) % 6 >= 3 ? 1 : 0, c % 6 >= 3 ? 1 : 0)
        }
        return .indexed(UInt8(r | g << 1 | b << 2))
    }
}

public struct Attributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = Attributes(rawValue: 1)
    public static let underline = Attributes(rawValue: 2)
    public static let reverse = Attributes(rawValue: 4)
    public static let dim = Attributes(rawValue: 8)
}

public struct Style: Hashable, Sendable {
    public var fg: Color
    public var bg: Color
    public var attributes: Attributes
    public init(fg: Color = .default, bg: Color = .default, attributes: Attributes = []) {
        self.fg = fg
        self.bg = bg
        self.attributes = attributes
    }
    public static let plain = Style()
    public func adding(_ a: Attributes) -> Style { var s = self; s.attributes.formUnion(a); return s }
}

/// One screen cell. A wide character fills its cell and marks the next one as its continuation
/// (`width == 0`), so columns always line up.
public struct Cell: Hashable, Sendable {
    /// What the terminal shows: a base scalar and its combining marks (see `TextWidth.displayForm`).
    public var text: String
    /// 1, 2, or 0 for the right half of a wide character.
    public var width: UInt8
    public var style: Style
    public init(_ text: String = " ", width: UInt8 = 1, style: Style = .plain) {
        self.text = text
        self.width = width
        self.style = style
    }
    public static let blank = Cell()
}

public struct Rect: Hashable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = max(0, width); self.height = max(0, height)
    }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width == 0 || height == 0 }
    /// The rectangle shrunk by `n` on every side.
    public func inset(_ n: Int) -> Rect { Rect(x: x + n, y: y + n, width: width - 2 * n, height: height - 2 * n) }
    /// Left part `columns` wide (clamped) and the rest.
    public func splitColumns(_ columns: Int) -> (Rect, Rect) {
        let c = min(max(0, columns), width)
        return (Rect(x: x, y: y, width: c, height: height), Rect(x: x + c, y: y, width: width - c, height: height))
    }
    /// Top part `rows` high (clamped) and the rest.
    public func splitRows(_ rows: Int) -> (Rect, Rect) {
        let r = min(max(0, rows), height)
        return (Rect(x: x, y: y, width: width, height: r), Rect(x: x, y: y + r, width: width, height: height - r))
    }
    public func row(_ i: Int) -> Rect { Rect(x: x, y: y + i, width: width, height: i < height ? 1 : 0) }
}

/// A grid of cells: what screens draw into and what backends copy to the terminal.
public struct ScreenBuffer: Equatable, Sendable {
    public private(set) var width: Int
    public private(set) var height: Int
    public private(set) var cells: [Cell]
    /// Where the terminal cursor should be shown (an inline editor), or nil to hide it.
    public var cursor: (x: Int, y: Int)? {
        get { cursorX < 0 ? nil : (cursorX, cursorY) }
        set { cursorX = newValue?.x ?? -1; cursorY = newValue?.y ?? -1 }
    }
    private var cursorX = -1, cursorY = -1

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public var area: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    public mutating func fill(_ rect: Rect, style: Style) {
        let r = clip(rect)
        guard !r.isEmpty else { return }
        // Through setCell, so a wide character cut in half at either edge becomes a blank, not half a glyph.
        for y in r.y..<r.maxY { for x in r.x..<r.maxX { setCell(x, y, Cell(" ", width: 1, style: style)) } }
    }

    /// Sets the style of every cell in `rect`, keeping the text (for highlighting a row).
    public mutating func restyle(_ rect: Rect, _ transform: (Style) -> Style) {
        let r = clip(rect)
        guard !r.isEmpty else { return }
        for y in r.y..<r.maxY { for x in r.x..<r.maxX { cells[y * width + x].style = transform(cells[y * width + x].style) } }
    }

    /// Draws `text` at (x, y), at most `maxWidth` columns (default: to the right edge), never splitting a
    /// character: a wide character that does not fit leaves a blank. Text is sanitised here, whatever the
    /// caller did, so no control character reaches a terminal. Returns the columns used.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, maxWidth: Int? = nil, style: Style = .plain) -> Int {
        guard y >= 0, y < height, x < width else { return 0 }
        let limit = min(width, maxWidth.map { x + max(0, $0) } ?? width)
        var col = x
        for ch in TextWidth.sanitize(text) {
            let w = TextWidth.width(of: ch)
            if w == 0 { continue }  // a lone combining mark or format character has nowhere to go
            if col + w > limit {
                if w == 2 && col < limit { setCell(col, y, Cell(" ", width: 1, style: style)); col += 1 }
                break
            }
            if col >= 0 {
                setCell(col, y, Cell(TextWidth.displayForm(ch), width: UInt8(w), style: style))
                if w == 2 { setCell(col + 1, y, Cell("", width: 0, style: style)) }
            }
            col += w
        }
        return col - x
    }

    /// Writes a cell, repairing wide characters it overwrites half of.
    private mutating func setCell(_ x: Int, _ y: Int, _ cell: Cell) {
        guard x >= 0, x < width else { return }
        let i = y * width + x
        if cells[i].width == 0, x > 0, cells[i - 1].width == 2 { cells[i - 1] = Cell(" ", width: 1, style: cells[i - 1].style) }
        if cells[i].width == 2, x + 1 < width, cell.width != 2 { cells[i + 1] = Cell(" ", width: 1, style: cells[i + 1].style) }
        cells[i] = cell
    }

    public func clip(_ r: Rect) -> Rect {
        let x0 = max(0, r.x), y0 = max(0, r.y)
        return Rect(x: x0, y: y0, width: min(width, r.maxX) - x0, height: min(height, r.maxY) - y0)
    }

    /// Each row as text (continuation cells skipped), with trailing spaces removed.
    public func lines() -> [String] {
        (0..<height).map { y in
            var s = ""
            for x in 0..<width where self[x, y].width != 0 { s += self[x, y].text }
            while s.last == " " { s.removeLast() }
            return s
        }
    }

    public var text: String { lines().joined(separator: "\n") }

    public static func == (a: ScreenBuffer, b: ScreenBuffer) -> Bool {
        a.width == b.width && a.height == b.height && a.cells == b.cells && a.cursorX == b.cursorX && a.cursorY == b.cursorY
    }
}

extension ScreenBuffer {
    /// A box border with an optional title in the top edge.
    public mutating func box(_ r: Rect, title: String = "", style: Style, titleStyle: Style? = nil) {
        guard r.width >= 2, r.height >= 2 else { return }
        let horizontal = String(repeating: "─", count: r.width - 2)
        put("┌" + horizontal + "┐", x: r.x, y: r.y, maxWidth: r.width, style: style)
        put("└" + horizontal + "┘", x: r.x, y: r.maxY - 1, maxWidth: r.width, style: style)
        for y in (r.y + 1)..<(r.maxY - 1) {
            put("│", x: r.x, y: y, style: style)
            put("│", x: r.maxX - 1, y: y, style: style)
        }
        if !title.isEmpty, r.width > 4 {
            put(" " + title + " ", x: r.x + 1, y: r.y, maxWidth: r.width - 2, style: titleStyle ?? style)
        }
    }

    /// `text` padded to fill the row `r` in `style` (cut with "…" when too long).
    public mutating func putRow(_ text: String, in r: Rect, style: Style) {
        fill(r.row(0), style: style)
        put(TextWidth.truncate(TextWidth.sanitize(text), to: r.width), x: r.x, y: r.y, maxWidth: r.width, style: style)
    }
}

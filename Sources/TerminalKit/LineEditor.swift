/// A one-line text editor: cursor movement by character (never inside a grapheme cluster), insertion of
/// typed or pasted text (CJK included), and a horizontally scrolling view that keeps the cursor visible.
public struct LineEditor: Equatable, Sendable {
    public private(set) var characters: [Character]
    /// Index into `characters` where the next character goes.
    public private(set) var cursor: Int
    private var scroll = 0  // first visible character

    public init(_ text: String = "") {
        characters = Array(text)
        cursor = characters.count
    }

    public var text: String { String(characters) }

    /// Inserts typed or pasted text. Newlines and tabs become spaces and other control characters are
    /// dropped: an answer is one line, and nothing invisible should end up in training data.
    public mutating func insert(_ s: String) {
        var clean: [Character] = []
        for ch in s {
            if ch == "\n" || ch == "\r\n" || ch == "\t" { clean.append(" "); continue }
            if ch.unicodeScalars.allSatisfy({ $0.value >= 0x20 && !(0x7F..<0xA0).contains($0.value) }) { clean.append(ch) }
        }
        characters.insert(contentsOf: clean, at: cursor)
        cursor += clean.count
    }

    public mutating func backspace() {
        guard cursor > 0 else { return }
        characters.remove(at: cursor - 1)
        cursor -= 1
    }

    public mutating func deleteForward() {
        guard cursor < characters.count else { return }
        characters.remove(at: cursor)
    }

    public mutating func left() { cursor = max(0, cursor - 1) }
    public mutating func right() { cursor = min(characters.count, cursor + 1) }
    public mutating func home() { cursor = 0 }
    public mutating func end() { cursor = characters.count }
    public mutating func clear() { characters = []; cursor = 0; scroll = 0 }
    /// Deletes from the start of the line to the cursor (C-u in shells).
    public mutating func deleteToStart() { characters.removeFirst(cursor); cursor = 0 }

    /// Applies an editing key; returns false for keys an editor does not handle (Enter, Esc, ...).
    public mutating func handle(_ key: Key) -> Bool {
        switch key {
        case .char(let c): insert(String(c))
        case .backspace: backspace()
        case .delete: deleteForward()
        case .left: left()
        case .right: right()
        case .home, .ctrl("a"): home()
        case .end, .ctrl("e"): end()
        case .ctrl("u"): deleteToStart()
        default: return false
        }
        return true
    }

    /// Draws the editor into `width` columns at (x, y) and places the buffer's cursor.
    public mutating func draw(into buffer: inout ScreenBuffer, x: Int, y: Int, width: Int, style: Style) {
        guard width > 1 else { return }
        buffer.fill(Rect(x: x, y: y, width: width, height: 1), style: style)
        // Keep the cursor inside the view, one column spare for the cursor at the end.
        if cursor < scroll { scroll = cursor }
        while columns(scroll, cursor) > width - 1 { scroll += 1 }
        var col = x
        var i = scroll
        while i < characters.count {
            let w = TextWidth.width(of: characters[i])
            if col + w > x + width { break }
            buffer.put(String(characters[i]), x: col, y: y, maxWidth: w, style: style)
            col += w
            i += 1
        }
        buffer.cursor = (x + columns(scroll, cursor), y)
    }

    private func columns(_ from: Int, _ to: Int) -> Int {
        var w = 0
        var i = from
        while i < to { w += TextWidth.width(of: characters[i]); i += 1 }
        return w
    }

    public static func == (a: LineEditor, b: LineEditor) -> Bool { a.characters == b.characters && a.cursor == b.cursor }
}

/// A window onto a long, keyset-paged list: only a few pages are held, more are requested as the selection
/// nears either end, and pages far from the selection are dropped so memory stays flat on a million rows.
struct PagedList<Row, Cursor: Equatable> {
    private(set) var rows: [Row] = []
    var selected = 0
    /// Index of the first visible row.
    var top = 0
    /// Nothing comes before `rows[0]` / after the last row.
    private(set) var atStart = true
    private(set) var atEnd = false
    /// Requests in flight, so one page is asked for once.
    var loadingForward = false
    var loadingBackward = false
    /// Has the first page arrived?
    private(set) var loaded = false
    let cursorOf: (Row) -> Cursor

    static var pageSize: Int { 100 }
    static var maxRows: Int { 400 }

    init(cursorOf: @escaping (Row) -> Cursor) { self.cursorOf = cursorOf }

    var selectedRow: Row? { rows.indices.contains(selected) ? rows[selected] : nil }
    var isEmpty: Bool { rows.isEmpty }

    /// Replaces the contents with a first page read from the top.
    mutating func reset(_ page: [Row], requested: Int) {
        rows = page
        selected = 0
        top = 0
        atStart = true
        atEnd = page.count < requested
        loadingForward = false
        loadingBackward = false
        loaded = true
    }

    /// Marks the list as needing a fresh first page (filter changed, data changed).
    /// New rows may exist past the end (another process added some): allow loading past it again.
    mutating func reopen() { if loaded { atEnd = false } }

    mutating func invalidate() { loaded = false; loadingForward = false; loadingBackward = false }

    mutating func append(_ page: [Row], requested: Int, after cursor: Cursor) {
        loadingForward = false
        // A page for a position the list has since left (reset, trimmed) is dropped.
        guard let last = rows.last, cursorOf(last) == cursor else { return }
        rows += page
        atEnd = page.count < requested
        let excess = rows.count - Self.maxRows
        if excess > 0, selected - excess > Self.pageSize / 2 {
            rows.removeFirst(excess)
            selected -= excess
            top = max(0, top - excess)
            atStart = false
        }
    }

    mutating func prepend(_ page: [Row], requested: Int, before cursor: Cursor) {
        loadingBackward = false
        guard let first = rows.first, cursorOf(first) == cursor else { return }
        rows.insert(contentsOf: page, at: 0)
        selected += page.count
        top += page.count
        atStart = page.count < requested
        let excess = rows.count - Self.maxRows
        if excess > 0, rows.count - excess > selected + Self.pageSize / 2 {
            rows.removeLast(excess)
            atEnd = false
        }
    }

    mutating func move(by delta: Int) {
        guard !rows.isEmpty else { return }
        selected = min(max(0, selected + delta), rows.count - 1)
    }

    /// Keeps the selection on screen in a view `height` rows high.
    mutating func scroll(height: Int) {
        guard height > 0 else { return }
        if selected < top { top = selected }
        if selected >= top + height { top = selected - height + 1 }
        top = max(0, min(top, max(0, rows.count - height)))
    }

    /// The cursor to load the next page after, when the selection is within `margin` rows of the end.
    func wantsForward(margin: Int) -> Cursor? {
        guard loaded, !atEnd, !loadingForward, let last = rows.last, rows.count - selected <= margin else { return nil }
        return cursorOf(last)
    }

    func wantsBackward(margin: Int) -> Cursor? {
        guard loaded, !atStart, !loadingBackward, let first = rows.first, selected < margin else { return nil }
        return cursorOf(first)
    }

    /// Removes a row (a decided sample leaves the queue); the selection stays at the same position, which
    /// is now the next row.
    @discardableResult
    mutating func remove(at i: Int) -> Row? {
        guard rows.indices.contains(i) else { return nil }
        let row = rows.remove(at: i)
        if selected > i || selected >= rows.count { selected = max(0, selected - 1) }
        return row
    }

    /// Inserts a row at `i` (clamped) and selects it.
    mutating func insert(_ row: Row, at i: Int) {
        let at = min(max(0, i), rows.count)
        rows.insert(row, at: at)
        selected = at
    }

    mutating func update(at i: Int, _ change: (inout Row) -> Void) {
        guard rows.indices.contains(i) else { return }
        change(&rows[i])
    }
}

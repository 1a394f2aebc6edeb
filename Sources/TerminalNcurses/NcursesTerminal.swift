/// TerminalNcurses: the only module that touches ncurses (through the CNcursesw shim). It copies the cells
/// of a `ScreenBuffer` that changed since the last frame to the terminal, maps TerminalKit colours to what
/// the terminal can show (256, 8 or none), and reads keys as `Key` values. Everything else (layout, text
/// width, key maps) lives in TerminalKit and Console.
import CNcursesw
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TerminalKit

public enum ColorSupport: Sendable, Equatable { case none, basic8, full256 }

public enum NcursesTerminalError: Error, CustomStringConvertible, Equatable {
    /// stdin or stdout is not a terminal (piped, redirected, or run without a tty).
    case notATerminal(stdin: Bool, stdout: Bool)
    /// ncurses could not start on this terminal (usually an unknown or missing TERM).
    case cannotInitialize(term: String?)

    public var description: String {
        switch self {
        case .notATerminal(let stdinIsTTY, let stdoutIsTTY):
            let which = !stdinIsTTY && !stdoutIsTTY ? "stdin and stdout are not terminals"
                : !stdinIsTTY ? "stdin is not a terminal" : "stdout is not a terminal"
            return "the interactive console needs a terminal, but \(which) (input or output is piped or redirected)"
        case .cannotInitialize(let term):
            return "ncurses could not initialise the terminal (TERM=\(term ?? "unset")); check that TERM names a known terminal type"
        }
    }
}

public final class NcursesTerminal {
    public let colorSupport: ColorSupport

    private var screen: OpaquePointer?
    private var stopped = false
    private var previous: ScreenBuffer?
    private var lastScreenSize = (width: -1, height: -1)
    private var needsFullRedraw = true
    private var cursorVisible = false
    private var currentTimeout: Int32 = Int32.min

    // Colours.
    private let defaultColorsWork: Bool
    private let terminalColors: Int32
    private let maxPairs: Int32
    private var pairs: [PairKey: Int32] = [:]      // every key seen, including fallbacks
    private var allocated: [(key: PairKey, pair: Int32)] = []
    private var nextPair: Int32 = 1
    private var lastStyle: Style?
    private var lastStyleValue: (attrs: attr_t, pair: Int32) = (0, 0)
    private var wideChars: [wchar_t] = Array(repeating: 0, count: 8)

    private struct PairKey: Hashable { var fg: Int32; var bg: Int32 }

    /// Starts ncurses on the process's terminal: setlocale(LC_ALL, ""), newterm on stdout/stdin, cbreak
    /// (C-c stays SIGINT, which ncurses handles by restoring the terminal), noecho, nonl, keypad, a 25 ms
    /// escape delay, a hidden cursor, and colours with the terminal's default colours when it has any.
    /// `colorSupport` is `.none` when NO_COLOR is set and non-empty (https://no-color.org) or the
    /// terminal has no colours, `.full256` when it has at least 256, `.basic8` otherwise; `forceColors`
    /// overrides that detection.
    public init(forceColors: ColorSupport? = nil) throws {
        let inTTY = isatty(STDIN_FILENO) == 1, outTTY = isatty(STDOUT_FILENO) == 1
        guard inTTY, outTTY else { throw NcursesTerminalError.notATerminal(stdin: inTTY, stdout: outTTY) }
        setlocale(LC_ALL, "")
        guard let scr = flywheel_nc_newterm() else {
            throw NcursesTerminalError.cannotInitialize(term: getenv("TERM").map { String(cString: $0) })
        }
        screen = scr
        let win = flywheel_nc_stdscr()
        cbreak()
        noecho()
        nonl()
        keypad(win, true)
        _ = flywheel_nc_set_escdelay(25)
        // Home and End arrive in several spellings, and TERM often names a different terminal than the one
        // sending them (TERM=xterm-256color inside tmux sends ESC [1~): teach ncurses the common ones.
        for (sequence, code) in Self.extraKeys where key_defined(sequence) == 0 { _ = define_key(sequence, code) }
        _ = curs_set(0)
        var defaultsWork = false
        if has_colors() {
            start_color()
            defaultsWork = use_default_colors() == OK
        }
        defaultColorsWork = defaultsWork
        terminalColors = has_colors() ? flywheel_nc_colors() : 0
        maxPairs = has_colors() ? flywheel_nc_color_pairs() : 0

        let noColor = getenv("NO_COLOR").map { $0.pointee != 0 } ?? false
        let detected: ColorSupport
        if noColor || !has_colors() {
            detected = .none
        } else if terminalColors >= 256 {
            detected = .full256
        } else {
            detected = .basic8
        }
        colorSupport = forceColors ?? detected
    }

    deinit { stop() }

    private static let extraKeys: [(String, Int32)] = [
        ("\u{1B}[1~", KEY_HOME), ("\u{1B}[4~", KEY_END), ("\u{1B}[7~", KEY_HOME), ("\u{1B}[8~", KEY_END),
        ("\u{1B}[H", KEY_HOME), ("\u{1B}[F", KEY_END), ("\u{1B}OH", KEY_HOME), ("\u{1B}OF", KEY_END),
    ]

    /// Columns and rows of the terminal (as of the last key read: ncurses resizes on KEY_RESIZE).
    public var size: (width: Int, height: Int) {
        guard !stopped else { return (0, 0) }
        return (Int(flywheel_nc_max_x()), Int(flywheel_nc_max_y()))
    }

    /// Copies the cells that differ from the previously drawn buffer (all of them the first time, after a
    /// resize, or when the buffer's size changed), then refreshes. Shows the cursor at `buffer.cursor`
    /// when it is set, hides it otherwise. Cells outside the terminal are not drawn.
    public func draw(_ buffer: ScreenBuffer) {
        guard !stopped else { return }
        let win = flywheel_nc_stdscr()
        let screenSize = size
        var full = needsFullRedraw || screenSize != lastScreenSize
        if let p = previous, p.width == buffer.width, p.height == buffer.height {} else { full = true }
        if full { werase(win) }

        let rows = min(buffer.height, screenSize.height)
        let cols = min(buffer.width, screenSize.width)
        let width = buffer.width
        let old = full ? nil : previous
        let new = buffer.cells
        for y in 0..<rows {
            let row = y * width
            if let old, old.cells[row..<(row + cols)] == new[row..<(row + cols)] { continue }
            for x in 0..<cols {
                let cell = new[row + x]
                if cell.width == 0 { continue }  // right half of a wide character: ncurses fills it
                if let old, old.cells[row + x] == cell { continue }
                write(cell, x: x, y: y, screenWidth: screenSize.width)
            }
        }

        if let c = buffer.cursor, c.x >= 0, c.y >= 0, c.x < screenSize.width, c.y < screenSize.height {
            wmove(win, Int32(c.y), Int32(c.x))
            if !cursorVisible { _ = curs_set(1); cursorVisible = true }
        } else if cursorVisible {
            _ = curs_set(0)
            cursorVisible = false
        }
        wrefresh(win)
        previous = buffer
        lastScreenSize = screenSize
        needsFullRedraw = false
    }

    /// Writes one cell. The text is a base scalar plus combining marks; control characters are never
    /// written. When the C library's width for the base disagrees with the cell's width (or the locale
    /// cannot show it), a "?" and a blank keep the columns aligned.
    private func write(_ cell: Cell, x: Int, y: Int, screenWidth: Int) {
        let scalars = cell.text.unicodeScalars
        var base: Unicode.Scalar = scalars.first ?? " "
        if Self.isControl(base) { base = " " }
        var wide = cell.width == 2
        if wide && x + 1 >= screenWidth { base = " "; wide = false }  // half a wide character does not fit
        var count = 0
        let baseWidth = base.value < 0x7F ? 1 : Int(flywheel_nc_wcwidth(wchar_t(bitPattern: base.value)))
        var padAfter = false
        if baseWidth == (wide ? 2 : 1) {
            wideChars[0] = wchar_t(bitPattern: base.value)
            count = 1
            for mark in scalars.dropFirst() where count < 5 && !Self.isControl(mark) {
                if flywheel_nc_wcwidth(wchar_t(bitPattern: mark.value)) == 0 { wideChars[count] = wchar_t(bitPattern: mark.value); count += 1 }
            }
        } else {
            wideChars[0] = baseWidth == 1 ? wchar_t(bitPattern: base.value) : 0x3F  // "?"
            count = 1
            padAfter = wide
        }
        wideChars[count] = 0
        let (attrs, pair) = attributes(for: cell.style)
        wideChars.withUnsafeBufferPointer { p in
            _ = flywheel_nc_put_cell(Int32(y), Int32(x), p.baseAddress, attrs, pair)
        }
        if padAfter {
            wideChars[0] = 0x20
            wideChars[1] = 0
            wideChars.withUnsafeBufferPointer { p in
                _ = flywheel_nc_put_cell(Int32(y), Int32(x + 1), p.baseAddress, attrs, pair)
            }
        }
    }

    private static func isControl(_ u: Unicode.Scalar) -> Bool { u.value < 0x20 || (0x7F..<0xA0).contains(u.value) }

    private func attributes(for style: Style) -> (attr_t, Int32) {
        if style == lastStyle { return lastStyleValue }
        var a = flywheel_nc_a_normal()
        if style.attributes.contains(.bold) { a |= flywheel_nc_a_bold() }
        if style.attributes.contains(.underline) { a |= flywheel_nc_a_underline() }
        if style.attributes.contains(.reverse) { a |= flywheel_nc_a_reverse() }
        if style.attributes.contains(.dim) { a |= flywheel_nc_a_dim() }
        let pair = colorSupport == .none ? 0 : pair(fg: style.fg, bg: style.bg)
        lastStyle = style
        lastStyleValue = (a, pair)
        return (a, pair)
    }

    private func colorNumber(_ c: Color, foreground: Bool) -> Int32 {
        switch c {
        case .default:
            return defaultColorsWork ? -1 : (foreground ? Int32(COLOR_WHITE) : Int32(COLOR_BLACK))
        case .indexed(let i):
            if colorSupport == .full256, Int32(i) < terminalColors { return Int32(i) }
            guard case .indexed(let b) = c.basic else { return -1 }
            return Int32(b)
        }
    }

    /// The colour pair for (fg, bg), allocated on first use. When the terminal runs out of pairs (or
    /// refuses one), the closest allocated pair is used: same background first, then same foreground,
    /// else pair 0.
    private func pair(fg: Color, bg: Color) -> Int32 {
        let key = PairKey(fg: colorNumber(fg, foreground: true), bg: colorNumber(bg, foreground: false))
        if let p = pairs[key] { return p }
        if key.fg == -1 && key.bg == -1 { pairs[key] = 0; return 0 }
        var result: Int32 = 0
        if nextPair < maxPairs, init_extended_pair(nextPair, key.fg, key.bg) == OK {
            result = nextPair
            nextPair += 1
            allocated.append((key, result))
        } else {
            var bestScore = 0
            for (k, p) in allocated {
                let score = (k.bg == key.bg ? 2 : 0) + (k.fg == key.fg ? 1 : 0)
                if score > bestScore { bestScore = score; result = p }
            }
        }
        pairs[key] = result
        return result
    }

    /// Waits up to `timeoutMs` milliseconds (negative: forever) for a key; nil on timeout and for keys
    /// the console does not use (mouse events, unknown codes). KEY_RESIZE comes back as `.resize` and
    /// makes the next `draw` repaint everything.
    public func readKey(timeoutMs: Int) -> Key? {
        guard !stopped else { return nil }
        let win = flywheel_nc_stdscr()
        let t = Int32(clamping: timeoutMs)
        if t != currentTimeout { wtimeout(win, t); currentTimeout = t }
        var ch: wint_t = 0
        let rc = wget_wch(win, &ch)
        if rc == ERR { return nil }
        if rc == KEY_CODE_YES { return functionKey(Int32(bitPattern: ch)) }
        return characterKey(ch)
    }

    private func characterKey(_ ch: wint_t) -> Key? {
        switch ch {
        case 10, 13: return .enter
        case 27: return .esc
        case 9: return .tab
        case 8, 127: return .backspace
        case 1...26: return .ctrl(Character(Unicode.Scalar(UInt8(0x60 + ch))))
        case 0..<0x20, 0x80..<0xA0: return nil
        default:
            guard let s = Unicode.Scalar(UInt32(ch)) else { return nil }
            return .char(Character(s))
        }
    }

    private func functionKey(_ code: Int32) -> Key? {
        switch code {
        case KEY_ENTER: return .enter
        case KEY_BTAB: return .backTab
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_HOME, KEY_FIND, KEY_A1: return .home
        case KEY_END, KEY_SELECT, KEY_C1: return .end
        case KEY_PPAGE, KEY_A3: return .pageUp
        case KEY_NPAGE, KEY_C3: return .pageDown
        case KEY_RESIZE:
            needsFullRedraw = true
            return .resize
        case flywheel_nc_key_f(1)...flywheel_nc_key_f(63): return .function(Int(code - flywheel_nc_key_f(0)))
        default: return nil  // KEY_MOUSE and anything else
        }
    }

    /// Leaves curses mode (endwin) and frees the screen. Safe to call twice; also called from deinit.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        endwin()
        if let screen { delscreen(screen) }
        screen = nil
    }
}

/// Terminal display width: CJK, full-width forms and wide emoji take two columns, combining marks none.
/// Also makes untrusted text safe to print: control characters and escapes become visible placeholders.
///
/// Widths follow Unicode East Asian Width "W"/"F", which is what glibc's wcwidth (and so ncurses and tmux)
/// use; a grapheme cluster is drawn as its first scalar plus its combining marks (see `displayForm`), so a
/// cluster's width is its first scalar's width, and the terminal agrees with the buffer.
public enum TextWidth {
    // Sorted, non-overlapping ranges of scalars that take two columns.
    private static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0...0x23F0, 0x23F3...0x23F3,
        0x25FD...0x25FE, 0x2614...0x2615, 0x2648...0x2653, 0x267F...0x267F, 0x2693...0x2693, 0x26A1...0x26A1,
        0x26AA...0x26AB, 0x26BD...0x26BE, 0x26C4...0x26C5, 0x26CE...0x26CE, 0x26D4...0x26D4, 0x26EA...0x26EA,
        0x26F2...0x26F3, 0x26F5...0x26F5, 0x26FA...0x26FA, 0x26FD...0x26FD, 0x2705...0x2705, 0x270A...0x270B,
        0x2728...0x2728, 0x274C...0x274C, 0x274E...0x274E, 0x2753...0x2755, 0x2757...0x2757, 0x2795...0x2797,
        0x27B0...0x27B0, 0x27BF...0x27BF, 0x2B1B...0x2B1C, 0x2B50...0x2B50, 0x2B55...0x2B55,
        0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F,
        0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
        0x16FE0...0x16FE4, 0x17000...0x18CFF, 0x1B000...0x1B2FF, 0x1F004...0x1F004, 0x1F0CF...0x1F0CF,
        0x1F18E...0x1F18E, 0x1F191...0x1F19A, 0x1F200...0x1F202, 0x1F210...0x1F23B, 0x1F240...0x1F248,
        0x1F250...0x1F251, 0x1F260...0x1F265, 0x1F300...0x1F320, 0x1F32D...0x1F335, 0x1F337...0x1F37C,
        0x1F37E...0x1F393, 0x1F3A0...0x1F3CA, 0x1F3CF...0x1F3D3, 0x1F3E0...0x1F3F0, 0x1F3F4...0x1F3F4,
        0x1F3F8...0x1F43E, 0x1F440...0x1F440, 0x1F442...0x1F4FC, 0x1F4FF...0x1F53D, 0x1F54B...0x1F54E,
        0x1F550...0x1F567, 0x1F57A...0x1F57A, 0x1F595...0x1F596, 0x1F5A4...0x1F5A4, 0x1F5FB...0x1F64F,
        0x1F680...0x1F6C5, 0x1F6CC...0x1F6CC, 0x1F6D0...0x1F6D2, 0x1F6D5...0x1F6D7, 0x1F6DC...0x1F6DF,
        0x1F6EB...0x1F6EC, 0x1F6F4...0x1F6FC, 0x1F7E0...0x1F7EB, 0x1F7F0...0x1F7F0, 0x1F90C...0x1F93A,
        0x1F93C...0x1F945, 0x1F947...0x1F9FF, 0x1FA70...0x1FAFF, 0x20000...0x2FFFD, 0x30000...0x3FFFD,
    ]

    public static func width(of scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x20 || (0x7F..<0xA0).contains(v) { return 0 }
        if v < 0x1100 {
            // Fast path for Latin and friends; only marks are zero-width here.
            if v < 0x300 { return 1 }
        }
        if isZeroWidth(scalar) { return 0 }
        if v < 0x1100 { return 1 }
        var lo = 0, hi = wideRanges.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            let r = wideRanges[mid]
            if v < r.lowerBound { hi = mid - 1 } else if v > r.upperBound { lo = mid + 1 } else { return 2 }
        }
        return 1
    }

    private static func isZeroWidth(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return true
        default: return (0x1160...0x11FF).contains(s.value)  // Hangul medial vowels and final consonants
        }
    }

    /// Width of a grapheme cluster as drawn (its first scalar's width; see `displayForm`).
    public static func width(of ch: Character) -> Int {
        guard let first = ch.unicodeScalars.first else { return 0 }
        return width(of: first)
    }

    public static func width(_ s: String) -> Int {
        var w = 0
        for ch in s { w += width(of: ch) }
        return w
    }

    /// The scalars a terminal cell shows for `ch`: its first scalar and the combining marks after it.
    /// Variation selector 16, zero-width joiners and the emoji they join are dropped: terminals and
    /// wcwidth disagree on those sequences, and a cell must take exactly the width the buffer thinks.
    public static func displayForm(_ ch: Character) -> String {
        let scalars = ch.unicodeScalars
        if scalars.count == 1 { return String(ch) }
        var out = String.UnicodeScalarView()
        for (i, u) in scalars.enumerated() {
            if i == 0 { out.append(u); continue }
            if u.value == 0x200D { break }                         // ZWJ: the rest is another emoji
            if u.value == 0xFE0F || u.value == 0xFE0E { continue } // presentation selectors
            let c = u.properties.generalCategory
            if c == .nonspacingMark || c == .enclosingMark || c == .spacingMark && width(of: u) == 0 { out.append(u) }
        }
        return String(out)
    }

    /// Replaces control characters (including ESC, so no escape sequence reaches the terminal), and
    /// bidirectional overrides, with visible placeholders; newlines and tabs become "⏎" and a space.
    public static func sanitize(_ s: String) -> String {
        // Fast path: most text has nothing to replace.
        if !s.unicodeScalars.contains(where: needsReplacement) { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            if needsReplacement(u) { out.append(contentsOf: placeholder(u).unicodeScalars) } else { out.append(u) }
        }
        return String(out)
    }

    static func needsReplacement(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0..<0x20, 0x7F..<0xA0, 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F: return true
        default: return false
        }
    }

    static func placeholder(_ u: Unicode.Scalar) -> String {
        switch u.value {
        case 0x0A: return "⏎"
        case 0x09: return " "
        case 0x0D: return ""
        case 0..<0x20: return String(Unicode.Scalar(0x2400 + u.value)!)  // ␛, ␀ ...
        case 0x7F: return "␡"
        default: return "<U+\(String(u.value, radix: 16, uppercase: true))>"
        }
    }

    /// Cuts `s` (sanitised first, so widths are those of what is shown) to at most `columns` display
    /// columns, never splitting a character; adds "…" when cut.
    public static func truncate(_ raw: String, to columns: Int) -> String {
        let s = sanitize(raw)
        if width(s) <= columns { return s }
        guard columns > 0 else { return "" }
        var out = ""
        var used = 0
        for ch in s {
            let w = width(of: ch)
            if used + w > columns - 1 { break }
            out.append(ch)
            used += w
        }
        return out + "…"
    }

    /// `s` truncated and padded with spaces to exactly `columns` columns.
    public static func pad(_ s: String, to columns: Int) -> String {
        let t = truncate(s, to: columns)
        return t + String(repeating: " ", count: max(0, columns - width(t)))
    }

    /// `s` padded on the left to `columns` columns (cut first if longer).
    public static func padLeft(_ s: String, to columns: Int) -> String {
        let t = truncate(s, to: columns)
        return String(repeating: " ", count: max(0, columns - width(t))) + t
    }

    /// Wraps sanitised text into lines of at most `columns` columns. Latin words move whole to the next
    /// line when they fit on one; CJK text (which has no spaces) breaks between any two characters.
    /// Explicit newlines start new lines. Never splits a grapheme cluster.
    public static func wrap(_ s: String, to columns: Int) -> [String] {
        guard columns > 0 else { return [] }
        var lines: [String] = []
        for paragraph in s.split(separator: "\n", omittingEmptySubsequences: false) {
            let text = sanitize(String(paragraph))
            var line = ""
            var lineWidth = 0
            var word = ""      // pending run of non-space, non-wide characters
            var wordWidth = 0
            func flushWord() {
                if word.isEmpty { return }
                if lineWidth + wordWidth > columns && lineWidth > 0 {
                    lines.append(trimTrailing(line))
                    line = ""
                    lineWidth = 0
                }
                // A word longer than a line is cut at the margin.
                for ch in word {
                    let w = width(of: ch)
                    if lineWidth + w > columns { lines.append(line); line = ""; lineWidth = 0 }
                    line.append(ch)
                    lineWidth += w
                }
                word = ""
                wordWidth = 0
            }
            for ch in text {
                let w = width(of: ch)
                if ch == " " {
                    flushWord()
                    if lineWidth + 1 > columns { lines.append(trimTrailing(line)); line = ""; lineWidth = 0; continue }
                    if lineWidth > 0 { line.append(" "); lineWidth += 1 }
                } else if w == 2 {
                    flushWord()
                    if lineWidth + 2 > columns { lines.append(trimTrailing(line)); line = ""; lineWidth = 0 }
                    line.append(ch)
                    lineWidth += 2
                } else {
                    word.append(ch)
                    wordWidth += w
                }
            }
            flushWord()
            lines.append(trimTrailing(line))
        }
        return lines
    }

    private static func trimTrailing(_ s: String) -> String {
        var s = s
        while s.last == " " { s.removeLast() }
        return s
    }
}

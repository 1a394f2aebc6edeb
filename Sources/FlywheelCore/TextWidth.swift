/// Terminal display width: CJK, full-width forms and most emoji take two columns, combining marks none.
/// Also makes untrusted text safe to print: control characters and escapes become visible placeholders.
public enum TextWidth {
    public static func width(of scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v == 0 { return 0 }
        if v < 0x20 || (0x7F..<0xA0).contains(v) { return 0 }
        let p = scalar.properties
        if p.generalCategory == .nonspacingMark || p.generalCategory == .enclosingMark || p.generalCategory == .format { return 0 }
        if (0x1100...0x115F).contains(v) || (0x2E80...0x303E).contains(v) || (0x3041...0x33FF).contains(v)
            || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v) || (0xA000...0xA4CF).contains(v)
            || (0xAC00...0xD7A3).contains(v) || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v)
            || (0xFF00...0xFF60).contains(v) || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1F64F).contains(v)
            || (0x1F900...0x1F9FF).contains(v) || (0x1F680...0x1F6FF).contains(v) || (0x20000...0x3FFFD).contains(v) {
            return 2
        }
        return 1
    }

    public static func width(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { $0 + width(of: $1) }
    }

    /// Replaces control characters (including ESC, so no escape sequence reaches the terminal), and
    /// bidirectional overrides, with visible placeholders; newlines and tabs become "⏎" and a space.
    public static func sanitize(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            switch u.value {
            case 0x0A: out.append(contentsOf: "⏎".unicodeScalars)
            case 0x09: out.append(" ")
            case 0x0D: break
            case 0..<0x20, 0x7F: out.append(Unicode.Scalar(0x2400 + (u.value == 0x7F ? 0x21 : u.value))!)  // ␛ etc.
            case 0x80..<0xA0, 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F:
                out.append(contentsOf: "<U+\(String(u.value, radix: 16, uppercase: true))>".unicodeScalars)
            default: out.append(u)
            }
        }
        return String(out)
    }

    /// Cuts `s` to at most `columns` display columns, never splitting a character; adds "…" when cut.
    public static func truncate(_ s: String, to columns: Int) -> String {
        if width(s) <= columns { return s }
        guard columns > 0 else { return "" }
        var out = ""
        var used = 0
        for ch in s {
            let w = ch.unicodeScalars.reduce(0) { $0 + width(of: $1) }
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
}

/// A key press, from a terminal or from a script of keys (headless mode and tests).
public enum Key: Hashable, Sendable {
    case char(Character)
    case ctrl(Character)  // lowercase letter
    case enter, esc, tab, backTab, backspace, delete
    case up, down, left, right, home, end, pageUp, pageDown
    case function(Int)
    /// The terminal changed size (never in scripts).
    case resize

    /// How the key is written in key maps and in `--keys` scripts.
    public var name: String {
        switch self {
        case .char(" "): return "<Space>"
        case .char("<"): return "<lt>"
        case .char(let c): return String(c)
        case .ctrl(let c): return "<C-\(c)>"
        case .enter: return "<Enter>"
        case .esc: return "<Esc>"
        case .tab: return "<Tab>"
        case .backTab: return "<S-Tab>"
        case .backspace: return "<BS>"
        case .delete: return "<Del>"
        case .up: return "<Up>"
        case .down: return "<Down>"
        case .left: return "<Left>"
        case .right: return "<Right>"
        case .home: return "<Home>"
        case .end: return "<End>"
        case .pageUp: return "<PgUp>"
        case .pageDown: return "<PgDn>"
        case .function(let n): return "<F\(n)>"
        case .resize: return "<Resize>"
        }
    }

    /// A short label for help screens: arrows as symbols, the rest as named.
    public var label: String {
        switch self {
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .enter: return "Enter"
        case .esc: return "Esc"
        case .tab: return "Tab"
        case .backTab: return "S-Tab"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .backspace: return "BS"
        case .delete: return "Del"
        case .char(" "): return "Space"
        case .char(let c): return String(c)
        case .ctrl(let c): return "C-\(c)"
        default: return name.trimmingCharacters(in: "<>")
        }
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}

public struct KeyScriptError: Error, Equatable, CustomStringConvertible {
    public var token: String
    public var offset: Int
    public var description: String {
        "unknown key \(token) at character \(offset + 1); special keys are <Enter> <Esc> <Tab> <S-Tab> <BS> <Del> <Up> <Down> <Left> <Right> <Home> <End> <PgUp> <PgDn> <Space> <lt> <C-x> <F1>..<F12>"
    }
}

/// Parses a key script: plain characters stand for themselves, `<Name>` for special keys (case-insensitive),
/// `<lt>` for a literal "<". A "<" that does not start a known name is an error, so typos do not turn into
/// typed text.
public enum KeyScript {
    static let named: [String: Key] = [
        "enter": .enter, "cr": .enter, "return": .enter, "esc": .esc, "escape": .esc, "tab": .tab,
        "s-tab": .backTab, "backtab": .backTab, "bs": .backspace, "backspace": .backspace, "del": .delete,
        "delete": .delete, "up": .up, "down": .down, "left": .left, "right": .right, "home": .home, "end": .end,
        "pgup": .pageUp, "pageup": .pageUp, "pgdn": .pageDown, "pagedown": .pageDown, "space": .char(" "),
        "lt": .char("<"),
    ]

    public static func parse(_ script: String) throws -> [Key] {
        var keys: [Key] = []
        let chars = Array(script)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            guard c == "<" else { keys.append(.char(c)); i += 1; continue }
            guard let close = chars[i...].firstIndex(of: ">") else { throw KeyScriptError(token: String(chars[i...]), offset: i) }
            let token = String(chars[(i + 1)..<close])
            let lower = token.lowercased()
            if let k = named[lower] {
                keys.append(k)
            } else if lower.hasPrefix("c-"), lower.count == 3, let letter = lower.last, letter.isLetter {
                keys.append(.ctrl(letter))
            } else if lower.hasPrefix("f"), let n = Int(lower.dropFirst()), (1...12).contains(n) {
                keys.append(.function(n))
            } else {
                throw KeyScriptError(token: "<\(token)>", offset: i)
            }
            i = close + 1
        }
        return keys
    }
}

import Foundation
import TerminalKit
import TOMLKit

/// What the terminal can show; the backend detects it, the theme adapts to it.
public enum ColorDepth: Sendable, Equatable { case none, basic8, full256 }

/// The named styles screens draw with. A theme file sets any of them; unset roles keep the built-in value.
public enum Role: String, CaseIterable, Sendable {
    case base, header, tab, tabActive = "tab_active", border, title, focusBorder = "focus_border"
    case selected, selectedUnfocused = "selected_unfocused", muted, label, status, statusError = "status_error"
    case flagged, correction, repeated, slow, errorLog = "error_log"
    case user, assistant, answerWrong = "answer_wrong", answerRight = "answer_right", editor, help, placeholder
}

public struct ThemeError: Error, CustomStringConvertible {
    public var description: String
}

/// A colour theme: `themes/NAME.toml`, a table `[styles.ROLE]` per role with `fg`, `bg` (0-255 or a colour
/// name) and `attrs` (bold, underline, reverse, dim).
public struct Theme: Sendable, Equatable {
    public var name: String
    var styles: [Role: Style]

    public subscript(_ role: Role) -> Style { styles[role] ?? styles[.base] ?? .plain }

    /// Parses a theme file's text. Unknown roles, colours and attributes are errors, so a typo in a theme
    /// is reported rather than silently ignored.
    public static func parse(_ text: String, name: String) throws -> Theme {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw ThemeError(description: "theme \(name): \(e.description) at line \(e.source.begin.line), column \(e.source.begin.column)")
        }
        var theme = Theme.builtinDefault
        theme.name = (table["name"]?.string) ?? name
        guard let stylesTable = table["styles"]?.table else { return theme }
        for key in stylesTable.keys {
            guard let role = Role(rawValue: key) else {
                throw ThemeError(description: "theme \(name): unknown style \"\(key)\"; known: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let t = stylesTable[key]?.table else { throw ThemeError(description: "theme \(name): styles.\(key) must be a table") }
            var style = Style()
            for field in t.keys where !["fg", "bg", "attrs"].contains(field) {
                throw ThemeError(description: "theme \(name): styles.\(key).\(field) is not a style field (fg, bg, attrs)")
            }
            if let v = t["fg"] { style.fg = try color(v, "\(name): styles.\(key).fg") }
            if let v = t["bg"] { style.bg = try color(v, "\(name): styles.\(key).bg") }
            if let v = t["attrs"] {
                guard let arr = v.array else { throw ThemeError(description: "theme \(name): styles.\(key).attrs must be a list") }
                for a in arr {
                    switch a.string {
                    case "bold": style.attributes.insert(.bold)
                    case "underline": style.attributes.insert(.underline)
                    case "reverse": style.attributes.insert(.reverse)
                    case "dim": style.attributes.insert(.dim)
                    default: throw ThemeError(description: "theme \(name): styles.\(key).attrs: unknown attribute \(a.debugDescription) (bold, underline, reverse, dim)")
                    }
                }
            }
            theme.styles[role] = style
        }
        return theme
    }

    static let colorNames: [String: Color] = [
        "default": .default, "black": .indexed(0), "red": .indexed(1), "green": .indexed(2), "yellow": .indexed(3),
        "blue": .indexed(4), "magenta": .indexed(5), "cyan": .indexed(6), "white": .indexed(7),
        "bright_black": .indexed(8), "gray": .indexed(8), "grey": .indexed(8), "bright_red": .indexed(9),
        "bright_green": .indexed(10), "bright_yellow": .indexed(11), "bright_blue": .indexed(12),
        "bright_magenta": .indexed(13), "bright_cyan": .indexed(14), "bright_white": .indexed(15),
    ]

    private static func color(_ v: TOMLValueConvertible, _ at: String) throws -> Color {
        if let i = v.int {
            guard (0...255).contains(i) else { throw ThemeError(description: "theme \(at): colour \(i) is not in 0-255") }
            return .indexed(UInt8(i))
        }
        if let s = v.string, let c = colorNames[s.lowercased()] { return c }
        throw ThemeError(description: "theme \(at): unknown colour \(v.debugDescription); use 0-255 or one of \(colorNames.keys.sorted().joined(separator: ", "))")
    }

    /// The theme as a terminal of `depth` can show it. Without colours, anything marked by a background
    /// (the selection, the status bar) is shown reversed instead, so it stays visible.
    public func adapted(to depth: ColorDepth) -> Theme {
        var t = self
        for (role, style) in styles {
            switch depth {
            case .full256: break
            case .basic8: t.styles[role] = Style(fg: style.fg.basic, bg: style.bg.basic, attributes: style.attributes)
            case .none:
                var a = style.attributes
                if style.bg != .default && style.bg != styles[.base]?.bg { a.insert(.reverse) }
                t.styles[role] = Style(attributes: a)
            }
        }
        return t
    }

    /// The dark theme, compiled in so the console works without a themes folder.
    public static let builtinDefault: Theme = {
        var s: [Role: Style] = [:]
        s[.base] = Style()
        s[.header] = Style(fg: .indexed(252), bg: .indexed(236))
        s[.tab] = Style(fg: .indexed(250), bg: .indexed(236))
        s[.tabActive] = Style(fg: .indexed(16), bg: .indexed(75), attributes: .bold)
        s[.border] = Style(fg: .indexed(240))
        s[.focusBorder] = Style(fg: .indexed(75))
        s[.title] = Style(fg: .indexed(75), attributes: .bold)
        s[.selected] = Style(fg: .indexed(16), bg: .indexed(75))
        s[.selectedUnfocused] = Style(fg: .indexed(252), bg: .indexed(238))
        s[.muted] = Style(fg: .indexed(244))
        s[.label] = Style(fg: .indexed(109), attributes: .bold)
        s[.status] = Style(fg: .indexed(252), bg: .indexed(236))
        s[.statusError] = Style(fg: .indexed(231), bg: .indexed(124), attributes: .bold)
        s[.flagged] = Style(fg: .indexed(222), bg: .indexed(58))
        s[.correction] = Style(fg: .indexed(203), attributes: .bold)
        s[.repeated] = Style(fg: .indexed(215), attributes: .bold)
        s[.slow] = Style(fg: .indexed(179))
        s[.errorLog] = Style(fg: .indexed(167))
        s[.user] = Style(fg: .indexed(117), attributes: .bold)
        s[.assistant] = Style(fg: .indexed(150), attributes: .bold)
        s[.answerWrong] = Style(fg: .indexed(210))
        s[.answerRight] = Style(fg: .indexed(114), attributes: .bold)
        s[.editor] = Style(fg: .indexed(231), bg: .indexed(24))
        s[.help] = Style(fg: .indexed(252), bg: .indexed(235))
        s[.placeholder] = Style(fg: .indexed(244))
        return Theme(name: "dark", styles: s)
    }()

    /// Finds and loads a theme: NAME is a path to a .toml file, or a name looked up in the theme folders.
    /// "dark" falls back to the built-in copy when no folder has it.
    public static func load(_ nameOrPath: String, searchPaths: [String]) throws -> Theme {
        let fm = FileManager.default
        if nameOrPath.hasSuffix(".toml") || nameOrPath.contains("/") {
            guard let data = fm.contents(atPath: nameOrPath), let text = String(data: data, encoding: .utf8) else {
                throw ThemeError(description: "cannot read theme file \(nameOrPath)")
            }
            return try parse(text, name: nameOrPath)
        }
        for dir in searchPaths {
            let path = dir + "/" + nameOrPath + ".toml"
            if let data = fm.contents(atPath: path) {
                guard let text = String(data: data, encoding: .utf8) else { throw ThemeError(description: "\(path) is not UTF-8") }
                return try parse(text, name: nameOrPath)
            }
        }
        if nameOrPath == "dark" { return builtinDefault }
        let available = Set(searchPaths.flatMap { dir in
            ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) }
        }).union(["dark"]).sorted()
        throw ThemeError(description: "no theme named \(nameOrPath); available: \(available.joined(separator: ", "))")
    }
}

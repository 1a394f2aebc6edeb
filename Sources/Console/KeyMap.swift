import TerminalKit

/// Everything a key can do. Each has one handler in `Console.update` and one line in the help screen.
enum Action: Equatable {
    case quit, help, screen(ScreenID), refresh
    case down, up, pageDown, pageUp, top, focusNext
    case search, toggleFlagged
    case approve, reject, edit, category, skip, undo
    case groupBy, cycleWindow, drill, back, toggleDiff, optimize, activate, toggleBucket
    case zoom, openImage
    case accept, toggleTag
    case toggleAdjudication
    case focusPrevious, releaseHeld, discardHeld
}

/// A key binding: keys, what they do, and the help line. The help screen is generated from these tables, so
/// it cannot drift from what the keys do.
struct Binding {
    var keys: [Key]
    var action: Action
    var help: String
}

enum KeyMap {
    static let global: [Binding] = [
        Binding(keys: [.char("1")], action: .screen(.sessions), help: "sessions"),
        Binding(keys: [.char("2")], action: .screen(.review), help: "review"),
        Binding(keys: [.char("3")], action: .screen(.patterns), help: "patterns"),
        Binding(keys: [.char("4")], action: .screen(.prompts), help: "prompts"),
        Binding(keys: [.char("5")], action: .screen(.metrics), help: "metrics"),
        Binding(keys: [.char("6")], action: .screen(.annotate), help: "annotate"),
        Binding(keys: [.char("7")], action: .screen(.team), help: "team"),
        Binding(keys: [.char("?")], action: .help, help: "show or hide this help"),
        Binding(keys: [.ctrl("r")], action: .refresh, help: "reload from the database"),
        Binding(keys: [.char("q")], action: .quit, help: "quit"),
    ]

    static let lists: [Binding] = moves + [
        Binding(keys: [.tab], action: .focusNext, help: "switch between list and detail (j/k then scroll the detail)"),
    ]

    static let sessions: [Binding] = lists + [
        Binding(keys: [.char("/")], action: .search, help: "search sessions (id, user, text); empty clears"),
        Binding(keys: [.char("f")], action: .toggleFlagged, help: "flagged sessions only / all sessions"),
    ] + images

    static let images: [Binding] = [
        Binding(keys: [.char("z")], action: .zoom, help: "the image full screen / back (Esc too)"),
        Binding(keys: [.char("o")], action: .openImage, help: "open the image in your viewer (FLYWHEEL_IMAGE_VIEWER)"),
    ]

    static let review: [Binding] = lists + [
        Binding(keys: [.char("a")], action: .approve, help: "approve the sample"),
        Binding(keys: [.char("x")], action: .reject, help: "reject the sample"),
        Binding(keys: [.char("e")], action: .edit, help: "edit the correct answer (Enter saves as fixed, Esc cancels)"),
        Binding(keys: [.char("c")], action: .category, help: "change the error category"),
        Binding(keys: [.char("s")], action: .skip, help: "skip: leave it pending, go to the next"),
        Binding(keys: [.char("u")], action: .undo, help: "undo your last decision"),
        Binding(keys: [.char("A")], action: .toggleAdjudication, help: "adjudication queue (disputed samples, every vote) / back"),
    ] + images

    static let moves: [Binding] = [
        Binding(keys: [.char("j"), .down], action: .down, help: "next row"),
        Binding(keys: [.char("k"), .up], action: .up, help: "previous row"),
        Binding(keys: [.pageDown, .ctrl("d")], action: .pageDown, help: "page down"),
        Binding(keys: [.pageUp, .ctrl("u")], action: .pageUp, help: "page up"),
        Binding(keys: [.char("g"), .home], action: .top, help: "first row"),
    ]

    static let patterns: [Binding] = moves + [
        Binding(keys: [.char("b")], action: .groupBy, help: "group by task type / model / prompt version"),
        Binding(keys: [.char("w")], action: .cycleWindow, help: "window: 7 / 30 / 90 / 365 days up to the latest sample"),
        Binding(keys: [.enter], action: .drill, help: "show the samples behind the selected row"),
        Binding(keys: [.esc], action: .back, help: "back from the samples to the plan"),
    ]

    static let prompts: [Binding] = lists + [
        Binding(keys: [.char("d")], action: .toggleDiff, help: "side-by-side diff against the parent / the template"),
        Binding(keys: [.char("o")], action: .optimize, help: "optimise the active prompt with the LLM (runs in the background)"),
        Binding(keys: [.char("A")], action: .activate, help: "make the selected version the active one"),
    ]

    static let metrics: [Binding] = [
        Binding(keys: [.char("h")], action: .toggleBucket, help: "hourly / daily series"),
    ]

    static let annotate: [Binding] = [
        Binding(keys: [.enter], action: .accept, help: "save: the suggested answer, or the kept tags"),
        Binding(keys: [.char("e")], action: .edit, help: "write the answer / add a tag (Enter saves, Esc cancels)"),
        Binding(keys: [.char(" ")], action: .toggleTag, help: "keep or drop the selected tag"),
        Binding(keys: [.char("j"), .down], action: .down, help: "next tag"),
        Binding(keys: [.char("k"), .up], action: .up, help: "previous tag"),
        Binding(keys: [.char("s")], action: .skip, help: "skip this item"),
        Binding(keys: [.char("z")], action: .zoom, help: "the image full screen / back (Esc too)"),
    ]

    static let team: [Binding] = moves + [
        Binding(keys: [.tab], action: .focusNext, help: "next panel: agreement, end users, held (j/k act on it)"),
        Binding(keys: [.backTab], action: .focusPrevious, help: "previous panel"),
        Binding(keys: [.char("r")], action: .releaseHeld, help: "release the selected held sample into the review queue"),
        Binding(keys: [.char("d")], action: .discardHeld, help: "discard the selected held sample (it becomes rejected)"),
    ]

    static func bindings(for screen: ScreenID) -> [Binding] {
        switch screen {
        case .sessions: return sessions + global
        case .review: return review + global
        case .patterns: return patterns + global
        case .prompts: return prompts + global
        case .metrics: return metrics + global
        case .annotate: return annotate + global
        case .team: return team + global
        }
    }

    static func action(for key: Key, on screen: ScreenID) -> Action? {
        bindings(for: screen).first { $0.keys.contains(key) }?.action
    }
}

import ArgumentParser
import FlywheelCore
import FlywheelStore
import Foundation
import TerminalKit

/// `flywheel prompt add|list|show|diff|activate`: the registry of prompt versions.
struct PromptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prompt",
        abstract: "The registry of prompt versions: add, list, show, diff, activate.",
        discussion: """
            Versions named in events (prompt_version) appear on their own, without template text; `prompt add` \
            with the same name fills it in. `flywheel optimize` adds candidates written by an LLM.
            """,
        subcommands: [PromptAdd.self, PromptList.self, PromptShow.self, PromptDiff.self, PromptActivate.self])
}

func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

/// A store error as a CLI error (one line, exit 1).
func storeCall<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as PromptStoreError {
        throw CLIError(e.description)
    }
}

/// The template text of a version, or a clear error when it has none or does not exist.
func templateOf(_ store: Store, _ name: String) throws -> (PromptVersion, String) {
    guard let v = try store.promptVersion(named: name) else { throw CLIError(PromptStoreError.notFound(name).description) }
    guard let t = v.template else { throw CLIError(PromptStoreError.noTemplate(name).description) }
    return (v, t)
}

struct PromptAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Register a prompt version (a candidate) from a file (\(rolesThatMay(.managePrompts))).",
        discussion: "A name that so far was only seen in events gets its template, author and parent filled in.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var actor: ActorOptions

    @Argument(help: "Name of the new version, e.g. vqa-v4.")
    var name: String

    @Option(name: .long, help: ArgumentHelp("The template text (UTF-8; - reads standard input).", valueName: "FILE"))
    var file: String

    @Option(name: .long, help: ArgumentHelp("The version this one derives from.", valueName: "NAME"))
    var parent: String?

    @Option(name: .long, help: ArgumentHelp("Who wrote it (default: the acting user).", valueName: "NAME"))
    var author: String?

    @Option(name: .long, help: ArgumentHelp("The task type it is for, e.g. vqa (default: the parent's).", valueName: "TYPE"))
    var taskType: String?

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let who = try actor.authorized(.managePrompts, in: store)
            let data: Data?
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                data = FileManager.default.contents(atPath: file)
            }
            guard let data else { throw CLIError("cannot read \(file)") }
            guard let text = String(data: data, encoding: .utf8) else { throw CLIError("\(file) is not UTF-8 text") }
            let template = text.trimmingCharacters(in: .whitespacesAndNewlines)
            let writer = (author ?? who).isEmpty ? nil : (author ?? who)
            var type = taskType
            if type == nil, let parent { type = try store.promptVersion(named: parent)?.taskType }
            let existed = try store.promptVersion(named: name) != nil
            try storeCall { try store.addPromptVersion(name: name, template: template, parent: parent, author: writer, taskType: type, now: nowMillis(), actor: who) }
            let v = try store.promptVersion(named: name)
            let what = existed ? "template added to \(name) (seen in events)" : "added \(name) as a candidate"
            print("\(what): \(template.count) characters, task type \(v?.taskType ?? "none"), parent \(v?.parent ?? "none")")
            if v?.status != "active" { print("activate it with: flywheel prompt activate \(name)") }
        }
    }
}

enum PromptListFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

struct PromptList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List prompt versions, active ones first, then newest.")

    @OptionGroup var database: DatabaseOptions

    @Option(name: .long, help: "table or json (one array).")
    var format: PromptListFormat = .table

    func run() throws {
        try reportingErrors {
            let versions = try database.open().promptVersions()
            switch format {
            case .json:
                let objects = versions.map { v in
                    "{\"name\":\(jsonQuoted(v.name)),\"status\":\(jsonQuoted(v.status)),\"task_type\":\(v.taskType.map(jsonQuoted) ?? "null")"
                        + ",\"parent\":\(v.parent.map(jsonQuoted) ?? "null"),\"author\":\(v.author.map(jsonQuoted) ?? "null")"
                        + ",\"created_at\":\(jsonQuoted(Timestamp.format(millis: v.createdAt))),\"seen_in_events\":\(v.seenInEvents != 0)"
                        + ",\"template\":\(v.template.map(jsonQuoted) ?? "null")}"
                }
                print(objects.isEmpty ? "[]" : "[\n" + objects.joined(separator: ",\n") + "\n]")
            case .table:
                guard !versions.isEmpty else {
                    print("No prompt versions yet. They appear when events name a prompt_version, or with flywheel prompt add.")
                    return
                }
                var table = TextTable(headers: ["name", "status", "task", "parent", "author", "created", "events", "chars"],
                                      widths: [22, 9, 10, 22, 16, 16, 6, 6])
                for v in versions {
                    let created = Timestamp.format(millis: v.createdAt).prefix(16).replacingOccurrences(of: "T", with: " ")
                    table.add([v.name, v.status, v.taskType ?? "", v.parent ?? "", v.author ?? "", created,
                               v.seenInEvents != 0 ? "yes" : "no", v.template.map { String($0.count) } ?? "—"])
                }
                print(table.render())
            }
        }
    }
}

struct PromptShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a prompt version and its template text.")

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The version's name.")
    var name: String

    func run() throws {
        try reportingErrors {
            guard let v = try database.open().promptVersion(named: name) else { throw CLIError(PromptStoreError.notFound(name).description) }
            print("name:       \(v.name)")
            print("status:     \(v.status)")
            print("task type:  \(v.taskType ?? "none")")
            print("parent:     \(v.parent ?? "none")")
            print("author:     \(v.author ?? "unknown")")
            print("created:    \(Timestamp.format(millis: v.createdAt))")
            print("in events:  \(v.seenInEvents != 0 ? "yes" : "no")")
            if let t = v.template {
                print("template:   \(t.count) characters\n")
                print(t)
            } else {
                print("template:   none (only seen in events): add one with flywheel prompt add \(v.name) --file F")
            }
        }
    }
}

struct PromptDiff: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diff", abstract: "Compare two prompt versions' templates, line by line.")

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The first version (shown as removed).")
    var a: String

    @Argument(help: "The second version (shown as added).")
    var b: String

    @Flag(name: .long, help: "Two columns instead of a unified diff.")
    var sideBySide = false

    @Option(name: .long, help: ArgumentHelp("Total width for --side-by-side (default: the terminal's, else 120).", valueName: "N"))
    var width: Int?

    func validate() throws {
        if let width, width < 20 { throw ValidationError("--width must be at least 20") }
    }

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let (_, ta) = try templateOf(store, a)
            let (_, tb) = try templateOf(store, b)
            if ta == tb {
                print("\(a) and \(b) have the same template")
                return
            }
            if sideBySide {
                print(renderSideBySide(ta, tb, nameA: a, nameB: b, width: width ?? terminalColumns() ?? 120), terminator: "")
            } else {
                print(TextDiff.unified(ta, tb, nameA: a, nameB: b), terminator: "")
            }
        }
    }
}

struct PromptActivate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activate",
        abstract: "Make a version the active one of its task type; the previously active one is retired (\(rolesThatMay(.managePrompts))).")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var actor: ActorOptions

    @Argument(help: "The version's name.")
    var name: String

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let who = try actor.authorized(.managePrompts, in: store)
            let before = try store.promptVersions().filter { $0.status == "active" }
            try storeCall { try store.activatePromptVersion(name, by: who, now: nowMillis()) }
            let after = Set(try store.promptVersions().filter { $0.status == "active" }.map(\.name))
            let retired = before.map(\.name).filter { !after.contains($0) }
            print("\(name) is now active" + (retired.isEmpty ? "" : "; retired \(retired.joined(separator: ", "))"))
        }
    }
}

/// Columns of the terminal on standard output, if it is one.
func terminalColumns() -> Int? {
    var ws = winsize()
    if isatty(1) != 0, ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
    if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), c > 0 { return c }
    return nil
}

/// Two columns, `width` wide in all: A's lines on the left, B's on the right, long lines wrapped, and a
/// marker between them as sdiff draws it: ' ' same, '|' changed, '<' only in A, '>' only in B.
func renderSideBySide(_ a: String, _ b: String, nameA: String, nameB: String, width: Int) -> String {
    let col = max(8, (width - 3) / 2)
    var out = TextWidth.pad(nameA, to: col) + "   " + TextWidth.truncate(nameB, to: col) + "\n"
    out += String(repeating: "-", count: col) + "   " + String(repeating: "-", count: col) + "\n"
    for row in TextDiff.sideBySide(a, b) {
        let left = row.left.map { TextWidth.wrap($0, to: col) } ?? []
        let right = row.right.map { TextWidth.wrap($0, to: col) } ?? []
        let marker: String
        switch row.kind {
        case .same: marker = " "
        case .changed: marker = "|"
        case .removed: marker = "<"
        case .added: marker = ">"
        }
        for k in 0..<max(1, left.count, right.count) {
            let l = k < left.count ? left[k] : ""
            let r = k < right.count ? right[k] : ""
            let line = TextWidth.pad(l, to: col) + " \(marker) " + r
            out += String(line.reversed().drop(while: { $0 == " " }).reversed()) + "\n"
        }
    }
    return out
}

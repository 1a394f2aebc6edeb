import ArgumentParser
import FlywheelCore
import FlywheelStore
import Foundation

// flywheel user, settings and audit: the team, its shared settings and the append-only record of every change.

extension TeamRole: ExpressibleByArgument {}

/// Who may do what, generated from `TeamAction.allowedRoles` (the table the store checks), for `flywheel user
/// roles` and (without the phrases, to fit 80 columns) `flywheel user --help`.
func roleMatrix(phrases: Bool = true) -> String {
    var table = TextTable(headers: ["action"] + TeamRole.allCases.map(\.rawValue) + (phrases ? ["what"] : []),
                          widths: [16] + TeamRole.allCases.map { max(6, $0.rawValue.count) } + (phrases ? [34] : []))
    for action in TeamAction.allCases {
        let cells = TeamRole.allCases.map { role -> String in
            if action.allowedRoles.contains(role) { return "yes" }
            return TeamMember(name: "", role: role, adjudicator: true, createdAt: 0).may(action) ? "marked" : "-"
        }
        table.add([action.rawValue] + cells + (phrases ? [action.phrase] : []))
    }
    return table.render() + """


        marked: a reviewer marked adjudicator
        (flywheel user role NAME reviewer --adjudicator).
        Reading (lists, screens, audit) and machine work (ingest, analyze, collect)
        are not guarded.
        """
}

/// "pm or admin", "admin, or a reviewer marked adjudicator": who may take `action`, for help texts.
func rolesThatMay(_ action: TeamAction) -> String {
    action == .adjudicate ? action.rolesList + ", or a reviewer marked adjudicator" : action.rolesList
}

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Team members and their roles: add, list, role, roles.",
        discussion: """
            While no user is registered nothing is guarded and anyone may do anything. The first user must be an \
            admin; from then on every guarded action needs a registered user (--user NAME, else $USER) whose role \
            allows it, and a refused action exits with status 77. Every change is in flywheel audit.

            \(roleMatrix(phrases: false))
            """,
        subcommands: [UserAdd.self, UserList.self, UserRole.self, UserRoles.self])
}

struct UserAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Register a team member (\(rolesThatMay(.manageUsers)); the first user must be an admin and may be added by anyone).")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var actor: ActorOptions

    @Argument(help: "The new member's name (1-64 visible characters, no spaces).")
    var name: String

    @Option(name: .long, help: "annotator, reviewer, pm or admin.")
    var role: TeamRole

    @Flag(name: .long, help: "A reviewer who may also adjudicate disputed samples.")
    var adjudicator = false

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let who = try actor.name()
            let first = try !store.rolesEnforced()
            try store.addTeamMember(name: name, role: role, adjudicator: adjudicator, by: who, now: nowMillis())
            print("added \(name) as \(describeRole(role, adjudicator: adjudicator))")
            if first { print("roles are now enforced: every guarded action needs a registered user (see flywheel user roles)") }
            if adjudicator && role != .reviewer { print("note: the adjudicator mark matters only for reviewers (admins adjudicate anyway)") }
        }
    }
}

func describeRole(_ role: TeamRole, adjudicator: Bool) -> String {
    role.rawValue + (adjudicator ? " (adjudicator)" : "")
}

struct UserList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List team members and whether roles are enforced.")

    @OptionGroup var database: DatabaseOptions

    @Flag(name: .long, help: "One JSON object per line.")
    var json = false

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let members = try store.teamMembers()
            if json {
                for m in members {
                    print("{\"name\":\(jsonQuoted(m.name)),\"role\":\(jsonQuoted(m.role.rawValue)),\"adjudicator\":\(m.adjudicator),"
                          + "\"created_at\":\(jsonQuoted(Timestamp.format(millis: m.createdAt))),\"created_by\":\(m.createdBy.map(jsonQuoted) ?? "null")}")
                }
                return
            }
            guard !members.isEmpty else {
                print("No users: roles are not enforced and anyone may do anything. Add the first admin with flywheel user add NAME --role admin.")
                return
            }
            var table = TextTable(headers: ["name", "role", "adjudicator", "created", "by"], widths: [20, 9, 11, 19, 20])
            for m in members {
                table.add([m.name, m.role.rawValue, m.adjudicator ? "yes" : "", localTime(m.createdAt), m.createdBy ?? ""])
            }
            print(table.render())
            print("roles are enforced: \(members.count) user\(members.count == 1 ? "" : "s"); guarded actions need a registered user whose role allows them")
        }
    }
}

struct UserRole: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "role",
        abstract: "Change a member's role (\(rolesThatMay(.manageUsers))); the last admin cannot be demoted.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var actor: ActorOptions

    @Argument(help: "The member's name.")
    var name: String

    @Argument(help: "annotator, reviewer, pm or admin.")
    var role: TeamRole

    @Flag(inversion: .prefixedNo, help: "Mark (or unmark) a reviewer as adjudicator (default: unchanged).")
    var adjudicator: Bool?

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let who = try actor.name()
            let before = try store.teamMember(named: name)
            let after = try store.setRole(name: name, role: role, adjudicator: adjudicator, by: who, now: nowMillis())
            let was = before.map { describeRole($0.role, adjudicator: $0.adjudicator) } ?? "?"
            let now = describeRole(after.role, adjudicator: after.adjudicator)
            print(was == now ? "\(name) stays \(now)" : "\(name): \(was) -> \(now)")
            if after.adjudicator && after.role != .reviewer { print("note: the adjudicator mark matters only for reviewers (admins adjudicate anyway)") }
        }
    }
}

struct UserRoles: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "roles", abstract: "Print which role may take which action.")

    func run() throws {
        print(roleMatrix())
    }
}

// MARK: settings

struct SettingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract: "Team settings shared by every reviewer: show them, or set one (\(rolesThatMay(.changeSettings))).",
        subcommands: [SettingsShow.self, SettingsSet.self],
        defaultSubcommand: SettingsShow.self)
}

extension TeamSettings {
    /// The value of one of `TeamSettings.keys`.
    func value(of key: String) -> Int? {
        switch key {
        case "review.overlap": return overlap
        case "review.reservation_minutes": return reservationMinutes
        default: return nil
        }
    }
}

struct SettingsShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show every setting: value, default, range and meaning.")

    @OptionGroup var database: DatabaseOptions

    func run() throws {
        try reportingErrors {
            let current = try database.open().teamSettings()
            let defaults = TeamSettings()
            var table = TextTable(headers: ["key", "value", "default", "range", "meaning"], widths: [26, 5, 7, 7, 60])
            for spec in TeamSettings.keys {
                table.add([spec.key, current.value(of: spec.key).map(String.init) ?? "?", defaults.value(of: spec.key).map(String.init) ?? "?",
                           "\(spec.range.lowerBound)-\(spec.range.upperBound)", spec.help])
            }
            print(table.render())
            print("change one with: flywheel settings set KEY VALUE (\(rolesThatMay(.changeSettings)))")
        }
    }
}

struct SettingsSet: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set", abstract: "Set a team setting (\(rolesThatMay(.changeSettings))); the change is audited.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var actor: ActorOptions

    @Argument(help: ArgumentHelp("The setting: \(TeamSettings.keys.map(\.key).joined(separator: ", ")).", valueName: "KEY"))
    var key: String

    @Argument(help: ArgumentHelp("Its new value.", valueName: "VALUE"))
    var value: String

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let who = try actor.authorized(.changeSettings, in: store)
            let before = try store.teamSettings().value(of: key)
            try store.setTeamSetting(key, value, by: who, now: nowMillis())
            let after = try store.teamSettings().value(of: key)
            print("\(key): \(before.map(String.init) ?? "?") -> \(after.map(String.init) ?? "?")")
        }
    }
}

// MARK: audit

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The append-only record of every change, newest first: reviews, users, settings, prompts, tasks.",
        discussion: """
            Sample reviews come from the review log (ref r<id>), everything else from the audit log (ref a<id>). \
            Nothing is ever deleted: an undo is a new entry. Entities: sample, user, setting, prompt, \
            annotation_task, end_user. --json prints one object per line with before and after as JSON values.
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(name: .long, help: ArgumentHelp("Only this actor's entries.", valueName: "NAME"))
    var actor: String?

    @Option(name: .long, help: ArgumentHelp("Only this action, e.g. approve, adjudicate, undo, user_add, user_role, setting, prompt_activate.", valueName: "ACTION"))
    var action: String?

    @Option(name: .long, help: ArgumentHelp("Only this kind of entity: sample, user, setting, prompt, annotation_task, end_user.", valueName: "ENTITY"))
    var entity: String?

    @Option(name: .long, help: ArgumentHelp("Only this entity (a sample id, a user name, a setting key, …).", valueName: "ID"))
    var id: String?

    @Option(name: .long, help: ArgumentHelp("From this time: a UTC date (2026-05-01) or an RFC 3339 time.", valueName: "DATE"))
    var since: String?

    @Option(name: .long, help: ArgumentHelp("Up to this time: a UTC date (that day included) or an RFC 3339 time (excluded).", valueName: "DATE"))
    var until: String?

    @Option(name: .long, help: "At most this many entries.")
    var limit = 50

    @OptionGroup var viewer: ActorOptions

    @Flag(name: .long, help: "One JSON object per line.")
    var json = false

    func validate() throws {
        if let since, WindowDate.parse(since) == nil { throw ValidationError("--since: \"\(since)\" is not a date (2026-05-01) or an RFC 3339 time") }
        if let until, WindowDate.parse(until, endOfDay: true) == nil {
            throw ValidationError("--until: \"\(until)\" is not a date (2026-05-01) or an RFC 3339 time")
        }
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        try reportingErrors {
            let filter = AuditFilter(actor: actor, action: action, entity: entity, entityID: id,
                                     since: since.flatMap { WindowDate.parse($0) }, until: until.flatMap { WindowDate.parse($0, endOfDay: true) })
            // Votes on samples still waiting are the voters' (and adjudicators') to see, as in the console.
            let entries = try database.open().auditTrail(filter, limit: limit, viewer: try viewer.name())
            if json {
                for e in entries { print(auditJSONLine(e)) }
                return
            }
            guard !entries.isEmpty else {
                print("No audit entries match.")
                return
            }
            var table = TextTable(headers: ["ref", "time", "actor", "action", "entity", "change", "note"], widths: [7, 19, 14, 16, 24, 50, 70])
            for e in entries {
                table.add([e.ref, localTime(e.at), e.actor, e.action, "\(e.entity):\(e.entityID)", compactChange(e.before, e.after), compactNote(e.note)])
            }
            print(table.render())
        }
    }
}

/// One audit entry as a JSON line; before and after are embedded as JSON (a string when they are not JSON).
func auditJSONLine(_ e: AuditEntry) -> String {
    func embedded(_ text: String?) -> String {
        guard let text else { return "null" }
        return (try? JSONParser.parse(text)).map { _ in text } ?? jsonQuoted(text)
    }
    return "{\"ref\":\(jsonQuoted(e.ref)),\"at\":\(jsonQuoted(Timestamp.format(millis: e.at))),\"actor\":\(jsonQuoted(e.actor)),"
        + "\"action\":\(jsonQuoted(e.action)),\"entity\":\(jsonQuoted(e.entity)),\"entity_id\":\(jsonQuoted(e.entityID)),"
        + "\"before\":\(embedded(e.before)),\"after\":\(embedded(e.after)),\"note\":\(e.note.map(jsonQuoted) ?? "null")}"
}

/// A JSON value for a table cell: strings unquoted, objects as key=value pairs.
func compactJSON(_ v: JSONValue) -> String {
    switch v {
    case .string(let s): return s
    case .object(let pairs): return pairs.map { "\($0.0)=\(compactJSON($0.1))" }.joined(separator: " ")
    default: return v.jsonText
    }
}

/// A note for a table cell: a JSON object (a review's vote) as key=value pairs, other text as it is.
func compactNote(_ note: String?) -> String {
    guard let note else { return "" }
    if let v = try? JSONParser.parse(note), case .object = v { return compactJSON(v) }
    return note
}

/// before -> after, short: for two objects only the keys that differ ("state: pending -> approved"), else the
/// values themselves with strings unquoted.
func compactChange(_ before: String?, _ after: String?) -> String {
    let b = before.flatMap { try? JSONParser.parse($0) }, a = after.flatMap { try? JSONParser.parse($0) }
    func show(_ v: JSONValue?, raw: String?) -> String { v.map(compactJSON) ?? raw ?? "" }
    if case .object(let bp)? = b, case .object(let ap)? = a {
        var keys: [String] = []
        for (k, _) in bp + ap where !keys.contains(k) { keys.append(k) }
        let changed = keys.filter { b?[$0] != a?[$0] }
        if changed.isEmpty { return "unchanged" }
        return changed.map { "\($0): \(show(b?[$0], raw: "-")) -> \(show(a?[$0], raw: "-"))" }.joined(separator: ", ")
    }
    switch (before, after) {
    case (nil, nil): return ""
    case (nil, _): return "-> " + show(a, raw: after)
    case (_, nil): return show(b, raw: before) + " ->"
    default: return show(b, raw: before) + " -> " + show(a, raw: after)
    }
}

/// "2026-05-01 14:05:09" in the local time zone.
func localTime(_ ms: Int64) -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone.current
    f.dateFormat = "yyyy-MM-dd HH:mm:ss"
    return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
}

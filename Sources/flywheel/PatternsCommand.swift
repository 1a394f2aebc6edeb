import ArgumentParser
import FlywheelCore
import FlywheelStore
import Foundation

/// `--days`, `--since`, `--until`: the time window of patterns, plan, metrics and ab.
struct WindowOptions: ParsableArguments {
    @Option(name: .long, help: "Length of the window in days (default: 30, ending with the day of the newest sample).")
    var days: Int?

    @Option(name: .long, help: ArgumentHelp("Start of the window: a UTC date (2026-05-01) or an RFC 3339 time.", valueName: "DATE"))
    var since: String?

    @Option(name: .long, help: ArgumentHelp("End of the window: a UTC date (that day included) or an RFC 3339 time (excluded).", valueName: "DATE"))
    var until: String?

    var isSet: Bool { days != nil || since != nil || until != nil }

    func validate() throws {
        if let days, days < 1 { throw ValidationError("--days must be at least 1") }
        if since != nil && until != nil && days != nil { throw ValidationError("give at most two of --since, --until and --days") }
        if let since, WindowDate.parse(since) == nil { throw ValidationError("--since: \"\(since)\" is not a date (2026-05-01) or an RFC 3339 time") }
        if let until, WindowDate.parse(until, endOfDay: true) == nil {
            throw ValidationError("--until: \"\(until)\" is not a date (2026-05-01) or an RFC 3339 time")
        }
        if let s = since.flatMap({ WindowDate.parse($0) }), let u = until.flatMap({ WindowDate.parse($0, endOfDay: true) }), u <= s {
            throw ValidationError("--until must be after --since")
        }
    }

    /// The window asked for. Without --since and --until: `days` (default `defaultDays`) whole UTC days ending
    /// with the day of the newest sample (today when there are none). --since alone runs `days` days on when
    /// --days is given, else to that default end; --until alone goes `days` days back.
    func resolve(_ store: Store, defaultDays: Int) throws -> InsightWindow {
        let dayMillis = MetricBucket.day.millis
        let s = since.flatMap { WindowDate.parse($0) }
        let u = until.flatMap { WindowDate.parse($0, endOfDay: true) }
        func defaultWindow(_ days: Int) throws -> InsightWindow {
            try store.defaultInsightWindow(days: days)
                ?? InsightWindow.days(days, endingWithDayOf: Int64(Date().timeIntervalSince1970 * 1000))
        }
        switch (s, u) {
        case let (s?, u?):
            return InsightWindow(since: s, until: u)
        case let (s?, nil):
            if let days { return InsightWindow(since: s, until: s + Int64(days) * dayMillis) }
            let end = try defaultWindow(days ?? defaultDays).until
            guard end > s else { throw CLIError("--since \(since!) is after the newest sample; give --until or --days too", exitCode: 64) }
            return InsightWindow(since: s, until: end)
        case let (nil, u?):
            return InsightWindow(since: u - Int64(days ?? defaultDays) * dayMillis, until: u)
        case (nil, nil):
            return try defaultWindow(days ?? defaultDays)
        }
    }
}

/// table or json.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// "2026-04-29 to 2026-05-28 (30 days)" for whole days, else "2026-05-01T10:00:00Z to 2026-05-02T10:00:00Z".
func describe(_ w: InsightWindow) -> String {
    let day = MetricBucket.day.millis
    if w.since % day == 0 && w.until % day == 0 {
        let days = (w.until - w.since) / day
        let last = WindowDate.format(w.until - day)
        return days == 1 ? "\(last) (1 day)" : "\(WindowDate.format(w.since)) to \(last) (\(days) days)"
    }
    return "\(Timestamp.format(millis: w.since)) to \(Timestamp.format(millis: w.until))"
}

extension JSONValue {
    static func window(_ w: InsightWindow) -> JSONValue {
        .object([("since", .string(Timestamp.format(millis: w.since))), ("until", .string(Timestamp.format(millis: w.until)))])
    }
    static func int(_ n: Int) -> JSONValue { .number(Double(n)) }
    static func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
}

/// A number right-aligned in `width` columns.
func right(_ s: String, _ width: Int) -> String { s.leftPadded(to: width) }

struct PatternsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patterns",
        abstract: "Break samples down by error category over a time window; list the samples of one cell.",
        discussion: """
            Samples are counted at the time of the answer they are about; rejected samples are left out. Each \
            category's share is of its group's samples; a group's share (its "all" row) is of every sample shown. \
            --task, --model, --prompt and --category narrow the breakdown; with --samples N, the newest N samples \
            of that cell are listed instead.
            """)

    enum Dimension: String, ExpressibleByArgument, CaseIterable {
        case task, model, prompt, category

        /// The group's column header ("" for category: no grouping).
        var title: String {
            switch self {
            case .task: return "task type"
            case .model: return "model"
            case .prompt: return "prompt version"
            case .category: return ""
            }
        }

        /// The group's key in JSON.
        var jsonKey: String {
            switch self {
            case .task: return "task_type"
            case .model: return "model"
            case .prompt: return "prompt_version"
            case .category: return "group"
            }
        }

        /// A breakdown row's group; nil model or prompt version is "(none)".
        func key(_ r: BreakdownRow) -> String {
            switch self {
            case .task: return r.taskType
            case .model: return r.model ?? "(none)"
            case .prompt: return r.promptVersion ?? "(none)"
            case .category: return "all"
            }
        }
    }

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var window: WindowOptions

    @Option(name: .long, help: "Group by task (type), model, prompt (version), or category (no grouping).")
    var by: Dimension = .task

    @Option(name: .long, help: "table or json.")
    var format: ReportFormat = .table

    @Option(name: .long, help: "Only this error category.")
    var category: String?

    @Option(name: .long, help: ArgumentHelp("Only this task type.", valueName: "TASK"))
    var task: String?

    @Option(name: .long, help: "Only this model.")
    var model: String?

    @Option(name: .long, help: ArgumentHelp("Only this prompt version.", valueName: "VERSION"))
    var prompt: String?

    @Option(name: .long, help: ArgumentHelp("List the newest N samples of the cell instead.", valueName: "N"))
    var samples: Int?

    func validate() throws {
        if let category, ErrorCategory(rawValue: category) == nil {
            throw ValidationError("--category must be one of \(ErrorCategory.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let samples, samples < 1 { throw ValidationError("--samples must be at least 1") }
    }

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let w = try window.resolve(store, defaultDays: 30)
            if let samples {
                try listSamples(store, w, limit: samples)
                return
            }
            let rows = try store.categoryBreakdown(w).filter { r in
                (task == nil || r.taskType == task) && (model == nil || r.model == model)
                    && (prompt == nil || r.promptVersion == prompt) && (category == nil || r.category == category)
            }
            let groups = CategoryBreakdown.groups(rows.map { (by.key($0), $0.category, $0.count) })
            let total = groups.reduce(0) { $0 + $1.total }
            let filters = [("task", task), ("model", model), ("prompt", prompt), ("category", category)]
                .compactMap { name, value in value.map { "\(name) \($0)" } }
            switch format {
            case .json:
                let json = JSONValue.object([
                    ("window", .window(w)), ("by", .string(by.rawValue)),
                    ("filters", .object([("task_type", .optional(task)), ("model", .optional(model)), ("prompt_version", .optional(prompt)),
                                         ("category", .optional(category))])),
                    ("total", .int(total)),
                    ("groups", .array(groups.map { g in
                        .object([(by.jsonKey, g.group == "(none)" ? .null : .string(g.group)), ("total", .int(g.total)), ("share", .number(g.share)),
                                 ("categories", .array(g.cells.map { c in
                                     .object([("category", .string(c.category)), ("count", .int(c.count)), ("share", .number(c.share))])
                                 }))])
                    })),
                ])
                print(json.jsonText)
            case .table:
                let what = by == .category ? "" : ", by " + by.title
                print("samples by error category, \(describe(w))\(what)\(filters.isEmpty ? "" : " (" + filters.joined(separator: ", ") + ")"): \(total) samples")
                guard total > 0 else {
                    print("No samples in this window. (`flywheel analyze` makes samples; --days, --since and --until move the window.)")
                    return
                }
                var t = by == .category
                    ? TextTable(headers: ["category", "samples", "share"], widths: [26, 7, 6])
                    : TextTable(headers: [by.title, "category", "samples", "share"], widths: [16, 26, 7, 6])
                for g in groups {
                    let lead = by == .category ? [] : [g.group]
                    if by != .category { t.add(lead + ["all", right(String(g.total), 7), right(CategoryBreakdown.percent(g.share), 6)]) }
                    for c in g.cells {
                        t.add(lead + [c.category, right(String(c.count), 7), right(CategoryBreakdown.percent(c.share), 6)])
                    }
                }
                print(t.render())
                if by != .category { print("share: of the group's samples; on an \"all\" row, of every sample above") }
            }
        }
    }

    private func listSamples(_ store: Store, _ w: InsightWindow, limit: Int) throws {
        let rows = try store.samples(in: w, taskType: task, model: model, promptVersion: prompt, category: category, limit: limit)
        switch format {
        case .json:
            print(JSONValue.object([
                ("window", .window(w)),
                ("samples", .array(rows.map { s in
                    .object([("sample_id", .number(Double(s.id))), ("request_id", .optional(s.requestID)), ("session_id", .optional(s.sessionID)),
                             ("source", .string(s.source)), ("state", .string(s.state)), ("task_type", .string(s.taskType)),
                             ("model", .optional(s.model)), ("prompt_version", .optional(s.promptVersion)), ("category", .string(s.category)),
                             ("prompt", .optional(s.question)), ("wrong", .optional(s.wrongAnswer)), ("correct", .optional(s.correctAnswer))])
                })),
            ]).jsonText)
        case .table:
            if rows.isEmpty {
                print("No samples match in \(describe(w)).")
                return
            }
            var t = TextTable(headers: ["id", "request", "source", "model", "prompt", "state", "category", "wrong", "correct"],
                              widths: [5, 14, 19, 10, 10, 12, 26, 20, 20])
            for s in rows {
                t.add([String(s.id), s.requestID ?? "", s.source, s.model ?? "", s.promptVersion ?? "", s.state, s.category,
                       s.wrongAnswer ?? "", s.correctAnswer ?? "—"])
            }
            print(t.render())
        }
    }
}

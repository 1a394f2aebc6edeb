import ArgumentParser
import FlywheelCore
import FlywheelStore
import Foundation

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "The improvement plan per task type, from the error categories of its samples.",
        discussion: """
            Rules (a share must be above its threshold; shares are of the task type's samples in the window, \
            rejected ones left out): format_error -> revise the prompt; knowledge_error -> update the knowledge \
            base; visual_understanding_error with enough samples -> fine-tune. A task type with no negative \
            samples, or whose samples cross no threshold, needs no action.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var window: WindowOptions

    @Option(name: .long, help: "table or json.")
    var format: ReportFormat = .table

    @Option(name: .long, help: ArgumentHelp("Revise the prompt above this share of format errors.", valueName: "SHARE"))
    var formatThreshold = 0.30

    @Option(name: .long, help: ArgumentHelp("Update the knowledge base above this share of knowledge errors.", valueName: "SHARE"))
    var knowledgeThreshold = 0.30

    @Option(name: .long, help: ArgumentHelp("Fine-tune above this share of visual-understanding errors...", valueName: "SHARE"))
    var visualThreshold = 0.40

    @Option(name: .long, help: ArgumentHelp("...with at least this many samples of the task type.", valueName: "N"))
    var visualMinSamples = 500

    func validate() throws {
        for (name, value) in [("--format-threshold", formatThreshold), ("--knowledge-threshold", knowledgeThreshold),
                              ("--visual-threshold", visualThreshold)] where !(0...1).contains(value) {
            throw ValidationError("\(name) must be a share between 0 and 1 (0.3 is 30%)")
        }
        if visualMinSamples < 0 { throw ValidationError("--visual-min-samples must not be negative") }
    }

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let w = try window.resolve(store, defaultDays: 30)
            let thresholds = PlanThresholds(formatErrorShare: formatThreshold, knowledgeErrorShare: knowledgeThreshold,
                                            visualErrorShare: visualThreshold, visualMinSamples: visualMinSamples)
            let rows = try store.categoryBreakdown(w)
            // Registered task types without samples get their "no action needed" line too.
            let counts = rows.map { CategoryCount(taskType: $0.taskType, category: $0.category, count: $0.count) }
                + (try store.registeredTaskTypes()).map { CategoryCount(taskType: $0, category: ErrorCategory.unknown.rawValue, count: 0) }
            let actions = ImprovementPlan.actions(for: counts, thresholds: thresholds)
            let total = rows.reduce(0) { $0 + $1.count }
            switch format {
            case .json:
                print(JSONValue.object([
                    ("window", .window(w)), ("samples", .int(total)),
                    ("thresholds", .object([("format_error_share", .number(formatThreshold)), ("knowledge_error_share", .number(knowledgeThreshold)),
                                            ("visual_error_share", .number(visualThreshold)), ("visual_min_samples", .int(visualMinSamples))])),
                    ("actions", .array(actions.map { a in
                        .object([("task_type", .string(a.taskType)), ("action", .string(a.action.rawValue)), ("reason", .string(a.reason)),
                                 ("category", .optional(a.category)), ("share", .number(a.share)), ("count", .int(a.count)),
                                 ("total", .int(a.total)), ("threshold", a.threshold.map { .number($0) } ?? .null)])
                    })),
                ]).jsonText)
            case .table:
                print("improvement plan, \(describe(w)): \(total) samples")
                if actions.isEmpty {
                    print("No negative samples in this window: no action needed.")
                } else {
                    // The reason is the last column and is never cut: it holds the figures behind the action.
                    var t = TextTable(headers: ["task type", "action", "because"],
                                      widths: [16, 25, max(7, actions.map { $0.reason.count }.max() ?? 0)])
                    for a in actions { t.add([a.taskType, a.action.title, a.reason]) }
                    print(t.render())
                }
                let pct = CategoryBreakdown.percent
                print("rules: format_error > \(pct(formatThreshold)) -> revise the prompt; knowledge_error > \(pct(knowledgeThreshold)) "
                      + "-> update the knowledge base; visual_understanding_error > \(pct(visualThreshold)) with >= \(visualMinSamples) samples -> fine-tune")
            }
        }
    }
}

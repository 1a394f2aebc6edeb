import FlywheelCore
import FlywheelStore
import Foundation
import TerminalKit

// Screens 3-5: error patterns and the plan, prompt versions (diff, optimise, activate, A/B), and the
// flywheel metrics. Same shape as the other screens: state here, changed only by `Console.update`, data
// through effects.

enum PatternDimension: String, CaseIterable, Equatable {
    case task = "task type", model, prompt = "prompt version"
}

public struct PatternsData {
    var window: InsightWindow?
    var rows: [BreakdownRow]
}

/// One line of the breakdown table: a group (task type, model or prompt version) and a category in it.
struct PatternLine: Equatable {
    var group: String
    var category: String
    var count: Int
    var groupTotal: Int
    var share: Double { groupTotal == 0 ? 0 : Double(count) / Double(groupTotal) }
}

struct PatternsState {
    var days = 30
    var data: PatternsData?
    var by: PatternDimension = .task
    var selected = 0
    var top = 0
    /// The samples behind the selected line, once asked for with Enter.
    var drill: (line: PatternLine, samples: [SampleRow])?
    var loading = false

    /// The table for the current grouping: groups by size, categories by count within a group.
    var lines: [PatternLine] {
        guard let rows = data?.rows else { return [] }
        var counts: [String: [String: Int]] = [:]
        for r in rows {
            let g: String
            switch by {
            case .task: g = r.taskType
            case .model: g = r.model ?? "(none)"
            case .prompt: g = r.promptVersion ?? "(none)"
            }
            counts[g, default: [:]][r.category, default: 0] += r.count
        }
        let totals = counts.mapValues { $0.values.reduce(0, +) }
        return counts.keys.sorted { (totals[$0]!, $1) > (totals[$1]!, $0) }.flatMap { g in
            counts[g]!.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map {
                PatternLine(group: g, category: $0.key, count: $0.value, groupTotal: totals[g]!)
            }
        }
    }

    /// The plan is always per task type, whatever the table is grouped by.
    var plan: [PlanAction] {
        guard let rows = data?.rows else { return [] }
        var counts: [String: [String: Int]] = [:]
        for r in rows { counts[r.taskType, default: [:]][r.category, default: 0] += r.count }
        let flat = counts.flatMap { t, cats in cats.map { CategoryCount(taskType: t, category: $0.key, count: $0.value) } }
        return ImprovementPlan.actions(for: flat, thresholds: PlanThresholds())
    }
}

public struct PromptsData {
    var versions: [PromptVersion]
    var outcomes: [PromptOutcome]
}

struct PromptsState {
    var data: PromptsData?
    var selected = 0
    var top = 0
    var showDiff = false
    var optimizing = false
    var detailScroll = 0
    /// Select this version when the list next arrives (a new candidate).
    var selectAfterLoad: String?

    var selectedVersion: PromptVersion? {
        guard let v = data?.versions, v.indices.contains(selected) else { return nil }
        return v[selected]
    }

    func outcome(_ name: String?) -> PromptOutcome? {
        guard let name else { return nil }
        return data?.outcomes.first { $0.promptVersion == name }
    }
}

public struct MetricsData {
    var points: [MetricPoint]
    var oldestPending: OldestPending?
}

public struct OldestPending: Equatable {
    var id: Int64
    var createdAt: Int64
}

struct MetricsState {
    var bucket: MetricBucket = .day
    var data: MetricsData?
}

extension Console {
    static func loadImprovementScreen(_ state: inout AppState) -> [Effect] {
        switch state.screen {
        case .patterns where state.patterns.data == nil && !state.patterns.loading:
            state.patterns.loading = true
            return [.loadPatterns(days: state.patterns.days)]
        case .prompts where state.prompts.data == nil:
            return [.loadPrompts]
        case .metrics where state.metrics.data == nil:
            return [.loadMetrics(state.metrics.bucket)]
        default:
            return []
        }
    }

    static func performImprovement(_ state: inout AppState, _ action: Action) -> [Effect] {
        switch (state.screen, action) {
        case (.patterns, .groupBy):
            let all = PatternDimension.allCases
            state.patterns.by = all[(all.firstIndex(of: state.patterns.by)! + 1) % all.count]
            state.patterns.selected = 0
            state.patterns.top = 0
            state.patterns.drill = nil
            state.status = StatusLine(text: "grouped by \(state.patterns.by.rawValue)", isError: false)
        case (.patterns, .cycleWindow):
            let choices = [7, 30, 90, 365]
            state.patterns.days = choices[((choices.firstIndex(of: state.patterns.days) ?? 1) + 1) % choices.count]
            state.patterns.loading = true
            state.patterns.drill = nil
            return [.loadPatterns(days: state.patterns.days)]
        case (.patterns, .drill):
            let lines = state.patterns.lines
            guard lines.indices.contains(state.patterns.selected), let w = state.patterns.data?.window else { return [] }
            let line = lines[state.patterns.selected]
            var filter = SampleDrill(window: w, category: line.category)
            switch state.patterns.by {
            case .task: filter.taskType = line.group
            case .model: filter.model = line.group == "(none)" ? nil : line.group
            case .prompt: filter.promptVersion = line.group == "(none)" ? nil : line.group
            }
            state.status = StatusLine(text: "samples of \(line.group) · \(line.category)…", isError: false)
            return [.loadDrill(filter)]
        case (.patterns, .back):
            state.patterns.drill = nil
        case (.prompts, .toggleDiff):
            state.prompts.showDiff.toggle()
            state.prompts.detailScroll = 0
        case (.prompts, .optimize):
            guard !state.prompts.optimizing else {
                state.status = StatusLine(text: "an optimisation is already running", isError: false)
                return []
            }
            // The selected version is the base (the list starts on an active one).
            let base = state.prompts.selectedVersion
            if let base, base.template == nil {
                state.status = StatusLine(text: "\(base.name) has no template text to optimise; add one with flywheel prompt add \(base.name) --file F", isError: true)
                return []
            }
            state.prompts.optimizing = true
            state.status = StatusLine(text: "optimising \(base?.name ?? "the active prompt") with the LLM…", isError: false)
            return [.optimizePrompt(base?.name)]
        case (.prompts, .activate):
            guard let v = state.prompts.selectedVersion else { return [] }
            if v.status == "active" {
                state.status = StatusLine(text: "\(v.name) is already active", isError: false)
                return []
            }
            if v.template == nil {
                state.status = StatusLine(text: "\(v.name) has no template text; add one with flywheel prompt add \(v.name) --file F", isError: true)
                return []
            }
            return [.activatePrompt(v.name)]
        case (.metrics, .toggleBucket):
            state.metrics.bucket = state.metrics.bucket == .day ? .hour : .day
            state.metrics.data = nil
            return [.loadMetrics(state.metrics.bucket)]
        default:
            break
        }
        return []
    }

    /// j/k/PgUp/PgDn/g on screens 3-5 (their lists are small and fully loaded).
    static func moveImprovement(_ state: inout AppState, by delta: Int, toTop: Bool) {
        switch state.screen {
        case .patterns:
            let n = state.patterns.lines.count
            state.patterns.selected = toTop ? 0 : min(max(0, state.patterns.selected + delta), max(0, n - 1))
            state.patterns.drill = nil
        case .prompts:
            if state.focus == .detail {
                state.prompts.detailScroll = toTop ? 0 : max(0, state.prompts.detailScroll + delta)
                return
            }
            let n = state.prompts.data?.versions.count ?? 0
            state.prompts.selected = toTop ? 0 : min(max(0, state.prompts.selected + delta), max(0, n - 1))
            state.prompts.detailScroll = 0
        default: break
        }
    }

    static func handleImprovementResult(_ state: inout AppState, _ message: Message) -> [Effect] {
        switch message {
        case .patterns(let days, let result):
            guard days == state.patterns.days else { return [] }
            state.patterns.loading = false
            switch result {
            case .success(let d):
                state.patterns.data = d
                state.patterns.selected = min(state.patterns.selected, max(0, state.patterns.lines.count - 1))
            case .failure(let e): state.status = StatusLine(text: "cannot load error patterns: \(e)", isError: true)
            }
        case .drill(let filter, let result):
            let lines = state.patterns.lines
            guard lines.indices.contains(state.patterns.selected) else { return [] }
            switch result {
            case .success(let samples):
                state.patterns.drill = (lines[state.patterns.selected], samples)
                state.status = StatusLine(text: "\(samples.count) sample\(samples.count == 1 ? "" : "s") of \(filter.category) (Esc goes back)", isError: false)
            case .failure(let e): state.status = StatusLine(text: "cannot load the samples: \(e)", isError: true)
            }
        case .prompts(let result):
            switch result {
            case .success(let d):
                state.prompts.data = d
                if let name = state.prompts.selectAfterLoad, let i = d.versions.firstIndex(where: { $0.name == name }) {
                    state.prompts.selected = i
                    state.prompts.selectAfterLoad = nil
                }
                state.prompts.selected = min(state.prompts.selected, max(0, d.versions.count - 1))
            case .failure(let e): state.status = StatusLine(text: "cannot load prompt versions: \(e)", isError: true)
            }
        case .optimized(let result):
            state.prompts.optimizing = false
            switch result {
            case .success(let name):
                state.prompts.selectAfterLoad = name
                state.prompts.showDiff = true
                state.prompts.detailScroll = 0
                state.status = StatusLine(text: "new candidate \(name): its diff against the active prompt is shown; A activates it", isError: false)
                return [.loadPrompts]
            case .failure(let e): state.status = StatusLine(text: "optimisation failed: \(e)", isError: true)
            }
        case .promptActivated(let name, let result):
            switch result {
            case .success:
                state.status = StatusLine(text: "\(name) is now the active prompt", isError: false)
                state.prompts.selectAfterLoad = name
                return [.loadPrompts]
            case .failure(let e): state.status = StatusLine(text: "cannot activate \(name): \(e)", isError: true)
            }
        case .metrics(let bucket, let result):
            guard bucket == state.metrics.bucket else { return [] }
            switch result {
            case .success(let d): state.metrics.data = d
            case .failure(let e): state.status = StatusLine(text: "cannot load metrics: \(e)", isError: true)
            }
        default: break
        }
        return []
    }
}

/// The filter of a drill-down from a breakdown line to its samples.
public struct SampleDrill: Equatable, Sendable {
    public var window: InsightWindow
    public var category: String
    public var taskType: String?
    public var model: String?
    public var promptVersion: String?
}

import Foundation

// Error patterns and the improvement plan: shares of error categories within a group of samples, and the seed
// design's rules that turn those shares into actions. Pure; the store supplies the counts.

/// Samples of one error category within one task type.
public struct CategoryCount: Sendable, Equatable {
    public var taskType: String
    public var category: String
    public var count: Int

    public init(taskType: String, category: String, count: Int) {
        self.taskType = taskType
        self.category = category
        self.count = count
    }
}

/// One category's samples within a group (a task type, model, prompt version...).
public struct CategoryCell: Sendable, Equatable {
    public var category: String
    public var count: Int
    /// count / the group's total.
    public var share: Double

    public init(category: String, count: Int, share: Double) {
        self.category = category
        self.count = count
        self.share = share
    }
}

/// A group of samples broken down by error category.
public struct CategoryGroup: Sendable, Equatable {
    public var group: String
    public var total: Int
    /// total / all samples of every group.
    public var share: Double
    /// Largest first; ties in the taxonomy's order (ErrorCategory.allCases), then by name.
    public var cells: [CategoryCell]

    public init(group: String, total: Int, share: Double, cells: [CategoryCell]) {
        self.group = group
        self.total = total
        self.share = share
        self.cells = cells
    }
}

public enum CategoryBreakdown {
    /// Sums counts by group and category and computes each cell's share of its group and each group's share of
    /// everything. Groups largest first (ties by name); zero counts are dropped from cells but a group whose
    /// counts are all zero is kept, with total 0.
    public static func groups(_ counts: [(group: String, category: String, count: Int)]) -> [CategoryGroup] {
        var byGroup: [String: [String: Int]] = [:]
        for c in counts { byGroup[c.group, default: [:]][c.category, default: 0] += c.count }
        let all = byGroup.values.reduce(0) { $0 + $1.values.reduce(0, +) }
        return byGroup.map { group, categories in
            let total = categories.values.reduce(0, +)
            let cells = categories.filter { $0.value > 0 }
                .map { CategoryCell(category: $0.key, count: $0.value, share: share($0.value, of: total)) }
                .sorted { a, b in
                    a.count != b.count ? a.count > b.count : categoryOrder(a.category, b.category)
                }
            return CategoryGroup(group: group, total: total, share: share(total, of: all), cells: cells)
        }.sorted { $0.total != $1.total ? $0.total > $1.total : $0.group < $1.group }
    }

    /// part / total, 0 when total is 0.
    public static func share(_ part: Int, of total: Int) -> Double { total > 0 ? Double(part) / Double(total) : 0 }

    /// A share as a percentage: whole numbers without decimals ("42%"), otherwise one decimal ("30.4%"),
    /// so a share just over a threshold never prints as the threshold.
    public static func percent(_ share: Double) -> String {
        let tenths = (share * 1000).rounded()
        if tenths.truncatingRemainder(dividingBy: 10) == 0 { return String(Int(tenths / 10)) + "%" }
        return String(format: "%.1f%%", tenths / 10)
    }

    /// The taxonomy's order of categories, unknown names after known ones, alphabetically.
    static func categoryOrder(_ a: String, _ b: String) -> Bool {
        let order = ErrorCategory.allCases.map(\.rawValue)
        let ia = order.firstIndex(of: a) ?? order.count, ib = order.firstIndex(of: b) ?? order.count
        return ia != ib ? ia < ib : a < b
    }
}

/// The seed design's rules as thresholds. A share must be strictly greater than its threshold.
public struct PlanThresholds: Sendable, Equatable {
    /// More format errors than this share of a task type's samples: revise the prompt.
    public var formatErrorShare = 0.30
    /// More knowledge errors than this: update the knowledge base.
    public var knowledgeErrorShare = 0.30
    /// More visual-understanding errors than this, with at least `visualMinSamples` samples: fine-tune.
    public var visualErrorShare = 0.40
    public var visualMinSamples = 500

    public init(formatErrorShare: Double = 0.30, knowledgeErrorShare: Double = 0.30, visualErrorShare: Double = 0.40,
                visualMinSamples: Int = 500) {
        self.formatErrorShare = formatErrorShare
        self.knowledgeErrorShare = knowledgeErrorShare
        self.visualErrorShare = visualErrorShare
        self.visualMinSamples = visualMinSamples
    }
}

public enum PlanActionKind: String, Sendable, Equatable, CaseIterable {
    case revisePrompt = "revise_prompt"
    case updateKnowledgeBase = "update_knowledge_base"
    case fineTune = "fine_tune"
    case noActionNeeded = "no_action_needed"

    /// Words for tables and screens.
    public var title: String {
        switch self {
        case .revisePrompt: return "revise the prompt"
        case .updateKnowledgeBase: return "update the knowledge base"
        case .fineTune: return "fine-tune"
        case .noActionNeeded: return "no action needed"
        }
    }
}

/// One recommendation for a task type, with the figures behind it.
public struct PlanAction: Sendable, Equatable {
    public var taskType: String
    public var action: PlanActionKind
    /// The figures in words, e.g. "format_error is 42% (21 of 50 samples) > 30%".
    public var reason: String
    /// The category the rule looked at (nil for "no negative samples").
    public var category: String?
    /// count / total.
    public var share: Double
    /// Samples of `category` in the task type.
    public var count: Int
    /// Samples of the task type.
    public var total: Int
    /// The rule's threshold (nil when no rule applies).
    public var threshold: Double?

    public init(taskType: String, action: PlanActionKind, reason: String, category: String?, share: Double, count: Int, total: Int,
                threshold: Double?) {
        self.taskType = taskType
        self.action = action
        self.reason = reason
        self.category = category
        self.share = share
        self.count = count
        self.total = total
        self.threshold = threshold
    }
}

public enum ImprovementPlan {
    /// The actions per task type (task types by name; within one, revise prompt, update knowledge base,
    /// fine-tune). Shares are of all the task type's samples, `unknown` ones included. Rules: format_error share
    /// > formatErrorShare -> revise the prompt; knowledge_error > knowledgeErrorShare -> update the knowledge
    /// base; visual_understanding_error > visualErrorShare and total >= visualMinSamples -> fine-tune. A task
    /// type with no samples (only zero counts) gets "no action needed"; so does one whose samples cross no
    /// threshold, its reason naming the largest category (or the visual share short of enough samples).
    public static func actions(for breakdown: [CategoryCount], thresholds: PlanThresholds) -> [PlanAction] {
        let groups = CategoryBreakdown.groups(breakdown.map { ($0.taskType, $0.category, $0.count) })
        return groups.sorted { $0.group < $1.group }.flatMap { actions(for: $0, thresholds) }
    }

    static func actions(for group: CategoryGroup, _ t: PlanThresholds) -> [PlanAction] {
        let task = group.group, total = group.total
        guard total > 0 else {
            return [PlanAction(taskType: task, action: .noActionNeeded, reason: "no negative samples", category: nil, share: 0, count: 0,
                               total: 0, threshold: nil)]
        }
        func count(_ c: ErrorCategory) -> Int { group.cells.first { $0.category == c.rawValue }?.count ?? 0 }
        func figures(_ c: String, _ n: Int) -> String {
            "\(c) is \(CategoryBreakdown.percent(CategoryBreakdown.share(n, of: total))) (\(n) of \(total) samples)"
        }
        func action(_ kind: PlanActionKind, _ c: ErrorCategory, _ threshold: Double, _ reason: String) -> PlanAction {
            let n = count(c)
            return PlanAction(taskType: task, action: kind, reason: reason, category: c.rawValue, share: CategoryBreakdown.share(n, of: total),
                              count: n, total: total, threshold: threshold)
        }
        func over(_ c: ErrorCategory, _ threshold: Double) -> Bool { CategoryBreakdown.share(count(c), of: total) > threshold }
        func pct(_ x: Double) -> String { CategoryBreakdown.percent(x) }

        var out: [PlanAction] = []
        for (kind, c, threshold) in [(PlanActionKind.revisePrompt, ErrorCategory.formatError, t.formatErrorShare),
                                     (.updateKnowledgeBase, .knowledgeError, t.knowledgeErrorShare)] where over(c, threshold) {
            out.append(action(kind, c, threshold, figures(c.rawValue, count(c)) + " > " + pct(threshold)))
        }
        let visual = ErrorCategory.visualUnderstandingError
        let visualOver = over(visual, t.visualErrorShare)
        if visualOver && total >= t.visualMinSamples {
            out.append(action(.fineTune, visual, t.visualErrorShare,
                              figures(visual.rawValue, count(visual)) + " > " + pct(t.visualErrorShare)
                              + ", and \(total) samples >= \(t.visualMinSamples)"))
        }
        guard out.isEmpty else { return out }
        if visualOver {
            return [action(.noActionNeeded, visual, t.visualErrorShare,
                           figures(visual.rawValue, count(visual)) + " > " + pct(t.visualErrorShare)
                           + ", but \(total) samples < \(t.visualMinSamples) needed to fine-tune")]
        }
        let top = group.cells[0]
        return [PlanAction(taskType: task, action: .noActionNeeded, reason: "no threshold crossed; largest: " + figures(top.category, top.count),
                           category: top.category, share: top.share, count: top.count, total: total, threshold: nil)]
    }
}

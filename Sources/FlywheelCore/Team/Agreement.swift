// Inter-rater agreement of the review team: when several reviewers decide the same training samples
// independently, how far do they agree beyond chance? Cohen's kappa (two raters), Fleiss' kappa (many raters),
// Krippendorff's alpha (many raters, missing decisions) and plain percent agreement, all for nominal labels,
// and the report the `flywheel agreement` command and the console show. Pure; the store supplies the decisions.

/// One reviewer's independent decision on one item (a training sample).
public struct RaterDecision: Sendable, Equatable {
    /// The sample id.
    public var item: Int64
    /// The reviewer's name.
    public var rater: String
    /// A nominal label, e.g. "approve", "reject", "fix".
    public var label: String
    /// The item's error category (the same for every decision on the item).
    public var category: String

    public init(item: Int64, rater: String, label: String, category: String) {
        self.item = item
        self.rater = rater
        self.label = label
        self.category = category
    }
}

/// Agreement among the decisions on items with at least two of them, for all items or one category.
public struct AgreementFigure: Sendable, Equatable {
    /// "all", or a category name.
    public var scope: String
    /// Items with at least 2 decisions behind the figure.
    public var items: Int
    /// Decisions on those items.
    public var decisions: Int
    /// Distinct reviewers among those decisions.
    public var raters: Int
    /// Percent agreement, 0…1.
    public var observed: Double?
    public var fleissKappa: Double?
    public var krippendorffAlpha: Double?

    public init(scope: String, items: Int, decisions: Int, raters: Int, observed: Double?, fleissKappa: Double?,
                krippendorffAlpha: Double?) {
        self.scope = scope
        self.items = items
        self.decisions = decisions
        self.raters = raters
        self.observed = observed
        self.fleissKappa = fleissKappa
        self.krippendorffAlpha = krippendorffAlpha
    }
}

/// Agreement of two reviewers on the items both decided.
public struct PairAgreement: Sendable, Equatable {
    /// The two reviewers, a < b.
    public var a: String, b: String
    /// Items both decided.
    public var items: Int
    public var observed: Double?
    public var cohenKappa: Double?

    public init(a: String, b: String, items: Int, observed: Double?, cohenKappa: Double?) {
        self.a = a
        self.b = b
        self.items = items
        self.observed = observed
        self.cohenKappa = cohenKappa
    }
}

/// How one reviewer agrees with the others and with the final labels.
public struct ReviewerAgreement: Sendable, Equatable {
    public var reviewer: String
    /// All decisions by the reviewer (one per item: a repeated decision counts once).
    public var decisions: Int
    /// Of those, the ones on items someone else also decided.
    public var overlapped: Int
    /// Share of agreeing pairs (this reviewer, another reviewer) on those items; nil without overlap.
    public var withOthers: Double?
    /// The reviewer's items that have a final label.
    public var withFinal: Int
    /// Share of those where the reviewer's label equals the final one; nil when withFinal is 0.
    public var agreedWithFinal: Double?
    /// Cohen's kappa of the reviewer's labels against the final labels.
    public var kappaWithFinal: Double?

    public init(reviewer: String, decisions: Int, overlapped: Int, withOthers: Double?, withFinal: Int,
                agreedWithFinal: Double?, kappaWithFinal: Double?) {
        self.reviewer = reviewer
        self.decisions = decisions
        self.overlapped = overlapped
        self.withOthers = withOthers
        self.withFinal = withFinal
        self.agreedWithFinal = agreedWithFinal
        self.kappaWithFinal = kappaWithFinal
    }
}

/// Everything the `flywheel agreement` command and the console show.
public struct AgreementReport: Sendable, Equatable {
    public var overall: AgreementFigure
    /// One figure per category with at least one item decided twice; sorted by items descending, then name.
    public var byCategory: [AgreementFigure]
    /// Every reviewer with a decision; sorted by name.
    public var byReviewer: [ReviewerAgreement]
    /// Every two reviewers who decided a common item; sorted by (a, b).
    public var pairs: [PairAgreement]
    /// The labels the decisions used, sorted.
    public var labels: [String]

    public init(overall: AgreementFigure, byCategory: [AgreementFigure], byReviewer: [ReviewerAgreement],
                pairs: [PairAgreement], labels: [String]) {
        self.overall = overall
        self.byCategory = byCategory
        self.byReviewer = byReviewer
        self.pairs = pairs
        self.labels = labels
    }
}

public enum Agreement {
    /// Cohen's kappa for two raters over paired labels (first rater, second rater):
    /// κ = (p_o − p_e) / (1 − p_e), p_e from each rater's own label frequencies.
    /// nil when there are no pairs or the expected agreement is 1 (both raters used one and the same label:
    /// agreement beyond chance is undefined).
    public static func cohenKappa(_ pairs: [(String, String)]) -> Double? {
        guard !pairs.isEmpty else { return nil }
        var first: [String: Int] = [:], second: [String: Int] = [:]
        var agreeing = 0
        for (a, b) in pairs {
            first[a, default: 0] += 1
            second[b, default: 0] += 1
            if a == b { agreeing += 1 }
        }
        let n = pairs.count
        // Σ_k a_k·b_k = n² exactly when p_e = 1; decided on integers, so rounding cannot hide it.
        let chance = first.reduce(0) { $0 + $1.value * (second[$1.key] ?? 0) }
        guard chance < n * n else { return nil }
        let po = Double(agreeing) / Double(n)
        let pe = Double(chance) / (Double(n) * Double(n))
        return (po - pe) / (1 - pe)
    }

    /// Fleiss' kappa from an items × categories count matrix (counts[i][j] = raters who put item i in
    /// category j; rows may be shorter than others, missing cells count 0).
    /// Items with fewer than 2 ratings are ignored. Generalised to a varying number of raters per item
    /// (P_i = Σ n_ij(n_ij−1) / (n_i(n_i−1)), p_j = Σ_i n_ij / Σ_i n_i), so reviews where not every reviewer saw
    /// every sample still count; it equals Fleiss (1971) when n is constant.
    /// nil when no item has 2 ratings or P_e == 1 (every rating in one category).
    public static func fleissKappa(_ counts: [[Int]]) -> Double? {
        let rows = counts.filter { $0.reduce(0, +) >= 2 }
        guard !rows.isEmpty else { return nil }
        let width = rows.map(\.count).max() ?? 0
        var column = [Int](repeating: 0, count: width)
        var total = 0
        var sumP = 0.0
        for row in rows {
            let n = row.reduce(0, +)
            total += n
            var same = 0
            for (j, c) in row.enumerated() {
                column[j] += c
                same += c * (c - 1)
            }
            sumP += Double(same) / Double(n * (n - 1))
        }
        // P_e = Σ p_j² is 1 exactly when Σ column_j² = total².
        let squares = column.reduce(0) { $0 + $1 * $1 }
        guard squares < total * total else { return nil }
        let pBar = sumP / Double(rows.count)
        let pe = Double(squares) / (Double(total) * Double(total))
        return (pBar - pe) / (1 - pe)
    }

    /// Krippendorff's alpha for nominal data: each unit's values (missing ones left out); units with fewer than
    /// 2 values are not pairable and ignored. α = 1 − D_o / D_e through the coincidence matrix:
    /// α = 1 − (n − 1) · Σ_u (m_u² − Σ_c n_uc²) / (m_u − 1) / (n² − Σ_c n_c²), n the pairable values.
    /// nil when undefined (no pairable unit, or D_e == 0: every pairable value the same).
    public static func krippendorffAlphaNominal(_ units: [[String]]) -> Double? {
        var valueTotals: [String: Int] = [:]
        var n = 0
        var disagreement = 0.0   // Σ_{c≠k} o_ck, the off-diagonal mass of the coincidence matrix
        for unit in units where unit.count >= 2 {
            let m = unit.count
            var counts: [String: Int] = [:]
            for value in unit { counts[value, default: 0] += 1 }
            var squares = 0
            for (value, c) in counts {
                squares += c * c
                valueTotals[value, default: 0] += c
            }
            n += m
            disagreement += Double(m * m - squares) / Double(m - 1)
        }
        let expected = n * n - valueTotals.values.reduce(0) { $0 + $1 * $1 }   // Σ_{c≠k} n_c·n_k
        guard n > 0, expected > 0 else { return nil }
        return 1 - Double(n - 1) * disagreement / Double(expected)
    }

    /// Percent agreement (observed): mean over items with ≥2 ratings of the share of agreeing rater pairs.
    /// nil when no item has 2 ratings.
    public static func observedAgreement(_ units: [[String]]) -> Double? {
        var sum = 0.0, pairable = 0
        for unit in units where unit.count >= 2 {
            var counts: [String: Int] = [:]
            for value in unit { counts[value, default: 0] += 1 }
            let same = counts.values.reduce(0) { $0 + $1 * ($1 - 1) }
            sum += Double(same) / Double(unit.count * (unit.count - 1))
            pairable += 1
        }
        return pairable > 0 ? sum / Double(pairable) : nil
    }

    /// Everything the `flywheel agreement` command and the console show, from the independent decisions and
    /// the final label of each item where one exists (after all K decisions agreed, or adjudication).
    ///
    /// If one rater decided the same item twice (changed their mind), only their last decision in the list
    /// counts: agreement measures independent raters, and a rater must not agree with themselves. An item's
    /// category is taken from its last decision. Finals for items nobody decided are ignored.
    public static func report(_ decisions: [RaterDecision], finals: [Int64: String]) -> AgreementReport {
        // Last decision wins: (item, rater) -> index into the kept list, replaced in place.
        var kept: [RaterDecision] = []
        var index: [Int64: [String: Int]] = [:]
        for decision in decisions {
            if let at = index[decision.item]?[decision.rater] {
                kept[at] = decision
            } else {
                index[decision.item, default: [:]][decision.rater] = kept.count
                kept.append(decision)
            }
        }
        var byItem: [Int64: [RaterDecision]] = [:]
        for decision in kept { byItem[decision.item, default: []].append(decision) }
        var category: [Int64: String] = [:]
        for decision in decisions { category[decision.item] = decision.category }

        let labels = Set(kept.map(\.label)).sorted()
        let items = byItem.keys.sorted()
        let shared = items.filter { byItem[$0]!.count >= 2 }

        func figure(_ scope: String, _ items: [Int64]) -> AgreementFigure {
            let units = items.map { byItem[$0]!.map(\.label) }
            let matrix = units.map { unit in labels.map { label in unit.filter { $0 == label }.count } }
            return AgreementFigure(
                scope: scope, items: items.count, decisions: units.reduce(0) { $0 + $1.count },
                raters: Set(items.flatMap { byItem[$0]!.map(\.rater) }).count,
                observed: observedAgreement(units), fleissKappa: fleissKappa(matrix),
                krippendorffAlpha: krippendorffAlphaNominal(units))
        }

        let overall = figure("all", shared)
        let byCategory = Dictionary(grouping: shared) { category[$0]! }
            .map { figure($0.key, $0.value) }
            .sorted { ($0.items, $1.scope) > ($1.items, $0.scope) }

        // Pairs: every two raters on a common item, in item order.
        var pairLabels: [String: [String: [(String, String)]]] = [:]
        for item in items {
            let onItem = byItem[item]!.sorted { $0.rater < $1.rater }
            for i in onItem.indices {
                for j in onItem.indices where j > i {
                    pairLabels[onItem[i].rater, default: [:]][onItem[j].rater, default: []]
                        .append((onItem[i].label, onItem[j].label))
                }
            }
        }
        var pairs: [PairAgreement] = []
        for a in pairLabels.keys.sorted() {
            for b in pairLabels[a]!.keys.sorted() {
                let labelled = pairLabels[a]![b]!
                pairs.append(PairAgreement(
                    a: a, b: b, items: labelled.count,
                    observed: share(labelled.filter { $0.0 == $0.1 }.count, of: labelled.count),
                    cohenKappa: cohenKappa(labelled)))
            }
        }

        var byReviewer: [ReviewerAgreement] = []
        for reviewer in Set(kept.map(\.rater)).sorted() {
            let own = kept.filter { $0.rater == reviewer }
            var overlapped = 0, agreeingPairs = 0, allPairs = 0
            var againstFinal: [(String, String)] = []
            for decision in own {
                let others = byItem[decision.item]!.filter { $0.rater != reviewer }
                if !others.isEmpty {
                    overlapped += 1
                    allPairs += others.count
                    agreeingPairs += others.filter { $0.label == decision.label }.count
                }
                if let final = finals[decision.item] { againstFinal.append((decision.label, final)) }
            }
            byReviewer.append(ReviewerAgreement(
                reviewer: reviewer, decisions: own.count, overlapped: overlapped,
                withOthers: share(agreeingPairs, of: allPairs), withFinal: againstFinal.count,
                agreedWithFinal: share(againstFinal.filter { $0.0 == $0.1 }.count, of: againstFinal.count),
                kappaWithFinal: cohenKappa(againstFinal)))
        }

        return AgreementReport(overall: overall, byCategory: byCategory, byReviewer: byReviewer, pairs: pairs,
                               labels: labels)
    }

    private static func share(_ part: Int, of whole: Int) -> Double? {
        whole > 0 ? Double(part) / Double(whole) : nil
    }
}

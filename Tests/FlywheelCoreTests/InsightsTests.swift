import Foundation
import Testing
@testable import FlywheelCore

// The improvement loop's computations. Reference values come from Python: statsmodels 0.15
// (proportion_confint(method="wilson"), proportions_ztest, samplesize_proportions_2indep_onetail) and scipy 1.17.

private func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-12) -> Bool { abs(a - b) <= tolerance }

@Suite struct ProportionTests {
    // (successes, trials, low, high) from proportion_confint(x, n, alpha=0.05, method="wilson").
    static let wilson: [(Int, Int, Double, Double)] = [
        (0, 10, 0.0, 0.27753279986288926),
        (1, 10, 0.017876213095072924, 0.40415002679523854),
        (5, 10, 0.23659309051256394, 0.7634069094874361),
        (10, 10, 0.7224672001371106, 1.0),
        (50, 345, 0.1116900581899048, 0.18598516416395267),
        (39, 386, 0.0747937060626108, 0.13514153034931922),
        (21, 186, 0.07504128130492389, 0.16643104568552303),
        (26, 73, 0.2560450046657549, 0.47066502502014024),
        (1, 1, 0.2065493143772374, 1.0),
        (0, 1, 0.0, 0.7934506856227627),
        (3, 1000, 0.0010207838811386195, 0.008783014053503176),
        (500, 1000, 0.4690696003681042, 0.5309303996318958),
    ]

    @Test(arguments: wilson.indices) func wilsonIntervalMatchesStatsmodels(_ i: Int) {
        let (x, n, low, high) = Self.wilson[i]
        let ci = Proportion(successes: x, trials: n).wilson95()
        #expect(close(ci.low, low), "(\(x), \(n)) low \(ci.low) vs \(low)")
        #expect(close(ci.high, high), "(\(x), \(n)) high \(ci.high) vs \(high)")
    }

    @Test func rateAndEmpty() {
        #expect(Proportion(successes: 3, trials: 12).rate == 0.25)
        let none = Proportion(successes: 0, trials: 0)
        #expect(none.rate == 0)
        #expect(none.wilson95() == (0, 1))
    }

    @Test func normal() {
        #expect(close(Normal.cdf(0), 0.5))
        #expect(close(Normal.cdf(Normal.z975), 0.975, 1e-15))
        #expect(close(Normal.cdf(Normal.z80), 0.8, 1e-15))
        #expect(close(Normal.twoSidedP(1.959963984540054), 0.05, 1e-15))
        // Far tails stay accurate through erfc: scipy 2*norm.sf(8) = 1.244192114854348e-15.
        #expect(abs(Normal.twoSidedP(-8) / 1.244192114854348e-15 - 1) < 1e-12)
    }
}

@Suite struct ABTestTests {
    // (a, b, z, p, n per version) from proportions_ztest([xb, xa], [nb, na]) and the two-proportion sample size
    // (samplesize_proportions_2indep_onetail agrees: 877.7034 and 1355.3685 for the first and third).
    static let references: [((Int, Int), (Int, Int), Double, Double, Int?)] = [
        ((50, 345), (39, 386), -1.811663300442486, 0.07003823754740489, 878),
        ((21, 186), (39, 386), -0.4338872406973728, 0.6643703256245292, 10648),
        ((100, 1000), (70, 1000), -2.4053941310619655, 0.016155032073740406, 1356),
        ((100, 1000), (130, 1000), 2.102740605622114, 0.03548845046647471, 1774),
        ((30, 300), (30, 300), 0.0, 1.0, nil),
        ((5, 40), (20, 40), 3.6181361349331636, 0.00029673231129314053, 23),
        ((1, 30), (0, 30), -1.0084389681792214, 0.3132437734013077, 231),
        ((120, 1000), (100, 1000), -1.4293008498232314, 0.1529177818639462, 3841),
        ((2000, 10000), (1900, 10000), -1.7847186267098043, 0.07430696806301354, 24641),
    ]

    @Test(arguments: references.indices) func zAndPValueMatchStatsmodels(_ i: Int) {
        let (a, b, z, p, n) = Self.references[i]
        let r = ABTest.twoProportion(Proportion(successes: a.0, trials: a.1), Proportion(successes: b.0, trials: b.1))
        #expect(close(r.z, z, 1e-12), "z \(r.z) vs \(z)")
        #expect(close(r.pValue, p, 1e-12), "p \(r.pValue) vs \(p)")
        #expect(r.requiredPerVersion == n)
        #expect(close(r.difference, Double(b.0) / Double(b.1) - Double(a.0) / Double(a.1)))
    }

    @Test func verdicts() {
        func test(_ a: (Int, Int), _ b: (Int, Int)) -> ABResult {
            ABTest.twoProportion(Proportion(successes: a.0, trials: a.1), Proportion(successes: b.0, trials: b.1), bName: "v2")
        }
        // Significant, lower negative rate: better; higher: worse.
        #expect(test((100, 1000), (70, 1000)).verdict == .better)
        #expect(test((100, 1000), (70, 1000)).text == "v2 better")
        #expect(test((100, 1000), (130, 1000)).verdict == .worse)
        #expect(test((100, 1000), (130, 1000)).text == "v2 worse")
        // The demo's vqa-v2 vs vqa-v3: p = 0.07; 878 needed per version, 533 + 492 = 1025 more, about 1100.
        let demo = test((50, 345), (39, 386))
        #expect(demo.verdict == .notEnoughData(moreRequestsNeeded: 1100))
        #expect(demo.text == "not enough data: about 1100 more requests needed")
        // 3841 per version: 2 * 2841 = 5682 more, about 5700.
        #expect(test((120, 1000), (100, 1000)).verdict == .notEnoughData(moreRequestsNeeded: 5700))
        // Equal rates: more data would not tell.
        #expect(test((30, 300), (30, 300)).verdict == .noDifference)
        #expect(test((30, 300), (30, 300)).text == "no significant difference")
        #expect(test((0, 50), (0, 50)) == ABResult(difference: 0, z: 0, pValue: 1, verdict: .noDifference, text: "no significant difference",
                                                   requiredPerVersion: nil))
        // Under 30 requests a side: no verdict, even when significant. (5/29 vs 20/40: p = 0.0052; 32 per version
        // needed, so 3 more on the first side.)
        let small = test((5, 29), (20, 40))
        #expect(close(small.pValue, 0.005200208759639036))
        #expect(small.verdict == .notEnoughData(moreRequestsNeeded: 3))
        #expect(test((0, 29), (0, 29)).verdict == .notEnoughData(moreRequestsNeeded: 2))
        // Nothing answered yet on one side: at least 30 there.
        #expect(test((0, 0), (3, 100)).verdict == .notEnoughData(moreRequestsNeeded: 30))
        // Exactly 30 a side is enough to judge: 1/30 vs 0/30 is not significant, 231 needed: 402 more, about 410.
        #expect(test((1, 30), (0, 30)).verdict == .notEnoughData(moreRequestsNeeded: 410))
        #expect(test((5, 40), (20, 40)).verdict == .worse)
        // p just on either side of 0.05 (statsmodels: 0.048663608927984325 and 0.05675486168661831).
        let justUnder = test((160, 1000), (129, 1000)), justOver = test((160, 1000), (130, 1000))
        #expect(close(justUnder.pValue, 0.048663608927984325) && justUnder.verdict == .better)
        #expect(close(justOver.pValue, 0.05675486168661831))
        if case .notEnoughData = justOver.verdict {} else { Issue.record("p = 0.057 gave \(justOver.verdict)") }
    }

    @Test func sampleSizeAndRounding() {
        #expect(ABTest.requiredSampleSize(0.1, 0.1) == nil)
        #expect(ABTest.requiredSampleSize(0.1, 0.07) == 1356)
        #expect(ABTest.requiredSampleSize(0.07, 0.1) == 1356)
        #expect(ABTest.roundUp(0) == 0)
        #expect(ABTest.roundUp(87) == 87)
        #expect(ABTest.roundUp(100) == 100)
        #expect(ABTest.roundUp(1025) == 1100)
        #expect(ABTest.roundUp(1100) == 1100)
        #expect(ABTest.roundUp(123_456) == 130_000)
    }
}

@Suite struct PlanTests {
    @Test func categoryShares() {
        let groups = CategoryBreakdown.groups([
            ("vqa", "number_misread", 52), ("vqa", "unknown", 30), ("vqa", "unknown", 2), ("vqa", "hallucination", 21),
            ("vqa", "visual_understanding_error", 17), ("extraction", "format_error", 27), ("extraction", "number_misread", 7),
            ("extraction", "unknown", 2), ("tags", "unknown", 0),
        ])
        #expect(groups.map(\.group) == ["vqa", "extraction", "tags"])
        #expect(groups.map(\.total) == [122, 36, 0])
        #expect(close(groups[0].share, 122.0 / 158))
        #expect(close(groups[1].share, 36.0 / 158))
        #expect(groups[2].share == 0 && groups[2].cells.isEmpty)
        #expect(groups[0].cells.map(\.category) == ["number_misread", "unknown", "hallucination", "visual_understanding_error"])
        #expect(groups[0].cells.map(\.count) == [52, 32, 21, 17])
        #expect(close(groups[0].cells[0].share, 52.0 / 122))
        #expect(close(groups[1].cells[0].share, 0.75))
        // Ties: the taxonomy's order.
        let tie = CategoryBreakdown.groups([("t", "unknown", 1), ("t", "format_error", 1), ("t", "zzz", 1), ("t", "hallucination", 1)])
        #expect(tie[0].cells.map(\.category) == ["format_error", "hallucination", "unknown", "zzz"])
        #expect(CategoryBreakdown.groups([]).isEmpty)
    }

    @Test func percentages() {
        #expect(CategoryBreakdown.percent(0.75) == "75%")
        #expect(CategoryBreakdown.percent(0.3) == "30%")
        #expect(CategoryBreakdown.percent(0.304) == "30.4%")
        #expect(CategoryBreakdown.percent(52.0 / 122) == "42.6%")
        #expect(CategoryBreakdown.percent(0) == "0%")
        #expect(CategoryBreakdown.percent(1) == "100%")
        #expect(CategoryBreakdown.percent(0.0004) == "0%")
    }

    /// A task type of `total` samples with `n` of `category`, the rest number_misread.
    private func plan(_ category: ErrorCategory, _ n: Int, of total: Int, _ t: PlanThresholds = PlanThresholds(), task: String = "vqa") -> [PlanAction] {
        ImprovementPlan.actions(for: [CategoryCount(taskType: task, category: category.rawValue, count: n),
                                      CategoryCount(taskType: task, category: "number_misread", count: total - n)], thresholds: t)
    }

    @Test func formatThreshold() {
        // 30% exactly is not more than 30%.
        #expect(plan(.formatError, 30, of: 100).map(\.action) == [.noActionNeeded])
        #expect(plan(.formatError, 299, of: 1000).map(\.action) == [.noActionNeeded])
        let over = plan(.formatError, 301, of: 1000)
        #expect(over == [PlanAction(taskType: "vqa", action: .revisePrompt, reason: "format_error is 30.1% (301 of 1000 samples) > 30%",
                                    category: "format_error", share: 0.301, count: 301, total: 1000, threshold: 0.3)])
        #expect(plan(.formatError, 21, of: 50)[0].reason == "format_error is 42% (21 of 50 samples) > 30%")
        // Configurable.
        #expect(plan(.formatError, 21, of: 100, PlanThresholds(formatErrorShare: 0.2)).map(\.action) == [.revisePrompt])
        #expect(plan(.formatError, 20, of: 100, PlanThresholds(formatErrorShare: 0.2)).map(\.action) == [.noActionNeeded])
    }

    @Test func knowledgeThreshold() {
        #expect(plan(.knowledgeError, 3, of: 10).map(\.action) == [.noActionNeeded])
        #expect(plan(.knowledgeError, 299, of: 1000).map(\.action) == [.noActionNeeded])
        let over = plan(.knowledgeError, 301, of: 1000)
        #expect(over.map(\.action) == [.updateKnowledgeBase])
        #expect(over[0].reason == "knowledge_error is 30.1% (301 of 1000 samples) > 30%")
        #expect(over[0].category == "knowledge_error" && over[0].count == 301 && over[0].total == 1000 && over[0].threshold == 0.3)
    }

    @Test func visualThresholdNeedsEnoughSamples() {
        // Share: at, below and above 40% with plenty of samples.
        #expect(plan(.visualUnderstandingError, 400, of: 1000).map(\.action) == [.noActionNeeded])
        #expect(plan(.visualUnderstandingError, 399, of: 1000).map(\.action) == [.noActionNeeded])
        let over = plan(.visualUnderstandingError, 401, of: 1000)
        #expect(over.map(\.action) == [.fineTune])
        #expect(over[0].reason == "visual_understanding_error is 40.1% (401 of 1000 samples) > 40%, and 1000 samples >= 500")
        // Samples: at, below and above 500 with 60% visual errors.
        #expect(plan(.visualUnderstandingError, 300, of: 500).map(\.action) == [.fineTune])
        #expect(plan(.visualUnderstandingError, 301, of: 501).map(\.action) == [.fineTune])
        let few = plan(.visualUnderstandingError, 299, of: 499)
        #expect(few.map(\.action) == [.noActionNeeded])
        #expect(few[0].reason == "visual_understanding_error is 59.9% (299 of 499 samples) > 40%, but 499 samples < 500 needed to fine-tune")
        #expect(plan(.visualUnderstandingError, 60, of: 100, PlanThresholds(visualMinSamples: 100)).map(\.action) == [.fineTune])
    }

    @Test func severalActionsNoActionAndOrder() {
        let t = PlanThresholds(formatErrorShare: 0.2, knowledgeErrorShare: 0.2, visualErrorShare: 0.2, visualMinSamples: 10)
        let both = ImprovementPlan.actions(for: [
            CategoryCount(taskType: "vqa", category: "visual_understanding_error", count: 30),
            CategoryCount(taskType: "vqa", category: "knowledge_error", count: 30),
            CategoryCount(taskType: "vqa", category: "format_error", count: 30),
            CategoryCount(taskType: "vqa", category: "unknown", count: 10),
            CategoryCount(taskType: "extraction", category: "format_error", count: 9),
            CategoryCount(taskType: "extraction", category: "hallucination", count: 1),
            CategoryCount(taskType: "tags", category: "unknown", count: 0),
        ], thresholds: t)
        #expect(both.map(\.taskType) == ["extraction", "tags", "vqa", "vqa", "vqa"])
        #expect(both.map(\.action) == [.revisePrompt, .noActionNeeded, .revisePrompt, .updateKnowledgeBase, .fineTune])
        #expect(both[1] == PlanAction(taskType: "tags", action: .noActionNeeded, reason: "no negative samples", category: nil, share: 0,
                                      count: 0, total: 0, threshold: nil))
        // Unknown samples count in the total: 30 of 100.
        #expect(both[2].total == 100 && both[2].share == 0.3)
        // No rule fires: the largest category is named.
        let quiet = plan(.hallucination, 45, of: 100)
        #expect(quiet[0].reason == "no threshold crossed; largest: number_misread is 55% (55 of 100 samples)")
        #expect(quiet[0].category == "number_misread" && quiet[0].count == 55 && quiet[0].threshold == nil)
        #expect(ImprovementPlan.actions(for: [], thresholds: PlanThresholds()).isEmpty)
        #expect(PlanThresholds() == PlanThresholds(formatErrorShare: 0.3, knowledgeErrorShare: 0.3, visualErrorShare: 0.4, visualMinSamples: 500))
    }
}

@Suite struct SeriesTests {
    static let may1 = Timestamp.parseMillis("2026-05-01T00:00:00Z")!
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000

    @Test func bucketStarts() {
        let t = Self.may1 + 5 * Self.hour + 123
        #expect(Series.bucketStart(t, .hour) == Self.may1 + 5 * Self.hour)
        #expect(Series.bucketStart(t, .day) == Self.may1)
        #expect(Series.bucketStart(Self.may1, .day) == Self.may1)
        #expect(Series.bucketStart(Self.may1 - 1, .day) == Self.may1 - Self.day)
        #expect(Series.bucketStart(-1, .hour) == -Self.hour)
        #expect(Series.bucketStarts(since: Self.may1, until: Self.may1 + 3 * Self.day, .day) == [Self.may1, Self.may1 + Self.day, Self.may1 + 2 * Self.day])
        // A window starting or ending inside a bucket includes that bucket.
        #expect(Series.bucketStarts(since: Self.may1 + 90 * 60_000, until: Self.may1 + 3 * Self.hour + 1, .hour)
                == [Self.may1 + Self.hour, Self.may1 + 2 * Self.hour, Self.may1 + 3 * Self.hour])
        #expect(Series.bucketStarts(since: Self.may1, until: Self.may1, .hour).isEmpty)
        #expect(Series.bucketStarts(since: Self.may1, until: Self.may1 + 2 * Self.day, .hour).count == 48)
    }

    @Test func countsAndFill() {
        let m = Self.may1, h = Self.hour
        let times = [m, m + 1, m + h - 1, m + h, m + 3 * h + 5, m - 1, m + 4 * h]
        #expect(Series.bucketCounts(times, since: m, until: m + 4 * h, .hour) == [3, 1, 0, 1])
        #expect(Series.bucketCounts(times, since: m, until: m + 4 * h, .day) == [5])
        let filled = Series.fill([(m + 2 * h, 4), (m + 2 * h + 10, 1), (m, 2), (m + 9 * h, 7)], since: m, until: m + 3 * h, .hour)
        #expect(filled.map(\.start) == [m, m + h, m + 2 * h])
        #expect(filled.map(\.count) == [2, 0, 5])
        #expect(Series.fill([], since: m, until: m, .hour).isEmpty)
    }

    @Test func sparkline() {
        #expect(Series.sparkline([]) == "")
        #expect(Series.sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█")
        #expect(Series.sparkline([0, 0, 0]) == "▁▁▁")
        #expect(Series.sparkline([5, 5]) == "██")
        #expect(Series.sparkline([-2, -2]) == "▄▄")
        // Zero is the baseline for positive values: 10 and 20 are half and full, not lowest and highest.
        #expect(Series.sparkline([10, 20]) == "▅█")
        #expect(Series.sparkline([0, 0.5, 1]) == "▁▅█")
        #expect(Series.sparkline([-1, 1]) == "▁█")
        #expect(Series.sparkline([1, .nan, 2]) == "▅ █")
        #expect(Series.sparkline([.nan]) == " ")
    }

    @Test func windowDates() {
        #expect(WindowDate.parse("2026-05-01") == Self.may1)
        #expect(WindowDate.parse("2026-05-01", endOfDay: true) == Self.may1 + Self.day)
        #expect(WindowDate.parse("2026-05-01T10:00:00Z") == Self.may1 + 10 * Self.hour)
        #expect(WindowDate.parse("2026-05-01T10:00:00+02:00", endOfDay: true) == Self.may1 + 8 * Self.hour)
        #expect(WindowDate.parse("2026-02-30") == nil)
        #expect(WindowDate.parse("2026-5-1") == nil)
        #expect(WindowDate.parse("yesterday") == nil)
        #expect(WindowDate.format(Self.may1) == "2026-05-01")
        #expect(WindowDate.format(Self.may1 + Self.hour) == "2026-05-01T01:00:00Z")
    }
}

import Testing
@testable import FlywheelCore

// Inter-rater agreement. Textbook values come from the cited sources; each was re-computed with Python
// (statsmodels 0.15 cohens_kappa / fleiss_kappa, krippendorff 0.9 alpha) before being pinned.

private func close(_ a: Double?, _ b: Double, _ tolerance: Double = 1e-12) -> Bool {
    guard let a else { return false }
    return abs(a - b) <= tolerance
}

/// Paired labels of two raters from a 2×2 table of Yes/No counts (first rater's answer first).
private func pairs(yesYes: Int, yesNo: Int, noYes: Int, noNo: Int) -> [(String, String)] {
    Array(repeating: ("Yes", "Yes"), count: yesYes) + Array(repeating: ("Yes", "No"), count: yesNo)
        + Array(repeating: ("No", "Yes"), count: noYes) + Array(repeating: ("No", "No"), count: noNo)
}

@Suite struct CohenKappaTests {
    // Wikipedia, "Cohen's kappa", worked example: 50 proposals, both Yes 20, both No 15, A Yes/B No 5,
    // A No/B Yes 10: p_o = 0.7, p_e = 0.5, κ = 0.4.
    @Test func wikipediaWorkedExample() {
        #expect(close(Agreement.cohenKappa(pairs(yesYes: 20, yesNo: 5, noYes: 10, noNo: 15)), 0.4))
    }

    // Wikipedia, "Cohen's kappa", "same percent agreement, different kappa": both tables have p_o = 0.60,
    // κ = 0.1304 and κ = 0.2593 (statsmodels: 0.13043478260869554 and 0.25925925925925924).
    @Test func sameAgreementDifferentKappa() {
        let first = Agreement.cohenKappa(pairs(yesYes: 45, yesNo: 15, noYes: 25, noNo: 15))
        let second = Agreement.cohenKappa(pairs(yesYes: 25, yesNo: 35, noYes: 5, noNo: 35))
        #expect(close(first, 0.1304, 5e-5))
        #expect(close(first, 3.0 / 23.0))
        #expect(close(second, 0.2593, 5e-5))
        #expect(close(second, 7.0 / 27.0))
    }

    @Test func perfectAgreementIsOne() {
        #expect(Agreement.cohenKappa([("a", "a"), ("b", "b"), ("c", "c"), ("a", "a")]) == 1)
    }

    @Test func undefinedCases() {
        // Both raters always say the same one label: p_e = 1, chance explains everything.
        #expect(Agreement.cohenKappa([("a", "a"), ("a", "a"), ("a", "a")]) == nil)
        #expect(Agreement.cohenKappa([]) == nil)
        // One rater constant, the other not: p_e < 1, κ = 0 (no agreement beyond chance).
        #expect(close(Agreement.cohenKappa([("a", "a"), ("a", "b")]), 0))
    }

    @Test func labelsOnlyOneRaterUsedCount() {
        // A: x x y, B: x z y. p_o = 2/3, p_e = (2·1 + 1·1)/9 = 1/3, κ = 0.5.
        #expect(close(Agreement.cohenKappa([("x", "x"), ("x", "z"), ("y", "y")]), 0.5))
    }
}

@Suite struct FleissKappaTests {
    // Fleiss (1971), as reproduced in Wikipedia "Fleiss' kappa": 10 items, 14 raters, 5 categories.
    // P̄ = 0.378, P̄_e = 0.213, κ = 0.210 (statsmodels fleiss_kappa: 0.20993070442195522).
    static let fleiss1971 = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]

    @Test func textbookExample() {
        let kappa = Agreement.fleissKappa(Self.fleiss1971)
        #expect(close(kappa, 0.210, 5e-4))
        #expect(close(kappa, 0.20993070442195522, 1e-12))
        // P̄ is the observed agreement of the same ratings.
        let units = Self.fleiss1971.map { row in row.indices.flatMap { Array(repeating: "\($0)", count: row[$0]) } }
        #expect(close(Agreement.observedAgreement(units), 0.378, 5e-4))
    }

    /// Fleiss (1971) with n raters on every item: p_j = Σ_i n_ij / (N n), P_i = (Σ_j n_ij² − n) / (n(n − 1)).
    private func classic(_ counts: [[Int]]) -> Double {
        let big = Double(counts.count), n = Double(counts[0].reduce(0, +))
        let p = counts[0].indices.map { j in Double(counts.reduce(0) { $0 + $1[j] }) / (big * n) }
        let pBar = counts.map { row in (Double(row.reduce(0) { $0 + $1 * $1 }) - n) / (n * (n - 1)) }.reduce(0, +) / big
        let pe = p.reduce(0) { $0 + $1 * $1 }
        return (pBar - pe) / (1 - pe)
    }

    @Test func generalisedEqualsClassicWithConstantRaters() {
        #expect(close(Agreement.fleissKappa(Self.fleiss1971), classic(Self.fleiss1971), 1e-12))
        let three = [[3, 0, 0], [2, 1, 0], [0, 3, 0], [1, 1, 1], [0, 0, 3], [0, 2, 1]]
        #expect(close(Agreement.fleissKappa(three), classic(three), 1e-12))
    }

    @Test func varyingRatersPerItem() {
        // n = 2, 3, 1 (ignored), 2. P_i = 1, 1/3, 0 -> P̄ = 4/9; p = (4/7, 3/7) -> P_e = 25/49;
        // κ = (4/9 − 25/49) / (24/49) = −29/216.
        #expect(close(Agreement.fleissKappa([[2, 0], [1, 2], [0, 1], [1, 1]]), -29.0 / 216.0))
        // The item with one rating changes nothing.
        #expect(Agreement.fleissKappa([[2, 0], [1, 2], [1, 1]]) == Agreement.fleissKappa([[2, 0], [1, 2], [0, 1], [1, 1]]))
    }

    @Test func twoRatersGiveScottsPi() {
        // The Wikipedia Cohen example as counts: pooled p = (55, 45)/100, P_e = 0.505, p_o = 0.7,
        // Scott's π = 0.195 / 0.495 = 13/33 (Cohen's κ on the same data is 0.4).
        let rows = Array(repeating: [2, 0], count: 20) + Array(repeating: [0, 2], count: 15) + Array(repeating: [1, 1], count: 15)
        #expect(close(Agreement.fleissKappa(rows), 13.0 / 33.0))
    }

    @Test func undefinedCases() {
        #expect(Agreement.fleissKappa([]) == nil)
        #expect(Agreement.fleissKappa([[1, 0], [0, 1]]) == nil)        // no item with two ratings
        #expect(Agreement.fleissKappa([[3, 0], [2, 0]]) == nil)        // P_e = 1
        #expect(Agreement.fleissKappa([[3, 0], [0, 3]]) == 1)
    }
}

@Suite struct KrippendorffAlphaTests {
    // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C: 4 coders, 12 units,
    // missing values; α_nominal = 0.743. Exactly: 40 pairable values (1: 9, 2: 13, 3: 10, 4: 5, 5: 3), off-diagonal
    // coincidences 8, α = 1 − 39 · 8 / (40² − 384) = 113/152 = 0.743421052631579 (krippendorff.alpha agrees).
    static let coders = [
        "1 2 3 3 2 1 4 1 2 . . .",
        "1 2 3 3 2 2 4 1 2 5 . 3",
        ". 3 3 3 2 3 4 2 2 5 1 .",
        "1 2 3 3 2 4 4 1 2 5 1 .",
    ]

    static var units: [[String]] {
        let rows = coders.map { $0.split(separator: " ").map(String.init) }
        return rows[0].indices.map { unit in rows.map { $0[unit] }.filter { $0 != "." } }
    }

    @Test func textbookExample() {
        let alpha = Agreement.krippendorffAlphaNominal(Self.units)
        #expect(close(alpha, 0.743, 5e-4))
        #expect(close(alpha, 0.743421052631579, 1e-12))
        // Unit 12 has one value: not pairable, so dropping it changes nothing.
        #expect(Agreement.krippendorffAlphaNominal(Array(Self.units.dropLast())) == alpha)
    }

    @Test func twoRatersWithoutMissingApproachScottsPi() {
        // α = 1 − (2N − 1)/(2N) · (1 − π): on the Wikipedia Cohen example (N = 50, π = 13/33) that is
        // 1 − 0.99 · 20/33 = 0.4 (here equal to Cohen's κ).
        let units = pairs(yesYes: 20, yesNo: 5, noYes: 10, noNo: 15).map { [$0.0, $0.1] }
        #expect(close(Agreement.krippendorffAlphaNominal(units), 1 - 0.99 * (1 - 13.0 / 33.0)))
        #expect(close(Agreement.krippendorffAlphaNominal(units), 0.4))
        // By hand: units (a,a) (a,b) (b,b) (b,b): n_a = 3, n_b = 5, D_o mass 2, α = 1 − 7·2/30 = 8/15;
        // Scott's π = (3/4 − 34/64)/(30/64) = 7/15; 1 − 7/8 · (1 − 7/15) = 8/15.
        let small = [["a", "a"], ["a", "b"], ["b", "b"], ["b", "b"]]
        #expect(close(Agreement.krippendorffAlphaNominal(small), 8.0 / 15.0))
        #expect(close(Agreement.fleissKappa([[2, 0], [1, 1], [0, 2], [0, 2]]), 7.0 / 15.0))
    }

    @Test func undefinedCases() {
        #expect(Agreement.krippendorffAlphaNominal([]) == nil)
        #expect(Agreement.krippendorffAlphaNominal([["a"], ["b"]]) == nil)        // nothing pairable
        #expect(Agreement.krippendorffAlphaNominal([["a", "a"], ["a", "a", "a"]]) == nil)   // D_e = 0
        #expect(Agreement.krippendorffAlphaNominal([["a", "a"], ["b", "b", "b"]]) == 1)
    }

    @Test func observedAgreement() {
        // Unit shares: 1, 1/3 (one agreeing pair of three), 0; the single-value unit is left out.
        #expect(close(Agreement.observedAgreement([["a", "a"], ["a", "a", "b"], ["a", "b"], ["c"]]), 4.0 / 9.0))
        #expect(Agreement.observedAgreement([["a"]]) == nil)
    }
}

@Suite struct AgreementReportTests {
    // Three reviewers, two categories. Items (decisions, final):
    //   1 hallucination  ana approve, ben approve, cy approve   final approve
    //   2 hallucination  ana approve, ben reject,  cy approve   final approve (adjudicated)
    //   3 hallucination  ana reject,  ben reject (ben first said approve: last decision wins)   final reject
    //   4 format         ana fix,     cy fix                    final fix
    //   5 format         ben approve, cy reject                 final reject (adjudicated)
    //   6 format         ana approve                            no final
    //   7 hallucination  cy fix                                 final reject (adjudicated)
    //   99 has a final and no decision: ignored.
    static let decisions: [RaterDecision] = [
        RaterDecision(item: 1, rater: "ana", label: "approve", category: "hallucination"),
        RaterDecision(item: 3, rater: "ben", label: "approve", category: "hallucination"),
        RaterDecision(item: 1, rater: "ben", label: "approve", category: "hallucination"),
        RaterDecision(item: 1, rater: "cy", label: "approve", category: "hallucination"),
        RaterDecision(item: 2, rater: "ana", label: "approve", category: "hallucination"),
        RaterDecision(item: 2, rater: "ben", label: "reject", category: "hallucination"),
        RaterDecision(item: 2, rater: "cy", label: "approve", category: "hallucination"),
        RaterDecision(item: 3, rater: "ana", label: "reject", category: "hallucination"),
        RaterDecision(item: 4, rater: "cy", label: "fix", category: "format"),
        RaterDecision(item: 4, rater: "ana", label: "fix", category: "format"),
        RaterDecision(item: 5, rater: "ben", label: "approve", category: "format"),
        RaterDecision(item: 5, rater: "cy", label: "reject", category: "format"),
        RaterDecision(item: 6, rater: "ana", label: "approve", category: "format"),
        RaterDecision(item: 7, rater: "cy", label: "fix", category: "hallucination"),
        RaterDecision(item: 3, rater: "ben", label: "reject", category: "hallucination"),
    ]
    static let finals: [Int64: String] = [1: "approve", 2: "approve", 3: "reject", 4: "fix", 5: "reject", 7: "reject", 99: "fix"]

    let report = Agreement.report(decisions, finals: finals)

    @Test func overall() {
        // Items 1–5 have two or more decisions: 3 + 3 + 2 + 2 + 2 = 12.
        let all = report.overall
        #expect(all.scope == "all")
        #expect(all.items == 5)
        #expect(all.decisions == 12)
        #expect(all.raters == 3)
        // Item shares 1, 1/3, 1, 1, 0.
        #expect(close(all.observed, 2.0 / 3.0))
        // Label totals approve 6, fix 2, reject 4 of 12: P_e = 56/144; κ = (2/3 − 7/18)/(11/18) = 5/11.
        #expect(close(all.fleissKappa, 5.0 / 11.0))
        // Off-diagonal coincidences 2 (item 2) + 2 (item 5) = 4; α = 1 − 11 · 4 / (144 − 56) = 0.5.
        #expect(close(all.krippendorffAlpha, 0.5))
        #expect(report.labels == ["approve", "fix", "reject"])
    }

    @Test func byCategory() {
        #expect(report.byCategory.map(\.scope) == ["hallucination", "format"])
        let hallucination = report.byCategory[0], format = report.byCategory[1]
        // Items 1, 2, 3 (item 7 has one decision).
        #expect((hallucination.items, hallucination.decisions, hallucination.raters) == (3, 8, 3))
        #expect(close(hallucination.observed, 7.0 / 9.0))
        // approve 5, reject 3 of 8: P_e = 34/64; κ = (7/9 − 17/32)/(15/32) = 71/135; α = 1 − 7 · 2/30 = 8/15.
        #expect(close(hallucination.fleissKappa, 71.0 / 135.0))
        #expect(close(hallucination.krippendorffAlpha, 8.0 / 15.0))
        // Items 4, 5 (item 6 has one decision); ana, cy, ben.
        #expect((format.items, format.decisions, format.raters) == (2, 4, 3))
        #expect(close(format.observed, 0.5))
        // approve 1, fix 2, reject 1 of 4: P_e = 6/16; κ = (1/2 − 3/8)/(5/8) = 0.2; α = 1 − 3 · 2/10 = 0.4.
        #expect(close(format.fleissKappa, 0.2))
        #expect(close(format.krippendorffAlpha, 0.4))
    }

    @Test func categoriesOrderByItemsThenName() {
        let decisions = [
            RaterDecision(item: 1, rater: "a", label: "x", category: "zeta"),
            RaterDecision(item: 1, rater: "b", label: "x", category: "zeta"),
            RaterDecision(item: 2, rater: "a", label: "x", category: "alpha"),
            RaterDecision(item: 2, rater: "b", label: "y", category: "alpha"),
            RaterDecision(item: 3, rater: "a", label: "x", category: "mid"),
            RaterDecision(item: 3, rater: "b", label: "x", category: "mid"),
            RaterDecision(item: 4, rater: "a", label: "y", category: "mid"),
            RaterDecision(item: 4, rater: "b", label: "y", category: "mid"),
            RaterDecision(item: 5, rater: "a", label: "y", category: "lonely"),   // no overlap: no figure
        ]
        #expect(Agreement.report(decisions, finals: [:]).byCategory.map(\.scope) == ["mid", "alpha", "zeta"])
    }

    @Test func pairs() {
        #expect(report.pairs.map { "\($0.a)-\($0.b)" } == ["ana-ben", "ana-cy", "ben-cy"])
        let anaBen = report.pairs[0], anaCy = report.pairs[1], benCy = report.pairs[2]
        // ana-ben on 1, 2, 3: (approve, approve) (approve, reject) (reject, reject); p_e = 4/9, κ = 0.4.
        #expect(anaBen.items == 3)
        #expect(close(anaBen.observed, 2.0 / 3.0))
        #expect(close(anaBen.cohenKappa, 0.4))
        // ana-cy on 1, 2, 4: always the same.
        #expect(anaCy.items == 3)
        #expect(anaCy.observed == 1)
        #expect(anaCy.cohenKappa == 1)
        // ben-cy on 1, 2, 5: one agreement of three; p_e = 5/9, κ = (1/3 − 5/9)/(4/9) = −0.5.
        #expect(benCy.items == 3)
        #expect(close(benCy.observed, 1.0 / 3.0))
        #expect(close(benCy.cohenKappa, -0.5))
    }

    @Test func byReviewer() {
        #expect(report.byReviewer.map(\.reviewer) == ["ana", "ben", "cy"])
        let ana = report.byReviewer[0], ben = report.byReviewer[1], cy = report.byReviewer[2]
        // ana: items 1, 2, 3, 4, 6; overlap on 1–4 with pair agreements 2/2, 1/2, 1/1, 1/1; finals on 1–4, all equal.
        #expect((ana.decisions, ana.overlapped, ana.withFinal) == (5, 4, 4))
        #expect(close(ana.withOthers, 5.0 / 6.0))
        #expect(ana.agreedWithFinal == 1)
        #expect(ana.kappaWithFinal == 1)
        // ben: items 1, 2, 3, 5 (item 3 counted once); pair agreements 2/2, 0/2, 1/1, 0/1; finals equal on 1 and 3.
        // Labels approve 2 / reject 2 against finals approve 2 / reject 2: p_o = p_e = 0.5, κ = 0.
        #expect((ben.decisions, ben.overlapped, ben.withFinal) == (4, 4, 4))
        #expect(close(ben.withOthers, 0.5))
        #expect(close(ben.agreedWithFinal, 0.5))
        #expect(close(ben.kappaWithFinal, 0))
        // cy: items 1, 2, 4, 5, 7; overlap on 1, 2, 4, 5 with 2/2, 1/2, 1/1, 0/1; finals on all five, equal but on 7.
        // cy approve 2, fix 2, reject 1; finals approve 2, fix 1, reject 2: p_e = 8/25, κ = (4/5 − 8/25)/(17/25) = 12/17.
        #expect((cy.decisions, cy.overlapped, cy.withFinal) == (5, 4, 5))
        #expect(close(cy.withOthers, 4.0 / 6.0))
        #expect(close(cy.agreedWithFinal, 0.8))
        #expect(close(cy.kappaWithFinal, 12.0 / 17.0))
    }

    @Test func lastDecisionWins() {
        let decisions = [
            RaterDecision(item: 1, rater: "a", label: "reject", category: "c"),
            RaterDecision(item: 1, rater: "b", label: "approve", category: "c"),
            RaterDecision(item: 1, rater: "a", label: "approve", category: "c"),
        ]
        let report = Agreement.report(decisions, finals: [:])
        #expect((report.overall.items, report.overall.decisions, report.overall.raters) == (1, 2, 2))
        #expect(report.overall.observed == 1)
        #expect(report.byReviewer.map(\.decisions) == [1, 1])
        #expect(report.pairs == [PairAgreement(a: "a", b: "b", items: 1, observed: 1, cohenKappa: nil)])
        // The earlier "reject" is gone entirely.
        #expect(report.labels == ["approve"])
        // Without the repeat, a rater deciding an item twice is not an overlap with themselves.
        let alone = Agreement.report(Array(decisions.prefix(1)) + [decisions[2]], finals: [1: "approve"])
        #expect(alone.overall.items == 0)
        #expect(alone.overall.observed == nil)
        #expect(alone.byReviewer == [ReviewerAgreement(reviewer: "a", decisions: 1, overlapped: 0, withOthers: nil,
                                                       withFinal: 1, agreedWithFinal: 1, kappaWithFinal: nil)])
    }

    @Test func empty() {
        let report = Agreement.report([], finals: [1: "approve"])
        #expect(report.overall == AgreementFigure(scope: "all", items: 0, decisions: 0, raters: 0, observed: nil,
                                                  fleissKappa: nil, krippendorffAlpha: nil))
        #expect(report.byCategory.isEmpty && report.byReviewer.isEmpty && report.pairs.isEmpty && report.labels.isEmpty)
    }
}

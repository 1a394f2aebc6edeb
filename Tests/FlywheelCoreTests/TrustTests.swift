import Testing
@testable import FlywheelCore

// Trust in end users' feedback: the smoothed score, and each abuse rule on both sides of its thresholds.

private let hour: Int64 = 3_600_000

/// `count` records of one kind, `spacing` ms apart from `start`, ids from `firstId`.
private func records(_ kind: String, _ count: Int, _ outcome: FeedbackOutcome = .unreviewed, start: Int64 = 0,
                     spacing: Int64 = hour, firstId: Int64 = 1) -> [FeedbackRecord] {
    (0..<count).map { FeedbackRecord(id: firstId + Int64($0), kind: kind, ts: start + Int64($0) * spacing, outcome: outcome) }
}

private func trust(_ histories: [String: [FeedbackRecord]], policy: TrustPolicy = .standard) -> [String: UserTrust] {
    Dictionary(uniqueKeysWithValues: TrustScoring.evaluate(histories, policy: policy).map { ($0.user, $0) })
}

@Suite struct TrustScoreTests {
    @Test func smoothedScore() {
        let history = records("thumbs_down", 3, .agreed) + records("correction", 1, .disagreed, start: 10 * hour)
            + records("thumbs_up", 5, .unreviewed, start: 20 * hour)
        let user = trust(["u": history])["u"]!
        #expect((user.feedback, user.reviewed, user.agreed) == (9, 4, 3))
        // (3 + 1) / (4 + 1 + 1); the five unreviewed thumbs-ups count as feedback, not as reviewed.
        #expect(user.score == 4.0 / 6.0)
        #expect(user.weight == user.score)
        #expect(user.flags.isEmpty && !user.flagged)
        #expect((user.thumbsDown, user.corrections, user.rejectedCorrections) == (3, 1, 1))
    }

    @Test func noReviewIsOneHalf() {
        let users = trust(["unreviewed": records("thumbs_up", 4), "empty": []])
        #expect(users["unreviewed"]!.score == 0.5)
        #expect(users["unreviewed"]!.reviewed == 0)
        let empty = users["empty"]!
        #expect((empty.feedback, empty.peakInWindow, empty.score, empty.weight) == (0, 0, 0.5, 0.5))
        #expect(!empty.flagged)
    }

    @Test func priorComesFromThePolicy() {
        var policy = TrustPolicy()
        policy.priorAgreed = 2
        policy.priorDisagreed = 8
        let history = records("thumbs_down", 3, .agreed) + records("thumbs_down", 1, .disagreed, start: 10 * hour)
        #expect(trust(["u": history], policy: policy)["u"]!.score == 5.0 / 14.0)
        // A zero prior and nothing reviewed: undefined, reported as 0.5.
        policy.priorAgreed = 0
        policy.priorDisagreed = 0
        #expect(trust(["u": records("thumbs_up", 2)], policy: policy)["u"]!.score == 0.5)
        #expect(trust(["u": records("thumbs_up", 2, .agreed)], policy: policy)["u"]!.score == 1)
    }

    @Test func sortedByUser() {
        let result = TrustScoring.evaluate(["carol": [], "alice": records("thumbs_up", 1), "bob": []])
        #expect(result.map(\.user) == ["alice", "bob", "carol"])
        #expect(TrustScoring.evaluate([:]).isEmpty)
    }

    @Test func kindsAreFeedbackKinds() {
        #expect(AbuseKind.allCases.map(\.rawValue) == ["mostly_thumbs_down", "burst", "rejected_corrections"])
        #expect(FeedbackKind.thumbsDown.rawValue == "thumbs_down" && FeedbackKind.correction.rawValue == "correction")
    }
}

@Suite struct MostlyThumbsDownTests {
    @Test func thresholds() {
        let users = trust([
            "19of19": records("thumbs_down", 19),                                      // too few feedback
            "20of20": records("thumbs_down", 20),
            "19of20": records("thumbs_down", 19) + records("thumbs_up", 1, start: 100 * hour),   // exactly 95%
            "47of50": records("thumbs_down", 47) + records("thumbs_up", 3, start: 100 * hour),   // 94%
            "39of40": records("thumbs_down", 39) + records("thumbs_up", 1, start: 100 * hour),   // 97.5%
        ])
        #expect(!users["19of19"]!.flagged)
        #expect(users["20of20"]!.flags.map(\.kind) == [.mostlyThumbsDown])
        #expect(users["19of20"]!.flags.map(\.kind) == [.mostlyThumbsDown])
        #expect(!users["47of50"]!.flagged)
        #expect(users["39of40"]!.flags.map(\.kind) == [.mostlyThumbsDown])
        #expect(users["19of20"]!.flags[0].reason == "19 of 20 feedback (95%) are thumbs-down (threshold 95% of at least 20)")
        #expect(users["39of40"]!.flags[0].reason == "39 of 40 feedback (97%) are thumbs-down (threshold 95% of at least 20)")
    }

    @Test func flaggedWeighsNothing() {
        // Reviewers even agreed with these thumbs-downs: the score stays, the weight is 0.
        let user = trust(["u": records("thumbs_down", 20, .agreed)])["u"]!
        #expect(user.score == 21.0 / 22.0)
        #expect(user.weight == 0)
        #expect(user.flagged)
    }

    @Test func policyShare() {
        var policy = TrustPolicy()
        policy.minFeedbackForShare = 5
        policy.thumbsDownShare = 0.8
        let history = records("thumbs_down", 4) + records("thumbs_up", 1, start: 100 * hour)
        let user = trust(["u": history], policy: policy)["u"]!
        #expect(user.flags.map(\.reason) == ["4 of 5 feedback (80%) are thumbs-down (threshold 80% of at least 5)"])
    }
}

@Suite struct BurstTests {
    /// A user with `peak` feedback inside one minute and nothing else.
    private func burst(_ peak: Int) -> [FeedbackRecord] { records("thumbs_up", peak, spacing: 1_000) }

    @Test func burstAmongNormalUsers() {
        // Others peak at 2, 3, 4: median 3, threshold max(20, 5 × 3) = 20.
        let users = trust(["n1": burst(2), "n2": burst(3), "n3": burst(4), "spammer": burst(25)])
        let spammer = users["spammer"]!
        #expect(spammer.peakInWindow == 25)
        #expect(spammer.flags.map(\.kind) == [.burst])
        #expect(spammer.flags[0].reason == "25 feedback within 60 s (threshold 20: max of 20 and 5× the other users' median peak 3)")
        #expect(spammer.weight == 0)
        // The spammer is not part of the normal users' own "normal": theirs is the median of the others.
        #expect(!users["n1"]!.flagged && !users["n2"]!.flagged && !users["n3"]!.flagged)
    }

    @Test func belowTheMinimumIsNotABurst() {
        // 15 in a minute against others at 1: 15× their rate, but under burstMinimum 20.
        let users = trust(["n1": burst(1), "n2": burst(1), "eager": burst(15)])
        #expect(users["eager"]!.peakInWindow == 15)
        #expect(!users["eager"]!.flagged)
        // 20 against the same population: flagged.
        #expect(trust(["n1": burst(1), "n2": burst(1), "eager": burst(20)])["eager"]!.flags.map(\.kind) == [.burst])
    }

    @Test func belowTheFactorIsNotABurst() {
        // Others peak at 6 and 8: median 7, threshold max(20, 35) = 35.
        #expect(!trust(["n1": burst(6), "n2": burst(8), "busy": burst(34)])["busy"]!.flagged)
        let busy = trust(["n1": burst(6), "n2": burst(8), "busy": burst(35)])["busy"]!
        #expect(busy.flags.map(\.reason) == ["35 feedback within 60 s (threshold 35: max of 20 and 5× the other users' median peak 7)"])
    }

    @Test func spreadOutIsNotABurst() {
        // 30 feedback, one every 3 s: at most 20 in a minute; one every 4 s: 15, under the minimum.
        let steady = trust(["a": records("thumbs_up", 30, spacing: 3_000), "b": records("thumbs_up", 30, spacing: 4_000)])
        #expect(steady["a"]!.peakInWindow == 20)
        #expect(steady["b"]!.peakInWindow == 15)
        #expect(!steady["b"]!.flagged)
    }

    @Test func aLoneUserOnlyHasTheMinimum() {
        let alone = trust(["solo": burst(20)])["solo"]!
        #expect(alone.flags.map(\.reason) == ["20 feedback within 60 s (threshold 20: the minimum; no other users to compare with)"])
        #expect(!trust(["solo": burst(19)])["solo"]!.flagged)
    }

    @Test func peakWindow() {
        // [t, t + window): 59 999 ms apart share a window, 60 000 ms apart do not.
        #expect(TrustScoring.peak([0, 59_999], windowMs: 60_000) == 2)
        #expect(TrustScoring.peak([0, 60_000], windowMs: 60_000) == 1)
        #expect(TrustScoring.peak([], windowMs: 60_000) == 0)
        // Any order; the densest window need not start at the first record.
        #expect(TrustScoring.peak([70_003, 0, 70_001, 10, 70_000, 20, 70_002], windowMs: 60_000) == 4)
        #expect(TrustScoring.peak([5, 5, 5], windowMs: 1) == 3)
        #expect(TrustScoring.peak([5, 5, 6], windowMs: 0) == 2)
        #expect(TrustScoring.peak([Int64.min, Int64.max], windowMs: 60_000) == 1)
    }
}

@Suite struct RejectedCorrectionsTests {
    private func corrections(rejected: Int, accepted: Int, unreviewed: Int = 0) -> [FeedbackRecord] {
        records("correction", rejected, .disagreed) + records("correction", accepted, .agreed, start: 100 * hour)
            + records("correction", unreviewed, .unreviewed, start: 200 * hour)
    }

    @Test func thresholds() {
        let users = trust([
            "3of4": corrections(rejected: 3, accepted: 1),
            "2of2": corrections(rejected: 2, accepted: 0),      // every one rejected, but only two
            "3of7": corrections(rejected: 3, accepted: 4),      // 43%
            "3of6": corrections(rejected: 3, accepted: 3),      // exactly 50%
        ])
        #expect(users["3of4"]!.flags.map(\.kind) == [.rejectedCorrections])
        #expect(users["3of4"]!.flags[0].reason == "3 of 4 reviewed corrections rejected (75%; threshold at least 3 and 50%)")
        #expect(!users["2of2"]!.flagged)
        #expect(!users["3of7"]!.flagged)
        #expect(users["3of6"]!.flags.map(\.kind) == [.rejectedCorrections])
    }

    @Test func unreviewedCorrectionsAreNotInTheShare() {
        let user = trust(["u": corrections(rejected: 3, accepted: 1, unreviewed: 5)])["u"]!
        #expect((user.corrections, user.rejectedCorrections, user.reviewed) == (9, 3, 4))
        #expect(user.flags.map(\.reason) == ["3 of 4 reviewed corrections rejected (75%; threshold at least 3 and 50%)"])
    }

    @Test func rejectedThumbsDownAreNotCorrections() {
        let user = trust(["u": records("thumbs_down", 5, .disagreed)])["u"]!
        #expect(user.rejectedCorrections == 0)
        #expect(!user.flagged)
        #expect(user.score == 1.0 / 7.0)
    }

    @Test func severalFlagsInRuleOrder() {
        // 60 thumbs-down in one minute and 3 rejected corrections: 60 of 63 (95.2%) thumbs-down, a peak of 60
        // against another user's 2, 3 of 3 corrections rejected: all three rules, in the order of AbuseKind.
        let history = records("thumbs_down", 60, spacing: 1_000)
            + records("correction", 3, .disagreed, start: 100 * hour)
        let user = trust(["u": history, "other": records("thumbs_up", 2)])["u"]!
        #expect(user.flags.map(\.kind) == [.mostlyThumbsDown, .burst, .rejectedCorrections])
        #expect(user.weight == 0)
    }
}

import Foundation

// Trust in end users' explicit feedback. A thumbs-down or a correction from the people using the product becomes a
// training sample only through review, and reviewers' decisions tell, per end user, how often their feedback was
// right: that smoothed agreement is the weight their samples carry. Three patterns of abuse (nearly everything
// thumbs-down, bursts far above the population's rate, corrections rejected again and again) set the weight to 0.
// Pure; the store supplies each user's history.

/// What reviewers finally decided about the sample built from a feedback.
public enum FeedbackOutcome: String, Sendable {
    /// Approved or fixed: the model answer was wrong, the feedback was right.
    case agreed
    /// Rejected: the model answer was fine, or the sample is bad.
    case disagreed
    /// Not decided yet (or no sample was built): does not count for or against the user.
    case unreviewed
}

/// One explicit feedback event of an end user, with what reviewers finally decided about it.
public struct FeedbackRecord: Sendable, Equatable {
    public var id: Int64
    /// A `FeedbackKind` raw value: "thumbs_up", "thumbs_down", "correction", "tags".
    public var kind: String
    /// Epoch milliseconds.
    public var ts: Int64
    public var outcome: FeedbackOutcome

    public init(id: Int64, kind: String, ts: Int64, outcome: FeedbackOutcome) {
        self.id = id
        self.kind = kind
        self.ts = ts
        self.outcome = outcome
    }
}

/// The prior of the trust score and the thresholds of the abuse rules. Shares are inclusive (≥).
public struct TrustPolicy: Sendable, Equatable {
    /// Prior of the smoothed score: (agreed + priorAgreed) / (reviewed + priorAgreed + priorDisagreed), so one
    /// review does not swing a user to 0 or 1.
    public var priorAgreed = 1.0, priorDisagreed = 1.0
    /// "Nearly everything thumbs-down": at least `minFeedbackForShare` explicit feedback and a thumbs-down share
    /// ≥ `thumbsDownShare`. The minimum keeps one unhappy user with a few thumbs-downs unflagged.
    public var minFeedbackForShare = 20, thumbsDownShare = 0.95
    /// "Bursts far above the normal rate": the peak count in any window of `burstWindowMs` is
    /// ≥ max(`burstMinimum`, `burstFactor` × the median peak of the other users).
    public var burstWindowMs: Int64 = 60_000, burstMinimum = 20, burstFactor = 5.0
    /// "Corrections reviewers reject again and again": ≥ `rejectedCorrectionsMinimum` rejected corrections and a
    /// rejected share of reviewed corrections ≥ `rejectedCorrectionShare`.
    public var rejectedCorrectionsMinimum = 3, rejectedCorrectionShare = 0.5

    public init() {}

    public static let standard = TrustPolicy()
}

public enum AbuseKind: String, Sendable, CaseIterable {
    case mostlyThumbsDown = "mostly_thumbs_down"
    case burst
    case rejectedCorrections = "rejected_corrections"
}

/// A rule a user's feedback tripped.
public struct AbuseFlag: Sendable, Equatable {
    public var kind: AbuseKind
    /// A sentence with the numbers and the threshold, for the console and the command's output.
    public var reason: String

    public init(kind: AbuseKind, reason: String) {
        self.kind = kind
        self.reason = reason
    }
}

/// One end user's trust figures.
public struct UserTrust: Sendable, Equatable {
    public var user: String
    /// Explicit feedback events, reviewed or not.
    public var feedback: Int
    /// Of those, the ones with an outcome (agreed or disagreed).
    public var reviewed: Int
    public var agreed: Int
    public var thumbsDown: Int
    public var corrections: Int
    /// Corrections whose outcome is disagreed.
    public var rejectedCorrections: Int
    /// The most feedback inside one window of the policy's burstWindowMs.
    public var peakInWindow: Int
    /// Smoothed agreement with reviewers, 0…1; 0.5 with no reviewed feedback under the default prior.
    public var score: Double
    /// The weight samples from this user carry: the score, or 0 when flagged.
    public var weight: Double
    public var flags: [AbuseFlag]
    public var flagged: Bool { !flags.isEmpty }

    public init(user: String, feedback: Int, reviewed: Int, agreed: Int, thumbsDown: Int, corrections: Int,
                rejectedCorrections: Int, peakInWindow: Int, score: Double, weight: Double, flags: [AbuseFlag]) {
        self.user = user
        self.feedback = feedback
        self.reviewed = reviewed
        self.agreed = agreed
        self.thumbsDown = thumbsDown
        self.corrections = corrections
        self.rejectedCorrections = rejectedCorrections
        self.peakInWindow = peakInWindow
        self.score = score
        self.weight = weight
        self.flags = flags
    }
}

public enum TrustScoring {
    /// Scores every user in `histories` (user id → feedback, any order). Sorted by user id.
    ///
    /// A burst is judged against the population: "normal" is the median peak of the OTHER users in the input
    /// (every user but the one judged, including users with an empty history). Including the user's own peak
    /// would make a lone user's threshold burstFactor × their own peak, which they can never reach; so with no
    /// other users only `burstMinimum` applies.
    public static func evaluate(_ histories: [String: [FeedbackRecord]], policy: TrustPolicy = .standard) -> [UserTrust] {
        let users = histories.keys.sorted()
        let peaks = users.map { peak(histories[$0]!.map(\.ts), windowMs: policy.burstWindowMs) }
        let sortedPeaks = peaks.sorted()

        return zip(users, peaks).map { user, peakInWindow in
            let records = histories[user]!
            let feedback = records.count
            let reviewed = records.filter { $0.outcome != .unreviewed }.count
            let agreed = records.filter { $0.outcome == .agreed }.count
            let thumbsDown = records.filter { $0.kind == FeedbackKind.thumbsDown.rawValue }.count
            let corrections = records.filter { $0.kind == FeedbackKind.correction.rawValue }
            let reviewedCorrections = corrections.filter { $0.outcome != .unreviewed }.count
            let rejectedCorrections = corrections.filter { $0.outcome == .disagreed }.count

            let denominator = Double(reviewed) + policy.priorAgreed + policy.priorDisagreed
            // A zero prior and no review leave the score undefined: 0.5 says "no information".
            let score = denominator > 0 ? (Double(agreed) + policy.priorAgreed) / denominator : 0.5

            var flags: [AbuseFlag] = []
            if feedback >= policy.minFeedbackForShare, atLeast(thumbsDown, of: feedback, policy.thumbsDownShare) {
                flags.append(AbuseFlag(kind: .mostlyThumbsDown, reason:
                    "\(thumbsDown) of \(feedback) feedback (\(floorPercent(thumbsDown, of: feedback))%) are thumbs-down "
                    + "(threshold \(percent(policy.thumbsDownShare)) of at least \(policy.minFeedbackForShare))"))
            }
            let others = medianWithoutOne(sortedPeaks, removing: peakInWindow)
            let threshold = max(Double(policy.burstMinimum), policy.burstFactor * (others ?? 0))
            if feedback > 0, Double(peakInWindow) >= threshold {
                let basis = others.map { "max of \(policy.burstMinimum) and \(number(policy.burstFactor))× the other users' median peak \(number($0))" }
                    ?? "the minimum; no other users to compare with"
                flags.append(AbuseFlag(kind: .burst, reason:
                    "\(peakInWindow) feedback within \(duration(policy.burstWindowMs)) (threshold \(number(threshold)): \(basis))"))
            }
            if rejectedCorrections >= policy.rejectedCorrectionsMinimum,
               atLeast(rejectedCorrections, of: reviewedCorrections, policy.rejectedCorrectionShare) {
                flags.append(AbuseFlag(kind: .rejectedCorrections, reason:
                    "\(rejectedCorrections) of \(reviewedCorrections) reviewed corrections rejected "
                    + "(\(floorPercent(rejectedCorrections, of: reviewedCorrections))%; threshold at least "
                    + "\(policy.rejectedCorrectionsMinimum) and \(percent(policy.rejectedCorrectionShare)))"))
            }

            return UserTrust(user: user, feedback: feedback, reviewed: reviewed, agreed: agreed, thumbsDown: thumbsDown,
                             corrections: corrections.count, rejectedCorrections: rejectedCorrections,
                             peakInWindow: peakInWindow, score: score, weight: flags.isEmpty ? score : 0, flags: flags)
        }
    }

    /// The peak number of records inside any window of `windowMs`: timestamps within [t, t + windowMs), so two
    /// records exactly windowMs apart fall in different windows. A window below 1 ms counts as 1 ms (records of
    /// the same millisecond). 0 for no records.
    public static func peak(_ timestamps: [Int64], windowMs: Int64) -> Int {
        let ts = timestamps.sorted()
        let window = max(windowMs, 1)
        var best = 0, end = 0
        // Every maximal window can start at a record: slide the start over the records, extend the end.
        for start in ts.indices {
            end = max(end, start)
            while end < ts.count {
                let (gap, overflow) = ts[end].subtractingReportingOverflow(ts[start])
                guard !overflow, gap < window else { break }
                end += 1
            }
            best = max(best, end - start)
        }
        return best
    }

    /// part / whole ≥ share, with a little slack so an exact threshold (19 of 20 at 95%) is not lost to rounding.
    private static func atLeast(_ part: Int, of whole: Int, _ share: Double) -> Bool {
        whole > 0 && Double(part) / Double(whole) >= share - 1e-9
    }

    /// The median of `sorted` with one occurrence of `value` taken out; nil when nothing is left.
    private static func medianWithoutOne(_ sorted: [Int], removing value: Int) -> Double? {
        let count = sorted.count - 1
        guard count > 0 else { return nil }
        var removed = 0   // first index holding value: which occurrence goes does not change the rest
        while removed < sorted.count, sorted[removed] < value { removed += 1 }
        func element(_ i: Int) -> Double { Double(i < removed ? sorted[i] : sorted[i + 1]) }
        return count % 2 == 1 ? element(count / 2) : (element(count / 2 - 1) + element(count / 2)) / 2
    }

    /// Rounded down (39 of 40 -> 97%), so a reason never rounds a share up past what it is.
    private static func floorPercent(_ part: Int, of whole: Int) -> Int { whole > 0 ? part * 100 / whole : 0 }

    private static func percent(_ share: Double) -> String { number(share * 100) + "%" }

    /// 5 -> "5", 2.5 -> "2.5".
    private static func number(_ x: Double) -> String {
        let rounded = (x * 10).rounded() / 10
        guard rounded == rounded.rounded(), abs(rounded) < 1e15 else { return String(format: "%.1f", rounded) }
        return String(Int(rounded))
    }

    /// 60000 -> "60 s", 1500 -> "1500 ms".
    private static func duration(_ ms: Int64) -> String { ms % 1000 == 0 ? "\(ms / 1000) s" : "\(ms) ms" }
}

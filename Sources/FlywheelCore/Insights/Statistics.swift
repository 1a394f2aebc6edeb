import Foundation

// The statistics of the improvement loop: a proportion with its Wilson interval, and the two-proportion test
// that compares the negative rates of two prompt versions. Pure; the store supplies the counts.

/// `successes` out of `trials` (for prompt versions: negative outcomes out of answered requests).
public struct Proportion: Sendable, Equatable {
    public var successes: Int
    public var trials: Int

    public init(successes: Int, trials: Int) {
        self.successes = successes
        self.trials = trials
    }

    /// successes / trials; 0 when there are no trials.
    public var rate: Double { trials > 0 ? Double(successes) / Double(trials) : 0 }

    /// The Wilson score interval at 95% (z = 1.95996…), clamped to [0, 1]; (0, 1) when there are no trials.
    public func wilson95() -> (low: Double, high: Double) { wilson(z: Normal.z975) }

    /// The Wilson score interval for a normal quantile `z`.
    public func wilson(z: Double) -> (low: Double, high: Double) {
        guard trials > 0 else { return (0, 1) }
        let n = Double(trials), p = rate, z2 = z * z
        let denominator = 1 + z2 / n
        let center = (p + z2 / (2 * n)) / denominator
        let half = z / denominator * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        // At p = 0 (or 1) the bound is exactly 0 (or 1); rounding must not leave -1e-17 there.
        return (successes == 0 ? 0 : max(0, center - half), successes == trials ? 1 : min(1, center + half))
    }
}

/// Standard normal distribution helpers.
public enum Normal {
    /// The 97.5% quantile: two-sided 95% intervals, significance at 5%.
    public static let z975 = 1.959963984540054
    /// The 80% quantile: 80% power.
    public static let z80 = 0.8416212335729143

    /// P(Z <= x), through erfc (accurate in the tails).
    public static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// P(|Z| >= |z|).
    public static func twoSidedP(_ z: Double) -> Double { min(1, erfc(abs(z) / 2.0.squareRoot())) }
}

/// What a comparison of two prompt versions says, lower negative rate being better.
public enum ABVerdict: Sendable, Equatable {
    /// The second version's negative rate is significantly lower (p < 0.05).
    case better
    /// The second version's negative rate is significantly higher.
    case worse
    /// Not significant, and more data would not tell (the observed rates are equal).
    case noDifference
    /// A version has fewer than 30 requests, or the difference is not significant yet and detecting it at 80%
    /// power needs more requests than there are: about this many more, both versions together.
    case notEnoughData(moreRequestsNeeded: Int)
}

public struct ABResult: Sendable, Equatable {
    /// b.rate - a.rate (negative: b has fewer negative outcomes).
    public var difference: Double
    /// The pooled two-proportion z statistic (0 when both rates are 0 or both 1).
    public var z: Double
    /// Two-sided.
    public var pValue: Double
    public var verdict: ABVerdict
    /// The verdict in plain words: "<b> better", "<b> worse", "no significant difference",
    /// "not enough data: about N more requests needed".
    public var text: String
    /// Requests needed per version to detect the observed difference (two-sided 5%, 80% power); nil when the
    /// rates are equal.
    public var requiredPerVersion: Int?

    public init(difference: Double, z: Double, pValue: Double, verdict: ABVerdict, text: String, requiredPerVersion: Int?) {
        self.difference = difference
        self.z = z
        self.pValue = pValue
        self.verdict = verdict
        self.text = text
        self.requiredPerVersion = requiredPerVersion
    }
}

public enum ABTest {
    /// Fewer requests than this on either side and no verdict is given.
    public static let minimumTrials = 30
    /// Significance level (two-sided).
    public static let alpha = 0.05

    /// Compares the negative rates of `a` (the baseline) and `b` with the pooled two-proportion z test.
    /// `bName` names b in the verdict text ("v2 better").
    ///
    /// Verdicts, in order: either side under 30 requests -> not enough data; p < 0.05 -> better or worse;
    /// equal rates -> no significant difference; otherwise, if the requests needed per version to detect the
    /// observed difference (two-sided 5%, 80% power) exceed what a version has -> not enough data, with the
    /// shortfall of both versions together; else no significant difference.
    public static func twoProportion(_ a: Proportion, _ b: Proportion, bName: String = "v2") -> ABResult {
        let difference = b.rate - a.rate
        var z = 0.0
        if a.trials > 0 && b.trials > 0 {
            let pooled = Double(a.successes + b.successes) / Double(a.trials + b.trials)
            let se = (pooled * (1 - pooled) * (1 / Double(a.trials) + 1 / Double(b.trials))).squareRoot()
            if se > 0 { z = difference / se }
        }
        let p = Normal.twoSidedP(z)
        let required = a.trials > 0 && b.trials > 0 ? requiredSampleSize(a.rate, b.rate) : nil

        func shortfall(_ perVersion: Int) -> Int { max(0, perVersion - a.trials) + max(0, perVersion - b.trials) }
        let verdict: ABVerdict
        if a.trials < minimumTrials || b.trials < minimumTrials {
            verdict = .notEnoughData(moreRequestsNeeded: roundUp(shortfall(max(minimumTrials, required ?? 0))))
        } else if p < alpha {
            verdict = difference < 0 ? .better : .worse
        } else if let required, required > min(a.trials, b.trials) {
            verdict = .notEnoughData(moreRequestsNeeded: roundUp(shortfall(required)))
        } else {
            verdict = .noDifference
        }
        return ABResult(difference: difference, z: z, pValue: p, verdict: verdict, text: text(verdict, bName: bName),
                        requiredPerVersion: required)
    }

    public static func text(_ verdict: ABVerdict, bName: String) -> String {
        switch verdict {
        case .better: return "\(bName) better"
        case .worse: return "\(bName) worse"
        case .noDifference: return "no significant difference"
        case .notEnoughData(let n): return "not enough data: about \(n) more requests needed"
        }
    }

    /// Requests per group for a two-sided test at 5% to detect p1 vs p2 with 80% power (the standard formula
    /// without continuity correction):
    /// n = (z₀.₉₇₅·√(2·p̄·(1−p̄)) + z₀.₈·√(p1(1−p1) + p2(1−p2)))² / (p1 − p2)², p̄ = (p1 + p2)/2, rounded up.
    /// nil when p1 = p2 (no sample is large enough).
    public static func requiredSampleSize(_ p1: Double, _ p2: Double) -> Int? {
        let d = abs(p1 - p2)
        guard d > 1e-12 else { return nil }
        let mean = (p1 + p2) / 2
        let root = Normal.z975 * (2 * mean * (1 - mean)).squareRoot() + Normal.z80 * (p1 * (1 - p1) + p2 * (1 - p2)).squareRoot()
        let n = (root * root / (d * d)).rounded(.up)
        return n >= Double(Int.max / 4) ? Int.max / 4 : Int(n)
    }

    /// "About N": rounded up to two significant digits (1234 -> 1300, 87 -> 87).
    static func roundUp(_ n: Int) -> Int {
        guard n >= 100 else { return n }
        var scale = 1
        while n / scale >= 100 { scale *= 10 }
        return (n + scale - 1) / scale * scale
    }
}

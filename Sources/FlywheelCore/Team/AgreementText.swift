import Foundation

// The agreement report as text, the same in `flywheel agreement` and the console's team screen: each lays the
// cells out its own way, but the words and the number formats are these.

extension AgreementReport {
    /// A kappa or alpha: three decimals, "-" when undefined.
    public static func kappaText(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "-" }

    /// A share as a whole percentage, "-" when undefined.
    public static func shareText(_ v: Double?) -> String { v.map { String(format: "%.0f%%", $0 * 100) } ?? "-" }

    /// "Overall: 12 items, 24 decisions, 3 reviewers; labels approve, reject".
    public var headline: String {
        "Overall: \(overall.items) items, \(overall.decisions) decisions, \(overall.raters) reviewers; labels \(labels.joined(separator: ", "))"
    }

    /// "observed agreement 83%, Fleiss' kappa 0.625, Krippendorff's alpha 0.641".
    public var overallFigures: String {
        "observed agreement \(Self.shareText(overall.observed)), Fleiss' kappa \(Self.kappaText(overall.fleissKappa)), "
            + "Krippendorff's alpha \(Self.kappaText(overall.krippendorffAlpha))"
    }

    public static let categoryHeaders = ["category", "items", "decisions", "observed", "fleiss", "alpha"]
    public var categoryCells: [[String]] {
        byCategory.map { [$0.scope, String($0.items), String($0.decisions), Self.shareText($0.observed), Self.kappaText($0.fleissKappa),
                          Self.kappaText($0.krippendorffAlpha)] }
    }

    public static let reviewerHeaders = ["reviewer", "decisions", "overlapped", "with others", "with final", "agreed", "kappa vs final"]
    public var reviewerCells: [[String]] {
        byReviewer.map { [$0.reviewer, String($0.decisions), String($0.overlapped), Self.shareText($0.withOthers), String($0.withFinal),
                          Self.shareText($0.agreedWithFinal), Self.kappaText($0.kappaWithFinal)] }
    }

    public static let pairHeaders = ["reviewers", "items", "observed", "kappa"]
    public var pairCells: [[String]] {
        pairs.map { ["\($0.a) ~ \($0.b)", String($0.items), Self.shareText($0.observed), Self.kappaText($0.cohenKappa)] }
    }
}

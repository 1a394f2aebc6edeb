import ArgumentParser
import FlywheelCore
import FlywheelStore
import Foundation

struct ABCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ab",
        abstract: "Negative rates of prompt versions with 95% intervals; with two versions, a two-proportion test.",
        discussion: """
            A request is answered with a version when one of its assistant turns carries it; its outcome is \
            negative with thumbs_down or correction feedback or a correction signal. The rate's interval is \
            Wilson's. Two versions are compared with the pooled two-proportion z test (two-sided, significant at \
            p < 0.05; lower negative rate is better); below 30 requests a side, or when the difference would need \
            more requests to show at 80% power, the verdict says about how many more. All time unless \
            --days, --since or --until is given.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var window: WindowOptions

    @Argument(help: ArgumentHelp("Two prompt versions: the baseline, then the one to judge.", valueName: "VERSION"))
    var versions: [String] = []

    @Option(name: .long, help: "table or json.")
    var format: ReportFormat = .table

    func validate() throws {
        if !(versions.isEmpty || versions.count == 2) { throw ValidationError("give two prompt versions to compare, or none to list them all") }
    }

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let w = window.isSet ? try window.resolve(store, defaultDays: 30) : nil
            let outcomes = try store.promptOutcomes(w)
            let during = w.map(describe) ?? "all time"
            var shown = outcomes
            var test: (a: PromptOutcome, b: PromptOutcome, result: ABResult)?
            if versions.count == 2 {
                let pair = try versions.map { v in
                    guard let o = outcomes.first(where: { $0.promptVersion == v }) else {
                        let known = outcomes.map(\.promptVersion).joined(separator: ", ")
                        throw CLIError("prompt version \(v) answered no requests (\(during)); versions with requests: \(known.isEmpty ? "none" : known)")
                    }
                    return o
                }
                shown = pair
                test = (pair[0], pair[1], ABTest.twoProportion(pair[0].proportion, pair[1].proportion, bName: pair[1].promptVersion))
            }
            switch format {
            case .json:
                var fields: [(String, JSONValue)] = [("window", w.map(JSONValue.window) ?? .null)]
                fields.append(("versions", .array(shown.map { o in
                    let ci = o.proportion.wilson95()
                    return .object([("prompt_version", .string(o.promptVersion)), ("task_type", .optional(o.taskType)), ("answered", .int(o.answered)),
                                    ("negative", .int(o.negative)), ("negative_rate", .number(o.proportion.rate)),
                                    ("ci95_low", .number(ci.low)), ("ci95_high", .number(ci.high))])
                })))
                if let test {
                    let r = test.result
                    var more: JSONValue = .null
                    if case .notEnoughData(let n) = r.verdict { more = .int(n) }
                    fields.append(("test", .object([
                        ("a", .string(test.a.promptVersion)), ("b", .string(test.b.promptVersion)), ("difference", .number(r.difference)),
                        ("z", .number(r.z)), ("p_value", .number(r.pValue)), ("verdict", .string(verdictName(r.verdict))), ("text", .string(r.text)),
                        ("more_requests_needed", more), ("required_per_version", r.requiredPerVersion.map { .int($0) } ?? .null),
                    ])))
                }
                print(JSONValue.object(fields).jsonText)
            case .table:
                print("negative outcomes per prompt version, \(during)")
                if shown.isEmpty {
                    print("No requests answered with a prompt version. (Turns carry prompt_version when the producer sends it.)")
                    return
                }
                var t = TextTable(headers: ["version", "task type", "answered", "negative", "rate", "95% interval"], widths: [16, 12, 8, 8, 6, 13])
                for o in shown {
                    let p = o.proportion, ci = p.wilson95()
                    t.add([o.promptVersion, o.taskType ?? "", right(String(o.answered), 8), right(String(o.negative), 8),
                           right(CategoryBreakdown.percent(p.rate), 6), "\(CategoryBreakdown.percent(ci.low))–\(CategoryBreakdown.percent(ci.high))"])
                }
                print(t.render())
                if let test {
                    let r = test.result
                    if let ta = test.a.taskType, let tb = test.b.taskType, ta != tb {
                        print("note: \(test.a.promptVersion) is for \(ta), \(test.b.promptVersion) for \(tb)")
                    }
                    let points = String(format: "%+.1f", r.difference * 100)
                    print("\(test.b.promptVersion) vs \(test.a.promptVersion): \(points) points, z = \(String(format: "%.2f", r.z)), p = \(pValue(r.pValue))")
                    print("verdict: \(r.text)")
                }
            }
        }
    }

    func verdictName(_ v: ABVerdict) -> String {
        switch v {
        case .better: return "better"
        case .worse: return "worse"
        case .noDifference: return "no_difference"
        case .notEnoughData: return "not_enough_data"
        }
    }

    func pValue(_ p: Double) -> String { p < 0.0001 ? String(format: "%.1e", p) : String(format: "%.4f", p) }
}

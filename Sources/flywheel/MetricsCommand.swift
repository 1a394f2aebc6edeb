import ArgumentParser
import FlywheelCore
import FlywheelStore
import Foundation

struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "The flywheel's figures per hour or day: feedback, signals, negative rate, samples, conversion, reviews.",
        discussion: """
            feedback: explicit feedback events; signals: implicit signals, at the time of the answer they are about; \
            answered and negative: requests answered, and those with thumbs_down or correction feedback or a correction \
            signal; samples: training samples about that time, approved: those of them now approved or fixed; \
            conversion: approved / (feedback + signals); reviews: review decisions made then (the reviewers' clock, \
            undos not counted). UTC buckets. Default window: the 30 days (2 days by the hour) ending with the day of \
            the newest sample. prometheus prints the window's totals and the review backlog as gauges.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, prometheus
    }

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var window: WindowOptions

    @Option(name: .long, help: "hour or day.")
    var bucket: MetricBucket = .day

    @Option(name: .long, help: "table, json or prometheus.")
    var format: Format = .table

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let w = try window.resolve(store, defaultDays: bucket == .day ? 30 : 2)
            let points = try store.metricSeries(w, bucket: bucket)
            let total = MetricPoint.total(points)
            let oldest = try store.oldestPendingSample()
            let waiting = try store.reviewQueueCount()
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let age = oldest.map { max(0, now - $0.createdAt) / 1000 }
            switch format {
            case .json:
                func fields(_ p: MetricPoint) -> [(String, JSONValue)] {
                    [("explicit_feedback", .int(p.explicitFeedback)), ("implicit_signals", .int(p.implicitSignals)),
                     ("answered", .int(p.answered)), ("negative", .int(p.negative)), ("negative_rate", .number(p.negativeRate)),
                     ("new_samples", .int(p.newSamples)), ("approved_samples", .int(p.approvedSamples)),
                     ("conversion_rate", .number(p.conversionRate)), ("review_actions", .int(p.reviewActions))]
                }
                print(JSONValue.object([
                    ("window", .window(w)), ("bucket", .string(bucket.rawValue)),
                    ("points", .array(points.map { p in .object([("start", .string(Timestamp.format(millis: p.start)))] + fields(p)) })),
                    ("totals", .object(fields(total))),
                    ("waiting_samples", .int(waiting)),
                    ("oldest_pending_sample", oldest.map { o in
                        .object([("sample_id", .number(Double(o.id))), ("created_at", .string(Timestamp.format(millis: o.createdAt))),
                                 ("age_seconds", .number(Double(age ?? 0)))])
                    } ?? .null),
                ]).jsonText)
            case .prometheus:
                var out = ""
                // The window's length as a label: "30d" for whole days, else seconds ("5400s").
                let length = w.until - w.since, day = MetricBucket.day.millis
                let label = "{window=\"\(length % day == 0 ? "\(length / day)d" : "\(length / 1000)s")\"}"
                func gauge(_ name: String, _ help: String, _ value: String, labels: String = label) {
                    out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name)\(labels) \(value)\n"
                }
                func number(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d) }
                gauge("flywheel_window_start_timestamp_seconds", "Start of the window the other window figures cover.", String(w.since / 1000))
                gauge("flywheel_window_end_timestamp_seconds", "End of the window (excluded).", String(w.until / 1000))
                gauge("flywheel_window_explicit_feedback", "Explicit feedback events in the window.", String(total.explicitFeedback))
                gauge("flywheel_window_implicit_signals", "Implicit signals about answers in the window.", String(total.implicitSignals))
                gauge("flywheel_window_answered_requests", "Requests answered in the window.", String(total.answered))
                gauge("flywheel_window_negative_requests", "Answered requests with a negative outcome.", String(total.negative))
                gauge("flywheel_window_negative_rate", "Negative requests / answered requests.", number(total.negativeRate))
                gauge("flywheel_window_new_samples", "Training samples about answers in the window.", String(total.newSamples))
                gauge("flywheel_window_approved_samples", "Of those, the samples approved or fixed.", String(total.approvedSamples))
                gauge("flywheel_window_conversion_rate", "Approved samples / (explicit feedback + implicit signals).", number(total.conversionRate))
                gauge("flywheel_window_review_actions", "Review decisions made in the window (undos not counted).", String(total.reviewActions))
                gauge("flywheel_review_waiting_samples", "Samples waiting for a review decision.", String(waiting), labels: "")
                gauge("flywheel_review_oldest_pending_age_seconds", "Age of the sample waiting longest (0 when none waits).",
                      String(age ?? 0), labels: "")
                print(out, terminator: "")
            case .table:
                print("flywheel metrics by \(bucket.rawValue), \(describe(w))")
                var t = TextTable(headers: [bucket == .day ? "day" : "hour (UTC)", "feedback", "signals", "answered", "negative", "neg.rate",
                                            "samples", "approved", "conv.", "reviews"],
                                  widths: [bucket == .day ? 10 : 16, 8, 7, 8, 8, 8, 7, 8, 6, 7])
                func cells(_ label: String, _ p: MetricPoint) -> [String] {
                    [label, right(String(p.explicitFeedback), 8), right(String(p.implicitSignals), 7), right(String(p.answered), 8),
                     right(String(p.negative), 8), right(p.answered > 0 ? CategoryBreakdown.percent(p.negativeRate) : "-", 8),
                     right(String(p.newSamples), 7), right(String(p.approvedSamples), 8),
                     right(p.explicitFeedback + p.implicitSignals > 0 ? CategoryBreakdown.percent(p.conversionRate) : "-", 6),
                     right(String(p.reviewActions), 7)]
                }
                for p in points {
                    let stamp = Timestamp.format(millis: p.start)
                    t.add(cells(bucket == .day ? String(stamp.prefix(10)) : String(stamp.prefix(16)).replacingOccurrences(of: "T", with: " "), p))
                }
                t.add(cells("total", total))
                print(t.render())
                if points.count > 1 {
                    print("trend, one character per \(bucket.rawValue):")
                    for (name, values) in [("feedback", points.map { Double($0.explicitFeedback) }), ("signals", points.map { Double($0.implicitSignals) }),
                                           ("negative rate", points.map(\.negativeRate)), ("new samples", points.map { Double($0.newSamples) }),
                                           ("reviews", points.map { Double($0.reviewActions) })] {
                        print("  " + name.padding(toLength: 14, withPad: " ", startingAt: 0) + Series.sparkline(values))
                    }
                }
                let day = MetricBucket.day.millis
                let lastDay = try store.reviewActionCount(InsightWindow(since: now - day, until: now + 1))
                let lastWeek = try store.reviewActionCount(InsightWindow(since: now - 7 * day, until: now + 1))
                print("review decisions by the clock: \(lastDay) in the last 24 h, \(lastWeek) in the last 7 days")
                if let oldest {
                    print("review backlog: \(waiting) samples waiting; the oldest, #\(oldest.id), since \(Timestamp.format(millis: oldest.createdAt)) (\(duration(age ?? 0)) ago)")
                } else {
                    print("review backlog: no samples waiting")
                }
            }
        }
    }

    /// "3 d 4 h", "2 h 5 min", "40 s".
    func duration(_ seconds: Int64) -> String {
        if seconds >= 86_400 { return "\(seconds / 86_400) d \(seconds % 86_400 / 3600) h" }
        if seconds >= 3600 { return "\(seconds / 3600) h \(seconds % 3600 / 60) min" }
        if seconds >= 60 { return "\(seconds / 60) min" }
        return "\(seconds) s"
    }
}

extension MetricBucket: ExpressibleByArgument {}

import Foundation
import FlywheelStore
import Testing

// flywheel patterns, plan, ab and metrics on the demo database (May 2026: 216 samples, 56 of them image tags, 990 answered requests).

private func json(_ out: Output) throws -> [String: Any] {
    try #require(out.status == 0, "exit \(out.status): \(out.stderr)")
    return try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any], "not one JSON object: \(out.stdout)")
}

private func objects(_ value: Any?) -> [[String: Any]] { value as? [[String: Any]] ?? [] }

@Suite(.serialized) struct InsightsCLITests {
    static let db: String = {
        let db = tempDir() + "/demo.sqlite"
        _ = try? flywheel(["demo", "--db", db, "--no-console"])
        return db
    }()

    /// The demo's last 30 days: its newest answer is on 2026-05-28.
    static let window = ["since": "2026-04-29T00:00:00Z", "until": "2026-05-29T00:00:00Z"]

    // MARK: patterns

    @Test func patternsByTaskTypeAgreesWithTheStore() throws {
        let out = try json(try flywheel(["patterns", "--db", Self.db, "--format", "json"]))
        #expect(out["window"] as? [String: String] == Self.window)
        #expect(out["by"] as? String == "task")
        #expect(out["total"] as? Int == 216)
        let groups = objects(out["groups"])
        #expect(groups.map { $0["task_type"] as? String } == ["vqa", "tags", "extraction"])
        #expect(groups.map { $0["total"] as? Int } == [122, 56, 38])
        let extraction = objects(groups[2]["categories"])
        #expect(extraction.first?["category"] as? String == "format_error")
        #expect(extraction.first?["count"] as? Int == 29)
        #expect(abs((extraction.first?["share"] as? Double ?? 0) - 29.0 / 38.0) < 1e-12)
        // Shares within a group add up to 1; counts agree with the store's breakdown.
        for g in groups {
            let cells = objects(g["categories"])
            #expect(abs(cells.reduce(0) { $0 + ($1["share"] as? Double ?? 0) } - 1) < 1e-9)
            #expect(cells.reduce(0) { $0 + ($1["count"] as? Int ?? 0) } == g["total"] as? Int)
        }
        let store = try Store.open(path: Self.db)
        let w = try #require(try store.defaultInsightWindow(days: 30))
        let rows = try store.categoryBreakdown(w)
        #expect(rows.reduce(0) { $0 + $1.count } == 216)
        #expect(rows.filter { $0.taskType == "extraction" && $0.category == "format_error" }.reduce(0) { $0 + $1.count } == 29)

        let table = try flywheel(["patterns", "--db", Self.db])
        #expect(table.status == 0)
        #expect(table.stdout.hasPrefix("samples by error category, 2026-04-29 to 2026-05-28 (30 days), by task type: 216 samples\n"))
        #expect(table.stdout.contains("extraction        format_error                     29   76.3%"))
        #expect(table.stdout.contains("vqa               all                             122   56.5%"))
    }

    @Test func patternsByOtherDimensionsAndFilters() throws {
        let byPrompt = try json(try flywheel(["patterns", "--db", Self.db, "--format", "json", "--by", "prompt"]))
        let prompts = objects(byPrompt["groups"]).compactMap { $0["prompt_version"] as? String }
        #expect(Set(prompts) == ["vqa-v1", "vqa-v2", "vqa-v3", "extract-v1", "tags-v1", "tags-v2"])
        #expect(byPrompt["total"] as? Int == 216)
        let byCategory = try json(try flywheel(["patterns", "--db", Self.db, "--format", "json", "--by", "category"]))
        #expect(objects(byCategory["groups"]).count == 1)
        #expect(objects(byCategory["groups"])[0]["total"] as? Int == 216)
        // Filters narrow the breakdown: vqa by model.
        let vqa = try json(try flywheel(["patterns", "--db", Self.db, "--format", "json", "--by", "model", "--task", "vqa"]))
        #expect(vqa["total"] as? Int == 122)
        #expect(Set(objects(vqa["groups"]).compactMap { $0["model"] as? String }) == ["vlm-prod", "vlm-canary"])
        // One week, one day.
        let week = try json(try flywheel(["patterns", "--db", Self.db, "--format", "json", "--days", "7"]))
        #expect(week["window"] as? [String: String] == ["since": "2026-05-22T00:00:00Z", "until": "2026-05-29T00:00:00Z"])
        let oneDay = try json(try flywheel(["patterns", "--db", Self.db, "--format", "json", "--since", "2026-05-20", "--until", "2026-05-20"]))
        #expect(oneDay["window"] as? [String: String] == ["since": "2026-05-20T00:00:00Z", "until": "2026-05-21T00:00:00Z"])
        let total = { (o: [String: Any]) in o["total"] as? Int ?? -1 }
        #expect(total(oneDay) > 0 && total(oneDay) < total(week) && total(week) < 216)
        let before = try flywheel(["patterns", "--db", Self.db, "--until", "2026-04-30"])
        #expect(before.status == 0)
        #expect(before.stdout.contains("No samples in this window."))
    }

    @Test func patternsDrillDownListsTheCellsSamples() throws {
        let out = try json(try flywheel(["patterns", "--db", Self.db, "--format", "json", "--task", "extraction", "--category", "format_error",
                                         "--samples", "5"]))
        let samples = objects(out["samples"])
        #expect(samples.count == 5)
        #expect(samples.allSatisfy { $0["task_type"] as? String == "extraction" && $0["category"] as? String == "format_error" })
        let all = try json(try flywheel(["patterns", "--db", Self.db, "--format", "json", "--task", "extraction", "--category", "format_error",
                                         "--samples", "100"]))
        #expect(objects(all["samples"]).count == 29)
        let table = try flywheel(["patterns", "--db", Self.db, "--prompt", "vqa-v1", "--category", "hallucination", "--samples", "3"])
        #expect(table.status == 0)
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.count == 5)  // header, rule, 3 samples
        #expect(lines.dropFirst(2).allSatisfy { $0.contains("vqa-v1") && $0.contains("hallucination") })
        let none = try flywheel(["patterns", "--db", Self.db, "--model", "no-such-model", "--samples", "3"])
        #expect(none.stdout.hasPrefix("No samples match"))
    }

    @Test func windowAndOptionErrorsAreUsageErrors() throws {
        for args in [["--since", "May 1"], ["--until", "2026-13-01"], ["--since", "2026-05-10", "--until", "2026-05-01"], ["--days", "0"],
                     ["--since", "2026-05-01", "--until", "2026-05-02", "--days", "3"], ["--category", "typo"], ["--by", "colour"],
                     ["--samples", "0"]] {
            let r = try flywheel(["patterns", "--db", Self.db] + args)
            #expect(r.status == 64, "\(args): \(r.status) \(r.stderr)")
        }
        let late = try flywheel(["patterns", "--db", Self.db, "--since", "2026-06-01"])
        #expect(late.status == 64)
        #expect(late.stderr.contains("after the newest sample"))
    }

    // MARK: plan

    @Test func planOnTheDemo() throws {
        let table = try flywheel(["plan", "--db", Self.db])
        #expect(table.status == 0)
        #expect(table.stdout.hasPrefix("improvement plan, 2026-04-29 to 2026-05-28 (30 days): 216 samples\n"))
        #expect(table.stdout.contains("extraction        revise the prompt          format_error is 76.3% (29 of 38 samples) > 30%"))
        #expect(table.stdout.contains("vqa               no action needed           no threshold crossed; largest: number_misread is 42.6% (52 of 122 samples)"))
        // Image tags: half visual errors, but far fewer than the 500 samples fine-tuning needs.
        #expect(table.stdout.contains("tags              no action needed           visual_understanding_error is 50% (28 of 56 samples) > 40%, but 56 samples < 500 needed to fine-tune"))

        let out = try json(try flywheel(["plan", "--db", Self.db, "--format", "json"]))
        #expect(out["thresholds"] as? [String: Double] == ["format_error_share": 0.3, "knowledge_error_share": 0.3, "visual_error_share": 0.4,
                                                           "visual_min_samples": 500])
        let actions = objects(out["actions"])
        #expect(actions.map { $0["task_type"] as? String } == ["extraction", "tags", "vqa"])
        #expect(actions.map { $0["action"] as? String } == ["revise_prompt", "no_action_needed", "no_action_needed"])
        #expect(actions[0]["count"] as? Int == 29 && actions[0]["total"] as? Int == 38 && abs((actions[0]["share"] as? Double ?? 0) - 29.0 / 38.0) < 1e-12)
        #expect(actions[0]["threshold"] as? Double == 0.3)
    }

    @Test func planThresholdsAreConfigurable() throws {
        // 29 of 38 (76.3%) is not above 29/38, and is above just under it.
        let high = try json(try flywheel(["plan", "--db", Self.db, "--format", "json", "--format-threshold", String(29.0 / 38.0)]))
        #expect(objects(high["actions"]).first?["action"] as? String == "no_action_needed")
        let low = try json(try flywheel(["plan", "--db", Self.db, "--format", "json", "--format-threshold", "0.763"]))
        #expect(objects(low["actions"]).first?["action"] as? String == "revise_prompt")
        // vqa: 17 of 122 visual errors (13.9%).
        let fine = try flywheel(["plan", "--db", Self.db, "--visual-threshold", "0.13", "--visual-min-samples", "122"])
        #expect(fine.stdout.contains("vqa               fine-tune                  visual_understanding_error is 13.9% (17 of 122 samples) > 13%, and 122 samples >= 122"))
        let few = try flywheel(["plan", "--db", Self.db, "--visual-threshold", "0.13", "--visual-min-samples", "123"])
        #expect(few.stdout.contains("but 122 samples < 123 needed to fine-tune"))
        #expect(try flywheel(["plan", "--db", Self.db, "--format-threshold", "30"]).status == 64)
        let empty = try flywheel(["plan", "--db", Self.db, "--until", "2026-04-30"])
        #expect(empty.stdout.contains("no negative samples"))
    }

    // MARK: ab

    @Test func abListsEveryVersion() throws {
        let out = try json(try flywheel(["ab", "--db", Self.db, "--format", "json"]))
        #expect(out["window"] is NSNull)
        let versions = objects(out["versions"])
        #expect(versions.map { $0["prompt_version"] as? String } == ["extract-v1", "vqa-v1", "vqa-v2", "vqa-v3"])
        #expect(versions.map { $0["answered"] as? Int } == [73, 186, 345, 386])
        #expect(versions.map { $0["negative"] as? Int } == [26, 21, 50, 39])
        for v in versions {
            let rate = v["negative_rate"] as? Double ?? -1, low = v["ci95_low"] as? Double ?? 2, high = v["ci95_high"] as? Double ?? -1
            #expect(low < rate && rate < high)
        }
        // Wilson interval of 50/345 (statsmodels).
        #expect(abs((versions[2]["ci95_low"] as? Double ?? 0) - 0.1116900581899048) < 1e-12)
        #expect(abs((versions[2]["ci95_high"] as? Double ?? 0) - 0.18598516416395267) < 1e-12)
        let store = try Store.open(path: Self.db)
        #expect(try store.promptOutcomes(nil).map(\.answered) == [73, 186, 345, 386])

        let table = try flywheel(["ab", "--db", Self.db])
        #expect(table.stdout.contains("vqa-v2            vqa                345        50   14.5%  11.2%–18.6%"))
        let may = try json(try flywheel(["ab", "--db", Self.db, "--format", "json", "--since", "2026-05-20"]))
        #expect(may["window"] as? [String: String] == ["since": "2026-05-20T00:00:00Z", "until": "2026-05-29T00:00:00Z"])
        #expect(objects(may["versions"]).reduce(0) { $0 + ($1["answered"] as? Int ?? 0) } < 990)
    }

    @Test func abComparesTwoVersions() throws {
        let out = try json(try flywheel(["ab", "--db", Self.db, "--format", "json", "vqa-v2", "vqa-v3"]))
        let test = try #require(out["test"] as? [String: Any])
        #expect(test["a"] as? String == "vqa-v2" && test["b"] as? String == "vqa-v3")
        // statsmodels proportions_ztest([39, 50], [386, 345]).
        #expect(abs((test["z"] as? Double ?? 0) - -1.811663300442486) < 1e-12)
        #expect(abs((test["p_value"] as? Double ?? 0) - 0.07003823754740489) < 1e-12)
        #expect(test["verdict"] as? String == "not_enough_data")
        #expect(test["more_requests_needed"] as? Int == 1100)
        #expect(test["required_per_version"] as? Int == 878)
        #expect(test["text"] as? String == "not enough data: about 1100 more requests needed")

        let table = try flywheel(["ab", "--db", Self.db, "vqa-v2", "vqa-v3"])
        #expect(table.stdout.contains("vqa-v3 vs vqa-v2: -4.4 points, z = -1.81, p = 0.0700\n"))
        #expect(table.stdout.hasSuffix("verdict: not enough data: about 1100 more requests needed\n"))
        let mixed = try flywheel(["ab", "--db", Self.db, "extract-v1", "vqa-v1"])
        #expect(mixed.stdout.contains("note: extract-v1 is for extraction, vqa-v1 for vqa"))
        #expect(mixed.stdout.contains("verdict: vqa-v1 better"))

        let unknown = try flywheel(["ab", "--db", Self.db, "vqa-v2", "vqa-v9"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("prompt version vqa-v9 answered no requests"))
        #expect(try flywheel(["ab", "--db", Self.db, "vqa-v2"]).status == 64)
    }

    // MARK: metrics

    @Test func metricsDailyAndHourly() throws {
        let out = try json(try flywheel(["metrics", "--db", Self.db, "--format", "json"]))
        #expect(out["window"] as? [String: String] == Self.window)
        let points = objects(out["points"])
        #expect(points.count == 30)
        #expect(points.first?["start"] as? String == "2026-04-29T00:00:00Z")
        let totals = try #require(out["totals"] as? [String: Any])
        #expect(totals["explicit_feedback"] as? Int == 253)
        #expect(totals["implicit_signals"] as? Int == 196)
        #expect(totals["answered"] as? Int == 990)
        #expect(totals["new_samples"] as? Int == 216)
        #expect(totals["negative"] as? Int == 136)
        for key in ["explicit_feedback", "implicit_signals", "answered", "negative", "new_samples"] {
            #expect(points.reduce(0) { $0 + ($1[key] as? Int ?? 0) } == totals[key] as? Int, "\(key)")
        }
        #expect(out["waiting_samples"] as? Int == 216)
        #expect((out["oldest_pending_sample"] as? [String: Any])?["sample_id"] as? Int == 1)

        let hourly = try json(try flywheel(["metrics", "--db", Self.db, "--format", "json", "--bucket", "hour"]))
        #expect(objects(hourly["points"]).count == 48)
        #expect(hourly["window"] as? [String: String] == ["since": "2026-05-27T00:00:00Z", "until": "2026-05-29T00:00:00Z"])
        let daily2 = try json(try flywheel(["metrics", "--db", Self.db, "--format", "json", "--days", "2"]))
        let answered = { (o: [String: Any]) in (o["totals"] as? [String: Any])?["answered"] as? Int }
        #expect(answered(hourly) != nil && answered(hourly) == answered(daily2))

        let table = try flywheel(["metrics", "--db", Self.db])
        #expect(table.status == 0)
        #expect(table.stdout.hasPrefix("flywheel metrics by day, 2026-04-29 to 2026-05-28 (30 days)\n"))
        #expect(table.stdout.contains("\ntotal            253      196       990       136     13.7%      216         0      0%        0\n"))
        #expect(table.stdout.contains("  negative rate ▁▁"))
        #expect(table.stdout.contains("review backlog: 216 samples waiting; the oldest, #1, since "))
    }

    @Test func metricsAfterAReviewAndAsPrometheusText() throws {
        let db = tempDir() + "/demo.sqlite"
        #expect(try flywheel(["demo", "--db", db, "--no-console"]).status == 0)
        let store = try Store.open(path: db)
        let pending = try #require(try store.samples(filter: SampleFilter(states: ["pending"]), limit: 1).first)
        _ = try store.review(sampleID: pending.id, decision: .approve, reviewer: "t", now: Int64(Date().timeIntervalSince1970 * 1000))
        let out = try json(try flywheel(["metrics", "--db", db, "--format", "json"]))
        let totals = try #require(out["totals"] as? [String: Any])
        #expect(totals["approved_samples"] as? Int == 1)
        #expect(abs((totals["conversion_rate"] as? Double ?? 0) - 1.0 / (253 + 196)) < 1e-12)
        #expect(out["waiting_samples"] as? Int == 215)
        // The review happened now, outside the demo's May window; the table counts it by the clock.
        #expect(totals["review_actions"] as? Int == 0)
        let table = try flywheel(["metrics", "--db", db])
        #expect(table.stdout.contains("review decisions by the clock: 1 in the last 24 h, 1 in the last 7 days"))

        let prom = try flywheel(["metrics", "--db", db, "--format", "prometheus"])
        #expect(prom.status == 0)
        let lines = prom.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("flywheel_window_answered_requests{window=\"30d\"} 990"))
        #expect(lines.contains("flywheel_window_approved_samples{window=\"30d\"} 1"))
        #expect(lines.contains("flywheel_review_waiting_samples 215"))
        #expect(lines.contains("# TYPE flywheel_window_negative_rate gauge"))
        // Every sample line is "name{labels} value" or "name value", each metric with HELP and TYPE.
        for line in lines where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            #expect(parts.count == 2 && Double(parts[1]) != nil, "\(line)")
            let name = String(parts[0].prefix { $0 != "{" })
            #expect(lines.contains("# TYPE \(name) gauge"))
        }
    }
}

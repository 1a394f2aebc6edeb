import Foundation
import GRDB
import Testing
@testable import FlywheelCore
@testable import FlywheelStore

// The improvement loop's store queries on a small database whose every count is worked out by hand.

private let may1 = Timestamp.parseMillis("2026-05-01T00:00:00Z")!
private let hour: Int64 = 3_600_000
private let day: Int64 = 86_400_000

private func at(_ text: String) -> Int64 { Timestamp.parseMillis(text)! }

private func event(_ object: [String: Any]) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
}

/// A user turn and its answer; `extra` adds a second assistant turn two minutes later (a revision).
private func exchange(_ request: String, _ ts: String, model: String?, prompt: String?, task: String? = nil, revised: Bool = false) -> [String] {
    let t = at(ts)
    func stamp(_ ms: Int64) -> String { Timestamp.format(millis: ms) }
    var answer: [String: Any] = ["type": "turn", "event_id": "\(request)-a", "session_id": "s-\(request)", "turn_index": 1, "role": "assistant",
                                 "content": "answer", "request_id": request, "ts": stamp(t)]
    if let model { answer["model"] = model }
    if let prompt { answer["prompt_version"] = prompt }
    if let task { answer["task_type"] = task }
    var lines = [event(["type": "turn", "event_id": "\(request)-q", "session_id": "s-\(request)", "turn_index": 0, "role": "user",
                        "content": "question", "request_id": request, "ts": stamp(t - 5000)]), event(answer)]
    if revised {
        answer["event_id"] = "\(request)-a2"
        answer["turn_index"] = 2
        answer["ts"] = stamp(t + 120_000)
        lines.append(event(answer))
    }
    return lines
}

private func feedback(_ id: String, _ request: String, _ kind: String, _ ts: String) -> String {
    var object: [String: Any] = ["type": "feedback", "event_id": id, "request_id": request, "kind": kind, "ts": ts]
    if kind == "correction" { object["corrected_response"] = "right" }
    return event(object)
}

private func turnID(_ store: Store, _ eventID: String) throws -> Int64 {
    try store.writer.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM events WHERE event_id = ?", arguments: [eventID])! }
}

private func sample(_ request: String, _ source: SampleSource, _ category: ErrorCategory, state: SampleState = .pending, task: String = "vqa",
                    model: String?, prompt: String?, answerTurn: Int64? = nil) -> NewSample {
    NewSample(source: source, quality: .high, state: state, taskType: task, question: "q", wrongAnswer: "w", correctAnswer: "c",
              category: category, sessionID: "s-\(request)", requestID: request, questionTurnID: nil, answerTurnID: answerTurn,
              imageID: nil, evidence: nil, extraction: nil, model: model, promptVersion: prompt)
}

/// Requests (answer times), all in May 2026 unless said:
///   r1 May 1 01:00 m1 vqa-v1, thumbs_down          r2 May 1 02:00 m1 vqa-v1, thumbs_up
///   r3 May 2 10:00 m2 vqa-v2, correction signal (evidence turn 10:01)
///   r4 May 2 11:00 m2 vqa-v2, correction feedback and a correction signal
///   r5 May 3 00:30 m1 vqa-v2, repeated_question only    r6 May 3 05:00 and 05:02 m1 extract-v1, thumbs_down
///   r7 Apr 20 m1 vqa-v1, thumbs_down (before the window)  r8 May 2 12:00, no model or prompt version
/// Samples (ids 1-8): S1 r1 number_misread (approved by review on May 3 06:00), S2 r3 hallucination (no answer
/// turn link; rejected on May 3 07:00, then undone), S3 r4 number_misread approved, S4 r4 number_misread rejected,
/// S5 r6 extraction format_error (linked to the first answer), S6 r7 number_misread (created Apr 21), S7 "ghost"
/// unknown with no turns (created May 3 12:00), S8 r3 hallucination fixed.
private func fixture(_ store: Store) throws -> (sampleIDs: [Int64], window: InsightWindow) {
    var lines: [String] = []
    lines += exchange("r1", "2026-05-01T01:00:00Z", model: "m1", prompt: "vqa-v1")
    lines += exchange("r2", "2026-05-01T02:00:00Z", model: "m1", prompt: "vqa-v1")
    lines += exchange("r3", "2026-05-02T10:00:00Z", model: "m2", prompt: "vqa-v2", task: "vqa")
    lines.append(event(["type": "turn", "event_id": "r3-wrong", "session_id": "s-r3", "turn_index": 2, "role": "user", "content": "wrong",
                        "request_id": "r3b", "ts": "2026-05-02T10:01:00Z"]))
    lines += exchange("r4", "2026-05-02T11:00:00Z", model: "m2", prompt: "vqa-v2", task: "vqa")
    lines += exchange("r5", "2026-05-03T00:30:00Z", model: "m1", prompt: "vqa-v2", task: "vqa")
    lines += exchange("r6", "2026-05-03T05:00:00Z", model: "m1", prompt: "extract-v1", task: "extraction", revised: true)
    lines += exchange("r7", "2026-04-20T08:00:00Z", model: "m1", prompt: "vqa-v1")
    lines += exchange("r8", "2026-05-02T12:00:00Z", model: nil, prompt: nil)
    lines += [feedback("f1", "r1", "thumbs_down", "2026-05-01T01:00:10Z"), feedback("f2", "r2", "thumbs_up", "2026-05-01T02:00:10Z"),
              feedback("f3", "r4", "correction", "2026-05-02T11:00:30Z"), feedback("f4", "r6", "thumbs_down", "2026-05-03T05:03:00Z"),
              feedback("f5", "r7", "thumbs_down", "2026-04-20T08:01:00Z")]
    #expect(try insert(store, lines).ingested == lines.count)

    func signal(_ request: String, _ kind: SignalKind, evidence: Int64? = nil) -> NewSignal {
        NewSignal(sessionID: "s-\(request)", requestID: request, kind: kind, confidence: 0.9, rule: "r", evidence: "e", evidenceTurnID: evidence)
    }
    _ = try store.recordAnalyses([
        .init(sessionID: "s-r3", signals: [signal("r3", .correction, evidence: try turnID(store, "r3-wrong"))], samples: []),
        .init(sessionID: "s-r4", signals: [signal("r4", .correction)], samples: []),
        .init(sessionID: "s-r5", signals: [signal("r5", .repeatedQuestion)], samples: []),
        // No turns at all: placed at its created_at.
        .init(sessionID: "s-ghost", signals: [signal("ghost", .slowResponse)], samples: []),
    ], now: at("2026-05-03T20:00:00Z"))

    let created = at("2026-05-03T12:00:00Z")
    var ids: [Int64] = []
    func add(_ s: NewSample, now: Int64 = created) throws {
        #expect(try store.insertSamples([s], now: now) == 1)
        ids.append(try store.writer.read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM training_samples")! })
    }
    try add(sample("r1", .thumbsDown, .numberMisread, model: "m1", prompt: "vqa-v1", answerTurn: try turnID(store, "r1-a")))
    try add(sample("r3", .implicitCorrection, .hallucination, model: "m2", prompt: "vqa-v2"))
    try add(sample("r4", .userCorrection, .numberMisread, state: .approved, model: "m2", prompt: "vqa-v2", answerTurn: try turnID(store, "r4-a")))
    try add(sample("r4", .implicitCorrection, .numberMisread, state: .rejected, model: "m2", prompt: "vqa-v2", answerTurn: try turnID(store, "r4-a")))
    try add(sample("r6", .thumbsDown, .formatError, task: "extraction", model: "m1", prompt: "extract-v1", answerTurn: try turnID(store, "r6-a")))
    try add(sample("r7", .thumbsDown, .numberMisread, model: "m1", prompt: "vqa-v1", answerTurn: try turnID(store, "r7-a")),
            now: at("2026-04-21T00:00:00Z"))
    try add(sample("ghost", .thumbsDown, .unknown, model: nil, prompt: nil))
    try add(sample("r3", .userCorrection, .hallucination, state: .fixed, model: "m2", prompt: "vqa-v2"))

    _ = try store.review(sampleID: ids[0], decision: .approve, reviewer: "ann", now: at("2026-05-03T06:00:00Z"))
    let rejected = try store.review(sampleID: ids[1], decision: .reject, reviewer: "ann", now: at("2026-05-03T07:00:00Z"))
    _ = try store.undo(rejected, reviewer: "ann", now: at("2026-05-03T07:30:00Z"))
    return (ids, InsightWindow(since: may1, until: may1 + 3 * day))
}

@Suite struct InsightsQueriesTests {
    @Test func defaultWindowEndsWithTheNewestSamplesDay() throws {
        try withEachStore { store in
            #expect(try store.defaultInsightWindow(days: 30) == nil)
            _ = try fixture(store)
            // The newest sample time is S7's created_at, May 3 12:00.
            #expect(try store.defaultInsightWindow(days: 30) == InsightWindow(since: may1 + 3 * day - 30 * day, until: may1 + 3 * day))
            #expect(try store.defaultInsightWindow(days: 1) == InsightWindow(since: may1 + 2 * day, until: may1 + 3 * day))
            #expect(InsightWindow.days(2, endingWithDayOf: may1 + 3 * day) == InsightWindow(since: may1 + 2 * day, until: may1 + 4 * day))
        }
    }

    @Test func breakdownUsesEventTimesAndLeavesOutRejected() throws {
        try withEachStore { store in
            let (_, w) = try fixture(store)
            #expect(try store.categoryBreakdown(w) == [
                BreakdownRow(taskType: "extraction", model: "m1", promptVersion: "extract-v1", category: "format_error", count: 1),
                BreakdownRow(taskType: "vqa", model: nil, promptVersion: nil, category: "unknown", count: 1),
                BreakdownRow(taskType: "vqa", model: "m1", promptVersion: "vqa-v1", category: "number_misread", count: 1),
                BreakdownRow(taskType: "vqa", model: "m2", promptVersion: "vqa-v2", category: "hallucination", count: 2),
                BreakdownRow(taskType: "vqa", model: "m2", promptVersion: "vqa-v2", category: "number_misread", count: 1),
            ])
            // Widened to April: S6 (r7, Apr 20) comes in; it was created Apr 21, but its answer's time counts.
            let april = try store.categoryBreakdown(InsightWindow(since: at("2026-04-20T00:00:00Z"), until: at("2026-04-21T00:00:00Z")))
            #expect(april == [BreakdownRow(taskType: "vqa", model: "m1", promptVersion: "vqa-v1", category: "number_misread", count: 1)])
            // S2 has no answer-turn link: it is placed at r3's answer (May 2 10:00), so one hour holds S2 and S8.
            let tenOClock = InsightWindow(since: at("2026-05-02T10:00:00Z"), until: at("2026-05-02T11:00:00Z"))
            #expect(try store.categoryBreakdown(tenOClock).map(\.count) == [2])
            // S5 is linked to r6's first answer (05:00), not the revision (05:02).
            let five = InsightWindow(since: at("2026-05-03T05:00:00Z"), until: at("2026-05-03T05:01:00Z"))
            #expect(try store.categoryBreakdown(five).map(\.category) == ["format_error"])
            // The end is excluded.
            #expect(try store.categoryBreakdown(InsightWindow(since: may1, until: at("2026-05-01T01:00:00Z"))).isEmpty)
        }
    }

    @Test func drillDownNewestFirst() throws {
        try withEachStore { store in
            let (ids, w) = try fixture(store)
            let all = try store.samples(in: w, taskType: nil, model: nil, promptVersion: nil, category: nil, limit: 100)
            // S7 (May 3 12:00), S5 (05:00), S3 (May 2 11:00), S8 and S2 (both r3, 10:00: higher id first), S1 (May 1).
            #expect(all.map(\.id) == [ids[6], ids[4], ids[2], ids[7], ids[1], ids[0]])
            let cell = try store.samples(in: w, taskType: "vqa", model: "m2", promptVersion: "vqa-v2", category: "hallucination", limit: 10)
            #expect(cell.map(\.id) == [ids[7], ids[1]])
            #expect(cell.allSatisfy { $0.model == "m2" && $0.promptVersion == "vqa-v2" && $0.category == "hallucination" })
            #expect(try store.samples(in: w, taskType: "vqa", model: "m2", promptVersion: nil, category: nil, limit: 1).map(\.id) == [ids[2]])
            #expect(try store.samples(in: w, taskType: "extraction", model: nil, promptVersion: nil, category: nil, limit: 5).map(\.id) == [ids[4]])
            // Rejected S4 never shows; nor does anything with limit 0.
            #expect(try store.samples(in: w, taskType: nil, model: nil, promptVersion: nil, category: "number_misread", limit: 9).map(\.id)
                    == [ids[2], ids[0]])
            #expect(try store.samples(in: w, taskType: nil, model: nil, promptVersion: nil, category: nil, limit: 0).isEmpty)
        }
    }

    @Test func promptOutcomesCountDistinctRequests() throws {
        try withEachStore { store in
            let (_, w) = try fixture(store)
            // r6 has two assistant turns: one request. r4 has feedback and a signal: one negative. r5's repeated question
            // and r2's thumbs up are not negative.
            #expect(try store.promptOutcomes(nil) == [
                PromptOutcome(promptVersion: "extract-v1", taskType: "extraction", answered: 1, negative: 1),
                PromptOutcome(promptVersion: "vqa-v1", taskType: "vqa", answered: 3, negative: 2),
                PromptOutcome(promptVersion: "vqa-v2", taskType: "vqa", answered: 3, negative: 2),
            ])
            // In May only: r7 (April) drops out of vqa-v1.
            #expect(try store.promptOutcomes(w) == [
                PromptOutcome(promptVersion: "extract-v1", taskType: "extraction", answered: 1, negative: 1),
                PromptOutcome(promptVersion: "vqa-v1", taskType: "vqa", answered: 2, negative: 1),
                PromptOutcome(promptVersion: "vqa-v2", taskType: "vqa", answered: 3, negative: 2),
            ])
            #expect(try store.promptOutcomes(w)[1].proportion == Proportion(successes: 1, trials: 2))
            #expect(try store.registeredTaskTypes() == ["extraction", "vqa"])
            // Without a registered task type, the one the turns carry (vqa-v2's say vqa, vqa-v1's say nothing).
            try store.writer.write { db in try db.execute(sql: "UPDATE prompt_versions SET task_type = NULL WHERE name IN ('vqa-v1', 'vqa-v2')") }
            #expect(try store.promptOutcomes(w).map(\.taskType) == ["extraction", nil, "vqa"])
            #expect(try store.promptOutcomes(InsightWindow(since: 0, until: 1)).isEmpty)
            #expect(try store.registeredTaskTypes() == ["extraction"])
        }
    }

    @Test func dailyMetricSeries() throws {
        try withEachStore { store in
            let (_, w) = try fixture(store)
            let points = try store.metricSeries(w, bucket: .day)
            #expect(points.map(\.start) == [may1, may1 + day, may1 + 2 * day])
            #expect(points.map(\.explicitFeedback) == [2, 1, 1])
            // r3 at its evidence turn, r4 and r5 at their answers, the ghost's at its created_at (May 3 20:00).
            #expect(points.map(\.implicitSignals) == [0, 2, 2])
            #expect(points.map(\.answered) == [2, 3, 2])
            #expect(points.map(\.negative) == [1, 2, 1])
            #expect(points.map(\.newSamples) == [1, 4, 2])
            #expect(points.map(\.approvedSamples) == [1, 2, 0])
            // Approve and reject on May 3; the undo is not counted.
            #expect(points.map(\.reviewActions) == [0, 0, 2])
            #expect(points[1].negativeRate == 2.0 / 3)
            #expect(points[1].conversionRate == 2.0 / 3)
            #expect(points[0].conversionRate == 0.5)
            let total = MetricPoint.total(points)
            #expect(total == MetricPoint(start: may1, explicitFeedback: 4, implicitSignals: 4, answered: 7, negative: 4, newSamples: 7,
                                         approvedSamples: 3, reviewActions: 2))
            #expect(MetricPoint(start: 0).negativeRate == 0 && MetricPoint(start: 0).conversionRate == 0)
            #expect(try store.reviewActionCount(w) == 2)
            #expect(try store.reviewActionCount(InsightWindow(since: 0, until: at("2026-05-03T06:00:00Z"))) == 0)
        }
    }

    @Test func hourlyMetricSeriesAndPartialBuckets() throws {
        try withEachStore { store in
            _ = try fixture(store)
            let ten = at("2026-05-02T10:00:00Z")
            let points = try store.metricSeries(InsightWindow(since: ten, until: ten + 2 * hour), bucket: .hour)
            #expect(points == [
                MetricPoint(start: ten, explicitFeedback: 0, implicitSignals: 1, answered: 1, negative: 1, newSamples: 2, approvedSamples: 1,
                            reviewActions: 0),
                MetricPoint(start: ten + hour, explicitFeedback: 1, implicitSignals: 1, answered: 1, negative: 1, newSamples: 2,
                            approvedSamples: 1, reviewActions: 0),
            ])
            // A window starting mid-hour keeps the hour, counting only what is inside the window.
            let half = try store.metricSeries(InsightWindow(since: ten + hour / 2, until: ten + 2 * hour), bucket: .hour)
            #expect(half.map(\.start) == [ten, ten + hour])
            #expect(half.map(\.answered) == [0, 1])
            #expect(try store.metricSeries(InsightWindow(since: ten, until: ten), bucket: .day).isEmpty)
        }
    }

    @Test func oldestPendingSample() throws {
        try withEachStore { store in
            #expect(try store.oldestPendingSample() == nil)
            let (ids, _) = try fixture(store)
            // Waiting: S2 (the reject was undone), S5, S6, S7; S6 was created first.
            let oldest = try #require(try store.oldestPendingSample())
            #expect(oldest.id == ids[5] && oldest.createdAt == at("2026-04-21T00:00:00Z"))
        }
    }

    /// Negatives are looked up from the negative requests through turns_request, and a sample's time through
    /// the primary key and turns_request: no scan of turns per row.
    @Test func queryPlansStayLinear() throws {
        try withEachStore { store in
            _ = try fixture(store)
            try store.writer.read { db in
                let plan = try Row.fetchAll(db, sql: """
                    EXPLAIN QUERY PLAN WITH \(Store.negativeRequests)
                    SELECT t.prompt_version, count(DISTINCT t.request_id) FROM negative n JOIN turns t ON t.request_id = n.request_id
                    WHERE t.role = 'assistant' GROUP BY t.prompt_version
                    """).map { $0["detail"] as String }
                #expect(plan.contains { $0.contains("SEARCH t USING INDEX turns_request") }, "\(plan)")
                let sampleTimes = try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT \(Store.sampleTime) FROM training_samples s")
                    .map { $0["detail"] as String }
                #expect(!sampleTimes.contains { $0.hasPrefix("SCAN turns") || $0.hasPrefix("SCAN a") }, "\(sampleTimes)")
            }
        }
    }
}

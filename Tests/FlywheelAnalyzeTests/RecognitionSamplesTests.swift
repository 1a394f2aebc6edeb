import Foundation
import GRDB
import Testing
@testable import FlywheelAnalyze
@testable import FlywheelCore
@testable import FlywheelIngest
@testable import FlywheelStore

// Recognitions with feedback -> tags samples; format_error logs -> samples; unlabelled turns -> annotation tasks.

private func ts(_ minute: Int) -> String { String(format: "2026-05-01T01:%02d:00Z", minute) }

private func recognition(_ id: String, _ tags: [(String, Double)], minute: Int = 0, session: String? = nil) -> String {
    let list = tags.map { #"{"tag":"\#($0.0)","score":\#($0.1)}"# }.joined(separator: ",")
    return #"{"type":"recognition","event_id":"\#(id)","request_id":"\#(id)","user_id":"u9","ts":"\#(ts(minute))","# +
        (session.map { #""session_id":"\#($0)","# } ?? "") +
        #""image":{"ref":"images/\#(id).jpg"},"model":"ram-swin-l","prompt_version":"tags-v1","tags":[\#(list)]}"#
}

private func tagsFeedback(_ id: String, _ request: String, isCorrect: Bool?, wrong: [String], missing: [String], minute: Int = 1) -> String {
    func q(_ a: [String]) -> String { "[" + a.map { "\"\($0)\"" }.joined(separator: ",") + "]" }
    return #"{"type":"feedback","event_id":"\#(id)","request_id":"\#(request)","user_id":"u9","kind":"tags","# +
        (isCorrect.map { #""is_correct":\#($0),"# } ?? "") + #""wrong_tags":\#(q(wrong)),"missing_tags":\#(q(missing)),"ts":"\#(ts(minute))"}"#
}

private func plainFeedback(_ id: String, _ request: String, _ kind: String, minute: Int = 1) -> String {
    #"{"type":"feedback","event_id":"\#(id)","request_id":"\#(request)","kind":"\#(kind)","ts":"\#(ts(minute))"}"#
}

private func tagRows(_ s: Store, _ request: String) throws -> (SampleRow, [SampleTag]) {
    let row = try #require(try s.samples(limit: 1000).first { $0.requestID == request && $0.taskType == "tags" })
    return (row, try s.sampleTags(sampleID: row.id))
}

@Suite(.serialized) struct RecognitionSamplesTests {
    let events = [
        // The spec's example: dog wrong, bicycle missing; car stands.
        recognition("rec1", [("car", 0.93), ("dog", 0.41)]),
        tagsFeedback("f1", "rec1", isCorrect: false, wrong: ["dog"], missing: ["bicycle"]),
        // All correct.
        recognition("rec2", [("receipt", 0.89), ("paper", 0.75)], minute: 2, session: "s-rec"),
        tagsFeedback("f2", "rec2", isCorrect: true, wrong: [], missing: [], minute: 3),
        // Thumbs down only, and tags feedback that names nothing: needs an answer.
        recognition("rec3", [("sky", 0.8), ("sea", 0.6)], minute: 4),
        plainFeedback("f3", "rec3", "thumbs_down", minute: 5),
        recognition("rec4", [("tree", 0.7)], minute: 6),
        tagsFeedback("f4", "rec4", isCorrect: false, wrong: [], missing: [], minute: 7),
        // Thumbs up only: no sample. No feedback: no sample.
        recognition("rec5", [("cat", 0.9)], minute: 8),
        plainFeedback("f5", "rec5", "thumbs_up", minute: 9),
        recognition("rec6", [("cat", 0.9)], minute: 10),
        // Both thumbs down and tags feedback (later): the tags feedback makes the one sample. A wrong tag the model
        // never predicted and a "missing" tag it did predict are ignored.
        recognition("rec7", [("road", 0.84), ("sign", 0.79), ("sidewalk", 0.66)], minute: 11),
        plainFeedback("f7a", "rec7", "thumbs_down", minute: 12),
        tagsFeedback("f7b", "rec7", isCorrect: false, wrong: ["sidewalk", "bus"], missing: ["sign", "person"], minute: 13),
    ]

    @Test func recognitionFeedbackBecomesTagsSamples() throws {
        let s = try store(events)
        let summary = try AnalysisJob(store: s).run()
        #expect(summary.newTagSamples == 5)
        #expect(summary.newSamples == 5)

        let (r1, t1) = try tagRows(s, "rec1")
        #expect([r1.source, r1.quality, r1.state, r1.category] == ["user_correction", "high", "pending", "visual_understanding_error"])
        #expect(r1.question == nil && r1.wrongAnswer == "car, dog" && r1.correctAnswer == "car, bicycle")
        #expect(r1.model == "ram-swin-l" && r1.promptVersion == "tags-v1" && r1.imageID != nil && r1.sessionID == nil)
        #expect(r1.evidence == "tags feedback: wrong dog; missing bicycle")
        #expect(t1 == [SampleTag(tag: "car", score: 0.93, verdict: "correct"), SampleTag(tag: "dog", score: 0.41, verdict: "wrong"),
                       SampleTag(tag: "bicycle", score: nil, verdict: "missing")])
        let feedbackID = try s.writer.read { db in try Int64.fetchOne(db, sql: "SELECT feedback_id FROM training_samples WHERE id = ?", arguments: [r1.id]) }
        #expect(feedbackID != nil)

        let (r2, t2) = try tagRows(s, "rec2")
        #expect([r2.source, r2.state, r2.category] == ["user_correction", "pending", "unknown"])
        #expect(r2.wrongAnswer == "receipt, paper" && r2.correctAnswer == "receipt, paper" && r2.sessionID == "s-rec")
        #expect(r2.evidence == "tags feedback: all correct")
        #expect(t2.map(\.verdict) == ["correct", "correct"])

        let (r3, t3) = try tagRows(s, "rec3")
        #expect([r3.source, r3.quality, r3.state, r3.category] == ["thumbs_down", "low", "needs_answer", "unknown"])
        #expect(r3.wrongAnswer == "sky, sea" && r3.correctAnswer == nil && r3.evidence == "thumbs down")
        #expect(t3 == [SampleTag(tag: "sky", score: 0.8, verdict: "unreviewed"), SampleTag(tag: "sea", score: 0.6, verdict: "unreviewed")])

        let (r4, t4) = try tagRows(s, "rec4")
        #expect([r4.source, r4.state] == ["thumbs_down", "needs_answer"])
        #expect(r4.evidence == "tags feedback: not correct, no tag named" && t4.map(\.verdict) == ["unreviewed"])

        let (r7, t7) = try tagRows(s, "rec7")
        #expect([r7.source, r7.state] == ["user_correction", "pending"])
        #expect(r7.correctAnswer == "road, sign, person")
        #expect(t7 == [SampleTag(tag: "road", score: 0.84, verdict: "correct"), SampleTag(tag: "sign", score: 0.79, verdict: "correct"),
                       SampleTag(tag: "sidewalk", score: 0.66, verdict: "wrong"), SampleTag(tag: "person", score: nil, verdict: "missing")])
        #expect(try s.samples(limit: 1000).filter { $0.requestID == "rec7" }.count == 1)
        #expect(try s.samples(limit: 1000).contains { $0.requestID == "rec5" || $0.requestID == "rec6" } == false)

        // Idempotent, also when everything is analysed again.
        #expect(try AnalysisJob(store: s).run().newSamples == 0)
        var all = AnalysisOptions()
        all.all = true
        #expect(try AnalysisJob(store: s, options: all).run().newSamples == 0)
        #expect(try s.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sample_tags") } == 12)  // 3 + 2 + 2 + 1 + 4

        // A reviewer's fix of a needs_answer tags sample.
        let fixed = try s.reviewTags(sampleID: r3.id, verdicts: ["sea": "wrong"], added: ["beach"], reviewer: "r", now: 1)
        #expect(fixed.after.correctAnswer == "sky, beach" && fixed.after.state == "fixed")
    }

    @Test func tagSampleIsPure() {
        let r = RecognitionForSample(recognitionID: 1, requestID: "rec1", sessionID: nil, imageID: 3, model: "m", promptVersion: "p",
                                     predicted: [SampleTag(tag: "car", score: 0.9, verdict: "unreviewed")], feedbackID: 2,
                                     feedbackKind: .tags, isCorrect: nil, wrongTags: [], missingTags: ["bicycle", "car", "bicycle"])
        let t = AnalysisJob.tagSample(r)
        #expect(t.tags == [SampleTag(tag: "car", score: 0.9, verdict: "correct"), SampleTag(tag: "bicycle", score: nil, verdict: "missing")])
        #expect(t.sample.correctAnswer == "car, bicycle" && t.sample.state == .pending && t.sample.feedbackID == 2 && t.sample.imageID == 3)
        #expect(t.sample.evidence == "tags feedback: missing bicycle")
    }

    @Test func formatErrorsBecomeSamplesCarryingTheOffendingOutput() throws {
        let s = try store([
            turn("fe", 0, "user", "请用JSON返回读数", request: 1, image: "images/meter.png"),
            turn("fe", 1, "assistant", "读数是35512。", request: 1, ms: 900),
            turn("fe", 2, "user", "谢谢", request: 2), turn("fe", 3, "assistant", "不客气", request: 2, ms: 500),
            end("fe"),
            #"{"type":"error_log","event_id":"e1","request_id":"fe-r1","kind":"format_error","detail":"expected JSON, got prose","ts":"2026-05-01T02:00:00Z"}"#,
            #"{"type":"error_log","event_id":"e1b","request_id":"fe-r1","kind":"format_error","detail":"again","ts":"2026-05-01T02:00:01Z"}"#,
            #"{"type":"error_log","event_id":"e2","request_id":"fe-r2","kind":"timeout","detail":"slow","ts":"2026-05-01T02:00:00Z"}"#,
            // No turns for this request: nothing to sample.
            #"{"type":"error_log","event_id":"e3","request_id":"ghost-r1","kind":"format_error","detail":"x","ts":"2026-05-01T02:00:00Z"}"#,
        ])
        let summary = try AnalysisJob(store: s).run()
        #expect(summary.newErrorLogSamples == 1)
        let rows = try samples(s).filter { $0.source == "error_log" }
        #expect(rows.count == 1)
        let r = try #require(rows.first)
        #expect(r.requestID == "fe-r1" && r.sessionID == "fe")
        #expect([r.quality, r.state, r.taskType, r.category] == ["medium", "needs_answer", "vqa", "format_error"])
        #expect(r.question == "请用JSON返回读数" && r.wrongAnswer == "读数是35512。" && r.correctAnswer == nil)
        #expect(r.evidence == "format_error: expected JSON, got prose")
        #expect(r.imageID != nil && r.model == "vlm-prod")
        #expect(try AnalysisJob(store: s).run().newErrorLogSamples == 0)
        #expect(SampleSource(rawValue: "error_log") == .errorLog)
    }

    @Test func aFormatErrorOnACorrectedRequestIsNotSampledTwice() throws {
        let s = try store([
            turn("fc", 0, "user", "这个数字是多少?", request: 1), turn("fc", 1, "assistant", "87", request: 1, ms: 900),
            end("fc"),
            feedback("fc-f1", "fc-r1", "correction", corrected: "78"),
            #"{"type":"error_log","event_id":"fc-e1","request_id":"fc-r1","kind":"format_error","detail":"d","ts":"2026-05-01T02:00:00Z"}"#,
        ])
        _ = try AnalysisJob(store: s).run()
        #expect(try samples(s).map(\.source) == ["user_correction"])
    }

    @Test func unlabelledTurnsAreQueuedOnce() throws {
        let s = try store([
            // Quiet exchange with an image: queued.
            turn("q", 0, "user", "What does the sign say?", request: 1, image: "images/sign.png"),
            turn("q", 1, "assistant", "It says STOP.", request: 1, ms: 800),
            turn("q", 2, "user", "And the colour?", request: 2), turn("q", 3, "assistant", "Red.", request: 2, ms: 800),
            end("q"),
            // With feedback: not queued.
            turn("w", 0, "user", "How many cats?", request: 1), turn("w", 1, "assistant", "3", request: 1, ms: 800),
            end("w"),
            feedback("w-f1", "w-r1", "thumbs_up"),
            // Still open (never analysed): not queued.
            turn("o", 0, "user", "Hi?", request: 1, ts: 4_000_000_000_000), turn("o", 1, "assistant", "Hello.", request: 1, ms: 500, ts: 4_000_000_001_000),
        ])
        #expect(try s.queueUnlabelledTurns(limit: 10, now: 5) == 0)  // nothing analysed yet
        var options = AnalysisOptions()
        options.now = 3_000_000_000_000
        _ = try AnalysisJob(store: s, options: options).run()
        #expect(try s.queueUnlabelledTurns(limit: 1, now: 5) == 1)
        #expect(try s.queueUnlabelledTurns(limit: 10, now: 6) == 1)
        #expect(try s.queueUnlabelledTurns(limit: 10, now: 7) == 0)
        let tasks = try s.nextAnnotationTasks(after: nil, limit: 10)
        #expect(tasks.map(\.question) == ["What does the sign say?", "And the colour?"])
        #expect(tasks.map(\.suggested) == ["It says STOP.", "Red."])
        #expect(tasks.allSatisfy { $0.kind == "vqa" && $0.origin == "unlabelled_turn" && $0.status == "open" })
        #expect(tasks[0].imageID != nil && tasks[1].imageID == tasks[0].imageID && tasks[0].imageRef == "images/sign.png")
        #expect(tasks[0].createdAt == 5 && tasks[1].createdAt == 6)

        // Labelling a queued turn: the sample keeps the exchange; the model's differing answer is the wrong one.
        let id = try s.annotate(taskID: tasks[0].id, answer: "It says SHOP.", tags: nil, annotator: "ann", now: 9)
        let row = try #require(try samples(s).first { $0.id == id })
        #expect(row.requestID == "q-r1" && row.sessionID == "q" && row.source == "seed_label" && row.state == "approved")
        #expect(row.question == "What does the sign say?" && row.wrongAnswer == "It says STOP." && row.correctAnswer == "It says SHOP.")
        #expect(row.model == "vlm-prod" && row.imageID == tasks[0].imageID)
        // Agreeing with the model: no wrong answer.
        let agreed = try s.annotate(taskID: tasks[1].id, answer: "Red.", tags: nil, annotator: "ann", now: 10)
        #expect(try samples(s).first { $0.id == agreed }?.wrongAnswer == nil)
    }
}

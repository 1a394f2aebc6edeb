import Foundation
import GRDB
import Testing
@testable import FlywheelCore
@testable import FlywheelStore

// Trust in end users through the store: feedback histories with reviewers' outcomes, flags, weights, holds.

private func iso(_ second: Int) -> String {
    let f = ISO8601DateFormatter()
    return f.string(from: Date(timeIntervalSince1970: 1_777_593_600 + Double(second)))
}

/// One exchange in session `s` (request `s-r`) and the user's feedback on it.
private func exchange(_ user: String, _ s: String, second: Int, feedback kind: String, correction: String? = nil) -> [String] {
    var f = #"{"type":"feedback","event_id":"\#(s)-f","session_id":"\#(s)","request_id":"\#(s)-r","user_id":"\#(user)","kind":"\#(kind)","ts":"\#(iso(second + 2))""#
    if let correction { f += #","corrected_response":"\#(correction)""# }
    return [
        #"{"type":"turn","event_id":"\#(s)-t0","session_id":"\#(s)","user_id":"\#(user)","turn_index":0,"role":"user","content":"what number?","ts":"\#(iso(second))"}"#,
        #"{"type":"turn","event_id":"\#(s)-t1","session_id":"\#(s)","user_id":"\#(user)","turn_index":1,"role":"assistant","content":"12","request_id":"\#(s)-r","prompt_version":"p1","ts":"\#(iso(second + 1))"}"#,
        f + "}",
    ]
}

/// A sample built from the feedback of session `s`; returns its id.
private func sampleFromFeedback(_ store: Store, _ s: String, answer: String? = "78") throws -> Int64 {
    let feedbackID = try store.writer.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM feedback WHERE request_id = ?", arguments: ["\(s)-r"])! }
    let n = NewSample(source: .userCorrection, quality: .high, state: answer == nil ? .needsAnswer : .pending, taskType: "vqa",
                      question: "what number?", wrongAnswer: "12", correctAnswer: answer, category: .unknown, sessionID: s,
                      requestID: "\(s)-r", questionTurnID: nil, answerTurnID: nil, imageID: nil, feedbackID: feedbackID, evidence: nil,
                      extraction: nil, model: nil, promptVersion: nil)
    _ = try store.insertSamples([n], now: 1)
    return try store.writer.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM training_samples WHERE request_id = ?", arguments: ["\(s)-r"])! }
}

@Suite struct TrustStoreTests {
    @Test func historiesCarryTheReviewersOutcome() throws {
        try withEachStore { store in
            var lines: [String] = []
            lines += exchange("u1", "a", second: 0, feedback: "correction", correction: "78")
            lines += exchange("u1", "b", second: 100, feedback: "correction", correction: "79")
            lines += exchange("u1", "c", second: 200, feedback: "thumbs_up")
            lines += exchange("u1", "d", second: 300, feedback: "thumbs_down")
            lines += exchange("u2", "e", second: 400, feedback: "thumbs_up")
            _ = try insert(store, lines)
            let a = try sampleFromFeedback(store, "a"), b = try sampleFromFeedback(store, "b")
            _ = try store.review(sampleID: a, decision: .approve, reviewer: "r", now: 2)
            _ = try store.review(sampleID: b, decision: .reject, reviewer: "r", now: 2)
            // A sample of the thumbs-up's request, from an implicit signal, fixed: the thumbs-up was wrong.
            let c = NewSample(source: .implicitCorrection, quality: .medium, state: .pending, taskType: "vqa", question: "q", wrongAnswer: "12",
                              correctAnswer: "13", category: .unknown, sessionID: "c", requestID: "c-r", questionTurnID: nil, answerTurnID: nil,
                              imageID: nil, evidence: nil, extraction: nil, model: nil, promptVersion: nil)
            _ = try store.insertSamples([c], now: 1)
            let cid = try store.writer.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM training_samples WHERE request_id = 'c-r'")! }
            _ = try store.review(sampleID: cid, decision: .fix(correctAnswer: "14"), reviewer: "r", now: 3)
            let h = try store.feedbackHistories()
            #expect(h["u1"]?.map(\.outcome) == [.agreed, .disagreed, .disagreed, .unreviewed])
            #expect(h["u2"]?.map(\.outcome) == [.unreviewed])
            // The sample carries its end user.
            #expect(try store.writer.read { db in try String.fetchOne(db, sql: "SELECT end_user FROM training_samples WHERE id = ?", arguments: [a]) } == "u1")
        }
    }

    @Test func flaggedUsersNewSamplesAreHeldAndWeighted() throws {
        try withEachStore { store in
            // u-spam: 25 thumbs-downs within a minute; three calm users.
            var lines: [String] = []
            for i in 0..<25 { lines += exchange("u-spam", "s\(i)", second: i * 2, feedback: "thumbs_down") }
            for (k, u) in ["u-a", "u-b", "u-c"].enumerated() {
                for i in 0..<3 { lines += exchange(u, "\(u)-\(i)", second: 1000 * (k + 1) + 300 * i, feedback: "correction", correction: "78") }
            }
            _ = try insert(store, lines)
            let early = try sampleFromFeedback(store, "s0")  // before the flag: not held
            let changed = try store.refreshTrust(actor: "test", now: 10)
            #expect(changed == ["u-spam"])
            let spam = try #require(try store.endUserTrust(flaggedOnly: true).first)
            #expect(spam.user == "u-spam" && spam.flagged && spam.weight == 0)
            #expect(Set(spam.flags.map(\.kind)) == [.mostlyThumbsDown, .burst])
            #expect(spam.flags.first { $0.kind == .mostlyThumbsDown }?.reason.contains("25 of 25") == true)
            // The early sample keeps its state but now weighs 0; a new one is held.
            #expect(try store.sample(id: early)?.state == "pending")
            let late = try sampleFromFeedback(store, "s1")
            #expect(try store.sample(id: late)?.state == "held")
            #expect(try store.heldSamples(limit: 10).map(\.sample.id) == [late])
            #expect(try store.reviewQueueCount() == 1)
            let weights = try store.writer.read { db in try Double.fetchAll(db, sql: "SELECT weight FROM training_samples ORDER BY id") }
            #expect(weights == [0, 0])
            // A calm user's sample is not held and weighs their (prior) score.
            let calm = try sampleFromFeedback(store, "u-a-0")
            #expect(try store.sample(id: calm)?.state == "pending")
            // Releasing puts it in the queue as it would have been; discarding rejects it. Both are audited.
            let released = try store.decideHeld(sampleID: late, release: true, by: "rev", now: 11)
            #expect(released.after.state == "pending" && released.action == "release_held")
            #expect(throws: HoldError.notHeld(late, state: "pending")) { try store.decideHeld(sampleID: late, release: false, by: "rev", now: 12) }
            let again = try sampleFromFeedback(store, "s2")
            #expect(try store.decideHeld(sampleID: again, release: false, by: "rev", now: 12).after.state == "rejected")
            let audit = try store.auditTrail(AuditFilter(entity: "end_user"), limit: 10)
            #expect(audit.map(\.action) == ["end_user_flag"])
            #expect(audit.first?.note?.contains("thumbs-down") == true)
        }
    }

    @Test func rejectedCorrectionsFlagAndAnOverrideClearsIt() throws {
        try withEachStore { store in
            try store.addTeamMember(name: "root", role: .admin, by: "root", now: 0)
            try store.addTeamMember(name: "rev", role: .reviewer, by: "root", now: 0)
            var lines: [String] = []
            for i in 0..<4 { lines += exchange("u-bad", "b\(i)", second: i * 600, feedback: "correction", correction: "x\(i)") }
            _ = try insert(store, lines)
            for i in 0..<3 { _ = try store.review(sampleID: try sampleFromFeedback(store, "b\(i)"), decision: .reject, reviewer: "rev", now: 5) }
            #expect(try store.refreshTrust(actor: "test", now: 10) == ["u-bad"])
            let bad = try #require(try store.endUserTrust().first)
            #expect(bad.flags.map(\.kind) == [.rejectedCorrections] && bad.reviewed == 3 && bad.agreed == 0)
            #expect(abs(bad.score - 1.0 / 5.0) < 1e-12)
            #expect(try store.sample(id: try sampleFromFeedback(store, "b3"))?.state == "held")
            #expect(try store.endUserTrust().first?.heldSamples == 1)
            // Only admins override; "trusted" survives the next refresh.
            #expect(throws: PermissionError.self) { try store.overrideEndUser("u-bad", to: "trusted", by: "rev", reason: nil, now: 11) }
            try store.overrideEndUser("u-bad", to: "trusted", by: "root", reason: "spoke to them", now: 11)
            #expect(try store.refreshTrust(actor: "test", now: 12).isEmpty)
            let after = try #require(try store.endUserTrust().first)
            #expect(!after.flagged && after.override == "trusted" && after.weight == after.score)
            #expect(try store.auditTrail(AuditFilter(action: "end_user_override"), limit: 5).first?.note == "spoke to them")
            // Reviewers release held feedback; annotators may not.
            try store.addTeamMember(name: "ann", role: .annotator, by: "root", now: 13)
            let held = try store.heldSamples(limit: 5).first!.sample.id
            #expect(throws: PermissionError.self) { try store.decideHeld(sampleID: held, release: true, by: "ann", now: 14) }
            try store.decideHeld(sampleID: held, release: true, by: "rev", now: 14)
        }
    }

    @Test func flaggedUsersFeedbackDoesNotMoveNegativeRatesOrPatterns() throws {
        try withEachStore { store in
            var lines: [String] = []
            for i in 0..<25 { lines += exchange("u-spam", "s\(i)", second: i * 2, feedback: "thumbs_down") }
            for i in 0..<5 { lines += exchange("u-calm", "c\(i)", second: 5000 + i * 300, feedback: i == 0 ? "thumbs_down" : "thumbs_up") }
            _ = try insert(store, lines)
            #expect(try store.promptOutcomes(nil).first?.negative == 26)
            let before = try sampleFromFeedback(store, "s0")
            try store.refreshTrust(actor: "test", now: 10)
            // Only the calm user's thumbs-down is left among the negatives; the spammer's still count as answered.
            let outcome = try #require(try store.promptOutcomes(nil).first)
            #expect(outcome.answered == 30 && outcome.negative == 1)
            // A held sample is not an error pattern; the one from before the flag still is.
            let held = try sampleFromFeedback(store, "s1")
            #expect(try store.sample(id: held)?.state == "held")
            let w = InsightWindow(since: 0, until: Int64.max / 2)
            #expect(try store.categoryBreakdown(w).reduce(0) { $0 + $1.count } == 1)
            #expect(try store.samples(in: w, taskType: nil, model: nil, promptVersion: nil, category: nil, limit: 10).map(\.id) == [before])
        }
    }
}

import Foundation
import GRDB
import Testing
@testable import FlywheelCore
@testable import FlywheelStore

// Team review in the store: users and roles, reservations, overlap votes, adjudication, the audit trail.

private func waitingSamples(_ store: Store, _ answers: [String?]) throws -> [Int64] {
    try answers.enumerated().map { i, answer in
        let s = NewSample(source: .userCorrection, quality: .high, state: answer == nil ? .needsAnswer : .pending, taskType: "vqa",
                          question: "q\(i)?", wrongAnswer: "w", correctAnswer: answer, category: .unknown, sessionID: nil,
                          requestID: "r\(i)", questionTurnID: nil, answerTurnID: nil, imageID: nil, evidence: nil, extraction: nil,
                          model: nil, promptVersion: nil)
        #expect(try store.insertSamples([s], now: 1) == 1)
        return try store.writer.read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM training_samples")! }
    }
}

private func state(_ store: Store, _ id: Int64) throws -> String? { try store.sample(id: id)?.state }

private func team(_ store: Store) throws {
    try store.addTeamMember(name: "root", role: .admin, by: "root", now: 1)
    try store.addTeamMember(name: "ann", role: .annotator, by: "root", now: 2)
    try store.addTeamMember(name: "alice", role: .reviewer, by: "root", now: 3)
    try store.addTeamMember(name: "bob", role: .reviewer, by: "root", now: 4)
    try store.addTeamMember(name: "carol", role: .reviewer, adjudicator: true, by: "root", now: 5)
    try store.addTeamMember(name: "pam", role: .pm, by: "root", now: 6)
}

@Suite struct TeamUsersTests {
    @Test func firstUserMustBeAdminAndThenOnlyAdminsManageUsers() throws {
        try withEachStore { store in
            #expect(try store.rolesEnforced() == false)
            #expect(throws: TeamError.firstUserMustBeAdmin("alice")) { try store.addTeamMember(name: "alice", role: .reviewer, by: "x", now: 1) }
            try team(store)
            #expect(try store.rolesEnforced())
            #expect(throws: PermissionError.notAllowed(try store.teamMember(named: "alice")!, action: .manageUsers)) {
                try store.addTeamMember(name: "eve", role: .admin, by: "alice", now: 9)
            }
            #expect(throws: PermissionError.unknownUser("mallory", action: .manageUsers)) {
                try store.addTeamMember(name: "eve", role: .admin, by: "mallory", now: 9)
            }
            #expect(throws: TeamError.userExists("bob")) { try store.addTeamMember(name: "bob", role: .pm, by: "root", now: 9) }
            #expect(throws: TeamError.invalidName("two words")) { try store.addTeamMember(name: "two words", role: .pm, by: "root", now: 9) }
            #expect(throws: TeamError.lastAdmin("root")) { try store.setRole(name: "root", role: .reviewer, by: "root", now: 9) }
            let bob = try store.setRole(name: "bob", role: .reviewer, adjudicator: true, by: "root", now: 10)
            #expect(bob.adjudicator && bob.may(.adjudicate))
            #expect(try store.teamMembers().map(\.name) == ["alice", "ann", "bob", "carol", "pam", "root"])
            let audit = try store.auditTrail(AuditFilter(entity: "user"), limit: 100)
            #expect(audit.count == 7)
            #expect(audit.first?.action == "user_role")
            #expect(audit.first?.before == #"{"role":"reviewer","adjudicator":false}"#)
            #expect(audit.first?.after == #"{"role":"reviewer","adjudicator":true}"#)
        }
    }

    @Test func refusalMessagesNameTheRoleThatMay() throws {
        let ann = TeamMember(name: "ann", role: .annotator, createdAt: 0)
        #expect(PermissionError.notAllowed(ann, action: .review).description
                == "ann is an annotator and may not review samples: that needs the reviewer or admin role")
        let pam = TeamMember(name: "pam", role: .pm, createdAt: 0)
        #expect(PermissionError.notAllowed(pam, action: .annotate).description
                == "pam is a pm and may not annotate: that needs the annotator, reviewer or admin role")
        #expect(PermissionError.notAllowed(pam, action: .adjudicate).description.contains("admin role, or a reviewer marked adjudicator"))
        #expect(PermissionError.unknownUser("zed", action: .export).description.contains("flywheel user add zed --role pm"))
    }

    /// Every action against every role: the table decides, and the store's check agrees with it.
    @Test func everyActionForEveryRole() throws {
        let store = try Store.inMemory()
        try team(store)
        let byRole: [TeamRole: String] = [.admin: "root", .annotator: "ann", .reviewer: "alice", .pm: "pam"]
        for action in TeamAction.allCases {
            for role in TeamRole.allCases {
                let name = byRole[role]!
                let allowed = action.allowedRoles.contains(role)
                if allowed {
                    #expect(throws: Never.self) { try store.authorize(name, action) }
                } else {
                    #expect(throws: PermissionError.self, "\(role) \(action)") { try store.authorize(name, action) }
                }
            }
        }
        // The adjudicator mark opens adjudication, and nothing else, to a reviewer.
        try store.authorize("carol", .adjudicate)
        #expect(throws: PermissionError.self) { try store.authorize("carol", .manageUsers) }
        #expect(throws: PermissionError.self) { try store.authorize("alice", .adjudicate) }
    }

    @Test func guardedWritesRefuseAndWriteNothing() throws {
        try withEachStore { store in
            try team(store)
            let ids = try waitingSamples(store, ["42", "7"])
            let before = try store.tableCounts().map(\.count)
            #expect(throws: PermissionError.self) { try store.review(sampleID: ids[0], decision: .approve, reviewer: "ann", now: 10) }
            #expect(throws: PermissionError.self) { try store.review(sampleID: ids[0], decision: .approve, reviewer: "pam", now: 10) }
            #expect(throws: PermissionError.self) { try store.review(sampleID: ids[0], decision: .approve, reviewer: "nobody", now: 10) }
            #expect(throws: PermissionError.self) { _ = try store.reserve(sampleID: ids[0], reviewer: "ann", now: 10) }
            #expect(throws: PermissionError.self) { try store.activatePromptVersion("p", by: "alice", now: 10) }
            #expect(throws: PermissionError.self) {
                try store.addPromptVersion(name: "p2", template: "t", parent: nil, author: nil, taskType: nil, now: 10, actor: "alice")
            }
            #expect(throws: PermissionError.self) { try store.setTeamSetting("review.overlap", "2", by: "pam", now: 10) }
            #expect(throws: PermissionError.self) {
                try store.recordAudit(actor: "alice", guarded: .export, action: "x", entity: "e", entityID: "1", before: nil, after: nil, now: 10)
            }
            #expect(try store.tableCounts().map(\.count) == before)
            // Allowed roles pass.
            _ = try store.review(sampleID: ids[0], decision: .approve, reviewer: "alice", now: 11)
            try store.addPromptVersion(name: "p2", template: "t", parent: nil, author: "pam", taskType: nil, now: 12, actor: "pam")
            try store.activatePromptVersion("p2", by: "pam", now: 13)
            #expect(try store.auditTrail(AuditFilter(entity: "prompt"), limit: 10).map(\.action) == ["prompt_activate", "prompt_add"])
        }
    }

    @Test func settingsValidateAndAreAudited() throws {
        try withEachStore { store in
            try team(store)
            #expect(try store.teamSettings() == TeamSettings(overlap: 1, reservationMinutes: 10))
            #expect(throws: TeamError.invalidSetting(key: "review.overlap", value: "0", range: 1...10)) {
                try store.setTeamSetting("review.overlap", "0", by: "root", now: 5)
            }
            #expect(throws: TeamError.unknownSetting("review.k")) { try store.setTeamSetting("review.k", "2", by: "root", now: 5) }
            try store.setTeamSetting("review.overlap", "3", by: "root", now: 5)
            try store.setTeamSetting("review.reservation_minutes", "2", by: "root", now: 6)
            #expect(try store.teamSettings() == TeamSettings(overlap: 3, reservationMinutes: 2))
            let rows = try store.auditTrail(AuditFilter(entity: "setting"), limit: 10)
            #expect(rows.map(\.entityID) == ["review.reservation_minutes", "review.overlap"])
            #expect(rows.last?.before == nil && rows.last?.after == #""3""#)
        }
    }
}

@Suite struct ReservationTests {
    @Test func reservingHoldsTheSampleUntilItExpires() throws {
        try withEachStore { store in
            let ids = try waitingSamples(store, ["1", "2", "3"])
            let minute: Int64 = 60_000
            #expect(try store.reserve(sampleID: ids[0], reviewer: "alice", now: 0) == .reserved(until: 10 * minute))
            #expect(try store.reserve(sampleID: ids[0], reviewer: "bob", now: minute) == .heldBy(reviewers: ["alice"], until: 10 * minute))
            // Bob's queue skips it; Alice's does not.
            let bob = QueueViewer(reviewer: "bob", now: minute)
            #expect(try store.reviewQueue(bob, cursor: nil, direction: .forward, limit: 10).map(\.sample.id) == [ids[1], ids[2]])
            #expect(try store.reviewQueueCount(bob) == 2)
            #expect(try store.reviewQueueCount(QueueViewer(reviewer: "alice", now: minute)) == 3)
            // Bob's decision on it is refused, with who holds it.
            #expect(throws: ReviewError.heldByOthers(ids[0], reviewers: ["alice"], until: 10 * minute)) {
                try store.review(sampleID: ids[0], decision: .approve, reviewer: "bob", now: minute)
            }
            // Renewal moves the expiry; after it, Bob gets it.
            #expect(try store.reserve(sampleID: ids[0], reviewer: "alice", now: 5 * minute) == .reserved(until: 15 * minute))
            #expect(try store.reviewQueueCount(QueueViewer(reviewer: "bob", now: 15 * minute)) == 3)
            #expect(try store.reserve(sampleID: ids[0], reviewer: "bob", now: 15 * minute) == .reserved(until: 25 * minute))
            #expect(try store.reservations(now: 15 * minute).map(\.reviewer) == ["bob"])
        }
    }

    @Test func oneSampleAtATimeAndReleaseOnDecision() throws {
        try withEachStore { store in
            let ids = try waitingSamples(store, ["1", "2"])
            _ = try store.reserve(sampleID: ids[0], reviewer: "alice", now: 0)
            _ = try store.reserve(sampleID: ids[1], reviewer: "alice", now: 1)
            #expect(try store.reservations(now: 1).map(\.sampleID) == [ids[1]])
            _ = try store.review(sampleID: ids[1], decision: .approve, reviewer: "alice", now: 2)
            #expect(try store.reservations(now: 2).isEmpty)
            #expect(try store.reserve(sampleID: ids[1], reviewer: "bob", now: 3) == .notWaiting(state: "approved"))
            _ = try store.reserve(sampleID: ids[0], reviewer: "bob", now: 3)
            try store.releaseReservations(reviewer: "bob")
            #expect(try store.reservations(now: 3).isEmpty)
        }
    }

    @Test func theReservationTimeIsATeamSetting() throws {
        let store = try Store.inMemory()
        let ids = try waitingSamples(store, ["1"])
        try store.setTeamSetting("review.reservation_minutes", "3", by: "anyone", now: 0)
        #expect(try store.reserve(sampleID: ids[0], reviewer: "alice", now: 0) == .reserved(until: 180_000))
    }

    @Test func overlapGivesEachSampleKSlots() throws {
        try withEachStore { store in
            try store.setTeamSetting("review.overlap", "2", by: "x", now: 0)
            let ids = try waitingSamples(store, ["1"])
            #expect(try store.reserve(sampleID: ids[0], reviewer: "alice", now: 0) == .reserved(until: 600_000))
            #expect(try store.reserve(sampleID: ids[0], reviewer: "bob", now: 0) == .reserved(until: 600_000))
            #expect(try store.reserve(sampleID: ids[0], reviewer: "carol", now: 0) == .heldBy(reviewers: ["alice", "bob"], until: 600_000))
            _ = try store.review(sampleID: ids[0], decision: .approve, reviewer: "alice", now: 1)
            #expect(try store.reserve(sampleID: ids[0], reviewer: "alice", now: 2) == .alreadyVoted)
            // Alice's vote and Bob's reservation fill both slots: Carol still cannot take it.
            #expect(try store.reserve(sampleID: ids[0], reviewer: "carol", now: 2) == .heldBy(reviewers: ["bob"], until: 600_000))
            #expect(try store.reviewQueueCount(QueueViewer(reviewer: "alice", now: 2)) == 0)
            #expect(try store.reviewQueueCount(QueueViewer(reviewer: "carol", now: 2)) == 0)
            #expect(try store.reviewQueueCount(QueueViewer(reviewer: "bob", now: 2)) == 1)
        }
    }
}

@Suite struct OverlapVoteTests {
    @Test func overlapOneIsFinalAtOnce() throws {
        let store = try Store.inMemory()
        let ids = try waitingSamples(store, ["42"])
        let r = try store.review(sampleID: ids[0], decision: .approve, reviewer: "alice", now: 1)
        #expect(r.after.state == "approved")
        #expect(try store.reviewActions(sampleID: ids[0]).count == 1)
        let detail = try store.auditTrail(AuditFilter(entity: "sample"), limit: 1).first?.note
        #expect(detail == #"{"verdict":"approve","correct_answer":"42","votes":1,"overlap":1,"outcome":"final"}"#)
    }

    @Test func agreeingVotesFinaliseAndDisagreeingOnesDispute() throws {
        try withEachStore { store in
            try store.setTeamSetting("review.overlap", "2", by: "x", now: 0)
            let ids = try waitingSamples(store, ["42", "42", "42", "42", nil])
            // approve + approve → approved
            #expect(try store.review(sampleID: ids[0], decision: .approve, reviewer: "alice", now: 1).after.state == "pending")
            #expect(throws: ReviewError.alreadyVoted(ids[0])) { try store.review(sampleID: ids[0], decision: .reject, reviewer: "alice", now: 2) }
            #expect(try store.review(sampleID: ids[0], decision: .approve, reviewer: "bob", now: 2).after.state == "approved")
            // fix "  Forty two " + fix "forty  two" → fixed (same answer ignoring case and spacing)
            _ = try store.review(sampleID: ids[1], decision: .fix(correctAnswer: "Forty two"), reviewer: "alice", now: 3)
            let fixed = try store.review(sampleID: ids[1], decision: .fix(correctAnswer: "forty  two"), reviewer: "bob", now: 4)
            #expect(fixed.after == SampleSnapshot(state: "fixed", correctAnswer: "Forty two", category: "unknown"))
            // approve + fix to the same answer → approved
            _ = try store.review(sampleID: ids[2], decision: .approve, reviewer: "alice", now: 5)
            #expect(try store.review(sampleID: ids[2], decision: .fix(correctAnswer: "42 "), reviewer: "bob", now: 6).after.state == "approved")
            // approve + reject → disputed
            _ = try store.review(sampleID: ids[3], decision: .approve, reviewer: "alice", now: 7)
            #expect(try store.review(sampleID: ids[3], decision: .reject, reviewer: "bob", now: 8).after.state == "disputed")
            // reject + reject on a needs_answer sample → rejected
            _ = try store.review(sampleID: ids[4], decision: .reject, reviewer: "alice", now: 9)
            #expect(try store.review(sampleID: ids[4], decision: .reject, reviewer: "bob", now: 10).after.state == "rejected")
            // A third reviewer cannot vote on a decided or disputed sample.
            #expect(throws: ReviewError.alreadyDecided(ids[3], state: "disputed")) {
                try store.review(sampleID: ids[3], decision: .approve, reviewer: "carol", now: 11)
            }
            #expect(try store.disputedSamples(limit: 10).map(\.sample.id) == [ids[3]])
        }
    }

    @Test func votesStayHiddenUntilTheViewerHasVoted() throws {
        let store = try Store.inMemory()
        try team(store)
        try store.setTeamSetting("review.overlap", "2", by: "root", now: 0)
        let ids = try waitingSamples(store, ["42"])
        _ = try store.review(sampleID: ids[0], decision: .reject, reviewer: "alice", now: 1)
        let forBob = try store.decisions(sampleID: ids[0], viewer: "bob")
        #expect(forBob.visible.isEmpty && forBob.hidden == 1)
        #expect(try store.decisions(sampleID: ids[0], viewer: "alice").visible.map(\.reviewer) == ["alice"])
        #expect(try store.decisions(sampleID: ids[0], viewer: "carol").visible.count == 1)  // adjudicator
        _ = try store.review(sampleID: ids[0], decision: .approve, reviewer: "bob", now: 2)
        #expect(try store.decisions(sampleID: ids[0], viewer: "bob").visible.map(\.verdict) == [.reject, .approve])
    }

    @Test func adjudicationDecidesADisputedSample() throws {
        try withEachStore { store in
            try team(store)
            try store.setTeamSetting("review.overlap", "2", by: "root", now: 0)
            let ids = try waitingSamples(store, ["42", "7"])
            _ = try store.review(sampleID: ids[0], decision: .approve, reviewer: "alice", now: 1)
            _ = try store.review(sampleID: ids[0], decision: .fix(correctAnswer: "43"), reviewer: "bob", now: 2)
            #expect(try state(store, ids[0]) == "disputed")
            #expect(throws: PermissionError.self) { try store.adjudicate(sampleID: ids[0], decision: .approve, adjudicator: "alice", now: 3) }
            #expect(throws: ReviewError.notDisputed(ids[1], state: "pending")) {
                try store.adjudicate(sampleID: ids[1], decision: .approve, adjudicator: "carol", now: 3)
            }
            let r = try store.adjudicate(sampleID: ids[0], decision: .fix(correctAnswer: "43"), adjudicator: "carol", now: 4)
            #expect(r.action == "adjudicate" && r.after == SampleSnapshot(state: "fixed", correctAnswer: "43", category: "unknown"))
            // Undo of an adjudication goes back to disputed, and is recorded.
            let u = try store.undo(r, reviewer: "carol", now: 5)
            #expect(u.action == "undo" && u.after.state == "disputed")
            #expect(try store.reviewActions(sampleID: ids[0]).map(\.action) == ["approve", "fix", "adjudicate", "undo"])
        }
    }

    @Test func undoingAVoteWithdrawsIt() throws {
        try withEachStore { store in
            try team(store)
            try store.setTeamSetting("review.overlap", "2", by: "root", now: 0)
            let ids = try waitingSamples(store, ["42"])
            let vote = try store.review(sampleID: ids[0], decision: .reject, reviewer: "alice", now: 1)
            #expect(throws: ReviewError.notYours(ids[0], by: "alice")) { try store.undo(vote, reviewer: "bob", now: 2) }
            _ = try store.undo(vote, reviewer: "alice", now: 2)
            #expect(try store.decisions(sampleID: ids[0], viewer: "alice").hidden == 0)
            #expect(try store.reviewQueueCount(QueueViewer(reviewer: "alice", now: 3)) == 1)
            // Alice can vote again; an admin can undo anyone's.
            let again = try store.review(sampleID: ids[0], decision: .approve, reviewer: "alice", now: 3)
            _ = try store.undo(again, reviewer: "root", now: 4)
            // Once the sample is final, a vote can no longer be undone on its own.
            _ = try store.review(sampleID: ids[0], decision: .approve, reviewer: "alice", now: 5)
            let first = try store.reviewActions(sampleID: ids[0]).last!
            _ = try store.review(sampleID: ids[0], decision: .approve, reviewer: "bob", now: 6)
            #expect(throws: ReviewError.changedSince(ids[0])) { try store.undo(first, reviewer: "alice", now: 7) }
        }
    }
}

@Suite struct AuditTrailTests {
    @Test func auditLogIsAppendOnlyAndMergedWithReviews() throws {
        try withEachStore { store in
            try team(store)
            let ids = try waitingSamples(store, ["42"])
            let r = try store.review(sampleID: ids[0], decision: .approve, reviewer: "alice", now: 100)
            _ = try store.undo(r, reviewer: "alice", now: 101)
            try store.setTeamSetting("review.overlap", "2", by: "root", now: 102)
            let all = try store.auditTrail(AuditFilter(), limit: 100)
            #expect(all.prefix(3).map(\.action) == ["setting", "undo", "approve"])
            #expect(all.count == 9)  // 6 users + setting + approve + undo
            #expect(try store.auditTrail(AuditFilter(actor: "alice"), limit: 100).map(\.action) == ["undo", "approve"])
            #expect(try store.auditTrail(AuditFilter(action: "approve"), limit: 100).map(\.entityID) == [String(ids[0])])
            #expect(try store.auditTrail(AuditFilter(since: 101, until: 102), limit: 100).map(\.action) == ["undo"])
            #expect(try store.auditTrail(AuditFilter(), limit: 2).count == 2)
            #expect(throws: DatabaseError.self) { try store.writer.write { db in try db.execute(sql: "UPDATE audit_log SET actor = 'x'") } }
            #expect(throws: DatabaseError.self) { try store.writer.write { db in try db.execute(sql: "DELETE FROM audit_log") } }
        }
    }

    @Test func theLLMsAnswerIsAuditedButNotCountedAsAReview() throws {
        let store = try Store.inMemory()
        let ids = try waitingSamples(store, [nil])
        try store.recordExtraction(sampleID: ids[0], extraction: "{}", correctAnswer: "78", category: .numberMisread, now: 50)
        let rows = try store.reviewActions(sampleID: ids[0])
        #expect(rows.map(\.action) == ["llm_answer"] && rows.first?.reviewer == "flywheel-analyze")
        #expect(rows.first?.before.state == "needs_answer" && rows.first?.after == SampleSnapshot(state: "pending", correctAnswer: "78", category: "number_misread"))
        #expect(try store.reviewActionCount(InsightWindow(since: 0, until: 100)) == 0)
        // A second answer for the same sample changes nothing and records nothing.
        try store.recordExtraction(sampleID: ids[0], extraction: "{}", correctAnswer: "79", category: .numberMisread, now: 60)
        #expect(try store.reviewActions(sampleID: ids[0]).count == 1)
    }

    @Test func waitingVotesAreMaskedForReviewersWhoHaveNotVoted() throws {
        let store = try Store.inMemory()
        try team(store)
        try store.setTeamSetting("review.overlap", "2", by: "root", now: 0)
        let ids = try waitingSamples(store, ["42"])
        _ = try store.review(sampleID: ids[0], decision: .reject, reviewer: "alice", now: 1)
        let filter = AuditFilter(entity: "sample")
        #expect(try store.auditTrail(filter, limit: 5, viewer: "bob").map(\.action) == ["vote"])
        #expect(try store.auditTrail(filter, limit: 5, viewer: "bob").first?.note == "hidden until you decide this sample")
        #expect(try store.auditTrail(filter, limit: 5, viewer: "alice").map(\.action) == ["reject"])
        #expect(try store.auditTrail(filter, limit: 5, viewer: "carol").map(\.action) == ["reject"])  // adjudicator
        #expect(try store.auditTrail(filter, limit: 5).map(\.action) == ["reject"])
        _ = try store.review(sampleID: ids[0], decision: .approve, reviewer: "bob", now: 2)
        #expect(try store.auditTrail(filter, limit: 5, viewer: "pam").map(\.action) == ["approve", "reject"])  // no longer waiting
    }
}

/// Image-tagging samples (car 0.9, sky 0.7, dog 0.4), `judged`: the user said every tag is right (pending,
/// correct answer "car, sky, dog", every tag 'correct'); otherwise a thumbs-down (needs_answer, every tag
/// 'unreviewed', no answer).
private func tagsSamples(_ store: Store, _ count: Int, judged: Bool = false) throws -> [Int64] {
    try (0..<count).map { i in
        let tags = [("car", 0.9), ("sky", 0.7), ("dog", 0.4)].map { SampleTag(tag: $0.0, score: $0.1, verdict: judged ? "correct" : "unreviewed") }
        let s = NewSample(source: judged ? .userCorrection : .thumbsDown, quality: .high, state: judged ? .pending : .needsAnswer,
                          taskType: "tags", question: nil, wrongAnswer: "car, sky, dog", correctAnswer: judged ? "car, sky, dog" : nil,
                          category: .visualUnderstandingError, sessionID: nil, requestID: "t\(i)", questionTurnID: nil, answerTurnID: nil,
                          imageID: nil, evidence: nil, extraction: nil, model: "ram", promptVersion: "tags-v1")
        #expect(try store.insertTagSamples([NewTagSample(sample: s, tags: tags)], now: 1) == 1)
        return try store.writer.read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM training_samples")! }
    }
}

private func verdicts(_ store: Store, _ id: Int64) throws -> [String: String] {
    Dictionary(uniqueKeysWithValues: try store.sampleTags(sampleID: id).map { ($0.tag, $0.verdict) })
}

private func actionJSON(_ store: Store, _ id: Int64, _ column: String) throws -> String? {
    try store.writer.read { db in try String.fetchOne(db, sql: "SELECT \(column) FROM review_actions WHERE id = ?", arguments: [id]) }
}

/// With review.overlap above 1 a tag fix is one vote like approve and reject: the tags change when the votes agree.
@Suite struct TagVoteTests {
    static let untouched = ["car": "unreviewed", "sky": "unreviewed", "dog": "unreviewed"]

    @Test func identicalTagFixesMakeTheSampleFixedWithTheirVerdicts() throws {
        try withEachStore { store in
            try team(store)
            try store.setTeamSetting("review.overlap", "2", by: "root", now: 0)
            let id = try tagsSamples(store, 1)[0]
            let first = try store.reviewTags(sampleID: id, verdicts: ["dog": "wrong"], added: ["bicycle"], reviewer: "alice", now: 10)
            #expect(first.action == "fix_tags" && first.after == first.before && first.after.state == "needs_answer")
            // A waiting vote changes nothing but its own row, and says what it was.
            #expect(try verdicts(store, id) == Self.untouched)
            #expect(try actionJSON(store, first.actionID, "json_type(before, '$.tags')") == nil)
            #expect(try actionJSON(store, first.actionID, "detail")
                    == #"{"verdict":"fix","correct_answer":"car, sky, bicycle","tags":["car","sky","bicycle"],"votes":1,"overlap":2,"outcome":"waiting"}"#)
            // Bob sees neither the vote nor, in the audit, what it was; Alice sees hers with its per-tag verdicts.
            let forBob = try store.decisions(sampleID: id, viewer: "bob")
            #expect(forBob.visible.isEmpty && forBob.hidden == 1)
            #expect(try store.auditTrail(AuditFilter(entity: "sample"), limit: 5, viewer: "bob").map(\.action) == ["vote"])
            let mine = try #require(try store.decisions(sampleID: id, viewer: "alice").visible.first)
            #expect(mine.verdict == .fix && mine.answer == "car, sky, bicycle")
            #expect(mine.tags.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.tag, $0.verdict) }) }
                    == ["car": "correct", "sky": "correct", "dog": "wrong", "bicycle": "missing"])
            // The same set (spaces, and verdicts spelt differently) completes it: fixed, with the agreed verdicts.
            let second = try store.reviewTags(sampleID: id, verdicts: ["dog": "wrong", "car": "correct", "sky": "unreviewed"],
                                              added: [" bicycle "], reviewer: "bob", now: 20)
            #expect(second.after == SampleSnapshot(state: "fixed", correctAnswer: "car, sky, bicycle", category: "visual_understanding_error"))
            #expect(try verdicts(store, id) == ["car": "correct", "sky": "correct", "dog": "wrong", "bicycle": "missing"])
            #expect(try actionJSON(store, second.actionID, "before")
                    == #"{"state":"needs_answer","correct_answer":null,"error_category":"visual_understanding_error","tags":[{"tag":"car","score":0.9,"verdict":"unreviewed"},{"tag":"sky","score":0.7,"verdict":"unreviewed"},{"tag":"dog","score":0.4,"verdict":"unreviewed"}]}"#)
            #expect(try actionJSON(store, second.actionID, "json_extract(after, '$.tags[3].tag')") == "bicycle")
            #expect(try actionJSON(store, second.actionID, "json_extract(detail, '$.outcome')") == "final")
            #expect(try store.decisions(sampleID: id, viewer: "pam").visible.map(\.verdict) == [.fix, .fix])
            let agreement = try store.agreementReport()
            #expect(agreement.overall.items == 1 && agreement.overall.decisions == 2 && agreement.labels == ["fix"])
            // Once final, a vote is not undone on its own; the completing one is, and puts the tags back.
            #expect(throws: ReviewError.changedSince(id)) { try store.undo(first, reviewer: "alice", now: 30) }
            let undone = try store.undo(second, reviewer: "bob", now: 31)
            #expect(undone.after.state == "needs_answer" && undone.after.correctAnswer == nil)
            #expect(try verdicts(store, id) == Self.untouched)
            #expect(try store.decisions(sampleID: id, viewer: "alice").visible.map(\.reviewer) == ["alice"])
        }
    }

    @Test func differentTagSetsAreDisputedAndTheAdjudicatorSetsTheTags() throws {
        try withEachStore { store in
            try team(store)
            try store.setTeamSetting("review.overlap", "2", by: "root", now: 0)
            let ids = try tagsSamples(store, 2)
            _ = try store.reviewTags(sampleID: ids[0], verdicts: ["dog": "wrong"], added: [], reviewer: "alice", now: 10)
            let second = try store.reviewTags(sampleID: ids[0], verdicts: [:], added: ["cat"], reviewer: "bob", now: 11)
            #expect(second.after.state == "disputed" && second.after.correctAnswer == nil)
            #expect(try verdicts(store, ids[0]) == Self.untouched)
            #expect(try actionJSON(store, second.actionID, "json_extract(detail, '$.outcome')") == "disputed")
            // The adjudicator sees each reviewer's corrected list.
            #expect(try store.decisions(sampleID: ids[0], viewer: "carol").visible.map { "\($0.reviewer): \($0.answer ?? "")" }
                    == ["alice: car, sky", "bob: car, sky, dog, cat"])
            #expect(throws: PermissionError.self) {
                try store.adjudicateTags(sampleID: ids[0], verdicts: ["dog": "wrong"], added: [], adjudicator: "alice", now: 12)
            }
            #expect(throws: ReviewError.notDisputed(ids[1], state: "needs_answer")) {
                try store.adjudicateTags(sampleID: ids[1], verdicts: [:], added: [], adjudicator: "carol", now: 12)
            }
            #expect(try verdicts(store, ids[0]) == Self.untouched)
            let r = try store.adjudicateTags(sampleID: ids[0], verdicts: ["dog": "wrong"], added: ["cat"], adjudicator: "carol", now: 13)
            #expect(r.action == "adjudicate")
            #expect(r.after == SampleSnapshot(state: "fixed", correctAnswer: "car, sky, cat", category: "visual_understanding_error"))
            #expect(try verdicts(store, ids[0]) == ["car": "correct", "sky": "correct", "dog": "wrong", "cat": "missing"])
            #expect(try actionJSON(store, r.actionID, "detail") == #"{"verdict":"fix","tags":["car","sky","cat"]}"#)
            // The reviewers' votes stay as they were.
            #expect(try store.decisions(sampleID: ids[0], viewer: "pam").visible.map(\.answer) == ["car, sky", "car, sky, dog, cat"])
            // Undo: disputed again, the tags as they were; a fix written as a tag list sets the tags it names.
            _ = try store.undo(r, reviewer: "carol", now: 14)
            #expect(try store.sample(id: ids[0])?.state == "disputed" && verdicts(store, ids[0]) == Self.untouched)
            let listed = try store.adjudicate(sampleID: ids[0], decision: .fix(correctAnswer: "sky, car,, boat"), adjudicator: "carol", now: 15)
            #expect(listed.after.state == "fixed" && listed.after.correctAnswer == "car, sky, boat")
            #expect(try verdicts(store, ids[0]) == ["car": "correct", "sky": "correct", "dog": "wrong", "boat": "missing"])
            // Keeping the set as it stood approves it.
            _ = try store.undo(listed, reviewer: "carol", now: 16)
            #expect(try store.adjudicateTags(sampleID: ids[0], verdicts: [:], added: [], adjudicator: "root", now: 17).after
                    == SampleSnapshot(state: "approved", correctAnswer: "car, sky, dog", category: "visual_understanding_error"))
            #expect(try verdicts(store, ids[0]) == ["car": "correct", "sky": "correct", "dog": "correct"])
        }
    }

    @Test func tagFixesMixWithApproveAndReject() throws {
        let store = try Store.inMemory()
        try store.setTeamSetting("review.overlap", "2", by: "x", now: 0)
        let ids = try tagsSamples(store, 4, judged: true)
        // approve + a tag fix that keeps the set (every predicted tag right, nothing added): approved, an approve vote.
        _ = try store.review(sampleID: ids[0], decision: .approve, reviewer: "alice", now: 1)
        let kept = try store.reviewTags(sampleID: ids[0], verdicts: ["car": "correct"], added: [], reviewer: "bob", now: 2)
        #expect(kept.after == SampleSnapshot(state: "approved", correctAnswer: "car, sky, dog", category: "visual_understanding_error"))
        #expect(try store.decisions(sampleID: ids[0], viewer: "bob").visible.map(\.verdict) == [.approve, .approve])
        // approve + a tag fix that changes the set: disputed, the tags untouched.
        _ = try store.review(sampleID: ids[1], decision: .approve, reviewer: "alice", now: 3)
        #expect(try store.reviewTags(sampleID: ids[1], verdicts: ["dog": "wrong"], added: [], reviewer: "bob", now: 4).after.state == "disputed")
        #expect(try verdicts(store, ids[1]) == ["car": "correct", "sky": "correct", "dog": "correct"])
        // A tag fix + reject: disputed; reject + reject: rejected.
        _ = try store.reviewTags(sampleID: ids[2], verdicts: ["dog": "wrong"], added: [], reviewer: "alice", now: 5)
        #expect(try store.review(sampleID: ids[2], decision: .reject, reviewer: "bob", now: 6).after.state == "disputed")
        _ = try store.review(sampleID: ids[3], decision: .reject, reviewer: "alice", now: 7)
        #expect(try store.review(sampleID: ids[3], decision: .reject, reviewer: "bob", now: 8).after.state == "rejected")
        // A fix written as a tag list (flywheel review … fix --answer) is the same vote as the tag editor's.
        let more = try tagsSamples(store, 1)[0]
        _ = try store.reviewTags(sampleID: more, verdicts: ["dog": "wrong"], added: [], reviewer: "alice", now: 9)
        let listed = try store.review(sampleID: more, decision: .fix(correctAnswer: "Sky, car"), reviewer: "bob", now: 10)
        #expect(listed.after.state == "disputed")  // "Sky" is not "sky": tags are compared as they are written, trimmed
        #expect(try store.decisions(sampleID: more, viewer: "bob").visible.last?.answer == "car, Sky")
        let report = try store.agreementReport()
        #expect(report.labels == ["approve", "fix", "reject"])
        #expect(report.overall.items == 5 && report.overall.decisions == 10)
    }

    @Test func aWaitingTagVoteIsWithdrawnByUndo() throws {
        try withEachStore { store in
            try team(store)
            try store.setTeamSetting("review.overlap", "2", by: "root", now: 0)
            let id = try tagsSamples(store, 1)[0]
            let vote = try store.reviewTags(sampleID: id, verdicts: ["dog": "wrong"], added: ["cat"], reviewer: "alice", now: 10)
            #expect(throws: ReviewError.notYours(id, by: "alice")) { try store.undo(vote, reviewer: "bob", now: 11) }
            let undone = try store.undo(vote, reviewer: "alice", now: 12)
            #expect(undone.action == "undo" && undone.after == vote.before)
            #expect(try store.decisions(sampleID: id, viewer: "alice").visible.isEmpty)
            #expect(try verdicts(store, id) == Self.untouched)
            #expect(try store.sample(id: id)?.state == "needs_answer")
            // Withdrawn: Alice votes again, and it counts once.
            _ = try store.reviewTags(sampleID: id, verdicts: [:], added: [], reviewer: "alice", now: 13)
            #expect(try store.reviewTags(sampleID: id, verdicts: [:], added: [], reviewer: "bob", now: 14).after.state == "approved")
            #expect(try store.sample(id: id)?.correctAnswer == "car, sky, dog")
            #expect(try verdicts(store, id) == ["car": "correct", "sky": "correct", "dog": "correct"])
            #expect(try store.reviewActions(sampleID: id).map(\.action) == ["fix_tags", "undo", "fix_tags", "fix_tags"])
        }
    }

    @Test func tagVotesTakeSlotsLikeOtherVotes() throws {
        try withEachStore { store in
            try store.setTeamSetting("review.overlap", "2", by: "x", now: 0)
            let id = try tagsSamples(store, 1)[0]
            _ = try store.reserve(sampleID: id, reviewer: "alice", now: 0)
            _ = try store.reserve(sampleID: id, reviewer: "bob", now: 0)
            #expect(throws: ReviewError.heldByOthers(id, reviewers: ["alice", "bob"], until: 600_000)) {
                try store.reviewTags(sampleID: id, verdicts: ["dog": "wrong"], added: [], reviewer: "carol", now: 1)
            }
            _ = try store.reviewTags(sampleID: id, verdicts: ["dog": "wrong"], added: [], reviewer: "alice", now: 2)
            #expect(try store.reservations(now: 2).map(\.reviewer) == ["bob"])  // the vote gave up Alice's hold
            #expect(throws: ReviewError.alreadyVoted(id)) {
                try store.reviewTags(sampleID: id, verdicts: [:], added: [], reviewer: "alice", now: 3)
            }
            #expect(throws: ReviewError.alreadyVoted(id)) { try store.review(sampleID: id, decision: .reject, reviewer: "alice", now: 3) }
            // Alice's vote and Bob's reservation fill both slots.
            #expect(throws: ReviewError.heldByOthers(id, reviewers: ["bob"], until: 600_000)) {
                try store.reviewTags(sampleID: id, verdicts: ["dog": "wrong"], added: [], reviewer: "carol", now: 4)
            }
            #expect(try verdicts(store, id) == Self.untouched)
            #expect(try store.reviewTags(sampleID: id, verdicts: ["dog": "wrong"], added: [], reviewer: "bob", now: 5).after.state == "fixed")
            #expect(throws: ReviewError.alreadyDecided(id, state: "fixed")) {
                try store.reviewTags(sampleID: id, verdicts: [:], added: [], reviewer: "carol", now: 6)
            }
        }
    }

    @Test func withOverlapOneATagFixIsFinalAtOnceAndItsVoteIsKept() throws {
        let store = try Store.inMemory()
        let id = try tagsSamples(store, 1)[0]
        let r = try store.reviewTags(sampleID: id, verdicts: ["dog": "wrong"], added: [], reviewer: "alice", now: 1)
        #expect(r.after.state == "fixed" && r.after.correctAnswer == "car, sky")
        #expect(try store.decisions(sampleID: id, viewer: "alice").visible.map(\.verdict) == [.fix])
        _ = try store.undo(r, reviewer: "alice", now: 2)
        #expect(try store.decisions(sampleID: id, viewer: "alice").visible.isEmpty)
        #expect(try verdicts(store, id) == Self.untouched)
    }
}

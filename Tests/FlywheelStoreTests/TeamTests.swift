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

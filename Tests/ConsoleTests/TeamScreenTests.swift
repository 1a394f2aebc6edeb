import Foundation
import FlywheelAnalyze
import FlywheelCore
import FlywheelIngest
import FlywheelStore
import Testing
@testable import Console
import TerminalKit

// Screen 7 against real stores: agreement figures from overlapping votes, a flagged end user whose feedback
// is held, releasing and discarding it (and who may), reloading.

enum TeamFixture {
    static let spammer = "刷屏用户"

    /// Fixture.store() plus: review.overlap 2 and eight samples each decided by two of alice, bob and carol (two
    /// disagreements, one adjudicated by dora); an end user who sent 24 thumbs-down and a correction within a
    /// minute (flagged: nearly all thumbs-down, and a burst), so analysis holds the samples made from their
    /// feedback; and another end user with a correction. `team` registers the team afterwards (roles enforced).
    static func store(team: Bool = false) throws -> Store {
        let s = try Fixture.store()
        try s.setTeamSetting("review.overlap", "2", by: "root", now: Fixture.base)
        let categories: [ErrorCategory] = [.numberMisread, .numberMisread, .numberMisread, .numberMisread, .hallucination, .hallucination, .formatError, .formatError]
        let samples = categories.enumerated().map { i, c in
            NewSample(source: .userCorrection, quality: .high, state: .pending, taskType: "vqa", question: "question \(i + 1)?", wrongAnswer: "wrong \(i + 1)",
                      correctAnswer: "right \(i + 1)", category: c, sessionID: nil, requestID: "agree-\(i + 1)", questionTurnID: nil, answerTurnID: nil,
                      imageID: nil, evidence: nil, extraction: nil, model: nil, promptVersion: nil)
        }
        _ = try s.insertSamples(samples, now: Fixture.base)
        let first = try #require(try s.samples(limit: 1000).map(\.id).max()) - Int64(categories.count) + 1
        let votes: [[(String, ReviewDecision)]] = [
            [("alice", .approve), ("bob", .approve)],
            [("alice", .approve), ("bob", .reject)],
            [("alice", .reject), ("carol", .reject)],
            [("bob", .approve), ("carol", .approve)],
            [("alice", .approve), ("carol", .approve)],
            [("bob", .reject), ("carol", .approve)],
            [("alice", .approve), ("bob", .approve)],
            [("carol", .reject), ("alice", .reject)],
        ]
        for (i, pair) in votes.enumerated() {
            for (who, decision) in pair { _ = try s.review(sampleID: first + Int64(i), decision: decision, reviewer: who, now: Fixture.base + Int64(i)) }
        }
        _ = try s.adjudicate(sampleID: first + 1, decision: .reject, adjudicator: "dora", now: Fixture.base + 100)

        var events: [String] = []
        func exchange(_ user: String, _ session: String, at seconds: Int64, question: String, feedback: String) {
            events.append(Fixture.turn(session, user, 0, "user", question, request: 1, at: seconds))
            events.append(Fixture.turn(session, user, 1, "assistant", "It is 12.", request: 1, at: seconds + 1, ms: 900))
            events.append(#"{"type":"feedback","event_id":"\#(session)-f","session_id":"\#(session)","request_id":"\#(session)-r1","user_id":\#(jsonQuoted(user)),\#(feedback),"ts":"\#(Timestamp.format(millis: Fixture.base + (seconds + 2) * 1000))"}"#)
        }
        for i in 0..<24 {
            exchange(spammer, "spam-\(i)", at: 20_000 + Int64(i) * 2, question: i % 3 == 0 ? "这个数字是多少?第\(i)张" : "what number is on sign \(i)?",
                     feedback: #""kind":"thumbs_down""#)
        }
        exchange(spammer, "spam-c", at: 20_050, question: "收据上的总金额?", feedback: #""kind":"correction","corrected_response":"七十八元""#)
        exchange("u-carl", "calm-1", at: 30_000, question: "what colour is the car?", feedback: #""kind":"correction","corrected_response":"red""#)

        let dir = NSTemporaryDirectory() + "flywheel-team-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try (events.joined(separator: "\n") + "\n").write(toFile: dir + "/team.jsonl", atomically: true, encoding: .utf8)
        let r = Ingestor(store: s).ingest(path: dir + "/team.jsonl")
        precondition(r.counts.quarantined == 0 && r.error == nil, "team fixture events must be valid")
        var options = AnalysisOptions()
        options.now = Fixture.now
        _ = try AnalysisJob(store: s, options: options).run()
        if team { try Fixture.addTeam(s) }
        return s
    }
}

@Suite(.serialized) struct TeamScreenTests {
    @Test func theFixtureHasFiguresAFlaggedUserAndHeldFeedback() throws {
        let s = try TeamFixture.store()
        let report = try s.agreementReport()
        #expect(report.overall.items == 8 && report.overall.decisions == 16 && report.overall.raters == 3)
        let spam = try #require(try s.endUserTrust(flaggedOnly: true, limit: 10).first)
        #expect(spam.user == TeamFixture.spammer && spam.flagged && spam.heldSamples == 25)
        #expect(try s.heldSamples(limit: 100).count == 25)
    }

    /// The text of a screen whose panels are stacked, each row's border and padding taken off, rows joined
    /// by spaces (so wrapped text reads as one line).
    static func flat(_ state: AppState) -> String {
        Console.render(state).lines().map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "│ ")) }.joined(separator: " ")
    }

    @Test func theScreenShowsWhatTheCommandsShow() throws {
        let s = try TeamFixture.store()
        let state = try headless(s, "7", width: 140, height: 64)
        let report = try s.agreementReport()
        #expect(state.teamScreen.agreement == report)
        #expect(state.teamScreen.users?.first?.user == TeamFixture.spammer)
        #expect(state.teamScreen.held?.map(\.sample.id) == (try s.heldSamples(limit: 500).map(\.sample.id)))
        let text = Self.flat(state)
        let o = report.overall
        for part in ["Overall: 8 items, 16 decisions, 3 reviewers; labels approve, reject",
                     "observed agreement \(AgreementReport.shareText(o.observed)), Fleiss' kappa \(AgreementReport.kappaText(o.fleissKappa)), Krippendorff's alpha \(AgreementReport.kappaText(o.krippendorffAlpha))",
                     "By category", "By reviewer", "Pairs (Cohen's kappa)", "alice ~ bob", "kappa vs final", "FLAGGED", "Held feedback · 25"] {
            #expect(text.contains(part), "\(part)")
        }
        // The selected user's reasons in full.
        let reasons = try #require(state.teamScreen.users?.first?.flags.map(\.reason))
        #expect(reasons.count == 2)
        for reason in reasons { #expect(text.contains("⚑ " + reason), "\(reason)") }
    }

    @Test func nothingOverlappingSaysHowToGetFigures() throws {
        let s = try Fixture.store()
        let text = Self.flat(try headless(s, "7", width: 140))
        #expect(text.contains("No sample has two independent decisions yet: an admin sets review.overlap to 2 or more (flywheel settings set review.overlap 2)."))
        #expect(text.contains("Nothing is held"))
        try s.setTeamSetting("review.overlap", "3", by: "root", now: Fixture.now)
        #expect(Self.flat(try headless(s, "7", width: 140)).contains("review.overlap is 3, so figures appear once two reviewers have decided the same sample"))
    }

    @Test func releaseAndDiscardChangeTheDatabase() throws {
        let s = try TeamFixture.store(team: true)
        let before = try s.heldSamples(limit: 100)
        let first = before[0], second = before[1], third = before[2]
        let released = try headless(s, "7r", reviewer: "rev")
        #expect(released.status == StatusLine(text: "sample \(first.sample.id) released to the review queue", isError: false))
        #expect(try s.sample(id: first.sample.id)?.state == first.heldState)
        let release = try #require(try s.reviewActions(sampleID: first.sample.id).last)
        #expect(release.action == "release_held" && release.reviewer == "rev" && release.at == Fixture.now)
        #expect(try !s.heldSamples(limit: 100).contains { $0.sample.id == first.sample.id })
        #expect(released.teamScreen.held?.first?.sample.id == second.sample.id && released.teamScreen.heldSelected == 0)
        #expect(released.teamScreen.users?.first { $0.user == TeamFixture.spammer }?.heldSamples == 24)

        let discarded = try headless(s, "7jd", reviewer: "rev")
        #expect(discarded.status == StatusLine(text: "sample \(third.sample.id) discarded", isError: false))
        #expect(try s.sample(id: third.sample.id)?.state == "rejected")
        let discard = try #require(try s.reviewActions(sampleID: third.sample.id).last)
        #expect(discard.action == "discard_held" && discard.reviewer == "rev")
        #expect(try s.heldSamples(limit: 100).map(\.sample.id) == before.dropFirst().map(\.sample.id).filter { $0 != third.sample.id })
        // The selection stays in place: the sample after the discarded one.
        #expect(discarded.teamScreen.selectedHeld?.sample.id == before[3].sample.id)
        // An admin may too.
        #expect(try headless(s, "7r", reviewer: "root").status?.text == "sample \(second.sample.id) released to the review queue")
    }

    @Test func anAnnotatorAndAPMAreRefused() throws {
        let s = try TeamFixture.store(team: true)
        let before = try s.heldSamples(limit: 100).map(\.sample.id)
        for (who, role) in [("ann", TeamRole.annotator), ("pm1", .pm)] {
            for keys in ["7r", "7d"] {
                let state = try headless(s, keys, reviewer: who)
                let message = RoleTests.refusal(who, role, .releaseHeld)
                #expect(state.status == StatusLine(text: message, isError: true), "\(who) \(keys)")
                #expect(message.contains("that needs the reviewer or admin role"))
                #expect(state.teamScreen.held?.map(\.sample.id) == before)
            }
        }
        #expect(try s.heldSamples(limit: 100).map(\.sample.id) == before)
        for id in before { #expect(try s.reviewActions(sampleID: id).isEmpty) }
    }

    /// The store's refusals: the role changed while the console was open (the row stays), and another
    /// reviewer released the sample first (it is no longer held, so it goes).
    @Test func storeRefusalsShowTheirMessage() throws {
        let s = try TeamFixture.store(team: true)
        let held = try s.heldSamples(limit: 100).map(\.sample.id)
        var state = try headless(s, "7", reviewer: "rev")
        try s.setRole(name: "rev", role: .annotator, by: "root", now: Fixture.now)
        try press(&state, s, "r")
        #expect(state.status == StatusLine(text: RoleTests.refusal("rev", .annotator, .releaseHeld), isError: true))
        #expect(state.teamScreen.held?.map(\.sample.id) == held && state.teamScreen.selectedHeld?.sample.id == held[0])
        #expect(try s.reviewActions(sampleID: held[0]).isEmpty)
        try s.setRole(name: "rev", role: .reviewer, by: "root", now: Fixture.now)

        var other = try headless(s, "7", reviewer: "adj")
        try s.decideHeld(sampleID: held[0], release: true, by: "rev", now: Fixture.now)
        try press(&other, s, "d")
        let state0 = try #require(try s.sample(id: held[0])?.state)
        #expect(state0 == "needs_answer")  // a thumbs-down's sample: it goes back to waiting for an answer
        #expect(other.status == StatusLine(text: "sample \(held[0]) is \(state0), not held", isError: true))
        #expect(other.teamScreen.held?.first?.sample.id == held[1])
    }

    @Test func aFailedWriteBringsTheRowBack() throws {
        let s = try TeamFixture.store()
        let source = ControlledSource(s)
        source.failWrites = true
        let held = try s.heldSamples(limit: 100).map(\.sample.id)
        let state = try headless(source, "7jr")
        #expect(state.status == StatusLine(text: "sample \(held[1]) not saved: disk full", isError: true))
        #expect(state.teamScreen.held?.map(\.sample.id) == held && state.teamScreen.selectedHeld?.sample.id == held[1])
    }

    @Test func anotherProcessesReleaseIsPickedUpByPollingAndCtrlR() throws {
        let s = try TeamFixture.store()
        let held = try s.heldSamples(limit: 100).map(\.sample.id)
        var state = try headless(s, "7j")
        let other = try Store.open(path: s.path!)
        try other.decideHeld(sampleID: held[0], release: false, by: "someone", now: Fixture.now)
        let runner = EffectRunner(data: s, clock: { Fixture.now })
        runner.start(.pollDataVersion)
        Console.settle(&state, runner)
        #expect(state.teamScreen.held?.map(\.sample.id) == Array(held.dropFirst()))
        #expect(state.teamScreen.selectedHeld?.sample.id == held[1])  // the selection stays on its sample
        try other.decideHeld(sampleID: held[1], release: true, by: "someone", now: Fixture.now)
        try press(&state, s, "<C-r>")
        #expect(state.teamScreen.held?.map(\.sample.id) == Array(held.dropFirst(2)))
        // Off screen, a commit makes the screen stale; it is read again when shown.
        try press(&state, s, "1")
        try other.decideHeld(sampleID: held[2], release: true, by: "someone", now: Fixture.now)
        runner.start(.pollDataVersion)
        Console.settle(&state, runner)
        #expect(state.teamScreen.held == nil)
        try press(&state, s, "7")
        #expect(state.teamScreen.held?.map(\.sample.id) == Array(held.dropFirst(3)))
    }

    /// A read of the held list that started before a release was written would bring the sample back: one
    /// more read follows it.
    @Test func aReadThatPredatesADecisionIsFollowedByAnother() throws {
        let s = try TeamFixture.store()
        var state = try headless(s, "7")
        let stale = EndUsersData(users: try s.endUserTrust(flaggedOnly: false, limit: 500), held: try s.heldSamples(limit: 500))
        let id = stale.held[0].sample.id
        #expect(Console.update(&state, .key(.char("r"))) == [.decideHeld(sampleID: id, release: true, by: "tester")])
        let version = try #require(state.dataVersion)
        #expect(Console.update(&state, .dataVersion(.success(version + 1))).contains(.loadEndUsers(limit: Console.teamListLimit)))
        let record = try s.decideHeld(sampleID: id, release: true, by: "tester", now: Fixture.now)
        #expect(!Console.update(&state, .heldDecided(sampleID: id, release: true, .success(record))).contains(.loadEndUsers(limit: Console.teamListLimit)))
        #expect(state.status?.text == "sample \(id) released to the review queue")
        #expect(Console.update(&state, .endUsers(.success(stale))) == [.loadEndUsers(limit: Console.teamListLimit)])
        let fresh = EndUsersData(users: try s.endUserTrust(flaggedOnly: false, limit: 500), held: try s.heldSamples(limit: 500))
        #expect(Console.update(&state, .endUsers(.success(fresh))).isEmpty)
        #expect(state.teamScreen.held?.contains { $0.sample.id == id } == false)
    }

    @Test func tabMovesBetweenPanelsAndJKActOnTheFocusedOne() throws {
        let s = try TeamFixture.store()
        var state = try headless(s, "7", width: 80, height: 24)
        #expect(state.teamScreen.panel == .held)
        try press(&state, s, "<Tab>")
        #expect(state.teamScreen.panel == .agreement)
        try press(&state, s, "jjj")
        #expect(state.teamScreen.agreementScroll == 3 && state.teamScreen.heldSelected == 0)
        try press(&state, s, String(repeating: "j", count: 80))
        let lines = Console.agreementLines(state, width: Console.teamLayout(state).agreement.width - 3).count
        #expect(state.teamScreen.agreementScroll == lines - Console.teamPanelRows(state, .agreement))
        try press(&state, s, "g<Tab>j")
        #expect(state.teamScreen.agreementScroll == 0 && state.teamScreen.panel == .users && state.teamScreen.userSelected == 1)
        try press(&state, s, "<S-Tab><S-Tab>j")
        #expect(state.teamScreen.panel == .held && state.teamScreen.heldSelected == 1)
        // Every row stays exactly the screen's width, CJK names and all.
        let b = Console.render(state)
        for y in 0..<b.height { #expect((0..<b.width).reduce(0) { $0 + Int(b[$1, y].width) } == b.width, "row \(y)") }
    }

    @Test func helpListsTheTeamKeys() throws {
        let s = try Fixture.store()
        let text = Console.render(try headless(s, "7?", height: 40)).text
        for b in KeyMap.team { #expect(text.contains(b.help), "help lacks \(b.help)") }
        #expect(text.contains("1-7"))
    }
}

@Suite(.serialized) struct TeamScreenSnapshotTests {
    @Test func snapshots() throws {
        let s = try TeamFixture.store()
        try assertSnapshot(try Fixture.screen(s, "7", width: 80, height: 24), named: "team-80x24")
        try assertSnapshot(try Fixture.screen(s, "7", width: 160, height: 40), named: "team-160x40")
        try assertSnapshot(try Fixture.screen(s, "7<Tab><Tab>j", width: 100, height: 24), named: "team-users-focus")
        try assertSnapshot(try Fixture.screen(s, "7?", width: 100, height: 24), named: "team-help")
        let empty = try Fixture.store()
        try assertSnapshot(try Fixture.screen(empty, "7", width: 80, height: 24), named: "team-empty-80x24")
        try assertSnapshot(try Fixture.screen(empty, "7", width: 160, height: 40), named: "team-empty-160x40")
    }
}

import Dispatch
import Foundation
import FlywheelCore
import FlywheelStore
import Testing
@testable import Console
import TerminalKit

// Team review in the console (issue 9), against real stores: reservations, overlap votes, the adjudication
// queue, and role refusals for every console action.

/// A clock tests move by hand (the console's and the runner's).
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64
    init(_ now: Int64) { value = now }
    var now: Int64 {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

/// Presses `keys` in a console that is already open (its state so far), letting each settle.
func press(_ state: inout AppState, _ source: ConsoleDataSource, _ keys: String, clock: @escaping @Sendable () -> Int64 = { Fixture.now }) throws {
    let runner = EffectRunner(data: source, clock: clock)
    runner.reviewer = state.reviewer
    for key in try KeyScript.parse(keys) {
        runner.start(Console.update(&state, .key(key)))
        Console.settle(&state, runner)
    }
    runner.finishWrites()
    Console.settle(&state, runner)
}

func held(_ s: Store) throws -> [String] {
    try s.reservations(now: Fixture.now).map { "\($0.sampleID):\($0.reviewer)" }.sorted()
}

@Suite(.serialized) struct ReservationTests {
    @Test func openingASampleReservesItAndLeavingGivesItUp() throws {
        let s = try Fixture.store()
        let state = try headless(s, "2")
        let r = try s.reservations(now: Fixture.now)
        #expect(r.count == 1 && r[0].sampleID == 2 && r[0].reviewer == "tester" && r[0].expiresAt == Fixture.now + 600_000)
        #expect(state.review.reservation?.sampleID == 2)
        #expect(Console.render(state).text.contains("reserved for you until 10:36"))
        // Moving on holds the next sample instead (one at a time).
        _ = try headless(s, "2j")
        #expect(try held(s) == ["3:tester"])
        // Leaving the screen gives it up; so does quitting; coming back takes the selected one again.
        _ = try headless(s, "2j1")
        #expect(try held(s).isEmpty)
        _ = try headless(s, "2q")
        #expect(try held(s).isEmpty)
        _ = try headless(s, "212")
        #expect(try held(s) == ["2:tester"])
        // A headless run that ends closes the console like quitting (a script's console does not keep a sample).
        let closed = try headless(s, "2j", close: true)
        #expect(try held(s).isEmpty && closed.review.reservation == nil)
    }

    @Test func anotherReviewersReservationHidesTheSample() throws {
        let s = try Fixture.store()
        #expect(try s.reserve(sampleID: 2, reviewer: "bob", now: Fixture.now) == .reserved(until: Fixture.now + 600_000))
        let state = try headless(s, "2")
        #expect(state.review.list.rows.map(\.sample.id) == [3, 1])
        #expect(state.counts?.queue == 2)
        #expect(try held(s) == ["2:bob", "3:tester"])
    }

    @Test func losingTheRaceDropsTheRowAndMovesOn() throws {
        let s = try Fixture.store()
        var state = try headless(s, "2")  // the list shows 2, 3, 1; tester holds 2
        _ = try s.reserve(sampleID: 3, reviewer: "bob", now: Fixture.now)  // bob's console got 3 first
        try press(&state, s, "j")
        #expect(state.review.list.rows.map(\.sample.id) == [2, 1])
        #expect(state.review.list.selectedRow?.sample.id == 1)
        #expect(state.status == StatusLine(text: "sample 3 was just taken by bob", isError: false))
        #expect(try held(s) == ["1:tester", "3:bob"])
        #expect(state.counts?.queue == 2)
    }

    /// Two consoles on one database file open the review queue at the same moment: one holds the first
    /// sample, the other never shows it as theirs.
    @Test func twoConsolesRacingNeverBothHoldTheSample() throws {
        for _ in 0..<5 {
            let s = try Fixture.store()
            let other = try Store.open(path: s.path!)
            nonisolated(unsafe) var states: [AppState?] = [nil, nil]
            let lock = NSLock()
            DispatchQueue.concurrentPerform(iterations: 2) { i in
                let st = try? headless(i == 0 ? s : other, "2", reviewer: i == 0 ? "alice" : "bob")
                lock.withLock { states[i] = st }
            }
            let alice = try #require(states[0]), bob = try #require(states[1])
            let holders = try s.reservations(now: Fixture.now)
            #expect(Set(holders.map(\.sampleID)).count == holders.count, "one holder per sample: \(holders)")
            for (name, st) in [("alice", alice), ("bob", bob)] {
                let mine = holders.first { $0.reviewer == name }?.sampleID
                #expect(st.review.reservation?.sampleID == mine)
                // Whatever the other holds is not on this reviewer's screen as theirs.
                let theirs = holders.filter { $0.reviewer != name }.map(\.sampleID)
                #expect(!theirs.contains(st.review.list.selectedRow?.sample.id ?? -1))
            }
        }
    }

    @Test func aDecisionOnASampleSomeoneElseHoldsIsRefusedAndTheRowStays() throws {
        let s = try Fixture.store()
        var state = try headless(s, "2")
        try s.releaseReservations(reviewer: "tester")  // tester's hold lapsed; bob took the sample
        _ = try s.reserve(sampleID: 2, reviewer: "bob", now: Fixture.now)
        try press(&state, s, "a")
        #expect(try s.sample(id: 2)?.state == "pending" && s.reviewActions(sampleID: 2).isEmpty)
        #expect(state.review.list.rows.map(\.sample.id) == [2, 3, 1] && state.review.list.selectedRow?.sample.id == 2)
        let text = try #require(state.status?.text)
        #expect(state.status?.isError == true)
        #expect(text.hasPrefix("sample 2 is reserved by bob until ") && text.hasSuffix(": not saved, pick another"), "\(text)")
    }

    @Test func theReservationIsRenewedWhileTheReviewerStays() throws {
        let s = try Fixture.store()
        let clock = TestClock(Fixture.now)
        var state = Fixture.state()
        state.clock = { clock.now }
        let runner = EffectRunner(data: s, clock: { clock.now })
        state = Console.runHeadless(state: state, runner: runner, keys: [.char("2")], leaveOpen: true)
        #expect(state.review.reservation?.until == Fixture.now + 600_000)
        let version = try #require(state.dataVersion)
        // The poll (every second in a terminal) renews it once half its time has gone, not before.
        clock.now += 4 * 60_000
        #expect(Console.update(&state, .dataVersion(.success(version))).isEmpty)
        clock.now += 2 * 60_000
        let effects = Console.update(&state, .dataVersion(.success(version)))
        #expect(effects == [.reserve(sampleID: 2, reviewer: "tester")])
        #expect(Console.update(&state, .dataVersion(.success(version))).isEmpty)  // asked once
        runner.start(effects)
        Console.settle(&state, runner)
        #expect(state.review.reservation?.until == clock.now + 600_000)
        #expect(try s.reservations(now: clock.now).map(\.expiresAt) == [clock.now + 600_000])
        // Half of the renewed hold has gone again, but the last key was 11 minutes ago: nobody is at the console,
        // so the hold is left to expire.
        clock.now += 5 * 60_000
        #expect(Console.update(&state, .dataVersion(.success(version))).isEmpty)
        // Not on the review screen: nothing to renew.
        try press(&state, s, "1", clock: { clock.now })
        clock.now += 9 * 60_000
        #expect(Console.update(&state, .dataVersion(.success(version))).isEmpty)
    }
}

@Suite(.serialized) struct OverlapTests {
    static func store(overlap: Int) throws -> Store {
        let s = try Fixture.store()
        try s.setTeamSetting("review.overlap", String(overlap), by: "root", now: Fixture.base)
        return s
    }

    @Test func aVoteLeavesTheSamplePendingUntilEnoughAreIn() throws {
        let s = try Self.store(overlap: 2)
        let first = try headless(s, "2a")
        #expect(try s.sample(id: 2)?.state == "pending")
        #expect(first.status == StatusLine(text: "vote recorded: 1 of 2 decisions; waiting for other reviewers", isError: false))
        #expect(!first.review.list.rows.contains { $0.sample.id == 2 })
        #expect(Console.render(first).text.contains("Review queue · overlap 2"))
        // The voter's queue no longer offers it; another reviewer's does, without the first vote on screen.
        #expect(try headless(s, "2").review.list.rows.map(\.sample.id) == [3, 1])
        let bob = try headless(s, "2", reviewer: "bob")
        #expect(bob.review.list.selectedRow?.sample.id == 2)
        let text = Console.render(bob).text
        #expect(!text.contains("tester") && !text.contains("approve") && !text.contains("Votes"))
        // Agreement makes it final.
        let agreed = try headless(s, "2a", reviewer: "bob")
        #expect(try s.sample(id: 2)?.state == "approved")
        #expect(agreed.status?.text == "#2 approved by bob (u undoes)")
    }

    @Test func aVoteCanBeUndoneWhileOthersAreStillToDecide() throws {
        let s = try Self.store(overlap: 2)
        let state = try headless(s, "2au")
        #expect(state.status?.text == "undone: #2 is pending again")
        #expect(state.review.list.rows.map(\.sample.id) == [2, 3, 1])
        #expect(try s.decisions(sampleID: 2, viewer: "tester").visible.isEmpty)
    }

    /// tester approves #2 and bob rejects it: disputed.
    static func disputed() throws -> Store {
        let s = try store(overlap: 2)
        _ = try headless(s, "2a")
        let bob = try headless(s, "2x", reviewer: "bob")
        #expect(bob.status == StatusLine(text: "reviewers disagreed: sample 2 goes to adjudication", isError: false))
        #expect(try s.sample(id: 2)?.state == "disputed")
        return s
    }

    @Test func aDisagreementGoesToAdjudicationWhereEveryVoteIsShown() throws {
        let s = try Self.disputed()
        let view = try headless(s, "2A", reviewer: "carol")
        #expect(view.review.adjudicating)
        #expect(view.review.list.rows.map(\.sample.id) == [2])
        #expect(view.review.votes?.list.visible.map(\.reviewer) == ["bob", "tester"])
        let text = Console.render(view).text
        for part in ["Adjudication · disputed samples", "Votes", "bob", "reject", "tester", "approve"] { #expect(text.contains(part), "\(part)") }
        #expect(try !held(s).contains { $0.hasSuffix(":carol") })  // the adjudication queue holds nothing
        // Deciding takes it out of the queue and makes it final; A goes back to the review queue.
        let decided = try headless(s, "2Ax", reviewer: "carol")
        #expect(try s.sample(id: 2)?.state == "rejected")
        #expect(decided.status?.text == "#2 adjudicated: rejected by carol (u undoes)")
        #expect(decided.review.list.isEmpty)
        let last = try #require(try s.reviewActions(sampleID: 2).last)
        #expect(last.action == "adjudicate" && last.reviewer == "carol")
        let back = try headless(s, "2AA", reviewer: "carol")
        #expect(!back.review.adjudicating && back.review.list.loaded && !back.review.list.rows.contains { $0.sample.id == 2 })
    }

    @Test func anAdjudicationCanBeUndoneAndAFixWritesTheAnswer() throws {
        let s = try Self.disputed()
        let undone = try headless(s, "2Aau", reviewer: "carol")
        #expect(try s.sample(id: 2)?.state == "disputed")
        #expect(undone.review.list.rows.map(\.sample.id) == [2])
        #expect(undone.status?.text == "undone: #2 is disputed again")
        _ = try headless(s, "2Ae<C-u>It says STOP.<Enter>", reviewer: "carol")
        #expect(try s.sample(id: 2)?.state == "fixed" && s.sample(id: 2)?.correctAnswer == "It says STOP.")
        let empty = try headless(s, "2A", reviewer: "carol")
        #expect(Console.render(empty).text.contains("no disputed samples"))
    }
}

/// The fixture's tags sample (#3, second in the queue): car correct, dog wrong, bicycle missing, as its feedback said.
@Suite(.serialized) struct TagVoteTests {
    static func verdicts(_ s: Store) throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try s.sampleTags(sampleID: 3).map { ($0.tag, $0.verdict) })
    }
    static let asFed = ["car": "correct", "dog": "wrong", "bicycle": "missing"]

    @Test func aTagFixIsOneVoteAndTheTagsChangeWhenTheVotesAgree() throws {
        let s = try OverlapTests.store(overlap: 2)
        let first = try headless(s, "2jenperson<Enter><Enter>")
        #expect(first.status == StatusLine(text: "vote recorded: 1 of 2 decisions; waiting for other reviewers", isError: false))
        #expect(try s.sample(id: 3)?.state == "pending" && Self.verdicts(s) == Self.asFed)
        #expect(!first.review.list.rows.contains { $0.sample.id == 3 })
        // Bob is offered it with the tags as they were, and nothing of the first vote.
        let bob = try headless(s, "2j", reviewer: "bob")
        #expect(bob.review.list.selectedRow?.sample.id == 3)
        let text = Console.render(bob).text
        #expect(text.contains("Tags") && !text.contains("person") && !text.contains("tester"))
        // The same set makes it final, with the agreed verdicts.
        let agreed = try headless(s, "2jenperson<Enter><Enter>", reviewer: "bob")
        #expect(agreed.status?.text == "#3 tags fixed by bob (u undoes)")
        #expect(try s.sample(id: 3)?.state == "fixed" && s.sample(id: 3)?.correctAnswer == "car, bicycle, person")
        #expect(try Self.verdicts(s) == ["car": "correct", "dog": "wrong", "bicycle": "missing", "person": "missing"])
        #expect(try s.reviewActions(sampleID: 3).map(\.action) == ["fix_tags", "fix_tags"])
    }

    @Test func aWaitingTagVoteIsWithdrawnWithU() throws {
        let s = try OverlapTests.store(overlap: 2)
        let undone = try headless(s, "2je<Space><Enter>u")
        #expect(undone.status?.text == "undone: #3 is pending again")
        #expect(try s.decisions(sampleID: 3, viewer: "tester").visible.isEmpty && Self.verdicts(s) == Self.asFed)
        #expect(undone.review.list.selectedRow?.sample.id == 3)
    }

    /// tester adds "person", bob marks car wrong: disputed.
    static func disputed() throws -> Store {
        let s = try OverlapTests.store(overlap: 2)
        _ = try headless(s, "2jenperson<Enter><Enter>")
        let bob = try headless(s, "2je<Space><Enter>", reviewer: "bob")
        #expect(bob.status == StatusLine(text: "reviewers disagreed: sample 3 goes to adjudication", isError: false))
        #expect(try s.sample(id: 3)?.state == "disputed" && Self.verdicts(s) == Self.asFed)
        return s
    }

    @Test func theAdjudicationViewShowsTagVotesAndEDecidesByTheTags() throws {
        let s = try Self.disputed()
        let view = try headless(s, "2A", height: 40, reviewer: "carol")
        #expect(view.review.list.rows.map(\.sample.id) == [3])
        #expect(view.review.votes?.list.visible.map { "\($0.reviewer) \($0.verdict.rawValue) \($0.answer ?? "")" }
                == ["bob fix bicycle", "tester fix car, bicycle, person"])
        let text = Console.render(view).text
        for part in ["Votes", "bob", "tester", "car, bicycle, person", "Tags      (e edits the verdicts)", "✗ wrong"] {
            #expect(text.contains(part), "\(part)")
        }
        // e opens the tag editor; its save is the adjudication, and u takes it back (tags and all).
        let editing = try headless(s, "2Ae", reviewer: "carol")
        #expect(editing.review.tagDraft?.sampleID == 3 && editing.mode == .normal)
        #expect(editing.status?.text.contains("Enter decides the sample") == true)
        let undone = try headless(s, "2Ae<Space>nperson<Enter><Enter>u", reviewer: "carol")
        #expect(undone.status?.text == "undone: #3 is disputed again")
        #expect(try s.sample(id: 3)?.state == "disputed" && Self.verdicts(s) == Self.asFed)
        #expect(undone.review.list.rows.map(\.sample.id) == [3])
        let decided = try headless(s, "2Ae<Space>nperson<Enter><Enter>", reviewer: "carol")
        #expect(decided.status?.text == "#3 adjudicated: fixed by carol (u undoes)")
        #expect(decided.review.list.isEmpty)
        #expect(try s.sample(id: 3)?.state == "fixed" && s.sample(id: 3)?.correctAnswer == "bicycle, person")
        #expect(try Self.verdicts(s) == ["car": "wrong", "dog": "wrong", "bicycle": "missing", "person": "missing"])
        let last = try #require(try s.reviewActions(sampleID: 3).last)
        #expect(last.action == "adjudicate" && last.reviewer == "carol")
        // The reviewers' votes stay as they were.
        #expect(try s.decisions(sampleID: 3, viewer: "carol").visible.map(\.answer) == ["bicycle", "car, bicycle, person"])
    }
}

@Suite(.serialized) struct RoleTests {
    static func refusal(_ name: String, _ role: TeamRole, _ action: TeamAction) -> String {
        PermissionError.notAllowed(TeamMember(name: name, role: role, createdAt: Fixture.base), action: action).description
    }

    static func teamStore() throws -> Store {
        let s = try Fixture.store()
        _ = try s.queueUnlabelledTurns(limit: 10, now: Fixture.now)
        try Fixture.addTeam(s)
        return s
    }

    @Test func anAnnotatorMayNotTakeAnyReviewAction() throws {
        let s = try Self.teamStore()
        let message = Self.refusal("ann", .annotator, .review)
        #expect(message == "ann is an annotator and may not review samples: that needs the reviewer or admin role")
        let tags = try headless(s, "2", reviewer: "ann").review.list.rows.firstIndex { $0.sample.taskType == "tags" }
        let tagKeys = "2" + String(repeating: "j", count: try #require(tags)) + "e"
        for keys in ["2a", "2x", "2e", "2c", "2u", tagKeys] {
            let state = try headless(s, keys, reviewer: "ann")
            #expect(state.status == StatusLine(text: message, isError: true), "\(keys)")
            #expect(state.mode == .normal && state.review.tagDraft == nil, "\(keys)")
        }
        for id: Int64 in [1, 2, 3] { #expect(try s.reviewActions(sampleID: id).isEmpty) }
        #expect(try held(s).isEmpty)  // someone who may not review holds nothing
    }

    @Test func aReviewerTakesTheSameActions() throws {
        let s = try Self.teamStore()
        let approved = try headless(s, "2au", reviewer: "rev")
        #expect(approved.status?.text == "undone: #2 is pending again")
        _ = try headless(s, "2c<Down><Enter>", reviewer: "rev")
        _ = try headless(s, "2x", reviewer: "rev")
        let tags = try headless(s, "2", reviewer: "rev").review.list.rows.firstIndex { $0.sample.taskType == "tags" }
        _ = try headless(s, "2" + String(repeating: "j", count: try #require(tags)) + "e<Enter>", reviewer: "rev")
        _ = try headless(s, "2e<C-u>七十八<Enter>", reviewer: "rev")
        #expect(try s.reviewActions(sampleID: 2).map(\.action) == ["approve", "undo", "recategorize", "reject"])
        #expect(try s.reviewActions(sampleID: 3).map(\.action) == ["fix_tags"])
        #expect(try s.sample(id: 1)?.correctAnswer == "七十八")
        #expect(Console.render(approved).text.contains("rev · reviewer"))
    }

    @Test func aPMMayNotAnnotateAndAnAnnotatorMay() throws {
        let s = try Self.teamStore()
        let message = Self.refusal("pm1", .pm, .annotate)
        for keys in ["6<Enter>", "6e", "6<Space>", "6s"] {
            let state = try headless(s, keys, reviewer: "pm1")
            #expect(state.status == StatusLine(text: message, isError: true), "\(keys)")
            #expect(state.mode == .normal)
        }
        #expect(try s.annotationProgress(goal: 10, now: Fixture.now).done == 0)
        let labelled = try headless(s, "6<Enter>", reviewer: "ann")
        #expect(labelled.status?.text.hasPrefix("task #") == true && labelled.status?.text.contains("labelled") == true)
        let skipped = try headless(s, "6s", reviewer: "ann")
        #expect(skipped.status?.text.hasPrefix("skipped task #") == true)
        #expect(try s.annotationProgress(goal: 10, now: Fixture.now).done == 1)
    }

    @Test func onlyAPMOrAdminChangesPrompts() throws {
        let s = try Self.teamStore()
        let calls = TestClock(0)  // counts optimiser calls
        let optimizer: PromptOptimizing = { _ in calls.now += 1; throw EffectRunner.Failure(description: "stub optimiser") }
        let versions = try #require(try headless(s, "4").prompts.data?.versions)
        let down = String(repeating: "j", count: try #require(versions.firstIndex { $0.name == "vqa-v2" }))
        let toV3 = String(repeating: "j", count: try #require(versions.firstIndex { $0.name == "vqa-v3" }))
        for (who, role) in [("rev", TeamRole.reviewer), ("ann", .annotator)] {
            let activate = try Fixture.run(s, "4" + down + "A", reviewer: who)
            #expect(activate.status == StatusLine(text: Self.refusal(who, role, .managePrompts), isError: true))
            let optimise = try Fixture.run(s, "4" + toV3 + "o", reviewer: who, optimizer: optimizer)
            #expect(optimise.status == StatusLine(text: Self.refusal(who, role, .optimize), isError: true))
            #expect(!optimise.prompts.optimizing)
        }
        #expect(calls.now == 0)
        #expect(try s.promptVersions().first { $0.name == "vqa-v3" }?.status == "active")
        let activated = try Fixture.run(s, "4" + down + "A", reviewer: "pm1")
        #expect(activated.status?.text == "vqa-v2 is now the active prompt")
        let optimised = try Fixture.run(s, "4" + toV3 + "o", reviewer: "pm1", optimizer: optimizer)
        #expect(optimised.status?.text == "optimisation failed: stub optimiser" && calls.now == 1)
    }

    @Test func onlyAnAdjudicatorOpensTheAdjudicationQueue() throws {
        let s = try Self.teamStore()
        try s.setTeamSetting("review.overlap", "2", by: "root", now: Fixture.base)
        _ = try headless(s, "2a", reviewer: "rev")
        _ = try headless(s, "2x", reviewer: "root")
        #expect(try s.sample(id: 2)?.state == "disputed")
        let refused = try headless(s, "2A", reviewer: "rev")
        #expect(!refused.review.adjudicating)
        #expect(refused.status == StatusLine(text: Self.refusal("rev", .reviewer, .adjudicate), isError: true))
        #expect(refused.status?.text.contains("the admin role, or a reviewer marked adjudicator") == true)
        // A reviewer marked adjudicator (and an admin) may; their decision is written through adjudicate.
        let adj = try headless(s, "2Aa", reviewer: "adj")
        #expect(adj.status?.text == "#2 adjudicated: approved by adj (u undoes)")
        #expect(try s.sample(id: 2)?.state == "approved")
    }

    /// The role changes while the console is open: the store refuses with the same message, the row comes
    /// back, and once the console has read the roles again it refuses by itself.
    @Test func aRoleChangedMidSessionEndsInTheStoresMessage() throws {
        let s = try Self.teamStore()
        var state = try headless(s, "2", reviewer: "rev")
        try s.setRole(name: "rev", role: .annotator, by: "root", now: Fixture.now)
        try press(&state, s, "a")
        let message = Self.refusal("rev", .annotator, .review)
        #expect(state.status == StatusLine(text: message, isError: true))
        #expect(state.review.list.rows.map(\.sample.id) == [2, 3, 1] && state.review.list.selectedRow?.sample.id == 2)
        #expect(try s.reviewActions(sampleID: 2).isEmpty)
        try press(&state, s, "<C-r>x")
        #expect(state.status == StatusLine(text: message, isError: true))
        #expect(state.team?.member?.role == .annotator)
    }
}

@Suite(.serialized) struct TeamSnapshotTests {
    @Test func snapshots() throws {
        let plain = try Fixture.store()
        try assertSnapshot(try Fixture.screen(plain, "2j", width: 120, height: 24), named: "review-reserved")

        let overlap = try OverlapTests.store(overlap: 2)
        try assertSnapshot(try Fixture.screen(overlap, "2a", width: 130, height: 24), named: "review-overlap-waiting")

        let disputed = try OverlapTests.disputed()
        try assertSnapshot(try Fixture.screen(disputed, "2A", width: 120, height: 30, reviewer: "carol"), named: "review-adjudication")

        let tags = try TagVoteTests.disputed()
        try assertSnapshot(try Fixture.screen(tags, "2A", width: 120, height: 30, reviewer: "carol"), named: "review-adjudication-tags")
        try assertSnapshot(try Fixture.screen(tags, "2Ae<Space>", width: 120, height: 30, reviewer: "carol"), named: "review-adjudication-tags-editing")

        let team = try RoleTests.teamStore()
        try assertSnapshot(try Fixture.screen(team, "2a", width: 160, height: 20, reviewer: "ann"), named: "review-refused-role")
        // On a narrow terminal the refusal takes the counts' room, so the role that may act is still named.
        let narrow = try Fixture.screen(team, "2a", width: 100, height: 12, reviewer: "ann")
        #expect(narrow.split(separator: "\n").last.map(String.init)
                == " 2 Review │ ann is an annotator and may not review samples: that needs the reviewer or admin role")
    }
}

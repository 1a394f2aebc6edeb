import Dispatch
import Foundation
import FlywheelCore
import FlywheelStore
import Testing
@testable import Console
import TerminalKit

/// A data source that forwards to a store, but can hold reads until released or fail writes, to show the
/// console's behaviour when the database is slow or refuses.
final class ControlledSource: ConsoleDataSource, @unchecked Sendable {
    let store: Store
    let gate = DispatchSemaphore(value: 0)
    var holdReads = false
    var failWrites = false
    init(_ store: Store) { self.store = store }
    func hold() { if holdReads { gate.wait(); gate.signal() } }

    func sessionsPage(_ q: SessionQuery, cursor: SessionCursor?, direction: PageDirection, limit: Int) throws -> [SessionSummary] {
        hold(); return try store.sessionsPage(q, cursor: cursor, direction: direction, limit: limit)
    }
    func sessionCounts() throws -> (total: Int, flagged: Int) { hold(); return try store.sessionCounts() }
    func conversation(sessionID: String, limit: Int) throws -> [FlywheelStore.ConversationTurn] { hold(); return try store.conversation(sessionID: sessionID, limit: limit) }
    func sampleContext(sampleID: Int64, before: Int, after: Int) throws -> [FlywheelStore.ConversationTurn] { hold(); return try store.sampleContext(sampleID: sampleID, before: before, after: after) }
    func reviewQueue(_ viewer: QueueViewer?, cursor: QueueCursor?, direction: PageDirection, limit: Int) throws -> [QueueItem] { hold(); return try store.reviewQueue(viewer, cursor: cursor, direction: direction, limit: limit) }
    func reviewQueueCount(_ viewer: QueueViewer?) throws -> Int { hold(); return try store.reviewQueueCount(viewer) }
    func review(sampleID: Int64, decision: ReviewDecision, reviewer: String, now: Int64) throws -> ReviewRecord {
        struct DiskFull: Error, CustomStringConvertible { var description: String { "disk full" } }
        if failWrites { throw DiskFull() }
        return try store.review(sampleID: sampleID, decision: decision, reviewer: reviewer, now: now)
    }
    func undo(_ record: ReviewRecord, reviewer: String, now: Int64) throws -> ReviewRecord { try store.undo(record, reviewer: reviewer, now: now) }
    func dataVersion() throws -> Int { try store.dataVersion() }
    func defaultInsightWindow(days: Int) throws -> InsightWindow? { hold(); return try store.defaultInsightWindow(days: days) }
    func categoryBreakdown(_ w: InsightWindow) throws -> [BreakdownRow] { try store.categoryBreakdown(w) }
    func samples(in w: InsightWindow, taskType: String?, model: String?, promptVersion: String?, category: String?, limit: Int) throws -> [SampleRow] {
        try store.samples(in: w, taskType: taskType, model: model, promptVersion: promptVersion, category: category, limit: limit)
    }
    func promptVersions() throws -> [PromptVersion] { hold(); return try store.promptVersions() }
    func promptOutcomes(_ w: InsightWindow?) throws -> [PromptOutcome] { try store.promptOutcomes(w) }
    func activatePromptVersion(_ name: String, by actor: String?, now: Int64) throws { try store.activatePromptVersion(name, by: actor, now: now) }
    func metricSeries(_ w: InsightWindow, bucket: MetricBucket) throws -> [MetricPoint] { try store.metricSeries(w, bucket: bucket) }
    func oldestPendingSample() throws -> (id: Int64, createdAt: Int64)? { try store.oldestPendingSample() }
    func imageFile(id: Int64) throws -> ImageFile? { try store.imageFile(id: id) }
    func sampleTags(sampleID: Int64) throws -> [SampleTag] { try store.sampleTags(sampleID: sampleID) }
    func reviewTags(sampleID: Int64, verdicts: [String: String], added: [String], reviewer: String, now: Int64) throws -> ReviewRecord {
        try store.reviewTags(sampleID: sampleID, verdicts: verdicts, added: added, reviewer: reviewer, now: now)
    }
    func nextAnnotationTasks(after id: Int64?, limit: Int) throws -> [AnnotationTask] { try store.nextAnnotationTasks(after: id, limit: limit) }
    func annotationProgress(goal: Int, now: Int64) throws -> AnnotationProgress { try store.annotationProgress(goal: goal, now: now) }
    func annotate(taskID: Int64, answer: String?, tags: [String]?, annotator: String, now: Int64) throws -> Int64 {
        try store.annotate(taskID: taskID, answer: answer, tags: tags, annotator: annotator, now: now)
    }
    func skipAnnotation(taskID: Int64, annotator: String, now: Int64) throws { try store.skipAnnotation(taskID: taskID, annotator: annotator, now: now) }
    func reserve(sampleID: Int64, reviewer: String, now: Int64) throws -> ReservationOutcome { try store.reserve(sampleID: sampleID, reviewer: reviewer, now: now) }
    func releaseReservations(reviewer: String) throws { try store.releaseReservations(reviewer: reviewer) }
    func disputedSamples(limit: Int) throws -> [QueueItem] { hold(); return try store.disputedSamples(limit: limit) }
    func decisions(sampleID: Int64, viewer: String) throws -> (visible: [Vote], hidden: Int) { try store.decisions(sampleID: sampleID, viewer: viewer) }
    func adjudicate(sampleID: Int64, decision: ReviewDecision, adjudicator: String, now: Int64) throws -> ReviewRecord {
        try store.adjudicate(sampleID: sampleID, decision: decision, adjudicator: adjudicator, now: now)
    }
    func adjudicateTags(sampleID: Int64, verdicts: [String: String], added: [String], adjudicator: String, now: Int64) throws -> ReviewRecord {
        try store.adjudicateTags(sampleID: sampleID, verdicts: verdicts, added: added, adjudicator: adjudicator, now: now)
    }
    func teamMember(named name: String) throws -> TeamMember? { try store.teamMember(named: name) }
    func rolesEnforced() throws -> Bool { try store.rolesEnforced() }
    func teamSettings() throws -> TeamSettings { try store.teamSettings() }
    func authorize(_ actor: String, _ action: TeamAction) throws { try store.authorize(actor, action) }
    func agreementReport() throws -> AgreementReport { hold(); return try store.agreementReport() }
    func endUserTrust(flaggedOnly: Bool, limit: Int) throws -> [EndUserTrustRow] { hold(); return try store.endUserTrust(flaggedOnly: flaggedOnly, limit: limit) }
    func heldSamples(limit: Int) throws -> [HeldSample] { hold(); return try store.heldSamples(limit: limit) }
    func decideHeld(sampleID: Int64, release: Bool, by actor: String, now: Int64) throws -> ReviewRecord {
        struct DiskFull: Error, CustomStringConvertible { var description: String { "disk full" } }
        if failWrites { throw DiskFull() }
        return try store.decideHeld(sampleID: sampleID, release: release, by: actor, now: now)
    }
}

/// Runs `keys` in a console on `source`; it is left open (see `Fixture.run`) unless `close`.
func headless(_ source: ConsoleDataSource, _ keys: String, width: Int = 100, height: Int = 24, reviewer: String = "tester",
              close: Bool = false) throws -> AppState {
    Console.runHeadless(state: Fixture.state(width: width, height: height, reviewer: reviewer), runner: EffectRunner(data: source, clock: { Fixture.now }),
                        keys: try KeyScript.parse(keys), leaveOpen: !close)
}

@Suite(.serialized) struct DecisionTests {
    @Test func approveWritesExactlyOneDecisionWithTheReviewer() throws {
        let s = try Fixture.store()
        let state = try headless(s, "2a")
        let actions = try s.reviewActions(sampleID: 2)
        #expect(actions.count == 1)
        #expect(actions.first?.action == "approve" && actions.first?.reviewer == "tester" && actions.first?.at == Fixture.now)
        #expect(try s.sample(id: 2)?.state == "approved")
        #expect(try s.reviewActions(sampleID: 1).isEmpty)
        // The decided sample left the queue; the next one is selected and the counts follow.
        #expect(state.review.list.rows.map(\.sample.id) == [3, 1])
        #expect(state.counts?.queue == 2)
        #expect(state.status?.text == "#2 approved by tester (u undoes)")
    }

    @Test func rejectEditAndUndo() throws {
        let s = try Fixture.store()
        _ = try headless(s, "2x")
        #expect(try s.sample(id: 2)?.state == "rejected")
        let state = try headless(s, "2je<C-u>七十八元<Enter>")  // the queue is now [3 (tags), 1]
        #expect(try s.sample(id: 1)?.state == "fixed")
        #expect(try s.sample(id: 1)?.correctAnswer == "七十八元")
        #expect(state.review.list.rows.map(\.sample.id) == [3])
        // A fresh console has no decisions of its own to undo.
        let fresh = try headless(s, "2u")
        #expect(fresh.status?.text == "nothing to undo")
        // Undo in the same console puts the sample back, pending, selected, and logs the undo.
        let undone = try headless(s, "1") // sanity: sessions still load
        #expect(undone.sessions.list.rows.count == 3)
    }

    @Test func undoRestoresTheSampleAndAppendsToTheLog() throws {
        let s = try Fixture.store()
        let state = try headless(s, "2au")
        #expect(try s.sample(id: 2)?.state == "pending")
        #expect(try s.reviewActions(sampleID: 2).map(\.action) == ["approve", "undo"])
        #expect(state.review.list.rows.map(\.sample.id) == [2, 3, 1])
        #expect(state.review.list.selectedRow?.sample.id == 2)
        #expect(state.status?.text == "undone: #2 is pending again")
        #expect(state.counts?.queue == 3)
    }

    @Test func editThenUndoThenUndoAgainHasNothingLeft() throws {
        let s = try Fixture.store()
        let state = try headless(s, "2jje<BS><BS>78<Enter>uu")
        #expect(try s.sample(id: 1)?.state == "pending" && s.sample(id: 1)?.correctAnswer == "78")
        #expect(state.status?.text == "nothing to undo")
    }

    @Test func changingTheCategoryKeepsTheSampleInTheQueue() throws {
        let s = try Fixture.store()
        let state = try headless(s, "2c<Down><Down><Enter>")  // visual_understanding_error -> unknown (last)
        #expect(try s.sample(id: 2)?.category == "unknown")
        #expect(try s.sample(id: 2)?.state == "pending")
        #expect(state.review.list.rows.first?.sample.category == "unknown")
        #expect(try s.reviewActions(sampleID: 2).map(\.action) == ["recategorize"])
        let escaped = try headless(s, "2cj<Esc>")
        #expect(try s.reviewActions(sampleID: 2).count == 1 && escaped.mode == .normal)
    }

    @Test func skipMovesOnWithoutWriting() throws {
        let s = try Fixture.store()
        let state = try headless(s, "2s")
        #expect(state.review.list.selectedRow?.sample.id == 3)
        #expect(try s.reviewActions(sampleID: 2).isEmpty)
        #expect(state.status?.text == "skipped #2; it stays in the queue")
    }

    @Test func anEmptyAnswerIsRefusedAndEscCancelsTheEdit() throws {
        let s = try Fixture.store()
        let state = try headless(s, "2e<C-u><Enter>")
        #expect(state.status == StatusLine(text: "the correct answer cannot be empty (Esc cancels)", isError: true))
        if case .editAnswer = state.mode {} else { Issue.record("still editing expected") }
        let cancelled = try headless(s, "2exyz<Esc>")
        #expect(cancelled.mode == .normal && cancelled.status?.text == "edit cancelled")
        #expect(try s.reviewActions(sampleID: 2).isEmpty && s.sample(id: 2)?.correctAnswer == "It says SHOP.")
    }

    @Test func aSampleWithoutAnAnswerCannotBeApproved() throws {
        let s = try Fixture.store()
        _ = try headless(s, "2e<C-u>x<Enter>")  // make sample 2 fixed so the list is [1]
        var state = try headless(s, "2")
        // Simulate a needs_answer sample in the list.
        state.review.list.update(at: 0) { $0.sample.correctAnswer = nil; $0.sample.state = "needs_answer" }
        let effects = Console.update(&state, .key(.char("a")))
        #expect(effects.isEmpty)
        let id = state.review.list.rows[0].sample.id
        #expect(state.status == StatusLine(text: "#\(id) has no correct answer yet: press e to write one", isError: true))
    }

    @Test func aFailedWriteBringsTheRowBackWithTheError() throws {
        let s = try Fixture.store()
        let source = ControlledSource(s)
        source.failWrites = true
        let state = try headless(source, "2jja")
        #expect(state.review.list.rows.map(\.sample.id) == [2, 3, 1])
        #expect(state.review.list.selectedRow?.sample.id == 1)
        #expect(state.status == StatusLine(text: "#1 not saved: disk full", isError: true))
        #expect(try s.reviewActions(sampleID: 1).isEmpty)
    }

    @Test func anotherReviewersDecisionIsReportedNotOverwritten() throws {
        let s = try Fixture.store()
        var state = try headless(s, "2")
        // The console's reservation lapses (as after a long pause); someone else decides the sample meanwhile.
        try s.releaseReservations(reviewer: "tester")
        _ = try s.review(sampleID: 2, decision: .reject, reviewer: "someone-else", now: Fixture.now)
        let runner = EffectRunner(data: s, clock: { Fixture.now })
        runner.start(Console.update(&state, .key(.char("a"))))
        Console.settle(&state, runner)
        #expect(try s.sample(id: 2)?.state == "rejected")
        #expect(state.status == StatusLine(text: "sample 2 is already rejected (another reviewer got there first)", isError: true))
        #expect(try s.reviewActions(sampleID: 2).map(\.reviewer) == ["someone-else"])
    }
}

@Suite(.serialized) struct RuntimeTests {
    /// A query that does not return never blocks the keyboard: keys are handled while it runs, the spinner
    /// shows, and the answer is applied when it comes.
    @Test func aSlowQueryDoesNotFreezeInput() throws {
        let s = try Fixture.store()
        let source = ControlledSource(s)
        source.holdReads = true
        let runner = EffectRunner(data: source, clock: { Fixture.now })
        var state = Fixture.state()
        runner.start(Console.start(&state))
        #expect(state.isBusy)
        #expect(Console.render(state).text.contains("loading"))
        for key: Key in [.char("2"), .char("?"), .esc, .char("5"), .char("1")] { runner.start(Console.update(&state, .key(key))) }
        #expect(state.screen == .sessions && !state.showHelp)
        _ = Console.update(&state, .tick)
        #expect(Console.render(state).lines().last?.contains("⠙ loading") == true)
        source.gate.signal()
        Console.settle(&state, runner)
        #expect(!state.isBusy)
        #expect(state.sessions.list.rows.count == 3)
        #expect(state.counts == Counts(sessions: 3, flagged: 1, queue: 3))
    }

    @Test func anotherProcessesCommitIsPickedUpByPolling() throws {
        let s = try Fixture.store()
        var state = try headless(s, "2")
        #expect(state.review.list.rows.count == 3)
        let other = try Store.open(path: s.path!)
        _ = try other.review(sampleID: 1, decision: .approve, reviewer: "collector-side", now: Fixture.now)
        let runner = EffectRunner(data: s, clock: { Fixture.now })
        runner.start(.pollDataVersion)
        Console.settle(&state, runner)
        #expect(state.review.list.rows.map(\.sample.id) == [2, 3])
        #expect(state.counts?.queue == 2)
    }

    @Test func quitWaitsForWritesAndStopsReadingKeys() throws {
        let s = try Fixture.store()
        let state = try headless(s, "2aqa")
        #expect(state.wantsQuit)
        #expect(try s.reviewActions(sampleID: 2).count == 1)
        #expect(try s.reviewActions(sampleID: 1).isEmpty)
    }

    @Test func unknownKeysSayWhatToDo() throws {
        let s = try Fixture.store()
        let state = try headless(s, "Z")
        #expect(state.status?.text == "Z does nothing here; ? shows the keys")
    }

    @Test func helpIsGeneratedFromTheBindings() throws {
        let s = try Fixture.store()
        let text = Console.render(try headless(s, "2?", height: 50)).text
        for b in KeyMap.review { #expect(text.contains(b.help), "help lacks \(b.help)") }
        for b in KeyMap.global { if case .screen = b.action { continue }; #expect(text.contains(b.help)) }
    }
}

@Suite struct PagingTests {
    struct Row { var id: Int }
    typealias List = PagedList<Row, Int>

    @Test func windowGrowsAtTheEndsAndStaysBounded() {
        var list = List(cursorOf: { $0.id })
        let page = List.pageSize
        list.reset((0..<page).map(Row.init), requested: page)
        #expect(list.wantsForward(margin: 30) == nil)
        list.move(by: page - 10)
        #expect(list.wantsForward(margin: 30) == page - 1)
        var next = page
        // Walk far down: the window never holds more than maxRows and the selection stays on its row.
        for _ in 0..<20 {
            guard let c = list.wantsForward(margin: 30) else { break }
            list.append((next..<next + page).map(Row.init), requested: page, after: c)
            next += page
            list.move(by: page)
            #expect(list.rows.count <= List.maxRows)
            #expect(list.selectedRow!.id == list.rows[list.selected].id)
        }
        let selectedID = list.selectedRow!.id
        #expect(selectedID > 1500)
        #expect(!list.atStart)
        // Going back up asks for the page before the first row held.
        list.move(by: -list.selected)
        #expect(list.wantsBackward(margin: 30) == list.rows[0].id)
        let first = list.rows[0].id
        list.prepend((first - page..<first).map(Row.init), requested: page, before: first)
        #expect(list.selectedRow!.id == first)
        #expect(list.rows.count <= List.maxRows)
    }

    @Test func stalePagesAreDropped() {
        var list = List(cursorOf: { $0.id })
        list.reset([Row(id: 1), Row(id: 2)], requested: 2)
        list.append([Row(id: 9)], requested: 100, after: 5)  // answer to a request from another position
        #expect(list.rows.map(\.id) == [1, 2])
        list.append([Row(id: 3)], requested: 100, after: 2)
        #expect(list.rows.map(\.id) == [1, 2, 3] && list.wantsForward(margin: 10) == nil)
    }

    @Test func removeKeepsTheSelectionOnTheNextRow() {
        var list = List(cursorOf: { $0.id })
        list.reset([Row(id: 1), Row(id: 2), Row(id: 3)], requested: 100)
        list.move(by: 1)
        list.remove(at: 1)
        #expect(list.selectedRow?.id == 3)
        list.remove(at: 1)
        #expect(list.selectedRow?.id == 1)
        list.insert(Row(id: 2), at: 1)
        #expect(list.selectedRow?.id == 2)
    }
}

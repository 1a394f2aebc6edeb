import Foundation
import GRDB
import Testing
@testable import FlywheelCore
@testable import FlywheelStore

// The review console's store API: session and queue paging, conversations, review decisions and undo.

/// A turn event; `second` counts from 2026-05-01T00:00:00Z.
private func turn(_ session: String, _ index: Int, _ role: String, _ content: String, request: String, second: Int,
                  user: String = "u", image: String? = nil) -> String {
    var object: [String: Any] = [
        "type": "turn", "event_id": "\(session)-t\(index)", "session_id": session, "user_id": user, "turn_index": index,
        "role": role, "content": content, "request_id": request,
        "ts": String(format: "2026-05-01T%02d:%02d:%02dZ", second / 3600, second / 60 % 60, second % 60),
    ]
    if let image { object["image"] = ["ref": image] }
    return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
}

private let base = Timestamp.parseMillis("2026-05-01T00:00:00Z")!

private func signal(_ session: String, _ request: String, _ kind: SignalKind, rule: String = "r", confidence: Double = 0.9) -> NewSignal {
    NewSignal(sessionID: session, requestID: request, kind: kind, confidence: confidence, rule: rule, evidence: "ev-\(kind.rawValue)",
              evidenceTurnID: nil)
}

private func addSignals(_ store: Store, _ session: String, _ signals: [NewSignal]) throws {
    _ = try store.recordAnalyses([.init(sessionID: session, signals: signals, samples: [])], now: 1)
}

private func sample(_ request: String, state: SampleState = .pending, quality: SampleQuality = .high,
                    source: SampleSource = .userCorrection, answer: String? = nil, category: ErrorCategory = .unknown,
                    session: String? = nil, question: Int64? = nil, answerTurn: Int64? = nil, image: Int64? = nil) -> NewSample {
    NewSample(source: source, quality: quality, state: state, taskType: "vqa", question: "q?", wrongAnswer: "w",
              correctAnswer: answer, category: category, sessionID: session, requestID: request, questionTurnID: question,
              answerTurnID: answerTurn, imageID: image, evidence: nil, extraction: nil, model: nil, promptVersion: nil)
}

/// Inserts samples one by one so their ids follow the array (1, 2, …).
private func addSamples(_ store: Store, _ samples: [NewSample]) throws -> [Int64] {
    try samples.map { s in
        #expect(try store.insertSamples([s], now: 5) == 1)
        return try store.writer.read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM training_samples")! }
    }
}

/// 25 sessions c00…c24 of two turns each; session i ends at second i/3, so sessions tie on last_ts in threes
/// and the tie is broken by session_id. Newest first, that is c24, c23, …, c00.
private func sessionFixture(_ store: Store) throws {
    var lines: [String] = []
    for i in 0..<25 {
        let id = String(format: "c%02d", i)
        var question = "question \(i)"
        switch i {
        case 5: question = "这张发票的价格是多少？"
        case 7: question = "I am 100% sure_thing"
        case 8: question = "I am 100 percent sure-thing"
        case 9: question = "Hello WORLD"
        default: break
        }
        lines.append(turn(id, 0, "user", question, request: "\(id)-r", second: i / 3, user: i == 3 ? "alice" : "u"))
        lines.append(turn(id, 1, "assistant", "answer \(i)", request: "\(id)-r", second: i / 3, user: i == 3 ? "alice" : "u"))
    }
    #expect(try insert(store, lines).ingested == 50)
    try addSignals(store, "c02", [signal("c02", "c02-r", .slowResponse), signal("c02", "c02-r", .correction)])
    try addSignals(store, "c04", [signal("c04", "c04-r", .repeatedQuestion)])
    try addSignals(store, "c20", [signal("c20", "c20-r", .errorLog), signal("c20", "c20-r", .errorLog, rule: "r2")])
}

private let newestFirst = (0..<25).reversed().map { String(format: "c%02d", $0) }

/// Every page forward from the top, then every page backward from the bottom.
private func allPages(_ store: Store, _ query: SessionQuery, size: Int) throws -> (forward: [[String]], backward: [[String]]) {
    var forward: [[String]] = []
    var cursor: SessionCursor?
    while true {
        let page = try store.sessionsPage(query, cursor: cursor, direction: .forward, limit: size)
        if page.isEmpty { break }
        forward.append(page.map(\.sessionID))
        cursor = page.last!.cursor
        #expect(forward.count < 100)
        if forward.count >= 100 { break }
    }
    var backward: [[String]] = []
    cursor = nil
    while true {
        let page = try store.sessionsPage(query, cursor: cursor, direction: .backward, limit: size)
        if page.isEmpty { break }
        backward.insert(page.map(\.sessionID), at: 0)
        cursor = page.first!.cursor
        if backward.count >= 100 { break }
    }
    return (forward, backward)
}

private func ids(_ store: Store, _ query: SessionQuery) throws -> [String] {
    try store.sessionsPage(query, cursor: nil, direction: .forward, limit: 100).map(\.sessionID)
}

@Suite struct ConsoleQueriesTests {
    // MARK: Sessions

    @Test func sessionPagesCoverEverySessionOnceInOrder() throws {
        try withEachStore { (store: Store) throws in
            try sessionFixture(store)
            let pages = try allPages(store, SessionQuery(), size: 4)
            #expect(pages.forward.flatMap { $0 } == newestFirst)
            #expect(pages.forward.map(\.count) == [4, 4, 4, 4, 4, 4, 1])
            #expect(pages.backward.flatMap { $0 } == newestFirst)
            #expect(pages.backward.map(\.count) == [1, 4, 4, 4, 4, 4, 4])

            // From a cursor in the middle of a last_ts tie (c23, c22 and c21 end at the same second).
            let all = try store.sessionsPage(SessionQuery(), cursor: nil, direction: .forward, limit: 100)
            let c22 = try #require(all.first { $0.sessionID == "c22" })
            #expect(c22.lastTs == base + 7000 && c22.firstTs == base + 7000 && c22.turnCount == 2 && c22.userID == "u")
            #expect(try store.sessionsPage(SessionQuery(), cursor: c22.cursor, direction: .forward, limit: 3).map(\.sessionID) == ["c21", "c20", "c19"])
            #expect(try store.sessionsPage(SessionQuery(), cursor: c22.cursor, direction: .backward, limit: 3).map(\.sessionID) == ["c24", "c23"])
            #expect(try store.sessionsPage(SessionQuery(), cursor: c22.cursor, direction: .backward, limit: 1).map(\.sessionID) == ["c23"])
            #expect(try store.sessionsPage(SessionQuery(), cursor: nil, direction: .forward, limit: 0).isEmpty)
            #expect(try store.sessionCounts() == (total: 25, flagged: 3))
        }
    }

    @Test func flaggedOnlyAndSignalKinds() throws {
        try withEachStore { (store: Store) throws in
            try sessionFixture(store)
            let flagged = SessionQuery(flaggedOnly: true)
            let pages = try allPages(store, flagged, size: 2)
            #expect(pages.forward == [["c20", "c04"], ["c02"]])
            #expect(pages.backward == [["c20"], ["c04", "c02"]])
            let rows = try store.sessionsPage(flagged, cursor: nil, direction: .forward, limit: 10)
            #expect(rows.map(\.signalKinds) == [["error_log"], ["repeated_question"], ["correction", "slow_response"]])
            #expect(try store.sessionsPage(SessionQuery(), cursor: nil, direction: .forward, limit: 1)[0].signalKinds == [])
        }
    }

    @Test func searchMatchesIdsUsersAndContent() throws {
        try withEachStore { (store: Store) throws in
            try sessionFixture(store)
            #expect(try ids(store, SessionQuery(search: "价格")) == ["c05"])
            #expect(try ids(store, SessionQuery(search: "world")) == ["c09"])      // ASCII case folded
            #expect(try ids(store, SessionQuery(search: "ALIC")) == ["c03"])       // user_id
            #expect(try ids(store, SessionQuery(search: "c1")) == (10...19).reversed().map { "c\($0)" })  // session_id
            #expect(try ids(store, SessionQuery(search: "answer 2")) == ["c24", "c23", "c22", "c21", "c20", "c02"])
            // % and _ are literal characters, not wildcards.
            #expect(try ids(store, SessionQuery(search: "100%")) == ["c07"])
            #expect(try ids(store, SessionQuery(search: "e_t")) == ["c07"])
            #expect(try ids(store, SessionQuery(search: "%")) == ["c07"])
            #expect(try ids(store, SessionQuery(search: "\\")) == [])
            #expect(try ids(store, SessionQuery(search: "")).count == 25)
            #expect(try ids(store, SessionQuery(flaggedOnly: true, search: "answer 2")) == ["c20", "c02"])
            // Paging within a search.
            let pages = try allPages(store, SessionQuery(search: "answer 2"), size: 4)
            #expect(pages.forward == [["c24", "c23", "c22", "c21"], ["c20", "c02"]])
            #expect(pages.backward == [["c24", "c23"], ["c22", "c21", "c20", "c02"]])
        }
    }

    @Test func sessionAndQueuePlansUseIndexesWithoutSorting() throws {
        let store = try Store.inMemory()
        func plan(_ statement: (sql: String, arguments: StatementArguments)) throws -> [String] {
            try store.writer.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + statement.sql, arguments: statement.arguments).map { $0["detail"] as String }
            }
        }
        let cursor = SessionCursor(lastTs: 5, sessionID: "x")
        for query in [SessionQuery(), SessionQuery(flaggedOnly: true), SessionQuery(flaggedOnly: true, search: "a")] {
            for direction in [PageDirection.forward, .backward] {
                for c in [nil, cursor] {
                    let details = try plan(Store.sessionsPageStatement(query, cursor: c, direction: direction, limit: 50))
                    #expect(details.first?.contains("INDEX sessions_last_ts") == true, "\(details)")
                    if c != nil { #expect(details.first?.hasPrefix("SEARCH s") == true, "\(details)") }
                    #expect(!details.contains { $0.contains("TEMP B-TREE FOR ORDER BY") }, "\(details)")
                    #expect(!details.contains { $0.hasPrefix("SCAN g") || $0.hasPrefix("SCAN t") }, "\(details)")
                }
            }
        }
        let q = QueueCursor(rank: 1, id: 7)
        let expected: [(Store.QueueStep, String)] = [
            (.all, "SCAN s USING INDEX training_samples_review_queue"),
            (.restOfRank(q), "SEARCH s USING INDEX training_samples_review_queue (review_rank=? AND "),
            (.ranksBeyond(1), "SEARCH s USING INDEX training_samples_review_queue (review_rank"),
        ]
        for (step, first) in expected {
            for direction in [PageDirection.forward, .backward] {
                let details = try plan(Store.reviewQueueStatement(step, direction: direction, limit: 50))
                #expect(details.first?.hasPrefix(first) == true, "\(details)")
                #expect(!details.contains { $0.contains("TEMP B-TREE") }, "\(details)")
            }
        }
    }

    // MARK: Conversations

    @Test func conversationAttachesSignalsAndImages() throws {
        try withEachStore { (store: Store) throws in
            let lines = [
                turn("s", 0, "user", "这个数字是多少?", request: "r1", second: 0, image: "images/a.png"),
                turn("s", 1, "assistant", "87", request: "r1", second: 1),
                turn("s", 2, "user", "不对，是78", request: "r2", second: 2),
                turn("s", 3, "assistant", "78", request: "r2", second: 3),
                turn("s", 4, "user", "and this?", request: "r3", second: 4, image: "images/b.png"),
                turn("s", 5, "assistant", "7", request: "r3", second: 5),
                turn("other", 0, "user", "hi", request: "o1", second: 9),
                turn("other", 1, "assistant", "hello", request: "o1", second: 9),
            ]
            _ = try insert(store, lines)
            try addSignals(store, "s", [signal("s", "r1", .correction, confidence: 0.8), signal("s", "r1", .slowResponse, confidence: 0.5),
                                        signal("s", "r3", .repeatedQuestion)])
            try addSignals(store, "other", [signal("other", "o1", .correction)])
            let turns = try store.conversation(sessionID: "s")
            #expect(turns.map(\.turnIndex) == [0, 1, 2, 3, 4, 5])
            #expect(turns.map(\.role) == ["user", "assistant", "user", "assistant", "user", "assistant"])
            #expect(turns.map(\.content) == ["这个数字是多少?", "87", "不对，是78", "78", "and this?", "7"])
            #expect(turns.map(\.requestID) == ["r1", "r1", "r2", "r2", "r3", "r3"])
            #expect(turns.map(\.ts) == (0...5).map { base + Int64($0) * 1000 })
            #expect(turns.map { $0.signals.map(\.kind) } == [[], ["correction", "slow_response"], [], [], [], ["repeated_question"]])
            #expect(turns[1].signals.map(\.confidence) == [0.8, 0.5])
            #expect(turns[1].signals[0].rule == "r" && turns[1].signals[0].evidence == "ev-correction")
            #expect(turns.map(\.imageRef) == ["images/a.png", nil, nil, nil, "images/b.png", nil])
            #expect(turns.map(\.imageStatus) == ["missing", nil, nil, nil, "missing", nil])
            #expect(try store.conversation(sessionID: "s", limit: 2).map(\.turnIndex) == [0, 1])
            #expect(try store.conversation(sessionID: "nope").isEmpty)
        }
    }

    @Test func sampleContextIsTheWindowAroundTheExchange() throws {
        try withEachStore { (store: Store) throws in
            _ = try insert(store, (0..<12).map { i in
                turn("s", i, i % 2 == 0 ? "user" : "assistant", "m\(i)", request: "r\(i / 2)", second: i)
            })
            try addSignals(store, "s", [signal("s", "r3", .correction)])
            let turnIDs = try store.turns(sessionID: "s").map(\.id)
            let ids = try addSamples(store, [
                sample("r3", session: "s", question: turnIDs[6], answerTurn: turnIDs[7]),
                sample("x", session: nil),
                sample("r5", session: "s"),   // no turn links: placed by its request's turns
                sample("r0", session: "s", question: turnIDs[0], answerTurn: turnIDs[1]),
            ])
            let context = try store.sampleContext(sampleID: ids[0], before: 2, after: 1)
            #expect(context.map(\.turnIndex) == [4, 5, 6, 7, 8])
            #expect(context.map { $0.signals.map(\.kind) } == [[], [], [], ["correction"], []])
            #expect(try store.sampleContext(sampleID: ids[0]).map(\.turnIndex) == Array(2...11))
            #expect(try store.sampleContext(sampleID: ids[1]).isEmpty)
            #expect(try store.sampleContext(sampleID: ids[2], before: 1, after: 0).map(\.turnIndex) == [9, 10, 11])
            #expect(try store.sampleContext(sampleID: ids[3], before: 4, after: 0).map(\.turnIndex) == [0, 1])
            #expect(try store.sampleContext(sampleID: 999).isEmpty)
        }
    }

    // MARK: Queue

    @Test func queueIsRankThenIdAndPagesBothWays() throws {
        try withEachStore { (store: Store) throws in
            _ = try insert(store, [turn("s", 0, "user", "q", request: "r", second: 0, image: "images/q.png")])
            let imageID = try store.writer.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM images")! }
            let ids = try addSamples(store, [
                sample("q1", quality: .low, source: .thumbsDown),                    // rank 23
                sample("q2", source: .implicitCorrection),                           // 1
                sample("q3", state: .needsAnswer),                                   // 100
                sample("q4", state: .approved, answer: "a"),                         // decided
                sample("q5", image: imageID),                                        // 0
                sample("q6", quality: .medium, source: .seedLabel),                  // 12
                sample("q7", source: .implicitCorrection),                           // 1
                sample("q8", state: .needsAnswer, quality: .low, source: .implicitCorrection),  // 121
                sample("q9", state: .rejected),                                      // decided
                sample("q10"),                                                       // 0
            ])
            #expect(ids == Array(1...10))
            let all = try store.reviewQueue(cursor: nil, direction: .forward, limit: 100)
            #expect(all.map(\.sample.id) == [5, 10, 2, 7, 6, 1, 3, 8])
            #expect(all.map(\.rank) == [0, 0, 1, 1, 12, 23, 100, 121])
            #expect(all.map(\.imageRef) == ["images/q.png", nil, nil, nil, nil, nil, nil, nil])
            #expect(all[0].sample.requestID == "q5" && all[0].cursor == QueueCursor(rank: 0, id: 5))
            #expect(try store.reviewQueueCount() == 8)

            func pages(_ direction: PageDirection) throws -> [[Int64]] {
                var result: [[Int64]] = []
                var cursor: QueueCursor?
                while result.count < 20 {
                    let page = try store.reviewQueue(cursor: cursor, direction: direction, limit: 3)
                    if page.isEmpty { break }
                    if direction == .forward {
                        result.append(page.map(\.sample.id))
                        cursor = page.last!.cursor
                    } else {
                        result.insert(page.map(\.sample.id), at: 0)
                        cursor = page.first!.cursor
                    }
                }
                return result
            }
            #expect(try pages(.forward) == [[5, 10, 2], [7, 6, 1], [3, 8]])
            #expect(try pages(.backward) == [[5, 10], [2, 7, 6], [1, 3, 8]])
            #expect(try store.reviewQueue(cursor: QueueCursor(rank: 1, id: 2), direction: .forward, limit: 2).map(\.sample.id) == [7, 6])
            #expect(try store.reviewQueue(cursor: QueueCursor(rank: 1, id: 7), direction: .backward, limit: 2).map(\.sample.id) == [10, 2])

            // A decision takes the sample out of the queue; a needs_answer sample that gets an answer moves up.
            _ = try store.review(sampleID: 5, decision: .reject, reviewer: "ana", now: 10)
            _ = try store.recordExtraction(sampleID: 8, extraction: "{}", correctAnswer: "x", category: .numberMisread, now: 11)
            #expect(try store.reviewQueue(cursor: nil, direction: .forward, limit: 100).map(\.sample.id) == [10, 2, 7, 6, 8, 1, 3])
            #expect(try store.reviewQueueCount() == 7)
            #expect(try store.sample(id: 5)?.state == "rejected")
            #expect(try store.sample(id: 8)?.correctAnswer == "x")
            #expect(try store.sample(id: 99) == nil)
        }
    }

    // MARK: Review

    @Test func decisionsChangeTheSampleAndAppendOneAction() throws {
        try withEachStore { (store: Store) throws in
            let ids = try addSamples(store, [
                sample("a", answer: "78", category: .numberMisread),
                sample("b", state: .needsAnswer),
                sample("c"),
            ])
            let approved = try store.review(sampleID: ids[0], decision: .approve, reviewer: "ana", now: 100)
            let pending78 = SampleSnapshot(state: "pending", correctAnswer: "78", category: "number_misread")
            #expect(approved.action == "approve" && approved.reviewer == "ana" && approved.at == 100 && approved.sampleID == ids[0])
            #expect(approved.before == pending78)
            #expect(approved.after == SampleSnapshot(state: "approved", correctAnswer: "78", category: "number_misread"))
            #expect(try store.sample(id: ids[0])?.state == "approved")

            let fixed = try store.review(sampleID: ids[1], decision: .fix(correctAnswer: "  81 \n"), reviewer: "bob", now: 101)
            #expect(fixed.before == SampleSnapshot(state: "needs_answer", correctAnswer: nil, category: "unknown"))
            #expect(fixed.after == SampleSnapshot(state: "fixed", correctAnswer: "81", category: "unknown"))

            let rejected = try store.review(sampleID: ids[2], decision: .reject, reviewer: "ana", now: 102)
            #expect(rejected.after.state == "rejected" && rejected.before.state == "pending")

            // Recategorizing is allowed after a decision and leaves the state alone.
            let moved = try store.review(sampleID: ids[0], decision: .recategorize("hallucination"), reviewer: "ana", now: 103)
            #expect(moved.before.category == "number_misread")
            #expect(moved.after == SampleSnapshot(state: "approved", correctAnswer: "78", category: "hallucination"))
            #expect(try store.sample(id: ids[0])?.category == "hallucination")

            // The audit rows, as stored.
            let rows = try store.writer.read { db in
                try Row.fetchAll(db, sql: "SELECT id, sample_id, reviewer, action, before, after, at FROM review_actions ORDER BY id")
            }
            #expect(rows.map { $0["action"] as String } == ["approve", "fix", "reject", "recategorize"])
            #expect(rows.map { $0["id"] as Int64 } == [approved, fixed, rejected, moved].map(\.actionID))
            #expect(rows[0]["before"] as String == #"{"state":"pending","correct_answer":"78","error_category":"number_misread"}"#)
            #expect(rows[0]["after"] as String == #"{"state":"approved","correct_answer":"78","error_category":"number_misread"}"#)
            #expect(rows[1]["before"] as String == #"{"state":"needs_answer","correct_answer":null,"error_category":"unknown"}"#)
            #expect(rows[1]["after"] as String == #"{"state":"fixed","correct_answer":"81","error_category":"unknown"}"#)
            #expect(try store.reviewActions(sampleID: ids[0]) == [approved, moved])
            #expect(try store.reviewActions(sampleID: ids[1]) == [fixed])
            let updatedAt = try store.writer.read { db in try Int64.fetchAll(db, sql: "SELECT updated_at FROM training_samples ORDER BY id") }
            #expect(updatedAt == [103, 101, 102])

            // The snapshot's Codable form is the stored form.
            let decoded = try JSONDecoder().decode(SampleSnapshot.self, from: Data((rows[1]["before"] as String).utf8))
            #expect(decoded == fixed.before)
            let encoded = try JSONDecoder().decode(SampleSnapshot.self, from: JSONEncoder().encode(fixed.before))
            #expect(encoded == fixed.before)
        }
    }

    @Test func refusedDecisionsWriteNothing() throws {
        try withEachStore { (store: Store) throws in
            let ids = try addSamples(store, [
                sample("a", state: .needsAnswer),
                sample("b", answer: "   "),
                sample("c", answer: "x"),
            ])
            _ = try store.review(sampleID: ids[2], decision: .approve, reviewer: "ana", now: 100)
            let before = try store.writer.read { db in try Row.fetchAll(db, sql: "SELECT * FROM training_samples ORDER BY id") }

            #expect(throws: ReviewError.noCorrectAnswer(ids[0])) { try store.review(sampleID: ids[0], decision: .approve, reviewer: "ana", now: 200) }
            #expect(throws: ReviewError.noCorrectAnswer(ids[1])) { try store.review(sampleID: ids[1], decision: .approve, reviewer: "ana", now: 200) }
            for decision in [ReviewDecision.approve, .reject, .fix(correctAnswer: "y")] {
                #expect(throws: ReviewError.alreadyDecided(ids[2], state: "approved")) {
                    try store.review(sampleID: ids[2], decision: decision, reviewer: "bob", now: 200)
                }
            }
            #expect(throws: ReviewError.emptyAnswer) { try store.review(sampleID: ids[0], decision: .fix(correctAnswer: " \n\t "), reviewer: "ana", now: 200) }
            #expect(throws: ReviewError.emptyAnswer) { try store.review(sampleID: ids[0], decision: .fix(correctAnswer: ""), reviewer: "ana", now: 200) }
            #expect(throws: ReviewError.unknownCategory("typo")) { try store.review(sampleID: ids[0], decision: .recategorize("typo"), reviewer: "ana", now: 200) }
            #expect(throws: ReviewError.sampleNotFound(999)) { try store.review(sampleID: 999, decision: .reject, reviewer: "ana", now: 200) }

            let after = try store.writer.read { db in try Row.fetchAll(db, sql: "SELECT * FROM training_samples ORDER BY id") }
            #expect(after == before)
            #expect(try store.reviewActions(sampleID: ids[0]).isEmpty)
            #expect(try store.reviewActions(sampleID: ids[1]).isEmpty)
            #expect(try store.reviewActions(sampleID: ids[2]).map(\.action) == ["approve"])
            #expect(ReviewError.noCorrectAnswer(4).description == "sample 4 has no correct answer: write one with e first")
            #expect(ReviewError.alreadyDecided(4, state: "approved").description.contains("already approved"))
        }
    }

    @Test func undoRestoresAndIsRecorded() throws {
        try withEachStore { (store: Store) throws in
            let ids = try addSamples(store, [sample("a", state: .needsAnswer, category: .numberMisread)])
            let id = ids[0]
            let fix = try store.review(sampleID: id, decision: .fix(correctAnswer: "42"), reviewer: "ana", now: 100)
            let undo = try store.undo(fix, reviewer: "ana", now: 101)
            let original = SampleSnapshot(state: "needs_answer", correctAnswer: nil, category: "number_misread")
            #expect(undo.action == "undo" && undo.at == 101 && undo.sampleID == id && undo.actionID > fix.actionID)
            #expect(undo.before == fix.after)
            #expect(undo.after == original)
            let row = try #require(try store.sample(id: id))
            #expect(row.state == "needs_answer" && row.correctAnswer == nil && row.category == "number_misread")
            #expect(try store.reviewActions(sampleID: id) == [fix, undo])
            let stored = try store.writer.read { db in try String.fetchOne(db, sql: "SELECT after FROM review_actions WHERE action = 'undo'") }
            #expect(stored == #"{"state":"needs_answer","correct_answer":null,"error_category":"number_misread"}"#)
            #expect(try store.reviewQueueCount() == 1)

            // The same action cannot be undone twice; undoing the undo redoes the fix.
            #expect(throws: ReviewError.changedSince(id)) { try store.undo(fix, reviewer: "ana", now: 102) }
            let redo = try store.undo(undo, reviewer: "ana", now: 103)
            #expect(redo.after == fix.after)
            #expect(try store.sample(id: id)?.state == "fixed")
            #expect(try store.reviewActions(sampleID: id).map(\.action) == ["fix", "undo", "undo"])
        }
    }

    @Test func undoAfterSomeoneElseChangedTheSampleFails() throws {
        try withEachStore { (store: Store) throws in
            let id = try addSamples(store, [sample("a", answer: "7")])[0]
            let approve = try store.review(sampleID: id, decision: .approve, reviewer: "ana", now: 100)
            let other = try store.review(sampleID: id, decision: .recategorize("knowledge_error"), reviewer: "bob", now: 101)
            #expect(throws: ReviewError.changedSince(id)) { try store.undo(approve, reviewer: "ana", now: 102) }
            #expect(try store.sample(id: id)?.state == "approved")
            #expect(try store.sample(id: id)?.category == "knowledge_error")
            #expect(try store.reviewActions(sampleID: id) == [approve, other])
        }
    }

    @Test func twoReviewersOnOneFile() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ana = try Store.open(path: dir + "/db.sqlite")
        let bob = try Store.open(path: dir + "/db.sqlite")
        let id = try addSamples(ana, [sample("a", answer: "7")])[0]
        let version = try ana.dataVersion()
        #expect(try ana.dataVersion() == version)  // stable while nobody else writes
        _ = try bob.review(sampleID: id, decision: .reject, reviewer: "bob", now: 100)
        let seen = try ana.dataVersion()
        #expect(seen != version)
        #expect(try ana.dataVersion() == seen)
        #expect(throws: ReviewError.alreadyDecided(id, state: "rejected")) {
            try ana.review(sampleID: id, decision: .approve, reviewer: "ana", now: 101)
        }
        #expect(try ana.reviewActions(sampleID: id).map(\.reviewer) == ["bob"])
    }
}

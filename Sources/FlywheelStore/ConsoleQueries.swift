import FlywheelCore
import Foundation
import GRDB

// Read queries for the review console: sessions paged newest first, one conversation with its signals and
// images, and the queue of samples waiting for a decision. Every list is keyset-paged in both directions so
// a screen costs the same at the top and a million rows down.

/// Which way to page from a cursor, in display order.
public enum PageDirection: Sendable {
    /// The rows after the cursor (cursor nil: the first rows).
    case forward
    /// The rows before the cursor (cursor nil: the last rows), still returned in display order.
    case backward
}

public struct SessionSummary: Sendable, Equatable {
    public var sessionID: String
    public var userID: String?
    /// Milliseconds since the epoch, as stored.
    public var firstTs: Int64
    public var lastTs: Int64
    public var turnCount: Int
    /// The distinct kinds of this session's signals, sorted.
    public var signalKinds: [String]

    public init(sessionID: String, userID: String?, firstTs: Int64, lastTs: Int64, turnCount: Int, signalKinds: [String]) {
        self.sessionID = sessionID
        self.userID = userID
        self.firstTs = firstTs
        self.lastTs = lastTs
        self.turnCount = turnCount
        self.signalKinds = signalKinds
    }

    /// The cursor that pages on from this row.
    public var cursor: SessionCursor { SessionCursor(lastTs: lastTs, sessionID: sessionID) }
}

/// A position in the session list: its order is (last_ts DESC, session_id DESC).
public struct SessionCursor: Sendable, Equatable, Hashable {
    public var lastTs: Int64
    public var sessionID: String
    public init(lastTs: Int64, sessionID: String) {
        self.lastTs = lastTs
        self.sessionID = sessionID
    }
}

public struct SessionQuery: Sendable, Equatable {
    /// Only sessions with at least one signal.
    public var flaggedOnly: Bool = false
    /// A substring of the session id, the user id or any turn's content (ASCII letters match either case;
    /// SQLite's LIKE folds no other letters). nil or "" is no filter.
    public var search: String? = nil
    public init(flaggedOnly: Bool = false, search: String? = nil) {
        self.flaggedOnly = flaggedOnly
        self.search = search
    }
}

/// A signal, as shown under the turn it is about.
public struct TurnSignal: Sendable, Equatable {
    public var id: Int64
    public var kind: String
    public var confidence: Double
    public var rule: String
    public var evidence: String?
    public init(id: Int64, kind: String, confidence: Double, rule: String, evidence: String?) {
        self.id = id
        self.kind = kind
        self.confidence = confidence
        self.rule = rule
        self.evidence = evidence
    }
}

/// One turn of a conversation, with its image reference and the signals raised on it.
public struct ConversationTurn: Sendable, Equatable {
    public var id: Int64
    public var turnIndex: Int
    /// "user" or "assistant".
    public var role: String
    public var content: String
    public var requestID: String?
    public var ts: Int64
    /// `images.ref` and `images.status` of the turn's image, if it has one.
    public var imageRef: String?
    public var imageStatus: String?
    /// The turn's row in `images` (for a preview: `Store.imageFile(id:)`).
    public var imageID: Int64?
    public var responseMs: Int?
    public var model: String?
    public var promptVersion: String?
    /// Signals of the turn's request; only assistant turns carry them.
    public var signals: [TurnSignal]

    public init(id: Int64, turnIndex: Int, role: String, content: String, requestID: String?, ts: Int64, imageRef: String?,
                imageStatus: String?, imageID: Int64? = nil, responseMs: Int?, model: String?, promptVersion: String?, signals: [TurnSignal]) {
        self.imageID = imageID
        self.id = id
        self.turnIndex = turnIndex
        self.role = role
        self.content = content
        self.requestID = requestID
        self.ts = ts
        self.imageRef = imageRef
        self.imageStatus = imageStatus
        self.responseMs = responseMs
        self.model = model
        self.promptVersion = promptVersion
        self.signals = signals
    }
}

/// A position in the review queue: its order is (review_rank, id).
public struct QueueCursor: Sendable, Equatable, Hashable {
    public var rank: Int
    public var id: Int64
    public init(rank: Int, id: Int64) {
        self.rank = rank
        self.id = id
    }
}

/// Whose queue is read: it leaves out samples the reviewer already decided and samples other reviewers hold
/// (their live reservations plus their decisions fill all of the sample's overlap slots).
public struct QueueViewer: Sendable, Equatable {
    public var reviewer: String
    public var now: Int64
    public init(reviewer: String, now: Int64) {
        self.reviewer = reviewer
        self.now = now
    }
}

/// A sample waiting for a decision, with its place in the queue.
public struct QueueItem: Sendable {
    public var sample: SampleRow
    /// `training_samples.review_rank`: lower is reviewed first (see the v3 migration).
    public var rank: Int
    public var imageRef: String?
    public var cursor: QueueCursor { QueueCursor(rank: rank, id: sample.id) }
}

/// `text` as a LIKE pattern matching it anywhere, with `\` as the escape character.
func likeContaining(_ text: String) -> String {
    var escaped = ""
    for c in text {
        if c == "\\" || c == "%" || c == "_" { escaped.append("\\") }
        escaped.append(c)
    }
    return "%" + escaped + "%"
}

extension Store {
    // MARK: Sessions

    /// Sessions newest first, ordered by (last_ts DESC, session_id DESC). Keyset paging: `.forward` returns the
    /// `limit` rows strictly after `cursor` in that order (cursor nil = from the top); `.backward` returns the
    /// `limit` rows strictly before `cursor` (cursor nil = the last `limit` rows), still in display order.
    /// `flaggedOnly`: only sessions with at least one signal. `search`: case-insensitive (ASCII) substring of
    /// the session id, the user id or any turn's content in the session.
    public func sessionsPage(_ query: SessionQuery, cursor: SessionCursor?, direction: PageDirection, limit: Int) throws -> [SessionSummary] {
        guard limit > 0 else { return [] }
        let statement = Self.sessionsPageStatement(query, cursor: cursor, direction: direction, limit: limit)
        let rows = try writer.read { db in try Row.fetchAll(db, sql: statement.sql, arguments: statement.arguments) }
        let page = rows.map { row -> SessionSummary in
            let kinds: String? = row[5]
            return SessionSummary(sessionID: row[0], userID: row[1], firstTs: row[2], lastTs: row[3], turnCount: row[4],
                                  signalKinds: (kinds ?? "").split(separator: ",").map(String.init).sorted())
        }
        return direction == .forward ? page : page.reversed()
    }

    /// The statement of one `sessionsPage` (separate so tests can check its query plan).
    static func sessionsPageStatement(_ query: SessionQuery, cursor: SessionCursor?, direction: PageDirection,
                                      limit: Int) -> (sql: String, arguments: StatementArguments) {
        var conditions: [String] = []
        var args: [DatabaseValueConvertible?] = []
        // The walk follows sessions_last_ts (last_ts, then the primary key session_id) one way or the other;
        // the filters are checked per session as it goes, through signals_session and turns_session.
        if let cursor {
            conditions.append(direction == .forward ? "(s.last_ts, s.session_id) < (?, ?)" : "(s.last_ts, s.session_id) > (?, ?)")
            args += [cursor.lastTs, cursor.sessionID]
        }
        if query.flaggedOnly {
            conditions.append("EXISTS (SELECT 1 FROM signals g WHERE g.session_id = s.session_id)")
        }
        if let search = query.search, !search.isEmpty {
            conditions.append("""
                (s.session_id LIKE ? ESCAPE '\\' OR s.user_id LIKE ? ESCAPE '\\'
                 OR EXISTS (SELECT 1 FROM turns t WHERE t.session_id = s.session_id AND t.content LIKE ? ESCAPE '\\'))
                """)
            let pattern = likeContaining(search)
            args += [pattern, pattern, pattern]
        }
        let order = direction == .forward ? "s.last_ts DESC, s.session_id DESC" : "s.last_ts, s.session_id"
        let sql = """
            SELECT s.session_id, s.user_id, s.first_ts, s.last_ts, s.turn_count,
                   (SELECT group_concat(DISTINCT g.kind) FROM signals g WHERE g.session_id = s.session_id)
            FROM sessions s
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY \(order) LIMIT ?
            """
        args.append(limit)
        return (sql, StatementArguments(args))
    }

    /// How many sessions there are, and how many of them have at least one signal.
    public func sessionCounts() throws -> (total: Int, flagged: Int) {
        try writer.read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sessions") ?? 0
            // Counts the distinct session ids of signals_session, which is covering and sorted by session, so no
            // session row is read. (Looking each id up in sessions read the sessions table at random: on 100,000
            // sessions and 20,000 flagged, 28 ms warm and 130 ms with a cold page cache, against 8 and 24.) Every
            // signal belongs to a stored session: analysis writes signals for sessions it read, error-log signals
            // come from a join with turns, and sessions are never deleted.
            let flagged = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT session_id) FROM signals") ?? 0
            return (total, flagged)
        }
    }

    // MARK: Conversations

    /// The session's turns in turn_index order (at most `limit`), each with its image reference and, on the
    /// assistant turn of a request (the last one if the request has several), the signals of that request.
    public func conversation(sessionID: String, limit: Int = 1000) throws -> [ConversationTurn] {
        guard limit > 0 else { return [] }
        return try writer.read { db in try conversationTurns(db, sessionID: sessionID, indexes: nil, limit: limit) }
    }

    /// The turns of the sample's session around its question and answer: from the question turn's index
    /// minus `before` to the answer turn's index plus `after` (a sample without turn links is placed by its
    /// request's turns). Empty when the sample does not exist, has no session, or cannot be placed.
    public func sampleContext(sampleID: Int64, before: Int = 4, after: Int = 4) throws -> [ConversationTurn] {
        try writer.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT s.session_id, s.request_id,
                       (SELECT turn_index FROM turns WHERE id = s.question_turn_id),
                       (SELECT turn_index FROM turns WHERE id = s.answer_turn_id)
                FROM training_samples s WHERE s.id = ?
                """, arguments: [sampleID]),
                let sessionID = row[0] as String?
            else { return [] }
            let requestID: String? = row[1]
            var anchors = [row[2], row[3]].compactMap { $0 as Int? }
            if anchors.isEmpty, let requestID,
               let span = try Row.fetchOne(db, sql: "SELECT min(turn_index), max(turn_index) FROM turns WHERE session_id = ? AND request_id = ?",
                                           arguments: [sessionID, requestID]) {
                anchors = [span[0], span[1]].compactMap { $0 as Int? }
            }
            guard let low = anchors.min(), let high = anchors.max() else { return [] }
            let range = (low - max(before, 0))...(high + max(after, 0))
            return try conversationTurns(db, sessionID: sessionID, indexes: range, limit: 10_000)
        }
    }

    func conversationTurns(_ db: Database, sessionID: String, indexes: ClosedRange<Int>?, limit: Int) throws -> [ConversationTurn] {
        var args: [DatabaseValueConvertible?] = [sessionID]
        var range = ""
        if let indexes {
            range = "AND t.turn_index BETWEEN ? AND ?"
            args += [indexes.lowerBound, indexes.upperBound]
        }
        args.append(limit)
        var turns = try Row.fetchAll(db, sql: """
            SELECT t.id, t.turn_index, t.role, t.content, t.request_id, t.ts, i.ref, i.status, t.response_ms, t.model, t.prompt_version,
                   t.image_id
            FROM turns t LEFT JOIN images i ON i.id = t.image_id
            WHERE t.session_id = ? \(range)
            ORDER BY t.turn_index, t.ts, t.id LIMIT ?
            """, arguments: StatementArguments(args)).map { r in
            ConversationTurn(id: r[0], turnIndex: r[1], role: r[2], content: r[3], requestID: r[4], ts: r[5], imageRef: r[6],
                             imageStatus: r[7], imageID: r[11], responseMs: r[8], model: r[9], promptVersion: r[10], signals: [])
        }
        // A signal is about the answer of its request: the (last) assistant turn with that request id.
        var answerOf: [String: Int] = [:]
        for (i, turn) in turns.enumerated() where turn.role == Role.assistant.rawValue {
            if let request = turn.requestID { answerOf[request] = i }
        }
        guard !answerOf.isEmpty else { return turns }
        let signals = try Row.fetchAll(db, sql: """
            SELECT id, request_id, kind, confidence, rule, evidence FROM signals WHERE session_id = ? ORDER BY id
            """, arguments: [sessionID])
        for r in signals {
            guard let i = answerOf[r[1] as String] else { continue }
            turns[i].signals.append(TurnSignal(id: r[0], kind: r[2], confidence: r[3], rule: r[4], evidence: r[5]))
        }
        return turns
    }

    // MARK: Review queue

    static let queueWaiting = "s.state IN ('pending', 'needs_answer')"

    /// Training samples waiting for a decision (state 'pending' or 'needs_answer'), highest value first:
    /// ordered by (review_rank, id). Keyset paging as in `sessionsPage`.
    /// With a viewer, the queue is that reviewer's: see `QueueViewer`.
    public func reviewQueue(_ viewer: QueueViewer? = nil, cursor: QueueCursor?, direction: PageDirection, limit: Int) throws -> [QueueItem] {
        guard limit > 0 else { return [] }
        func fetch(_ db: Database, _ statement: (sql: String, arguments: StatementArguments)) throws -> [QueueItem] {
            try Row.fetchAll(db, sql: statement.sql, arguments: statement.arguments).map { row in
                QueueItem(sample: SampleRow(row: row), rank: row["review_rank"], imageRef: row["ref"])
            }
        }
        let page = try writer.read { db -> [QueueItem] in
            let visible = try viewer.map { QueueVisibility(viewer: $0, overlap: try Self.teamSettings(db).overlap) }
            guard let cursor else { return try fetch(db, Self.reviewQueueStatement(.all, direction: direction, limit: limit, visible: visible)) }
            var rows = try fetch(db, Self.reviewQueueStatement(.restOfRank(cursor), direction: direction, limit: limit, visible: visible))
            if rows.count < limit {
                rows += try fetch(db, Self.reviewQueueStatement(.ranksBeyond(cursor.rank), direction: direction, limit: limit - rows.count,
                                                                visible: visible))
            }
            return rows
        }
        return direction == .forward ? page : page.reversed()
    }

    /// Which part of the queue one statement reads, in the paging direction.
    enum QueueStep {
        case all
        /// The rows of the cursor's rank after (before) its id.
        case restOfRank(QueueCursor)
        /// The rows of the ranks after (before) this one.
        case ranksBeyond(Int)
    }

    /// One statement of `reviewQueue` (separate so tests can check its query plan). Each walks
    /// training_samples_review_queue (review_rank, id). SQLite seeks on the rank only for a row-value bound
    /// whose second column is the rowid, so "after (rank, id)" is asked in two steps, each a pure seek. The
    /// planner, without statistics, prefers training_samples_state plus a sort, hence INDEXED BY.
    static func reviewQueueStatement(_ step: QueueStep, direction: PageDirection, limit: Int,
                                     visible: QueueVisibility? = nil) -> (sql: String, arguments: StatementArguments) {
        let forward = direction == .forward
        let columns = sampleColumnsOfS
        var bound = ""
        var args: [DatabaseValueConvertible?] = []
        var order = forward ? "s.review_rank, s.id" : "s.review_rank DESC, s.id DESC"
        switch step {
        case .all:
            break
        case .restOfRank(let cursor):
            bound = "AND s.review_rank = ? AND s.id \(forward ? ">" : "<") ?"
            args += [cursor.rank, cursor.id]
            order = forward ? "s.id" : "s.id DESC"
        case .ranksBeyond(let rank):
            bound = "AND s.review_rank \(forward ? ">" : "<") ?"
            args.append(rank)
        }
        var hide = ""
        if let visible {
            hide = "AND " + visible.clause
            args += visible.arguments
        }
        args.append(limit)
        let sql = """
            SELECT \(columns), s.review_rank, i.ref
            FROM training_samples s INDEXED BY training_samples_review_queue
            LEFT JOIN images i ON i.id = s.image_id
            WHERE \(queueWaiting) \(bound) \(hide)
            ORDER BY \(order) LIMIT ?
            """
        return (sql, StatementArguments(args))
    }

    /// How many samples wait for a decision.
    public func reviewQueueCount(_ viewer: QueueViewer? = nil) throws -> Int {
        try writer.read { db in
            let all = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM training_samples s WHERE \(Self.queueWaiting)") ?? 0
            guard let viewer else { return all }
            let visible = QueueVisibility(viewer: viewer, overlap: try Self.teamSettings(db).overlap)
            // With an overlap of 1 a decision is final, so only other reviewers' live reservations hide a waiting
            // sample: count those few instead of probing every waiting row.
            if visible.overlap == 1 {
                let held = try Int.fetchOne(db, sql: """
                    SELECT COUNT(DISTINCT r.sample_id) FROM reservations r JOIN training_samples s ON s.id = r.sample_id
                    WHERE r.reviewer <> ? AND r.expires_at > ? AND \(Self.queueWaiting)
                    """, arguments: [viewer.reviewer, viewer.now]) ?? 0
                return all - held
            }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM training_samples s WHERE \(Self.queueWaiting) AND \(visible.clause)",
                                    arguments: StatementArguments(visible.arguments)) ?? 0
        }
    }

    /// Samples whose independent decisions disagreed (state 'disputed'), oldest first: the adjudication queue.
    /// `rank` is 0 (the queue is in id order).
    public func disputedSamples(limit: Int) throws -> [QueueItem] {
        let columns = Self.sampleColumnsOfS
        return try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(columns), i.ref FROM training_samples s INDEXED BY training_samples_disputed
                LEFT JOIN images i ON i.id = s.image_id
                WHERE s.state = 'disputed' ORDER BY s.id LIMIT ?
                """, arguments: [limit]).map { QueueItem(sample: SampleRow(row: $0), rank: 0, imageRef: $0["ref"]) }
        }
    }

    /// One training sample, whatever its state.
    public func sample(id: Int64) throws -> SampleRow? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.sampleColumns) FROM training_samples WHERE id = ?", arguments: [id]).map(SampleRow.init)
        }
    }
}

extension Store {
    /// `sampleColumns` qualified with the alias `s`, for queries that join training_samples to other tables.
    static let sampleColumnsOfS = sampleColumns.split(separator: ",").map { "s." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        .joined(separator: ", ")
}

/// The part of the queue a reviewer sees, as an SQL condition on `s` (see `QueueViewer`).
struct QueueVisibility {
    var viewer: QueueViewer
    var overlap: Int

    var clause: String {
        """
        NOT EXISTS (SELECT 1 FROM sample_decisions d WHERE d.sample_id = s.id AND d.reviewer = ?)
        AND (SELECT COUNT(*) FROM reservations r WHERE r.sample_id = s.id AND r.reviewer <> ? AND r.expires_at > ?)
          + (SELECT COUNT(*) FROM sample_decisions d WHERE d.sample_id = s.id AND d.reviewer <> ?) < ?
        """
    }

    var arguments: [DatabaseValueConvertible?] {
        [viewer.reviewer, viewer.reviewer, viewer.now, viewer.reviewer, overlap]
    }
}

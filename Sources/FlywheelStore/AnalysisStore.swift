import FlywheelCore
import Foundation
import GRDB

/// A stored turn, as analysis and listings need it.
public struct StoredTurn: Sendable {
    public var id: Int64
    public var sessionID: String
    public var turnIndex: Int
    public var role: Role
    public var content: String
    public var requestID: String?
    public var userID: String?
    public var ts: Int64
    public var imageID: Int64?
    public var responseMs: Int?
    public var model: String?
    public var promptVersion: String?
    public var taskType: String?

    init(row: Row) {
        id = row["id"]
        sessionID = row["session_id"]
        turnIndex = row["turn_index"]
        role = Role(rawValue: row["role"]) ?? .user
        content = row["content"]
        requestID = row["request_id"]
        userID = row["user_id"]
        ts = row["ts"]
        imageID = row["image_id"]
        responseMs = row["response_ms"]
        model = row["model"]
        promptVersion = row["prompt_version"]
        taskType = row["task_type"]
    }
}

/// A signal to store.
public struct NewSignal: Sendable {
    public var sessionID: String
    public var requestID: String
    public var kind: SignalKind
    public var confidence: Double
    public var rule: String
    public var evidence: String
    public var evidenceTurnID: Int64?
    public init(sessionID: String, requestID: String, kind: SignalKind, confidence: Double, rule: String, evidence: String, evidenceTurnID: Int64?) {
        self.sessionID = sessionID
        self.requestID = requestID
        self.kind = kind
        self.confidence = confidence
        self.rule = rule
        self.evidence = evidence
        self.evidenceTurnID = evidenceTurnID
    }
}

public enum SampleSource: String, Sendable, CaseIterable {
    case userCorrection = "user_correction"
    case implicitCorrection = "implicit_correction"
    case thumbsDown = "thumbs_down"
    case seedLabel = "seed_label"
    /// A `format_error` error_log: the offending output, waiting for the answer it should have been.
    case errorLog = "error_log"
}

public enum SampleQuality: String, Sendable, CaseIterable, Comparable {
    case low, medium, high
    public static func < (a: SampleQuality, b: SampleQuality) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

public enum SampleState: String, Sendable, CaseIterable {
    case pending
    case needsAnswer = "needs_answer"
    case approved
    case rejected
    case fixed
    /// The overlap's independent decisions disagreed: waiting for an adjudicator.
    case disputed
    /// From an end user flagged as abusive: waiting for a reviewer to release or discard it.
    case held

    /// Is a sample in this state (a training_samples.state) waiting for review decisions?
    public static func isWaiting(_ state: String) -> Bool {
        state == pending.rawValue || state == needsAnswer.rawValue
    }
}

/// A training sample to store.
public struct NewSample: Sendable {
    public var source: SampleSource
    public var quality: SampleQuality
    public var state: SampleState
    public var taskType: String
    public var question: String?
    public var wrongAnswer: String?
    public var correctAnswer: String?
    public var category: ErrorCategory
    public var sessionID: String?
    public var requestID: String
    public var questionTurnID: Int64?
    public var answerTurnID: Int64?
    public var imageID: Int64?
    /// Filled in by the store from the signal stored in the same call, for implicit corrections.
    public var signalKindForLink: SignalKind?
    public var feedbackID: Int64?
    public var evidence: String?
    /// JSON describing how the correct answer was found (rules, LLM, grounding).
    public var extraction: String?
    public var model: String?
    public var promptVersion: String?

    public init(source: SampleSource, quality: SampleQuality, state: SampleState, taskType: String, question: String?,
                wrongAnswer: String?, correctAnswer: String?, category: ErrorCategory, sessionID: String?, requestID: String,
                questionTurnID: Int64?, answerTurnID: Int64?, imageID: Int64?, signalKindForLink: SignalKind? = nil,
                feedbackID: Int64? = nil, evidence: String?, extraction: String?, model: String?, promptVersion: String?) {
        self.source = source
        self.quality = quality
        self.state = state
        self.taskType = taskType
        self.question = question
        self.wrongAnswer = wrongAnswer
        self.correctAnswer = correctAnswer
        self.category = category
        self.sessionID = sessionID
        self.requestID = requestID
        self.questionTurnID = questionTurnID
        self.answerTurnID = answerTurnID
        self.imageID = imageID
        self.signalKindForLink = signalKindForLink
        self.feedbackID = feedbackID
        self.evidence = evidence
        self.extraction = extraction
        self.model = model
        self.promptVersion = promptVersion
    }
}

/// Explicit feedback that has not become a sample yet, with the exchange it is about.
public struct FeedbackForSample: Sendable {
    public var feedbackID: Int64
    public var kind: FeedbackKind
    public var correctedResponse: String?
    public var requestID: String
    public var sessionID: String?
    public var question: StoredTurn?
    public var answer: StoredTurn?
}

/// A `format_error` log that has not become a sample yet, with the exchange it is about.
public struct ErrorLogForSample: Sendable {
    public var errorLogID: Int64
    public var requestID: String
    public var detail: String?
    public var question: StoredTurn?
    public var answer: StoredTurn?
}

extension Store {
    static let turnColumns = "id, session_id, turn_index, role, content, request_id, user_id, ts, image_id, response_ms, model, prompt_version, task_type"

    /// Sessions ready for analysis: not analysed since their last new turn, and ended or idle since `idleBefore`.
    public func sessionsToAnalyze(idleBefore: Int64, limit: Int) throws -> [String] {
        try writer.read { db in
            try String.fetchAll(db, sql: """
                SELECT session_id FROM sessions
                WHERE analyzed_at IS NULL AND (ended_at IS NOT NULL OR last_ts < ?)
                ORDER BY last_ts LIMIT ?
                """, arguments: [idleBefore, limit])
        }
    }

    /// Sessions not analysed because they are still open (for the summary).
    public func openSessionCount(idleBefore: Int64) throws -> Int {
        try writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sessions WHERE analyzed_at IS NULL AND ended_at IS NULL AND last_ts >= ?",
                             arguments: [idleBefore]) ?? 0
        }
    }

    /// Marks every session for analysis again (`analyze --all`); idempotent writes make that safe.
    public func resetAnalysis() throws {
        try writer.write { db in try db.execute(sql: "UPDATE sessions SET analyzed_at = NULL") }
    }

    public func turns(sessionID: String) throws -> [StoredTurn] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.turnColumns) FROM turns WHERE session_id = ? ORDER BY turn_index, ts, id",
                             arguments: [sessionID]).map(StoredTurn.init)
        }
    }

    /// Turns of several sessions in one query, grouped by session, each in conversation order.
    public func turns(sessionIDs: [String]) throws -> [String: [StoredTurn]] {
        guard !sessionIDs.isEmpty else { return [:] }
        return try writer.read { db in
            let marks = sessionIDs.map { _ in "?" }.joined(separator: ",")
            let rows = try Row.fetchAll(db, sql: "SELECT \(Self.turnColumns) FROM turns WHERE session_id IN (\(marks)) ORDER BY session_id, turn_index, ts, id",
                                        arguments: StatementArguments(sessionIDs))
            return Dictionary(grouping: rows.map(StoredTurn.init), by: \.sessionID)
        }
    }

    /// One session's analysis, to be stored.
    public struct SessionAnalysis: Sendable {
        public var sessionID: String
        public var signals: [NewSignal]
        public var samples: [NewSample]
        public init(sessionID: String, signals: [NewSignal], samples: [NewSample]) {
            self.sessionID = sessionID
            self.signals = signals
            self.samples = samples
        }
    }

    /// Stores several sessions' signals and samples and marks them analysed, in one transaction.
    /// Returns how many signals and samples were new.
    public func recordAnalyses(_ analyses: [SessionAnalysis], now: Int64) throws -> (signals: Int, samples: Int) {
        try writer.write { db in
            var total = (signals: 0, samples: 0)
            for a in analyses {
                let n = try recordAnalysis(db, sessionID: a.sessionID, signals: a.signals, samples: a.samples, now: now)
                total.signals += n.signals
                total.samples += n.samples
            }
            return total
        }
    }

    func recordAnalysis(_ db: Database, sessionID: String, signals: [NewSignal], samples: [NewSample], now: Int64) throws -> (signals: Int, samples: Int) {
        var newSignals = 0, newSamples = 0
        for s in signals {
            try db.execute(sql: """
                INSERT INTO signals(session_id, request_id, kind, confidence, rule, evidence, evidence_turn_id, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(request_id, kind, rule) DO NOTHING
                """, arguments: [s.sessionID, s.requestID, s.kind.rawValue, s.confidence, s.rule, s.evidence, s.evidenceTurnID, now])
            newSignals += db.changesCount
        }
        for sample in samples { newSamples += try insertSample(db, sample, now: now) }
        try db.execute(sql: "UPDATE sessions SET analyzed_at = ? WHERE session_id = ?", arguments: [now, sessionID])
        return (newSignals, newSamples)
    }

    /// Inserts a sample unless one from the same source exists for the request. Returns 1 if inserted.
    func insertSample(_ db: Database, _ s: NewSample, now: Int64) throws -> Int {
        var signalID: Int64?
        if let kind = s.signalKindForLink {
            signalID = try Int64.fetchOne(db, sql: "SELECT id FROM signals WHERE request_id = ? AND kind = ? ORDER BY confidence DESC LIMIT 1",
                                          arguments: [s.requestID, kind.rawValue])
        }
        try db.execute(sql: """
            INSERT INTO training_samples(source, quality, state, task_type, question, wrong_answer, correct_answer, error_category,
                session_id, request_id, question_turn_id, answer_turn_id, image_id, signal_id, feedback_id, evidence, extraction,
                model, prompt_version, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(request_id, source) DO NOTHING
            """, arguments: [s.source.rawValue, s.quality.rawValue, s.state.rawValue, s.taskType, s.question, s.wrongAnswer,
                             s.correctAnswer, s.category.rawValue, s.sessionID, s.requestID, s.questionTurnID, s.answerTurnID,
                             s.imageID, signalID, s.feedbackID, s.evidence, s.extraction, s.model, s.promptVersion, now, now])
        guard db.changesCount == 1 else { return 0 }
        try Self.attributeToEndUser(db, sampleID: db.lastInsertedRowID)
        return 1
    }

    /// One signal per `error_log` event, for requests the store knows the session of. Idempotent.
    public func recordErrorLogSignals(now: Int64) throws -> Int {
        try writer.write { db in
            try db.execute(sql: """
                INSERT INTO signals(session_id, request_id, kind, confidence, rule, evidence, created_at)
                SELECT t.session_id, e.request_id, 'error_log', 1.0, 'error_log:' || e.kind,
                       e.kind || coalesce(': ' || e.detail, ''), ?
                FROM error_logs e
                JOIN turns t ON t.request_id = e.request_id AND t.role = 'assistant'
                WHERE true
                ON CONFLICT(request_id, kind, rule) DO NOTHING
                """, arguments: [now])
            return db.changesCount
        }
    }

    /// Explicit correction and thumbs-down feedback with no sample yet, whose session has been analysed
    /// (so a thumbs-down is only sampled once it is known no correction covers it). The correction lookup is
    /// pinned to feedback_request: the planner's pick, feedback_kind, scans every correction per thumbs-down.
    public func feedbackNeedingSamples(limit: Int) throws -> [FeedbackForSample] {
        try writer.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT f.id, f.kind, f.corrected_response, f.request_id, f.session_id FROM feedback f
                WHERE f.kind IN ('correction', 'thumbs_down')
                  AND NOT EXISTS (SELECT 1 FROM training_samples s WHERE s.feedback_id = f.id)
                  AND NOT (f.kind = 'correction' AND EXISTS (SELECT 1 FROM training_samples s WHERE s.request_id = f.request_id AND s.source = 'user_correction'))
                  AND NOT (f.kind = 'thumbs_down' AND EXISTS (
                        SELECT 1 FROM training_samples s WHERE s.request_id = f.request_id
                          AND s.source IN ('user_correction', 'implicit_correction', 'thumbs_down')))
                  AND NOT (f.kind = 'thumbs_down' AND EXISTS (SELECT 1 FROM feedback c INDEXED BY feedback_request
                                                              WHERE c.request_id = f.request_id AND c.kind = 'correction'))
                  AND EXISTS (SELECT 1 FROM turns t JOIN sessions se ON se.session_id = t.session_id
                              WHERE t.request_id = f.request_id AND (f.kind = 'correction' OR se.analyzed_at IS NOT NULL))
                ORDER BY f.id LIMIT ?
                """, arguments: [limit])
            return try rows.map { row in
                let requestID: String = row[3]
                let turns = try Row.fetchAll(db, sql: "SELECT \(Self.turnColumns) FROM turns WHERE request_id = ? ORDER BY turn_index",
                                             arguments: [requestID]).map(StoredTurn.init)
                return FeedbackForSample(feedbackID: row[0], kind: FeedbackKind(rawValue: row[1]) ?? .thumbsDown, correctedResponse: row[2],
                                         requestID: requestID, sessionID: row[4],
                                         question: turns.last { $0.role == .user }, answer: turns.last { $0.role == .assistant })
            }
        }
    }

    /// `format_error` logs (one per request) whose request has no sample of any source yet and whose session
    /// has been analysed (so a correction found there wins), with the exchange the log is about.
    public func formatErrorsNeedingSamples(limit: Int) throws -> [ErrorLogForSample] {
        try writer.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT min(e.id), e.request_id, e.detail FROM error_logs e
                WHERE e.kind = 'format_error'
                  AND NOT EXISTS (SELECT 1 FROM training_samples s WHERE s.request_id = e.request_id)
                  AND EXISTS (SELECT 1 FROM turns t JOIN sessions se ON se.session_id = t.session_id
                              WHERE t.request_id = e.request_id AND se.analyzed_at IS NOT NULL)
                GROUP BY e.request_id ORDER BY min(e.id) LIMIT ?
                """, arguments: [limit])
            return try rows.map { row in
                let requestID: String = row[1]
                let turns = try Row.fetchAll(db, sql: "SELECT \(Self.turnColumns) FROM turns WHERE request_id = ? ORDER BY turn_index",
                                             arguments: [requestID]).map(StoredTurn.init)
                return ErrorLogForSample(errorLogID: row[0], requestID: requestID, detail: row[2],
                                         question: turns.last { $0.role == .user }, answer: turns.last { $0.role == .assistant })
            }
        }
    }

    public func insertSamples(_ samples: [NewSample], now: Int64) throws -> Int {
        try writer.write { db in try samples.reduce(0) { $0 + (try insertSample(db, $1, now: now)) } }
    }
}

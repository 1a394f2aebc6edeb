import FlywheelCore
import GRDB

public struct SignalRow: Sendable {
    public var id: Int64
    public var sessionID: String
    public var requestID: String
    public var kind: String
    public var confidence: Double
    public var rule: String
    public var evidence: String?
    public var createdAt: Int64
}

public struct SampleRow: Sendable {
    public var id: Int64
    public var requestID: String?
    public var sessionID: String?
    public var source: String
    public var quality: String
    public var state: String
    public var taskType: String
    public var question: String?
    public var wrongAnswer: String?
    public var correctAnswer: String?
    public var category: String
    public var evidence: String?
    public var extraction: String?
    public var imageID: Int64?
    public var signalID: Int64?
    public var model: String?
    public var promptVersion: String?
    public var createdAt: Int64

    init(row: Row) {
        id = row["id"]
        requestID = row["request_id"]
        sessionID = row["session_id"]
        source = row["source"]
        quality = row["quality"]
        state = row["state"]
        taskType = row["task_type"]
        question = row["question"]
        wrongAnswer = row["wrong_answer"]
        correctAnswer = row["correct_answer"]
        category = row["error_category"]
        evidence = row["evidence"]
        extraction = row["extraction"]
        imageID = row["image_id"]
        signalID = row["signal_id"]
        model = row["model"]
        promptVersion = row["prompt_version"]
        createdAt = row["created_at"]
    }
}

public struct SampleFilter: Sendable {
    public var states: [String] = []
    public var sources: [String] = []
    public var categories: [String] = []
    public init(states: [String] = [], sources: [String] = [], categories: [String] = []) {
        self.states = states
        self.sources = sources
        self.categories = categories
    }
}

/// One page of a keyset-paged listing: rows of `table` with `id > afterID`, in id order, where each
/// filter's column is one of its values (an empty filter is no filter).
func keysetPage(_ db: Database, columns: String, table: String, afterID: Int64, limit: Int,
                filters: [(column: String, values: [String])] = []) throws -> [Row] {
    var sql = "SELECT \(columns) FROM \(table) WHERE id > ?"
    var args: [DatabaseValueConvertible?] = [afterID]
    for f in filters where !f.values.isEmpty {
        sql += " AND \(f.column) IN (\(f.values.map { _ in "?" }.joined(separator: ",")))"
        args += f.values.map { $0 as DatabaseValueConvertible? }
    }
    sql += " ORDER BY id LIMIT ?"
    args.append(limit)
    return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args))
}

extension Store {
    /// Signals in id order after `afterID` (keyset paging), optionally of one kind.
    public func signals(kind: String? = nil, afterID: Int64 = 0, limit: Int) throws -> [SignalRow] {
        try writer.read { db in
            try keysetPage(db, columns: "id, session_id, request_id, kind, confidence, rule, evidence, created_at", table: "signals",
                           afterID: afterID, limit: limit, filters: [("kind", kind.map { [$0] } ?? [])]).map { r in
                SignalRow(id: r[0], sessionID: r[1], requestID: r[2], kind: r[3], confidence: r[4], rule: r[5], evidence: r[6], createdAt: r[7])
            }
        }
    }

    static let sampleColumns = """
        id, request_id, session_id, source, quality, state, task_type, question, wrong_answer, correct_answer, error_category,
        evidence, extraction, image_id, signal_id, model, prompt_version, created_at
        """

    public func samples(filter: SampleFilter = SampleFilter(), afterID: Int64 = 0, limit: Int) throws -> [SampleRow] {
        try writer.read { db in
            try keysetPage(db, columns: Self.sampleColumns, table: "training_samples", afterID: afterID, limit: limit,
                           filters: [("state", filter.states), ("source", filter.sources), ("error_category", filter.categories)])
                .map(SampleRow.init)
        }
    }

    /// Implicit corrections the rules left without an answer and no LLM has tried yet (or, with
    /// `retryFailed`, where the last LLM attempt failed).
    /// With `includeResolved`, also implicit corrections the rules answered (to audit the rules against the
    /// LLM; the rules' answer is kept).
    public func samplesForLLM(limit: Int, retryFailed: Bool, includeResolved: Bool = false) throws -> [SampleRow] {
        try writer.read { db in
            let attempted = retryFailed
                ? "json_extract(extraction, '$.llm.status') IN ('ok', 'ungrounded', 'no_correction')"
                : "json_extract(extraction, '$.llm') IS NOT NULL"
            return try Row.fetchAll(db, sql: """
                SELECT \(Self.sampleColumns) FROM training_samples
                WHERE source = 'implicit_correction'
                  AND (\(includeResolved ? "1" : "state = 'needs_answer' AND correct_answer IS NULL"))
                  AND NOT coalesce(\(attempted), 0)
                ORDER BY id LIMIT ?
                """, arguments: [limit]).map(SampleRow.init)
        }
    }

    /// Records an LLM extraction attempt on a sample. With an answer (grounded), the sample gets it and
    /// becomes pending with its category re-derived; otherwise only the attempt is recorded.
    public func recordExtraction(sampleID: Int64, extraction: String, correctAnswer: String?, category: ErrorCategory?, now: Int64) throws {
        try writer.write { db in
            // The attempt is always recorded; the answer only fills a sample that is still waiting for one.
            try db.execute(sql: "UPDATE training_samples SET extraction = ?, updated_at = ? WHERE id = ?",
                           arguments: [extraction, now, sampleID])
            if let correctAnswer, let category, let before = try snapshot(db, sampleID: sampleID) {
                try db.execute(sql: """
                    UPDATE training_samples SET correct_answer = ?, error_category = ?, state = 'pending', updated_at = ?
                    WHERE id = ? AND state = 'needs_answer' AND correct_answer IS NULL
                    """, arguments: [correctAnswer, category.rawValue, now, sampleID])
                // A machine's state change is audited like a person's.
                if db.changesCount == 1 {
                    _ = try appendAction(db, sampleID: sampleID, reviewer: "flywheel-analyze", action: "llm_answer", before: before,
                                         after: SampleSnapshot(state: SampleState.pending.rawValue, correctAnswer: correctAnswer, category: category.rawValue),
                                         at: now)
                }
            }
        }
    }

    /// Counts of samples by state, for summaries.
    public func sampleCountsByState() throws -> [(state: String, count: Int)] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT state, COUNT(*) FROM training_samples GROUP BY state ORDER BY state").map { ($0[0], $0[1]) }
        }
    }

    public func signalCountsByKind() throws -> [(kind: String, count: Int)] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT kind, COUNT(*) FROM signals GROUP BY kind ORDER BY kind").map { ($0[0], $0[1]) }
        }
    }
}

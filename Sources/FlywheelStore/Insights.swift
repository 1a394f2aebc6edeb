import FlywheelCore
import GRDB

// Read queries of the improvement loop: error categories of samples over a time window (and the samples of one
// cell), outcomes per prompt version for A/B comparison, and the flywheel's metrics as hour or day series.
//
// Times are event times, so an archive or the demo shows when things happened, not when they were analysed:
// a sample's time is its answer turn's ts (answer_turn_id), else the latest assistant turn of its request, else
// its recognition's ts (image-tagging samples), else its created_at; a signal's is its evidence turn's ts, else
// the latest assistant turn of its request, else its created_at; feedback has its own ts. Review actions are the exception: they happen in the reviewer's time
// (review_actions.at). Windows are half-open, [since, until), in milliseconds.
//
// A request's outcome is negative when it has thumbs_down or correction feedback or a correction signal.

/// A half-open time window [since, until), milliseconds since the epoch.
public struct InsightWindow: Sendable, Equatable {
    public var since: Int64
    public var until: Int64

    public init(since: Int64, until: Int64) {
        self.since = since
        self.until = until
    }

    /// The window of `days` whole UTC days ending with the day that holds `latest`.
    public static func days(_ days: Int, endingWithDayOf latest: Int64) -> InsightWindow {
        let until = Series.bucketStart(latest, .day) + MetricBucket.day.millis
        return InsightWindow(since: until - Int64(max(days, 1)) * MetricBucket.day.millis, until: until)
    }
}

/// Samples of one category for one task type, model and prompt version (the caller aggregates).
public struct BreakdownRow: Sendable, Equatable {
    public var taskType: String
    public var model: String?
    public var promptVersion: String?
    public var category: String
    public var count: Int

    public init(taskType: String, model: String?, promptVersion: String?, category: String, count: Int) {
        self.taskType = taskType
        self.model = model
        self.promptVersion = promptVersion
        self.category = category
        self.count = count
    }
}

/// Requests answered with one prompt version, and how many of them had a negative outcome.
public struct PromptOutcome: Sendable, Equatable {
    public var promptVersion: String
    /// prompt_versions.task_type, else the task_type its turns carry (nil when neither says).
    public var taskType: String?
    /// Distinct requests with an assistant turn of this prompt version.
    public var answered: Int
    /// Of those, the requests with thumbs_down or correction feedback or a correction signal.
    public var negative: Int

    public init(promptVersion: String, taskType: String?, answered: Int, negative: Int) {
        self.promptVersion = promptVersion
        self.taskType = taskType
        self.answered = answered
        self.negative = negative
    }

    public var proportion: Proportion { Proportion(successes: negative, trials: answered) }
}

/// The flywheel's figures for one hour or day, starting at `start`.
public struct MetricPoint: Sendable, Equatable {
    public var start: Int64
    /// Feedback events (thumbs up/down, corrections, tags) at this time.
    public var explicitFeedback: Int
    /// Signals mined from conversations, at the time of what they are about.
    public var implicitSignals: Int
    /// Distinct requests answered (placed at their last assistant turn in the window).
    public var answered: Int
    /// Of those, the requests with a negative outcome.
    public var negative: Int
    /// Training samples about this time (their event time).
    public var newSamples: Int
    /// Of those, the ones now approved or fixed.
    public var approvedSamples: Int
    /// Review decisions made in this hour or day of the reviewers' clock (undos not counted).
    public var reviewActions: Int

    public init(start: Int64, explicitFeedback: Int = 0, implicitSignals: Int = 0, answered: Int = 0, negative: Int = 0,
                newSamples: Int = 0, approvedSamples: Int = 0, reviewActions: Int = 0) {
        self.start = start
        self.explicitFeedback = explicitFeedback
        self.implicitSignals = implicitSignals
        self.answered = answered
        self.negative = negative
        self.newSamples = newSamples
        self.approvedSamples = approvedSamples
        self.reviewActions = reviewActions
    }

    /// negative / answered (0 without requests).
    public var negativeRate: Double { Proportion(successes: negative, trials: answered).rate }
    /// Signals to approved samples: approved samples / (explicit feedback + implicit signals), 0 without signals.
    public var conversionRate: Double { Proportion(successes: approvedSamples, trials: explicitFeedback + implicitSignals).rate }

    /// The sum of points (start of the first).
    public static func total(_ points: [MetricPoint]) -> MetricPoint {
        points.reduce(into: MetricPoint(start: points.first?.start ?? 0)) { t, p in
            t.explicitFeedback += p.explicitFeedback
            t.implicitSignals += p.implicitSignals
            t.answered += p.answered
            t.negative += p.negative
            t.newSamples += p.newSamples
            t.approvedSamples += p.approvedSamples
            t.reviewActions += p.reviewActions
        }
    }
}

extension Store {
    /// SQL for the event time of training sample `s` (see the top of this file). Queries compute it once per
    /// sample in a MATERIALIZED CTE: a flattened subquery would evaluate it again for every mention of `at`.
    static let sampleTime = """
        COALESCE((SELECT ts FROM turns WHERE id = s.answer_turn_id),
                 (SELECT max(ts) FROM turns a WHERE a.request_id = s.request_id AND a.role = 'assistant'),
                 (SELECT max(ts) FROM recognitions r WHERE r.request_id = s.request_id),
                 s.created_at)
        """

    /// Negative requests: thumbs_down or correction feedback (feedback_kind) or a correction signal (signals_kind).
    /// Requests with a negative outcome. Feedback and signals from end users flagged as abusive do not count:
    /// their thumbs-downs would otherwise move a prompt's negative rate and the A/B verdict.
    static let negativeRequests = """
        negative(request_id) AS (
            SELECT f.request_id FROM feedback f WHERE f.kind IN ('thumbs_down', 'correction')
              AND NOT EXISTS (SELECT 1 FROM end_user_trust u WHERE u.user_id = f.user_id AND u.flagged = 1)
            UNION SELECT g.request_id FROM signals g WHERE g.kind = 'correction'
              AND NOT EXISTS (SELECT 1 FROM sessions se JOIN end_user_trust u ON u.user_id = se.user_id
                              WHERE se.session_id = g.session_id AND u.flagged = 1))
        """

    /// The `days` whole UTC days ending with the day of the newest sample's time; nil when there are no samples.
    public func defaultInsightWindow(days: Int) throws -> InsightWindow? {
        let latest = try writer.read { db in
            try Int64.fetchOne(db, sql: "SELECT max(\(Self.sampleTime)) FROM training_samples s")
        }
        return latest.map { InsightWindow.days(days, endingWithDayOf: $0) }
    }

    /// Samples whose time is in the window, counted by task type, model, prompt version and error category.
    /// Rejected samples are left out (a reviewer said the model was not wrong), and so are held ones (from an
    /// end user flagged as abusive, not yet released). Reads every sample.
    public func categoryBreakdown(_ w: InsightWindow) throws -> [BreakdownRow] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                WITH timed AS MATERIALIZED (
                    SELECT s.task_type, s.model, s.prompt_version, s.error_category, \(Self.sampleTime) AS at
                    FROM training_samples s WHERE s.state NOT IN ('rejected', 'held'))
                SELECT task_type, model, prompt_version, error_category, count(*) FROM timed
                WHERE at >= ? AND at < ?
                GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                """, arguments: [w.since, w.until]).map { r in
                BreakdownRow(taskType: r[0], model: r[1], promptVersion: r[2], category: r[3], count: r[4])
            }
        }
    }

    /// The samples of one cell of the breakdown, newest first (by sample time, then id): samples in the window,
    /// not rejected or held, matching every filter that is not nil.
    public func samples(in w: InsightWindow, taskType: String?, model: String?, promptVersion: String?, category: String?,
                        limit: Int) throws -> [SampleRow] {
        guard limit > 0 else { return [] }
        var conditions = ["s.state NOT IN ('rejected', 'held')"]
        var args: [DatabaseValueConvertible?] = []
        for (column, value) in [("task_type", taskType), ("model", model), ("prompt_version", promptVersion), ("error_category", category)] {
            if let value {
                conditions.append("s.\(column) = ?")
                args.append(value)
            }
        }
        args += [w.since, w.until, limit]
        return try writer.read { db in
            try Row.fetchAll(db, sql: """
                WITH timed AS MATERIALIZED (
                    SELECT s.*, \(Self.sampleTime) AS at FROM training_samples s WHERE \(conditions.joined(separator: " AND ")))
                SELECT \(Self.sampleColumns) FROM timed
                WHERE at >= ? AND at < ?
                ORDER BY at DESC, id DESC LIMIT ?
                """, arguments: StatementArguments(args)).map(SampleRow.init)
        }
    }

    /// Per prompt version (by name): the distinct requests answered with it (assistant turns in the window, or
    /// ever when `w` is nil) and how many of them had a negative outcome. Versions with no answered request in
    /// the window are not listed. Reads the turns in the window once; negatives are looked up from the (few)
    /// negative requests.
    public func promptOutcomes(_ w: InsightWindow?) throws -> [PromptOutcome] {
        let range = w == nil ? "" : "AND t.ts >= ? AND t.ts < ?"
        let args: StatementArguments = w.map { [$0.since, $0.until] } ?? []
        return try writer.read { db in
            let answered = try Row.fetchAll(db, sql: """
                SELECT t.prompt_version, count(DISTINCT t.request_id), max(t.task_type),
                       (SELECT task_type FROM prompt_versions p WHERE p.name = t.prompt_version)
                FROM turns t
                WHERE t.role = 'assistant' AND t.prompt_version IS NOT NULL AND t.request_id IS NOT NULL \(range)
                GROUP BY t.prompt_version ORDER BY t.prompt_version
                """, arguments: args)
            let negative = try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: """
                WITH \(Self.negativeRequests)
                SELECT t.prompt_version, count(DISTINCT t.request_id)
                FROM negative n JOIN turns t ON t.request_id = n.request_id
                WHERE t.role = 'assistant' AND t.prompt_version IS NOT NULL \(range)
                GROUP BY t.prompt_version
                """, arguments: args).map { ($0[0] as String, $0[1] as Int) })
            return answered.map { r in
                let version: String = r[0]
                let registered: String? = r[3]
                let seen: String? = r[2]
                return PromptOutcome(promptVersion: version, taskType: registered ?? seen, answered: r[1], negative: negative[version] ?? 0)
            }
        }
    }

    /// Task types that prompt versions are registered for, by name (so a plan can say "no action needed" for a
    /// task type that had no negative samples).
    public func registeredTaskTypes() throws -> [String] {
        try writer.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT task_type FROM prompt_versions WHERE task_type IS NOT NULL ORDER BY 1")
        }
    }

    /// One point per UTC hour or day of the window (every bucket that overlaps it, zeros included), in order.
    public func metricSeries(_ w: InsightWindow, bucket: MetricBucket) throws -> [MetricPoint] {
        let b = bucket.millis
        // The start of the bucket of time column `t` (floor, also before 1970).
        func start(_ t: String) -> String { "(\(t) - ((\(t) % \(b)) + \(b)) % \(b))" }
        let window: StatementArguments = [w.since, w.until]
        let fetched = try writer.read { db -> [String: [(ts: Int64, count: Int)]] in
            func series(_ sql: String, columns: [String]) throws -> [String: [(ts: Int64, count: Int)]] {
                let rows = try Row.fetchAll(db, sql: sql, arguments: window)
                var out: [String: [(ts: Int64, count: Int)]] = [:]
                for (i, name) in columns.enumerated() { out[name] = rows.map { ($0[0], $0[i + 1]) } }
                return out
            }
            var all = try series("""
                SELECT \(start("ts")), count(*) FROM feedback WHERE ts >= ? AND ts < ? GROUP BY 1
                """, columns: ["feedback"])
            all.merge(try series("""
                WITH timed AS MATERIALIZED (
                    SELECT COALESCE((SELECT ts FROM turns WHERE id = g.evidence_turn_id),
                                    (SELECT max(ts) FROM turns a WHERE a.request_id = g.request_id AND a.role = 'assistant'),
                                    g.created_at) AS at
                    FROM signals g)
                SELECT \(start("at")), count(*) FROM timed WHERE at >= ? AND at < ? GROUP BY 1
                """, columns: ["signals"])) { $1 }
            all.merge(try series("""
                SELECT \(start("at")), count(*) FROM (
                    SELECT max(t.ts) AS at FROM turns t
                    WHERE t.role = 'assistant' AND t.request_id IS NOT NULL AND t.ts >= ? AND t.ts < ?
                    GROUP BY t.request_id)
                GROUP BY 1
                """, columns: ["answered"])) { $1 }
            all.merge(try series("""
                WITH \(Self.negativeRequests)
                SELECT \(start("at")), count(*) FROM (
                    SELECT max(t.ts) AS at FROM negative n JOIN turns t ON t.request_id = n.request_id
                    WHERE t.role = 'assistant' AND t.ts >= ? AND t.ts < ?
                    GROUP BY t.request_id)
                GROUP BY 1
                """, columns: ["negative"])) { $1 }
            all.merge(try series("""
                WITH timed AS MATERIALIZED (SELECT s.state, \(Self.sampleTime) AS at FROM training_samples s)
                SELECT \(start("at")), count(*), sum(state IN ('approved', 'fixed')) FROM timed WHERE at >= ? AND at < ? GROUP BY 1
                """, columns: ["samples", "approved"])) { $1 }
            all.merge(try series("""
                SELECT \(start("at")), count(*) FROM review_actions WHERE at >= ? AND at < ? AND action NOT IN ('undo', 'llm_answer') GROUP BY 1
                """, columns: ["reviews"])) { $1 }
            return all
        }
        func counts(_ name: String) -> [Int] { Series.fill(fetched[name] ?? [], since: w.since, until: w.until, bucket).map(\.count) }
        let starts = Series.bucketStarts(since: w.since, until: w.until, bucket)
        let feedback = counts("feedback"), signals = counts("signals"), answered = counts("answered"), negative = counts("negative")
        let samples = counts("samples"), approved = counts("approved"), reviews = counts("reviews")
        return starts.indices.map { i in
            MetricPoint(start: starts[i], explicitFeedback: feedback[i], implicitSignals: signals[i], answered: answered[i],
                        negative: negative[i], newSamples: samples[i], approvedSamples: approved[i], reviewActions: reviews[i])
        }
    }

    /// Review decisions (undos and the LLM's answers not counted) made in the window, by the reviewers' clock.
    public func reviewActionCount(_ w: InsightWindow) throws -> Int {
        try writer.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM review_actions WHERE at >= ? AND at < ? AND action NOT IN ('undo', 'llm_answer')",
                             arguments: [w.since, w.until]) ?? 0
        }
    }

    /// The sample waiting longest for a decision (state pending or needs_answer, by created_at, then id).
    public func oldestPendingSample() throws -> (id: Int64, createdAt: Int64)? {
        try writer.read { db in
            try Row.fetchOne(db, sql: """
                SELECT id, created_at FROM training_samples WHERE state IN ('pending', 'needs_answer') ORDER BY created_at, id LIMIT 1
                """).map { ($0[0], $0[1]) }
        }
    }
}

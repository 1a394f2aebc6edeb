import FlywheelCore
import Foundation
import GRDB

// Cold-start annotation: images registered with `flywheel seed-images` and answered turns nobody gave feedback
// on wait as annotation_tasks for a human label; a label becomes an approved training sample (source
// seed_label, quality high). Also the synthetic samples of `flywheel augment`.

/// One annotation task, with what the annotate screen shows of its image.
public struct AnnotationTask: Sendable, Equatable {
    public var id: Int64
    /// 'vqa' (answer the question) or 'tags' (list the image's tags).
    public var kind: String
    public var imageID: Int64?
    public var imageRef: String?
    /// present, missing, url or unreadable.
    public var imageStatus: String?
    public var question: String?
    /// The model's answer, for a queued turn.
    public var suggested: String?
    /// 'seed_images' or 'unlabelled_turn'.
    public var origin: String
    /// 'open', 'done' or 'skipped'.
    public var status: String
    public var createdAt: Int64

    public init(id: Int64, kind: String, imageID: Int64?, imageRef: String?, imageStatus: String?, question: String?, suggested: String?,
                origin: String, status: String, createdAt: Int64) {
        self.id = id
        self.kind = kind
        self.imageID = imageID
        self.imageRef = imageRef
        self.imageStatus = imageStatus
        self.question = question
        self.suggested = suggested
        self.origin = origin
        self.status = status
        self.createdAt = createdAt
    }
}

public struct AnnotationProgress: Sendable, Equatable {
    public var done: Int
    public var open: Int
    public var skipped: Int
    public var goal: Int
    /// Tasks done in the hour before `now`.
    public var lastHour: Int
    /// Tasks done per hour over the last 24 hours: those done divided by the hours from the first of them to
    /// `now` (at least one hour); nil when none was done in the last 24 hours.
    public var perHour: Double?

    public init(done: Int, open: Int, skipped: Int, goal: Int, lastHour: Int, perHour: Double?) {
        self.done = done
        self.open = open
        self.skipped = skipped
        self.goal = goal
        self.lastHour = lastHour
        self.perHour = perHour
    }
}

public enum AnnotationError: Error, Equatable, CustomStringConvertible {
    case taskNotFound(Int64)
    /// The task was done or skipped already (perhaps by another annotator).
    case notOpen(Int64, status: String)
    /// A vqa task with an empty or blank answer.
    case emptyAnswer
    /// A tags task with no (non-blank) tag.
    case noTags
    /// Not 'vqa' or 'tags'.
    case unknownKind(String)

    public var description: String {
        switch self {
        case .taskNotFound(let id): return "annotation task \(id) does not exist"
        case let .notOpen(id, status): return "annotation task \(id) is already \(status)"
        case .emptyAnswer: return "the answer is empty: nothing saved"
        case .noTags: return "no tags given: nothing saved"
        case .unknownKind(let k): return "unknown annotation kind '\(k)': use vqa or tags"
        }
    }
}

/// What `registerSeedImages` did.
public struct SeedRegistration: Sendable, Equatable {
    /// Images not in the store before.
    public var newImages: Int
    /// Annotation tasks created (an image that already has a task of the kind gets none).
    public var newTasks: Int
    public init(newImages: Int, newTasks: Int) {
        self.newImages = newImages
        self.newTasks = newTasks
    }
}

/// A reviewed sample `flywheel augment` can paraphrase.
public struct AugmentationSource: Sendable, Equatable {
    public var sampleID: Int64
    public var question: String
    /// How many synthetic samples derive from it already.
    public var derived: Int
}

extension Store {
    static let annotationColumns = """
        a.id, a.kind, a.image_id, i.ref, i.status, a.question, a.suggested, a.origin, a.status, a.created_at
        """

    static func annotationTask(_ r: Row) -> AnnotationTask {
        AnnotationTask(id: r[0], kind: r[1], imageID: r[2], imageRef: r[3], imageStatus: r[4], question: r[5], suggested: r[6],
                       origin: r[7], status: r[8], createdAt: r[9])
    }

    /// Registers images (content-addressed, exactly as ingest does: one images row per picture) and an open
    /// annotation task of `kind` for each, in one transaction. Idempotent: one task per (kind, image).
    public func registerSeedImages(_ images: [ResolvedImage], kind: String, question: String?, now: Int64) throws -> SeedRegistration {
        guard kind == "vqa" || kind == "tags" else { throw AnnotationError.unknownKind(kind) }
        return try writer.write { db in
            var result = SeedRegistration(newImages: 0, newTasks: 0)
            for image in images {
                let existing = try Int64.fetchOne(db, sql: "SELECT id FROM images WHERE image_key = ?", arguments: [image.key])
                let id: Int64
                if let existing {
                    id = existing
                    try db.execute(sql: """
                        UPDATE images SET status = CASE WHEN ? = 'present' THEN 'present' ELSE status END,
                            path = coalesce(path, ?), bytes = coalesce(bytes, ?), width = coalesce(width, ?),
                            height = coalesce(height, ?), format = coalesce(format, ?)
                        WHERE id = ?
                        """, arguments: [image.status.rawValue, image.path, image.bytes, image.width, image.height, image.format, id])
                } else {
                    try db.execute(sql: """
                        INSERT INTO images(image_key, sha256, ref, path, status, bytes, width, height, format, first_seen)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [image.key, image.sha256, image.ref, image.path, image.status.rawValue, image.bytes,
                                         image.width, image.height, image.format, now])
                    id = db.lastInsertedRowID
                    result.newImages += 1
                }
                try db.execute(sql: """
                    INSERT OR IGNORE INTO annotation_tasks(kind, image_id, question, origin, status, created_at)
                    VALUES (?, ?, ?, 'seed_images', 'open', ?)
                    """, arguments: [kind, id, kind == "vqa" ? question : nil, now])
                result.newTasks += db.changesCount
            }
            return result
        }
    }

    /// Queues answered assistant turns that nobody gave feedback on and analysis found no signal for, as vqa
    /// tasks (question: the user turn, suggested: the assistant's answer, image: the latest image the user sent
    /// up to that turn). Only analysed sessions, only turns with a request shared by a user turn, no turn
    /// twice, oldest first. Returns how many were queued.
    public func queueUnlabelledTurns(limit: Int, now: Int64) throws -> Int {
        try writer.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO annotation_tasks(kind, image_id, turn_id, question, suggested, origin, status, created_at)
                SELECT 'vqa',
                       (SELECT i.image_id FROM turns i WHERE i.session_id = a.session_id AND i.role = 'user'
                          AND i.image_id IS NOT NULL AND i.turn_index <= a.turn_index ORDER BY i.turn_index DESC LIMIT 1),
                       a.id,
                       (SELECT u.content FROM turns u WHERE u.request_id = a.request_id AND u.role = 'user' ORDER BY u.turn_index DESC LIMIT 1),
                       a.content, 'unlabelled_turn', 'open', ?
                FROM turns a JOIN sessions se ON se.session_id = a.session_id
                WHERE a.role = 'assistant' AND a.request_id IS NOT NULL AND se.analyzed_at IS NOT NULL
                  AND trim(a.content) <> ''
                  AND EXISTS (SELECT 1 FROM turns u WHERE u.request_id = a.request_id AND u.role = 'user')
                  AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.request_id = a.request_id)
                  AND NOT EXISTS (SELECT 1 FROM signals s WHERE s.request_id = a.request_id)
                  AND NOT EXISTS (SELECT 1 FROM training_samples t WHERE t.request_id = a.request_id)
                  AND NOT EXISTS (SELECT 1 FROM annotation_tasks x WHERE x.turn_id = a.id)
                ORDER BY a.id LIMIT ?
                """, arguments: [now, limit])
            return db.changesCount
        }
    }

    /// Open tasks after `id` (all open tasks when nil), in id order.
    public func nextAnnotationTasks(after id: Int64?, limit: Int) throws -> [AnnotationTask] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.annotationColumns) FROM annotation_tasks a LEFT JOIN images i ON i.id = a.image_id
                WHERE a.status = 'open' AND a.id > ? ORDER BY a.id LIMIT ?
                """, arguments: [id ?? 0, limit]).map(Self.annotationTask)
        }
    }

    public func annotationTask(id: Int64) throws -> AnnotationTask? {
        try writer.read { db in
            try Row.fetchOne(db, sql: """
                SELECT \(Self.annotationColumns) FROM annotation_tasks a LEFT JOIN images i ON i.id = a.image_id WHERE a.id = ?
                """, arguments: [id]).map(Self.annotationTask)
        }
    }

    /// Counts of tasks by status, and the pace of the last hour and day (see `AnnotationProgress.perHour`).
    public func annotationProgress(goal: Int, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) throws -> AnnotationProgress {
        try writer.read { db in
            let counts = try Row.fetchAll(db, sql: "SELECT status, count(*) FROM annotation_tasks GROUP BY status")
            var byStatus: [String: Int] = [:]
            for r in counts { byStatus[r[0]] = r[1] }
            let hour: Int64 = 3_600_000
            let lastHour = try Int.fetchOne(db, sql: "SELECT count(*) FROM annotation_tasks WHERE status = 'done' AND done_at > ? AND done_at <= ?",
                                            arguments: [now - hour, now]) ?? 0
            let day = try Row.fetchOne(db, sql: "SELECT count(*), min(done_at) FROM annotation_tasks WHERE status = 'done' AND done_at > ? AND done_at <= ?",
                                       arguments: [now - 24 * hour, now])!
            let n: Int = day[0]
            var perHour: Double?
            if n > 0, let first: Int64 = day[1] {
                perHour = Double(n) / max(1, Double(now - first) / Double(hour))
            }
            return AnnotationProgress(done: byStatus["done"] ?? 0, open: byStatus["open"] ?? 0, skipped: byStatus["skipped"] ?? 0,
                                      goal: goal, lastHour: lastHour, perHour: perHour)
        }
    }

    /// Task counts by kind, origin and status (for `flywheel annotations`).
    public func annotationCounts() throws -> [(kind: String, origin: String, status: String, count: Int)] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT kind, origin, status, count(*) FROM annotation_tasks GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
                .map { (kind: $0[0], origin: $0[1], status: $0[2], count: $0[3]) }
        }
    }

    /// Records an annotator's label for an open task, in one write transaction: a training sample (source
    /// seed_label, quality high, state approved: the label is the ground truth) of task_type vqa (question and
    /// correct_answer; wrong_answer is the model's suggested answer when the label differs from it) or tags
    /// (sample_tags rows with verdict 'correct', correct_answer the tag list); the task becomes done; a
    /// review_actions row 'annotate' (before: null) records it. Returns the new sample's id.
    public func annotate(taskID: Int64, answer: String?, tags: [String]?, annotator: String, now: Int64) throws -> Int64 {
        try writer.write { db in
            try Self.authorize(db, annotator, .annotate)
            guard let task = try Row.fetchOne(db, sql: "SELECT kind, image_id, turn_id, question, suggested, status FROM annotation_tasks WHERE id = ?",
                                              arguments: [taskID]) else { throw AnnotationError.taskNotFound(taskID) }
            let kind: String = task[0], imageID: Int64? = task[1], turnID: Int64? = task[2], question: String? = task[3],
                suggested: String? = task[4], status: String = task[5]
            guard status == "open" else { throw AnnotationError.notOpen(taskID, status: status) }
            var turn: StoredTurn?
            if let turnID {
                turn = try Row.fetchOne(db, sql: "SELECT \(Self.turnColumns) FROM turns WHERE id = ?", arguments: [turnID]).map(StoredTurn.init)
            }
            var questionTurnID: Int64?
            if let requestID = turn?.requestID {
                questionTurnID = try Int64.fetchOne(db, sql: "SELECT id FROM turns WHERE request_id = ? AND role = 'user' ORDER BY turn_index DESC LIMIT 1",
                                                    arguments: [requestID])
            }
            var sampleTags: [SampleTag] = []
            let taskType: String, correct: String, wrong: String?
            if kind == "tags" {
                var seen = Set<String>()
                let list = (tags ?? []).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty && seen.insert($0).inserted }
                guard !list.isEmpty else { throw AnnotationError.noTags }
                sampleTags = list.map { SampleTag(tag: $0, score: nil, verdict: "correct") }
                taskType = "tags"
                correct = Self.tagList(list)
                wrong = nil
            } else {
                guard let a = answer?.trimmingCharacters(in: .whitespacesAndNewlines), !a.isEmpty else { throw AnnotationError.emptyAnswer }
                taskType = turn?.taskType ?? "vqa"
                correct = a
                let s = suggested?.trimmingCharacters(in: .whitespacesAndNewlines)
                wrong = (s?.isEmpty == false && s != a) ? s : nil
            }
            try db.execute(sql: """
                INSERT INTO training_samples(source, quality, state, task_type, question, wrong_answer, correct_answer, error_category,
                    session_id, request_id, question_turn_id, answer_turn_id, image_id, evidence, model, prompt_version, created_at, updated_at)
                VALUES ('seed_label', 'high', 'approved', ?, ?, ?, ?, 'unknown', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [taskType, kind == "tags" ? nil : question, wrong, correct, turn?.sessionID, turn?.requestID, questionTurnID,
                                 turnID, imageID, "annotated by \(annotator) (task \(taskID))", turn?.model, turn?.promptVersion, now, now])
            let sampleID = db.lastInsertedRowID
            try insertTags(db, sampleID: sampleID, sampleTags)
            try db.execute(sql: "UPDATE annotation_tasks SET status = 'done', sample_id = ?, annotator = ?, done_at = ? WHERE id = ?",
                           arguments: [sampleID, annotator, now, taskID])
            let after = SampleSnapshot(state: SampleState.approved.rawValue, correctAnswer: correct, category: ErrorCategory.unknown.rawValue)
            if kind == "tags" {
                _ = try appendTagsAction(db, sampleID: sampleID, reviewer: annotator, action: "annotate", before: nil, beforeTags: [],
                                         after: after, afterTags: sampleTags, at: now)
            } else {
                try db.execute(sql: """
                    INSERT INTO review_actions(sample_id, reviewer, action, before, after, at)
                    VALUES (?, ?, 'annotate', NULL, json_object('state', ?, 'correct_answer', ?, 'error_category', ?), ?)
                    """, arguments: [sampleID, annotator, after.state, after.correctAnswer, after.category, now])
            }
            return sampleID
        }
    }

    /// Marks an open task skipped (by `annotator`, at `now`).
    public func skipAnnotation(taskID: Int64, annotator: String, now: Int64) throws {
        try writer.write { db in
            try Self.authorize(db, annotator, .annotate)
            guard let status = try String.fetchOne(db, sql: "SELECT status FROM annotation_tasks WHERE id = ?", arguments: [taskID]) else {
                throw AnnotationError.taskNotFound(taskID)
            }
            guard status == "open" else { throw AnnotationError.notOpen(taskID, status: status) }
            try db.execute(sql: "UPDATE annotation_tasks SET status = 'skipped', annotator = ?, done_at = ? WHERE id = ?",
                           arguments: [annotator, now, taskID])
            try Self.appendAudit(db, actor: annotator, action: "annotation_skip", entity: "annotation_task", entityID: String(taskID),
                                 before: "{\"status\":\"open\"}", after: "{\"status\":\"skipped\"}", at: now)
        }
    }

    // MARK: Synthetic samples (flywheel augment)

    /// Reviewed (approved or fixed), non-synthetic samples with a question and a correct answer that have fewer
    /// than `below` synthetic samples derived from them, oldest first.
    public func augmentationSources(below: Int, limit: Int) throws -> [AugmentationSource] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.id, s.question, (SELECT count(*) FROM training_samples d WHERE d.derived_from = s.id) AS derived
                FROM training_samples s
                WHERE s.state IN ('approved', 'fixed') AND s.synthetic = 0
                  AND trim(coalesce(s.question, '')) <> '' AND trim(coalesce(s.correct_answer, '')) <> ''
                  AND derived < ?
                ORDER BY s.id LIMIT ?
                """, arguments: [below, limit]).map { AugmentationSource(sampleID: $0[0], question: $0[1], derived: $0[2]) }
        }
    }

    /// Creates synthetic samples: each a copy of its source sample (task type, answers, category, source,
    /// quality, image, session, model, prompt version) with the question replaced, state approved (it inherits
    /// the reviewed answer), synthetic = 1, derived_from = the source, and no request (the link is
    /// derived_from). A (source, question) pair that exists already is skipped. One transaction; returns how
    /// many were new.
    public func insertSyntheticSamples(_ items: [(sourceID: Int64, question: String, note: String)], now: Int64) throws -> Int {
        try writer.write { db in
            var inserted = 0
            for item in items {
                try db.execute(sql: """
                    INSERT INTO training_samples(source, quality, state, task_type, question, wrong_answer, correct_answer, error_category,
                        session_id, image_id, evidence, model, prompt_version, created_at, updated_at, synthetic, derived_from)
                    SELECT s.source, s.quality, 'approved', s.task_type, ?, s.wrong_answer, s.correct_answer, s.error_category,
                           s.session_id, s.image_id, ?, s.model, s.prompt_version, ?, ?, 1, s.id
                    FROM training_samples s
                    WHERE s.id = ? AND s.synthetic = 0
                      AND NOT EXISTS (SELECT 1 FROM training_samples d WHERE d.derived_from = s.id AND d.question = ?)
                      AND s.question <> ?
                    """, arguments: [item.question, item.note, now, now, item.sourceID, item.question, item.question])
                inserted += db.changesCount
                if db.changesCount == 1 {
                    try db.execute(sql: """
                        INSERT INTO sample_tags(sample_id, tag, score, verdict)
                        SELECT ?, tag, score, verdict FROM sample_tags WHERE sample_id = ?
                        """, arguments: [db.lastInsertedRowID, item.sourceID])
                }
            }
            return inserted
        }
    }
}

import FlywheelCore
import Foundation
import GRDB

// Image-tagging samples (task_type 'tags'): the tag set of a recognition, one sample_tags row per tag with the
// model's score (NULL for a tag the model missed) and its verdict: unreviewed, correct, wrong or missing.
// correct_answer holds the corrected tag list ("car, bicycle"), wrong_answer the model's ("car, dog").


/// A tags sample to store: the sample and its tags, written together.
public struct NewTagSample: Sendable {
    public var sample: NewSample
    public var tags: [SampleTag]
    public init(sample: NewSample, tags: [SampleTag]) {
        self.sample = sample
        self.tags = tags
    }
}

/// A recognition with explicit feedback and no tags sample yet.
public struct RecognitionForSample: Sendable, Equatable {
    public var recognitionID: Int64
    public var requestID: String
    public var sessionID: String?
    public var imageID: Int64?
    public var model: String?
    public var promptVersion: String?
    /// What the model predicted, in its order (verdict 'unreviewed').
    public var predicted: [SampleTag]
    public var feedbackID: Int64
    /// .tags or .thumbsDown (a tags feedback wins over a thumbs-down on the same request; the latest of a kind wins).
    public var feedbackKind: FeedbackKind
    public var isCorrect: Bool?
    public var wrongTags: [String]
    public var missingTags: [String]

    public init(recognitionID: Int64, requestID: String, sessionID: String?, imageID: Int64?, model: String?, promptVersion: String?,
                predicted: [SampleTag], feedbackID: Int64, feedbackKind: FeedbackKind, isCorrect: Bool?, wrongTags: [String],
                missingTags: [String]) {
        self.recognitionID = recognitionID
        self.requestID = requestID
        self.sessionID = sessionID
        self.imageID = imageID
        self.model = model
        self.promptVersion = promptVersion
        self.predicted = predicted
        self.feedbackID = feedbackID
        self.feedbackKind = feedbackKind
        self.isCorrect = isCorrect
        self.wrongTags = wrongTags
        self.missingTags = missingTags
    }
}

public enum TagReviewError: Error, Equatable, CustomStringConvertible {
    /// reviewTags on a sample whose task_type is not 'tags'.
    case notATagsSample(Int64)
    /// A verdict other than correct, wrong or missing.
    case unknownVerdict(tag: String, verdict: String)
    /// A verdict for a tag the sample does not have (new tags go in `added`).
    case unknownTag(String)
    /// Every tag would be wrong: reject the sample instead.
    case noTagsLeft(Int64)

    public var description: String {
        switch self {
        case .notATagsSample(let id): return "sample \(id) is not an image-tagging sample"
        case let .unknownVerdict(tag, verdict): return "unknown verdict '\(verdict)' for tag '\(tag)': use correct, wrong or missing"
        case .unknownTag(let tag): return "the sample has no tag '\(tag)': add it as a missing tag instead"
        case .noTagsLeft(let id): return "no tag of sample \(id) would be left: reject the sample instead"
        }
    }
}

extension Store {
    /// The corrected tag set: predicted tags not marked wrong (correct or unreviewed), in the given order, then
    /// the missing ones. Pure.
    public static func correctedTags(_ tags: [SampleTag]) -> [String] { SampleTag.corrected(tags).map(\.tag) }

    /// A tag list as the sample's answers show it.
    public static func tagList(_ tags: [String]) -> String { tags.joined(separator: ", ") }

    /// A sample's tags: predicted ones by score (highest first, then by tag), then the missing ones by tag.
    public func sampleTags(sampleID: Int64) throws -> [SampleTag] {
        try writer.read { db in try Self.sampleTags(db, sampleID: sampleID) }
    }

    static func sampleTags(_ db: Database, sampleID: Int64) throws -> [SampleTag] {
        try Row.fetchAll(db, sql: """
            SELECT tag, score, verdict FROM sample_tags WHERE sample_id = ?
            ORDER BY verdict = 'missing', score IS NULL, score DESC, tag
            """, arguments: [sampleID]).map { SampleTag(tag: $0[0], score: $0[1], verdict: $0[2]) }
    }

    /// Recognitions with `tags` or `thumbs_down` feedback and no tags sample for their request, oldest first.
    /// When a request has several recognitions, the latest is the one sampled.
    public func recognitionsNeedingSamples(limit: Int) throws -> [RecognitionForSample] {
        try writer.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT r.id, r.request_id, r.session_id, r.image_id, r.model, r.prompt_version FROM recognitions r
                WHERE r.id = (SELECT max(r2.id) FROM recognitions r2 WHERE r2.request_id = r.request_id)
                  AND EXISTS (SELECT 1 FROM feedback f WHERE f.request_id = r.request_id AND f.kind IN ('tags', 'thumbs_down'))
                  AND NOT EXISTS (SELECT 1 FROM training_samples s WHERE s.request_id = r.request_id AND s.task_type = 'tags')
                ORDER BY r.id LIMIT ?
                """, arguments: [limit])
            return try rows.map { row in
                let id: Int64 = row[0]
                let requestID: String = row[1]
                var seen = Set<String>()
                let predicted = try Row.fetchAll(db, sql: "SELECT tag, score FROM recognition_tags WHERE recognition_id = ? ORDER BY position",
                                                 arguments: [id]).compactMap { r -> SampleTag? in
                    let tag = (r[0] as String).trimmingCharacters(in: .whitespacesAndNewlines)
                    guard !tag.isEmpty, seen.insert(tag).inserted else { return nil }
                    return SampleTag(tag: tag, score: r[1], verdict: "unreviewed")
                }
                let f = try Row.fetchOne(db, sql: """
                    SELECT id, kind, is_correct FROM feedback WHERE request_id = ? AND kind IN ('tags', 'thumbs_down')
                    ORDER BY kind = 'tags' DESC, ts DESC, id DESC LIMIT 1
                    """, arguments: [requestID])!
                let feedbackID: Int64 = f[0]
                let verdicts = try Row.fetchAll(db, sql: "SELECT tag, verdict FROM feedback_tags WHERE feedback_id = ? ORDER BY tag",
                                                arguments: [feedbackID])
                func list(_ verdict: String) -> [String] {
                    verdicts.filter { ($0[1] as String) == verdict }.map { ($0[0] as String).trimmingCharacters(in: .whitespacesAndNewlines) }
                        .filter { !$0.isEmpty }
                }
                let isCorrect: Int64? = f[2]
                return RecognitionForSample(recognitionID: id, requestID: requestID, sessionID: row[2], imageID: row[3], model: row[4],
                                            promptVersion: row[5], predicted: predicted, feedbackID: feedbackID,
                                            feedbackKind: FeedbackKind(rawValue: f[1]) ?? .thumbsDown, isCorrect: isCorrect.map { $0 != 0 },
                                            wrongTags: list("wrong"), missingTags: list("missing"))
            }
        }
    }

    /// Inserts tags samples with their sample_tags rows, in one transaction. A sample whose (request, source)
    /// already exists is skipped with its tags. Returns how many samples were new.
    public func insertTagSamples(_ items: [NewTagSample], now: Int64) throws -> Int {
        try writer.write { db in
            var inserted = 0
            for item in items {
                guard try insertSample(db, item.sample, now: now) == 1 else { continue }
                let id = db.lastInsertedRowID
                try insertTags(db, sampleID: id, item.tags)
                inserted += 1
            }
            return inserted
        }
    }

    func insertTags(_ db: Database, sampleID: Int64, _ tags: [SampleTag]) throws {
        for t in tags {
            try db.execute(sql: "INSERT OR IGNORE INTO sample_tags(sample_id, tag, score, verdict) VALUES (?, ?, ?, ?)",
                           arguments: [sampleID, t.tag, t.score, t.verdict])
        }
    }

    /// A reviewer fixes a tags sample's tag set, in one write transaction: `verdicts` (tag -> correct, wrong or
    /// missing; 'unreviewed' is accepted and means "as it is") change existing tags; `added` tags the model missed
    /// become 'missing' rows (an added tag the sample already has is kept: 'correct' if predicted, else
    /// 'missing'); every predicted tag still 'unreviewed' becomes 'correct' (the reviewer has seen the whole set).
    ///
    /// The fix is one independent decision, cast like approve and reject (`castVote`: the same slot, reservation
    /// and already-voted rules). Its per-tag verdicts are kept with the vote (sample_decisions.tags) and its label
    /// is approve when the corrected set is the one standing, else fix. Until the vote that completes
    /// `review.overlap` nothing else changes (a 'fix_tags' row records the vote, its detail the corrected tags).
    /// When the votes agree (`Vote.resolveTags`) the agreed verdicts are written to sample_tags, correct_answer
    /// becomes the corrected list (`correctedTags`), the state 'fixed' ('approved' when the set did not change),
    /// and the 'fix_tags' row carries the before and after snapshots, each with a "tags" array; otherwise the
    /// sample is disputed or rejected. With overlap 1 that is the first vote. Throws and writes nothing when the
    /// sample is not a pending or needs_answer tags sample, a verdict or tag is unknown, or no tag would be left.
    public func reviewTags(sampleID: Int64, verdicts: [String: String], added: [String], reviewer: String, now: Int64) throws -> ReviewRecord {
        try Self.checkVerdicts(verdicts)
        return try writer.write { db in
            try Self.authorize(db, reviewer, .review)
            let (before, current) = try tagsSample(db, sampleID: sampleID)
            guard SampleState.isWaiting(before.state) else {
                throw ReviewError.alreadyDecided(sampleID, state: before.state)
            }
            let tags = try Self.editedTags(current, verdicts: verdicts, added: added, sampleID: sampleID)
            return try castVote(db, sampleID: sampleID, vote: Vote.tagFix(reviewer: reviewer, tags: tags, current: current), before: before,
                                action: "fix_tags", now: now)
        }
    }

    /// An adjudicator decides a disputed tags sample by its tags (`verdicts` and `added` as in `reviewTags`), in
    /// one write transaction: the verdicts are written to sample_tags, correct_answer becomes the corrected list,
    /// the state 'fixed' ('approved' when the corrected set is the one standing), and an 'adjudicate' row records
    /// the before and after snapshots with their "tags" arrays (undo puts the tags back). The reviewers' votes stay
    /// as they were. Needs the adjudicate permission and a disputed tags sample.
    public func adjudicateTags(sampleID: Int64, verdicts: [String: String], added: [String], adjudicator: String, now: Int64) throws -> ReviewRecord {
        try Self.checkVerdicts(verdicts)
        return try writer.write { db in
            try Self.authorize(db, adjudicator, .adjudicate)
            let (before, current) = try tagsSample(db, sampleID: sampleID)
            guard before.state == SampleState.disputed.rawValue else { throw ReviewError.notDisputed(sampleID, state: before.state) }
            let tags = try Self.editedTags(current, verdicts: verdicts, added: added, sampleID: sampleID)
            return try adjudicateTagSet(db, sampleID: sampleID, before: before, current: current, tags: tags, adjudicator: adjudicator, now: now)
        }
    }

    /// Writes an adjudicator's tag set to a disputed tags sample (see `adjudicateTags`).
    func adjudicateTagSet(_ db: Database, sampleID: Int64, before: SampleSnapshot, current: [SampleTag], tags: [SampleTag], adjudicator: String,
                          now: Int64) throws -> ReviewRecord {
        let decision = Vote.tagFix(reviewer: adjudicator, tags: tags, current: current)
        try Self.writeTags(db, sampleID: sampleID, tags)
        var after = before
        after.state = decision.verdict.finalState.rawValue
        after.correctAnswer = decision.answer
        try setSnapshot(db, sampleID: sampleID, after, now: now)
        let corrected = SampleTag.corrected(tags).map { jsonQuoted($0.tag) }.joined(separator: ",")
        return try appendTagsAction(db, sampleID: sampleID, reviewer: adjudicator, action: "adjudicate", before: before, beforeTags: current,
                                    after: after, afterTags: try Self.sampleTags(db, sampleID: sampleID), at: now,
                                    detail: "{\"verdict\":\(jsonQuoted(decision.verdict.rawValue)),\"tags\":[\(corrected)]}")
    }

    /// A tags sample's snapshot and tags; throws when there is no such sample or it is not a tags sample.
    func tagsSample(_ db: Database, sampleID: Int64) throws -> (SampleSnapshot, [SampleTag]) {
        guard let before = try snapshot(db, sampleID: sampleID) else { throw ReviewError.sampleNotFound(sampleID) }
        guard try Self.isTagsSample(db, sampleID: sampleID) else { throw TagReviewError.notATagsSample(sampleID) }
        return (before, try Self.sampleTags(db, sampleID: sampleID))
    }

    static func isTagsSample(_ db: Database, sampleID: Int64) throws -> Bool {
        try String.fetchOne(db, sql: "SELECT task_type FROM training_samples WHERE id = ?", arguments: [sampleID]) == "tags"
    }

    static func checkVerdicts(_ verdicts: [String: String]) throws {
        for (tag, verdict) in verdicts.sorted(by: { $0.key < $1.key }) where !["correct", "wrong", "missing", "unreviewed"].contains(verdict) {
            throw TagReviewError.unknownVerdict(tag: tag, verdict: verdict)
        }
    }

    /// The tag set a review leaves (see `reviewTags`): `current` with the verdicts applied, the added tags, and
    /// every tag still 'unreviewed' made 'correct'. Throws when a verdict names a tag the sample lacks or no tag
    /// would be left. Pure.
    static func editedTags(_ current: [SampleTag], verdicts: [String: String], added: [String], sampleID: Int64) throws -> [SampleTag] {
        var tags = current
        for (tag, verdict) in verdicts.sorted(by: { $0.key < $1.key }) {
            guard let i = tags.firstIndex(where: { $0.tag == tag }) else { throw TagReviewError.unknownTag(tag) }
            tags[i].verdict = verdict
        }
        for tag in added.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !tag.isEmpty {
            if let i = tags.firstIndex(where: { $0.tag == tag }) {
                tags[i].verdict = tags[i].score == nil ? "missing" : "correct"
            } else {
                tags.append(SampleTag(tag: tag, score: nil, verdict: "missing"))
            }
        }
        for i in tags.indices where tags[i].verdict == "unreviewed" { tags[i].verdict = "correct" }
        guard !correctedTags(tags).isEmpty else { throw TagReviewError.noTagsLeft(sampleID) }
        return tags
    }

    /// The tag set a tag list names ("car, bicycle", as a fix's answer on a tags sample): the listed tags are
    /// right (predicted ones 'correct', others 'missing'), every other tag of the sample 'wrong'. Pure.
    static func tagsNamed(_ list: String, current: [SampleTag], sampleID: Int64) throws -> [SampleTag] {
        var seen = Set<String>()
        let named = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty && seen.insert($0).inserted }
        let verdicts = Dictionary(uniqueKeysWithValues: current.map { ($0.tag, seen.contains($0.tag) ? ($0.score == nil ? "missing" : "correct") : "wrong") })
        return try editedTags(current, verdicts: verdicts, added: named.filter { t in !current.contains { $0.tag == t } }, sampleID: sampleID)
    }

    /// Writes a tag set's verdicts (adding the rows it has and the sample lacks).
    static func writeTags(_ db: Database, sampleID: Int64, _ tags: [SampleTag]) throws {
        for t in tags {
            try db.execute(sql: """
                INSERT INTO sample_tags(sample_id, tag, score, verdict) VALUES (?, ?, ?, ?)
                ON CONFLICT(sample_id, tag) DO UPDATE SET verdict = excluded.verdict
                """, arguments: [sampleID, t.tag, t.score, t.verdict])
        }
    }

    /// Did the review_actions row change the sample's tags (its before snapshot has a "tags" array)?
    static func actionChangedTags(_ db: Database, actionID: Int64, sampleID: Int64) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT json_type(before, '$.tags') = 'array' FROM review_actions WHERE id = ? AND sample_id = ?",
                          arguments: [actionID, sampleID]) ?? false
    }

    /// A tag set as `tagsJSON` wrote it; nil for NULL or something else.
    static func decodeTags(_ json: String?) -> [SampleTag]? {
        struct Stored: Decodable { var tag: String; var score: Double?; var verdict: String }
        guard let json, let stored = try? JSONDecoder().decode([Stored].self, from: Data(json.utf8)) else { return nil }
        return stored.map { SampleTag(tag: $0.tag, score: $0.score, verdict: $0.verdict) }
    }

    /// Sets a sample's tags back to the `before` set a review_actions row recorded: tags added since are
    /// removed, the others get their verdicts back. Returns the restored set.
    func restoreTags(_ db: Database, sampleID: Int64, fromAction actionID: Int64) throws -> [SampleTag] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT json_extract(t.value, '$.tag'), json_extract(t.value, '$.verdict')
            FROM review_actions a, json_each(a.before, '$.tags') t WHERE a.id = ? AND a.sample_id = ?
            """, arguments: [actionID, sampleID])
        let before = Dictionary(rows.map { (($0[0] as String), ($0[1] as String)) }, uniquingKeysWith: { a, _ in a })
        for t in try Self.sampleTags(db, sampleID: sampleID) {
            if let verdict = before[t.tag] {
                try db.execute(sql: "UPDATE sample_tags SET verdict = ? WHERE sample_id = ? AND tag = ?", arguments: [verdict, sampleID, t.tag])
            } else {
                try db.execute(sql: "DELETE FROM sample_tags WHERE sample_id = ? AND tag = ?", arguments: [sampleID, t.tag])
            }
        }
        return try Self.sampleTags(db, sampleID: sampleID)
    }

    /// `[{"tag":…,"score":…,"verdict":…}, …]`
    static func tagsJSON(_ tags: [SampleTag]) -> String {
        "[" + tags.map { t in
            "{\"tag\":\(jsonQuoted(t.tag)),\"score\":\(t.score.map { "\($0)" } ?? "null"),\"verdict\":\(jsonQuoted(t.verdict))}"
        }.joined(separator: ",") + "]"
    }

    /// A review_actions row whose snapshots also carry the tag set (`before` nil: the sample did not exist).
    func appendTagsAction(_ db: Database, sampleID: Int64, reviewer: String, action: String, before: SampleSnapshot?, beforeTags: [SampleTag],
                          after: SampleSnapshot, afterTags: [SampleTag], at: Int64, detail: String? = nil) throws -> ReviewRecord {
        try db.execute(sql: """
            INSERT INTO review_actions(sample_id, reviewer, action, before, after, at, detail)
            VALUES (?, ?, ?,
                    CASE WHEN ? THEN json_object('state', ?, 'correct_answer', ?, 'error_category', ?, 'tags', json(?)) END,
                    json_object('state', ?, 'correct_answer', ?, 'error_category', ?, 'tags', json(?)), ?, ?)
            """, arguments: [sampleID, reviewer, action, before != nil, before?.state, before?.correctAnswer, before?.category,
                             Self.tagsJSON(beforeTags), after.state, after.correctAnswer, after.category, Self.tagsJSON(afterTags), at, detail])
        return ReviewRecord(actionID: db.lastInsertedRowID, sampleID: sampleID, reviewer: reviewer, action: action,
                            before: before ?? SampleSnapshot(state: "", correctAnswer: nil, category: ""), after: after, at: at)
    }
}

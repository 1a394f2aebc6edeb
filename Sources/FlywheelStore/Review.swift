import FlywheelCore
import Foundation
import GRDB

// Review decisions on training samples. Each decision and each undo is one write transaction that changes
// the sample and appends its review_actions row (before and after snapshots), so the audit trail never
// disagrees with the samples and two reviewers cannot both decide the same sample.

public enum ReviewDecision: Sendable, Equatable {
    case approve
    case reject
    case fix(correctAnswer: String)
    case recategorize(String)

    /// The review_actions.action of the decision.
    public var action: String {
        switch self {
        case .approve: return "approve"
        case .reject: return "reject"
        case .fix: return "fix"
        case .recategorize: return "recategorize"
        }
    }
}

/// The reviewable part of a sample, as review_actions stores it before and after an action:
/// `{"state":…,"correct_answer":…,"error_category":…}` (correct_answer may be null).
public struct SampleSnapshot: Sendable, Equatable, Codable {
    public var state: String
    public var correctAnswer: String?
    public var category: String

    public init(state: String, correctAnswer: String?, category: String) {
        self.state = state
        self.correctAnswer = correctAnswer
        self.category = category
    }

    enum CodingKeys: String, CodingKey {
        case state
        case correctAnswer = "correct_answer"
        case category = "error_category"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        state = try c.decode(String.self, forKey: .state)
        correctAnswer = try c.decodeIfPresent(String.self, forKey: .correctAnswer)
        category = try c.decode(String.self, forKey: .category)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(state, forKey: .state)
        try c.encode(correctAnswer, forKey: .correctAnswer)  // null rather than absent
        try c.encode(category, forKey: .category)
    }
}

/// One review_actions row.
public struct ReviewRecord: Sendable, Equatable {
    public var actionID: Int64
    public var sampleID: Int64
    public var reviewer: String
    /// 'approve', 'reject', 'fix', 'recategorize' or 'undo'.
    public var action: String
    public var before: SampleSnapshot
    public var after: SampleSnapshot
    public var at: Int64

    public init(actionID: Int64, sampleID: Int64, reviewer: String, action: String, before: SampleSnapshot, after: SampleSnapshot, at: Int64) {
        self.actionID = actionID
        self.sampleID = sampleID
        self.reviewer = reviewer
        self.action = action
        self.before = before
        self.after = after
        self.at = at
    }
}

public enum ReviewError: Error, Equatable, CustomStringConvertible {
    case sampleNotFound(Int64)
    /// Approve on a sample without a correct answer.
    case noCorrectAnswer(Int64)
    /// Approve, reject or fix on a sample that is no longer pending or needs_answer.
    case alreadyDecided(Int64, state: String)
    /// Fix with an empty or whitespace-only answer.
    case emptyAnswer
    /// Recategorize to something that is not an ErrorCategory raw value.
    case unknownCategory(String)
    /// Undo when the sample no longer is what the action left it as.
    case changedSince(Int64)

    public var description: String {
        switch self {
        case .sampleNotFound(let id):
            return "sample \(id) does not exist"
        case .noCorrectAnswer(let id):
            return "sample \(id) has no correct answer: write one with e first"
        case let .alreadyDecided(id, state):
            return "sample \(id) is already \(state) (another reviewer got there first)"
        case .emptyAnswer:
            return "the correct answer is empty: nothing saved"
        case .unknownCategory(let c):
            return "unknown category '\(c)': use one of \(ErrorCategory.allCases.map(\.rawValue).joined(separator: ", "))"
        case .changedSince(let id):
            return "sample \(id) has changed since that action: not undone"
        }
    }
}

extension Store {
    /// Applies a reviewer's decision to a sample and appends it to review_actions, in one write transaction.
    /// approve -> 'approved' (needs a non-blank correct answer); reject -> 'rejected'; fix -> the trimmed answer
    /// becomes correct_answer and the state 'fixed'. Those three need the sample to be 'pending' or
    /// 'needs_answer'. recategorize changes error_category in any state. Throws `ReviewError` and writes
    /// nothing when the decision does not apply.
    public func review(sampleID: Int64, decision: ReviewDecision, reviewer: String, now: Int64) throws -> ReviewRecord {
        var fixedAnswer: String?
        switch decision {
        case .fix(let answer):
            let trimmed = answer.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw ReviewError.emptyAnswer }
            fixedAnswer = trimmed
        case .recategorize(let category):
            guard ErrorCategory(rawValue: category) != nil else { throw ReviewError.unknownCategory(category) }
        case .approve, .reject:
            break
        }
        return try writer.write { db in
            guard let before = try snapshot(db, sampleID: sampleID) else { throw ReviewError.sampleNotFound(sampleID) }
            var after = before
            func requireWaiting() throws {
                guard before.state == SampleState.pending.rawValue || before.state == SampleState.needsAnswer.rawValue else {
                    throw ReviewError.alreadyDecided(sampleID, state: before.state)
                }
            }
            switch decision {
            case .approve:
                try requireWaiting()
                guard let answer = before.correctAnswer, !answer.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw ReviewError.noCorrectAnswer(sampleID)
                }
                after.state = SampleState.approved.rawValue
            case .reject:
                try requireWaiting()
                after.state = SampleState.rejected.rawValue
            case .fix:
                try requireWaiting()
                after.correctAnswer = fixedAnswer
                after.state = SampleState.fixed.rawValue
            case .recategorize(let category):
                after.category = category
            }
            try setSnapshot(db, sampleID: sampleID, after, now: now)
            return try appendAction(db, sampleID: sampleID, reviewer: reviewer, action: decision.action, before: before, after: after, at: now)
        }
    }

    /// Reverts the action `record` describes: if the sample is still as the action left it (`record.after`),
    /// it gets `record.before` back and an 'undo' action is appended (before: the current snapshot, after: the
    /// restored one), in one write transaction. Otherwise throws `changedSince` and writes nothing.
    public func undo(_ record: ReviewRecord, reviewer: String, now: Int64) throws -> ReviewRecord {
        try writer.write { db in
            guard let current = try snapshot(db, sampleID: record.sampleID) else { throw ReviewError.sampleNotFound(record.sampleID) }
            guard current == record.after else { throw ReviewError.changedSince(record.sampleID) }
            try setSnapshot(db, sampleID: record.sampleID, record.before, now: now)
            if record.action == "fix_tags" {
                // A tag fix also changed the per-tag verdicts: put back the set its log row recorded before.
                let currentTags = try Self.sampleTags(db, sampleID: record.sampleID)
                let restored = try restoreTags(db, sampleID: record.sampleID, fromAction: record.actionID)
                return try appendTagsAction(db, sampleID: record.sampleID, reviewer: reviewer, action: "undo", before: current, beforeTags: currentTags,
                                            after: record.before, afterTags: restored, at: now)
            }
            return try appendAction(db, sampleID: record.sampleID, reviewer: reviewer, action: "undo", before: current, after: record.before, at: now)
        }
    }

    /// The review_actions of a sample, oldest first. A row whose before/after is not a snapshot (written by
    /// something else) reads as a snapshot with empty state and category.
    public func reviewActions(sampleID: Int64) throws -> [ReviewRecord] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, sample_id, reviewer, action, before, after, at FROM review_actions WHERE sample_id = ? ORDER BY id
                """, arguments: [sampleID]).map { r in
                ReviewRecord(actionID: r[0], sampleID: r[1], reviewer: r[2], action: r[3],
                             before: Self.decodeSnapshot(r[4]), after: Self.decodeSnapshot(r[5]), at: r[6])
            }
        }
    }

    static func decodeSnapshot(_ json: String?) -> SampleSnapshot {
        json.flatMap { try? JSONDecoder().decode(SampleSnapshot.self, from: Data($0.utf8)) }
            ?? SampleSnapshot(state: "", correctAnswer: nil, category: "")
    }

    func snapshot(_ db: Database, sampleID: Int64) throws -> SampleSnapshot? {
        try Row.fetchOne(db, sql: "SELECT state, correct_answer, error_category FROM training_samples WHERE id = ?", arguments: [sampleID])
            .map { SampleSnapshot(state: $0[0], correctAnswer: $0[1], category: $0[2]) }
    }

    func setSnapshot(_ db: Database, sampleID: Int64, _ s: SampleSnapshot, now: Int64) throws {
        try db.execute(sql: "UPDATE training_samples SET state = ?, correct_answer = ?, error_category = ?, updated_at = ? WHERE id = ?",
                       arguments: [s.state, s.correctAnswer, s.category, now, sampleID])
    }

    func appendAction(_ db: Database, sampleID: Int64, reviewer: String, action: String, before: SampleSnapshot, after: SampleSnapshot,
                      at: Int64) throws -> ReviewRecord {
        // json_object keeps the documented key order and writes a missing answer as null.
        try db.execute(sql: """
            INSERT INTO review_actions(sample_id, reviewer, action, before, after, at)
            VALUES (?, ?, ?, json_object('state', ?, 'correct_answer', ?, 'error_category', ?),
                             json_object('state', ?, 'correct_answer', ?, 'error_category', ?), ?)
            """, arguments: [sampleID, reviewer, action, before.state, before.correctAnswer, before.category,
                             after.state, after.correctAnswer, after.category, at])
        return ReviewRecord(actionID: db.lastInsertedRowID, sampleID: sampleID, reviewer: reviewer, action: action,
                            before: before, after: after, at: at)
    }
}

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
    /// Other reviewers hold every free slot of the sample (their reservations, until `until`, or decisions).
    case heldByOthers(Int64, reviewers: [String], until: Int64?)
    /// The reviewer already gave their independent decision on the sample.
    case alreadyVoted(Int64)
    /// Adjudication on a sample whose reviews did not disagree.
    case notDisputed(Int64, state: String)
    /// Undo of somebody else's action by a non-admin.
    case notYours(Int64, by: String)

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
        case let .heldByOthers(id, reviewers, until):
            let who = reviewers.isEmpty ? "other reviewers" : reviewers.joined(separator: ", ")
            let when = until.map { " until " + clockTime($0) } ?? ""
            return "sample \(id) is reserved by \(who)\(when): not saved, pick another"
        case .alreadyVoted(let id):
            return "you already decided sample \(id); it waits for other reviewers"
        case let .notDisputed(id, state):
            return "sample \(id) is \(state), not disputed: only disputed samples are adjudicated"
        case let .notYours(id, by):
            return "that decision on sample \(id) is \(by)'s: only they or an admin can undo it"
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
            try Self.authorize(db, reviewer, .review)
            guard let before = try snapshot(db, sampleID: sampleID) else { throw ReviewError.sampleNotFound(sampleID) }
            if case .recategorize(let category) = decision {
                var after = before
                after.category = category
                try setSnapshot(db, sampleID: sampleID, after, now: now)
                return try appendAction(db, sampleID: sampleID, reviewer: reviewer, action: decision.action, before: before, after: after, at: now)
            }
            guard SampleState.isWaiting(before.state) else {
                throw ReviewError.alreadyDecided(sampleID, state: before.state)
            }
            let vote: Vote
            switch decision {
            case .approve:
                guard let answer = before.correctAnswer, !answer.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw ReviewError.noCorrectAnswer(sampleID)
                }
                vote = Vote(reviewer: reviewer, verdict: .approve, answer: answer)
            case .reject:
                vote = Vote(reviewer: reviewer, verdict: .reject, answer: nil)
            case .fix where try Self.isTagsSample(db, sampleID: sampleID):
                // On an image-tagging sample the answer is a tag list: the vote is the tag set it names.
                let current = try Self.sampleTags(db, sampleID: sampleID)
                vote = Vote.tagFix(reviewer: reviewer, tags: try Self.tagsNamed(fixedAnswer ?? "", current: current, sampleID: sampleID),
                                   current: current)
            case .fix:
                // Writing the answer that is already there is an approval, for agreement as for the outcome.
                let same = normalizedAnswer(fixedAnswer ?? "") == normalizedAnswer(before.correctAnswer ?? "")
                vote = Vote(reviewer: reviewer, verdict: same ? .approve : .fix, answer: same ? before.correctAnswer : fixedAnswer)
            case .recategorize:
                preconditionFailure("handled above")
            }
            return try castVote(db, sampleID: sampleID, vote: vote, before: before, action: decision.action, now: now)
        }
    }

    /// Records one reviewer's independent decision; when it is the overlap's last, the sample becomes final (all
    /// agree) or disputed (they do not). Refuses when other reviewers hold every free slot. Every decision on a
    /// sample waiting for review comes through here, approve, reject and fix (`review`) and tag fixes
    /// (`reviewTags`), so the slot, reservation and already-voted rules are these. On an image-tagging sample the
    /// votes are compared as tag sets (`Vote.resolveTags`); a final accept writes the agreed per-tag verdicts to
    /// sample_tags, and its review_actions row carries the tag set before and after, as fix_tags rows do.
    func castVote(_ db: Database, sampleID: Int64, vote: Vote, before: SampleSnapshot, action: String, now: Int64) throws -> ReviewRecord {
        let overlap = try Self.teamSettings(db).overlap
        if try Self.hasVoted(db, sampleID: sampleID, reviewer: vote.reviewer) { throw ReviewError.alreadyVoted(sampleID) }
        let others = try Self.otherHolders(db, sampleID: sampleID, reviewer: vote.reviewer, now: now)
        let otherVotes = try Self.votes(db, sampleID: sampleID).filter { $0.reviewer != vote.reviewer }
        if others.reviewers.count + otherVotes.count >= overlap {
            throw ReviewError.heldByOthers(sampleID, reviewers: others.reviewers, until: others.until)
        }
        try db.execute(sql: "INSERT INTO sample_decisions(sample_id, reviewer, verdict, correct_answer, tags, at) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [sampleID, vote.reviewer, vote.verdict.rawValue, vote.answer, vote.tags.map(Self.tagsJSON), now])
        try db.execute(sql: "DELETE FROM reservations WHERE sample_id = ? AND reviewer = ?", arguments: [sampleID, vote.reviewer])
        let all = otherVotes + [vote]
        var after = before
        var outcome = "waiting"
        var tagChange: (before: [SampleTag], after: [SampleTag])?
        if all.count >= overlap {
            let tagsSample = try Self.isTagsSample(db, sampleID: sampleID)
            let currentTags = tagsSample ? try Self.sampleTags(db, sampleID: sampleID) : []
            let resolution = tagsSample ? Vote.resolveTags(all, current: currentTags, answer: before.correctAnswer)
                : Vote.resolve(all, current: before.correctAnswer)
            switch resolution {
            case .final(let verdict, let answer, let tags):
                outcome = "final"
                after.state = verdict.finalState.rawValue
                if verdict != .reject, let answer { after.correctAnswer = answer }
                if let tags {
                    try Self.writeTags(db, sampleID: sampleID, tags)
                    tagChange = (currentTags, try Self.sampleTags(db, sampleID: sampleID))
                }
            case .disputed:
                outcome = "disputed"
                after.state = SampleState.disputed.rawValue
            }
        }
        if after != before { try setSnapshot(db, sampleID: sampleID, after, now: now) }
        let tagsDetail = vote.tags.map { ",\"tags\":[" + SampleTag.corrected($0).map { jsonQuoted($0.tag) }.joined(separator: ",") + "]" } ?? ""
        let detail = "{\"verdict\":\(jsonQuoted(vote.verdict.rawValue)),\"correct_answer\":\(vote.answer.map(jsonQuoted) ?? "null")\(tagsDetail),"
            + "\"votes\":\(all.count),\"overlap\":\(overlap),\"outcome\":\(jsonQuoted(outcome))}"
        if let tagChange {
            return try appendTagsAction(db, sampleID: sampleID, reviewer: vote.reviewer, action: action, before: before, beforeTags: tagChange.before,
                                        after: after, afterTags: tagChange.after, at: now, detail: detail)
        }
        return try appendAction(db, sampleID: sampleID, reviewer: vote.reviewer, action: action, before: before, after: after, at: now,
                                detail: detail)
    }

    /// Has `reviewer` an independent decision on the sample (one that waits for others, or is part of the outcome)?
    static func hasVoted(_ db: Database, sampleID: Int64, reviewer: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM sample_decisions WHERE sample_id = ? AND reviewer = ?)",
                          arguments: [sampleID, reviewer]) ?? false
    }

    /// Other reviewers' live reservations on a sample: who, and the latest expiry.
    static func otherHolders(_ db: Database, sampleID: Int64, reviewer: String, now: Int64) throws -> (reviewers: [String], until: Int64?) {
        let rows = try Row.fetchAll(db, sql: """
            SELECT reviewer, expires_at FROM reservations WHERE sample_id = ? AND reviewer <> ? AND expires_at > ? ORDER BY reviewer
            """, arguments: [sampleID, reviewer, now])
        return (rows.map { $0[0] }, rows.map { $0[1] as Int64 }.max())
    }

    static func votes(_ db: Database, sampleID: Int64) throws -> [Vote] {
        try Row.fetchAll(db, sql: "SELECT reviewer, verdict, correct_answer, tags, at FROM sample_decisions WHERE sample_id = ? ORDER BY at, reviewer",
                         arguments: [sampleID]).map {
            Vote(reviewer: $0[0], verdict: Vote.Verdict(rawValue: $0[1]) ?? .reject, answer: $0[2], tags: decodeTags($0[3]), at: $0[4])
        }
    }

    /// Decides a disputed sample (adjudicators and admins): approve keeps the answer, fix sets one, reject
    /// rejects. The reviewers' votes stay as they were, for agreement figures.
    public func adjudicate(sampleID: Int64, decision: ReviewDecision, adjudicator: String, now: Int64) throws -> ReviewRecord {
        try writer.write { db in
            try Self.authorize(db, adjudicator, .adjudicate)
            guard let before = try snapshot(db, sampleID: sampleID) else { throw ReviewError.sampleNotFound(sampleID) }
            guard before.state == SampleState.disputed.rawValue else { throw ReviewError.notDisputed(sampleID, state: before.state) }
            var after = before
            switch decision {
            case .approve:
                guard let answer = before.correctAnswer, !answer.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw ReviewError.noCorrectAnswer(sampleID)
                }
                after.state = SampleState.approved.rawValue
            case .reject:
                after.state = SampleState.rejected.rawValue
            case .fix(let answer):
                let trimmed = answer.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !trimmed.isEmpty else { throw ReviewError.emptyAnswer }
                if try Self.isTagsSample(db, sampleID: sampleID) {
                    // A tag list: the tag set it names, as the tag editor would leave it.
                    let current = try Self.sampleTags(db, sampleID: sampleID)
                    let tags = try Self.tagsNamed(trimmed, current: current, sampleID: sampleID)
                    return try adjudicateTagSet(db, sampleID: sampleID, before: before, current: current, tags: tags, adjudicator: adjudicator, now: now)
                }
                after.state = SampleState.fixed.rawValue
                after.correctAnswer = trimmed
            case .recategorize(let category):
                guard ErrorCategory(rawValue: category) != nil else { throw ReviewError.unknownCategory(category) }
                after.category = category
            }
            try setSnapshot(db, sampleID: sampleID, after, now: now)
            let action = { if case .recategorize = decision { return "recategorize" } else { return "adjudicate" } }()
            return try appendAction(db, sampleID: sampleID, reviewer: adjudicator, action: action, before: before, after: after, at: now,
                                    detail: "{\"verdict\":\(jsonQuoted(decision.action))}")
        }
    }

    /// The independent decisions on a sample, as `viewer` may see them: all of them once the viewer has decided,
    /// or may adjudicate, or the sample is no longer waiting; otherwise only how many there are (reviewers do not
    /// see each other's decisions before theirs is in).
    public func decisions(sampleID: Int64, viewer: String) throws -> (visible: [Vote], hidden: Int) {
        try writer.read { db in
            let all = try Self.votes(db, sampleID: sampleID)
            let state = try String.fetchOne(db, sql: "SELECT state FROM training_samples WHERE id = ?", arguments: [sampleID]) ?? ""
            let waiting = SampleState.isWaiting(state)
            // Without registered users nobody is an adjudicator by role, so the rule still hides votes.
            let mayAdjudicate = try Self.member(db, viewer)?.may(.adjudicate) ?? false
            if !waiting || mayAdjudicate || all.contains(where: { $0.reviewer == viewer }) { return (all, 0) }
            return ([], all.count)
        }
    }

    /// Reverts the action `record` describes: if the sample is still as the action left it (`record.after`),
    /// it gets `record.before` back and an 'undo' action is appended (before: the current snapshot, after: the
    /// restored one), in one write transaction. Otherwise throws `changedSince` and writes nothing.
    public func undo(_ record: ReviewRecord, reviewer: String, now: Int64) throws -> ReviewRecord {
        try writer.write { db in
            try Self.authorize(db, reviewer, record.action == "adjudicate" ? .adjudicate : .review)
            if record.reviewer != reviewer, try Self.member(db, reviewer)?.role != .admin, try Self.rolesEnforced(db) {
                throw ReviewError.notYours(record.sampleID, by: record.reviewer)
            }
            guard let current = try snapshot(db, sampleID: record.sampleID) else { throw ReviewError.sampleNotFound(record.sampleID) }
            guard current == record.after else { throw ReviewError.changedSince(record.sampleID) }
            if ["approve", "reject", "fix", "fix_tags"].contains(record.action) {
                try db.execute(sql: "DELETE FROM sample_decisions WHERE sample_id = ? AND reviewer = ?", arguments: [record.sampleID, record.reviewer])
            }
            try setSnapshot(db, sampleID: record.sampleID, record.before, now: now)
            if try Self.actionChangedTags(db, actionID: record.actionID, sampleID: record.sampleID) {
                // The action also changed the per-tag verdicts (a tag fix, the vote that made a tags sample final,
                // a tag adjudication): put back the set its log row recorded before.
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
                      at: Int64, detail: String? = nil) throws -> ReviewRecord {
        // json_object keeps the documented key order and writes a missing answer as null.
        try db.execute(sql: """
            INSERT INTO review_actions(sample_id, reviewer, action, before, after, at, detail)
            VALUES (?, ?, ?, json_object('state', ?, 'correct_answer', ?, 'error_category', ?),
                             json_object('state', ?, 'correct_answer', ?, 'error_category', ?), ?, ?)
            """, arguments: [sampleID, reviewer, action, before.state, before.correctAnswer, before.category,
                             after.state, after.correctAnswer, after.category, at, detail])
        return ReviewRecord(actionID: db.lastInsertedRowID, sampleID: sampleID, reviewer: reviewer, action: action,
                            before: before, after: after, at: at)
    }
}

/// One reviewer's independent decision on a sample.
public struct Vote: Sendable, Equatable {
    public enum Verdict: String, Sendable, CaseIterable {
        case approve, reject, fix
        var finalState: SampleState {
            switch self {
            case .approve: return .approved
            case .reject: return .rejected
            case .fix: return .fixed
            }
        }
    }

    public var reviewer: String
    public var verdict: Verdict
    /// The answer the reviewer accepted (approve) or wrote (fix); nil for reject. For a tag fix, the corrected
    /// tag list ("car, bicycle").
    public var answer: String?
    /// A tag fix's per-tag verdicts: the sample's whole tag set as the reviewer left it (see `tagFix`); nil for
    /// every other vote.
    public var tags: [SampleTag]?
    public var at: Int64

    public init(reviewer: String, verdict: Verdict, answer: String?, tags: [SampleTag]? = nil, at: Int64 = 0) {
        self.reviewer = reviewer
        self.verdict = verdict
        self.answer = answer
        self.tags = tags
        self.at = at
    }

    /// A tag fix as a vote: approve when it leaves the corrected set as it stands (`current`: what approving the
    /// sample accepts; for a sample whose tags nobody has judged, the model's), else fix. The answer is the
    /// corrected list.
    static func tagFix(reviewer: String, tags: [SampleTag], current: [SampleTag]) -> Vote {
        Vote(reviewer: reviewer, verdict: tagSet(tags) == tagSet(current) ? .approve : .fix,
             answer: Store.tagList(SampleTag.corrected(tags).map(\.tag)), tags: tags)
    }

    /// The corrected tags, trimmed, as a set: what tag votes are compared by.
    static func tagSet(_ tags: [SampleTag]) -> Set<String> {
        Set(SampleTag.corrected(tags).map { $0.tag.trimmingCharacters(in: .whitespacesAndNewlines) })
    }

    enum Resolution: Equatable {
        /// `tags`: the per-tag verdicts to write (an image-tagging sample's agreed tag fix).
        case final(Verdict, answer: String?, tags: [SampleTag]? = nil)
        case disputed
    }

    /// The votes on an image-tagging sample agree when all reject, or all accept the same corrected tag set
    /// (compared as sets of trimmed tags; an approval without tags accepts the set as it stands, `current`).
    /// Agreeing on the set as it stands is an approval, on any other a fix. The first tag vote's verdicts are
    /// the ones written and its corrected list the answer; with approvals only, `answer` (the sample's) stays.
    static func resolveTags(_ votes: [Vote], current: [SampleTag], answer: String?) -> Resolution {
        if votes.allSatisfy({ $0.verdict == .reject }) { return .final(.reject, answer: nil) }
        guard votes.allSatisfy({ $0.verdict != .reject }) else { return .disputed }
        let standing = tagSet(current)
        let sets = Set(votes.map { $0.tags.map(tagSet) ?? standing })
        guard sets.count == 1, let agreed = sets.first else { return .disputed }
        let verdict: Verdict = agreed == standing ? .approve : .fix
        guard let tags = votes.first(where: { $0.tags != nil })?.tags else { return .final(verdict, answer: answer) }
        return .final(verdict, answer: Store.tagList(SampleTag.corrected(tags).map(\.tag)), tags: tags)
    }

    /// The votes agree when all reject, or all accept the same answer (ignoring case and spacing). A fix whose
    /// answer equals the current one is an approval.
    static func resolve(_ votes: [Vote], current: String?) -> Resolution {
        if votes.allSatisfy({ $0.verdict == .reject }) { return .final(.reject, answer: nil) }
        guard votes.allSatisfy({ $0.verdict != .reject }) else { return .disputed }
        let answers = Set(votes.map { normalizedAnswer($0.answer ?? "") })
        guard answers.count == 1, let fixed = votes.first(where: { $0.verdict == .fix }) else {
            return answers.count == 1 ? .final(.approve, answer: current) : .disputed
        }
        return normalizedAnswer(fixed.answer ?? "") == normalizedAnswer(current ?? "") ? .final(.approve, answer: current)
            : .final(.fix, answer: fixed.answer)
    }
}

/// Answers compared for agreement: trimmed, runs of whitespace as one space, case-folded.
public func normalizedAnswer(_ s: String) -> String {
    s.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ").lowercased()
}

/// "14:05" in local time, for messages.
func clockTime(_ ms: Int64) -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.dateFormat = "HH:mm"
    return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
}

import FlywheelCore
import Foundation
import GRDB

// Trust in end users' feedback. The rules are FlywheelCore's `TrustScoring`; this file gathers each end user's
// explicit feedback with what reviewers finally decided about it, stores the scores and flags, gives samples
// their user's weight, and holds new samples from flagged users until a reviewer releases or discards them.

/// A stored trust row, as `flywheel users` and the console show it.
public struct EndUserTrustRow: Sendable, Equatable {
    public var user: String
    public var feedback: Int
    public var reviewed: Int
    public var agreed: Int
    public var score: Double
    public var weight: Double
    public var flags: [AbuseFlag]
    /// The rules' flags, or an admin's override.
    public var flagged: Bool
    /// 'trusted' or 'flagged' when an admin overrode the rules.
    public var override: String?
    public var heldSamples: Int
    public var computedAt: Int64
}

extension EndUserTrustRow {
    /// What `flywheel users` and the console show in the flags column: "FLAGGED" and the rules' reasons, or an
    /// admin's override (with what the rules say).
    public var flagSummary: String {
        var why = flags.map(\.reason).joined(separator: "; ")
        if let o = override { why = "override: \(o)" + (why.isEmpty ? "" : " (rules: \(why))") }
        return (flagged ? "FLAGGED " : "") + why
    }
}

/// A sample held because its end user is flagged.
public struct HeldSample: Sendable {
    public var sample: SampleRow
    public var user: String
    /// The state the sample gets when released.
    public var heldState: String
}

public enum HoldError: Error, Equatable, CustomStringConvertible {
    case notHeld(Int64, state: String)
    case unknownEndUser(String)

    public var description: String {
        switch self {
        case let .notHeld(id, state): return "sample \(id) is \(state), not held"
        case .unknownEndUser(let u): return "no feedback from end user '\(u)' is known"
        }
    }
}

extension Store {
    /// Samples built from what an end user said or did (not seed labels or error logs) carry their trust.
    static let userSourcedSamples = "source IN ('user_correction', 'implicit_correction', 'thumbs_down')"

    /// Sets a new sample's end user and weight; holds it when that user is flagged.
    static func attributeToEndUser(_ db: Database, sampleID: Int64) throws {
        try db.execute(sql: """
            UPDATE training_samples SET end_user = coalesce(
                (SELECT f.user_id FROM feedback f WHERE f.id = training_samples.feedback_id),
                (SELECT se.user_id FROM sessions se WHERE se.session_id = training_samples.session_id),
                (SELECT r.user_id FROM recognitions r WHERE r.request_id = training_samples.request_id ORDER BY r.id DESC LIMIT 1))
            WHERE id = ? AND \(userSourcedSamples)
            """, arguments: [sampleID])
        guard let endUser = try String.fetchOne(db, sql: "SELECT end_user FROM training_samples WHERE id = ?", arguments: [sampleID]),
              let trust = try Row.fetchOne(db, sql: "SELECT flagged, weight FROM end_user_trust WHERE user_id = ?", arguments: [endUser])
        else { return }
        if trust["flagged"] as Bool {
            try db.execute(sql: "UPDATE training_samples SET weight = 0, held_state = state, state = 'held' WHERE id = ?", arguments: [sampleID])
        } else {
            try db.execute(sql: "UPDATE training_samples SET weight = ? WHERE id = ?", arguments: [trust["weight"] as Double, sampleID])
        }
    }

    /// Every end user's explicit feedback, with the reviewers' final word on it: a decided sample built from the
    /// feedback itself, else any decided sample of the same request. Approved or fixed means the answer was
    /// wrong: a thumbs-down, correction or tags verdict agrees, a thumbs-up disagrees; rejected the reverse.
    public func feedbackHistories() throws -> [String: [FeedbackRecord]] {
        try writer.read { db in
            var out: [String: [FeedbackRecord]] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT f.id, f.user_id, f.kind, f.ts,
                       (SELECT s.state FROM training_samples s WHERE s.feedback_id = f.id AND s.state IN ('approved', 'fixed', 'rejected')
                        ORDER BY s.id LIMIT 1),
                       (SELECT max(s.state IN ('approved', 'fixed')) FROM training_samples s
                        WHERE s.request_id = f.request_id AND s.state IN ('approved', 'fixed', 'rejected'))
                FROM feedback f WHERE f.user_id IS NOT NULL AND f.user_id <> '' ORDER BY f.user_id, f.id
                """)
            while let r = try rows.next() {
                let kind: String = r[2]
                let own: String? = r[4]
                let anyWrong: Int? = r[5]
                // nil: nobody decided; true: reviewers judged the answer wrong.
                let judgedWrong: Bool? = own.map { $0 != "rejected" } ?? anyWrong.map { $0 == 1 }
                let outcome: FeedbackOutcome
                switch judgedWrong {
                case nil: outcome = .unreviewed
                case let wrong?: outcome = (kind == "thumbs_up") != wrong ? .agreed : .disagreed
                }
                out[r[1], default: []].append(FeedbackRecord(id: r[0], kind: kind, ts: r[3], outcome: outcome))
            }
            return out
        }
    }

    /// Recomputes every end user's trust, stores what changed (computed_at is when a user's figures last
    /// changed), gives their samples the new weight, and audits every change of flag (by `actor`, the collector
    /// or the command that asked). Returns the users whose flag changed.
    @discardableResult
    public func refreshTrust(policy: TrustPolicy = .standard, actor: String, now: Int64) throws -> [String] {
        let scored = TrustScoring.evaluate(try feedbackHistories(), policy: policy)
        return try writer.write { db in
            var changed: [String] = []
            // What is stored now, so only users whose figures changed are written (most are not, run to run).
            var stored: [String: Row] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT user_id, feedback, reviewed, agreed, weight, flags, flagged, override FROM end_user_trust") {
                stored[row["user_id"]] = row
            }
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO end_user_trust(user_id, feedback, reviewed, agreed, score, weight, flags, flagged, computed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(user_id) DO UPDATE SET feedback = excluded.feedback, reviewed = excluded.reviewed, agreed = excluded.agreed,
                    score = excluded.score, weight = excluded.weight, flags = excluded.flags, flagged = excluded.flagged,
                    computed_at = excluded.computed_at
                """)
            let reweigh = try db.cachedStatement(sql: """
                UPDATE training_samples SET weight = ? WHERE end_user = ? AND \(Self.userSourcedSamples) AND weight <> ?
                """)
            for t in scored {
                let old = stored[t.user]
                let override: String? = old?["override"]
                let flagged = override == "flagged" || (override == nil && t.flagged)
                let flagsJSON = "[" + t.flags.map { "{\"kind\":\(jsonQuoted($0.kind.rawValue)),\"reason\":\(jsonQuoted($0.reason))}" }
                    .joined(separator: ",") + "]"
                let weight = flagged ? 0 : t.score
                if let old, old["feedback"] as Int == t.feedback, old["reviewed"] as Int == t.reviewed, old["agreed"] as Int == t.agreed,
                   old["weight"] as Double == weight, old["flags"] as String == flagsJSON, old["flagged"] as Bool == flagged {
                    continue
                }
                try upsert.execute(arguments: [t.user, t.feedback, t.reviewed, t.agreed, t.score, weight, flagsJSON, flagged, now])
                let wasFlagged = (old?["flagged"] as Bool?) ?? false
                if wasFlagged != flagged {
                    changed.append(t.user)
                    try Self.appendAudit(db, actor: actor, action: flagged ? "end_user_flag" : "end_user_unflag", entity: "end_user",
                                         entityID: t.user, before: "{\"flagged\":\(wasFlagged)}",
                                         after: "{\"flagged\":\(flagged),\"flags\":\(flagsJSON)}",
                                         note: t.flags.map(\.reason).joined(separator: "; "), at: now)
                }
                if old == nil || old?["weight"] as Double? != weight { try reweigh.execute(arguments: [weight, t.user, weight]) }
            }
            return changed
        }
    }

    /// Stored trust rows, flagged first, then by score ascending (the least trusted on top).
    public func endUserTrust(flaggedOnly: Bool = false, limit: Int = 1000) throws -> [EndUserTrustRow] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT u.*, (SELECT count(*) FROM training_samples s WHERE s.end_user = u.user_id AND s.state = 'held') AS held
                FROM end_user_trust u \(flaggedOnly ? "WHERE u.flagged = 1" : "")
                ORDER BY u.flagged DESC, u.score, u.user_id LIMIT ?
                """, arguments: [limit]).map(Self.trustRow)
        }
    }

    static func trustRow(_ r: Row) -> EndUserTrustRow {
        let flagsJSON: String = r["flags"]
        var flags: [AbuseFlag] = []
        if case .array(let items)? = try? JSONParser.parse(flagsJSON) {
            for case .object(let o) in items {
                guard case .string(let k)? = o.first(where: { $0.0 == "kind" })?.1, let kind = AbuseKind(rawValue: k),
                      case .string(let reason)? = o.first(where: { $0.0 == "reason" })?.1 else { continue }
                flags.append(AbuseFlag(kind: kind, reason: reason))
            }
        }
        return EndUserTrustRow(user: r["user_id"], feedback: r["feedback"], reviewed: r["reviewed"], agreed: r["agreed"], score: r["score"],
                               weight: r["weight"], flags: flags, flagged: r["flagged"], override: r["override"], heldSamples: r["held"],
                               computedAt: r["computed_at"])
    }

    /// An admin's word on an end user: 'trusted' (the abuse rules no longer hold their feedback), 'flagged'
    /// (hold it whatever the rules say), or nil (back to the rules, applied at the next refresh). Audited.
    public func overrideEndUser(_ user: String, to override: String?, by actor: String, reason: String?, now: Int64) throws {
        precondition(override == nil || override == "trusted" || override == "flagged")
        try writer.write { db in
            try Self.authorize(db, actor, .moderateUsers)
            guard let old = try Row.fetchOne(db, sql: "SELECT flagged, override FROM end_user_trust WHERE user_id = ?", arguments: [user]) else {
                throw HoldError.unknownEndUser(user)
            }
            let before = "{\"flagged\":\(old["flagged"] as Bool),\"override\":\((old["override"] as String?).map(jsonQuoted) ?? "null")}"
            var flagged = old["flagged"] as Bool
            if override == "trusted" { flagged = false }
            if override == "flagged" { flagged = true }
            try db.execute(sql: "UPDATE end_user_trust SET override = ?, flagged = ?, weight = CASE WHEN ? THEN 0 ELSE score END WHERE user_id = ?",
                           arguments: [override, flagged, flagged, user])
            try Self.appendAudit(db, actor: actor, action: "end_user_override", entity: "end_user", entityID: user, before: before,
                                 after: "{\"flagged\":\(flagged),\"override\":\(override.map(jsonQuoted) ?? "null")}", note: reason, at: now)
        }
    }

    /// Held samples, oldest first.
    public func heldSamples(limit: Int) throws -> [HeldSample] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.sampleColumns), end_user, held_state FROM training_samples INDEXED BY training_samples_held
                WHERE state = 'held' ORDER BY id LIMIT ?
                """, arguments: [limit]).map { HeldSample(sample: SampleRow(row: $0), user: $0["end_user"] ?? "", heldState: $0["held_state"] ?? "pending") }
        }
    }

    /// Releases a held sample into the review queue (the state it would have had), or discards it (rejected).
    /// Reviewers and admins; audited in review_actions like any other decision on a sample.
    @discardableResult
    public func decideHeld(sampleID: Int64, release: Bool, by actor: String, now: Int64) throws -> ReviewRecord {
        try writer.write { db in
            try Self.authorize(db, actor, .releaseHeld)
            guard let before = try snapshot(db, sampleID: sampleID) else { throw ReviewError.sampleNotFound(sampleID) }
            guard before.state == SampleState.held.rawValue else { throw HoldError.notHeld(sampleID, state: before.state) }
            let heldState = try String.fetchOne(db, sql: "SELECT held_state FROM training_samples WHERE id = ?", arguments: [sampleID])
            var after = before
            after.state = release ? (heldState ?? SampleState.pending.rawValue) : SampleState.rejected.rawValue
            try setSnapshot(db, sampleID: sampleID, after, now: now)
            return try appendAction(db, sampleID: sampleID, reviewer: actor, action: release ? "release_held" : "discard_held",
                                    before: before, after: after, at: now)
        }
    }
}

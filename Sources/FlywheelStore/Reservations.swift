import FlywheelCore
import Foundation
import GRDB

// Reservations: opening a sample holds it for its reviewer for a while, so two people do not work on the same
// item by accident. A sample has `overlap` slots; each live reservation or decision of another reviewer fills
// one. The check and the insert happen in one write transaction, and SQLite runs one writer at a time across
// processes, so two consoles racing for the last slot never both get it.

public enum ReservationOutcome: Sendable, Equatable {
    /// The sample is the reviewer's until then.
    case reserved(until: Int64)
    /// Other reviewers fill every slot.
    case heldBy(reviewers: [String], until: Int64?)
    /// The reviewer already decided it (overlap above 1) and waits for others.
    case alreadyVoted
    /// The sample is no longer waiting for a decision.
    case notWaiting(state: String)
}

public struct Reservation: Sendable, Equatable {
    public var sampleID: Int64
    public var reviewer: String
    public var reservedAt: Int64
    public var expiresAt: Int64
}

extension Store {
    /// Reserves a sample for `reviewer` for the team's reservation time (renewing their own reservation), and
    /// gives up any other sample they held: a reviewer holds one sample at a time.
    public func reserve(sampleID: Int64, reviewer: String, now: Int64) throws -> ReservationOutcome {
        try writer.write { db in
            try Self.authorize(db, reviewer, .review)
            let settings = try Self.teamSettings(db)
            try db.execute(sql: "DELETE FROM reservations WHERE expires_at <= ?", arguments: [now])
            guard let state = try String.fetchOne(db, sql: "SELECT state FROM training_samples WHERE id = ?", arguments: [sampleID]) else {
                throw ReviewError.sampleNotFound(sampleID)
            }
            guard SampleState.isWaiting(state) else { return .notWaiting(state: state) }
            if try Self.hasVoted(db, sampleID: sampleID, reviewer: reviewer) { return .alreadyVoted }
            let others = try Self.otherHolders(db, sampleID: sampleID, reviewer: reviewer, now: now)
            let otherVotes = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sample_decisions WHERE sample_id = ? AND reviewer <> ?",
                                              arguments: [sampleID, reviewer]) ?? 0
            let mine = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM reservations WHERE sample_id = ? AND reviewer = ?)",
                                         arguments: [sampleID, reviewer]) ?? false
            if !mine && others.reviewers.count + otherVotes >= settings.overlap {
                return .heldBy(reviewers: others.reviewers, until: others.until)
            }
            let until = now + settings.reservationMs
            try db.execute(sql: "DELETE FROM reservations WHERE reviewer = ? AND sample_id <> ?", arguments: [reviewer, sampleID])
            try db.execute(sql: """
                INSERT INTO reservations(sample_id, reviewer, reserved_at, expires_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(sample_id, reviewer) DO UPDATE SET expires_at = excluded.expires_at
                """, arguments: [sampleID, reviewer, now, until])
            return .reserved(until: until)
        }
    }

    /// Gives up whatever `reviewer` holds (leaving the queue, quitting).
    public func releaseReservations(reviewer: String) throws {
        try writer.write { db in try db.execute(sql: "DELETE FROM reservations WHERE reviewer = ?", arguments: [reviewer]) }
    }

    /// Live reservations, soonest to expire first.
    public func reservations(now: Int64) throws -> [Reservation] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT sample_id, reviewer, reserved_at, expires_at FROM reservations WHERE expires_at > ? ORDER BY expires_at",
                             arguments: [now]).map { Reservation(sampleID: $0[0], reviewer: $0[1], reservedAt: $0[2], expiresAt: $0[3]) }
        }
    }
}

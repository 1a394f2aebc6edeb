import Foundation
import GRDB

/// Figures the collector reports on /metrics, read in one transaction so they agree with each other.
public struct StoreFigures: Sendable, Equatable {
    public var events = 0
    public var quarantined = 0
    public var sessions = 0
    public var signalsByKind: [String: Int] = [:]
    public var samplesByState: [String: Int] = [:]
    /// Sessions idle for longer than the idle window but not analysed yet, and the oldest one's last
    /// activity (ms), which is how far analysis lags behind.
    public var sessionsAwaitingAnalysis = 0
    public var oldestAwaitingAnalysisTs: Int64?
    /// End users whose feedback is held (abuse flags or an admin's word).
    public var flaggedEndUsers = 0
    /// Live reservations: reviewers working in the review queue right now.
    public var liveReservations = 0
}

extension Store {
    public func figures(idleBefore: Int64, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) throws -> StoreFigures {
        try writer.read { db in
            var f = StoreFigures()
            f.events = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0
            f.quarantined = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM quarantine") ?? 0
            f.sessions = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sessions") ?? 0
            for r in try Row.fetchAll(db, sql: "SELECT kind, COUNT(*) FROM signals GROUP BY kind") { f.signalsByKind[r[0]] = r[1] }
            for r in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) FROM training_samples GROUP BY state") { f.samplesByState[r[0]] = r[1] }
            let row = try Row.fetchOne(db, sql: """
                SELECT COUNT(*), MIN(last_ts) FROM sessions
                WHERE analyzed_at IS NULL AND (ended_at IS NOT NULL OR last_ts < ?)
                """, arguments: [idleBefore])
            f.sessionsAwaitingAnalysis = row?[0] ?? 0
            f.oldestAwaitingAnalysisTs = row?[1]
            f.flaggedEndUsers = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM end_user_trust WHERE flagged = 1") ?? 0
            f.liveReservations = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reservations WHERE expires_at > ?", arguments: [now]) ?? 0
            return f
        }
    }
}

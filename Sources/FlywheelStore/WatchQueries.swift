import GRDB
import GRDBSQLite

/// How far a followed file has been committed: the byte offset just past its last stored complete line,
/// how many lines that is, and the file's size and inode when that was recorded.
public struct FollowedSource: Sendable, Equatable {
    public var id: Int64
    public var offset: Int64
    public var size: Int64?
    public var inode: Int64?
    public var lines: Int
    public init(id: Int64, offset: Int64, size: Int64?, inode: Int64?, lines: Int) {
        self.id = id
        self.offset = offset
        self.size = size
        self.inode = inode
        self.lines = lines
    }
}

/// What a database holds, summed up for checking that ingestion stored everything exactly once.
public struct IngestTotals: Sendable, Equatable {
    public var events = 0
    public var distinctEventIDs = 0
    public var turns = 0
    /// Sum of `sessions.turn_count`: equals `turns` unless a batch's aggregates were applied twice.
    public var sessionTurnCount = 0
    public var quarantined = 0
    public init() {}
}

private func fetchFollowedSource(_ db: Database, name: String) throws -> FollowedSource? {
    try Row.fetchOne(db, sql: #"SELECT id, "offset", size, inode, lines FROM ingest_sources WHERE name = ?"#,
                     arguments: [name]).map { FollowedSource(id: $0[0], offset: $0[1], size: $0[2], inode: $0[3], lines: $0[4]) }
}

extension Store {
    /// The committed read position of a source, or nil if it was never ingested.
    public func followedSource(name: String) throws -> FollowedSource? {
        try writer.read { db in try fetchFollowedSource(db, name: name) }
    }

    /// Every stored event_id, sorted.
    public func eventIDs() throws -> [String] {
        try writer.read { db in try String.fetchAll(db, sql: "SELECT event_id FROM events ORDER BY event_id") }
    }

    public func ingestTotals() throws -> IngestTotals {
        try writer.read { db in
            var t = IngestTotals()
            t.events = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0
            t.distinctEventIDs = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT event_id) FROM events") ?? 0
            t.turns = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM turns") ?? 0
            t.sessionTurnCount = try Int.fetchOne(db, sql: "SELECT coalesce(SUM(turn_count), 0) FROM sessions") ?? 0
            t.quarantined = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM quarantine") ?? 0
            return t
        }
    }
}

extension IngestBatch {
    /// The committed read position of a source, read inside this batch's transaction.
    public func followedSource(name: String) throws -> FollowedSource? {
        try fetchFollowedSource(db, name: name)
    }

    /// Rows changed so far on this connection. Comparing it around a call tells whether an
    /// `ON CONFLICT DO NOTHING` insert (a quarantined line seen before) actually stored anything.
    public var changeCount: Int64 {
        sqlite3_total_changes64(db.sqliteConnection)
    }
}

import FlywheelCore
import GRDB

/// One quarantined line.
public struct QuarantineEntry: Sendable {
    public var id: Int64
    public var source: String
    public var line: Int?
    public var reasonKind: String
    public var reason: String
    public var raw: [UInt8]
    public var receivedAt: Int64
}

extension Store {
    public func quarantineEntries(limit: Int, afterID: Int64 = 0, source: String? = nil) throws -> [QuarantineEntry] {
        try writer.read { db in
            try keysetPage(db, columns: "id, source, line, reason_kind, reason, raw, received_at", table: "quarantine",
                           afterID: afterID, limit: limit, filters: [("source", source.map { [$0] } ?? [])]).map { row in
                let rawValue: DatabaseValue = row[5]
                let raw: [UInt8]
                switch rawValue.storage {
                case .blob(let data): raw = [UInt8](data)
                case .string(let s): raw = Array(s.utf8)
                default: raw = []
                }
                return QuarantineEntry(id: row[0], source: row[1], line: row[2], reasonKind: row[3], reason: row[4],
                                       raw: raw, receivedAt: row[6])
            }
        }
    }

    public func quarantineEntry(id: Int64) throws -> QuarantineEntry? {
        try quarantineEntries(limit: 1, afterID: id - 1).first.flatMap { $0.id == id ? $0 : nil }
    }

    public func metaValue(_ key: String) throws -> String? {
        try writer.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    public func setMeta(_ key: String, _ value: String) throws {
        try writer.write { db in
            try db.execute(sql: "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           arguments: [key, value])
        }
    }
}

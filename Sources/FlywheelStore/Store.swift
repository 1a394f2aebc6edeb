import Foundation
import GRDB

/// FlywheelStore owns the database: opening it, its schema, and every SQL statement the product runs.
/// Nothing outside this module imports GRDB or writes SQL; callers use the types defined here, so a
/// second backend (PostgreSQL) is an addition behind the same API.
public final class Store: @unchecked Sendable {
    let writer: any DatabaseWriter
    /// Where the database lives; nil for an in-memory store.
    public let path: String?

    init(writer: any DatabaseWriter, path: String?) throws {
        self.writer = writer
        self.path = path
        try Schema.migrator.migrate(writer)
    }

    /// Opens (creating if needed) the database file and its folder. WAL mode with a busy timeout, so the
    /// collector, the console and CLI commands can share one file.
    public static func open(path: String) throws -> Store {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw StoreError.cannotOpen(path: path, reason: "cannot create folder \(dir): \(error.localizedDescription)")
        }
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.maximumReaderCount = 4
        config.prepareDatabase { db in
            // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the
            // last transactions, and re-ingest is idempotent.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // The writer gets a 32 MB page cache for ingest; each pooled reader 8 MB, so memory stays
            // bounded by the number of connections, not by how much was read.
            try db.execute(sql: db.configuration.readonly ? "PRAGMA cache_size = -8000" : "PRAGMA cache_size = -32000")
        }
        do {
            let pool = try DatabasePool(path: path, configuration: config)
            return try Store(writer: pool, path: path)
        } catch let error as DatabaseError {
            throw StoreError.cannotOpen(path: path, reason: error.message ?? "\(error)")
        }
    }

    /// A private in-memory database, for tests.
    public static func inMemory() throws -> Store {
        try Store(writer: try DatabaseQueue(), path: nil)
    }

    /// Row counts per table, in display order.
    public func tableCounts() throws -> [(table: String, count: Int)] {
        try writer.read { db in
            try Schema.countedTables.map { table in
                (table, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0)
            }
        }
    }

    /// The SQLite `data_version` of one dedicated connection (the writer's): it changes when another
    /// connection, e.g. another process, commits, so a caller polling it sees other processes' commits.
    /// (Each connection counts on its own, so values read on the pool's several readers cannot be compared.)
    public func dataVersion() throws -> Int {
        try writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
    }
}

public enum StoreError: Error, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "cannot open database \(path): \(reason)"
        }
    }
}

/// Where the database is when no `--db` is given: `FLYWHEEL_DB`, else `$XDG_DATA_HOME/flywheel/flywheel.sqlite`
/// (XDG default `~/.local/share`).
public enum DatabaseLocation {
    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                               fileName: String = "flywheel.sqlite") -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if fileName == "flywheel.sqlite", let env = environment["FLYWHEEL_DB"], !env.isEmpty { return env }
        return dataDirectory(environment: environment) + "/" + fileName
    }

    public static func dataDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") { return xdg + "/flywheel" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/share/flywheel"
    }
}

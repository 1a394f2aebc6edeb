import Foundation
import GRDB
import FlywheelTestSupport
import Testing
@testable import FlywheelCore
@testable import FlywheelStore

func temporaryDirectory() -> String {
    let dir = NSTemporaryDirectory() + "flywheel-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Runs a test body against an in-memory store and a file-backed pool, as GRDB's own tests do.
func withEachStore(_ body: (Store) throws -> Void) throws {
    try body(try Store.inMemory())
    let dir = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try body(try Store.open(path: dir + "/db.sqlite"))
}

func insert(_ store: Store, _ lines: [String], source: String = "test") throws -> IngestCounts {
    try store.ingestTransaction { batch in
        let id = try batch.source(name: source, kind: "test").id
        for (i, line) in lines.enumerated() {
            var bytes = Array(line.utf8)
            try bytes.withUnsafeMutableBytes { raw in
                let buf = UnsafeRawBufferPointer(raw)
                do {
                    let event = try EventDecoder.decode(line: buf)
                    try batch.insert(event, raw: buf, sourceID: id, line: i + 1) { ref in
                        ResolvedImage(ref: ref.ref, path: "/img/" + ref.ref, status: .missing)
                    }
                } catch let error as EventDecodingError {
                    try batch.quarantine(raw: buf, source: source, line: i + 1, error: error)
                }
            }
        }
        return batch.counts
    }
}

@Suite struct StoreTests {
    @Test func createsFileAndFolderOnFirstUse() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/nested/deeper/flywheel.sqlite"
        let store = try Store.open(path: path)
        #expect(FileManager.default.fileExists(atPath: path))
        let mode = try store.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        #expect(try store.tableCounts().allSatisfy { $0.count == 0 })
    }

    @Test func reopeningKeepsDataAndDoesNotRerunMigrations() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/db.sqlite"
        _ = try insert(try Store.open(path: path), specLines)
        let again = try Store.open(path: path)
        #expect(try again.tableCounts().first { $0.table == "events" }?.count == specLines.count)
    }

    @Test func storesEverySpecExampleInItsTable() throws {
        try withEachStore { (store: Store) throws in
            let counts = try insert(store, specLines)
            #expect(counts == IngestCounts(ingested: 8, duplicates: 0, quarantined: 0))
            let tables = Dictionary(uniqueKeysWithValues: try store.tableCounts().map { ($0.table, $0.count) })
            #expect(tables["events"] == 8)
            #expect(tables["turns"] == 2)
            #expect(tables["feedback"] == 3)
            #expect(tables["feedback_tags"] == 2)
            #expect(tables["recognitions"] == 1)
            #expect(tables["recognition_tags"] == 2)
            #expect(tables["error_logs"] == 1)
            #expect(tables["sessions"] == 1)
            #expect(tables["images"] == 2)
            #expect(tables["prompt_versions"] == 2)
            try store.writer.read { db in
                let session = try Row.fetchOne(db, sql: "SELECT user_id, turn_count, first_ts, last_ts, ended_at FROM sessions")!
                #expect(session[0] as String == "u7")
                #expect(session[1] as Int == 2)
                #expect(session[2] as Int64 == Timestamp.parseMillis("2026-05-01T00:00:00Z"))
                #expect(session[4] as Int64 == Timestamp.parseMillis("2026-05-01T00:00:59Z"))
                // Raw JSON is kept verbatim.
                let raw = try String.fetchOne(db, sql: "SELECT raw FROM events WHERE event_id = 's1-t0'")
                #expect(raw == specLines[0])
                let turn = try Row.fetchOne(db, sql: "SELECT content, response_ms, prompt_version FROM turns WHERE request_id = 's1-r1' AND role = 'assistant'")!
                #expect(turn[0] as String == "87")
                #expect(turn[1] as Int == 911)
            }
        }
    }

    @Test func sameEventTwiceIsADuplicate() throws {
        try withEachStore { (store: Store) throws in
            #expect(try insert(store, specLines).ingested == 8)
            #expect(try insert(store, specLines) == IngestCounts(ingested: 0, duplicates: 8, quarantined: 0))
            #expect(try store.tableCounts().first { $0.table == "events" }?.count == 8)
            #expect(try store.tableCounts().first { $0.table == "turns" }?.count == 2)
        }
    }

    @Test func sessionAggregatesSpanBatches() throws {
        try withEachStore { (store: Store) throws in
            _ = try insert(store, [specLines[0]])
            _ = try insert(store, [specLines[1]])
            _ = try insert(store, [specLines[2]])
            try store.writer.read { db in
                let row = try Row.fetchOne(db, sql: "SELECT turn_count, ended_at IS NOT NULL FROM sessions WHERE session_id = 's1'")!
                #expect(row[0] as Int == 2)
                #expect(row[1] as Bool == true)
            }
        }
    }

    @Test func quarantineKeepsBytesAndIsIdempotent() throws {
        try withEachStore { (store: Store) throws in
            let lines = ["not json", #"{"type":"telemetry","event_id":"t","ts":"2026-05-01T00:00:00Z"}"#]
            #expect(try insert(store, lines).quarantined == 2)
            #expect(try insert(store, lines).quarantined == 2)  // counted again: the input still has them
            let entries = try store.quarantineEntries(limit: 10)
            #expect(entries.count == 2)  // but stored once
            #expect(entries[0].raw == Array("not json".utf8))
            #expect(entries[0].line == 1)
            #expect(entries[0].reasonKind == "not_json")
            #expect(entries[1].reasonKind == "unknown_type")
            #expect(try store.quarantineEntry(id: entries[1].id)?.source == "test")
        }
    }

    @Test func reviewActionsAreAppendOnly() throws {
        try withEachStore { (store: Store) throws in
            try store.writer.write { db in
                try db.execute(sql: """
                    INSERT INTO training_samples(source, quality, state, created_at, updated_at) VALUES ('user_correction', 'high', 'pending', 0, 0);
                    INSERT INTO review_actions(sample_id, reviewer, action, at) VALUES (1, 'ana', 'approve', 0);
                    """)
            }
            #expect(throws: DatabaseError.self) {
                try store.writer.write { db in try db.execute(sql: "UPDATE review_actions SET reviewer = 'bob'") }
            }
            #expect(throws: DatabaseError.self) {
                try store.writer.write { db in try db.execute(sql: "DELETE FROM review_actions") }
            }
        }
    }

    @Test func databaseLocation() {
        #expect(DatabaseLocation.resolve(explicit: "/x/y.sqlite", environment: ["FLYWHEEL_DB": "/env.sqlite"]) == "/x/y.sqlite")
        #expect(DatabaseLocation.resolve(explicit: nil, environment: ["FLYWHEEL_DB": "/env.sqlite"]) == "/env.sqlite")
        #expect(DatabaseLocation.resolve(explicit: nil, environment: ["XDG_DATA_HOME": "/data", "HOME": "/home/a"]) == "/data/flywheel/flywheel.sqlite")
        #expect(DatabaseLocation.resolve(explicit: nil, environment: ["HOME": "/home/a"]) == "/home/a/.local/share/flywheel/flywheel.sqlite")
        #expect(DatabaseLocation.resolve(explicit: nil, environment: ["HOME": "/home/a", "FLYWHEEL_DB": "/env.sqlite"], fileName: "demo.sqlite")
                == "/home/a/.local/share/flywheel/demo.sqlite")
    }

    @Test func twoStoresShareOneFile() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try Store.open(path: dir + "/db.sqlite")
        let b = try Store.open(path: dir + "/db.sqlite")
        let before = try b.dataVersion()
        _ = try insert(a, specLines)
        #expect(try b.tableCounts().first { $0.table == "events" }?.count == 8)
        #expect(try b.dataVersion() != before)
    }
}

let specLines = specExampleLines

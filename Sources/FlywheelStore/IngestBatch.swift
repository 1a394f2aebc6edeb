import FlywheelCore
import Foundation
import GRDB
import GRDBSQLite

/// Counts of what a batch (or a whole ingest run) did.
public struct IngestCounts: Equatable, Sendable {
    public var ingested = 0
    public var duplicates = 0
    public var quarantined = 0
    public init(ingested: Int = 0, duplicates: Int = 0, quarantined: Int = 0) {
        self.ingested = ingested
        self.duplicates = duplicates
        self.quarantined = quarantined
    }
    public static func += (a: inout IngestCounts, b: IngestCounts) {
        a.ingested += b.ingested
        a.duplicates += b.duplicates
        a.quarantined += b.quarantined
    }
}

extension Store {
    /// Runs `body` in one write transaction with a batch writer. Everything `body` records commits
    /// together, source offsets included, or nothing does.
    public func ingestTransaction<T>(_ body: (IngestBatch) throws -> T) throws -> T {
        try writer.write { db in
            let batch = try IngestBatch(db: db)
            let result = try body(batch)
            try batch.flush()
            return result
        }
    }
}

/// The ingest hot path. Statements are prepared once per transaction and bound through the SQLite C
/// API directly: GRDB's argument arrays cost more than the inserts themselves at 100k events/s.
public final class IngestBatch {
    let db: Database
    public private(set) var counts = IngestCounts()
    private let now: Int64

    private let insertEvent: FastStatement
    private let insertTurn: FastStatement
    private let insertFeedback: FastStatement
    private let insertFeedbackTag: FastStatement
    private let insertRecognition: FastStatement
    private let insertRecognitionTag: FastStatement
    private let insertErrorLog: FastStatement
    private let upsertImage: FastStatement
    private let insertQuarantine: FastStatement

    private struct SessionDelta {
        var userID: String?
        var firstTs: Int64
        var lastTs: Int64
        var turns: Int
        var endedAt: Int64?
    }
    private var sessions: [String: SessionDelta] = [:]
    private var promptVersions: [String: (firstTs: Int64, taskType: String)] = [:]
    private var imageIDs: [String: Int64] = [:]

    init(db: Database) throws {
        self.db = db
        self.now = Int64(Date().timeIntervalSince1970 * 1000)
        func prepare(_ sql: String) throws -> FastStatement { FastStatement(db: db, statement: try db.cachedStatement(sql: sql)) }
        insertEvent = try prepare("""
            INSERT INTO events(event_id, type, ts, session_id, request_id, source_id, line, raw)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(event_id) DO NOTHING
            """)
        insertTurn = try prepare("""
            INSERT INTO turns(id, session_id, turn_index, role, content, request_id, user_id, ts, image_id,
                              response_ms, model, prompt_version, task_type)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insertFeedback = try prepare("""
            INSERT INTO feedback(id, session_id, request_id, user_id, kind, corrected_response, is_correct, ts)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insertFeedbackTag = try prepare("INSERT OR IGNORE INTO feedback_tags(feedback_id, tag, verdict) VALUES (?, ?, ?)")
        insertRecognition = try prepare("""
            INSERT INTO recognitions(id, request_id, session_id, user_id, image_id, model, prompt_version, ts)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insertRecognitionTag = try prepare("INSERT INTO recognition_tags(recognition_id, position, tag, score) VALUES (?, ?, ?, ?)")
        insertErrorLog = try prepare("INSERT INTO error_logs(id, request_id, session_id, kind, detail, ts) VALUES (?, ?, ?, ?, ?, ?)")
        upsertImage = try prepare("""
            INSERT INTO images(image_key, sha256, ref, path, status, bytes, width, height, format, first_seen)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(image_key) DO UPDATE SET
                status = CASE WHEN excluded.status = 'present' THEN 'present' ELSE images.status END,
                path = coalesce(images.path, excluded.path),
                bytes = coalesce(images.bytes, excluded.bytes),
                width = coalesce(images.width, excluded.width),
                height = coalesce(images.height, excluded.height),
                format = coalesce(images.format, excluded.format)
            RETURNING id
            """)
        insertQuarantine = try prepare("""
            INSERT INTO quarantine(source, line, reason_kind, reason, raw, raw_hash, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(source, line, raw_hash) DO NOTHING
            """)
    }

    /// Registers (or finds) an ingest source and returns its id and committed offset.
    public func source(name: String, kind: String) throws -> (id: Int64, offset: Int64) {
        try db.execute(sql: """
            INSERT INTO ingest_sources(name, kind, first_seen, last_seen) VALUES (?, ?, ?, ?)
            ON CONFLICT(name) DO UPDATE SET last_seen = excluded.last_seen
            """, arguments: [name, kind, now, now])
        let row = try Row.fetchOne(db, sql: #"SELECT id, "offset" FROM ingest_sources WHERE name = ?"#, arguments: [name])!
        return (row[0], row[1])
    }

    /// Adds a run's counts to a source, and records how far it has been read.
    public func updateSource(id: Int64, offset: Int64?, size: Int64? = nil, inode: Int64? = nil, lines: Int, counts c: IngestCounts) throws {
        try db.execute(sql: """
            UPDATE ingest_sources SET
                "offset" = coalesce(?, "offset"), size = coalesce(?, size), inode = coalesce(?, inode),
                lines = lines + ?, ingested = ingested + ?, duplicates = duplicates + ?, quarantined = quarantined + ?,
                last_seen = ?
            WHERE id = ?
            """, arguments: [offset, size, inode, lines, c.ingested, c.duplicates, c.quarantined, now, id])
    }

    /// Stores one decoded event with its raw line. Returns false when its `event_id` is already stored.
    /// `resolveImage` runs only for new events that reference an image.
    @discardableResult
    public func insert(_ event: Event, raw: UnsafeRawBufferPointer, sourceID: Int64?, line: Int?,
                       resolveImage: (ImageRef) -> ResolvedImage) throws -> Bool {
        let e = insertEvent
        e.reset()
        e.bind(1, event.eventID)
        e.bind(2, event.type.rawValue)
        e.bind(3, event.ts)
        e.bind(4, event.sessionID)
        e.bind(5, event.requestID)
        e.bind(6, sourceID)
        e.bind(7, line.map(Int64.init))
        e.bindText(8, raw)
        try e.step()
        if sqlite3_changes(db.sqliteConnection) == 0 {
            counts.duplicates += 1
            return false
        }
        let id = sqlite3_last_insert_rowid(db.sqliteConnection)
        switch event.body {
        case .turn(let t):
            var imageRow: Int64?
            if let ref = t.image { imageRow = try imageID(resolveImage(ref)) }
            let s = insertTurn
            s.reset()
            s.bind(1, id)
            s.bind(2, t.sessionID)
            s.bind(3, Int64(t.turnIndex))
            s.bind(4, t.role.rawValue)
            s.bind(5, t.content)
            s.bind(6, t.requestID)
            s.bind(7, t.userID)
            s.bind(8, event.ts)
            s.bind(9, imageRow)
            s.bind(10, t.responseMs.map(Int64.init))
            s.bind(11, t.model)
            s.bind(12, t.promptVersion)
            s.bind(13, t.taskType)
            try s.step()
            noteSession(t.sessionID, userID: t.userID, ts: event.ts, turns: 1, endedAt: nil)
            if let pv = t.promptVersion { notePromptVersion(pv, ts: event.ts, taskType: t.taskType ?? "vqa") }
        case .sessionEnd(let se):
            noteSession(se.sessionID, userID: se.userID, ts: event.ts, turns: 0, endedAt: event.ts)
        case .feedback(let f):
            let s = insertFeedback
            s.reset()
            s.bind(1, id)
            s.bind(2, f.sessionID)
            s.bind(3, f.requestID)
            s.bind(4, f.userID)
            s.bind(5, f.kind.rawValue)
            s.bind(6, f.correctedResponse)
            s.bind(7, f.isCorrect.map { $0 ? Int64(1) : Int64(0) })
            s.bind(8, event.ts)
            try s.step()
            for (tags, verdict) in [(f.wrongTags, "wrong"), (f.missingTags, "missing")] {
                for tag in tags {
                    let t = insertFeedbackTag
                    t.reset()
                    t.bind(1, id)
                    t.bind(2, tag)
                    t.bind(3, verdict)
                    try t.step()
                }
            }
        case .recognition(let r):
            let imageRow = try imageID(resolveImage(r.image))
            let s = insertRecognition
            s.reset()
            s.bind(1, id)
            s.bind(2, r.requestID)
            s.bind(3, r.sessionID)
            s.bind(4, r.userID)
            s.bind(5, imageRow)
            s.bind(6, r.model)
            s.bind(7, r.promptVersion)
            s.bind(8, event.ts)
            try s.step()
            for (position, tag) in r.tags.enumerated() {
                let t = insertRecognitionTag
                t.reset()
                t.bind(1, id)
                t.bind(2, Int64(position))
                t.bind(3, tag.tag)
                t.bind(4, tag.score)
                try t.step()
            }
            if let pv = r.promptVersion { notePromptVersion(pv, ts: event.ts, taskType: "tags") }
        case .errorLog(let l):
            let s = insertErrorLog
            s.reset()
            s.bind(1, id)
            s.bind(2, l.requestID)
            s.bind(3, l.sessionID)
            s.bind(4, l.kind.rawValue)
            s.bind(5, l.detail)
            s.bind(6, event.ts)
            try s.step()
        }
        counts.ingested += 1
        return true
    }

    /// Keeps a refused line byte for byte, with where it came from and why.
    public func quarantine(raw: UnsafeRawBufferPointer, source: String, line: Int?, error: EventDecodingError) throws {
        let q = insertQuarantine
        q.reset()
        q.bind(1, source)
        q.bind(2, line.map(Int64.init))
        q.bind(3, error.kind.rawValue)
        q.bind(4, error.message)
        q.bindBlob(5, raw)
        q.bind(6, fnv1a(raw))
        q.bind(7, now)
        try q.step()
        counts.quarantined += 1
    }

    private func fnv1a(_ bytes: UnsafeRawBufferPointer) -> Int64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return Int64(bitPattern: h)
    }

    private func imageID(_ image: ResolvedImage) throws -> Int64 {
        let key = image.key
        if let id = imageIDs[key] { return id }
        let s = upsertImage
        s.reset()
        s.bind(1, key)
        s.bind(2, image.sha256)
        s.bind(3, image.ref)
        s.bind(4, image.path)
        s.bind(5, image.status.rawValue)
        s.bind(6, image.bytes.map(Int64.init))
        s.bind(7, image.width.map(Int64.init))
        s.bind(8, image.height.map(Int64.init))
        s.bind(9, image.format)
        s.bind(10, now)
        guard try s.step() else { throw DatabaseError(message: "image upsert returned no id") }
        let id = s.int64(0)
        try s.finishRows()
        imageIDs[key] = id
        return id
    }

    private func noteSession(_ id: String, userID: String?, ts: Int64, turns: Int, endedAt: Int64?) {
        if var d = sessions[id] {
            if d.userID == nil { d.userID = userID }
            d.firstTs = min(d.firstTs, ts)
            d.lastTs = max(d.lastTs, ts)
            d.turns += turns
            if let endedAt { d.endedAt = max(d.endedAt ?? endedAt, endedAt) }
            sessions[id] = d
        } else {
            sessions[id] = SessionDelta(userID: userID, firstTs: ts, lastTs: ts, turns: turns, endedAt: endedAt)
        }
    }

    private func notePromptVersion(_ name: String, ts: Int64, taskType: String) {
        if let seen = promptVersions[name], seen.firstTs <= ts { return }
        promptVersions[name] = (ts, taskType)
    }

    /// Writes the per-batch session and prompt-version aggregates. Called once before commit.
    func flush() throws {
        if !sessions.isEmpty {
            let s = FastStatement(db: db, statement: try db.cachedStatement(sql: """
                INSERT INTO sessions(session_id, user_id, first_ts, last_ts, turn_count, ended_at)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(session_id) DO UPDATE SET
                    user_id = coalesce(sessions.user_id, excluded.user_id),
                    first_ts = min(sessions.first_ts, excluded.first_ts),
                    last_ts = max(sessions.last_ts, excluded.last_ts),
                    turn_count = sessions.turn_count + excluded.turn_count,
                    ended_at = coalesce(max(sessions.ended_at, excluded.ended_at), sessions.ended_at, excluded.ended_at),
                    analyzed_at = CASE WHEN excluded.turn_count > 0 THEN NULL ELSE sessions.analyzed_at END
                """))
            for (id, d) in sessions {
                s.reset()
                s.bind(1, id)
                s.bind(2, d.userID)
                s.bind(3, d.firstTs)
                s.bind(4, d.lastTs)
                s.bind(5, Int64(d.turns))
                s.bind(6, d.endedAt)
                try s.step()
            }
            sessions.removeAll(keepingCapacity: true)
        }
        if !promptVersions.isEmpty {
            for (name, seen) in promptVersions {
                try db.execute(sql: """
                    INSERT INTO prompt_versions(name, created_at, status, task_type, seen_in_events)
                    VALUES (?, ?, 'active', ?, 1)
                    ON CONFLICT(name) DO UPDATE SET seen_in_events = 1,
                        created_at = min(prompt_versions.created_at, excluded.created_at)
                    """, arguments: [name, seen.firstTs, seen.taskType])
            }
            promptVersions.removeAll(keepingCapacity: true)
        }
    }
}

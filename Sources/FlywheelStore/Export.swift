import FlywheelCore
import Foundation
import GRDB

// Reading the samples an export writes: approved and fixed ones, filtered, one per (image, question), streamed
// in keyset pages so memory does not grow with the number of samples.

/// Which samples an export takes. States are always approved and fixed.
public struct ExportFilter: Sendable {
    /// Only samples created at or after this time (Unix milliseconds).
    public var since: Int64?
    /// Only these error categories (empty: all).
    public var categories: [String]
    /// Only samples of at least this quality.
    public var minQuality: SampleQuality?
    /// Synthetic samples (`flywheel augment`) are left out unless this is set.
    public var includeSynthetic: Bool
    /// What the format needs of a sample (task type, a question, a wrong answer).
    public var requirements: ExportRequirements
    /// Two samples are the same example when they show the same image and (if this is set) ask the same
    /// normalised question; the one with the lowest id is kept.
    public var dedupByQuestion: Bool

    public init(since: Int64? = nil, categories: [String] = [], minQuality: SampleQuality? = nil, includeSynthetic: Bool = false,
                requirements: ExportRequirements, dedupByQuestion: Bool) {
        self.since = since
        self.categories = categories
        self.minQuality = minQuality
        self.includeSynthetic = includeSynthetic
        self.requirements = requirements
        self.dedupByQuestion = dedupByQuestion
    }

    public init(format: ExportFormat, since: Int64? = nil, categories: [String] = [], minQuality: SampleQuality? = nil,
                includeSynthetic: Bool = false) {
        self.init(since: since, categories: categories, minQuality: minQuality, includeSynthetic: includeSynthetic,
                  requirements: format.requirements, dedupByQuestion: format.dedupByQuestion)
    }
}

/// The picture of an exported sample, as the images table knows it.
public struct ExportImage: Sendable, Equatable {
    public var key: String
    public var ref: String
    /// Where the file was found (absolute), if it was.
    public var path: String?
    /// present, missing, url or unreadable.
    public var status: String
    public var format: String?
    public var bytes: Int64?
}

public struct ExportRow: Sendable, Equatable {
    public var sample: ExportSample
    public var image: ExportImage?
}

/// What the scan found before the first row: how many samples match and how many of those are duplicates.
public struct ExportPlan: Sendable, Equatable {
    /// Samples matching the filter.
    public var matched: Int
    /// Samples that will be streamed (one per image and question).
    public var unique: Int
    public var duplicates: Int { matched - unique }
}

extension Store {
    /// Streams the exportable samples in id order: `plan` once when the matching samples are known, then `body`
    /// for each sample, read in keyset pages of `pageSize`. One read snapshot covers the whole scan, so writes by
    /// other processes meanwhile are not half seen.
    ///
    /// De-duplication runs in SQLite: the lowest id of each (image key, normalised question) group goes into a
    /// temporary table (one integer per kept sample, in SQLite's temp store, a file by default, behind a bounded
    /// page cache), and pages are read by joining it. Memory does not grow with the number of samples.
    @discardableResult
    public func forEachExportSample(_ filter: ExportFilter, pageSize: Int = 1000, plan: (ExportPlan) throws -> Void = { _ in },
                                    _ body: (ExportRow) throws -> Void) throws -> ExportPlan {
        // The writer connection, because the temporary table is a write (to temp only: the main database is only
        // read, inside one deferred transaction, so other processes' writers are not held up).
        try writer.writeWithoutTransaction { db in
            db.add(function: Self.normalizedQuestionFunction)
            defer { db.remove(function: Self.normalizedQuestionFunction) }
            // The writer's 32 MB page cache (sized for ingest) would fill on a big scan, and SQLite's sorter for the
            // GROUP BY takes as much again before it spills to temp files: 4 MB each keeps the export small
            // whatever the database's size (the OS page cache still holds the file).
            let cacheSize = try Int.fetchOne(db, sql: "PRAGMA main.cache_size") ?? -32000
            try db.execute(sql: "PRAGMA main.cache_size = -4000")
            defer { try? db.execute(sql: "PRAGMA main.cache_size = \(cacheSize)") }
            var result = ExportPlan(matched: 0, unique: 0)
            try db.inTransaction(.deferred) {
                try db.execute(sql: "DROP TABLE IF EXISTS temp.export_keep")
                try db.execute(sql: "CREATE TEMP TABLE export_keep(id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
                let (conditions, args) = Self.exportConditions(filter)
                let questionKey = filter.dedupByQuestion ? "flywheel_export_question(s.question)" : "''"
                try db.execute(sql: """
                    INSERT INTO temp.export_keep(id, n)
                    SELECT min(s.id), count(*) FROM training_samples s LEFT JOIN images i ON i.id = s.image_id
                    WHERE \(conditions)
                    GROUP BY coalesce(i.image_key, ''), \(questionKey)
                    """, arguments: args)
                let counts = try Row.fetchOne(db, sql: "SELECT count(*), coalesce(sum(n), 0) FROM temp.export_keep")!
                result = ExportPlan(matched: counts[1], unique: counts[0])
                try plan(result)
                var after: Int64 = 0
                while true {
                    let rows = try Row.fetchAll(db, sql: """
                        SELECT s.id, s.source, s.quality, s.state, s.task_type, s.error_category, s.question, s.wrong_answer,
                               s.correct_answer, s.session_id, s.request_id, s.created_at,
                               i.image_key, i.ref, i.path, i.status, i.format, i.bytes, s.weight
                        FROM temp.export_keep k JOIN training_samples s ON s.id = k.id LEFT JOIN images i ON i.id = s.image_id
                        WHERE k.id > ? ORDER BY k.id LIMIT ?
                        """, arguments: [after, pageSize])
                    guard let last = rows.last else { break }
                    after = last[0]
                    let tagIDs: [Int64] = rows.compactMap { ($0[4] as String) == "tags" ? $0[0] : nil }
                    var tags: [Int64: [SampleTag]] = [:]
                    if !tagIDs.isEmpty {
                        for t in try Row.fetchAll(db, sql: """
                            SELECT sample_id, tag, score, verdict FROM sample_tags
                            WHERE sample_id IN (\(tagIDs.map { _ in "?" }.joined(separator: ","))) ORDER BY sample_id, tag
                            """, arguments: StatementArguments(tagIDs)) {
                            tags[t[0], default: []].append(SampleTag(tag: t[1], score: t[2], verdict: t[3]))
                        }
                    }
                    for r in rows {
                        let id: Int64 = r[0]
                        let sample = ExportSample(id: id, source: r[1], quality: r[2], state: r[3], taskType: r[4], category: r[5],
                                                  question: r[6], wrongAnswer: r[7], correctAnswer: r[8], sessionID: r[9],
                                                  requestID: r[10], createdAt: r[11], tags: tags[id] ?? [], weight: r[18])
                        let image = (r[12] as String?).map {
                            ExportImage(key: $0, ref: r[13], path: r[14], status: r[15], format: r[16], bytes: r[17])
                        }
                        try body(ExportRow(sample: sample, image: image))
                    }
                }
                try db.execute(sql: "DROP TABLE temp.export_keep")
                return .commit
            }
            return result
        }
    }

    static let normalizedQuestionFunction = DatabaseFunction("flywheel_export_question", argumentCount: 1, pure: true) { values in
        normalizedExportQuestion(String.fromDatabaseValue(values[0]))
    }

    static func exportConditions(_ f: ExportFilter) -> (String, StatementArguments) {
        var c = ["s.state IN ('approved', 'fixed')"]
        var args: [DatabaseValueConvertible?] = []
        if !f.includeSynthetic { c.append("s.synthetic = 0") }
        if let since = f.since {
            c.append("s.created_at >= ?")
            args.append(since)
        }
        if !f.categories.isEmpty {
            c.append("s.error_category IN (\(f.categories.map { _ in "?" }.joined(separator: ",")))")
            args += f.categories.map { $0 as DatabaseValueConvertible? }
        }
        if let q = f.minQuality {
            let ok = SampleQuality.allCases.filter { $0 >= q }.map(\.rawValue)
            c.append("s.quality IN (\(ok.map { _ in "?" }.joined(separator: ",")))")
            args += ok.map { $0 as DatabaseValueConvertible? }
        }
        switch f.requirements.taskTypes {
        case .all: break
        case .exceptTags: c.append("s.task_type <> 'tags'")
        case .onlyTags: c.append("s.task_type = 'tags'")
        }
        if f.requirements.question { c.append("trim(coalesce(s.question, '')) <> ''") }
        if f.requirements.wrongAnswer { c.append("trim(coalesce(s.wrong_answer, '')) <> ''") }
        return (c.joined(separator: " AND "), StatementArguments(args))
    }

    /// Replaces the tags of an image-tagging sample (its `sample_tags` rows). Verdicts: unreviewed, correct,
    /// wrong, missing; a missing tag has no score.
    public func setSampleTags(sampleID: Int64, _ tags: [SampleTag]) throws {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM sample_tags WHERE sample_id = ?", arguments: [sampleID])
            for t in tags {
                try db.execute(sql: "INSERT INTO sample_tags(sample_id, tag, score, verdict) VALUES (?, ?, ?, ?)",
                               arguments: [sampleID, t.tag, t.score, t.verdict])
            }
        }
    }

    /// Marks a sample synthetic (derived from `derivedFrom`), so exports leave it out unless asked.
    public func markSampleSynthetic(sampleID: Int64, derivedFrom: Int64?) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE training_samples SET synthetic = 1, derived_from = ? WHERE id = ?", arguments: [derivedFrom, sampleID])
        }
    }

    /// The id of the sample a request got from a source, if any.
    public func sampleID(requestID: String, source: SampleSource) throws -> Int64? {
        try writer.read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM training_samples WHERE request_id = ? AND source = ?", arguments: [requestID, source.rawValue])
        }
    }

    /// A sample to bulk-load with its picture (benchmarks, imports of already reviewed data).
    public struct BulkSample: Sendable {
        public var sample: NewSample
        /// The picture's reference; it is recorded as a missing file (`missing:<ref>`) unless `imagePath` is given.
        public var imageRef: String?
        /// Where the picture is, if known: recorded as present with key `path:<path>`.
        public var imagePath: String?
        public var synthetic: Bool
        public init(sample: NewSample, imageRef: String?, imagePath: String? = nil, synthetic: Bool = false) {
            self.sample = sample
            self.imageRef = imageRef
            self.imagePath = imagePath
            self.synthetic = synthetic
        }
    }

    /// Inserts samples and their images in one transaction with prepared statements (one sample per request and
    /// source, as everywhere). Returns how many samples were new.
    @discardableResult
    public func bulkInsertSamples(_ items: [BulkSample], now: Int64) throws -> Int {
        try writer.write { db in
            let image = try db.cachedStatement(sql: """
                INSERT INTO images(image_key, ref, path, status, first_seen) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(image_key) DO UPDATE SET ref = ref RETURNING id
                """)
            let sample = try db.cachedStatement(sql: """
                INSERT INTO training_samples(source, quality, state, task_type, question, wrong_answer, correct_answer, error_category,
                    session_id, request_id, image_id, model, prompt_version, created_at, updated_at, synthetic)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(request_id, source) DO NOTHING
                """)
            var inserted = 0
            for item in items {
                var imageID: Int64?
                if let ref = item.imageRef {
                    let key = item.imagePath.map { "path:" + $0 } ?? "missing:" + ref
                    imageID = try Int64.fetchOne(image, arguments: [key, ref, item.imagePath, item.imagePath == nil ? "missing" : "present", now])
                }
                let s = item.sample
                try sample.execute(arguments: [s.source.rawValue, s.quality.rawValue, s.state.rawValue, s.taskType, s.question, s.wrongAnswer,
                                               s.correctAnswer, s.category.rawValue, s.sessionID, s.requestID, imageID ?? s.imageID,
                                               s.model, s.promptVersion, now, now, item.synthetic ? 1 : 0])
                inserted += db.changesCount
            }
            return inserted
        }
    }
}

import Foundation
import FlywheelCore
import GRDB

// The registry of prompt versions. A version is either registered with its template text
// (`flywheel prompt add`, an optimisation) or only seen in events' `prompt_version` (ingest adds those with
// no template). Status: 'candidate' (registered, not in use), 'active' (in use for its task type), 'retired'.
// Ingest records a version seen in production as 'active', so a task type can have several active versions
// until one is activated here, which retires the others.

/// One row of prompt_versions.
public struct PromptVersion: Sendable, Equatable {
    public var name: String
    /// Nil for a version only seen in events.
    public var template: String?
    public var parent: String?
    public var author: String?
    /// Epoch milliseconds: when it was registered, or first seen in an event if earlier.
    public var createdAt: Int64
    /// 'candidate', 'active' or 'retired'.
    public var status: String
    public var taskType: String?
    /// 1 when an event has named it, else 0.
    public var seenInEvents: Int

    public init(name: String, template: String?, parent: String?, author: String?, createdAt: Int64, status: String,
                taskType: String?, seenInEvents: Int) {
        self.name = name
        self.template = template
        self.parent = parent
        self.author = author
        self.createdAt = createdAt
        self.status = status
        self.taskType = taskType
        self.seenInEvents = seenInEvents
    }

    init(row: Row) {
        self.init(name: row["name"], template: row["template"], parent: row["parent"], author: row["author"],
                  createdAt: row["created_at"], status: row["status"], taskType: row["task_type"], seenInEvents: row["seen_in_events"])
    }
}

public enum PromptStoreError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    /// The name is registered with a template already.
    case duplicate(String)
    case unknownParent(String)
    /// The parent is the version itself, or descends from it.
    case parentCycle(name: String, parent: String)
    case invalidName(String)
    case emptyTemplate(String)
    /// A version only seen in events, asked for its text.
    case noTemplate(String)

    public var description: String {
        switch self {
        case .notFound(let n):
            return "no prompt version named \(n) (see flywheel prompt list)"
        case .duplicate(let n):
            return "prompt version \(n) already exists with a template: choose another name"
        case .unknownParent(let p):
            return "unknown parent prompt version \(p): register it first with flywheel prompt add \(p) --file F"
        case let .parentCycle(name, parent):
            return "\(parent) cannot be the parent of \(name): it is \(name) itself or descends from it"
        case .invalidName(let n):
            let shown = n.unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }.joined()
            return "invalid prompt version name '\(shown)': it must be 1-200 characters without spaces or control characters"
        case .emptyTemplate(let n):
            return "the template for \(n) is empty: nothing saved"
        case .noTemplate(let n):
            return "\(n) has no template text: add one with flywheel prompt add \(n) --file F"
        }
    }
}

extension Store {
    static let promptColumns = "name, template, parent, author, created_at, status, task_type, seen_in_events"

    /// Every version: active ones first, then newest first (then by name).
    public func promptVersions() throws -> [PromptVersion] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.promptColumns) FROM prompt_versions
                ORDER BY status = 'active' DESC, created_at DESC, name
                """).map(PromptVersion.init)
        }
    }

    public func promptVersion(named name: String) throws -> PromptVersion? {
        try writer.read { db in try Self.promptVersion(db, name) }
    }

    static func promptVersion(_ db: Database, _ name: String) throws -> PromptVersion? {
        try Row.fetchOne(db, sql: "SELECT \(Self.promptColumns) FROM prompt_versions WHERE name = ?", arguments: [name])
            .map(PromptVersion.init)
    }

    /// Registers a version as a 'candidate' created at `now`. A name that exists only from events (no template)
    /// gets the template, author and parent filled in and keeps its status, task type and creation time
    /// (the task type is set only if it had none). Throws `PromptStoreError`: duplicate (already has a
    /// template), unknownParent, parentCycle, invalidName, emptyTemplate.
    /// With an `actor` (a person, not ingest), their role is checked and the addition audited.
    public func addPromptVersion(name: String, template: String, parent: String?, author: String?, taskType: String?, now: Int64,
                                 actor: String? = nil) throws {
        guard !template.allSatisfy(\.isWhitespace) else { throw PromptStoreError.emptyTemplate(name) }
        let parent = parent.flatMap { $0.isEmpty ? nil : $0 }
        try writer.write { db in
            if let actor {
                try Self.authorize(db, actor, .managePrompts)
                try Self.appendAudit(db, actor: actor, action: "prompt_add", entity: "prompt", entityID: name, before: nil,
                                     after: "{\"status\":\"candidate\",\"parent\":\(parent.map(jsonQuoted) ?? "null"),\"author\":\(author.map(jsonQuoted) ?? "null")}",
                                     at: now)
            }
            let existing = try Self.promptVersion(db, name)
            if existing?.template != nil { throw PromptStoreError.duplicate(name) }
            // Names seen in events are taken as they are; new ones must be printable words.
            if existing == nil && !Self.isValidPromptName(name) { throw PromptStoreError.invalidName(name) }
            if let parent {
                // Walk up from the parent: it must exist and must not lead back to this version.
                var seen: Set<String> = []
                var current: String? = parent
                while let c = current, seen.insert(c).inserted {
                    if c == name { throw PromptStoreError.parentCycle(name: name, parent: parent) }
                    guard let v = try Self.promptVersion(db, c) else {
                        if c == parent { throw PromptStoreError.unknownParent(parent) }
                        break
                    }
                    current = v.parent
                }
            }
            if existing != nil {
                try db.execute(sql: """
                    UPDATE prompt_versions SET template = ?, parent = ?, author = ?, task_type = coalesce(task_type, ?)
                    WHERE name = ?
                    """, arguments: [template, parent, author, taskType, name])
            } else {
                try db.execute(sql: """
                    INSERT INTO prompt_versions(name, template, parent, author, created_at, status, task_type, seen_in_events)
                    VALUES (?, ?, ?, ?, ?, 'candidate', ?, 0)
                    """, arguments: [name, template, parent, author, now, taskType])
            }
        }
    }

    /// Makes `name` the active version of its task type and retires every other active version of that task
    /// type (versions without a task type count as one group), in one transaction. Activating the active
    /// version again only retires the others.
    /// With an `actor`, their role is checked and the change audited.
    public func activatePromptVersion(_ name: String, by actor: String? = nil, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) throws {
        try writer.write { db in
            if let actor { try Self.authorize(db, actor, .managePrompts) }
            guard let v = try Self.promptVersion(db, name) else { throw PromptStoreError.notFound(name) }
            if let actor {
                let retired = try String.fetchAll(db, sql: "SELECT name FROM prompt_versions WHERE status = 'active' AND task_type IS ? AND name <> ? ORDER BY name",
                                                  arguments: [v.taskType, name])
                try Self.appendAudit(db, actor: actor, action: "prompt_activate", entity: "prompt", entityID: name,
                                     before: "{\"status\":\(jsonQuoted(v.status))}",
                                     after: "{\"status\":\"active\",\"retired\":[\(retired.map(jsonQuoted).joined(separator: ","))]}", at: now)
            }
            try db.execute(sql: """
                UPDATE prompt_versions SET status = 'retired'
                WHERE status = 'active' AND task_type IS ? AND name <> ?
                """, arguments: [v.taskType, name])
            try db.execute(sql: "UPDATE prompt_versions SET status = 'active' WHERE name = ?", arguments: [name])
        }
    }

    /// The active version of a task type. Several can be active (ingest marks every version seen in events
    /// active until one is activated): the newest wins. With a nil task type, any task type's: one with a
    /// template first, then the newest.
    public func activePromptVersion(taskType: String?) throws -> PromptVersion? {
        try writer.read { db in
            if let taskType {
                return try Row.fetchOne(db, sql: """
                    SELECT \(Self.promptColumns) FROM prompt_versions WHERE status = 'active' AND task_type = ?
                    ORDER BY created_at DESC, name DESC LIMIT 1
                    """, arguments: [taskType]).map(PromptVersion.init)
            }
            return try Row.fetchOne(db, sql: """
                SELECT \(Self.promptColumns) FROM prompt_versions WHERE status = 'active'
                ORDER BY template IS NOT NULL DESC, created_at DESC, name DESC LIMIT 1
                """).map(PromptVersion.init)
        }
    }

    /// Reviewed error samples to learn from: state approved or fixed, with a question, a wrong answer and a
    /// different correct answer, of `taskType` when given. Categories are ordered by how many such samples
    /// they have (most first, then by name), and samples are taken round-robin from the most frequent
    /// category down, newest first within a category, up to `limit`.
    public func optimizationExamples(taskType: String?, limit: Int) throws -> [SampleRow] {
        guard limit > 0 else { return [] }
        return try writer.read { db in
            try Row.fetchAll(db, sql: """
                WITH eligible AS (
                    SELECT * FROM training_samples
                    WHERE state IN ('approved', 'fixed')
                      AND trim(coalesce(question, '')) <> '' AND trim(coalesce(wrong_answer, '')) <> ''
                      AND trim(coalesce(correct_answer, '')) <> '' AND trim(wrong_answer) <> trim(correct_answer)
                      AND (? IS NULL OR task_type = ?)
                ), ranked AS (
                    SELECT *,
                        ROW_NUMBER() OVER (PARTITION BY error_category ORDER BY created_at DESC, id DESC) AS turn,
                        COUNT(*) OVER (PARTITION BY error_category) AS category_count
                    FROM eligible
                )
                SELECT \(Self.sampleColumns) FROM ranked
                ORDER BY turn, category_count DESC, error_category
                LIMIT ?
                """, arguments: [taskType, taskType, limit]).map(SampleRow.init)
        }
    }

    static func isValidPromptName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 200 && name.unicodeScalars.allSatisfy { s in
            !s.properties.isWhitespace && s.properties.generalCategory != .control && s.properties.generalCategory != .format
        }
    }
}

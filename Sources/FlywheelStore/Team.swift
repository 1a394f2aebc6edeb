import FlywheelCore
import Foundation
import GRDB

// Team members, their roles, team settings and the audit log of everything that is not a sample review.
// Every guarded write checks the actor's role inside its own write transaction, so a role change cannot
// race with the action it forbids.

/// Settings every reviewer shares, stored in the database.
public struct TeamSettings: Sendable, Equatable {
    /// Independent decisions a sample needs before it is final.
    public var overlap: Int = 1
    /// How long opening a sample reserves it.
    public var reservationMinutes: Int = 10

    public init(overlap: Int = 1, reservationMinutes: Int = 10) {
        self.overlap = overlap
        self.reservationMinutes = reservationMinutes
    }

    public var reservationMs: Int64 { Int64(reservationMinutes) * 60_000 }

    /// The keys `flywheel settings set` takes, with what they mean and their allowed range.
    public static let keys: [(key: String, help: String, range: ClosedRange<Int>)] = [
        ("review.overlap", "independent decisions each sample needs before it is final", 1...10),
        ("review.reservation_minutes", "how long opening a sample reserves it for its reviewer", 1...1440),
    ]
}

public enum TeamError: Error, Equatable, CustomStringConvertible {
    case userExists(String)
    case noSuchUser(String)
    case firstUserMustBeAdmin(String)
    case lastAdmin(String)
    case invalidName(String)
    case unknownSetting(String)
    case invalidSetting(key: String, value: String, range: ClosedRange<Int>)

    public var description: String {
        switch self {
        case .userExists(let n): return "user '\(n)' already exists: change their role with flywheel user role \(n) ROLE"
        case .noSuchUser(let n): return "no user '\(n)': add them with flywheel user add \(n) --role ROLE"
        case .firstUserMustBeAdmin(let n):
            return "'\(n)' would be the first user: the first user must be an admin (until then nothing is guarded), e.g. flywheel user add \(n) --role admin"
        case .lastAdmin(let n): return "'\(n)' is the last admin: make someone else admin first"
        case .invalidName(let n): return "'\(n)' is not a usable user name: use 1-64 visible characters without spaces"
        case .unknownSetting(let k): return "unknown setting '\(k)': use one of \(TeamSettings.keys.map(\.key).joined(separator: ", "))"
        case let .invalidSetting(key, value, range):
            return "\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(value)'"
        }
    }
}

/// One entry of the audit trail: a sample review (review_actions) or any other state change (audit_log).
public struct AuditEntry: Sendable, Equatable {
    /// "r<id>" for a review_actions row, "a<id>" for an audit_log row.
    public var ref: String
    public var at: Int64
    public var actor: String
    public var action: String
    /// 'sample', 'user', 'setting', 'prompt', 'annotation_task', 'end_user'.
    public var entity: String
    public var entityID: String
    public var before: String?
    public var after: String?
    /// The vote behind a review, or an actor's reason.
    public var note: String?
}

/// What `flywheel audit` filters on; nil matches everything.
public struct AuditFilter: Sendable, Equatable {
    public var actor: String?
    public var action: String?
    public var entity: String?
    public var entityID: String?
    public var since: Int64?
    public var until: Int64?
    public init(actor: String? = nil, action: String? = nil, entity: String? = nil, entityID: String? = nil, since: Int64? = nil, until: Int64? = nil) {
        self.actor = actor
        self.action = action
        self.entity = entity
        self.entityID = entityID
        self.since = since
        self.until = until
    }
}

extension Store {
    // MARK: users

    public func teamMembers() throws -> [TeamMember] {
        try writer.read { db in try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY name").map(Self.member) }
    }

    public func teamMember(named name: String) throws -> TeamMember? {
        try writer.read { db in try Self.member(db, name) }
    }

    static func member(_ row: Row) -> TeamMember {
        TeamMember(name: row["name"], role: TeamRole(rawValue: row["role"]) ?? .annotator, adjudicator: row["adjudicator"] as Bool,
                   createdAt: row["created_at"], createdBy: row["created_by"])
    }

    static func member(_ db: Database, _ name: String) throws -> TeamMember? {
        try Row.fetchOne(db, sql: "SELECT * FROM users WHERE name = ?", arguments: [name]).map(member)
    }

    /// Throws `PermissionError` unless `actor` may take `action` (anyone may while no user is registered).
    public func authorize(_ actor: String, _ action: TeamAction) throws {
        try writer.read { db in try Self.authorize(db, actor, action) }
    }

    static func authorize(_ db: Database, _ actor: String, _ action: TeamAction) throws {
        guard try rolesEnforced(db) else { return }
        try FlywheelCore.authorize(actor, action, member: try member(db, actor), anyRegistered: true)
    }

    /// True once anyone is registered (and roles are enforced).
    public func rolesEnforced() throws -> Bool {
        try writer.read { db in try Self.rolesEnforced(db) }
    }

    static func rolesEnforced(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM users)") ?? false
    }

    /// Registers a user. The first user must be an admin and may be added by anyone; after that only admins add users.
    public func addTeamMember(name: String, role: TeamRole, adjudicator: Bool = false, by actor: String, now: Int64) throws {
        guard Self.usableName(name) else { throw TeamError.invalidName(name) }
        try writer.write { db in
            let any = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM users)") ?? false
            if any {
                try Self.authorize(db, actor, .manageUsers)
            } else if role != .admin {
                throw TeamError.firstUserMustBeAdmin(name)
            }
            guard try Self.member(db, name) == nil else { throw TeamError.userExists(name) }
            try db.execute(sql: "INSERT INTO users(name, role, adjudicator, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                           arguments: [name, role.rawValue, adjudicator, now, actor])
            try Self.appendAudit(db, actor: actor, action: "user_add", entity: "user", entityID: name, before: nil,
                                 after: Self.memberJSON(role, adjudicator), at: now)
        }
    }

    /// Changes a user's role (and adjudicator mark when given). Refuses to demote the last admin.
    @discardableResult
    public func setRole(name: String, role: TeamRole, adjudicator: Bool? = nil, by actor: String, now: Int64) throws -> TeamMember {
        try writer.write { db in
            try Self.authorize(db, actor, .manageUsers)
            guard let before = try Self.member(db, name) else { throw TeamError.noSuchUser(name) }
            if before.role == .admin && role != .admin {
                let admins = try Int.fetchOne(db, sql: "SELECT count(*) FROM users WHERE role = 'admin'") ?? 0
                if admins <= 1 { throw TeamError.lastAdmin(name) }
            }
            var after = before
            after.role = role
            after.adjudicator = adjudicator ?? before.adjudicator
            try db.execute(sql: "UPDATE users SET role = ?, adjudicator = ? WHERE name = ?", arguments: [role.rawValue, after.adjudicator, name])
            try Self.appendAudit(db, actor: actor, action: "user_role", entity: "user", entityID: name,
                                 before: Self.memberJSON(before.role, before.adjudicator), after: Self.memberJSON(role, after.adjudicator), at: now)
            return after
        }
    }

    static func memberJSON(_ role: TeamRole, _ adjudicator: Bool) -> String {
        "{\"role\":\(jsonQuoted(role.rawValue)),\"adjudicator\":\(adjudicator)}"
    }

    static func usableName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.unicodeScalars.allSatisfy { !$0.properties.isWhitespace && $0.value >= 0x21 && $0.value != 0x7F }
    }

    // MARK: settings

    public func teamSettings() throws -> TeamSettings {
        try writer.read { db in try Self.teamSettings(db) }
    }

    static func teamSettings(_ db: Database) throws -> TeamSettings {
        var s = TeamSettings()
        for row in try Row.fetchAll(db, sql: "SELECT key, value FROM settings") {
            let key: String = row[0], value: String = row[1]
            switch key {
            case "review.overlap": s.overlap = Int(value) ?? s.overlap
            case "review.reservation_minutes": s.reservationMinutes = Int(value) ?? s.reservationMinutes
            default: break
            }
        }
        return s
    }

    /// Sets one of `TeamSettings.keys` (admins only), audited.
    public func setTeamSetting(_ key: String, _ value: String, by actor: String, now: Int64) throws {
        guard let spec = TeamSettings.keys.first(where: { $0.key == key }) else { throw TeamError.unknownSetting(key) }
        guard let n = Int(value.trimmingCharacters(in: .whitespaces)), spec.range.contains(n) else {
            throw TeamError.invalidSetting(key: key, value: value, range: spec.range)
        }
        try writer.write { db in
            try Self.authorize(db, actor, .changeSettings)
            let before = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key])
            try db.execute(sql: "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           arguments: [key, String(n)])
            try Self.appendAudit(db, actor: actor, action: "setting", entity: "setting", entityID: key,
                                 before: before.map(jsonQuoted), after: jsonQuoted(String(n)), at: now)
        }
    }

    // MARK: audit

    /// Records a state change made outside the store's own guarded writes (a batch of seeded tasks, synthetic
    /// samples), after checking the actor may take `guarded`.
    public func recordAudit(actor: String, guarded: TeamAction?, action: String, entity: String, entityID: String,
                            before: String?, after: String?, note: String? = nil, now: Int64) throws {
        try writer.write { db in
            if let guarded { try Self.authorize(db, actor, guarded) }
            try Self.appendAudit(db, actor: actor, action: action, entity: entity, entityID: entityID, before: before, after: after, note: note, at: now)
        }
    }

    static func appendAudit(_ db: Database, actor: String, action: String, entity: String, entityID: String,
                            before: String?, after: String?, note: String? = nil, at: Int64) throws {
        try db.execute(sql: """
            INSERT INTO audit_log(at, actor, action, entity, entity_id, before, after, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [at, actor, action, entity, entityID, before, after, note])
    }

    /// The audit trail, newest first: sample reviews and every other state change, filtered. With a `viewer`,
    /// votes on samples still waiting for more decisions are shown only to those who voted on them or may
    /// adjudicate: others see "vote" and no verdict, as in the review queue.
    public func auditTrail(_ filter: AuditFilter, limit: Int, viewer: String? = nil) throws -> [AuditEntry] {
        let entries = try unmaskedAuditTrail(filter, limit: limit)
        guard let viewer else { return entries }
        return try writer.read { db in
            if try Self.member(db, viewer)?.may(.adjudicate) == true { return entries }
            return try entries.map { e in
                guard e.entity == "sample", ["approve", "reject", "fix", "fix_tags"].contains(e.action), e.note?.contains(#""outcome":"waiting""#) == true,
                      let id = Int64(e.entityID) else { return e }
                let state = try String.fetchOne(db, sql: "SELECT state FROM training_samples WHERE id = ?", arguments: [id])
                guard let state, SampleState.isWaiting(state), !(try Self.hasVoted(db, sampleID: id, reviewer: viewer)) else { return e }
                var masked = e
                masked.action = "vote"
                masked.note = "hidden until you decide this sample"
                return masked
            }
        }
    }

    func unmaskedAuditTrail(_ filter: AuditFilter, limit: Int) throws -> [AuditEntry] {
        var clauses: [String] = [], args: [any DatabaseValueConvertible] = []
        if let v = filter.actor { clauses.append("actor = ?"); args.append(v) }
        if let v = filter.action { clauses.append("action = ?"); args.append(v) }
        if let v = filter.entity { clauses.append("entity = ?"); args.append(v) }
        if let v = filter.entityID { clauses.append("entity_id = ?"); args.append(v) }
        if let v = filter.since { clauses.append("at >= ?"); args.append(v) }
        if let v = filter.until { clauses.append("at < ?"); args.append(v) }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        args.append(limit)
        return try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM (
                    SELECT 'r' || id AS ref, id AS n, 0 AS kind, at, reviewer AS actor, action, 'sample' AS entity,
                           CAST(sample_id AS TEXT) AS entity_id, before, after, detail AS note FROM review_actions
                    UNION ALL
                    SELECT 'a' || id, id, 1, at, actor, action, entity, entity_id, before, after, note FROM audit_log
                ) \(whereSQL) ORDER BY at DESC, kind DESC, n DESC LIMIT ?
                """, arguments: StatementArguments(args)).map { r in
                AuditEntry(ref: r["ref"], at: r["at"], actor: r["actor"], action: r["action"], entity: r["entity"],
                           entityID: r["entity_id"], before: r["before"], after: r["after"], note: r["note"])
            }
        }
    }
}

extension Store {
    /// Inter-reviewer agreement over every independent decision: the labels are the votes (approve, reject,
    /// fix), each sample's category its error category, and the final label its decided state.
    public func agreementReport() throws -> AgreementReport {
        try writer.read { db in
            var decisions: [RaterDecision] = []
            var finals: [Int64: String] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT d.sample_id, d.reviewer, d.verdict, s.error_category, s.state FROM sample_decisions d
                JOIN training_samples s ON s.id = d.sample_id ORDER BY d.at, d.sample_id, d.reviewer
                """)
            while let r = try rows.next() {
                let id: Int64 = r[0]
                decisions.append(RaterDecision(item: id, rater: r[1], label: r[2], category: r[3]))
                switch r[4] as String {
                case SampleState.approved.rawValue: finals[id] = Vote.Verdict.approve.rawValue
                case SampleState.fixed.rawValue: finals[id] = Vote.Verdict.fix.rawValue
                case SampleState.rejected.rawValue: finals[id] = Vote.Verdict.reject.rawValue
                default: break
                }
            }
            return Agreement.report(decisions, finals: finals)
        }
    }
}

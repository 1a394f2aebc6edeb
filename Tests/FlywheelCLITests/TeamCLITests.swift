import FlywheelCore
import FlywheelStore
import Foundation
import Testing

// flywheel user, settings, audit, review, disputes, adjudicate, reservations, and the role check in front of every
// guarded command, end to end through the binary on temporary database files.

/// Local time is UTC and no LLM comes from the environment the tests run in.
private let env = ["TZ": "UTC", "FLYWHEEL_LLM_URL": "", "OPENAI_BASE_URL": "", "FLYWHEEL_LLM_MODEL": "", "FLYWHEEL_LLM_API_KEY": "", "OPENAI_API_KEY": ""]

@discardableResult
private func run(_ args: [String], _ db: String, as user: String? = nil) throws -> Output {
    try flywheel(args + ["--db", db] + (user.map { ["--user", $0] } ?? []), env: env)
}

private func sample(_ requestID: String, answer: String? = "78") -> NewSample {
    NewSample(source: .userCorrection, quality: .high, state: answer == nil ? .needsAnswer : .pending, taskType: "vqa", question: "总金额是多少? (\(requestID))",
              wrongAnswer: "87", correctAnswer: answer, category: .numberMisread, sessionID: "s-\(requestID)", requestID: requestID,
              questionTurnID: nil, answerTurnID: nil, imageID: nil, evidence: nil, extraction: nil, model: nil, promptVersion: nil)
}

/// Sample ids by request id.
private func sampleIDs(_ store: Store) throws -> [String: Int64] {
    Dictionary(uniqueKeysWithValues: try store.samples(limit: 10_000).map { ($0.requestID ?? "", $0.id) })
}

private let t0: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z

/// A database with one user named after each role ("annotator", "reviewer", "pm", "admin"), a second reviewer
/// "r2", an annotator "target" whose role gets changed, an adjudicator-marked reviewer "judge", a prompt "base",
/// `pending` pending samples p0… and `disputed` disputed samples d0…, overlap back at 1.
private struct TeamFixture {
    let dir: String
    let db: String
    let pending: [Int64]
    let disputed: [Int64]
    /// Samples held because their end user was flagged (h0…): two per try, for release and for discard.
    let held: [Int64]

    init(pending: Int = 0, disputed: Int = 0) throws {
        dir = tempDir()
        db = dir + "/db.sqlite"
        let store = try Store.open(path: db)
        try store.addTeamMember(name: "admin", role: .admin, by: "admin", now: t0)
        for (name, role, adj) in [("annotator", TeamRole.annotator, false), ("reviewer", .reviewer, false), ("pm", .pm, false),
                                  ("r2", .reviewer, false), ("target", .annotator, false), ("judge", .reviewer, true)] {
            try store.addTeamMember(name: name, role: role, adjudicator: adj, by: "admin", now: t0)
        }
        try store.addPromptVersion(name: "base", template: "Answer the question about the image.", parent: nil, author: nil, taskType: "vqa", now: t0)
        _ = try store.insertSamples((0..<pending).map { sample("p\($0)") } + (0..<disputed).map { sample("d\($0)") }, now: t0)
        _ = try store.insertSamples((0..<2 * pending).map { var s = sample("h\($0)"); s.state = .held; return s }, now: t0)
        let ids = try sampleIDs(store)
        self.held = (0..<2 * pending).map { ids["h\($0)"]! }
        self.pending = (0..<pending).map { ids["p\($0)"]! }
        self.disputed = (0..<disputed).map { ids["d\($0)"]! }
        try store.setTeamSetting("review.overlap", "2", by: "admin", now: t0)
        for id in self.disputed {
            _ = try store.review(sampleID: id, decision: .approve, reviewer: "reviewer", now: t0)
            _ = try store.review(sampleID: id, decision: .reject, reviewer: "r2", now: t0)
        }
        try store.setTeamSetting("review.overlap", "1", by: "admin", now: t0)
        // End user u-end, known to the trust table, for overrides.
        let events = #"{"type":"turn","event_id":"e-t1","session_id":"e","user_id":"u-end","turn_index":0,"role":"assistant","content":"12","request_id":"e-r","ts":"2026-01-01T00:00:01Z"}"#
            + "\n" + #"{"type":"feedback","event_id":"e-f","session_id":"e","request_id":"e-r","user_id":"u-end","kind":"thumbs_up","ts":"2026-01-01T00:00:02Z"}"#
        try (events + "\n").write(toFile: dir + "/end-user.jsonl", atomically: true, encoding: .utf8)
        _ = try flywheel(["ingest", dir + "/end-user.jsonl", "--db", db], env: env)
        try store.refreshTrust(actor: "test", now: t0)
        try FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
        try (Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]) + Data("IHDR".utf8) + Data([0, 0, 0, 4, 0, 0, 0, 3, 8, 2, 0, 0, 0, 7]))
            .write(to: URL(fileURLWithPath: dir + "/images/a.png"))
        try "A better prompt.".write(toFile: dir + "/prompt.txt", atomically: true, encoding: .utf8)
    }
}

/// A guarded CLI action: the TeamAction it needs and its arguments for the i-th try (so each try has its own
/// sample, name or file).
private struct Guarded {
    var action: TeamAction
    var args: (_ f: TeamFixture, _ i: Int) -> [String]
    /// What an allowed run ends with: 0, or for optimize without an LLM the LLM error (the role check comes first).
    var allowedStatus: Int32 = 0
}

private let guardedCommands: [String: Guarded] = [
    "prompt add": Guarded(action: .managePrompts) { f, i in ["prompt", "add", "cand-\(i)", "--file", f.dir + "/prompt.txt", "--parent", "base"] },
    "prompt activate": Guarded(action: .managePrompts) { _, _ in ["prompt", "activate", "base"] },
    "optimize": Guarded(action: .optimize, args: { _, _ in ["optimize"] }, allowedStatus: 1),
    "export": Guarded(action: .export) { f, i in ["export", "--format", "csv", "--out", f.dir + "/out-\(i).csv"] },
    "augment": Guarded(action: .augment) { _, _ in ["augment"] },
    "seed-images": Guarded(action: .queueAnnotation) { f, _ in ["seed-images", f.dir + "/images"] },
    "annotate-queue": Guarded(action: .queueAnnotation) { _, _ in ["annotate-queue", "--from-turns"] },
    "settings set": Guarded(action: .changeSettings) { _, i in ["settings", "set", "review.reservation_minutes", String(11 + i)] },
    "user add": Guarded(action: .manageUsers) { _, i in ["user", "add", "new-\(i)", "--role", "annotator"] },
    "user role": Guarded(action: .manageUsers) { _, i in ["user", "role", "target", i % 2 == 0 ? "reviewer" : "annotator"] },
    "review": Guarded(action: .review) { f, i in ["review", String(f.pending[i]), "approve"] },
    "adjudicate": Guarded(action: .adjudicate) { f, i in ["adjudicate", String(f.disputed[i]), "reject"] },
    "users release": Guarded(action: .releaseHeld) { f, i in ["users", "release", String(f.held[i])] },
    "users discard": Guarded(action: .releaseHeld) { f, i in ["users", "discard", String(f.held[f.held.count / 2 + i])] },
    "users override": Guarded(action: .moderateUsers) { _, i in ["users", "override", "u-end", i % 2 == 0 ? "trusted" : "rules"] },
]

/// Guarded actions no CLI command takes: annotating is the console's.
private let notOnTheCLI: Set<TeamAction> = [.annotate]

@Suite struct TeamCLITests {
    @Test func everyGuardedCommandRefusesTheRolesTheTableRefuses() throws {
        #expect(Set(guardedCommands.values.map(\.action)).union(notOnTheCLI) == Set(TeamAction.allCases))
        let users = TeamRole.allCases.map(\.rawValue) + ["ghost"]
        let f = try TeamFixture(pending: users.count, disputed: users.count)
        for (name, cmd) in guardedCommands.sorted(by: { $0.key < $1.key }) {
            for (i, user) in users.enumerated() {
                let r = try run(cmd.args(f, i), f.db, as: user)
                let allowed = TeamRole(rawValue: user).map { cmd.action.allowedRoles.contains($0) } ?? false
                if allowed {
                    #expect(r.status == cmd.allowedStatus, "\(name) as \(user): \(r.stderr)")
                    #expect(!r.stderr.contains("may not"), "\(name) as \(user): \(r.stderr)")
                } else {
                    #expect(r.status == 77, "\(name) as \(user) should be refused: \(r.status) \(r.stdout) \(r.stderr)")
                    #expect(r.stderr.hasPrefix("flywheel: ") && r.stderr.contains("may not \(cmd.action.phrase)"), "\(name) as \(user): \(r.stderr)")
                    if user == "ghost" {
                        #expect(r.stderr.contains("'ghost' is not a registered user") && r.stderr.contains("flywheel user add ghost"))
                    } else {
                        for role in cmd.action.allowedRoles { #expect(r.stderr.contains(role.rawValue), "\(name): \(r.stderr)") }
                    }
                }
            }
        }
        // An allowed optimize got past the role check and stopped at the missing LLM; a refused one never got there.
        let opt = try run(["optimize"], f.db, as: "pm")
        #expect(opt.stderr.contains("no LLM endpoint configured"))
        #expect(!(try run(["optimize"], f.db, as: "reviewer")).stderr.contains("LLM"))
        // The adjudicator mark lets a reviewer adjudicate.
        #expect(try run(["adjudicate", String(f.disputed[users.count - 1]), "reject"], f.db, as: "judge").status == 0)
    }

    @Test func nothingIsGuardedWhileNoUserIsRegistered() throws {
        let dir = tempDir()
        let db = dir + "/db.sqlite"
        let store = try Store.open(path: db)
        _ = try store.insertSamples([sample("p0")], now: t0)
        let id = try sampleIDs(store)["p0"]!
        try "Answer.".write(toFile: dir + "/p.txt", atomically: true, encoding: .utf8)
        for args in [["prompt", "add", "vqa-v1", "--file", dir + "/p.txt"], ["prompt", "activate", "vqa-v1"], ["settings", "set", "review.overlap", "1"],
                     ["review", String(id), "approve"], ["export", "--format", "csv", "--out", dir + "/o.csv"], ["augment"],
                     ["annotate-queue", "--from-turns"], ["seed-images", dir]] {
            let r = try run(args, db, as: "anyone")
            #expect(r.status == 0, "\(args): \(r.stderr)")
        }
        #expect(try run(["user", "list"], db).stdout.contains("roles are not enforced"))
        // Still audited, under the name given.
        let audit = try run(["audit", "--actor", "anyone", "--json"], db).stdout.split(separator: "\n")
        #expect(Set(audit.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }.compactMap { $0["action"] as? String })
                    .isSuperset(of: ["prompt_add", "prompt_activate", "setting", "approve", "augment"]))
    }

    @Test func usersAddListAndRole() throws {
        let db = tempDir() + "/db.sqlite"
        let first = try run(["user", "add", "ann", "--role", "annotator"], db, as: "ann")
        #expect(first.status == 1 && first.stderr.contains("the first user must be an admin"))
        let boss = try run(["user", "add", "boss", "--role", "admin"], db, as: "boss")
        #expect(boss.status == 0, "\(boss.stderr)")
        #expect(boss.stdout == "added boss as admin\nroles are now enforced: every guarded action needs a registered user (see flywheel user roles)\n")
        #expect(try run(["user", "add", "ann", "--role", "annotator"], db, as: "boss").stdout == "added ann as annotator\n")
        let refused = try run(["user", "add", "eve", "--role", "admin"], db, as: "ann")
        #expect(refused.status == 77)
        #expect(refused.stderr == "flywheel: ann is an annotator and may not manage users: that needs the admin role\n")
        #expect(try run(["user", "add", "ann", "--role", "pm"], db, as: "boss").stderr.contains("already exists"))
        #expect(try run(["user", "add", "bad name", "--role", "pm"], db, as: "boss").status == 1)

        let badRole = try run(["user", "add", "x", "--role", "wizard"], db, as: "boss")
        #expect(badRole.status == 64)
        for role in TeamRole.allCases { #expect(badRole.stderr.contains(role.rawValue)) }
        #expect(try run(["user", "role", "ann", "wizard"], db, as: "boss").status == 64)

        let role = try run(["user", "role", "ann", "reviewer", "--adjudicator"], db, as: "boss")
        #expect(role.stdout == "ann: annotator -> reviewer (adjudicator)\n")
        #expect(try run(["user", "role", "ann", "reviewer", "--no-adjudicator"], db, as: "boss").stdout == "ann: reviewer (adjudicator) -> reviewer\n")
        #expect(try run(["user", "role", "ann", "reviewer"], db, as: "boss").stdout == "ann stays reviewer\n")
        let last = try run(["user", "role", "boss", "pm"], db, as: "boss")
        #expect(last.status == 1 && last.stderr == "flywheel: 'boss' is the last admin: make someone else admin first\n")
        #expect(try run(["user", "role", "nobody", "pm"], db, as: "boss").stderr.contains("no user 'nobody'"))

        let list = try run(["user", "list"], db)
        let lines = list.stdout.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("name") && lines[2].hasPrefix("ann ") && lines[3].hasPrefix("boss "))
        #expect(lines[2].contains("reviewer") && lines[3].contains("admin"))
        #expect(lines.last == "roles are enforced: 2 users; guarded actions need a registered user whose role allows them")
        let json = try run(["user", "list", "--json"], db).stdout.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
        #expect(json.map { $0["name"] as? String } == ["ann", "boss"])
        #expect(json[0]["role"] as? String == "reviewer" && json[0]["adjudicator"] as? Bool == false && json[0]["created_by"] as? String == "boss")
        #expect((json[1]["created_at"] as? String)?.hasSuffix("Z") == true)
    }

    @Test func rolesMatrixIsTheTable() throws {
        let out = try flywheel(["user", "roles"]).stdout
        let rows = out.split(separator: "\n").map(String.init)
        #expect(rows[0].split(separator: " ").prefix(5) == ["action", "annotator", "reviewer", "pm", "admin"])
        for action in TeamAction.allCases {
            let row = try #require(rows.first { $0.hasPrefix(action.rawValue + " ") })
            let cells = row.split(separator: " ").dropFirst().prefix(4).map(String.init)
            #expect(cells == TeamRole.allCases.map { role in
                action.allowedRoles.contains(role) ? "yes" : (action == .adjudicate && role == .reviewer ? "marked" : "-")
            }, "\(row)")
        }
        #expect(try flywheel(["user", "--help"]).stdout.contains("adjudicate"))
    }

    @Test func settingsShowAndValidate() throws {
        let db = tempDir() + "/db.sqlite"
        try run(["user", "add", "boss", "--role", "admin"], db, as: "boss")
        let zero = try run(["settings", "set", "review.overlap", "0"], db, as: "boss")
        #expect(zero.status == 1 && zero.stderr == "flywheel: review.overlap must be a whole number from 1 to 10, not '0'\n")
        #expect(try run(["settings", "set", "review.colour", "3"], db, as: "boss").stderr.contains("unknown setting 'review.colour'"))
        #expect(try run(["settings", "set", "review.overlap", "3"], db, as: "boss").stdout == "review.overlap: 1 -> 3\n")
        for args in [["settings"], ["settings", "show"]] {
            let shown = try run(args, db)
            #expect(shown.status == 0)
            let rows = shown.stdout.split(separator: "\n").map(String.init)
            let overlap = try #require(rows.first { $0.hasPrefix("review.overlap ") })
            #expect(overlap.split(separator: " ").prefix(4) == ["review.overlap", "3", "1", "1-10"])
            #expect(overlap.contains("independent decisions"))
            #expect(rows.contains { $0.hasPrefix("review.reservation_minutes ") && $0.contains(" 10 ") })
        }
        #expect(try Store.open(path: db).teamSettings().overlap == 3)
    }

    @Test func auditListsAndFiltersEveryChange() throws {
        let f = try TeamFixture(pending: 2)
        let store = try Store.open(path: f.db)
        try store.recordAudit(actor: "admin", guarded: nil, action: "old_thing", entity: "setting", entityID: "x", before: nil, after: "{\"n\":1}",
                              note: "long ago", now: 1_577_836_800_000)  // 2020-01-01
        #expect(try run(["user", "role", "target", "pm"], f.db, as: "admin").status == 0)
        #expect(try run(["settings", "set", "review.reservation_minutes", "15"], f.db, as: "admin").status == 0)
        #expect(try run(["review", String(f.pending[0]), "fix", "--answer", "79"], f.db, as: "reviewer").status == 0)
        #expect(try run(["review", String(f.pending[1]), "approve"], f.db, as: "r2").status == 0)
        // An undo is a new entry, not a deletion.
        let fix = try #require(try store.reviewActions(sampleID: f.pending[0]).last)
        _ = try store.undo(fix, reviewer: "reviewer", now: nowMs())

        func lines(_ args: [String]) throws -> [[String: Any]] {
            let r = try run(["audit", "--json"] + args, f.db)
            #expect(r.status == 0, "\(r.stderr)")
            return try r.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
        }
        let all = try lines(["--limit", "100"])
        // 7 users and 2 overlap changes from the fixture, the old entry, a role, a setting, two decisions and the undo.
        #expect(all.count == 15)
        #expect(all.first?["action"] as? String == "undo")
        #expect(all.last?["action"] as? String == "old_thing")
        for e in all {
            #expect(e["ref"] is String && e["actor"] is String && e["entity_id"] is String)
            #expect((e["at"] as? String)?.hasSuffix("Z") == true)
        }

        let role = try lines(["--action", "user_role"])
        #expect(role.count == 1)
        #expect((role[0]["before"] as? [String: Any])?["role"] as? String == "annotator")
        #expect((role[0]["after"] as? [String: Any])?["role"] as? String == "pm")
        #expect(role[0]["actor"] as? String == "admin" && role[0]["entity"] as? String == "user" && role[0]["entity_id"] as? String == "target")

        let setting = try lines(["--entity", "setting", "--id", "review.reservation_minutes"])
        #expect(setting.count == 1 && setting[0]["after"] as? String == "15" && setting[0]["before"] is NSNull)

        let sample = try lines(["--entity", "sample", "--id", String(f.pending[0])])
        #expect(sample.map { $0["action"] as? String } == ["undo", "fix"])
        let after = try #require(sample[1]["after"] as? [String: Any])
        #expect(after["state"] as? String == "fixed" && after["correct_answer"] as? String == "79")
        #expect((sample[1]["before"] as? [String: Any])?["state"] as? String == "pending")
        #expect((sample[1]["ref"] as? String)?.hasPrefix("r") == true)

        #expect(try lines(["--actor", "r2"]).map { $0["action"] as? String } == ["approve"])
        #expect(try lines(["--since", "2021-01-01", "--limit", "100"]).count == all.count - 1)
        #expect(try lines(["--until", "2020-01-01"]).map { $0["action"] as? String } == ["old_thing"])
        #expect(try lines(["--limit", "2"]).count == 2)
        #expect(try lines(["--actor", "nobody"]).isEmpty)

        let table = try run(["audit", "--entity", "sample", "--id", String(f.pending[0])], f.db)
        let rows = table.stdout.split(separator: "\n").map(String.init)
        #expect(rows.count == 4)
        #expect(rows[3].contains("reviewer") && rows[3].contains("fix") && rows[3].contains("sample:\(f.pending[0])"))
        #expect(rows[3].contains("state: pending -> fixed") && rows[3].contains("verdict=fix correct_answer=79 votes=1 overlap=1 outcome=final"))
        let old = try run(["audit", "--action", "old_thing"], f.db).stdout
        #expect(old.contains("2020-01-01 00:00:00") && old.contains("setting:x") && old.contains("-> n=1") && old.contains("long ago"))
        #expect(try run(["audit", "--since", "yesterday"], f.db).status == 64)
        #expect(try run(["audit", "--actor", "nobody"], f.db).stdout == "No audit entries match.\n")
    }

    @Test func disagreementGoesToAnAdjudicator() throws {
        let f = try TeamFixture(pending: 3)
        let (a, b, c) = (f.pending[0], f.pending[1], f.pending[2])
        #expect(try run(["settings", "set", "review.overlap", "2"], f.db, as: "admin").status == 0)
        let first = try run(["review", String(a), "approve"], f.db, as: "reviewer")
        #expect(first.stdout == "sample \(a): reviewer votes approve; 1 of 2 decisions, waiting for other reviewers\n")
        #expect(try run(["review", String(a), "reject"], f.db, as: "reviewer").stderr == "flywheel: you already decided sample \(a); it waits for other reviewers\n")
        let second = try run(["review", String(a), "fix", "--answer", "79"], f.db, as: "r2")
        #expect(second.stdout.hasPrefix("sample \(a): r2 votes fix; the votes disagree, so it is disputed"))
        // Two agreeing votes make a sample final.
        try run(["review", String(b), "reject"], f.db, as: "reviewer")
        #expect(try run(["review", String(b), "reject"], f.db, as: "r2").stdout == "sample \(b) is now rejected\n")
        try run(["review", String(c), "approve"], f.db, as: "reviewer")
        try run(["review", String(c), "reject"], f.db, as: "r2")

        let disputes = try run(["disputes"], f.db, as: "reviewer")
        let rows = disputes.stdout.split(separator: "\n").map(String.init)
        #expect(rows.count == 4)
        #expect(rows[2].hasPrefix("\(a) ") && rows[2].contains("reviewer: approve; r2: fix \"79\""))
        #expect(rows[3].hasPrefix("\(c) ") && rows[3].contains("reviewer: approve; r2: reject"))
        #expect(try run(["disputes", "--limit", "1"], f.db).stdout.split(separator: "\n").count == 3)
        #expect(try run(["samples", "--state", "disputed", "--format", "jsonl"], f.db).stdout.split(separator: "\n").count == 2)

        let refused = try run(["adjudicate", String(a), "fix", "--answer", "79"], f.db, as: "reviewer")
        #expect(refused.status == 77)
        #expect(refused.stderr.contains("reviewer is a reviewer and may not adjudicate disputed samples") && refused.stderr.contains("--adjudicator"))
        #expect(try run(["adjudicate", String(a), "fix"], f.db, as: "judge").status == 64)
        #expect(try run(["adjudicate", String(a), "approve", "--answer", "1"], f.db, as: "judge").status == 64)
        #expect(try run(["adjudicate", String(a), "fix", "--answer", "79"], f.db, as: "judge").stdout == "sample \(a) is now fixed (answer: 79)\n")
        #expect(try run(["adjudicate", String(a), "reject"], f.db, as: "admin").stderr.contains("is fixed, not disputed"))
        #expect(try run(["adjudicate", String(c), "reject"], f.db, as: "admin").stdout == "sample \(c) is now rejected\n")
        #expect(try run(["disputes"], f.db).stdout == "No disputed samples.\n")
        let audit = try run(["audit", "--action", "adjudicate", "--json"], f.db).stdout.split(separator: "\n")
        #expect(audit.count == 2)
        #expect(try run(["review", "99999", "approve"], f.db, as: "reviewer").stderr == "flywheel: sample 99999 does not exist\n")
    }

    @Test func reservationsAreListedAndRespected() throws {
        let f = try TeamFixture(pending: 1)
        let store = try Store.open(path: f.db)
        let id = f.pending[0]
        #expect(try run(["reservations"], f.db).stdout == "No live reservations.\n")
        guard case .reserved = try store.reserve(sampleID: id, reviewer: "reviewer", now: nowMs()) else {
            Issue.record("not reserved")
            return
        }
        let list = try run(["reservations"], f.db).stdout.split(separator: "\n").map(String.init)
        #expect(list.count == 3 && list[2].hasPrefix("\(id) ") && list[2].contains("reviewer") && list[2].hasSuffix("s"))
        let held = try run(["review", String(id), "approve"], f.db, as: "r2")
        #expect(held.status == 1 && held.stderr.contains("sample \(id) is reserved by reviewer until"))
        #expect(try run(["review", String(id), "approve"], f.db, as: "reviewer").stdout == "sample \(id) is now approved (answer: 78)\n")
        #expect(try run(["reservations"], f.db).stdout == "No live reservations.\n")
    }

    @Test func batchCommandsAreAuditedAsTheirActor() throws {
        let f = try TeamFixture(pending: 1)
        try run(["review", String(f.pending[0]), "approve"], f.db, as: "reviewer")
        #expect(try run(["seed-images", f.dir + "/images"], f.db, as: "pm").status == 0)
        #expect(try run(["augment"], f.db, as: "pm").status == 0)
        #expect(try run(["prompt", "add", "v2", "--file", f.dir + "/prompt.txt", "--parent", "base"], f.db, as: "pm").status == 0)
        #expect(try run(["prompt", "activate", "v2"], f.db, as: "admin").status == 0)
        let rows = try run(["audit", "--json", "--limit", "4"], f.db).stdout.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
        #expect(rows.map { $0["action"] as? String } == ["prompt_activate", "prompt_add", "augment", "seed_images"])
        #expect(rows.map { $0["actor"] as? String } == ["admin", "pm", "pm", "pm"])
        #expect((rows[2]["after"] as? [String: Any])?["created"] as? Int == 2)
        #expect((rows[3]["after"] as? [String: Any])?["new_tasks"] as? Int == 1)
        #expect(try Store.open(path: f.db).promptVersion(named: "v2")?.author == "pm")
        // Nothing new: no entry.
        #expect(try run(["augment"], f.db, as: "pm").stdout.hasPrefix("0 synthetic samples"))
        #expect(try run(["audit", "--action", "augment", "--json"], f.db).stdout.split(separator: "\n").count == 1)
    }

    @Test func consoleRefusesAnUnregisteredUser() throws {
        let f = try TeamFixture()
        let ghost = try flywheel(["console", "--headless", "--size", "80x10", "--db", f.db, "--user", "ghost"], env: env)
        #expect(ghost.status == 77)
        #expect(ghost.stderr.hasPrefix("flywheel: 'ghost' is not a registered user") && ghost.stderr.contains("flywheel user add ghost --role"))
        let fromEnv = try flywheel(["console", "--headless", "--size", "80x10", "--db", f.db], env: env.merging(["USER": "nobody"]) { $1 })
        #expect(fromEnv.status == 77 && fromEnv.stderr.contains("'nobody'"))
        let known = try flywheel(["console", "--headless", "--size", "80x10", "--db", f.db, "--user", "reviewer"], env: env)
        #expect(known.status == 0, "\(known.stderr)")
        // Without registered users anyone opens it.
        #expect(try flywheel(["console", "--headless", "--size", "80x10", "--db", tempDir() + "/db.sqlite", "--user", "ghost"], env: env).status == 0)
    }
}

private func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

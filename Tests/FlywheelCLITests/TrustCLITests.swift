import Foundation
import FlywheelStore
import Testing

// The end-user trust loop through the binary: the bundled burst user is flagged by analysis, their feedback is
// held, `flywheel users` says why, a reviewer releases it, an admin overrides the flag; `flywheel agreement`
// on overlapping reviews.

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite struct TrustCLITests {
    @Test func burstUserIsFlaggedHeldExplainedAndReleased() throws {
        let dir = tempDir()
        let db = dir + "/t.sqlite"
        let burst = root.appendingPathComponent("sample-data/team/feedback-burst.jsonl").path
        let week = root.appendingPathComponent("sample-data/events/chat-2026-05-week1.jsonl").path
        #expect(try flywheel(["ingest", "--db", db, week, burst]).status == 0)
        let analyze = try flywheel(["analyze", "--db", db, "--no-llm"])
        #expect(analyze.status == 0)
        #expect(analyze.stdout.contains("end users: u-burst (flagged: new feedback is held); see flywheel users"))
        #expect(analyze.stdout.contains("held 30"))

        let users = try flywheel(["users", "--db", db, "--flagged"])
        let lines = users.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[2].hasPrefix("u-burst             30        0         0       0.50   0.00    30    FLAGGED "))
        #expect(lines[2].contains("30 of 30 feedback (100%) are thumbs-down (threshold 95% of at least 20)"))
        #expect(lines[2].contains("30 feedback within 60 s"))
        let json = try flywheel(["users", "--db", db, "--json"]).stdout.split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let burstRow = try #require(json.first)
        #expect(burstRow["user"] as? String == "u-burst" && burstRow["flagged"] as? Bool == true && burstRow["held"] as? Int == 30)
        #expect((burstRow["flags"] as? [[String: Any]])?.map { $0["kind"] as? String } == ["mostly_thumbs_down", "burst"])
        // Calm users are not flagged and keep the neutral weight.
        #expect(json.dropFirst().allSatisfy { $0["flagged"] as? Bool == false && $0["weight"] as? Double == 0.5 })

        // Held samples wait outside the review queue.
        let store = try Store.open(path: db)
        let queueBefore = try store.reviewQueueCount()
        let held = try store.heldSamples(limit: 100)
        #expect(held.count == 30 && held.allSatisfy { $0.user == "u-burst" })
        let release = try flywheel(["users", "release", String(held[0].sample.id), "--db", db, "--user", "rita"])
        #expect(release.status == 0 && release.stdout == "sample \(held[0].sample.id): held -> needs_answer\n")
        #expect(try store.reviewQueueCount() == queueBefore + 1)
        #expect(try flywheel(["users", "discard", "--from", "u-burst", "--db", db, "--user", "rita"]).stdout.split(separator: "\n").count == 29)
        #expect(try store.heldSamples(limit: 100).isEmpty)
        let again = try flywheel(["users", "release", String(held[0].sample.id), "--db", db, "--user", "rita"])
        #expect(again.status == 1 && again.stderr.contains("is needs_answer, not held"))

        // An admin's override: trusted stays trusted through the next analysis.
        #expect(try flywheel(["users", "override", "u-burst", "trusted", "--reason", "QA account", "--db", db, "--user", "ops"]).status == 0)
        #expect(try flywheel(["analyze", "--db", db, "--no-llm"]).stdout.contains("end users:") == false)
        let after = try flywheel(["users", "--db", db, "--flagged"])
        #expect(after.stdout == "No end user is flagged.\n")
        // Everything is in the audit trail.
        let audit = try flywheel(["audit", "--db", db, "--json", "--limit", "200"]).stdout
        for action in ["end_user_flag", "release_held", "discard_held", "end_user_override", "analysis_run"] {
            #expect(audit.contains("\"action\":\"\(action)\""), "\(action) missing from the audit")
        }
        // One analysis_run row for the run that created samples; the later runs created nothing and wrote none.
        let runs = try flywheel(["audit", "--db", db, "--json", "--action", "analysis_run"]).stdout.split(separator: "\n")
        #expect(runs.count == 1 && runs[0].contains("\"new_samples\":") && runs[0].contains("\"trust_changes\":[\"u-burst\"]"))
    }

    @Test func agreementReportsOverlappingReviews() throws {
        let dir = tempDir()
        let db = dir + "/a.sqlite"
        try ConcurrencyTests.events(sessions: 6, prefix: "g").write(to: URL(fileURLWithPath: dir + "/e.jsonl"))
        #expect(try flywheel(["ingest", "--db", db, dir + "/e.jsonl"]).status == 0)
        #expect(try flywheel(["analyze", "--db", db, "--no-llm"]).status == 0)
        let empty = try flywheel(["agreement", "--db", db])
        #expect(empty.stdout.hasPrefix("No sample has two independent decisions yet"))
        #expect(try flywheel(["settings", "set", "review.overlap", "2", "--db", db]).status == 0)
        let ids = try Store.open(path: db).samples(limit: 10).map(\.id).sorted()
        try #require(ids.count == 6)
        // alice and bob agree on 4 samples (3 approve, 1 reject) and disagree on 2.
        let votes: [(String, String)] = [("approve", "approve"), ("approve", "approve"), ("approve", "approve"), ("reject", "reject"),
                                         ("approve", "reject"), ("reject", "approve")]
        for (id, (a, b)) in zip(ids, votes) {
            #expect(try flywheel(["review", String(id), a, "--db", db, "--user", "alice"]).status == 0)
            #expect(try flywheel(["review", String(id), b, "--db", db, "--user", "bob"]).status == 0)
        }
        let out = try flywheel(["agreement", "--db", db, "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let overall = try #require(report["overall"] as? [String: Any])
        #expect(overall["items"] as? Int == 6 && overall["decisions"] as? Int == 12 && overall["raters"] as? Int == 2)
        // Two raters, 4/6 agreeing; marginals alice 4 approve/2 reject, bob the same: p_e = (4·4 + 2·2)/36 = 5/9,
        // Cohen's kappa = (2/3 − 5/9)/(1 − 5/9) = 0.25.
        let pair = try #require((report["pairs"] as? [[String: Any]])?.first)
        #expect(abs((pair["cohen_kappa"] as? Double ?? 0) - 0.25) < 1e-6)
        #expect(abs((pair["observed"] as? Double ?? 0) - 2.0 / 3.0) < 1e-6)
        let table = try flywheel(["agreement", "--db", db]).stdout
        #expect(table.hasPrefix("Overall: 6 items, 12 decisions, 2 reviewers; labels approve, reject\n"))
        #expect(table.contains("alice ~ bob"))
        #expect(try flywheel(["disputes", "--db", db]).stdout.contains("alice"))
    }
}

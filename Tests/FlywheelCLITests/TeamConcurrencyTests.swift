import Dispatch
import Foundation
import FlywheelStore
import Testing

/// Several reviewers' processes racing on one database file: reservations and overlap slots must hold across
/// processes, not just threads.
@Suite(.serialized) struct TeamConcurrencyTests {
    /// A database with `sessions` analysed sessions, each giving one pending implicit-correction sample.
    static func database(sessions: Int) throws -> (dir: String, db: String) {
        let dir = tempDir()
        let db = dir + "/team.sqlite"
        try ConcurrencyTests.events(sessions: sessions, prefix: "t").write(to: URL(fileURLWithPath: dir + "/events.jsonl"))
        #expect(try flywheel(["ingest", "--db", db, dir + "/events.jsonl"]).status == 0)
        #expect(try flywheel(["analyze", "--db", db, "--no-llm"]).status == 0)
        return (dir, db)
    }

    static func runAll(_ jobs: [[String]]) -> [Output] {
        let lock = NSLock()
        var results = [Output?](repeating: nil, count: jobs.count)
        DispatchQueue.concurrentPerform(iterations: jobs.count) { i in
            let out = (try? flywheel(jobs[i])) ?? Output(status: -1, stdout: "", stderr: "could not start", stdoutBytes: Data())
            lock.withLock { results[i] = out }
        }
        return results.map { $0! }
    }

    /// Six consoles open the review queue at once and approve what they hold. Every one of them must approve a
    /// different sample: without reservations several would pick the same first sample and all but one fail.
    @Test(.timeLimit(.minutes(3))) func racingConsolesNeverShareASample() throws {
        let (_, db) = try Self.database(sessions: 60)
        var approvedBy: [String: Int64] = [:]
        for round in 0..<3 {
            let users = (0..<6).map { "r\(round)-\($0)" }
            let outs = Self.runAll(users.map { ["console", "--headless", "--db", db, "--user", $0, "--keys", "2a"] })
            for (user, out) in zip(users, outs) {
                #expect(out.status == 0, "\(user): \(out.stderr)")
                // Losing a reservation race is fine (the row leaves with a message); a refused decision is not.
                #expect(!out.stdout.contains("not saved"), "\(user)'s decision was refused:\n\(out.stdout)")
            }
            let store = try Store.open(path: db)
            for user in users {
                let actions = try store.auditTrail(AuditFilter(actor: user, action: "approve"), limit: 10)
                #expect(actions.count == 1, "\(user) approved \(actions.count) samples")
                if let a = actions.first { approvedBy[user] = Int64(a.entityID) }
            }
        }
        #expect(approvedBy.count == 18)
        #expect(Set(approvedBy.values).count == 18, "two consoles approved the same sample: \(approvedBy)")
        let store = try Store.open(path: db)
        #expect(try store.sampleCountsByState().first { $0.state == "approved" }?.count == 18)
        // Every reservation was given up when its console finished.
        #expect(try store.reservations(now: Int64(Date().timeIntervalSince1970 * 1000)).isEmpty)
    }

    /// Eight processes decide one sample at once: with overlap 1 exactly one wins; with overlap 3, exactly three
    /// votes are taken and the sample is final after them.
    @Test(.timeLimit(.minutes(3))) func racingDecisionsFillExactlyTheOverlap() throws {
        let (_, db) = try Self.database(sessions: 4)
        let store = try Store.open(path: db)
        let ids = try store.samples(limit: 10).map(\.id).sorted()
        try #require(ids.count >= 2)
        for (overlap, id) in [(1, ids[0]), (3, ids[1])] {
            #expect(try flywheel(["settings", "set", "review.overlap", String(overlap), "--db", db, "--user", "admin"]).status == 0)
            let outs = Self.runAll((0..<8).map { ["review", String(id), "approve", "--db", db, "--user", "v\(overlap)-\($0)"] })
            let won = outs.filter { $0.status == 0 }
            #expect(won.count == overlap, "overlap \(overlap): \(won.count) won; \(outs.map(\.stderr))")
            for lost in outs where lost.status != 0 {
                #expect(lost.status == 1 && (lost.stderr.contains("already approved") || lost.stderr.contains("reserved by")),
                        "unexpected refusal: \(lost.stderr)")
                #expect(!lost.stderr.localizedCaseInsensitiveContains("locked"))
            }
            #expect(try store.sample(id: id)?.state == "approved")
            #expect(try store.reviewActions(sampleID: id).filter { $0.action == "approve" }.count == overlap)
        }
    }
}

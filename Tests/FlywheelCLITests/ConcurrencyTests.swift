import Dispatch
import Foundation
import FlywheelStore
import Testing

/// Several processes on one database file at once: a writer ingesting at full speed, reviewers deciding in
/// consoles, analysis, and readers. None may fail, and none may report a locked database.
@Suite(.serialized) struct ConcurrencyTests {
    static func events(sessions: Int, prefix: String) -> Data {
        var s = ""
        s.reserveCapacity(sessions * 700)
        for i in 0..<sessions {
            let sid = "\(prefix)\(i)"
            let base = 1_779_000_000 + i * 60
            func ts(_ k: Int) -> String { Date(timeIntervalSince1970: Double(base + k)).ISO8601Format() }
            s += #"{"type":"turn","event_id":"\#(sid)-0","session_id":"\#(sid)","user_id":"u\#(i % 50)","turn_index":0,"role":"user","content":"这张收据的总金额是多少?","request_id":"\#(sid)-r1","ts":"\#(ts(0))"}"# + "\n"
            s += #"{"type":"turn","event_id":"\#(sid)-1","session_id":"\#(sid)","turn_index":1,"role":"assistant","content":"总金额是87元。","request_id":"\#(sid)-r1","ts":"\#(ts(1))","response_ms":900}"# + "\n"
            s += #"{"type":"turn","event_id":"\#(sid)-2","session_id":"\#(sid)","turn_index":2,"role":"user","content":"不对,是78","request_id":"\#(sid)-r2","ts":"\#(ts(20))"}"# + "\n"
            s += #"{"type":"turn","event_id":"\#(sid)-3","session_id":"\#(sid)","turn_index":3,"role":"assistant","content":"抱歉,是78元。","request_id":"\#(sid)-r2","ts":"\#(ts(21))","response_ms":800}"# + "\n"
            s += #"{"type":"session_end","event_id":"\#(sid)-end","session_id":"\#(sid)","ts":"\#(ts(30))"}"# + "\n"
        }
        return Data(s.utf8)
    }

    @Test(.timeLimit(.minutes(3))) func writerReviewersAndReadersShareOneFile() throws {
        let dir = tempDir()
        let db = dir + "/shared.sqlite"
        // Some samples to review before the load starts.
        try Self.events(sessions: 300, prefix: "seed").write(to: URL(fileURLWithPath: dir + "/seed.jsonl"))
        #expect(try flywheel(["ingest", "--db", db, dir + "/seed.jsonl"]).status == 0)
        #expect(try flywheel(["analyze", "--db", db, "--no-llm"]).status == 0)
        let big = dir + "/big.jsonl"
        try Self.events(sessions: 12_000, prefix: "load").write(to: URL(fileURLWithPath: big))  // 60,000 events

        var jobs: [(name: String, args: [String])] = [("writer", ["ingest", "--db", db, big])]
        for r in 0..<3 {
            jobs.append(("reviewer\(r)", ["console", "--headless", "--db", db, "--user", "r\(r)", "--keys", "2aaxaajjaxaa"]))
        }
        jobs.append(("analyze", ["analyze", "--db", db, "--no-llm"]))
        jobs.append(("reader-stats", ["stats", "--db", db]))
        jobs.append(("reader-samples", ["samples", "--db", db, "--limit", "500"]))
        jobs.append(("reader-console", ["console", "--headless", "--db", db, "--user", "viewer", "--keys", "f/收据<Enter>jjjj2jjjj"]))

        let lock = NSLock()
        var results: [String: Output] = [:]
        DispatchQueue.concurrentPerform(iterations: jobs.count) { i in
            // Readers and reviewers keep going while the writer runs: each repeats a few times.
            let repeats = jobs[i].name == "writer" ? 1 : 4
            for _ in 0..<repeats {
                let out = (try? flywheel(jobs[i].args)) ?? Output(status: -1, stdout: "", stderr: "could not start", stdoutBytes: Data())
                lock.withLock {
                    if results[jobs[i].name] == nil || out.status != 0 { results[jobs[i].name] = out }
                }
                if out.status != 0 { break }
            }
        }
        for (name, out) in results.sorted(by: { $0.key < $1.key }) {
            #expect(out.status == 0, "\(name) failed: \(out.stderr)")
            #expect(!out.stderr.localizedCaseInsensitiveContains("locked"), "\(name): \(out.stderr)")
            #expect(!out.stderr.localizedCaseInsensitiveContains("busy"), "\(name): \(out.stderr)")
        }
        // Everything the writer sent is there once, and every decision is in the log.
        let store = try Store.open(path: db)
        #expect(try store.sessionCounts().total == 12_300)
        let decided = try store.sampleCountsByState().filter { ["approved", "rejected"].contains($0.state) }.reduce(0) { $0 + $1.count }
        #expect(decided > 0)
    }
}

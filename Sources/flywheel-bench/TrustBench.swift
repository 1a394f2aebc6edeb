import Foundation

// flywheel-bench trust [--feedback N] [--users U]: how long the end-user trust pass takes, which every analysis
// run starts with. N exchanges, each with one explicit feedback event (mostly thumbs-up, some thumbs-down and
// corrections) from U users; analysis turns the feedback into samples, a few hundred of which are then decided
// (half approved, half rejected), and `flywheel users --refresh` is timed on the result.

func trustBenchmark(_ args: [String]) throws {
    let n = Int(argValue("--feedback", args) ?? "200000") ?? 200_000
    let users = max(2, Int(argValue("--users", args) ?? "20000") ?? 20_000)
    let exeDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    let flywheel = argValue("--flywheel", args) ?? exeDir + "/flywheel"
    let work = argValue("--workdir", args) ?? NSTemporaryDirectory() + "/flywheel-bench-trust-\(getpid())"
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { if !args.contains("--keep") { try? FileManager.default.removeItem(atPath: work) } }
    let ndjson = work + "/events.jsonl", db = work + "/trust.sqlite"

    // Deterministic: exchange i belongs to user i % users, one minute apart per user, except user 0 who sends
    // one a second. Every 10th feedback is a thumbs-down, every 25th a correction.
    let out = FileHandle(forWritingAtPath: { FileManager.default.createFile(atPath: ndjson, contents: nil); return ndjson }())!
    var buffer = ""
    buffer.reserveCapacity(1 << 20)
    let base = 1_779_000_000
    for i in 0..<n {
        let u = i % users, sid = "tb\(i)", rid = "tb\(i)-r"
        let t = u == 0 ? base + i / users : base + (i / users) * 60 + u % 60
        func ts(_ k: Int) -> String { Date(timeIntervalSince1970: Double(t + k)).ISO8601Format() }
        let kind = i % 25 == 0 ? "correction" : i % 10 == 0 ? "thumbs_down" : "thumbs_up"
        buffer += #"{"type":"turn","event_id":"\#(sid)-0","session_id":"\#(sid)","user_id":"eu\#(u)","turn_index":0,"role":"user","content":"what is the total?","request_id":"\#(rid)","ts":"\#(ts(0))"}"# + "\n"
        buffer += #"{"type":"turn","event_id":"\#(sid)-1","session_id":"\#(sid)","user_id":"eu\#(u)","turn_index":1,"role":"assistant","content":"The total is 87.","request_id":"\#(rid)","ts":"\#(ts(1))"}"# + "\n"
        buffer += #"{"type":"feedback","event_id":"\#(sid)-f","session_id":"\#(sid)","request_id":"\#(rid)","user_id":"eu\#(u)","kind":"\#(kind)""#
            + (kind == "correction" ? #","corrected_response":"78""# : "") + #","ts":"\#(ts(2))"}"# + "\n"
        buffer += #"{"type":"session_end","event_id":"\#(sid)-e","session_id":"\#(sid)","ts":"\#(ts(3))"}"# + "\n"
        if buffer.utf8.count > 1 << 20 { out.write(Data(buffer.utf8)); buffer.removeAll(keepingCapacity: true) }
    }
    out.write(Data(buffer.utf8))
    try out.close()

    guard try run([flywheel, "ingest", "--json", "--db", db, ndjson]).status == 0 else { throw BenchError("ingest failed") }
    let analyze = try run([flywheel, "analyze", "--json", "--db", db, "--no-llm"])
    guard analyze.status == 0 else { throw BenchError("analyze failed: \(analyze.stdout.suffix(300))") }
    // Decide every third sample waiting, so trust has reviewed outcomes to count.
    let decided = try run([flywheel, "samples", "--db", db, "--state", "pending", "--format", "jsonl", "--limit", String(n)])
    let ids = decided.stdout.split(separator: "\n").compactMap { line -> Int? in
        (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["sample_id"] as? Int
    }
    var reviewed = 0
    for (k, id) in ids.enumerated() where k % 3 == 0 && reviewed < 300 {
        _ = try run([flywheel, "review", String(id), k % 2 == 0 ? "approve" : "reject", "--db", db, "--user", "bench"])
        reviewed += 1
    }
    var refresh: [RunResult] = []
    for _ in 0..<3 { refresh.append(try run([flywheel, "users", "--refresh", "--db", db, "--limit", "1"])) }
    let flagged = try run([flywheel, "users", "--db", db, "--flagged", "--json"]).stdout.split(separator: "\n").count
    print("trust benchmark: \(n) feedback events from \(users) end users (\(reviewed) samples decided by hand), \(flagged) flagged")
    print("  analyze (trust pass first, then sessions and feedback samples): \(fmt(analyze.seconds, 2)) s, peak RSS \(fmt(Double(analyze.maxRSSKiB) / 1024, 1)) MB")
    let times = refresh.map(\.seconds).sorted()
    print("  flywheel users --refresh (the trust pass alone, process included): median \(fmt(times[1], 2)) s, max \(fmt(times[2], 2)) s, "
          + "peak RSS \(fmt(Double(refresh.map(\.maxRSSKiB).max() ?? 0) / 1024, 1)) MB")
}

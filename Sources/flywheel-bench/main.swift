// flywheel-bench: benchmarks that print figures (never timed unit tests: shared machines are noisy).
//
//   flywheel-bench ingest [--events N] [--sizes N1,N2] [--workdir DIR] [--flywheel PATH] [--sqlite3 PATH]
//   flywheel-bench analyze [--events N]   (ingest, then time `flywheel analyze` over every session)
//   flywheel-bench console [--db PATH] [--rebuild]   (the review console on 1M turns: see ConsoleBench.swift)
//   flywheel-bench http [--events N] [--clients C]   (HTTP ingest on loopback: see HTTPBench.swift)
//   flywheel-bench trust [--feedback N] [--users U]   (the end-user trust pass: see TrustBench.swift)
//
// Generates N synthetic turn events (mixed Chinese/English sessions), then in the same run:
//   1. `flywheel ingest --json` into a fresh database (the real binary, its own process),
//   2. the sqlite3 command-line tool importing the same rows into the same schema
//      (`.import --csv` of the pre-extracted columns, then INSERT ... SELECT into events/turns/sessions),
// and prints rate (events/s), the ratio of the two, and each process's peak resident memory.
// With several sizes, peak memory per size shows whether memory is flat in N.
import FlywheelCore
import Foundation

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

// MARK: - Process spawning with per-process rusage

struct RunResult {
    var status: Int32
    var seconds: Double
    var maxRSSKiB: Int
    var stdout: String
}

func run(_ argv: [String], stdinPath: String? = nil) throws -> RunResult {
    let outPath = NSTemporaryDirectory() + "/flywheel-bench-\(getpid())-out.txt"
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if let stdinPath { posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0) }
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { cArgs.forEach { free($0) } }
    var pid: pid_t = 0
    let start = Date()
    let rc = posix_spawnp(&pid, argv[0], &actions, nil, cArgs, environ)
    guard rc == 0 else { throw BenchError("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    let seconds = Date().timeIntervalSince(start)
    let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    try? FileManager.default.removeItem(atPath: outPath)
    let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return RunResult(status: exit, seconds: seconds, maxRSSKiB: Int(usage.ru_maxrss), stdout: out)
}

// MARK: - Synthetic data

struct Generator {
    var rng = SplitMix64(seed: 42)
    let zhQuestions = ["这个数字是多少?", "小票上的总金额是多少?", "图里是什么颜色的形状?", "牌子上写的是什么?", "电表读数是多少?",
                       "帮我看看这张发票的日期", "这个价格对吗?", "不對,再看一下", "图片里有几个人?", "这是什么牌子的车?"]
    let enQuestions = ["What's the total on this receipt?", "What does the sign say?", "What colour is the shape?",
                       "Can you read the meter?", "How many items are on the list?", "What is the date on this invoice?",
                       "Is this price right?", "What brand is the car?", "are you sure? look again", "Which line is the tax?"]
    let zhAnswers = ["总金额是 %d.%02d 元。", "读数是 %d。", "是一个红色的圆形。", "上面写着“出口”。", "日期是 2026 年 5 月 %d 日。"]
    let enAnswers = ["The total is $%d.%02d.", "The meter reads %d.", "It is a blue square.", "The sign says EXIT.", "The date is May %d, 2026."]

    mutating func question(_ zh: Bool) -> String {
        let qs = zh ? zhQuestions : enQuestions
        return qs[Int(rng.next() % UInt64(qs.count))]
    }

    /// `n` turn events in sessions of 2-8 alternating turns (55% Chinese), ids prefixed with `sessionPrefix`,
    /// 0.5-20 s apart from 2026-05-01: the traffic the ingest and HTTP benchmarks send.
    mutating func turns(_ n: Int, sessionPrefix: String, _ body: (SyntheticTurn) -> Void) {
        var produced = 0, session = 0
        var ts: Int64 = 1_777_593_600_000  // 2026-05-01
        while produced < n {
            session += 1
            let zh = rng.next() % 100 < 55
            let count = min(2 * Int(rng.next() % 4 + 1), n - produced)
            let sid = "\(sessionPrefix)\(session)"
            let user = "u\(rng.next() % 5000)"
            for t in 0..<count {
                let isUser = t % 2 == 0
                let content = isUser ? question(zh) : answer(zh)
                ts += Int64(rng.next() % 20_000) + 500
                var turn = SyntheticTurn(eventID: "\(sid)-t\(t)", sessionID: sid, userID: user, index: t, isUser: isUser, content: content,
                                         requestID: "\(sid)-r\(t / 2 + 1)", millis: ts - ts % 1000)
                if !isUser {
                    turn.responseMs = String(rng.next() % 4000 + 300)
                    turn.model = rng.next() % 10 == 0 ? "vlm-canary" : "vlm-prod"
                    turn.promptVersion = "vqa-v\(rng.next() % 3 + 1)"
                }
                body(turn)
                produced += 1
            }
        }
    }

    mutating func answer(_ zh: Bool) -> String {
        let templates = zh ? zhAnswers : enAnswers
        let t = templates[Int(rng.next() % UInt64(templates.count))]
        let a = Int(rng.next() % 900) + 10
        let b = Int(rng.next() % 100)
        return t.replacingOccurrences(of: "%d.%02d", with: "\(a).\(b < 10 ? "0" : "")\(b)")
            .replacingOccurrences(of: "%d", with: String(a))
    }
}

struct SyntheticTurn {
    var eventID, sessionID, userID: String
    var index: Int
    var isUser: Bool
    var content, requestID: String
    var millis: Int64
    var responseMs = "", model = "", promptVersion = ""

    /// The turn event as a producer sends it (events.md).
    var json: String {
        var s = "{\"type\":\"turn\",\"event_id\":\"\(eventID)\",\"session_id\":\"\(sessionID)\",\"user_id\":\"\(userID)\",\"turn_index\":\(index),\"role\":\"\(isUser ? "user" : "assistant")\",\"content\":\(jsonQuoted(content)),\"request_id\":\"\(requestID)\",\"ts\":\"\(Timestamp.format(millis: millis))\""
        if !isUser { s += ",\"response_ms\":\(responseMs),\"model\":\"\(model)\",\"prompt_version\":\"\(promptVersion)\"" }
        return s + "}"
    }
}

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func csvField(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// Writes N turn events as NDJSON and the same rows, pre-extracted, as CSV for the sqlite3 tool.
func generate(events n: Int, ndjson: String, csv: String) throws {
    FileManager.default.createFile(atPath: ndjson, contents: nil)
    FileManager.default.createFile(atPath: csv, contents: nil)
    guard let jh = FileHandle(forWritingAtPath: ndjson), let ch = FileHandle(forWritingAtPath: csv) else {
        throw BenchError("cannot write \(ndjson)")
    }
    defer { try? jh.close(); try? ch.close() }
    var g = Generator()
    var jbuf = "", cbuf = ""
    jbuf.reserveCapacity(1 << 21)
    cbuf.reserveCapacity(1 << 21)
    g.turns(n, sessionPrefix: "b") { turn in
        let json = turn.json
        jbuf += json + "\n"
        cbuf += [turn.eventID, turn.sessionID, turn.userID, String(turn.index), turn.isUser ? "user" : "assistant", turn.content,
                 turn.requestID, String(turn.millis), turn.responseMs, turn.model, turn.promptVersion, json]
            .map(csvField).joined(separator: ",") + "\n"
        if jbuf.utf8.count > 1 << 20 {
            jh.write(Data(jbuf.utf8)); ch.write(Data(cbuf.utf8))
            jbuf.removeAll(keepingCapacity: true); cbuf.removeAll(keepingCapacity: true)
        }
    }
    jh.write(Data(jbuf.utf8)); ch.write(Data(cbuf.utf8))
}

/// The sqlite3 tool's reference import: same rows, same schema, same pragmas, one transaction.
func sqliteScript(csv: String) -> String {
    """
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    PRAGMA cache_size = -32000;
    CREATE TEMP TABLE staging(event_id, session_id, user_id, turn_index, role, content, request_id, ts, response_ms, model, prompt_version, raw);
    BEGIN;
    .import --csv \(csv) staging
    INSERT INTO events(event_id, type, ts, session_id, request_id, source_id, line, raw)
        SELECT event_id, 'turn', CAST(ts AS INTEGER), session_id, request_id, NULL, rowid, raw FROM temp.staging ORDER BY rowid;
    INSERT INTO turns(id, session_id, turn_index, role, content, request_id, user_id, ts, response_ms, model, prompt_version)
        SELECT e.id, s.session_id, CAST(s.turn_index AS INTEGER), s.role, s.content, s.request_id, s.user_id, CAST(s.ts AS INTEGER),
               CAST(nullif(s.response_ms, '') AS INTEGER), nullif(s.model, ''), nullif(s.prompt_version, '')
        FROM temp.staging s JOIN events e ON e.event_id = s.event_id ORDER BY s.rowid;
    INSERT INTO sessions(session_id, user_id, first_ts, last_ts, turn_count)
        SELECT session_id, min(user_id), min(CAST(ts AS INTEGER)), max(CAST(ts AS INTEGER)), count(*) FROM temp.staging GROUP BY session_id;
    COMMIT;
    SELECT count(*) FROM turns;
    """
}

// MARK: - Main

func argValue(_ name: String, _ args: [String]) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func fmt(_ x: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", x) }

func ingestBenchmark(_ args: [String]) throws {
    let sizes: [Int]
    if let s = argValue("--sizes", args) {
        sizes = s.split(separator: ",").compactMap { Int($0.replacingOccurrences(of: "_", with: "")) }
    } else {
        sizes = [Int(argValue("--events", args) ?? "1000000") ?? 1_000_000]
    }
    guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else { throw BenchError("--events/--sizes need positive numbers") }
    let exeDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    let flywheel = argValue("--flywheel", args) ?? exeDir + "/flywheel"
    let sqlite3 = argValue("--sqlite3", args) ?? "sqlite3"
    let work = argValue("--workdir", args) ?? NSTemporaryDirectory() + "/flywheel-bench-\(getpid())"
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    guard FileManager.default.isExecutableFile(atPath: flywheel) else { throw BenchError("no flywheel binary at \(flywheel); build it or pass --flywheel") }
    let version = try run([sqlite3, "--version"]).stdout.split(separator: " ").first.map(String.init) ?? "?"
    print("ingest benchmark: turn events, mixed Chinese/English; flywheel vs sqlite3 \(version) importing the same rows into the same schema")
    print("workdir: \(work)")
    print("")
    print("events     | flywheel ev/s | peak RSS | sqlite3 rows/s | peak RSS | ratio")
    print("-----------|---------------|----------|----------------|----------|------")
    for n in sizes {
        let ndjson = work + "/events-\(n).jsonl", csv = work + "/events-\(n).csv"
        try generate(events: n, ndjson: ndjson, csv: csv)
        for f in ["fw", "ref"] { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: "\(work)/\(f)-\(n).sqlite\(s)") } }
        let fwDB = "\(work)/fw-\(n).sqlite", refDB = "\(work)/ref-\(n).sqlite"
        // Both start from an empty database with the schema (migrations run outside the timing).
        for db in [fwDB, refDB] {
            let r = try run([flywheel, "stats", "--db", db])
            guard r.status == 0 else { throw BenchError("flywheel stats failed on \(db)") }
        }
        let fw = try run([flywheel, "ingest", "--json", "--db", fwDB, ndjson])
        guard fw.status == 0, let last = fw.stdout.split(separator: "\n").last, last.contains("\"ingested\":\(n),") else {
            throw BenchError("flywheel ingest failed (status \(fw.status)): \(fw.stdout.suffix(400))")
        }
        let scriptPath = work + "/import-\(n).sql"
        try sqliteScript(csv: csv).write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let ref = try run([sqlite3, refDB], stdinPath: scriptPath)
        guard ref.status == 0, ref.stdout.contains("\(n)") else { throw BenchError("sqlite3 import failed (status \(ref.status)): \(ref.stdout.suffix(400))") }
        let fwRate = Double(n) / fw.seconds, refRate = Double(n) / ref.seconds
        print("\(String(n).padding(toLength: 10, withPad: " ", startingAt: 0)) | \(fmt(fwRate).leftPadded(to: 13)) | \((fmt(Double(fw.maxRSSKiB) / 1024, 1) + " MB").leftPadded(to: 8)) | \(fmt(refRate).leftPadded(to: 14)) | \((fmt(Double(ref.maxRSSKiB) / 1024, 1) + " MB").leftPadded(to: 8)) | \(fmt(fwRate / refRate, 2))")
        if !args.contains("--keep") {
            for path in [ndjson, csv, scriptPath] { try? FileManager.default.removeItem(atPath: path) }
            for db in [fwDB, refDB] { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + s) } }
        }
    }
    if !args.contains("--keep") { try? FileManager.default.removeItem(atPath: work) }
}

/// Generates N turn events, ingests them, then times `flywheel analyze` over every session.
func analyzeBenchmark(_ args: [String]) throws {
    let n = Int(argValue("--events", args) ?? "1000000") ?? 1_000_000
    let exeDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    let flywheel = argValue("--flywheel", args) ?? exeDir + "/flywheel"
    let work = argValue("--workdir", args) ?? NSTemporaryDirectory() + "/flywheel-bench-\(getpid())"
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { if !args.contains("--keep") { try? FileManager.default.removeItem(atPath: work) } }
    let ndjson = work + "/events.jsonl", db = work + "/analyze.sqlite"
    try generate(events: n, ndjson: ndjson, csv: work + "/events.csv")
    guard try run([flywheel, "ingest", "--json", "--db", db, ndjson]).status == 0 else { throw BenchError("ingest failed") }
    let r = try run([flywheel, "analyze", "--json", "--db", db])
    guard r.status == 0, let v = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
          let sessions = v["sessions"] as? Int else { throw BenchError("analyze failed: \(r.stdout.suffix(300))") }
    print("analyze benchmark: \(n) turn events in \(sessions) sessions")
    print("  \(fmt(r.seconds, 1)) s, \(fmt(Double(n) / r.seconds)) turns/s, \(fmt(Double(sessions) / r.seconds)) sessions/s, peak RSS \(fmt(Double(r.maxRSSKiB) / 1024, 1)) MB")
    print("  new signals \(v["new_signals"] ?? "?"), new samples \(v["new_samples"] ?? "?")")
}


let args = Array(CommandLine.arguments.dropFirst())
do {
    switch args.first {
    case "ingest": try ingestBenchmark(Array(args.dropFirst()))
    case "analyze": try analyzeBenchmark(Array(args.dropFirst()))
    case "console": try consoleBenchmark(Array(args.dropFirst()))
    case "http": try httpBenchmark(Array(args.dropFirst()))
    case "image": try imageBenchmark(Array(args.dropFirst()))  // see ImageBench.swift
    case "export": try exportBenchmark(Array(args.dropFirst()))  // see ExportBench.swift
    case "trust": try trustBenchmark(Array(args.dropFirst()))  // see TrustBench.swift
    default:
        print("usage: flywheel-bench ingest [--events N | --sizes N1,N2,...] [--workdir DIR] [--flywheel PATH] [--sqlite3 PATH] [--keep]")
        print("       flywheel-bench analyze [--events N] [--workdir DIR] [--flywheel PATH] [--keep]")
        print("       flywheel-bench console [--db PATH] [--rebuild] [--runs N] [--size COLSxROWS] [--flywheel PATH]")
        print("       flywheel-bench http [--events N] [--batch B] [--clients C] [--workdir DIR] [--keep]")
        print("       flywheel-bench trust [--feedback N] [--users U] [--workdir DIR] [--keep]")
        exit(args.isEmpty ? 0 : 64)
    }
} catch {
    FileHandle.standardError.write(Data("flywheel-bench: \(error)\n".utf8))
    exit(1)
}

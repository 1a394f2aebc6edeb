// flywheel-bench console: the review console on a million turns.
//
//   flywheel-bench console [--db PATH] [--rebuild] [--runs N] [--size COLSxROWS] [--flywheel PATH]
//
// The issue's target: with 1,000,000 turns and 100,000 samples the first screen appears in under 300 ms,
// a key press redraws in under 20 ms, memory stays under 100 MB.
//
// 1. Builds (or reuses, when its counts are right) a database of 100,000 sessions x 10 turns, mixed
//    Chinese/English, through the real pipeline: a generated JSONL file in the event format, `Ingestor`;
//    then signals on every fifth session and 100,000 training samples in mixed states, qualities and
//    sources through `Store.recordAnalyses`. No SQL here.
// 2. Measures in a fresh process of its own (so building the database does not count towards memory):
//    - first screen: `Store.open` + `Console.start` + every effect answered + `Console.render`, for the
//      sessions screen, the review screen ("2") and flagged sessions ("f"); each run opens the store anew,
//      with the database's pages in the OS page cache (warm) and dropped from it (cold,
//      posix_fadvise DONTNEED on the database and WAL files);
//    - key presses: per key, `Console.update` + starting its effects + `Console.render` (what the user sees
//      first), and the time until every effect it started has answered and the screen is drawn again;
//      approvals are undone ("u") so the cached database stays as built;
//    - peak RSS of that process (VmHWM: on Linux a child's ru_maxrss is at least its parent's peak at the
//      spawn, so getrusage would report the builder's memory), and `flywheel console --headless` end to end
//      (process start included; spawned first, while the measuring process is small), wall clock and peak RSS;
//    - which ConsoleDataSource calls the time went to (the store wrapped in a timer).
// A figure passes when its p95 is under the target (the median and the maximum are printed too).
import Console
import FlywheelCore
import FlywheelIngest
import FlywheelStore
import Foundation
import TerminalKit

enum ConsoleBench {
    static let sessions = 100_000
    static let turnsPerSession = 10
    static let turns = sessions * turnsPerSession
    static let samples = 100_000
    static let firstScreenTargetMs = 300.0
    static let keyTargetMs = 20.0
    static let memoryTargetMB = 100.0
}

func consoleBenchmark(_ args: [String]) throws {
    let db = argValue("--db", args) ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("flywheel-bench-console.sqlite")
    let runs = Int(argValue("--runs", args) ?? "10") ?? 10
    let size = argValue("--size", args) ?? "200x50"
    let exeDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    let flywheel = argValue("--flywheel", args) ?? exeDir + "/flywheel"
    guard runs > 0 else { throw BenchError("--runs needs a positive number") }
    guard parseSize(size) != nil else { throw BenchError("--size must be COLSxROWS, e.g. 200x50") }
    if args.contains("--measure") {
        // The child: the database exists; measure only.
        try consoleMeasure(db: db, runs: runs, size: size, flywheel: flywheel)
        return
    }
    guard FileManager.default.isExecutableFile(atPath: flywheel) else {
        throw BenchError("no flywheel binary at \(flywheel); build it (swift build -c release --product flywheel) or pass --flywheel")
    }
    let ready = args.contains("--rebuild") ? false : try consoleDatabaseIsReady(db)
    if !ready {
        try buildConsoleDatabase(path: db)
    } else {
        print("reusing \(db) (its counts match; --rebuild builds it again)")
    }
    // Measure in a new process, so its peak memory and its caches owe nothing to the build.
    let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
    let status = try spawnInheritingOutput([me, "console", "--measure", "--db", db, "--runs", String(runs), "--size", size, "--flywheel", flywheel])
    guard status == 0 else { throw BenchError("the measuring process failed (status \(status))") }
}

// MARK: - Database

/// Is there a database at `path` with the sessions, turns and samples this benchmark builds? Review
/// decisions may have changed states; they do not change these counts.
func consoleDatabaseIsReady(_ path: String) throws -> Bool {
    guard FileManager.default.fileExists(atPath: path) else { return false }
    let counts = Dictionary(uniqueKeysWithValues: try Store.open(path: path).tableCounts().map { ($0.table, $0.count) })
    let ok = counts["sessions"] == ConsoleBench.sessions && counts["turns"] == ConsoleBench.turns
        && counts["training_samples"] == ConsoleBench.samples && (counts["signals"] ?? 0) > 0
    if !ok {
        print("\(path) exists but has sessions \(counts["sessions"] ?? 0), turns \(counts["turns"] ?? 0), samples \(counts["training_samples"] ?? 0), signals \(counts["signals"] ?? 0): building it again")
    }
    return ok
}

func buildConsoleDatabase(path: String) throws {
    for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) }
    let work = (NSTemporaryDirectory() as NSString).appendingPathComponent("flywheel-bench-console-\(getpid())")
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }
    let jsonl = work + "/events.jsonl"
    print("building \(path): \(ConsoleBench.sessions) sessions x \(ConsoleBench.turnsPerSession) turns, signals, \(ConsoleBench.samples) samples")
    var t = Date()
    let events = try generateConsoleEvents(path: jsonl)
    print("  generated \(events) events in \(fmt(Date().timeIntervalSince(t), 1)) s")
    // The store is closed (and its WAL checkpointed) when this scope ends, before anything is measured.
    try {
        let store = try Store.open(path: path)
        t = Date()
        let report = Ingestor(store: store).ingest(path: jsonl)
        if let e = report.error { throw BenchError("ingest failed: \(e)") }
        guard report.counts.ingested == events, report.counts.quarantined == 0 else {
            throw BenchError("ingest stored \(report.counts.ingested) of \(events) events (\(report.counts.quarantined) quarantined)")
        }
        print("  ingested in \(fmt(Date().timeIntervalSince(t), 1)) s (\(fmt(Double(events) / Date().timeIntervalSince(t))) events/s)")
        t = Date()
        let (signals, samples) = try addSignalsAndSamples(store)
        print("  \(signals) signals, \(samples) samples stored in \(fmt(Date().timeIntervalSince(t), 1)) s")
        guard samples == ConsoleBench.samples else { throw BenchError("stored \(samples) samples, expected \(ConsoleBench.samples)") }
    }()
    guard try consoleDatabaseIsReady(path) else { throw BenchError("the database built does not have the expected counts") }
    let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    print("  database: \(fmt(Double(bytes) / 1_048_576)) MB")
}

/// Session `i`'s id; ids are not in time order, so the list's tie-break by id is exercised.
func benchSessionID(_ i: Int) -> String { "cs\(i)" }

/// Every fifth session has signals.
func benchSessionFlagged(_ i: Int) -> Bool { i % 5 == 0 }

/// Writes the sessions' turn events (and a session_end for most) as JSONL; returns how many events.
func generateConsoleEvents(path: String) throws -> Int {
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    guard let fh = FileHandle(forWritingAtPath: path) else { throw BenchError("cannot write \(path)") }
    defer { try? fh.close() }
    var g = Generator()
    var buf = ""
    buf.reserveCapacity(1 << 21)
    var count = 0
    let base: Int64 = 1_777_593_600_000  // 2026-05-01
    let longEn = ["The image shows a receipt from a small grocery store. The items listed are milk, bread, eggs and two apples; the subtotal is printed above a tax line of eight percent, so the total at the bottom is the larger figure, %d.",
                  "This is a street sign at a junction. The large text at the top gives the speed limit, and a smaller line underneath says the restriction applies on weekdays between 7am and 7pm; the number on the sign is %d."]
    let longZh = ["图片中是一张超市小票,上面列出了牛奶、面包、鸡蛋和两个苹果。小计下面一行是百分之八的税费,所以底部的总金额更高一些,是 %d 元。",
                  "这是路口的一块交通标志。上方的大字是限速,下面一行小字说明限制只在工作日早上七点到晚上七点有效;牌子上的数字是 %d。"]
    for i in 1...ConsoleBench.sessions {
        let sid = benchSessionID(i)
        let user = "u\(g.rng.next() % 5000)"
        let zh = g.rng.next() % 100 < 50
        let flagged = benchSessionFlagged(i)
        var ts = base + Int64(i) * 26_000 + Int64(g.rng.next() % 20_000)
        for t in 0..<ConsoleBench.turnsPerSession {
            let isUser = t % 2 == 0
            let rid = "\(sid)-r\(t / 2 + 1)"
            ts += Int64(g.rng.next() % 18_000) + 1_500
            var json = "{\"type\":\"turn\",\"event_id\":\"\(sid)-t\(t)\",\"session_id\":\"\(sid)\",\"user_id\":\"\(user)\",\"turn_index\":\(t),\"role\":\"\(isUser ? "user" : "assistant")\","
            let content: String
            if isUser {
                if flagged && t == 4 {
                    content = zh ? "不对,再看一下" : "are you sure? look again"  // the correction of request 2's answer
                } else {
                    content = g.question(zh)
                }
            } else if g.rng.next() % 8 == 0 {
                let ls = zh ? longZh : longEn
                content = ls[Int(g.rng.next() % UInt64(ls.count))].replacingOccurrences(of: "%d", with: String(g.rng.next() % 900 + 10))
            } else {
                content = g.answer(zh)
            }
            json += "\"content\":\(jsonQuoted(content)),\"request_id\":\"\(rid)\",\"ts\":\"\(Timestamp.format(millis: ts))\""
            if isUser, t == 0, g.rng.next() % 10 < 6 {
                json += ",\"image\":{\"ref\":\"https://img.example.com/bench/\(g.rng.next() % 20_000).jpg\"}"
            }
            if !isUser {
                let slow = flagged && i % 10 == 0 && t == 7
                let ms = slow ? 12_000 + g.rng.next() % 20_000 : g.rng.next() % 4000 + 300
                json += ",\"response_ms\":\(ms),\"model\":\"\(g.rng.next() % 10 == 0 ? "vlm-canary" : "vlm-prod")\",\"prompt_version\":\"vqa-v\(g.rng.next() % 3 + 1)\""
            }
            buf += json + "}\n"
            count += 1
        }
        if i % 10 != 3 {
            buf += "{\"type\":\"session_end\",\"event_id\":\"\(sid)-end\",\"session_id\":\"\(sid)\",\"ts\":\"\(Timestamp.format(millis: ts + 30_000))\"}\n"
            count += 1
        }
        if buf.utf8.count > 1 << 20 {
            fh.write(Data(buf.utf8))
            buf.removeAll(keepingCapacity: true)
        }
    }
    fh.write(Data(buf.utf8))
    return count
}

/// Signals on every fifth session, and 100,000 samples: three per flagged session (implicit correction
/// linked to its correction signal, user correction, thumbs down) and one on every other even session.
func addSignalsAndSamples(_ store: Store) throws -> (signals: Int, samples: Int) {
    var rng = SplitMix64(seed: 7)
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    let categories = ErrorCategory.allCases
    var total = (signals: 0, samples: 0)
    func pick<T>(_ weighted: [(T, UInt64)]) -> T {
        var r = rng.next() % weighted.reduce(0) { $0 + $1.1 }
        for (v, w) in weighted {
            if r < w { return v }
            r -= w
        }
        return weighted[0].0
    }
    func sample(_ source: SampleSource, session: String, request: Int, turns: [StoredTurn], link: SignalKind? = nil) -> NewSample {
        let rid = "\(session)-r\(request)"
        let question = turns.first { $0.requestID == rid && $0.role == .user }
        let answer = turns.last { $0.requestID == rid && $0.role == .assistant }
        var state: SampleState = pick([(.pending, 45), (.needsAnswer, 20), (.approved, 15), (.rejected, 12), (.fixed, 8)])
        if source == .seedLabel && state == .needsAnswer { state = .pending }
        let zh: Bool = (question?.content ?? "").unicodeScalars.contains { scalar in scalar.value >= 0x4E00 }
        let correct = state == .needsAnswer ? nil : (zh ? "正确答案是 \(rng.next() % 900 + 10)。" : "The correct answer is \(rng.next() % 900 + 10).")
        return NewSample(source: source, quality: pick([(.high, 30), (.medium, 45), (.low, 25)]), state: state, taskType: "vqa",
                         question: question?.content, wrongAnswer: answer?.content, correctAnswer: correct,
                         category: categories[Int(rng.next() % UInt64(categories.count))], sessionID: session, requestID: rid,
                         questionTurnID: question?.id, answerTurnID: answer?.id, imageID: question?.imageID ?? turns.first?.imageID,
                         signalKindForLink: link, evidence: link == nil ? nil : "user said: \(turns.first { $0.turnIndex == 4 }?.content ?? "")",
                         extraction: nil, model: answer?.model, promptVersion: answer?.promptVersion)
    }
    let batch = 1000
    for start in stride(from: 1, through: ConsoleBench.sessions, by: batch) {
        let ids = Array(start..<min(start + batch, ConsoleBench.sessions + 1))
        let turnsBySession = try store.turns(sessionIDs: ids.filter { benchSessionFlagged($0) || $0 % 2 == 0 }.map(benchSessionID))
        var analyses: [Store.SessionAnalysis] = []
        for i in ids {
            let sid = benchSessionID(i)
            guard let turns = turnsBySession[sid] else { continue }
            var signals: [NewSignal] = []
            var samples: [NewSample] = []
            func turn(_ index: Int) -> StoredTurn? { turns.first { $0.turnIndex == index } }
            if benchSessionFlagged(i) {
                signals.append(NewSignal(sessionID: sid, requestID: "\(sid)-r2", kind: .correction, confidence: 0.9, rule: "bench:correction",
                                         evidence: turn(4)?.content ?? "", evidenceTurnID: turn(4)?.id))
                if i % 10 == 0 {
                    signals.append(NewSignal(sessionID: sid, requestID: "\(sid)-r4", kind: .slowResponse, confidence: 1, rule: "bench:slow",
                                             evidence: "\(turn(7)?.responseMs ?? 0) ms", evidenceTurnID: turn(7)?.id))
                }
                if i % 15 == 0 {
                    signals.append(NewSignal(sessionID: sid, requestID: "\(sid)-r5", kind: .repeatedQuestion, confidence: 0.7, rule: "bench:repeat",
                                             evidence: turn(8)?.content ?? "", evidenceTurnID: turn(8)?.id))
                }
                if i % 25 == 0 {
                    signals.append(NewSignal(sessionID: sid, requestID: "\(sid)-r1", kind: .errorLog, confidence: 1, rule: "error_log:timeout",
                                             evidence: "timeout: model call exceeded 15000 ms", evidenceTurnID: nil))
                }
                samples.append(sample(.implicitCorrection, session: sid, request: 2, turns: turns, link: .correction))
                samples.append(sample(.userCorrection, session: sid, request: 3, turns: turns))
                samples.append(sample(.thumbsDown, session: sid, request: 4, turns: turns))
            } else if i % 2 == 0 {
                let source: SampleSource = pick([(.seedLabel, 40), (.thumbsDown, 30), (.userCorrection, 30)])
                samples.append(sample(source, session: sid, request: 1 + i % 5, turns: turns))
            }
            analyses.append(Store.SessionAnalysis(sessionID: sid, signals: signals, samples: samples))
        }
        let n = try store.recordAnalyses(analyses, now: now)
        total.signals += n.signals
        total.samples += n.samples
    }
    return total
}

// MARK: - Measuring

func nowNs() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
func msSince(_ t: UInt64) -> Double { Double(nowNs() - t) / 1e6 }

func parseSize(_ s: String) -> (width: Int, height: Int)? {
    let p = s.lowercased().split(separator: "x")
    guard p.count == 2, let w = Int(p[0]), let h = Int(p[1]), w >= 20, h >= 6 else { return nil }
    return (w, h)
}

/// Drops the database's pages from the OS page cache (clean pages only; the files are not being written).
func dropPageCache(_ db: String) {
    for path in [db, db + "-wal"] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { continue }
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
        close(fd)
    }
}

/// What `Console.runHeadless` does between keys: apply every answer, start what it asks for, until nothing runs.
func settle(_ state: inout AppState, _ runner: EffectRunner) {
    while runner.waitForMessage() {
        for m in runner.drain() { runner.start(Console.update(&state, m)) }
    }
}

struct Stats {
    var samples: [Double]
    var sorted: [Double] { samples.sorted() }
    var median: Double {
        let s = sorted
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    /// Nearest rank.
    var p95: Double { let s = sorted; return s[Swift.max(0, Int((0.95 * Double(s.count)).rounded(.up)) - 1)] }
    var max: Double { samples.max() ?? 0 }
}

/// One row of the results table.
struct Figure {
    var name: String
    var stats: Stats
    var unit: String
    var target: Double
}

var renderSink = 0

/// The store behind the console, timing every call the console makes: where a screen's time goes.
final class TimedData: ConsoleDataSource, @unchecked Sendable {
    let store: Store
    private let lock = NSLock()
    private var times: [String: [Double]] = [:]
    private var order: [String] = []

    init(store: Store) { self.store = store }

    func timed<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let t = nowNs()
        defer {
            let ms = msSince(t)
            lock.lock()
            if times[name] == nil { order.append(name) }
            times[name, default: []].append(ms)
            lock.unlock()
        }
        return try body()
    }

    /// (call, milliseconds of each) in the order first seen.
    func calls() -> [(String, [Double])] {
        lock.lock(); defer { lock.unlock() }
        return order.map { ($0, times[$0]!) }
    }

    func sessionsPage(_ query: SessionQuery, cursor: SessionCursor?, direction: PageDirection, limit: Int) throws -> [SessionSummary] {
        try timed("sessionsPage\(query.flaggedOnly ? " flagged" : "")\(cursor == nil ? " first" : direction == .forward ? " next" : " previous")") {
            try store.sessionsPage(query, cursor: cursor, direction: direction, limit: limit)
        }
    }
    func sessionCounts() throws -> (total: Int, flagged: Int) { try timed("sessionCounts") { try store.sessionCounts() } }
    func conversation(sessionID: String, limit: Int) throws -> [FlywheelStore.ConversationTurn] {
        try timed("conversation") { try store.conversation(sessionID: sessionID, limit: limit) }
    }
    func sampleContext(sampleID: Int64, before: Int, after: Int) throws -> [FlywheelStore.ConversationTurn] {
        try timed("sampleContext") { try store.sampleContext(sampleID: sampleID, before: before, after: after) }
    }
    func reviewQueue(_ viewer: QueueViewer?, cursor: QueueCursor?, direction: PageDirection, limit: Int) throws -> [QueueItem] {
        try timed("reviewQueue\(cursor == nil ? " first" : direction == .forward ? " next" : " previous")") {
            try store.reviewQueue(viewer, cursor: cursor, direction: direction, limit: limit)
        }
    }
    func reviewQueueCount(_ viewer: QueueViewer?) throws -> Int { try timed("reviewQueueCount") { try store.reviewQueueCount(viewer) } }
    func review(sampleID: Int64, decision: ReviewDecision, reviewer: String, now: Int64) throws -> ReviewRecord {
        try timed("review (write)") { try store.review(sampleID: sampleID, decision: decision, reviewer: reviewer, now: now) }
    }
    func undo(_ record: ReviewRecord, reviewer: String, now: Int64) throws -> ReviewRecord {
        try timed("undo (write)") { try store.undo(record, reviewer: reviewer, now: now) }
    }
    func dataVersion() throws -> Int { try timed("dataVersion") { try store.dataVersion() } }
    func defaultInsightWindow(days: Int) throws -> InsightWindow? { try timed("defaultInsightWindow") { try store.defaultInsightWindow(days: days) } }
    func categoryBreakdown(_ w: InsightWindow) throws -> [BreakdownRow] { try timed("categoryBreakdown") { try store.categoryBreakdown(w) } }
    func samples(in w: InsightWindow, taskType: String?, model: String?, promptVersion: String?, category: String?, limit: Int) throws -> [SampleRow] {
        try timed("drill samples") { try store.samples(in: w, taskType: taskType, model: model, promptVersion: promptVersion, category: category, limit: limit) }
    }
    func promptVersions() throws -> [PromptVersion] { try timed("promptVersions") { try store.promptVersions() } }
    func promptOutcomes(_ w: InsightWindow?) throws -> [PromptOutcome] { try timed("promptOutcomes") { try store.promptOutcomes(w) } }
    func activatePromptVersion(_ name: String, by actor: String?, now: Int64) throws {
        try timed("activatePrompt (write)") { try store.activatePromptVersion(name, by: actor, now: now) }
    }
    func metricSeries(_ w: InsightWindow, bucket: MetricBucket) throws -> [MetricPoint] { try timed("metricSeries") { try store.metricSeries(w, bucket: bucket) } }
    func oldestPendingSample() throws -> (id: Int64, createdAt: Int64)? { try timed("oldestPendingSample") { try store.oldestPendingSample() } }
    func imageFile(id: Int64) throws -> ImageFile? { try timed("imageFile") { try store.imageFile(id: id) } }
    func sampleTags(sampleID: Int64) throws -> [SampleTag] { try store.sampleTags(sampleID: sampleID) }
    func reviewTags(sampleID: Int64, verdicts: [String: String], added: [String], reviewer: String, now: Int64) throws -> ReviewRecord {
        try store.reviewTags(sampleID: sampleID, verdicts: verdicts, added: added, reviewer: reviewer, now: now)
    }
    func nextAnnotationTasks(after id: Int64?, limit: Int) throws -> [AnnotationTask] { try store.nextAnnotationTasks(after: id, limit: limit) }
    func annotationProgress(goal: Int, now: Int64) throws -> AnnotationProgress { try store.annotationProgress(goal: goal, now: now) }
    func annotate(taskID: Int64, answer: String?, tags: [String]?, annotator: String, now: Int64) throws -> Int64 {
        try store.annotate(taskID: taskID, answer: answer, tags: tags, annotator: annotator, now: now)
    }
    func skipAnnotation(taskID: Int64, annotator: String, now: Int64) throws { try store.skipAnnotation(taskID: taskID, annotator: annotator, now: now) }
    func reserve(sampleID: Int64, reviewer: String, now: Int64) throws -> ReservationOutcome {
        try timed("reserve (write)") { try store.reserve(sampleID: sampleID, reviewer: reviewer, now: now) }
    }
    func releaseReservations(reviewer: String) throws { try timed("releaseReservations (write)") { try store.releaseReservations(reviewer: reviewer) } }
    func disputedSamples(limit: Int) throws -> [QueueItem] { try timed("disputedSamples") { try store.disputedSamples(limit: limit) } }
    func decisions(sampleID: Int64, viewer: String) throws -> (visible: [Vote], hidden: Int) {
        try timed("decisions") { try store.decisions(sampleID: sampleID, viewer: viewer) }
    }
    func adjudicate(sampleID: Int64, decision: ReviewDecision, adjudicator: String, now: Int64) throws -> ReviewRecord {
        try timed("adjudicate (write)") { try store.adjudicate(sampleID: sampleID, decision: decision, adjudicator: adjudicator, now: now) }
    }
    func adjudicateTags(sampleID: Int64, verdicts: [String: String], added: [String], adjudicator: String, now: Int64) throws -> ReviewRecord {
        try timed("adjudicateTags (write)") {
            try store.adjudicateTags(sampleID: sampleID, verdicts: verdicts, added: added, adjudicator: adjudicator, now: now)
        }
    }
    func teamMember(named name: String) throws -> TeamMember? { try timed("teamMember") { try store.teamMember(named: name) } }
    func rolesEnforced() throws -> Bool { try timed("rolesEnforced") { try store.rolesEnforced() } }
    func teamSettings() throws -> TeamSettings { try timed("teamSettings") { try store.teamSettings() } }
    func authorize(_ actor: String, _ action: TeamAction) throws { try timed("authorize") { try store.authorize(actor, action) } }
    func agreementReport() throws -> AgreementReport { try timed("agreementReport") { try store.agreementReport() } }
    func endUserTrust(flaggedOnly: Bool, limit: Int) throws -> [EndUserTrustRow] {
        try timed("endUserTrust") { try store.endUserTrust(flaggedOnly: flaggedOnly, limit: limit) }
    }
    func heldSamples(limit: Int) throws -> [HeldSample] { try timed("heldSamples") { try store.heldSamples(limit: limit) } }
    func decideHeld(sampleID: Int64, release: Bool, by actor: String, now: Int64) throws -> ReviewRecord {
        try timed("decideHeld (write)") { try store.decideHeld(sampleID: sampleID, release: release, by: actor, now: now) }
    }
}

/// Opens the store anew, starts the console, answers every effect, presses `keys` (each settled), renders.
/// Returns the milliseconds from before `Store.open` to after the last render, and the screen's text.
func firstScreen(db: String, width: Int, height: Int, keys: [Key]) throws -> (ms: Double, text: String, data: TimedData, openMs: Double) {
    let t0 = nowNs()
    let store = try Store.open(path: db)
    let openMs = msSince(t0)
    let data = TimedData(store: store)
    let runner = EffectRunner(data: data)
    var state = AppState(width: width, height: height, reviewer: "bench")
    runner.start(Console.start(&state))
    settle(&state, runner)
    var screen = Console.render(state)
    for key in keys {
        runner.start(Console.update(&state, .key(key)))
        settle(&state, runner)
        screen = Console.render(state)
    }
    let ms = msSince(t0)
    runner.finishWrites()
    return (ms, screen.text, data, openMs)
}

func consoleMeasure(db: String, runs: Int, size: String, flywheel: String) throws {
    let (w, h) = parseSize(size)!
    let binaryFigures = try binaryConsoleFigures(db: db, runs: runs, width: w, height: h, flywheel: flywheel)
    let counts: [String: Int] = try {
        let store = try Store.open(path: db)
        var c = Dictionary(uniqueKeysWithValues: try store.tableCounts().map { ($0.table, $0.count) })
        let s = try store.sessionCounts()
        c["flagged"] = s.flagged
        c["queue"] = try store.reviewQueueCount()
        return c
    }()
    let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    print("console benchmark: \(counts["sessions"] ?? 0) sessions, \(counts["turns"] ?? 0) turns, \(counts["flagged"] ?? 0) flagged sessions, \(counts["signals"] ?? 0) signals, \(counts["training_samples"] ?? 0) samples (\(counts["queue"] ?? 0) waiting for review)")
    print("screen \(w)x\(h), \(runs) runs per first screen, \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(load)")
    print("")
    var figures: [Figure] = []

    // (a) First screens: each run opens the store anew.
    let screens: [(String, [Key], String)] = [
        ("sessions", [], "sessions ·"),
        ("review (\"2\")", [.char("2")], "Sample #"),
        ("flagged only (\"f\")", [.char("f")], "Sessions · flagged"),
    ]
    var breakdowns: [(String, [(String, [Double])])] = []
    for cold in [false, true] {
        var calls: [(String, [Double])] = []
        for (name, keys, expect) in screens {
            var times: [Double] = []
            for _ in 0..<runs {
                if cold { dropPageCache(db) }
                let r = try firstScreen(db: db, width: w, height: h, keys: keys)
                calls += r.data.calls()
                calls.append(("Store.open (not a query: part of every first screen)", [r.openMs]))
                // A screen that failed to load (an error in the status line) is not a figure.
                guard r.text.contains(expect), !r.text.contains("cannot ") else {
                    throw BenchError("first screen \(name) does not look loaded:\n\(r.text)")
                }
                times.append(r.ms)
            }
            figures.append(Figure(name: "first screen: \(name), \(cold ? "cold" : "warm") cache", stats: Stats(samples: times), unit: "ms",
                                  target: ConsoleBench.firstScreenTargetMs))
        }
        breakdowns.append(("first screens, \(cold ? "cold" : "warm") cache", mergeByName(calls)))
    }

    // (b) Key presses, on one console, each key settled before the next (as in headless mode).
    let store = try Store.open(path: db)
    let keyData = TimedData(store: store)
    let runner = EffectRunner(data: keyData)
    var state = AppState(width: w, height: h, reviewer: "bench")
    runner.start(Console.start(&state))
    settle(&state, runner)
    var labels: [String] = []
    var immediate: [String: [Double]] = [:]
    var settled: [String: [Double]] = [:]
    func press(_ key: Key, _ label: String, expect: String? = nil) throws {
        let t0 = nowNs()
        runner.start(Console.update(&state, .key(key)))
        let first = Console.render(state)
        let t1 = nowNs()
        settle(&state, runner)
        let last = Console.render(state)
        let t2 = nowNs()
        renderSink &+= first.width &+ last.height
        if immediate[label] == nil { labels.append(label) }
        immediate[label, default: []].append(Double(t1 - t0) / 1e6)
        settled[label, default: []].append(Double(t2 - t0) / 1e6)
        let text = last.text
        if text.contains("cannot ") || text.contains("not saved") { throw BenchError("key \(key.name) (\(label)) failed:\n\(text)") }
        if let expect, !text.contains(expect) { throw BenchError("key \(key.name) (\(label)): expected “\(expect)” on screen:\n\(text)") }
    }
    for _ in 0..<300 { try press(.char("j"), "j ×300, sessions") }
    for _ in 0..<20 { try press(.pageDown, "PgDn ×20, sessions") }
    try press(.char("g"), "g (to the top), sessions")
    for _ in 0..<5 {
        try press(.char("f"), "f (flagged on/off) ×10", expect: "Sessions · flagged")
        try press(.char("f"), "f (flagged on/off) ×10")
    }
    try press(.char("2"), "2 (review, first time)", expect: "Sample #")
    for _ in 0..<10 {
        try press(.char("1"), "1/2 (switch screens) ×20")
        try press(.char("2"), "1/2 (switch screens) ×20")
    }
    for _ in 0..<300 { try press(.char("j"), "j ×300, review") }
    for _ in 0..<20 { try press(.pageDown, "PgDn ×20, review") }
    try press(.char("g"), "g (to the top), review")
    for _ in 0..<20 {
        try press(.char("a"), "a (approve) ×20", expect: "approved by bench")
        try press(.char("u"), "u (undo) ×20", expect: "undone:")
        try press(.char("j"), "j ×300, review")
    }
    runner.finishWrites()
    settle(&state, runner)
    breakdowns.append(("the key presses above (and the start before them)", keyData.calls()))
    for label in labels {
        figures.append(Figure(name: "key \(label): redraw", stats: Stats(samples: immediate[label]!), unit: "ms", target: ConsoleBench.keyTargetMs))
        figures.append(Figure(name: "key \(label): data loaded + redrawn", stats: Stats(samples: settled[label]!), unit: "ms",
                              target: ConsoleBench.keyTargetMs))
    }

    // (c) Peak memory of this process: the console on the big database, every run above included. VmHWM is
    // this process image's own peak; ru_maxrss on Linux also counts the peak of the process that spawned it
    // (exec records the old address space's high-water mark), here the parent that may have built the database.
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    figures.append(Figure(name: "peak RSS, this process (VmHWM)", stats: Stats(samples: [peakRSSMB() ?? .nan]), unit: "MB",
                          target: ConsoleBench.memoryTargetMB))
    figures += binaryFigures
    printFigures(figures)
    for (title, calls) in breakdowns {
        print("")
        print("where the time goes: console data source calls during \(title)")
        printFigures(calls.map { Figure(name: "  " + $0.0, stats: Stats(samples: $0.1), unit: "ms", target: .nan) })
    }
    let loadAfter = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    print("")
    print("PASS: p95 under the target. redraw = Console.update + starting its effects + Console.render; data loaded + redrawn = until")
    print("every effect of the key has answered and the screen is drawn again. cold cache = database pages dropped with posix_fadvise.")
    print("flywheel's peak RSS from wait4; the process spawning it had a peak of \(fmt(spawnerPeakMB, 1)) MB, which a child's figure cannot read below.")
    print("load average after: \(loadAfter); ru_maxrss of this process: \(fmt(Double(usage.ru_maxrss) / 1024, 1)) MB (includes its parent's peak)")
}

/// Adds up the samples of calls with the same name, keeping the order first seen.
func mergeByName(_ calls: [(String, [Double])]) -> [(String, [Double])] {
    var out: [(String, [Double])] = []
    for (name, ms) in calls {
        if let i = out.firstIndex(where: { $0.0 == name }) { out[i].1 += ms } else { out.append((name, ms)) }
    }
    return out
}

/// `flywheel console --headless` end to end: process start, open, first screen, print; wall clock and the
/// child's peak RSS (wait4). Run first, while this process is small: a child's ru_maxrss includes the
/// spawning process's peak resident set at the time (see `peakRSSMB`), printed as the floor.
func binaryConsoleFigures(db: String, runs: Int, width w: Int, height h: Int, flywheel: String) throws -> [Figure] {
    var figures: [Figure] = []
    guard FileManager.default.isExecutableFile(atPath: flywheel) else {
        print("(no flywheel binary at \(flywheel): end-to-end figures skipped)")
        return []
    }
    _ = try run([flywheel, "console", "--headless", "--db", db, "--size", "\(w)x\(h)", "--user", "bench"])  // warm-up, not counted
    for (name, keys, cold) in [("sessions, warm cache", "", false), ("review (\"2\"), warm cache", "2", false), ("sessions, cold cache", "", true)] {
        var wall: [Double] = []
        var rss: [Double] = []
        for _ in 0..<runs {
            if cold { dropPageCache(db) }
            var argv = [flywheel, "console", "--headless", "--db", db, "--size", "\(w)x\(h)", "--user", "bench"]
            if !keys.isEmpty { argv += ["--keys", keys] }
            let r = try run(argv)
            guard r.status == 0, r.stdout.contains("sessions ·"), !r.stdout.contains("cannot ") else {
                throw BenchError("flywheel console failed (status \(r.status)):\n\(r.stdout.suffix(2000))")
            }
            wall.append(r.seconds * 1000)
            rss.append(Double(r.maxRSSKiB) / 1024)
        }
        figures.append(Figure(name: "flywheel console --headless: \(name), wall", stats: Stats(samples: wall), unit: "ms",
                              target: ConsoleBench.firstScreenTargetMs))
        figures.append(Figure(name: "flywheel console --headless: \(name), peak RSS", stats: Stats(samples: rss), unit: "MB",
                              target: ConsoleBench.memoryTargetMB))
    }
    spawnerPeakMB = peakRSSMB() ?? .nan  // at its highest after the runs, so an upper bound of the floor
    return figures
}

/// The peak RSS of this process when it spawned the flywheel binaries (a floor under their figures).
var spawnerPeakMB = Double.nan

/// This process image's peak resident set (VmHWM in /proc/self/status), in MB.
func peakRSSMB() -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
    return kb / 1024
}

func printFigures(_ figures: [Figure]) {
    let nameW = max(40, figures.map { $0.name.count }.max() ?? 40)
    func cell(_ v: Double, _ unit: String) -> String { (fmt(v, v < 100 ? 1 : 0) + " " + unit).leftPadded(to: 9) }
    print("figure".padding(toLength: nameW, withPad: " ", startingAt: 0) + " |    n |    median |       p95 |       max |    target | result")
    print(String(repeating: "-", count: nameW) + "-|------|-----------|-----------|-----------|-----------|-------")
    for f in figures {
        let s = f.stats
        let target: String = f.target.isNaN ? "".leftPadded(to: 9) : ("< " + fmt(f.target) + " " + f.unit).leftPadded(to: 9)
        let result = f.target.isNaN ? "" : s.p95 < f.target ? "PASS" : "MISS"
        let columns: [String] = [f.name.padding(toLength: nameW, withPad: " ", startingAt: 0), String(s.samples.count).leftPadded(to: 4),
                                 cell(s.median, f.unit), cell(s.p95, f.unit), cell(s.max, f.unit), target, result]
        print(columns.joined(separator: " | "))
    }
}

/// Runs a command with this process's standard output and error; returns its exit status.
func spawnInheritingOutput(_ argv: [String]) throws -> Int32 {
    fflush(stdout)
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { cArgs.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, argv[0], nil, nil, cArgs, environ)
    guard rc == 0 else { throw BenchError("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

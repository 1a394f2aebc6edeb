import FlywheelStore
import Foundation
import Testing

/// SplitMix64: a seeded generator, so a failing run can be repeated with its seed (FLYWHEEL_CRASH_SEED).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Appends events to an inbox while the collector is killed and restarted: conversations of zh/en turns
/// with unique event ids, some lines written in two halves with a pause between, now and then a new
/// file, and now and then an older file replaced (renamed over) by a longer copy of itself.
final class InboxWriter: @unchecked Sendable {
    let inbox: String
    let scratch: String
    private let lock = NSLock()
    private var _written: [String] = []
    private var _stop = false
    private var rng: SeededGenerator
    private(set) var files = 0, halves = 0, replacements = 0
    private let finished = DispatchSemaphore(value: 0)

    init(inbox: String, scratch: String, seed: UInt64) {
        self.inbox = inbox
        self.scratch = scratch
        self.rng = SeededGenerator(state: seed)
    }

    /// Every event id whose line has been completely written.
    var written: [String] {
        lock.lock(); defer { lock.unlock() }
        return _written
    }

    func start() {
        let t = Thread { [self] in
            run()
            finished.signal()
        }
        t.start()
    }

    /// Stops after the line in hand is complete, and waits for that.
    func stopAndWait() {
        lock.lock(); _stop = true; lock.unlock()
        finished.wait()
    }

    private var stopping: Bool {
        lock.lock(); defer { lock.unlock() }
        return _stop
    }

    private func file(_ i: Int) -> String { inbox + String(format: "/events-%03d.jsonl", i) }

    private static let zh = ["这张收据的总金额是多少?", "不对,应该是78", "图片里有几只猫?", "请再看一下日期", "谢谢,没问题了"]
    private static let en = ["What is the total on this receipt?", "No, it should be 78", "How many cats are in the picture?",
                             "Please check the date again", "Thanks, that's right"]

    private func line(_ n: Int) -> (id: String, text: String) {
        let session = n / 6, turn = n % 6
        let id = "crash-\(n)"
        let user = turn % 2 == 0
        let pool = session % 2 == 0 ? Self.zh : Self.en
        let content = user ? pool[(turn / 2 + session) % pool.count] : (session % 3 == 0 ? "八十七 (87)" : "It says 87.")
        // Timestamps are now: the sessions stay open, so the collector's analysis has nothing to do.
        let ts = ISO8601DateFormatter().string(from: Date())
        let text = #"{"type":"turn","event_id":"\#(id)","session_id":"crash-s\#(session)","user_id":"u\#(session % 7)","turn_index":\#(turn),"role":"\#(user ? "user" : "assistant")","content":"\#(content)","request_id":"crash-s\#(session)-r\#(turn / 2)","ts":"\#(ts)"}"# + "\n"
        return (id, text)
    }

    private func append(_ bytes: ArraySlice<UInt8>, to path: String) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        precondition(fd >= 0, "cannot open \(path)")
        bytes.withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let n = write(fd, b.baseAddress! + off, b.count - off)
                precondition(n > 0 || errno == EINTR)
                if n > 0 { off += n }
            }
        }
        close(fd)
    }

    private func record(_ ids: [String]) {
        lock.lock(); _written += ids; lock.unlock()
    }

    private func run() {
        var n = 0
        var current = 0
        files = 1
        while !stopping {
            if Int.random(in: 0..<150, using: &rng) == 0 {
                current += 1
                files += 1
            }
            if current > 0 && Int.random(in: 0..<400, using: &rng) == 0 {
                // Replace an older (complete) file by a copy of itself with more lines, renamed over it.
                let victim = file(Int.random(in: 0..<current, using: &rng))
                var content = (try? Data(contentsOf: URL(fileURLWithPath: victim))) ?? Data()
                var ids: [String] = []
                for _ in 0..<Int.random(in: 1...20, using: &rng) {
                    let l = line(n)
                    n += 1
                    content.append(contentsOf: Array(l.text.utf8))
                    ids.append(l.id)
                }
                let tmp = scratch + "/replacement.tmp"
                FileManager.default.createFile(atPath: tmp, contents: content)
                precondition(rename(tmp, victim) == 0)
                record(ids)
                replacements += 1
                continue
            }
            let l = line(n)
            n += 1
            let bytes = Array(l.text.utf8)
            if Int.random(in: 0..<10, using: &rng) == 0 {
                // Two halves (the cut may fall inside a multi-byte character), with a pause between.
                let cut = Int.random(in: 1..<bytes.count, using: &rng)
                append(bytes[..<cut], to: file(current))
                Thread.sleep(forTimeInterval: Double(Int.random(in: 1...12, using: &rng)) / 1000)
                append(bytes[cut...], to: file(current))
                halves += 1
            } else {
                append(bytes[...], to: file(current))
            }
            record([l.id])
            if n % 64 == 0 { Thread.sleep(forTimeInterval: 0.004) }
        }
    }
}

@Suite(.serialized) struct CollectorCrashTests {
    /// Starts `flywheel collect` with stdout/stderr into a (new) log file.
    func startCollector(_ args: [String], log: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: flywheelBinary())
        p.arguments = ["collect"] + args
        var environment = ProcessInfo.processInfo.environment
        for k in ["FLYWHEEL_DB", "FLYWHEEL_LLM_URL", "OPENAI_BASE_URL", "FLYWHEEL_TOKEN"] { environment.removeValue(forKey: k) }
        p.environment = environment
        FileManager.default.createFile(atPath: log, contents: nil)
        let out = FileHandle(forWritingAtPath: log)!
        out.seekToEndOfFile()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        try out.close()
        return p
    }

    @Test(.timeLimit(.minutes(2)))
    func killNineAtRandomMomentsLosesAndDuplicatesNothing() throws {
        let help = try flywheel(["collect", "--help"])
        try #require(help.status == 0, "flywheel collect is not in the binary: \(help.stderr)")

        let dir = tempDir()
        let inbox = dir + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let db = dir + "/db.sqlite"
        let seed = ProcessInfo.processInfo.environment["FLYWHEEL_CRASH_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64.max)
        var rng = SeededGenerator(state: seed ^ 0x5EED)
        let started = Date()

        let writer = InboxWriter(inbox: inbox, scratch: dir, seed: seed)
        writer.start()
        let kills = 30
        var batchesSeen: [Int] = []
        for run in 0..<kills {
            let log = dir + String(format: "/collector-%02d.log", run)
            let p = try startCollector(["--watch", inbox, "--db", db, "--interval", "3600", "--poll", "0.05", "--no-llm"], log: log)
            // The kill lands at a random point: one run in six during start-up, the others once the collector
            // has logged its first line (a slow machine's start-up does not eat the run), 0-500 ms into its work.
            if run % 6 == 5 {
                Thread.sleep(forTimeInterval: Double(Int.random(in: 0...150, using: &rng)) / 1000)
            } else {
                let deadline = Date().addingTimeInterval(10)
                while Date() < deadline && p.isRunning && ((try? FileManager.default.attributesOfItem(atPath: log)[.size] as? Int) ?? 0) == 0 {
                    Thread.sleep(forTimeInterval: 0.005)
                }
                Thread.sleep(forTimeInterval: Double(Int.random(in: 0...500, using: &rng)) / 1000)
            }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL,
                    "the collector ended before it was killed (seed \(seed)); see \(log)")
            let logged = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            batchesSeen.append(logged.components(separatedBy: "msg=\"ingested batch\"").count - 1)
        }
        writer.stopAndWait()
        let written = writer.written

        // One last run over what is there, to the end.
        let log = dir + "/collector-final.log"
        let final = try startCollector(["--once", "--watch", inbox, "--db", db, "--no-llm"], log: log)
        final.waitUntilExit()
        #expect(final.terminationStatus == 0, "flywheel collect --once failed (seed \(seed)); see \(log)")

        let store = try Store.open(path: db)
        let stored = try store.eventIDs()
        let totals = try store.ingestTotals()
        let expected = Set(written)
        #expect(expected.count == written.count)
        let missing = expected.subtracting(stored)
        let extra = Set(stored).subtracting(expected)
        #expect(missing.isEmpty, "lost \(missing.count) events, e.g. \(missing.sorted().prefix(5)) (seed \(seed))")
        #expect(extra.isEmpty, "unexpected events \(extra.sorted().prefix(5)) (seed \(seed))")
        #expect(totals.events == written.count && totals.distinctEventIDs == written.count)
        #expect(totals.turns == written.count)
        // A batch's session aggregates applied twice (or half) would show here.
        #expect(totals.sessionTurnCount == written.count)
        #expect(totals.quarantined == 0, "a line was read from its middle (seed \(seed)); see the quarantine in \(db)")
        // The kills must have hit a collector at work, not only ones starting up.
        #expect(batchesSeen.filter { $0 > 0 }.count >= kills / 2, "batches committed per run: \(batchesSeen) (seed \(seed))")

        let seconds = Date().timeIntervalSince(started)
        print("collector crash test: seed \(seed), \(kills) kills, \(written.count) events in \(writer.files) files "
              + "(\(writer.halves) lines written in two halves, \(writer.replacements) files replaced), "
              + "batches committed per run \(batchesSeen), \(String(format: "%.1f", seconds)) s")
        #expect(seconds < 60)
    }
}

import Foundation
import FlywheelTestSupport
import Logging
import Testing
@testable import FlywheelCollect
import FlywheelIngest
import FlywheelStore

/// Collects log messages in memory.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var _lines: [(level: Logger.Level, message: String, metadata: Logger.Metadata)] = []
    var lines: [(level: Logger.Level, message: String, metadata: Logger.Metadata)] {
        lock.lock(); defer { lock.unlock() }
        return _lines
    }
    func messages(_ prefix: String) -> [Logger.Metadata] { lines.filter { $0.message.hasPrefix(prefix) }.map(\.metadata) }
    func add(_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata) {
        lock.lock(); _lines.append((level, message, metadata)); lock.unlock()
    }
    func clear() { lock.lock(); _lines.removeAll(); lock.unlock() }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(capture: self) }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
                 file: String, function: String, line: UInt) {
            capture.add(level, message.description, metadata.merging(extra ?? [:]) { $1 })
        }
    }
}

/// A turn in Chinese or English with its own event_id.
func event(_ id: String) -> String {
    let content = id.utf8.reduce(0) { $0 + Int($1) } % 2 == 0 ? "这张收据的总金额是多少?" : "What is the total on this receipt?"
    return #"{"type":"turn","event_id":"\#(id)","session_id":"s-\#(id)","turn_index":0,"role":"user","content":"\#(content)","ts":"2026-05-01T00:00:00Z"}"#
}

func appendText(_ text: String, to path: String) {
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
    precondition(fd >= 0, "cannot open \(path)")
    _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

func makeTemporaryDirectory() -> String {
    let dir = NSTemporaryDirectory() + "flywheel-watch-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: dir + "/inbox", withIntermediateDirectories: true)
    return dir
}

@Suite struct InboxWatcherTests {
    struct Fixture {
        let dir: String
        let inbox: String
        let store: Store
        let metrics = CollectorMetrics()
        let log = LogCapture()
        let watcher: InboxWatcher

        init(batchSize: Int = 5_000) throws {
            dir = makeTemporaryDirectory()
            inbox = dir + "/inbox"
            store = try Store.open(path: dir + "/db.sqlite")
            watcher = InboxWatcher(store: store, directory: inbox, options: .init(batchSize: batchSize), metrics: metrics, logger: log.logger)
        }
    }

    @Test func appendedLinesArePickedUpWithOneLogLinePerBatch() throws {
        let f = try Fixture(batchSize: 2)
        appendText((0..<3).map { event("a\($0)") }.joined(separator: "\n") + "\n", to: f.inbox + "/a.jsonl")
        let first = f.watcher.scanOnce()
        #expect(first.filesSeen == 1 && first.counts == IngestCounts(ingested: 3) && first.errors.isEmpty)
        #expect(f.log.messages("ingested batch").count == 2)  // batches of 2 and 1, not one line per event
        #expect(f.log.messages("ingested batch").first?["file"] == "\(f.inbox)/a.jsonl")
        #expect(f.metrics.value("flywheel_ingested_events_total") == 3)

        // Unchanged: nothing read, nothing logged.
        f.log.clear()
        let idle = f.watcher.scanOnce()
        #expect(idle.files.isEmpty && idle.filesSeen == 1 && f.log.lines.isEmpty)

        appendText(event("a3") + "\n", to: f.inbox + "/a.jsonl")
        let second = f.watcher.scanOnce()
        #expect(second.counts == IngestCounts(ingested: 1))
        #expect(try f.store.eventIDs() == ["a0", "a1", "a2", "a3"])
        #expect(f.metrics.value("flywheel_ingested_events_total") == 4)
        #expect(f.metrics.value("flywheel_duplicate_events_total") == 0)
    }

    @Test func aPartialLastLineIsIngestedOnceItsNewlineArrives() throws {
        let f = try Fixture()
        let file = f.inbox + "/p.jsonl"
        let line = event("p1")
        let half = line.utf8.count / 2
        appendText(event("p0") + "\n" + String(decoding: Array(line.utf8.prefix(half)), as: UTF8.self), to: file)
        let first = f.watcher.scanOnce()
        #expect(first.counts == IngestCounts(ingested: 1))
        #expect(first.files.first?.pendingBytes == Int64(half))
        appendText(String(decoding: Array(line.utf8.dropFirst(half)), as: UTF8.self), to: file)
        #expect(f.watcher.scanOnce().counts == IngestCounts())
        appendText("\n", to: file)
        #expect(f.watcher.scanOnce().counts == IngestCounts(ingested: 1))
        #expect(f.watcher.scanOnce().counts == IngestCounts())
        #expect(try f.store.eventIDs() == ["p0", "p1"])
        let totals = try f.store.ingestTotals()
        #expect(totals.quarantined == 0 && totals.events == 2)
    }

    @Test func newFilesAppearAndOnlyJSONLFilesAreRead() throws {
        let f = try Fixture()
        appendText(event("b0") + "\n", to: f.inbox + "/b.jsonl")
        _ = f.watcher.scanOnce()
        appendText(event("a0") + "\n", to: f.inbox + "/a.jsonl")
        appendText(event("c0") + "\n", to: f.inbox + "/c.jsonl")
        appendText(event("x0") + "\n", to: f.inbox + "/notes.txt")
        appendText(event("x1") + "\n", to: f.inbox + "/.partial.jsonl")
        appendText(event("x2") + "\n", to: f.inbox + "/c.jsonl.tmp")
        try FileManager.default.createDirectory(atPath: f.inbox + "/sub.jsonl", withIntermediateDirectories: true)
        appendText(event("x3") + "\n", to: f.inbox + "/sub.jsonl/d.jsonl")
        let r = f.watcher.scanOnce()
        #expect(r.files.map { URL(fileURLWithPath: $0.source).lastPathComponent } == ["a.jsonl", "c.jsonl"])  // name order
        #expect(r.filesSeen == 3 && r.errors.isEmpty)
        #expect(try f.store.eventIDs() == ["a0", "b0", "c0"])
    }

    @Test func truncatedAndReplacedFilesAreReadAgainWithoutDuplicates() throws {
        let f = try Fixture()
        let file = f.inbox + "/t.jsonl"
        appendText([event("t0"), event("t1"), "not json"].joined(separator: "\n") + "\n", to: file)
        #expect(f.watcher.scanOnce().counts == IngestCounts(ingested: 2, quarantined: 1))

        // Truncated and rewritten: read from the start; the old event is a duplicate.
        #expect(truncate(file, 0) == 0)
        appendText(event("t1") + "\n" + event("t2") + "\n", to: file)
        let truncated = f.watcher.scanOnce()
        #expect(truncated.files.first?.restart == .truncated)
        #expect(truncated.counts == IngestCounts(ingested: 1, duplicates: 1))
        #expect(f.log.messages("file read again").first?["reason"] == "truncated")

        // Replaced: a new file renamed over the old one.
        appendText([event("t0"), event("t1"), "not json", event("t3")].joined(separator: "\n") + "\n", to: f.dir + "/next.tmp")
        #expect(rename(f.dir + "/next.tmp", file) == 0)
        let replaced = f.watcher.scanOnce()
        #expect(replaced.files.first?.restart == .replaced)
        #expect(replaced.counts == IngestCounts(ingested: 1, duplicates: 2, quarantined: 0))  // "not json" is line 3 again
        #expect(try f.store.eventIDs() == ["t0", "t1", "t2", "t3"])
        let totals = try f.store.ingestTotals()
        #expect(totals.events == 4 && totals.distinctEventIDs == 4 && totals.quarantined == 1)
        #expect(totals.turns == 4 && totals.sessionTurnCount == 4)
        #expect(f.metrics.value("flywheel_duplicate_events_total") == 3)
        #expect(f.metrics.value("flywheel_quarantined_lines_total") == 1)
    }

    @Test func offsetsSurviveARestart() throws {
        let f = try Fixture()
        let file = f.inbox + "/r.jsonl"
        let head = #"{"type":"tu"#
        appendText(event("r0") + "\n" + event("r1") + "\n" + head, to: file)
        #expect(f.watcher.scanOnce().counts == IngestCounts(ingested: 2))

        // A new process: new store connection, new watcher, nothing remembered in memory.
        let store = try Store.open(path: f.dir + "/db.sqlite")
        let log = LogCapture()
        let watcher = InboxWatcher(store: store, directory: f.inbox, metrics: CollectorMetrics(), logger: log.logger)
        let again = watcher.scanOnce()
        #expect(again.counts == IngestCounts())  // not read again: no duplicates counted
        #expect(log.messages("ingested batch").isEmpty)
        appendText(String(event("r2").dropFirst(head.count)) + "\n", to: file)
        #expect(watcher.scanOnce().counts == IngestCounts(ingested: 1))
        #expect(try store.eventIDs() == ["r0", "r1", "r2"])
        #expect(try store.followedSource(name: file)?.lines == 3)
    }

    @Test func vanishingAndUnreadableFilesAreNotFatal() throws {
        let f = try Fixture()
        appendText(event("v0") + "\n", to: f.inbox + "/v.jsonl")
        _ = f.watcher.scanOnce()
        try FileManager.default.removeItem(atPath: f.inbox + "/v.jsonl")
        let gone = f.watcher.scanOnce()
        #expect(gone.errors.isEmpty && gone.filesSeen == 0)

        // A symlink loop cannot be opened even by root: logged once, retried every scan.
        #expect(symlink(f.inbox + "/loop.jsonl", f.inbox + "/loop.jsonl") == 0)
        appendText(event("w0") + "\n", to: f.inbox + "/w.jsonl")
        let bad = f.watcher.scanOnce()
        #expect(bad.errors.keys.sorted() == [f.inbox + "/loop.jsonl"])
        #expect(bad.counts == IngestCounts(ingested: 1))  // the other files go on
        _ = f.watcher.scanOnce()
        #expect(f.log.lines.filter { $0.level == .warning }.count == 1)
        try FileManager.default.removeItem(atPath: f.inbox + "/loop.jsonl")
        appendText(event("l0") + "\n", to: f.inbox + "/loop.jsonl")
        let fixed = f.watcher.scanOnce()
        #expect(fixed.errors.isEmpty && fixed.counts == IngestCounts(ingested: 1))

        // The directory itself missing: reported, logged once, not a crash.
        let missing = InboxWatcher(store: f.store, directory: f.dir + "/nope", metrics: f.metrics, logger: f.log.logger)
        #expect(missing.scanOnce().directoryError != nil)
        #expect(missing.scanOnce().directoryError != nil)
        #expect(f.log.lines.filter { $0.level == .warning }.count == 2)
    }

    @Test func runFollowsUntilStopped() throws {
        let f = try Fixture()
        let stop = Flag()
        let done = Flag()
        let thread = Thread {
            f.watcher.run(until: { stop.value }, pollInterval: 0.02)
            done.value = true
        }
        thread.start()
        defer { stop.value = true }
        for i in 0..<5 {
            appendText(event("run\(i)") + "\n", to: f.inbox + "/run-\(i % 2).jsonl")
            Thread.sleep(forTimeInterval: 0.03)
        }
        let deadline = Date().addingTimeInterval(10)
        while try f.store.ingestTotals().events < 5 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(try f.store.ingestTotals().events == 5)
        stop.value = true
        let stopDeadline = Date().addingTimeInterval(5)
        while !done.value && Date() < stopDeadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(done.value)
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var _value = false
    var value: Bool {
        get { lock.lock(); defer { lock.unlock() }; return _value }
        set { lock.lock(); _value = newValue; lock.unlock() }
    }
}

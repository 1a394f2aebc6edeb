import Foundation
import GRDB
import FlywheelTestSupport
import Testing
@testable import FlywheelCore
@testable import FlywheelIngest
@testable import FlywheelStore

func temporaryDirectory() -> String {
    let dir = NSTemporaryDirectory() + "flywheel-ingest-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func write(_ bytes: [UInt8], to path: String) {
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
}

/// Lines read from `bytes` through a pipe, as (kind, text) pairs.
func readLines(_ bytes: [UInt8], buffer: Int = 16, maxLine: Int = 1 << 20) throws -> [String] {
    var fds: [Int32] = [0, 0]
    pipe(&fds)
    let (readEnd, writeEnd) = (fds[0], fds[1])
    // Written in 7-byte pieces from another thread, so reads return partial lines.
    let writer = Thread {
        bytes.withUnsafeBytes { buf in
            var off = 0
            while off < buf.count { off += max(0, Foundation.write(writeEnd, buf.baseAddress! + off, min(7, buf.count - off))) }
        }
        close(writeEnd)
    }
    writer.start()
    defer { close(readEnd) }
    let reader = LineReader(fd: readEnd, initialBuffer: buffer, maxLineBytes: maxLine)
    var out: [String] = []
    while let line = try reader.next() {
        switch line {
        case .line(let b): out.append(String(decoding: b, as: UTF8.self))
        case .tooLong(let prefix, let length): out.append("TOOLONG(\(prefix.count)/\(length))")
        }
    }
    return out
}

@Suite struct LineReaderTests {
    @Test func splitsLinesAcrossSmallReadsAndBuffers() throws {
        let text = "first\nsecond line that is longer than the buffer\r\n\nlast without newline"
        #expect(try readLines(Array(text.utf8)) == ["first", "second line that is longer than the buffer", "", "last without newline"])
    }

    @Test func dropsAByteOrderMarkAtTheStartOnly() throws {
        #expect(try readLines([0xEF, 0xBB, 0xBF] + Array("a\nb\n".utf8)) == ["a", "b"])
    }

    @Test func overLongLinesAreCutAndTheRestSkipped() throws {
        let long = String(repeating: "x", count: 100)
        #expect(try readLines(Array("ok\n\(long)\nafter\n".utf8), buffer: 8, maxLine: 32) == ["ok", "TOOLONG(32/100)", "after"])
    }

    @Test func tracksOffsetsAndLineNumbers() throws {
        let path = temporaryDirectory() + "/f.jsonl"
        write(Array("ab\ncd\nef".utf8), to: path)
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let r = LineReader(fd: fd)
        _ = try r.next()
        #expect(r.offset == 3 && r.lineNumber == 1)
        _ = try r.next()
        _ = try r.next()
        #expect(r.offset == 8 && r.lineNumber == 3 && r.lastLineUnterminated)
        #expect(try r.next() == nil)
    }
}

/// A minimal valid 2x1 RGB PNG.
let tinyPNG: [UInt8] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x7B, 0x40, 0xE8,
    0xDD, 0x00, 0x00, 0x00, 0x0E, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
]

@Suite struct IngestorTests {
    let specFile = specLines.joined(separator: "\n") + "\n"

    func tableCount(_ store: Store, _ table: String) throws -> Int {
        try store.tableCounts().first { $0.table == table }!.count
    }

    @Test func ingestingAFileTwiceStoresItOnce() throws {
        let dir = temporaryDirectory()
        write(Array(specFile.utf8), to: dir + "/events.jsonl")
        let store = try Store.open(path: dir + "/db.sqlite")
        let first = Ingestor(store: store).ingest(path: dir + "/events.jsonl")
        #expect(first.error == nil)
        #expect(first.counts == IngestCounts(ingested: 8, duplicates: 0, quarantined: 0))
        let second = Ingestor(store: store).ingest(path: dir + "/events.jsonl")
        #expect(second.counts == IngestCounts(ingested: 0, duplicates: 8, quarantined: 0))
        #expect(try tableCount(store, "events") == 8)
        #expect(try tableCount(store, "turns") == 2)
        #expect(try tableCount(store, "ingest_sources") == 1)
    }

    @Test func brokenLinesAreQuarantinedAndGoodLinesKept() throws {
        let dir = temporaryDirectory()
        var bytes: [UInt8] = []
        let good = [specLines[0], specLines[1], specLines[2]]
        let bad: [(String, String)] = [
            ("this is not json", "not_json"),
            (#"{"type":"turn","event_id":"x1","session_id":"s""#, "not_json"),
            (#"[{"type":"turn"}]"#, "not_object"),
            (#"{"event_id":"x2","ts":"2026-05-01T00:00:00Z"}"#, "missing_field"),
            (#"{"type":"session_end","event_id":"x3","session_id":"s","ts":12}"#, "wrong_type"),
            (#"{"type":"telemetry","event_id":"x4","ts":"2026-05-01T00:00:00Z"}"#, "unknown_type"),
            (#"{"type":"turn","event_id":"x5","session_id":"s","turn_index":0,"role":"boss","content":"x","ts":"2026-05-01T00:00:00Z"}"#, "invalid_value"),
        ]
        bytes += Array((good[0] + "\n").utf8)
        for (line, _) in bad { bytes += Array((line + "\n").utf8) }
        bytes += Array(#"{"type":"session_end","event_id":"x6","session_id":"s","ts":"2026-05-01T00:00:00Z","note":""#.utf8) + [0xC3, 0x28] + Array("\"}\n".utf8)
        bytes += Array((good[1] + "\n\n" + good[2]).utf8)  // a blank line, and no newline at the end
        write(bytes, to: dir + "/mixed.jsonl")
        let store = try Store.open(path: dir + "/db.sqlite")
        let report = Ingestor(store: store, options: .init(batchSize: 3)).ingest(path: dir + "/mixed.jsonl")
        #expect(report.counts == IngestCounts(ingested: 3, duplicates: 0, quarantined: 8))
        #expect(report.lines == 12)
        #expect(report.blank == 1)
        let entries = try store.quarantineEntries(limit: 100)
        #expect(entries.map(\.reasonKind) == bad.map(\.1) + ["not_utf8"])
        #expect(entries.map(\.line) == Array(2...9))
        #expect(entries.allSatisfy { $0.source == dir + "/mixed.jsonl" })
        #expect(entries.last!.raw.contains(0xC3))  // bytes kept verbatim, invalid UTF-8 and all
        #expect(String(decoding: entries[0].raw, as: UTF8.self) == "this is not json")
        #expect(try tableCount(store, "events") == 3)
        // Again: nothing new stored, quarantine not doubled.
        let again = Ingestor(store: store).ingest(path: dir + "/mixed.jsonl")
        #expect(again.counts == IngestCounts(ingested: 0, duplicates: 3, quarantined: 8))
        #expect(try tableCount(store, "quarantine") == 8)
    }

    @Test func overLongLineIsQuarantinedNotLost() throws {
        let dir = temporaryDirectory()
        let huge = #"{"type":"turn","content":""# + String(repeating: "字", count: 2000) + #""}"#
        write(Array((specLines[0] + "\n" + huge + "\n" + specLines[1] + "\n").utf8), to: dir + "/big.jsonl")
        let store = try Store.inMemory()
        let report = Ingestor(store: store, options: .init(maxLineBytes: 1024)).ingest(path: dir + "/big.jsonl")
        #expect(report.counts == IngestCounts(ingested: 2, duplicates: 0, quarantined: 1))
        let entry = try store.quarantineEntries(limit: 1)[0]
        #expect(entry.reasonKind == "too_long")
        #expect(entry.line == 2)
        #expect(entry.reason.contains("\(huge.utf8.count) bytes"))
    }

    @Test func imagesAreHashedMeasuredOrMarkedMissing() throws {
        let dir = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
        write(tinyPNG, to: dir + "/images/receipt-0001.png")
        let lines = [
            #"{"type":"turn","event_id":"a0","session_id":"a","turn_index":0,"role":"user","content":"q","ts":"2026-05-01T00:00:00Z","image":{"ref":"images/receipt-0001.png"}}"#,
            #"{"type":"turn","event_id":"b0","session_id":"b","turn_index":0,"role":"user","content":"q","ts":"2026-05-01T00:00:00Z","image":{"ref":"./images/../images/receipt-0001.png"}}"#,
            #"{"type":"turn","event_id":"c0","session_id":"c","turn_index":0,"role":"user","content":"q","ts":"2026-05-01T00:00:00Z","image":{"ref":"images/nope.png"}}"#,
            #"{"type":"recognition","event_id":"r1","request_id":"r1","ts":"2026-05-01T00:00:00Z","image":{"ref":"https://cdn.example.com/x.jpg"},"tags":[]}"#,
        ]
        write(Array(lines.joined(separator: "\n").utf8), to: dir + "/events.jsonl")
        let store = try Store.inMemory()
        let report = Ingestor(store: store).ingest(path: dir + "/events.jsonl")
        #expect(report.counts.ingested == 4)
        let rows = try store.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT status, sha256, bytes, width, height, format, path FROM images ORDER BY id")
        }
        #expect(rows.count == 3)  // the same picture by two refs is one row
        #expect(rows[0]["status"] as String == "present")
        #expect(rows[0]["sha256"] as String == ImageResolver.inspect(path: dir + "/images/receipt-0001.png", ref: "").sha256)
        #expect(rows[0]["bytes"] as Int == tinyPNG.count)
        #expect(rows[0]["width"] as Int == 2)
        #expect(rows[0]["height"] as Int == 1)
        #expect(rows[0]["format"] as String == "png")
        #expect(rows[1]["status"] as String == "missing")
        #expect(rows[1]["path"] as String == dir + "/images/nope.png")
        #expect(rows[2]["status"] as String == "url")
        let linked = try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT image_id) FROM turns") }
        #expect(linked == 2)
    }

    @Test func hashMatchesSha256sum() throws {
        let dir = temporaryDirectory()
        write(Array("hello\n".utf8), to: dir + "/h.bin")
        let r = ImageResolver.inspect(path: dir + "/h.bin", ref: "h.bin")
        #expect(r.sha256 == "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03")
        #expect(r.format == nil)  // not an image: hashed, but no dimensions
    }

    @Test func readsStandardInputStyleDescriptors() throws {
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        let text = Array(specFile.utf8)
        _ = text.withUnsafeBytes { Foundation.write(fds[1], $0.baseAddress, $0.count) }
        close(fds[1])
        let store = try Store.inMemory()
        let report = Ingestor(store: store, options: .init(batchSize: 2)).ingest(fd: fds[0], sourceName: "stdin", kind: "stdin", baseDirectory: "/tmp")
        close(fds[0])
        #expect(report.counts.ingested == 8)
        #expect(report.lines == 8)
        let offset = try store.writer.read { db in try Int.fetchOne(db, sql: #"SELECT "offset" FROM ingest_sources WHERE name = 'stdin'"#) }
        #expect(offset == text.count)
    }

    @Test func unreadableInputIsAnErrorNotACrash() {
        let store = try! Store.inMemory()
        #expect(Ingestor(store: store).ingest(path: "/definitely/not/here.jsonl").error != nil)
        #expect(Ingestor(store: store).ingest(path: NSTemporaryDirectory()).error == "is a directory")
    }

    @Test func bundledSampleDataIngestsCleanly() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let events = root.appendingPathComponent("sample-data/events").path
        let files = try FileManager.default.contentsOfDirectory(atPath: events).filter { $0.hasSuffix(".jsonl") }
        #expect(files.count >= 3)
        let store = try Store.inMemory()
        var total = IngestCounts()
        for f in files {
            let r = Ingestor(store: store).ingest(path: events + "/" + f)
            #expect(r.error == nil)
            total += r.counts
        }
        #expect(total.quarantined == 0)
        #expect(total.duplicates == 0)
        #expect(total.ingested > 2000)
        let missing = try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM images WHERE status = 'present' AND width > 0") }
        #expect((missing ?? 0) >= 40)
    }
}

let specLines = specExampleLines

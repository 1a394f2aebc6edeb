import Foundation
import FlywheelTestSupport
import GRDB
import Testing
@testable import FlywheelCore
@testable import FlywheelIngest
@testable import FlywheelStore

/// A valid turn event with its own event_id.
func turnLine(_ id: String, content: String = "这个数字是多少? what is it") -> String {
    #"{"type":"turn","event_id":"\#(id)","session_id":"s-\#(id)","turn_index":0,"role":"user","content":"\#(content)","ts":"2026-05-01T00:00:00Z"}"#
}

func append(_ text: String, to path: String) {
    append(Array(text.utf8), to: path)
}

func append(_ bytes: [UInt8], to path: String) {
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
    precondition(fd >= 0)
    _ = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

func truncate(_ path: String, to size: Int64) {
    precondition(Foundation.truncate(path, off_t(size)) == 0)
}

@Suite struct FollowLineReaderTests {
    func reader(_ text: String, start: Int64 = 0, line: Int = 0, maxLine: Int = 1 << 20) -> (LineReader, Int32) {
        let path = temporaryDirectory() + "/f.jsonl"
        write(Array(text.utf8), to: path)
        let fd = open(path, O_RDONLY)
        lseek(fd, off_t(start), SEEK_SET)
        return (LineReader(fd: fd, startOffset: start, startLine: line, completeLinesOnly: true, initialBuffer: 8, maxLineBytes: maxLine), fd)
    }

    func lines(_ r: LineReader) throws -> [String] {
        var out: [String] = []
        while let l = try r.next() {
            switch l {
            case .line(let b): out.append("\(r.lineNumber):" + String(decoding: b, as: UTF8.self))
            case .tooLong(let p, let n): out.append("\(r.lineNumber):TOOLONG(\(p.count)/\(n))")
            }
        }
        return out
    }

    @Test func holdsBackAnUnterminatedLastLine() throws {
        let (r, fd) = reader("ab\ncd\nhalf")
        defer { close(fd) }
        #expect(try lines(r) == ["1:ab", "2:cd"])
        #expect(r.offset == 6 && r.pendingBytes == 4 && r.lineNumber == 2)
        #expect(try r.next() == nil)  // and keeps saying so
        #expect(r.offset == 6)
    }

    @Test func resumesAtAnOffsetWithLineNumbersCountingOn() throws {
        let (r, fd) = reader("ab\ncd\r\nef\n", start: 3, line: 1)
        defer { close(fd) }
        #expect(try lines(r) == ["2:cd", "3:ef"])
        #expect(r.offset == 10 && r.pendingBytes == 0)
    }

    @Test func anUnfinishedOverLongLineIsNotCounted() throws {
        let long = String(repeating: "x", count: 40)
        let (r, fd) = reader("ok\n" + long, maxLine: 16)
        defer { close(fd) }
        #expect(try lines(r) == ["1:ok"])
        #expect(r.offset == 3 && r.pendingBytes == 40 && r.lineNumber == 1)
        // Once its newline is there it is one too-long line, counted from its start.
        let (r2, fd2) = reader("ok\n" + long + "\nnext\n", start: 3, line: 1, maxLine: 16)
        defer { close(fd2) }
        #expect(try lines(r2) == ["2:TOOLONG(16/40)", "3:next"])
        #expect(r2.offset == Int64(3 + 41 + 5))
    }
}

@Suite struct FollowTests {
    func setUp(batchSize: Int = 5_000, maxLineBytes: Int = 64 << 20) throws -> (dir: String, file: String, store: Store, ingestor: Ingestor) {
        let dir = temporaryDirectory()
        let store = try Store.open(path: dir + "/db.sqlite")
        return (dir, dir + "/inbox.jsonl", store, Ingestor(store: store, options: .init(batchSize: batchSize, maxLineBytes: maxLineBytes)))
    }

    func inode(_ path: String) -> Int64 {
        var st = stat()
        stat(path, &st)
        return Int64(bitPattern: UInt64(st.st_ino))
    }

    @Test func readsOnlyWhatWasAppendedAndCommitsOffsetSizeInode() throws {
        let (_, file, store, ingestor) = try setUp(batchSize: 2)
        append((0..<3).map { turnLine("a\($0)") }.joined(separator: "\n") + "\n", to: file)
        var batches: [Ingestor.FollowProgress] = []
        let first = ingestor.follow(path: file, onBatch: { batches.append($0) })
        #expect(first.error == nil && first.restart == nil)
        #expect(first.counts == IngestCounts(ingested: 3))
        #expect(first.batches == 2 && batches.map(\.lines) == [2, 1] && batches.map(\.lineNumber) == [2, 3])
        let size = Int64(try FileManager.default.attributesOfItem(atPath: file)[.size] as! Int)
        var state = try #require(try store.followedSource(name: file))
        #expect(state.offset == size && state.size == size && state.lines == 3 && state.inode == inode(file))

        // Nothing new: no transaction, nothing counted.
        let idle = ingestor.follow(path: file)
        #expect(idle.lines == 0 && idle.counts == IngestCounts() && idle.offset == size)

        append(turnLine("a3") + "\n" + turnLine("a4") + "\n", to: file)
        let second = ingestor.follow(path: file)
        #expect(second.startOffset == size)
        #expect(second.counts == IngestCounts(ingested: 2))  // no duplicates: the old lines were not read again
        state = try #require(try store.followedSource(name: file))
        #expect(state.lines == 5)
        #expect(try store.eventIDs() == ["a0", "a1", "a2", "a3", "a4"])
        let lines = try store.writer.read { db in try Int.fetchAll(db, sql: "SELECT line FROM events ORDER BY line") }
        #expect(lines == [1, 2, 3, 4, 5])
    }

    @Test func aPartialLastLineWaitsForItsNewline() throws {
        let (_, file, store, ingestor) = try setUp()
        let line = turnLine("p1")
        let cut = line.utf8.count / 2
        append(turnLine("p0") + "\n", to: file)
        append(Array(line.utf8.prefix(cut)), to: file)
        let first = ingestor.follow(path: file)
        #expect(first.counts == IngestCounts(ingested: 1))
        #expect(first.pendingBytes == Int64(cut))
        #expect(try store.followedSource(name: file)?.offset == Int64(turnLine("p0").utf8.count + 1))
        // Still no newline: still waiting, nothing quarantined.
        append(Array(line.utf8.dropFirst(cut)), to: file)
        let waiting = ingestor.follow(path: file)
        #expect(waiting.counts == IngestCounts() && waiting.pendingBytes == Int64(line.utf8.count))
        append("\n", to: file)
        let done = ingestor.follow(path: file)
        #expect(done.counts == IngestCounts(ingested: 1) && done.pendingBytes == 0)
        #expect(try store.eventIDs() == ["p0", "p1"])
        #expect(try store.ingestTotals().quarantined == 0)
    }

    @Test func truncationIsNoticedAndTheFileReadAgainFromItsStart() throws {
        let (_, file, store, ingestor) = try setUp()
        append((0..<4).map { turnLine("t\($0)") }.joined(separator: "\n") + "\nnot json\n", to: file)
        #expect(ingestor.follow(path: file).counts == IngestCounts(ingested: 4, quarantined: 1))
        truncate(file, to: 0)
        append(turnLine("t0") + "\n" + turnLine("t9") + "\n", to: file)
        let again = ingestor.follow(path: file)
        #expect(again.restart == .truncated)
        #expect(again.startOffset == 0)
        #expect(again.counts == IngestCounts(ingested: 1, duplicates: 1))
        #expect(try store.followedSource(name: file)?.lines == 2)  // line numbers restarted
        #expect(try store.eventIDs() == ["t0", "t1", "t2", "t3", "t9"])
        let line = try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT line FROM events WHERE event_id = 't9'") }
        #expect(line == 2)
    }

    @Test func aReplacedFileIsReadFromItsStartAndQuarantinedLinesAreNotDoubled() throws {
        let (dir, file, store, ingestor) = try setUp()
        let content = turnLine("r0") + "\nnot json\n" + turnLine("r1") + "\n"
        append(content, to: file)
        #expect(ingestor.follow(path: file).counts == IngestCounts(ingested: 2, quarantined: 1))
        // The same lines and more, written elsewhere and renamed over the followed file (a new inode).
        append(content + turnLine("r2") + "\n", to: dir + "/new.tmp")
        #expect(rename(dir + "/new.tmp", file) == 0)
        let again = ingestor.follow(path: file)
        #expect(again.restart == .replaced)
        #expect(again.counts == IngestCounts(ingested: 1, duplicates: 2, quarantined: 0))
        #expect(again.problems.count == 1)  // seen again, reported, not stored twice
        #expect(try store.ingestTotals().quarantined == 1)
        #expect(try store.eventIDs() == ["r0", "r1", "r2"])
        let state = try #require(try store.followedSource(name: file))
        #expect(state.inode == inode(file) && state.lines == 4)
        let stats = try store.writer.read { db in
            try Row.fetchOne(db, sql: "SELECT ingested, duplicates, quarantined FROM ingest_sources WHERE name = ?", arguments: [file])
        }
        #expect(stats?[0] == 3 && stats?[1] == 2 && stats?[2] == 1)
    }

    @Test func aTruncatedFileWithOnlyAPartialLineIsResetOnce() throws {
        let (_, file, store, ingestor) = try setUp()
        append(turnLine("z0") + "\n" + turnLine("z1") + "\n", to: file)
        _ = ingestor.follow(path: file)
        truncate(file, to: 0)
        append("{\"type\":", to: file)
        let reset = ingestor.follow(path: file)
        #expect(reset.restart == .truncated && reset.lines == 0 && reset.offset == 0)
        #expect(try store.followedSource(name: file)?.offset == 0)
        #expect(try store.followedSource(name: file)?.lines == 0)
        append(String(turnLine("z2").dropFirst(8)) + "\n", to: file)
        let next = ingestor.follow(path: file)
        #expect(next.restart == nil && next.counts == IngestCounts(ingested: 1))
        #expect(try store.followedSource(name: file)?.lines == 1)
    }

    @Test func anOffsetFromAOneShotIngestIsNotTrusted() throws {
        let (_, file, store, ingestor) = try setUp()
        // A one-shot ingest reads the unterminated tail too and records no inode.
        append(turnLine("o0") + "\nbad", to: file)
        #expect(ingestor.ingest(path: file).counts == IngestCounts(ingested: 1, quarantined: 1))
        append("ly cut\n" + turnLine("o1") + "\n", to: file)
        let r = ingestor.follow(path: file)
        #expect(r.restart == .unverified)
        #expect(r.counts == IngestCounts(ingested: 1, duplicates: 1, quarantined: 1))  // "badly cut" is a new line 2
        #expect(try store.eventIDs() == ["o0", "o1"])
        #expect(try store.followedSource(name: file)?.lines == 3)
    }

    @Test func anUnfinishedOverLongLineWaitsThenIsQuarantinedOnce() throws {
        let (_, file, store, ingestor) = try setUp(maxLineBytes: 64)
        append("{\"a\":1}\n" + String(repeating: "y", count: 200), to: file)
        let first = ingestor.follow(path: file)
        #expect(first.counts == IngestCounts(quarantined: 1) && first.pendingBytes == 200)  // {"a":1} lacks fields
        append(String(repeating: "y", count: 50) + "\n", to: file)
        let second = ingestor.follow(path: file)
        #expect(second.counts == IngestCounts(quarantined: 1))
        let entries = try store.quarantineEntries(limit: 10)
        #expect(entries.map(\.line) == [1, 2])
        #expect(entries[1].reasonKind == "too_long" && entries[1].reason.contains("250 bytes"))
        #expect(try store.followedSource(name: file)?.offset == Int64(8 + 251))
    }

    @Test func stopsBetweenBatchesAndContinuesLater() throws {
        let (_, file, store, ingestor) = try setUp(batchSize: 1)
        append((0..<5).map { turnLine("b\($0)") }.joined(separator: "\n") + "\n", to: file)
        var asked = 0
        let part = ingestor.follow(path: file, shouldStop: { asked += 1; return asked >= 2 })
        #expect(part.batches == 2 && part.counts.ingested == 2)
        #expect(try store.followedSource(name: file)?.lines == 2)
        let rest = ingestor.follow(path: file)
        #expect(rest.counts == IngestCounts(ingested: 3))
        #expect(try store.ingestTotals().events == 5)
    }

    @Test func aMissingFileIsNotAnError() throws {
        let (dir, _, _, ingestor) = try setUp()
        let r = ingestor.follow(path: dir + "/gone.jsonl")
        #expect(r.missing && r.error == nil)
        let d = ingestor.follow(path: dir)
        #expect(!d.missing && d.error == "not a regular file")
    }

    @Test func aByteOrderMarkAndCRLFLinesResumeCleanly() throws {
        let (_, file, store, ingestor) = try setUp()
        append([0xEF, 0xBB, 0xBF] + Array((turnLine("m0") + "\r\n").utf8), to: file)
        #expect(ingestor.follow(path: file).counts == IngestCounts(ingested: 1))
        append(turnLine("m1") + "\r\n\r\n", to: file)
        let r = ingestor.follow(path: file)
        #expect(r.restart == nil && r.counts == IngestCounts(ingested: 1) && r.blank == 1)
        #expect(try store.followedSource(name: file)?.lines == 3)
    }
}

import FlywheelCore
import FlywheelStore
import Foundation

/// Ingesting a body that is already in memory (an HTTP request): a JSON array of events or NDJSON, with
/// the same decoding, quarantine and counts as a file, and every record's bytes stored as they were sent.
extension Ingestor {
    /// How a body was laid out. A body whose first byte (after whitespace and a byte order mark) is `[` is a
    /// JSON array; anything else is NDJSON.
    public enum BodyFormat: String, Sendable {
        case ndjson
        case jsonArray = "json_array"
    }

    public struct BodyReport: Sendable {
        public var format: BodyFormat
        /// Counts and quarantined records, as for a file. For a JSON array, `lines` counts the array's
        /// elements and a problem's `line` is the element's 1-based position. `report.error` is set when
        /// the store failed: then nothing of the body was stored.
        public var report: Report
        /// Set when the body starts with `[` but is not a JSON array (why, with the byte offset). The whole
        /// body was then quarantined as one record (line 1) and nothing else was stored.
        public var malformed: String?
    }

    /// Ingests every record of `body` in one transaction: either all of the body's records are accounted
    /// for (stored, duplicate or quarantined) or, when the store fails, none is written.
    ///
    /// Records are decoded before the transaction opens, so callers on several threads decode at the same
    /// time and only wait for each other to write. Safe to call from several threads at once.
    ///
    /// Image refs: the body comes from a client, not from this disk, so only relative refs are looked up,
    /// under `imageDirectory` (and `options.imageRoot`); absolute refs and refs that climb out with `..` are
    /// recorded unread (status missing, with the hash the producer declared). `imageDirectory` nil reads no
    /// files at all.
    public func ingest(body: UnsafeRawBufferPointer, sourceName: String, kind: String, imageDirectory: String?) -> BodyReport {
        var body = body
        if body.count >= 3, body[0] == 0xEF, body[1] == 0xBB, body[2] == 0xBF {
            body = UnsafeRawBufferPointer(rebasing: body[3...])
        }
        var first = 0
        while first < body.count, BodySplitter.isSpace(body[first]) { first += 1 }
        let format: BodyFormat = first < body.count && body[first] == UInt8(ascii: "[") ? .jsonArray : .ndjson
        var result = BodyReport(format: format, report: Report(source: sourceName))

        var records: [MemoryRecord]
        var blank = 0
        switch format {
        case .ndjson:
            (records, blank) = BodySplitter.ndjsonLines(body, maxLineBytes: options.maxLineBytes)
        case .jsonArray:
            switch BodySplitter.arrayElements(body) {
            case .success(let ranges):
                records = ranges.enumerated().map { BodySplitter.record($0.element, line: $0.offset + 1, maxLineBytes: options.maxLineBytes) }
            case .failure(let why):
                let message = "the body starts with \"[\" but is not a JSON array: \(why)"
                result.malformed = message
                records = [MemoryRecord(range: 0..<body.count, line: 1, outcome: .bad(EventDecodingError(.notJSON, message)))]
            }
        }
        for i in records.indices where records[i].outcome == nil {
            let raw = UnsafeRawBufferPointer(rebasing: body[records[i].range])
            do {
                records[i].outcome = .event(try EventDecoder.decode(line: raw))
            } catch {
                records[i].outcome = .bad(error)
            }
        }

        let images = ConfinedImages(directory: imageDirectory, imageRoot: options.imageRoot)
        var problems: [Problem] = []
        do {
            let counts = try store.ingestTransaction { batch in
                let sourceID = try batch.source(name: sourceName, kind: kind).id
                for record in records {
                    let raw = UnsafeRawBufferPointer(rebasing: body[record.range])
                    switch record.outcome! {
                    case .event(let event):
                        try batch.insert(event, raw: raw, sourceID: sourceID, line: record.line, resolveImage: images.resolve)
                    case .bad(let error):
                        try batch.quarantine(raw: raw, source: sourceName, line: record.line, error: error)
                        if problems.count < Self.maxProblems {
                            problems.append(Problem(line: record.line, kind: error.kind.rawValue, message: error.message))
                        }
                    }
                }
                try batch.updateSource(id: sourceID, offset: nil, lines: records.count + blank, counts: batch.counts)
                return batch.counts
            }
            result.report.counts = counts
            result.report.lines = records.count + blank
            result.report.blank = blank
            result.report.problems = problems
        } catch {
            result.report.error = "\(error)"
        }
        return result
    }
}

struct MemoryRecord {
    enum Outcome {
        case event(Event)
        case bad(EventDecodingError)
    }
    var range: Range<Int>
    var line: Int
    var outcome: Outcome?

    init(range: Range<Int>, line: Int, outcome: Outcome? = nil) {
        self.range = range
        self.line = line
        self.outcome = outcome
    }
}

/// Splits in-memory bodies into records, byte ranges into the body.
enum BodySplitter {
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    /// NDJSON lines the way `LineReader` reads a file: lines are numbered from 1 counting blank ones, a
    /// trailing CR is not part of the line, whitespace-only lines are blank (counted, not records), and a
    /// line over `maxLineBytes` becomes a `too_long` record holding its first 64 KiB.
    static func ndjsonLines(_ body: UnsafeRawBufferPointer, maxLineBytes: Int) -> (records: [MemoryRecord], blank: Int) {
        var records: [MemoryRecord] = []
        records.reserveCapacity(body.count / 128 + 1)
        var blank = 0
        var line = 0
        var start = 0
        let n = body.count
        guard let base = body.baseAddress, n > 0 else { return ([], 0) }
        while start < n {
            let end: Int
            if let nl = memchr(base + start, 0x0A, n - start) {
                end = base.distance(to: UnsafeRawPointer(nl))
            } else {
                end = n
            }
            line += 1
            var stop = end
            if stop > start, body[stop - 1] == 0x0D { stop -= 1 }
            var isBlank = true
            for i in start..<stop where !isSpace(body[i]) {
                isBlank = false
                break
            }
            if isBlank {
                blank += 1
            } else {
                records.append(record(start..<stop, line: line, maxLineBytes: maxLineBytes))
            }
            start = end + 1
        }
        return (records, blank)
    }

    /// A record to decode, or, over `maxLineBytes`, a `too_long` one that keeps its first 64 KiB.
    static func record(_ range: Range<Int>, line: Int, maxLineBytes: Int) -> MemoryRecord {
        guard range.count > maxLineBytes else { return MemoryRecord(range: range, line: line) }
        let kept = min(64 << 10, maxLineBytes)
        return MemoryRecord(range: range.lowerBound..<(range.lowerBound + kept), line: line, outcome: .bad(EventDecodingError(
            .tooLong, "line is \(range.count) bytes, over the \(maxLineBytes)-byte limit; only its first \(kept) bytes are kept")))
    }

    /// The byte ranges of a JSON array's elements, verbatim (surrounding whitespace excluded). Only the
    /// array's structure is checked here (brackets, strings, commas); each element is decoded, and
    /// quarantined if bad, on its own. Fails when the structure is broken, saying why and where.
    static func arrayElements(_ b: UnsafeRawBufferPointer) -> Result<[Range<Int>], ArrayShapeError> {
        let n = b.count
        var i = 0
        func skipSpace() { while i < n, isSpace(b[i]) { i += 1 } }
        skipSpace()
        guard i < n, b[i] == UInt8(ascii: "[") else { return .failure(.init("expected \"[\"", i)) }
        i += 1
        skipSpace()
        var elements: [Range<Int>] = []
        elements.reserveCapacity(n / 128 + 1)
        if i < n, b[i] == UInt8(ascii: "]") {
            i += 1
            skipSpace()
            return i == n ? .success([]) : .failure(.init("unexpected bytes after the array", i))
        }
        var closers: [UInt8] = []  // brackets open inside the current element, innermost last
        while true {
            let start = i
            var inString = false
            scan: while i < n {
                let c = b[i]
                if inString {
                    if c == UInt8(ascii: "\\") { i += 2; continue }
                    if c == UInt8(ascii: "\"") { inString = false }
                    i += 1
                    continue
                }
                switch c {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"): closers.append(UInt8(ascii: "}"))
                case UInt8(ascii: "["): closers.append(UInt8(ascii: "]"))
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if closers.isEmpty {
                        if c == UInt8(ascii: "]") { break scan }
                        return .failure(.init("unbalanced \"}\"", i))
                    }
                    if closers.removeLast() != c { return .failure(.init("mismatched \"\(Character(Unicode.Scalar(c)))\"", i)) }
                case UInt8(ascii: ","):
                    if closers.isEmpty { break scan }
                default: break
                }
                i += 1
            }
            if i >= n {
                return .failure(.init(inString ? "unterminated string" : "the array is not closed", min(i, n)))
            }
            var end = i
            while end > start, isSpace(b[end - 1]) { end -= 1 }
            if end == start { return .failure(.init("empty element", i)) }
            elements.append(start..<end)
            if b[i] == UInt8(ascii: ",") {
                i += 1
                skipSpace()
                continue
            }
            // b[i] is the array's closing "]".
            i += 1
            skipSpace()
            return i == n ? .success(elements) : .failure(.init("unexpected bytes after the array", i))
        }
    }
}

struct ArrayShapeError: Error, CustomStringConvertible {
    var what: String
    var offset: Int
    init(_ what: String, _ offset: Int) {
        self.what = what
        self.offset = offset
    }
    var description: String { "\(what) at byte \(offset)" }
}

/// Image lookups for bodies sent over the network: relative refs inside the given folders only.
struct ConfinedImages {
    let resolver: ImageResolver?

    init(directory: String?, imageRoot: String?) {
        resolver = directory.map { ImageResolver(baseDirectory: $0, imageRoot: imageRoot) }
    }

    func resolve(_ ref: ImageRef) -> ResolvedImage {
        if ref.isURL { return ResolvedImage(ref: ref.ref, path: nil, status: .url, sha256: ref.sha256) }
        let climbs = ref.ref.split(separator: "/", omittingEmptySubsequences: false).contains("..")
        guard let resolver, !ref.ref.hasPrefix("/"), !climbs else {
            return ResolvedImage(ref: ref.ref, path: nil, status: .missing, sha256: ref.sha256)
        }
        return resolver.resolve(ref)
    }
}

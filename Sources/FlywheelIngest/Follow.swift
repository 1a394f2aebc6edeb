import FlywheelCore
import FlywheelStore
import Foundation

/// Following a file that grows: each call reads what was appended since the offset committed last time,
/// complete lines only, and commits every batch of events together with the new offset, the file's size
/// and inode, and the line count. A crash at any moment therefore loses nothing and stores nothing twice:
/// the next call starts where the last committed batch ended.
extension Ingestor {
    /// What one `follow(path:)` call did.
    public struct FollowReport: Sendable {
        /// Why the file was read from its start again although an offset was committed.
        public enum Restart: String, Sendable {
            /// The file is shorter than the committed offset.
            case truncated
            /// Another file (another inode) now has this path.
            case replaced
            /// The committed offset cannot be trusted for this file: no inode was recorded with it (a
            /// one-shot ingest), or it is not just after a newline.
            case unverified
        }

        public var source: String
        public var restart: Restart?
        /// Where this call started reading, and the offset committed when it returned.
        public var startOffset: Int64 = 0
        public var offset: Int64 = 0
        /// Bytes after `offset` that were not read: an unterminated last line, waiting for its newline.
        public var pendingBytes: Int64 = 0
        /// Complete lines read (blank ones included) and committed.
        public var lines = 0
        public var blank = 0
        /// Batches committed.
        public var batches = 0
        /// Events stored and skipped as duplicates; `quarantined` counts only lines not quarantined before.
        public var counts = IngestCounts()
        public var problems: [Problem] = []
        /// The file was not there (any more). Not an error: it may have been rotated away.
        public var missing = false
        public var error: String?

        public init(source: String) { self.source = source }
    }

    /// One committed batch of a followed file.
    public struct FollowProgress: Sendable {
        public var source: String
        public var lines: Int
        public var counts: IngestCounts
        /// Offset and line number committed with the batch.
        public var offset: Int64
        public var lineNumber: Int
    }

    /// The `ingest_sources.kind` of followed files.
    public static let followedKind = "watch"

    /// Reads the complete lines appended to `path` since its committed offset and commits them batch by
    /// batch with the new offset. A file shorter than its offset, or with another inode, is read again from
    /// its start (line numbers too); event ids make that idempotent, and a quarantined line comes back with
    /// the same source, line number and bytes, so it is not stored twice. `shouldStop` is asked between
    /// batches; `onBatch` hears about every commit.
    public func follow(path: String, shouldStop: () -> Bool = { false },
                       onBatch: (FollowProgress) -> Void = { _ in }) -> FollowReport {
        let name = URL(fileURLWithPath: path).standardizedFileURL.path
        var report = FollowReport(source: name)
        let fd = open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { report.missing = true } else { report.error = String(cString: strerror(errno)) }
            return report
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            report.error = String(cString: strerror(errno))
            return report
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            report.error = "not a regular file"
            return report
        }
        let inode = Int64(bitPattern: UInt64(st.st_ino))
        let stored: FollowedSource?
        do {
            stored = try store.followedSource(name: name)
        } catch {
            report.error = "\(error)"
            return report
        }

        // Where to start: the committed offset if it still describes this file, else the beginning.
        var start: Int64 = 0
        var startLine = 0
        if let s = stored, s.offset > 0 || s.lines > 0 {
            if s.inode == nil {
                report.restart = .unverified
            } else if s.inode != inode {
                report.restart = .replaced
            } else if Int64(st.st_size) < s.offset {
                report.restart = .truncated
            } else if s.offset > 0 && !Self.newline(before: s.offset, fd: fd) {
                report.restart = .unverified
            } else {
                start = s.offset
                startLine = s.lines
            }
        }
        report.startOffset = start
        report.offset = start
        if report.restart == nil && Int64(st.st_size) == start { return report }
        if start > 0 && lseek(fd, off_t(start), SEEK_SET) != off_t(start) {
            report.error = String(cString: strerror(errno))
            return report
        }

        let reader = LineReader(fd: fd, startOffset: start, startLine: startLine, completeLinesOnly: true,
                                initialBuffer: 64 << 10, maxLineBytes: options.maxLineBytes)
        let images = ImageResolver(baseDirectory: URL(fileURLWithPath: name).deletingLastPathComponent().path,
                                   imageRoot: options.imageRoot)
        let pipeline = DecodePipeline(reader: reader, batchSize: options.batchSize, maxLineBytes: options.maxLineBytes)
        pipeline.start()
        var committedLines = stored?.lines ?? 0
        var lineTotal = startLine
        var first = true
        while true {
            let decoded = pipeline.next()
            // A restart is committed even with no complete line yet, so it is noticed once.
            let mustCommit = decoded.lines > 0 || (first && report.restart != nil)
            if mustCommit {
                let newTotal = lineTotal + decoded.lines
                let newOffset = decoded.lines > 0 ? decoded.endOffset : start
                do {
                    let counts = try store.ingestTransaction { batch -> IngestCounts in
                        if first, try batch.followedSource(name: name) != stored {
                            throw FollowError.changedMeanwhile
                        }
                        let sourceID = try batch.source(name: name, kind: Self.followedKind).id
                        let fresh = try write(decoded, to: batch, sourceID: sourceID, sourceName: name, images: images,
                                              problems: &report.problems)
                        var counts = batch.counts
                        counts.quarantined = fresh
                        var now = stat()
                        let size = fstat(fd, &now) == 0 ? Int64(now.st_size) : Int64(st.st_size)
                        // `lines` is added to the stored count: the difference sets it to this file's line number.
                        try batch.updateSource(id: sourceID, offset: newOffset, size: size, inode: inode,
                                               lines: newTotal - committedLines, counts: counts)
                        return counts
                    }
                    committedLines = newTotal
                    lineTotal = newTotal
                    report.offset = newOffset
                    report.counts += counts
                    report.lines += decoded.lines
                    report.blank += decoded.blank
                    if decoded.lines > 0 {
                        report.batches += 1
                        onBatch(FollowProgress(source: name, lines: decoded.lines, counts: counts,
                                               offset: newOffset, lineNumber: newTotal))
                    }
                } catch {
                    report.error = "\(error)"
                    pipeline.cancel()
                    return report
                }
            }
            first = false
            if let e = decoded.readError { report.error = "\(e)" }
            if decoded.isLast {
                report.pendingBytes = decoded.pendingBytes
                break
            }
            if shouldStop() {
                pipeline.cancel()
                break
            }
        }
        return report
    }

    /// Whether the byte just before `offset` is a newline, i.e. the offset is at a line boundary.
    private static func newline(before offset: Int64, fd: Int32) -> Bool {
        var byte: UInt8 = 0
        return pread(fd, &byte, 1, off_t(offset - 1)) == 1 && byte == 0x0A
    }
}

enum FollowError: Error, CustomStringConvertible {
    case changedMeanwhile
    var description: String {
        switch self {
        case .changedMeanwhile: return "the source's committed offset changed while it was being read (another collector on the same database?)"
        }
    }
}

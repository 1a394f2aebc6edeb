import FlywheelCore
import FlywheelStore
import Foundation

/// The ingest pipeline: streams lines from files or stdin, decodes them, and writes them to the store in
/// batched transactions. Good lines are stored, bad lines are quarantined with their reason, and
/// ingestion always goes on.
public final class Ingestor {
    public struct Options: Sendable {
        public var batchSize = 5_000
        public var maxLineBytes = 64 << 20
        public var imageRoot: String?
        public init(batchSize: Int = 5_000, maxLineBytes: Int = 64 << 20, imageRoot: String? = nil) {
            self.batchSize = batchSize
            self.maxLineBytes = maxLineBytes
            self.imageRoot = imageRoot
        }
    }

    /// What happened to one input.
    public struct Report: Sendable {
        public var source: String
        public var lines = 0
        public var blank = 0
        public var counts = IngestCounts()
        /// Set when the input could not be (fully) read.
        public var error: String?
        /// The quarantined lines, in order: where, why (the first `maxProblems`; `counts.quarantined` has them all).
        public var problems: [Problem] = []
    }

    public struct Problem: Sendable, Equatable {
        public var line: Int
        public var kind: String
        public var message: String
    }

    /// How many quarantined lines a report lists one by one.
    public static let maxProblems = 1_000

    public let store: Store
    public let options: Options

    public init(store: Store, options: Options = Options()) {
        self.store = store
        self.options = options
    }

    /// Ingests a file, or standard input for "-".
    public func ingest(path: String) -> Report {
        if path == "-" {
            return ingest(fd: 0, sourceName: "stdin", kind: "stdin", baseDirectory: FileManager.default.currentDirectoryPath)
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: absolute, isDirectory: &isDir), isDir.boolValue {
            var r = Report(source: absolute)
            r.error = "is a directory"
            return r
        }
        let fd = open(absolute, O_RDONLY)
        guard fd >= 0 else {
            var r = Report(source: absolute)
            r.error = String(cString: strerror(errno))
            return r
        }
        defer { close(fd) }
        return ingest(fd: fd, sourceName: absolute, kind: "file",
                      baseDirectory: URL(fileURLWithPath: absolute).deletingLastPathComponent().path)
    }

    /// Ingests everything readable from `fd`: a decoder thread turns lines into batches while this thread
    /// writes each batch in one transaction, source offset included.
    public func ingest(fd: Int32, sourceName: String, kind: String, baseDirectory: String) -> Report {
        var report = Report(source: sourceName)
        let reader = LineReader(fd: fd, maxLineBytes: options.maxLineBytes)
        let images = ImageResolver(baseDirectory: baseDirectory, imageRoot: options.imageRoot)
        let pipeline = DecodePipeline(reader: reader, batchSize: options.batchSize, maxLineBytes: options.maxLineBytes)
        pipeline.start()
        var sourceID: Int64?
        while true {
            let decoded = pipeline.next()
            do {
                let committed = try store.ingestTransaction { batch in
                    if sourceID == nil { sourceID = try batch.source(name: sourceName, kind: kind).id }
                    try write(decoded, to: batch, sourceID: sourceID!, sourceName: sourceName, images: images, problems: &report.problems)
                    try batch.updateSource(id: sourceID!, offset: decoded.endOffset, lines: decoded.lines, counts: batch.counts)
                    return batch.counts
                }
                report.counts += committed
                report.lines += decoded.lines
                report.blank += decoded.blank
            } catch {
                report.error = "\(error)"
                pipeline.cancel()
                break
            }
            if let e = decoded.readError { report.error = "\(e)" }
            if decoded.isLast { break }
        }
        return report
    }

    /// Writes one decoded batch. Returns how many quarantined lines were new: a line quarantined before
    /// (same source, line number and bytes) is not stored again, though `batch.counts` counts it.
    @discardableResult
    func write(_ decoded: DecodedBatch, to batch: IngestBatch, sourceID: Int64, sourceName: String,
               images: ImageResolver, problems: inout [Problem]) throws -> Int {
        var newlyQuarantined = 0
        try decoded.arena.withUnsafeBytes { arena in
            for item in decoded.items {
                let raw = UnsafeRawBufferPointer(rebasing: arena[item.start..<(item.start + item.length)])
                switch item.outcome {
                case .event(let event):
                    try batch.insert(event, raw: raw, sourceID: sourceID, line: item.line, resolveImage: images.resolve)
                case .bad(let error):
                    let before = batch.changeCount
                    try batch.quarantine(raw: raw, source: sourceName, line: item.line, error: error)
                    if batch.changeCount != before { newlyQuarantined += 1 }
                    if problems.count < Self.maxProblems {
                        problems.append(Problem(line: item.line, kind: error.kind.rawValue, message: error.message))
                    }
                }
            }
        }
        return newlyQuarantined
    }
}

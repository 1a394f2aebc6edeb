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
    }

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

    /// Ingests everything readable from `fd`, in transactions of `batchSize` lines.
    public func ingest(fd: Int32, sourceName: String, kind: String, baseDirectory: String) -> Report {
        var report = Report(source: sourceName)
        let reader = LineReader(fd: fd, maxLineBytes: options.maxLineBytes)
        let images = ImageResolver(baseDirectory: baseDirectory, imageRoot: options.imageRoot)
        var sourceID: Int64?
        var finished = false
        while !finished {
            do {
                try store.ingestTransaction { batch in
                    if sourceID == nil { sourceID = try batch.source(name: sourceName, kind: kind).id }
                    let before = batch.counts
                    var lines = 0
                    while lines < options.batchSize {
                        guard let next = try reader.next() else { finished = true; break }
                        lines += 1
                        try process(next, reader: reader, batch: batch, sourceID: sourceID!, sourceName: sourceName,
                                    images: images, report: &report)
                    }
                    var delta = batch.counts
                    delta.ingested -= before.ingested
                    delta.duplicates -= before.duplicates
                    delta.quarantined -= before.quarantined
                    try batch.updateSource(id: sourceID!, offset: reader.offset, lines: lines, counts: delta)
                    report.lines += lines
                    report.counts += delta
                }
            } catch {
                report.error = "\(error)"
                finished = true
            }
        }
        return report
    }

    private func process(_ next: LineReader.Line, reader: LineReader, batch: IngestBatch, sourceID: Int64,
                         sourceName: String, images: ImageResolver, report: inout Report) throws {
        switch next {
        case .tooLong(let prefix, let length):
            try batch.quarantine(raw: prefix, source: sourceName, line: reader.lineNumber, error: EventDecodingError(
                .tooLong, "line is \(length) bytes, over the \(options.maxLineBytes)-byte limit; only its first \(prefix.count) bytes are kept"))
        case .line(let bytes):
            if isBlank(bytes) {
                report.blank += 1
                return
            }
            do {
                let event = try EventDecoder.decode(line: bytes)
                try batch.insert(event, raw: bytes, sourceID: sourceID, line: reader.lineNumber, resolveImage: images.resolve)
            } catch let error as EventDecodingError {
                try batch.quarantine(raw: bytes, source: sourceName, line: reader.lineNumber, error: error)
            }
        }
    }

    private func isBlank(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for b in bytes where b != 0x20 && b != 0x09 && b != 0x0D { return false }
        return true
    }
}

import FlywheelIngest
import FlywheelStore
import Foundation
import Logging

/// What one scan of the inbox did.
public struct WatchReport: Sendable {
    public var directory: String
    /// `*.jsonl` regular files in the directory.
    public var filesSeen = 0
    /// The files that had changed since the last scan and were read, in name order.
    public var files: [Ingestor.FollowReport] = []
    /// Totals over `files`.
    public var counts = IngestCounts()
    public var lines = 0
    /// Files that could not be read this time, and why; they are tried again on the next scan.
    public var errors: [String: String] = [:]
    /// Set when the directory itself could not be listed.
    public var directoryError: String?

    public init(directory: String) { self.directory = directory }
}

/// Follows every `*.jsonl` file in a directory: files are read from the offset committed with their last
/// batch, new files are picked up, a partial last line waits for its newline, and a truncated or replaced
/// file is read again from its start (event ids keep that idempotent). Offsets are committed in the same
/// transaction as the events they cover, so the watcher can be killed at any moment and restarted.
///
/// Polling: every `pollInterval` each file is `stat`ed, and only a file whose inode, size or mtime changed
/// is opened. Names starting with "." (writers' temporary files), other extensions and subdirectories are
/// ignored. One watcher per database: scans are serialised, and two watchers following the same files
/// into one database would each refuse the other's offsets.
public final class InboxWatcher: @unchecked Sendable {
    public let store: Store
    public let directory: String
    public let options: Ingestor.Options
    public let metrics: CollectorMetrics
    public let logger: Logger

    private let ingestor: Ingestor
    private let lock = NSLock()
    /// The stat of each file as it was before its last complete, successful read.
    private var seen: [String: FileStamp] = [:]
    /// Problems already logged, so a file that stays unreadable is logged once, not every scan.
    private var loggedErrors: [String: String] = [:]

    struct FileStamp: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var mtimeSeconds: Int
        var mtimeNanoseconds: Int
    }

    public init(store: Store, directory: String, options: Ingestor.Options = Ingestor.Options(),
                metrics: CollectorMetrics, logger: Logger) {
        self.store = store
        self.directory = URL(fileURLWithPath: directory).standardizedFileURL.path
        self.options = options
        self.metrics = metrics
        self.logger = logger
        self.ingestor = Ingestor(store: store, options: options)
    }

    /// Reads whatever is new in every `*.jsonl` file of the directory, in name order.
    public func scanOnce() -> WatchReport {
        scan(shouldStop: { false })
    }

    /// Scans every `pollInterval` seconds until `stop` returns true. `stop` is also asked between files and
    /// between batches of a long file, so stopping takes at most one batch.
    public func run(until stop: () -> Bool, pollInterval: Double = 0.5) {
        while !stop() {
            _ = scan(shouldStop: stop)
            let deadline = Date().addingTimeInterval(max(0.01, pollInterval))
            while !stop() {
                let left = deadline.timeIntervalSinceNow
                if left <= 0 { break }
                Thread.sleep(forTimeInterval: min(left, 0.05))
            }
        }
    }

    func scan(shouldStop: () -> Bool) -> WatchReport {
        lock.lock()
        defer { lock.unlock() }
        var report = WatchReport(directory: directory)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { $0.hasSuffix(".jsonl") && !$0.hasPrefix(".") }
                .sorted()
            clearError(directory, what: "inbox directory")
        } catch {
            let why = (error as NSError).localizedDescription
            report.directoryError = why
            logOnce(directory, why, what: "inbox directory")
            return report
        }
        var present = Set<String>()
        for name in names {
            if shouldStop() { break }
            let path = directory + "/" + name
            var st = stat()
            guard stat(path, &st) == 0 else {
                if errno != ENOENT { noteError(path, String(cString: strerror(errno)), in: &report) }
                continue  // gone since the listing: not an error
            }
            guard (st.st_mode & S_IFMT) == S_IFREG else { continue }
            present.insert(path)
            report.filesSeen += 1
            let stamp = FileStamp(st)
            if seen[path] == stamp { continue }

            var stopped = false
            let r = ingestor.follow(path: path, shouldStop: {
                stopped = shouldStop()
                return stopped
            }, onBatch: { batch in
                metrics.add("flywheel_ingested_events_total", Double(batch.counts.ingested))
                metrics.add("flywheel_duplicate_events_total", Double(batch.counts.duplicates))
                metrics.add("flywheel_quarantined_lines_total", Double(batch.counts.quarantined))
                logger.info("ingested batch", metadata: [
                    "file": "\(batch.source)", "lines": "\(batch.lines)", "ingested": "\(batch.counts.ingested)",
                    "duplicates": "\(batch.counts.duplicates)", "quarantined": "\(batch.counts.quarantined)",
                    "offset": "\(batch.offset)", "line": "\(batch.lineNumber)",
                ])
            })
            if let restart = r.restart {
                logger.notice("file read again from its start", metadata: [
                    "file": "\(path)", "reason": "\(restart.rawValue)", "lines": "\(r.lines)",
                ])
            }
            if r.missing {
                seen[path] = nil
                present.remove(path)
                report.filesSeen -= 1
                continue
            }
            if r.lines > 0 || r.restart != nil || r.error != nil {
                report.files.append(r)
                report.counts += r.counts
                report.lines += r.lines
            }
            if let error = r.error {
                seen[path] = nil
                noteError(path, error, in: &report)
            } else {
                clearError(path, what: "file")
                // Remembered only after a read to the end: a file that grew meanwhile has another stamp.
                if !stopped { seen[path] = stamp }
            }
        }
        // Forget files that are gone, so one that comes back is looked at.
        for path in seen.keys where !present.contains(path) { seen[path] = nil }
        let listed = Set(names.map { directory + "/" + $0 })
        for path in loggedErrors.keys where path != directory && !listed.contains(path) { loggedErrors[path] = nil }
        return report
    }

    private func noteError(_ path: String, _ why: String, in report: inout WatchReport) {
        report.errors[path] = why
        logOnce(path, why, what: "file")
    }

    private func logOnce(_ path: String, _ why: String, what: String) {
        guard loggedErrors[path] != why else { return }
        loggedErrors[path] = why
        logger.warning("cannot read \(what); retrying every scan", metadata: ["path": "\(path)", "error": "\(why)"])
    }

    private func clearError(_ path: String, what: String) {
        if loggedErrors.removeValue(forKey: path) != nil {
            logger.notice("\(what) readable again", metadata: ["path": "\(path)"])
        }
    }
}

extension InboxWatcher.FileStamp {
    init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        #if os(Linux)
        mtimeSeconds = Int(st.st_mtim.tv_sec)
        mtimeNanoseconds = Int(st.st_mtim.tv_nsec)
        #else
        mtimeSeconds = Int(st.st_mtimespec.tv_sec)
        mtimeNanoseconds = Int(st.st_mtimespec.tv_nsec)
        #endif
    }
}

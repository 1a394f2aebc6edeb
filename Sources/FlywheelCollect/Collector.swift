import FlywheelAnalyze
import FlywheelIngest
import FlywheelLLM
import FlywheelStore
import Foundation
import Logging

/// A flag the signal handlers set and every loop checks between batches.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSCondition()
    private var stopped = false
    public init() {}
    public var isSet: Bool { lock.lock(); defer { lock.unlock() }; return stopped }
    public func set() { lock.lock(); stopped = true; lock.broadcast(); lock.unlock() }
    /// Sleeps up to `seconds`, waking early when the flag is set; returns whether it is set.
    @discardableResult
    public func wait(seconds: Double) -> Bool {
        lock.lock(); defer { lock.unlock() }
        let deadline = Date().addingTimeInterval(seconds)
        while !stopped { if !lock.wait(until: deadline) { break } }
        return stopped
    }
}

public struct CollectorOptions: Sendable {
    public var watchDirectories: [String] = []
    public var readStdin = false
    /// Seconds between scheduled analyses.
    public var interval: Double = 300
    /// Seconds between looks at the watched folders.
    public var pollInterval: Double = 0.5
    public var analysis = AnalysisOptions()
    public var ingest = Ingestor.Options()
    /// Where stdin is spooled before it is ingested (see `Collector.spoolStdin`).
    public var spoolDirectory: String?
    /// Stop when stdin ends (stdin is the only source): a pipeline's collector exits with its producer.
    public var stopWhenStdinEnds = false
    public init() {}
}

/// The long-running collector: follows the watched folders, reads stdin, and analyses newly completed
/// sessions (and runs LLM extraction) on a schedule. Every part stops between batches when asked, so a
/// SIGINT/SIGTERM loses nothing: what was read is committed with its offset.
public final class Collector: @unchecked Sendable {
    let store: Store
    let options: CollectorOptions
    let llm: ChatCompleting?
    let llmModel: String?
    public let metrics: CollectorMetrics
    let logger: Logger

    public init(store: Store, options: CollectorOptions, llm: ChatCompleting?, llmModel: String?, metrics: CollectorMetrics, logger: Logger) {
        self.store = store
        self.options = options
        self.llm = llm
        self.llmModel = llmModel
        self.metrics = metrics
        self.logger = logger
    }

    /// Copies standard input into a spool file that a watcher follows like any inbox file. A pipeline that
    /// trickles events is ingested as lines arrive (not when a batch fills), and a kill at any moment loses
    /// nothing: bytes read from the pipe are in the spool file, and the spool's offset is committed with the
    /// events. Leftover spool files from an earlier run are picked up by the same watcher. A spool file is
    /// removed once it is fully ingested.
    func spoolStdin(into directory: String, watcher: InboxWatcher, stop: StopFlag?) {
        let name = "stdin-\(Int64(Date().timeIntervalSince1970 * 1000))-\(getpid()).jsonl"
        let path = directory + "/" + name
        let out = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard out >= 0 else {
            logger.error("cannot create the stdin spool file", metadata: ["file": "\(path)", "error": "\(String(cString: strerror(errno)))"])
            return
        }
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while stop?.isSet != true {
            let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                if n < 0 { logger.error("reading stdin failed", metadata: ["error": "\(String(cString: strerror(errno)))"]) }
                break
            }
            var written = 0
            while written < n {
                let w = buffer.withUnsafeBytes { write(out, $0.baseAddress! + written, n - written) }
                if w < 0 { if errno == EINTR { continue }; break }
                written += w
            }
            total += n
        }
        close(out)
        // Ingest what is left (the watcher may not have looked since the last bytes), then drop the file.
        let report = watcher.scanOnce()
        let failed = report.errors[path] != nil
        if !failed && FileManager.default.fileExists(atPath: path) && !endsWithPartialLine(path) {
            try? FileManager.default.removeItem(atPath: path)
        }
        logger.info("stdin ended", metadata: ["bytes": "\(total)", "spool": "\(path)"])
    }

    /// A last line without its newline stays in the spool (it is never ingested on its own), so the file is kept.
    func endsWithPartialLine(_ path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        guard let end = try? h.seekToEnd(), end > 0 else { return false }
        try? h.seek(toOffset: end - 1)
        return h.readData(ofLength: 1) != Data([0x0A])
    }

    func stdinWatcher() -> InboxWatcher? {
        guard let dir = options.spoolDirectory else { return nil }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            logger.error("cannot create the stdin spool folder", metadata: ["dir": "\(dir)", "error": "\(error)"])
            return nil
        }
        return InboxWatcher(store: store, directory: dir, options: options.ingest, metrics: metrics, logger: logger)
    }

    /// One scheduled analysis: newly completed sessions, feedback, then pending LLM extractions.
    @discardableResult
    public func analyseOnce(stop: StopFlag) -> AnalysisSummary? {
        var opts = options.analysis
        opts.now = Int64(Date().timeIntervalSince1970 * 1000)
        let started = Date()
        do {
            let s = try AnalysisJob(store: store, llm: llm, llmModel: llmModel, options: opts).run(shouldStop: { stop.isSet })
            metrics.add("flywheel_analysis_runs_total")
            metrics.add("flywheel_llm_calls_total", Double(s.llmAttempts))
            metrics.add("flywheel_llm_failures_total", Double(s.llmFailures))
            metrics.set("flywheel_last_analysis_timestamp_seconds", Date().timeIntervalSince1970)
            // A run that found nothing is logged at debug level, so an idle collector's log stays quiet.
            logger.log(level: s.sessions == 0 && s.llmAttempts == 0 && s.newSamples == 0 ? .debug : .info, "analysis", metadata: [
                "sessions": "\(s.sessions)", "open_sessions": "\(s.openSessions)", "signals": "\(s.newSignals)",
                "samples": "\(s.newSamples)", "llm_calls": "\(s.llmAttempts)", "llm_resolved": "\(s.llmResolved)",
                "llm_failures": "\(s.llmFailures)", "seconds": "\(String(format: "%.2f", Date().timeIntervalSince(started)))",
            ])
            return s
        } catch {
            metrics.add("flywheel_analysis_failures_total")
            logger.error("analysis failed: \(error)")
            return nil
        }
    }

    /// `--once`: what is there now (watched folders, stdin), one analysis, then return.
    public func runOnce(watchers: [InboxWatcher]) {
        let stop = StopFlag()
        for w in watchers { _ = w.scanOnce() }
        if options.readStdin, let spool = stdinWatcher() {
            spoolStdin(into: spool.directory, watcher: spool, stop: nil)
        }
        analyseOnce(stop: stop)
    }

    /// Runs until `stop` is set: each watcher on its own thread, stdin on another, and the schedule here.
    /// Returns once every thread has finished its batch.
    public func run(watchers: [InboxWatcher], stop: StopFlag) {
        let group = DispatchGroup()
        for w in watchers {
            group.enter()
            Thread.detachNewThread { [options] in
                w.run(until: { stop.isSet }, pollInterval: options.pollInterval)
                group.leave()
            }
        }
        if options.readStdin, let spool = stdinWatcher() {
            // The copier blocks in read(2) until the producer writes or closes; it is not waited for on a
            // stop (what it copied is already in the spool, followed by the spool's watcher).
            Thread.detachNewThread { [self] in
                spoolStdin(into: spool.directory, watcher: spool, stop: stop)
                if options.stopWhenStdinEnds { stop.set() }
            }
            group.enter()
            Thread.detachNewThread { [options] in
                spool.run(until: { stop.isSet }, pollInterval: min(options.pollInterval, 0.2))
                group.leave()
            }
        }
        while !stop.isSet {
            analyseOnce(stop: stop)
            stop.wait(seconds: options.interval)
        }
        group.wait()
        // What arrived since the last run is analysed before a pipeline's collector exits.
        if options.stopWhenStdinEnds { analyseOnce(stop: StopFlag()) }
    }
}

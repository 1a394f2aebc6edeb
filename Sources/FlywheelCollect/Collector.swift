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

    /// Reads standard input to its end (a pipeline feeding the collector).
    func ingestStdin() -> Ingestor.Report {
        let report = Ingestor(store: store, options: options.ingest).ingest(path: "-")
        record(report)
        logger.info("stdin read", metadata: [
            "lines": "\(report.lines)", "ingested": "\(report.counts.ingested)", "duplicates": "\(report.counts.duplicates)",
            "quarantined": "\(report.counts.quarantined)",
        ])
        if let e = report.error { logger.error("stdin: \(e)") }
        return report
    }

    func record(_ report: Ingestor.Report) {
        metrics.add("flywheel_ingested_events_total", Double(report.counts.ingested))
        metrics.add("flywheel_duplicate_events_total", Double(report.counts.duplicates))
        metrics.add("flywheel_quarantined_lines_total", Double(report.counts.quarantined))
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
            logger.info("analysis", metadata: [
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
        if options.readStdin { _ = ingestStdin() }
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
        if options.readStdin {
            group.enter()
            Thread.detachNewThread { [self] in
                _ = ingestStdin()
                group.leave()
            }
        }
        while !stop.isSet {
            analyseOnce(stop: stop)
            stop.wait(seconds: options.interval)
        }
        group.wait()
    }
}

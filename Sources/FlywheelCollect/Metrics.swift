/// FlywheelCollect: the long-running collector. It owns the watched inbox, the HTTP ingest server, the
/// schedule of analysis and LLM extraction, and the collector's metrics. It writes through FlywheelIngest
/// and FlywheelAnalyze and never contains SQL.
import FlywheelStore
import Foundation

/// Counters the collector's parts bump as they work; `/metrics` renders them with the store's figures in
/// Prometheus text format. Thread-safe: the HTTP server, the watcher and the scheduler share one.
public final class CollectorMetrics: @unchecked Sendable {
    private let lock = NSLock()
    private var counters: [String: Double] = [:]
    private var gauges: [String: Double] = [:]

    public init() {}

    public func add(_ name: String, _ value: Double = 1) {
        lock.lock(); counters[name, default: 0] += value; lock.unlock()
    }

    public func set(_ name: String, _ value: Double) {
        lock.lock(); gauges[name] = value; lock.unlock()
    }

    public func value(_ name: String) -> Double {
        lock.lock(); defer { lock.unlock() }
        return counters[name] ?? gauges[name] ?? 0
    }

    /// Names and help of what the collector counts; anything counted must be listed here.
    static let help: [String: (type: String, help: String)] = [
        "flywheel_ingested_events_total": ("counter", "Events stored by this collector (all sources)."),
        "flywheel_duplicate_events_total": ("counter", "Events skipped because their event_id was already stored."),
        "flywheel_quarantined_lines_total": ("counter", "Lines quarantined by this collector."),
        "flywheel_http_requests_total": ("counter", "HTTP requests answered."),
        "flywheel_http_rejected_total": ("counter", "HTTP requests refused (auth, size, bad body)."),
        "flywheel_analysis_runs_total": ("counter", "Scheduled analysis runs."),
        "flywheel_analysis_failures_total": ("counter", "Scheduled analysis runs that failed."),
        "flywheel_llm_calls_total": ("counter", "LLM extraction calls."),
        "flywheel_llm_failures_total": ("counter", "LLM extraction calls that failed."),
        "flywheel_last_analysis_timestamp_seconds": ("gauge", "When analysis last finished (Unix time)."),
    ]

    /// Prometheus text exposition (version 0.0.4) of the counters and the store's figures.
    public func prometheusText(figures f: StoreFigures, now: Int64) -> String {
        lock.lock()
        let c = counters, g = gauges
        lock.unlock()
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for s in samples { out += "\(name)\(s.labels) \(format(s.value))\n" }
        }
        for name in Self.help.keys.sorted() {
            let h = Self.help[name]!
            metric(name, h.type, h.help, [("", h.type == "counter" ? c[name] ?? 0 : g[name] ?? 0)])
        }
        metric("flywheel_events", "gauge", "Events in the database.", [("", Double(f.events))])
        metric("flywheel_quarantine_lines", "gauge", "Lines in the quarantine.", [("", Double(f.quarantined))])
        metric("flywheel_sessions", "gauge", "Sessions in the database.", [("", Double(f.sessions))])
        metric("flywheel_signals", "gauge", "Signals by kind.",
               f.signalsByKind.keys.sorted().map { ("{kind=\"\($0)\"}", Double(f.signalsByKind[$0]!)) })
        metric("flywheel_samples", "gauge", "Training samples by state.",
               f.samplesByState.keys.sorted().map { ("{state=\"\($0)\"}", Double(f.samplesByState[$0]!)) })
        metric("flywheel_sessions_awaiting_analysis", "gauge", "Completed sessions not analysed yet.", [("", Double(f.sessionsAwaitingAnalysis))])
        let lag = f.oldestAwaitingAnalysisTs.map { max(0, Double(now - $0) / 1000) } ?? 0
        metric("flywheel_analysis_lag_seconds", "gauge", "Age of the oldest completed session not analysed yet.", [("", lag)])
        metric("flywheel_end_users_flagged", "gauge", "End users whose feedback is held for review.", [("", Double(f.flaggedEndUsers))])
        metric("flywheel_reservations", "gauge", "Live review reservations (reviewers at work).", [("", Double(f.liveReservations))])
        return out
    }

    private func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}

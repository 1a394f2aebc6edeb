import ArgumentParser
import FlywheelCore
import FlywheelIngest
import FlywheelStore
import Foundation

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Ingest events (NDJSON, see shared/spec/events.md) from files or standard input.",
        discussion: """
            Re-ingesting an event whose event_id is stored is a no-op counted as a duplicate. Bad lines are \
            quarantined with their reason (see `flywheel quarantine`) and ingestion goes on. \
            Exit status: 0; 1 if an input could not be read; 2 with --strict when a line was quarantined.
            """)

    @OptionGroup var database: DatabaseOptions

    @Flag(name: .long, help: "Print the summary as JSON; the last line is one JSON object.")
    var json = false

    @Flag(name: .long, help: "Exit with status 2 when any line was quarantined.")
    var strict = false

    @Option(name: .long, help: ArgumentHelp("Also look for relative image refs under this folder.", valueName: "DIR"))
    var images: String?

    @Option(name: .long, help: "Lines per transaction.")
    var batchSize = 5_000

    @Argument(help: ArgumentHelp("Files to ingest; - reads standard input.", valueName: "FILE"))
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one FILE, or - for standard input") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let ingestor = Ingestor(store: store, options: .init(batchSize: batchSize, imageRoot: images))
            let started = Date()
            var reports: [Ingestor.Report] = []
            for file in files {
                let report = ingestor.ingest(path: file)
                reports.append(report)
                if !json { printReport(report) }
            }
            let seconds = Date().timeIntervalSince(started)
            var total = IngestCounts()
            for r in reports { total += r.counts }
            let failed = reports.filter { $0.error != nil }
            if json {
                print(summaryJSON(reports: reports, total: total, seconds: seconds, db: database.path))
            } else {
                let lines = reports.reduce(0) { $0 + $1.lines }
                let rate = seconds > 0 ? Int(Double(lines) / seconds) : 0
                print("total: \(total.ingested) ingested, \(total.duplicates) duplicates, \(total.quarantined) quarantined"
                      + " from \(reports.count) input\(reports.count == 1 ? "" : "s") in \(String(format: "%.2f", seconds)) s (\(rate) lines/s)")
                if total.quarantined > 0 { print("see the quarantined lines with: flywheel quarantine --db \(shellQuote(database.path))") }
            }
            for r in failed { printErr("flywheel: cannot read \(r.source): \(r.error!)") }
            if !failed.isEmpty { throw ExitCode(1) }
            if strict && total.quarantined > 0 { throw ExitCode(2) }
        }
    }

    private func printReport(_ r: Ingestor.Report) {
        var line = "\(r.source): \(r.lines) lines, \(r.counts.ingested) ingested, \(r.counts.duplicates) duplicates, \(r.counts.quarantined) quarantined"
        if r.blank > 0 { line += ", \(r.blank) blank" }
        if r.error != nil { line += " (stopped: read error)" }
        print(line)
    }

    private func summaryJSON(reports: [Ingestor.Report], total: IngestCounts, seconds: Double, db: String) -> String {
        let sources = reports.map { r in
            var fields = [
                "\"source\":\(jsonQuoted(r.source))", "\"lines\":\(r.lines)", "\"ingested\":\(r.counts.ingested)",
                "\"duplicates\":\(r.counts.duplicates)", "\"quarantined\":\(r.counts.quarantined)", "\"blank\":\(r.blank)",
            ]
            if let e = r.error { fields.append("\"error\":\(jsonQuoted(e))") }
            return "{" + fields.joined(separator: ",") + "}"
        }
        let lines = reports.reduce(0) { $0 + $1.lines }
        let blank = reports.reduce(0) { $0 + $1.blank }
        return "{\"ingested\":\(total.ingested),\"duplicates\":\(total.duplicates),\"quarantined\":\(total.quarantined)"
            + ",\"lines\":\(lines),\"blank\":\(blank),\"errors\":\(reports.filter { $0.error != nil }.count)"
            + ",\"seconds\":\(String(format: "%.3f", seconds)),\"db\":\(jsonQuoted(db)),\"sources\":[\(sources.joined(separator: ","))]}"
    }
}

func shellQuote(_ s: String) -> String {
    if s.allSatisfy({ $0.isLetter || $0.isNumber || "/._-+".contains($0) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

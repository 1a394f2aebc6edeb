import ArgumentParser
import FlywheelCore
import FlywheelStore
import Foundation

/// Walks a keyset-paged listing page by page, calling `body` for each row, up to `limit` rows (0 = all).
/// Returns how many rows were shown.
func forEachRow<Row>(limit: Int, page: (Int64) throws -> [Row], id: (Row) -> Int64, _ body: (Row) -> Void) throws -> Int {
    var after: Int64 = 0
    var shown = 0
    while true {
        let rows = try page(after)
        if rows.isEmpty { return shown }
        for row in rows {
            if limit > 0 && shown >= limit { return shown }
            shown += 1
            body(row)
        }
        after = id(rows.last!)
    }
}

struct SignalsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "signals", abstract: "List implicit signals.")

    @OptionGroup var database: DatabaseOptions

    @Option(name: .long, help: "table or jsonl.")
    var format: OutputFormat = .table

    @Option(name: .long, help: "Only this kind: correction, repeated_question, slow_response, error_log.")
    var kind: String?

    @Option(name: .long, help: "At most this many (0 = all).")
    var limit = 0

    func validate() throws {
        if let kind, SignalKind(rawValue: kind) == nil {
            throw ValidationError("--kind must be one of \(SignalKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            var table = TextTable(headers: ["id", "request", "signal", "conf", "rule", "evidence"], widths: [6, 16, 17, 4, 26, 60])
            let shown = try forEachRow(limit: limit, page: { try store.signals(kind: kind, afterID: $0, limit: 1000) }, id: \.id) { s in
                switch format {
                case .jsonl:
                    print("{\"signal_id\":\(s.id),\"request_id\":\(jsonQuoted(s.requestID)),\"session_id\":\(jsonQuoted(s.sessionID)),\"signal\":\(jsonQuoted(s.kind)),\"confidence\":\(s.confidence),\"rule\":\(jsonQuoted(s.rule)),\"evidence\":\(s.evidence.map(jsonQuoted) ?? "null"),\"created_at\":\(jsonQuoted(Timestamp.format(millis: s.createdAt)))}")
                case .table:
                    table.add([String(s.id), s.requestID, s.kind, String(format: "%.2f", s.confidence), s.rule, s.evidence ?? ""])
                }
            }
            if format == .table { print(shown == 0 ? "No signals yet. Run `flywheel analyze` after ingesting events." : table.render()) }
        }
    }
}

struct SamplesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "samples", abstract: "List training samples.")

    @OptionGroup var database: DatabaseOptions

    @Option(name: .long, help: "table or jsonl.")
    var format: OutputFormat = .table

    @Option(name: .long, help: "Only these states (comma-separated): \(SampleState.allCases.map(\.rawValue).joined(separator: ", ")).")
    var state: String?

    @Option(name: .long, help: "Only these sources (comma-separated): user_correction, implicit_correction, thumbs_down, seed_label.")
    var source: String?

    @Option(name: .long, help: "Only these error categories (comma-separated).")
    var category: String?

    @Option(name: .long, help: "At most this many (0 = all).")
    var limit = 0

    private func list(_ s: String?) -> [String] {
        s.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
    }

    func validate() throws {
        for (name, values, allowed) in [("--state", list(state), SampleState.allCases.map(\.rawValue)),
                                         ("--source", list(source), SampleSource.allCases.map(\.rawValue)),
                                         ("--category", list(category), ErrorCategory.allCases.map(\.rawValue))] {
            if let bad = values.first(where: { !allowed.contains($0) }) {
                throw ValidationError("\(name): unknown value \"\(bad)\"; expected \(allowed.joined(separator: ", "))")
            }
        }
    }

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let filter = SampleFilter(states: list(state), sources: list(source), categories: list(category))
            var table = TextTable(headers: ["id", "request", "source", "qual", "state", "category", "wrong", "correct"],
                                  widths: [5, 14, 19, 6, 12, 26, 24, 24])
            let shown = try forEachRow(limit: limit, page: { try store.samples(filter: filter, afterID: $0, limit: 1000) }, id: \.id) { s in
                switch format {
                case .jsonl:
                    var fields = ["\"sample_id\":\(s.id)", "\"request_id\":\(s.requestID.map(jsonQuoted) ?? "null")",
                                  "\"session_id\":\(s.sessionID.map(jsonQuoted) ?? "null")", "\"source\":\(jsonQuoted(s.source))",
                                  "\"quality\":\(jsonQuoted(s.quality))", "\"state\":\(jsonQuoted(s.state))",
                                  "\"task_type\":\(jsonQuoted(s.taskType))", "\"prompt\":\(s.question.map(jsonQuoted) ?? "null")",
                                  "\"wrong\":\(s.wrongAnswer.map(jsonQuoted) ?? "null")", "\"correct\":\(s.correctAnswer.map(jsonQuoted) ?? "null")",
                                  "\"category\":\(jsonQuoted(s.category))", "\"evidence\":\(s.evidence.map(jsonQuoted) ?? "null")"]
                    fields.append("\"model\":\(s.model.map(jsonQuoted) ?? "null")")
                    fields.append("\"prompt_version\":\(s.promptVersion.map(jsonQuoted) ?? "null")")
                    fields.append("\"extraction\":\(s.extraction ?? "null")")
                    print("{" + fields.joined(separator: ",") + "}")
                case .table:
                    table.add([String(s.id), s.requestID ?? "", s.source, s.quality, s.state, s.category, s.wrongAnswer ?? "", s.correctAnswer ?? "—"])
                }
            }
            if format == .table { print(shown == 0 ? "No samples match." : table.render()) }
        }
    }
}

struct EvalSignalsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-signals",
        abstract: "Score signal detection on a labelled conversation set, beside the seed design's rule.",
        discussion: "The set format is described in Tests/labelled/README.md.")

    @Argument(help: ArgumentHelp("Labelled conversation files (JSONL).", valueName: "FILE"))
    var files: [String]

    @Flag(name: .long, help: "List every miss.")
    var verbose = false

    func run() throws {
        try reportingErrors {
            var set: [LabelledConversation] = []
            for file in files {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError("cannot read \(file)") }
                for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
                    do { set.append(try LabelledConversation.parse(line: String(line))) } catch {
                        throw CLIError("\(file):\(i + 1): \(error)")
                    }
                }
            }
            let ours = SignalEvaluation.evaluate(set, predict: SignalEvaluation.analyzerPredictions(SessionAnalyzer()))
            let seed = SignalEvaluation.evaluate(set, predict: SignalEvaluation.seedPredictions)
            print("\(ours.conversations) conversations, \(ours.answers) assistant answers")
            var t = TextTable(headers: ["detector", "signal", "precision", "recall", "F1", "tp", "fp", "fn"], widths: [9, 30, 9, 6, 5, 4, 4, 4])
            for (name, r) in [("flywheel", ours), ("seed", seed)] {
                for (signal, score) in [("correction + repeated_question", r.combined), ("correction", r.correction), ("repeated_question", r.repeated)] {
                    t.add([name, signal, String(format: "%.3f", score.precision), String(format: "%.3f", score.recall), String(format: "%.3f", score.f1),
                           String(score.truePositives), String(score.falsePositives), String(score.falseNegatives)])
                }
            }
            print(t.render())
            print("answer extraction: \(ours.extractionExact)/\(ours.extractionTotal) detected corrections with a labelled answer extracted exactly; "
                  + "\(ours.extractionSpurious)/\(ours.extractionNoAnswerTotal) without a stated answer got one anyway")
            if verbose { for m in ours.mistakes { print("  " + m) } }
        }
    }
}

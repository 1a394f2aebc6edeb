import ArgumentParser
import FlywheelAnalyze
import FlywheelCore
import FlywheelLLM
import FlywheelStore
import Foundation

/// LLM endpoint options, shared by commands that can call one.
struct LLMOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("OpenAI-compatible endpoint (default: $FLYWHEEL_LLM_URL, else $OPENAI_BASE_URL).", valueName: "URL"))
    var llmUrl: String?

    @Option(name: .long, help: ArgumentHelp("Model name (default: $FLYWHEEL_LLM_MODEL).", valueName: "NAME"))
    var llmModel: String?

    @Option(name: .long, help: "Seconds before one LLM request times out.")
    var llmTimeout: Double = 60

    @Option(name: .long, help: "Attempts per LLM request (429, 5xx and timeouts are retried with backoff).")
    var llmAttempts = 4

    @Flag(name: .long, help: "Do not call an LLM even if one is configured.")
    var noLlm = false

    var configuration: LLMConfiguration? {
        guard !noLlm, var c = LLMConfiguration.resolve(url: llmUrl, model: llmModel) else { return nil }
        c.timeoutSeconds = llmTimeout
        c.maxAttempts = max(1, llmAttempts)
        return c
    }
}

struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Mine completed sessions for implicit signals and turn feedback into training samples.",
        discussion: """
            A session is complete when it has a session_end, or has been idle longer than --idle. Each session is \
            analysed once (again only if new turns arrive, or with --all); re-running creates no duplicates. \
            Corrections whose answer the rules cannot find go to the LLM when one is configured (--llm-url or \
            FLYWHEEL_LLM_URL; FLYWHEEL_LLM_MODEL, FLYWHEEL_LLM_API_KEY; OPENAI_BASE_URL/OPENAI_API_KEY also work).
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var llm: LLMOptions

    @Option(name: .long, help: "Idle time after which a session without session_end counts as complete (e.g. 30m, 2h, 900s).")
    var idle: String = "30m"

    @Option(name: .long, help: "Answers slower than this many milliseconds get a slow_response signal.")
    var slowMs: Int = 15_000

    @Flag(name: .long, help: "Analyse every session again, not only new ones.")
    var all = false

    @Flag(name: .long, help: "Retry LLM extractions that failed before.")
    var retryFailed = false

    @Flag(name: .long, help: "Also send corrections the rules answered to the LLM, to compare (the rules' answer is kept).")
    var llmRecheck = false

    @Flag(name: .long, help: "Print the summary as one JSON object.")
    var json = false

    func validate() throws {
        if Duration.parseMillis(idle) == nil { throw ValidationError("--idle: expected a duration like 30m, 2h, 90s or 1800") }
        if slowMs < 0 { throw ValidationError("--slow-ms must not be negative") }
    }

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            var options = AnalysisOptions()
            options.idleMs = Duration.parseMillis(idle)!
            options.slowMs = slowMs
            options.all = all
            options.retryFailedLLM = retryFailed
            options.llmRecheck = llmRecheck
            let config = llm.configuration
            let client = config.map { CurlChatClient(configuration: $0) }
            let job = AnalysisJob(store: store, llm: client, llmModel: config?.model, options: options)
            let s: AnalysisSummary
            do {
                s = try job.run { message in
                    // Progress is one line that rewrites itself, and only on a terminal.
                    if !json && isatty(2) != 0 { FileHandle.standardError.write(Data("\r\u{1B}[K\(message)".utf8)) }
                }
                if !json && isatty(2) != 0 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            } catch {
                throw CLIError("analysis failed: \(error)")
            }
            if json {
                print("{\"sessions\":\(s.sessions),\"open_sessions\":\(s.openSessions),\"new_signals\":\(s.newSignals),\"new_samples\":\(s.newSamples)"
                      + ",\"new_feedback_samples\":\(s.newFeedbackSamples),\"llm\":{\"configured\":\(config != nil),\"attempts\":\(s.llmAttempts)"
                      + ",\"resolved\":\(s.llmResolved),\"ungrounded\":\(s.llmUngrounded),\"no_answer\":\(s.llmNoAnswer),\"failures\":\(s.llmFailures)}"
                      + ",\"trust_changes\":[\(s.trustChanges.map(jsonQuoted).joined(separator: ","))]}")
                return
            }
            print("analysed \(s.sessions) session\(s.sessions == 1 ? "" : "s") (\(s.openSessions) still open): \(s.newSignals) new signals, \(s.newSamples) new samples (\(s.newFeedbackSamples) from explicit feedback)")
            if let config {
                print("LLM \(config.model) at \(config.completionsURL): \(s.llmAttempts) extractions, \(s.llmResolved) grounded answers, \(s.llmUngrounded) ungrounded (kept, not used), \(s.llmNoAnswer) without an answer, \(s.llmFailures) failed")
            } else {
                print("no LLM configured: corrections without a stated answer wait for a reviewer (set --llm-url or FLYWHEEL_LLM_URL to use one)")
            }
            let kinds = try store.signalCountsByKind().map { "\($0.kind) \($0.count)" }.joined(separator: ", ")
            let states = try store.sampleCountsByState().map { "\($0.state) \($0.count)" }.joined(separator: ", ")
            print("signals: \(kinds.isEmpty ? "none" : kinds)")
            print("samples: \(states.isEmpty ? "none" : states)")
            if !s.trustChanges.isEmpty {
                let flagged = Set(try store.endUserTrust(flaggedOnly: true, limit: 10_000).map(\.user))
                let changes = s.trustChanges.map { "\($0) (\(flagged.contains($0) ? "flagged: new feedback is held" : "no longer flagged"))" }
                print("end users: \(changes.joined(separator: ", ")); see flywheel users")
            }
        }
    }
}

enum Duration {
    /// "30m", "2h", "90s", "1d", "1800" (seconds) -> milliseconds.
    static func parseMillis(_ s: String) -> Int64? {
        let t = s.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            guard let n = Double(t.dropLast(suffix.count)), n >= 0 else { return nil }
            return Int64(n * Double(factor))
        }
        guard let n = Double(t), n >= 0 else { return nil }
        return Int64(n * 1000)
    }
}

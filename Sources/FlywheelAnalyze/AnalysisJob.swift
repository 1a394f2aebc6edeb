import FlywheelCore
import FlywheelLLM
import FlywheelStore
import Foundation

/// FlywheelAnalyze turns stored conversations into signals and training samples:
/// completed sessions -> `SessionAnalyzer` -> signals and implicit-correction samples; explicit feedback ->
/// samples; then, when an LLM is configured, corrections the rules could not resolve go to the LLM.
/// Every write is idempotent, so the job can run again at any time.
public struct AnalysisOptions: Sendable {
    /// A session without `session_end` counts as complete after this much silence.
    public var idleMs: Int64 = 30 * 60 * 1000
    public var slowMs = 15_000
    /// Re-examine sessions already analysed.
    public var all = false
    public var sessionBatch = 500
    /// At most this many LLM extractions per run.
    public var llmLimit = 200
    public var retryFailedLLM = false
    /// Also send corrections the rules answered; their answer is kept, the LLM's is recorded beside it.
    public var llmRecheck = false
    /// LLM requests in flight at once.
    public var llmConcurrency = 1
    /// At most this many LLM requests start per minute (nil: no limit).
    public var llmRequestsPerMinute: Int?
    public var now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)

    /// The abuse and trust rules; trust is recomputed at the start of every run, so a newly flagged user's
    /// feedback is held from this run on.
    public var trustPolicy: TrustPolicy = .standard

    public init() {}
}

public struct AnalysisSummary: Sendable {
    public var sessions = 0
    public var openSessions = 0
    public var newSignals = 0
    public var newErrorLogSignals = 0
    public var newSamples = 0
    public var newFeedbackSamples = 0
    /// Image-tagging samples from recognitions with `tags` or `thumbs_down` feedback (also in newSamples).
    public var newTagSamples = 0
    /// Samples from `format_error` logs (also in newSamples).
    public var newErrorLogSamples = 0
    public var llmAttempts = 0
    public var llmResolved = 0
    public var llmUngrounded = 0
    public var llmNoAnswer = 0
    public var llmFailures = 0
    /// End users whose abuse flag changed (newly flagged or cleared) when trust was refreshed.
    public var trustChanges: [String] = []
}

public final class AnalysisJob {
    let store: Store
    let llm: ChatCompleting?
    let llmModel: String?
    let options: AnalysisOptions
    let analyzer: SessionAnalyzer

    public init(store: Store, llm: ChatCompleting? = nil, llmModel: String? = nil, options: AnalysisOptions = AnalysisOptions()) {
        self.store = store
        self.llm = llm
        self.llmModel = llmModel
        self.options = options
        self.analyzer = SessionAnalyzer(slowMs: options.slowMs)
    }

    /// Runs the job. `shouldStop` is asked between batches (and between LLM requests): when it says yes,
    /// the batch in hand is committed and the job returns what it did so far.
    public func run(progress: (String) -> Void = { _ in }, shouldStop: @escaping () -> Bool = { false }) throws -> AnalysisSummary {
        var summary = AnalysisSummary()
        let now = options.now
        if options.all { try store.resetAnalysis() }
        summary.trustChanges = try store.refreshTrust(policy: options.trustPolicy, actor: "flywheel-analyze", now: now)
        let idleBefore = now - options.idleMs
        while !shouldStop() {
            let ids = try store.sessionsToAnalyze(idleBefore: idleBefore, limit: options.sessionBatch)
            if ids.isEmpty { break }
            // One read for the batch, the pure analysis on every core, one write transaction.
            let turnsBySession = try store.turns(sessionIDs: ids)
            var results = [Store.SessionAnalysis?](repeating: nil, count: ids.count)
            results.withUnsafeMutableBufferPointer { out in
                let slots = out
                DispatchQueue.concurrentPerform(iterations: ids.count) { i in
                    let (signals, samples) = analyze(sessionID: ids[i], stored: turnsBySession[ids[i]] ?? [])
                    slots[i] = Store.SessionAnalysis(sessionID: ids[i], signals: signals, samples: samples)
                }
            }
            let written = try store.recordAnalyses(results.compactMap { $0 }, now: now)
            summary.sessions += ids.count
            summary.newSignals += written.signals
            summary.newSamples += written.samples
            progress("analysed \(summary.sessions) sessions")
        }
        if shouldStop() { return summary }
        summary.openSessions = try store.openSessionCount(idleBefore: idleBefore)
        summary.newErrorLogSignals = try store.recordErrorLogSignals(now: now)
        summary.newSignals += summary.newErrorLogSignals
        summary.newFeedbackSamples = try sampleExplicitFeedback(now: now)
        summary.newSamples += summary.newFeedbackSamples
        summary.newTagSamples = try sampleRecognitions(now: now)
        summary.newSamples += summary.newTagSamples
        summary.newErrorLogSamples = try sampleFormatErrors(now: now)
        summary.newSamples += summary.newErrorLogSamples
        if let llm, !shouldStop() { try runLLM(llm, summary: &summary, progress: progress, shouldStop: shouldStop) }
        try recordRun(summary, now: now)
        return summary
    }

    /// One audit row per run that changed anything: what analysis created (each LLM answer has its own row).
    func recordRun(_ s: AnalysisSummary, now: Int64) throws {
        guard s.newSignals + s.newSamples + s.llmResolved > 0 || !s.trustChanges.isEmpty else { return }
        let after = "{\"sessions\":\(s.sessions),\"new_signals\":\(s.newSignals),\"new_samples\":\(s.newSamples),"
            + "\"new_feedback_samples\":\(s.newFeedbackSamples),\"new_tag_samples\":\(s.newTagSamples),"
            + "\"new_error_log_samples\":\(s.newErrorLogSamples),\"llm_answers\":\(s.llmResolved),"
            + "\"trust_changes\":[\(s.trustChanges.map(jsonQuoted).joined(separator: ","))]}"
        try store.recordAudit(actor: "flywheel-analyze", guarded: nil, action: "analysis_run", entity: "analysis", entityID: String(now),
                              before: nil, after: after, now: now)
    }

    /// Signals and implicit-correction samples for one session.
    func analyze(sessionID: String, stored: [StoredTurn]) -> ([NewSignal], [NewSample]) {
        let turns = stored.map(\.conversationTurn)
        var signals: [NewSignal] = []
        var samples: [NewSample] = []
        for s in analyzer.analyze(turns) {
            let answer = stored[s.answerIndex]
            let requestID = answer.requestID ?? "\(sessionID)#\(answer.turnIndex)"
            signals.append(NewSignal(sessionID: sessionID, requestID: requestID, kind: s.kind, confidence: s.confidence, rule: s.rule,
                                     evidence: s.evidence, evidenceTurnID: s.evidenceIndex.map { stored[$0].id }))
            guard s.kind == .correction else { continue }
            let question = (0..<s.answerIndex).last { stored[$0].role == .user }.map { stored[$0] }
            let correct = s.correctAnswer
            let extraction = "{\"method\":\"rules\",\"rule\":\(jsonQuoted(s.rule)),\"answer\":\(correct.map(jsonQuoted) ?? "null")}"
            samples.append(NewSample(
                source: .implicitCorrection, quality: .medium, state: correct == nil ? .needsAnswer : .pending,
                taskType: answer.taskType ?? "vqa", question: question?.content, wrongAnswer: answer.content, correctAnswer: correct,
                category: Taxonomy.classify(question: question?.content, wrong: answer.content, correct: correct),
                sessionID: sessionID, requestID: requestID, questionTurnID: question?.id, answerTurnID: answer.id,
                imageID: imageID(before: s.answerIndex, in: stored), signalKindForLink: .correction, evidence: s.evidence,
                extraction: extraction, model: answer.model, promptVersion: answer.promptVersion))
        }
        return (signals, samples)
    }

    /// The image the user was asking about: the latest user turn with an image at or before the answer.
    func imageID(before index: Int, in turns: [StoredTurn]) -> Int64? {
        (0..<min(index + 1, turns.count)).reversed().lazy.compactMap { turns[$0].role == .user ? turns[$0].imageID : nil }.first
    }

    /// Explicit corrections become high-quality samples; thumbs-down without any correction become
    /// low-quality samples waiting for an answer.
    func sampleExplicitFeedback(now: Int64) throws -> Int {
        var total = 0
        while true {
            let pending = try store.feedbackNeedingSamples(limit: 500)
            if pending.isEmpty { break }
            var samples: [NewSample] = []
            for f in pending {
                var image = f.question?.imageID
                if image == nil, let sid = f.sessionID ?? f.question?.sessionID {
                    let turns = try store.turns(sessionID: sid)
                    if let idx = turns.firstIndex(where: { $0.id == f.answer?.id }) { image = imageID(before: idx, in: turns) }
                }
                let isCorrection = f.kind == .correction
                let correct = isCorrection ? f.correctedResponse : nil
                samples.append(NewSample(
                    source: isCorrection ? .userCorrection : .thumbsDown, quality: isCorrection ? .high : .low,
                    state: correct == nil ? .needsAnswer : .pending, taskType: f.answer?.taskType ?? "vqa",
                    question: f.question?.content, wrongAnswer: f.answer?.content, correctAnswer: correct,
                    category: Taxonomy.classify(question: f.question?.content, wrong: f.answer?.content, correct: correct),
                    sessionID: f.sessionID ?? f.answer?.sessionID, requestID: f.requestID, questionTurnID: f.question?.id,
                    answerTurnID: f.answer?.id, imageID: image, feedbackID: f.feedbackID,
                    evidence: isCorrection ? "user correction: \(f.correctedResponse ?? "")" : "thumbs down",
                    extraction: nil, model: f.answer?.model, promptVersion: f.answer?.promptVersion))
            }
            let inserted = try store.insertSamples(samples, now: now)
            total += inserted
            if inserted == 0 { break }  // nothing new could be written: stop rather than loop
        }
        return total
    }

    /// Recognitions with explicit feedback become image-tagging samples (task_type 'tags'), one per request.
    func sampleRecognitions(now: Int64) throws -> Int {
        var total = 0
        while true {
            let pending = try store.recognitionsNeedingSamples(limit: 500)
            if pending.isEmpty { break }
            let inserted = try store.insertTagSamples(pending.map(Self.tagSample), now: now)
            total += inserted
            if inserted == 0 { break }
        }
        return total
    }

    /// The sample of a recognition's feedback. `tags` feedback that says something (is_correct true, or wrong or
    /// missing tags) is the user's review of the whole tag set: a high-quality user_correction, pending, whose
    /// predicted tags are 'wrong' if marked so and 'correct' otherwise (the user saw them and let them stand),
    /// plus the missing tags (score nil, 'missing'); correct_answer is the corrected list. A thumbs-down, or
    /// `tags` feedback with is_correct false and no tag named, says only that something is wrong: a low-quality
    /// thumbs_down sample, needs_answer, every tag 'unreviewed'.
    static func tagSample(_ r: RecognitionForSample) -> NewTagSample {
        let predictedNames = Set(r.predicted.map(\.tag))
        let wrong = Set(r.wrongTags).intersection(predictedNames)
        var seen = predictedNames
        let missing = r.missingTags.filter { seen.insert($0).inserted }
        let detailed = r.feedbackKind == .tags && (r.isCorrect == true || !wrong.isEmpty || !missing.isEmpty)
        var tags = r.predicted
        if detailed {
            for i in tags.indices { tags[i].verdict = wrong.contains(tags[i].tag) ? "wrong" : "correct" }
            tags += missing.map { SampleTag(tag: $0, score: nil, verdict: "missing") }
        }
        let evidence: String
        if !detailed {
            evidence = r.feedbackKind == .tags ? "tags feedback: not correct, no tag named" : "thumbs down"
        } else if wrong.isEmpty && missing.isEmpty {
            evidence = "tags feedback: all correct"
        } else {
            evidence = "tags feedback:" + (wrong.isEmpty ? "" : " wrong " + wrong.sorted().joined(separator: ", "))
                + (wrong.isEmpty || missing.isEmpty ? "" : ";") + (missing.isEmpty ? "" : " missing " + missing.joined(separator: ", "))
        }
        let sample = NewSample(
            source: detailed ? .userCorrection : .thumbsDown, quality: detailed ? .high : .low, state: detailed ? .pending : .needsAnswer,
            taskType: "tags", question: nil, wrongAnswer: Store.tagList(r.predicted.map(\.tag)),
            correctAnswer: detailed ? Store.tagList(Store.correctedTags(tags)) : nil,
            category: detailed && !(wrong.isEmpty && missing.isEmpty) ? .visualUnderstandingError : .unknown,
            sessionID: r.sessionID, requestID: r.requestID, questionTurnID: nil, answerTurnID: nil, imageID: r.imageID,
            feedbackID: r.feedbackID, evidence: evidence, extraction: nil, model: r.model, promptVersion: r.promptVersion)
        return NewTagSample(sample: sample, tags: tags)
    }

    /// `format_error` logs become candidate samples carrying the offending output (the assistant's answer, else
    /// the log's detail), waiting for the answer it should have been. A request that already has a sample
    /// (a correction found by analysis or given by the user) is not sampled again.
    func sampleFormatErrors(now: Int64) throws -> Int {
        var total = 0
        while true {
            let pending = try store.formatErrorsNeedingSamples(limit: 500)
            if pending.isEmpty { break }
            var samples: [NewSample] = []
            for e in pending {
                var image = e.question?.imageID
                if image == nil, let sid = e.answer?.sessionID ?? e.question?.sessionID {
                    let turns = try store.turns(sessionID: sid)
                    let anchor = e.answer?.id ?? e.question?.id
                    if let idx = turns.firstIndex(where: { $0.id == anchor }) { image = imageID(before: idx, in: turns) }
                }
                let output = e.answer.map(\.content).flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
                samples.append(NewSample(
                    source: .errorLog, quality: .medium, state: .needsAnswer, taskType: e.answer?.taskType ?? "vqa",
                    question: e.question?.content, wrongAnswer: output ?? e.detail, correctAnswer: nil, category: .formatError,
                    sessionID: e.answer?.sessionID ?? e.question?.sessionID, requestID: e.requestID, questionTurnID: e.question?.id,
                    answerTurnID: e.answer?.id, imageID: image, evidence: "format_error" + (e.detail.map { ": " + $0 } ?? ""),
                    extraction: nil, model: e.answer?.model, promptVersion: e.answer?.promptVersion))
            }
            let inserted = try store.insertSamples(samples, now: now)
            total += inserted
            if inserted == 0 { break }
        }
        return total
    }

    /// Sends corrections the rules could not resolve to the LLM, at most `llmConcurrency` at once and
    /// `llmRequestsPerMinute` per minute. Failures are recorded on the sample and the run goes on.
    func runLLM(_ llm: ChatCompleting, summary: inout AnalysisSummary, progress: (String) -> Void, shouldStop: @escaping () -> Bool) throws {
        let samples = try store.samplesForLLM(limit: options.llmLimit, retryFailed: options.retryFailedLLM, includeResolved: options.llmRecheck)
        // Shared by the request threads; every access holds its lock.
        final class Shared: @unchecked Sendable {
            let lock = NSLock()
            var tally = AnalysisSummary()
            var storeError: Error?
        }
        let shared = Shared()
        let lock = shared.lock
        let slots = DispatchSemaphore(value: max(1, options.llmConcurrency))
        let group = DispatchGroup()
        var limiter = RateLimiter(perMinute: options.llmRequestsPerMinute)
        for sample in samples {
            if shouldStop() { break }
            slots.wait()
            if lock.withLock({ shared.storeError != nil }) { slots.signal(); break }
            let wait = limiter.reserve(now: DispatchTime.now().uptimeNanoseconds)
            if wait > 0 { Thread.sleep(forTimeInterval: Double(wait) / 1e9) }
            // A thread per request, not the GCD pool: requests block in I/O, and the pool on Linux is only
            // as wide as the machine has cores, which would cap concurrency below the limit asked for.
            group.enter()
            Thread.detachNewThread { [self] in
                defer { slots.signal(); group.leave() }
                let outcome = extract(sample, using: llm)
                let grounded = outcome.status == "ok"
                let category = grounded ? Taxonomy.classify(question: sample.question, wrong: sample.wrongAnswer, correct: outcome.answer) : nil
                do {
                    try store.recordExtraction(sampleID: sample.id, extraction: outcome.json(previous: sample.extraction, model: llmModel, at: options.now),
                                               correctAnswer: grounded ? outcome.answer : nil, category: category, now: options.now)
                } catch {
                    lock.withLock { if shared.storeError == nil { shared.storeError = error } }
                }
                lock.withLock {
                    shared.tally.llmAttempts += 1
                    switch outcome.status {
                    case "ok": shared.tally.llmResolved += 1
                    case "ungrounded": shared.tally.llmUngrounded += 1
                    case "failed", "unparseable": shared.tally.llmFailures += 1
                    default: shared.tally.llmNoAnswer += 1
                    }
                }
            }
            let done = lock.withLock { shared.tally.llmAttempts }
            if done > 0 && done % 10 == 0 { progress("LLM extraction \(done)/\(samples.count)") }
        }
        group.wait()
        let tally = shared.tally
        summary.llmAttempts += tally.llmAttempts
        summary.llmResolved += tally.llmResolved
        summary.llmUngrounded += tally.llmUngrounded
        summary.llmFailures += tally.llmFailures
        summary.llmNoAnswer += tally.llmNoAnswer
        if let e = shared.storeError { throw e }
    }

    struct LLMOutcome {
        var status: String
        var answer: String?
        var confidence: Double?
        var error: String?

        func json(previous: String?, model: String?, at: Int64) -> String {
            var fields = ["\"status\":\(jsonQuoted(status))", "\"answer\":\(answer.map(jsonQuoted) ?? "null")",
                          "\"grounded\":\(status == "ok")", "\"at\":\(at)"]
            if let confidence { fields.append("\"confidence\":\(confidence)") }
            if let model { fields.append("\"model\":\(jsonQuoted(model))") }
            if let error { fields.append("\"error\":\(jsonQuoted(String(error.prefix(300))))") }
            let llm = "{" + fields.joined(separator: ",") + "}"
            // Keep what the rules recorded, and add (or replace) the llm attempt.
            var base = "{\"method\":\"rules\""
            if let previous, let v = try? JSONParser.parse(previous), case .object(let pairs) = v {
                base = "{" + pairs.filter { $0.0 != "llm" }.map { "\(jsonQuoted($0.0)):\($0.1.jsonText)" }.joined(separator: ",")
            }
            return base + (base == "{" ? "" : ",") + "\"llm\":\(llm)}"
        }
    }

    func extract(_ sample: SampleRow, using llm: ChatCompleting) -> LLMOutcome {
        guard let sessionID = sample.sessionID, let turns = try? store.turns(sessionID: sessionID) else {
            return LLMOutcome(status: "failed", error: "conversation not found")
        }
        let conversation = turns.map(\.conversationTurn)
        let answerIndex = turns.firstIndex { $0.requestID == sample.requestID && $0.role == .assistant } ?? 0
        let reply: String
        do {
            reply = try llm.complete(system: CorrectionPrompt.system,
                                     user: CorrectionPrompt.user(conversation: conversation, question: sample.question, wrongAnswer: sample.wrongAnswer))
        } catch {
            return LLMOutcome(status: "failed", error: "\(error)")
        }
        guard let parsed = CorrectionPrompt.parse(reply) else {
            return LLMOutcome(status: "unparseable", error: "no JSON object in reply: \(reply.prefix(200))")
        }
        guard parsed.hasClearCorrection != false, let answer = parsed.correctAnswer else {
            return LLMOutcome(status: "no_correction", answer: parsed.correctAnswer)
        }
        // Small models invent answers: only an answer the conversation supports is used.
        if Grounding.isGrounded(answer, in: conversation, afterAnswerAt: answerIndex) {
            return LLMOutcome(status: "ok", answer: answer, confidence: 0.7)
        }
        return LLMOutcome(status: "ungrounded", answer: answer, confidence: 0.1)
    }
}

extension StoredTurn {
    /// The turn as the (pure) analyser sees it.
    var conversationTurn: FlywheelCore.ConversationTurn {
        FlywheelCore.ConversationTurn(role: role, content: content, requestID: requestID, responseMs: responseMs, turnID: id)
    }
}

/// Spaces request starts evenly so that at most `perMinute` start in any minute. Pure: callers pass the
/// clock and sleep for what `reserve` returns.
public struct RateLimiter: Sendable {
    let interval: UInt64  // nanoseconds between starts; 0 = unlimited
    var next: UInt64 = 0

    public init(perMinute: Int?) {
        interval = perMinute.map { $0 > 0 ? 60_000_000_000 / UInt64($0) : 0 } ?? 0
    }

    /// Reserves the next start and returns how long to wait for it (nanoseconds) from `now`.
    public mutating func reserve(now: UInt64) -> UInt64 {
        guard interval > 0 else { return 0 }
        let start = max(now, next)
        next = start + interval
        return start - now
    }
}

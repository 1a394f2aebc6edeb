import Dispatch
import FlywheelCore
import FlywheelStore
import Foundation
import ImagePreview
import TerminalKit

/// What the console reads and writes. `Store` provides it; tests can slow it down or make it fail.
public protocol ConsoleDataSource: Sendable {
    func sessionsPage(_ query: SessionQuery, cursor: SessionCursor?, direction: PageDirection, limit: Int) throws -> [SessionSummary]
    func sessionCounts() throws -> (total: Int, flagged: Int)
    func conversation(sessionID: String, limit: Int) throws -> [FlywheelStore.ConversationTurn]
    func sampleContext(sampleID: Int64, before: Int, after: Int) throws -> [FlywheelStore.ConversationTurn]
    func reviewQueue(_ viewer: QueueViewer?, cursor: QueueCursor?, direction: PageDirection, limit: Int) throws -> [QueueItem]
    func reviewQueueCount(_ viewer: QueueViewer?) throws -> Int
    func review(sampleID: Int64, decision: ReviewDecision, reviewer: String, now: Int64) throws -> ReviewRecord
    func undo(_ record: ReviewRecord, reviewer: String, now: Int64) throws -> ReviewRecord
    func dataVersion() throws -> Int
    func defaultInsightWindow(days: Int) throws -> InsightWindow?
    func categoryBreakdown(_ w: InsightWindow) throws -> [BreakdownRow]
    func samples(in w: InsightWindow, taskType: String?, model: String?, promptVersion: String?, category: String?, limit: Int) throws -> [SampleRow]
    func promptVersions() throws -> [PromptVersion]
    func promptOutcomes(_ w: InsightWindow?) throws -> [PromptOutcome]
    func activatePromptVersion(_ name: String, by actor: String?, now: Int64) throws
    func metricSeries(_ w: InsightWindow, bucket: MetricBucket) throws -> [MetricPoint]
    func oldestPendingSample() throws -> (id: Int64, createdAt: Int64)?
    func imageFile(id: Int64) throws -> ImageFile?
    func sampleTags(sampleID: Int64) throws -> [SampleTag]
    func reviewTags(sampleID: Int64, verdicts: [String: String], added: [String], reviewer: String, now: Int64) throws -> ReviewRecord
    func nextAnnotationTasks(after id: Int64?, limit: Int) throws -> [AnnotationTask]
    func annotationProgress(goal: Int, now: Int64) throws -> AnnotationProgress
    func annotate(taskID: Int64, answer: String?, tags: [String]?, annotator: String, now: Int64) throws -> Int64
    func skipAnnotation(taskID: Int64, annotator: String, now: Int64) throws
    // Team review: reservations, independent votes, adjudication, roles.
    func reserve(sampleID: Int64, reviewer: String, now: Int64) throws -> ReservationOutcome
    func releaseReservations(reviewer: String) throws
    func disputedSamples(limit: Int) throws -> [QueueItem]
    func decisions(sampleID: Int64, viewer: String) throws -> (visible: [Vote], hidden: Int)
    func adjudicate(sampleID: Int64, decision: ReviewDecision, adjudicator: String, now: Int64) throws -> ReviewRecord
    func adjudicateTags(sampleID: Int64, verdicts: [String: String], added: [String], adjudicator: String, now: Int64) throws -> ReviewRecord
    func teamMember(named name: String) throws -> TeamMember?
    func rolesEnforced() throws -> Bool
    func teamSettings() throws -> TeamSettings
    func authorize(_ actor: String, _ action: TeamAction) throws
    // Screen 7: agreement, end users' trust, held feedback.
    func agreementReport() throws -> AgreementReport
    func endUserTrust(flaggedOnly: Bool, limit: Int) throws -> [EndUserTrustRow]
    func heldSamples(limit: Int) throws -> [HeldSample]
    func decideHeld(sampleID: Int64, release: Bool, by actor: String, now: Int64) throws -> ReviewRecord
}

/// Makes a new candidate prompt from the active one (or the named one) and returns its name. The
/// executable provides it (it knows the LLM endpoint); nil when no endpoint is configured.
public typealias PromptOptimizing = @Sendable (_ prompt: String?) throws -> String

extension Store: ConsoleDataSource {}

/// A terminal the console can run in (the ncurses backend, in the executable).
public protocol TerminalDevice: AnyObject {
    var size: (width: Int, height: Int) { get }
    func draw(_ buffer: ScreenBuffer)
    func readKey(timeoutMs: Int) -> Key?
}

/// Runs effects off the UI thread and hands their answers back as messages. Reads run side by side;
/// writes run one at a time in the order they were asked for.
public final class EffectRunner: @unchecked Sendable {
    let data: ConsoleDataSource
    private let reads = DispatchQueue(label: "flywheel.console.reads", attributes: .concurrent)
    private let writes = DispatchQueue(label: "flywheel.console.writes")
    private let lock = NSCondition()
    private var inbox: [Message] = []
    private var running = 0
    let clock: @Sendable () -> Int64

    let optimizer: PromptOptimizing?
    /// Decoded and rendered images, shared by every screen.
    let previews = PreviewCache(capacity: 64)
    /// How previews are drawn (the terminal's colours).
    public var previewDepth: PreviewDepth = .full256

    public init(data: ConsoleDataSource, optimizer: PromptOptimizing? = nil,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.data = data
        self.optimizer = optimizer
        self.clock = clock
    }

    static let noOptimizer = "no LLM endpoint configured: set FLYWHEEL_LLM_URL (or pass --llm-url) and FLYWHEEL_LLM_MODEL (and FLYWHEEL_LLM_API_KEY if the endpoint needs one), then start the console again"

    public struct Failure: Error, CustomStringConvertible { public var description: String }

    public func start(_ effects: [Effect]) {
        for e in effects { start(e) }
    }

    public func start(_ effect: Effect) {
        lock.lock(); running += 1; lock.unlock()
        (effect.isWrite ? writes : reads).async { [self] in
            let message = perform(effect)
            lock.lock()
            inbox.append(message)
            running -= 1
            lock.broadcast()
            lock.unlock()
        }
    }

    /// Messages that have arrived, oldest first.
    public func drain() -> [Message] {
        lock.lock(); defer { lock.unlock() }
        let m = inbox
        inbox.removeAll()
        return m
    }

    /// Waits until a message arrives or nothing is running; returns whether anything is left to wait for.
    @discardableResult
    public func waitForMessage(timeout: TimeInterval? = nil) -> Bool {
        lock.lock(); defer { lock.unlock() }
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        while inbox.isEmpty && running > 0 {
            if let deadline { if !lock.wait(until: deadline) { break } } else { lock.wait() }
        }
        return !inbox.isEmpty || running > 0
    }

    /// Whose review queue is read (the console's reviewer): others' reservations and own decisions are left out.
    public var reviewer: String?
    var viewer: QueueViewer? { reviewer.map { QueueViewer(reviewer: $0, now: clock()) } }

    /// Blocks until every write asked for so far is done (before quitting).
    public func finishWrites() { writes.sync {} }

    /// After a decision that leaves the sample waiting (one vote of several): how many of the overlap's
    /// decisions are in (the others' are visible to this reviewer now that theirs is in).
    func voteCount(_ result: Result<ReviewRecord, Error>, reviewer: String) -> VoteCount? {
        guard case .success(let r) = result, r.action != "recategorize", SampleState.isWaiting(r.after.state) else { return nil }
        return try? VoteCount(cast: data.decisions(sampleID: r.sampleID, viewer: reviewer).visible.count, needed: data.teamSettings().overlap)
    }

    func perform(_ effect: Effect) -> Message {
        switch effect {
        case .loadSessions(let q, let cursor, let direction, let limit):
            return .sessionsPage(query: q, cursor: cursor, direction: direction, requested: limit,
                                 Result { try data.sessionsPage(q, cursor: cursor, direction: direction, limit: limit) })
        case .loadConversation(let id):
            return .conversation(sessionID: id, Result { try data.conversation(sessionID: id, limit: 1000) })
        case .loadQueue(let cursor, let direction, let limit):
            return .queuePage(cursor: cursor, direction: direction, requested: limit,
                              Result { try data.reviewQueue(viewer, cursor: cursor, direction: direction, limit: limit) })
        case .loadContext(let id):
            return .context(sampleID: id, Result { try data.sampleContext(sampleID: id, before: 4, after: 4) })
        case .loadCounts:
            return .counts(Result {
                let s = try data.sessionCounts()
                return Counts(sessions: s.total, flagged: s.flagged, queue: try data.reviewQueueCount(viewer))
            })
        case .loadQueueCount:
            return .queueCount(Result { try data.reviewQueueCount(viewer) })
        case .review(let id, let decision, let reviewer):
            let result = Result { try data.review(sampleID: id, decision: decision, reviewer: reviewer, now: clock()) }
            return .reviewed(sampleID: id, decision: decision, result, votes: voteCount(result, reviewer: reviewer))
        case .adjudicate(let id, let decision, let adjudicator):
            return .adjudicated(sampleID: id, decision: decision, Result { try data.adjudicate(sampleID: id, decision: decision, adjudicator: adjudicator, now: clock()) })
        case .adjudicateTags(let id, let verdicts, let added, let adjudicator):
            return .adjudicated(sampleID: id, decision: .approve, Result {
                try data.adjudicateTags(sampleID: id, verdicts: verdicts, added: added, adjudicator: adjudicator, now: clock())
            })
        case .reserve(let id, let reviewer):
            return .reserved(sampleID: id, Result { try data.reserve(sampleID: id, reviewer: reviewer, now: clock()) })
        case .releaseReservations(let reviewer):
            return .released(Result { try data.releaseReservations(reviewer: reviewer) })
        case .loadDisputed(let limit):
            return .disputedPage(requested: limit, Result { try data.disputedSamples(limit: limit) })
        case .loadVotes(let id):
            return .votes(sampleID: id, Result {
                let d = try data.decisions(sampleID: id, viewer: reviewer ?? "")
                return VoteList(visible: d.visible, hidden: d.hidden)
            })
        case .loadTeam:
            return .team(Result {
                TeamInfo(member: try reviewer.flatMap { try data.teamMember(named: $0) }, enforced: try data.rolesEnforced(), settings: try data.teamSettings())
            })
        case .undo(let record, let reviewer):
            return .undone(Result { try data.undo(record, reviewer: reviewer, now: clock()) })
        case .pollDataVersion:
            return .dataVersion(Result { try data.dataVersion() })
        case .loadPatterns(let days):
            return .patterns(days: days, Result {
                guard let w = try data.defaultInsightWindow(days: days) else { return PatternsData(window: nil, rows: []) }
                return PatternsData(window: w, rows: try data.categoryBreakdown(w))
            })
        case .loadDrill(let f):
            return .drill(f, Result { try data.samples(in: f.window, taskType: f.taskType, model: f.model, promptVersion: f.promptVersion, category: f.category, limit: 200) })
        case .loadPrompts:
            return .prompts(Result { PromptsData(versions: try data.promptVersions(), outcomes: try data.promptOutcomes(nil)) })
        case .optimizePrompt(let name):
            return .optimized(Result {
                // Checked before the LLM is asked, at the time it runs; the store checks again when the candidate is written.
                if let reviewer { try data.authorize(reviewer, .optimize) }
                guard let optimizer else { throw Failure(description: Self.noOptimizer) }
                return try optimizer(name)
            })
        case .activatePrompt(let name):
            return .promptActivated(name, Result { try data.activatePromptVersion(name, by: reviewer, now: clock()) })
        case .loadPreview(let key):
            let file = try? data.imageFile(id: key.imageID)
            guard let file else { return .preview(key, PreviewOutcome(file: nil, render: nil, problem: "image not found in the database")) }
            switch file.status {
            case "url": return .preview(key, PreviewOutcome(file: file, render: nil, problem: "URL, not fetched: \(file.ref)"))
            case "present": break
            default: return .preview(key, PreviewOutcome(file: file, render: nil, problem: "\(file.status): \(file.ref)"))
            }
            guard let path = file.path else { return .preview(key, PreviewOutcome(file: file, render: nil, problem: "no file for \(file.ref)")) }
            switch previews.preview(path: path, key: file.key, columns: key.columns, rows: key.rows, depth: previewDepth) {
            case .success(let r): return .preview(key, PreviewOutcome(file: file, render: r, problem: nil))
            case .failure(let e): return .preview(key, PreviewOutcome(file: file, render: nil, problem: e.description))
            }
        case .loadTags(let id):
            return .tags(sampleID: id, Result { try data.sampleTags(sampleID: id) })
        case .reviewTags(let id, let verdicts, let added, let reviewer):
            let result = Result { try data.reviewTags(sampleID: id, verdicts: verdicts, added: added, reviewer: reviewer, now: clock()) }
            return .reviewed(sampleID: id, decision: .approve, result, votes: voteCount(result, reviewer: reviewer))
        case .loadAnnotation(let goal):
            return .annotation(Result {
                AnnotateData(tasks: try data.nextAnnotationTasks(after: nil, limit: 10), progress: try data.annotationProgress(goal: goal, now: clock()))
            })
        case .annotate(let id, let answer, let tags, let annotator):
            return .annotated(taskID: id, Result { try data.annotate(taskID: id, answer: answer, tags: tags, annotator: annotator, now: clock()) })
        case .skipAnnotation(let id, let annotator):
            return .annotationSkipped(taskID: id, Result { try data.skipAnnotation(taskID: id, annotator: annotator, now: clock()) })
        case .openImage(let id):
            return .imageOpened(ImageViewer.open(try? data.imageFile(id: id)))
        case .loadAgreement:
            return .agreement(Result { try data.agreementReport() })
        case .loadEndUsers(let limit):
            return .endUsers(Result { EndUsersData(users: try data.endUserTrust(flaggedOnly: false, limit: limit), held: try data.heldSamples(limit: limit)) })
        case .decideHeld(let id, let release, let by):
            return .heldDecided(sampleID: id, release: release, Result { try data.decideHeld(sampleID: id, release: release, by: by, now: clock()) })
        case .loadMetrics(let bucket):
            return .metrics(bucket, Result {
                let oldest = try data.oldestPendingSample().map { OldestPending(id: $0.id, createdAt: $0.createdAt) }
                guard let w = try data.defaultInsightWindow(days: bucket == .day ? 30 : 2) else { return MetricsData(points: [], oldestPending: oldest) }
                return MetricsData(points: try data.metricSeries(w, bucket: bucket), oldestPending: oldest)
            })
        }
    }
}

extension Console {
    /// Runs the app without a terminal: feeds `keys` one at a time, letting every effect finish before the
    /// next key (so a script sees the result of each key), and returns the final state. At the end the console
    /// closes like one that quits (the sample it holds is given up), unless `leaveOpen` (tests that go on
    /// pressing keys, or look at it as it was on screen).
    public static func runHeadless(state initial: AppState, runner: EffectRunner, keys: [Key], leaveOpen: Bool = false) -> AppState {
        var state = initial
        runner.reviewer = state.reviewer
        runner.start(start(&state))
        settle(&state, runner)
        for key in keys {
            if state.quit { break }
            runner.start(update(&state, .key(key)))
            settle(&state, runner)
        }
        if !leaveOpen { runner.start(close(&state)) }
        runner.finishWrites()
        settle(&state, runner)
        return state
    }

    static func settle(_ state: inout AppState, _ runner: EffectRunner) {
        while runner.waitForMessage() {
            for m in runner.drain() { runner.start(update(&state, m)) }
        }
    }

    /// The interactive loop: draw, wait briefly for a key, apply the answers that came back. Input is never
    /// blocked by a query: queries run on the runner's threads and only their answers come through here.
    public static func runInteractive(state initial: AppState, runner: EffectRunner, terminal: TerminalDevice, pollSeconds: Double = 1) {
        var state = initial
        runner.reviewer = state.reviewer
        let size = terminal.size
        state.width = size.width
        state.height = size.height
        runner.start(start(&state))
        var dirty = true
        var lastTick = Date()
        var lastPoll = Date()
        while true {
            if dirty {
                terminal.draw(render(state))
                dirty = false
            }
            if let key = terminal.readKey(timeoutMs: 30) {
                if key == .resize {
                    let s = terminal.size
                    runner.start(update(&state, .resized(width: s.width, height: s.height)))
                } else {
                    runner.start(update(&state, .key(key)))
                }
                dirty = true
            }
            for m in runner.drain() {
                runner.start(update(&state, m))
                dirty = true
            }
            if state.quit { break }
            let now = Date()
            if state.pending > 0, now.timeIntervalSince(lastTick) >= 0.1 {
                _ = update(&state, .tick)
                lastTick = now
                dirty = true
            }
            if now.timeIntervalSince(lastPoll) >= pollSeconds {
                runner.start(.pollDataVersion)
                lastPoll = now
            }
        }
        // Decisions already made are written before the console goes, and what it holds is given up.
        runner.start(close(&state))
        runner.finishWrites()
    }
}

import FlywheelCore
import FlywheelStore
import Foundation
import TerminalKit

public enum ScreenID: Int, CaseIterable, Sendable {
    case sessions = 1, review, patterns, prompts, metrics, annotate

    var title: String {
        switch self {
        case .sessions: return "Sessions"
        case .review: return "Review"
        case .patterns: return "Patterns"
        case .prompts: return "Prompts"
        case .metrics: return "Metrics"
        case .annotate: return "Annotate"
        }
    }
}

enum Focus: Equatable { case list, detail }

/// What the keyboard is doing besides moving around.
enum Mode: Equatable {
    case normal
    case search(LineEditor)
    case editAnswer(LineEditor, sampleID: Int64)
    case pickCategory(index: Int, sampleID: Int64)
    case annotateAnswer(LineEditor, taskID: Int64)
}

public struct Counts: Equatable, Sendable {
    var sessions = 0
    var flagged = 0
    var queue = 0
}

struct StatusLine: Equatable {
    var text: String
    var isError: Bool
}

struct SessionsState {
    var query = SessionQuery(flaggedOnly: false, search: nil)
    var list = PagedList<SessionSummary, SessionCursor>(cursorOf: { SessionCursor(lastTs: $0.lastTs, sessionID: $0.sessionID) })
    /// The conversation of the selected session, once loaded.
    var conversation: (sessionID: String, turns: [FlywheelStore.ConversationTurn])?
    /// The session whose conversation was last asked for, so it is asked for once.
    var requestedConversation: String?
    var detailScroll = 0
}

struct ReviewState {
    var list = PagedList<QueueItem, QueueCursor>(cursorOf: { $0.cursor })
    var context: (sampleID: Int64, turns: [FlywheelStore.ConversationTurn])?
    var requestedContext: Int64?
    var detailScroll = 0
    /// Decisions that can be undone, newest last, with the row as it was so it can go back in the list.
    var undoStack: [(record: ReviewRecord, item: QueueItem)] = []
    /// The selected tags sample's tags, once loaded, and the verdicts being edited.
    var tags: (sampleID: Int64, tags: [SampleTag])?
    var requestedTags: Int64?
    var tagDraft: TagDraft?
    /// Rows taken out of the list while their decision is being written, by sample id, with their position.
    var inFlight: [Int64: (item: QueueItem, index: Int)] = [:]
}

/// The whole state of the console. `Console.update` is the only thing that changes it.
public struct AppState {
    var screen: ScreenID = .sessions
    var width: Int
    var height: Int
    var reviewer: String
    var focus: Focus = .list
    var mode: Mode = .normal
    var showHelp = false
    var sessions = SessionsState()
    var review = ReviewState()
    var patterns = PatternsState()
    var prompts = PromptsState()
    var metrics = MetricsState()
    var preview = PreviewState()
    var annotate = AnnotateState()
    /// What the terminal can show: image previews use it (the theme is already adapted).
    var depth: ColorDepth = .full256
    var counts: Counts?
    var status: StatusLine?
    /// Effects started and not yet answered: the spinner runs while this is above zero.
    var pending = 0
    var spinnerFrame = 0
    var dataVersion: Int?
    var quit = false
    var theme: Theme
    var timeZone: TimeZone
    /// Now, in ms since the epoch (ages on screen); tests fix it.
    var clock: @Sendable () -> Int64

    public init(width: Int, height: Int, reviewer: String, theme: Theme = .builtinDefault, timeZone: TimeZone = .current,
                depth: ColorDepth = .full256, annotationGoal: Int = 1000,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.depth = depth
        self.annotate.goal = max(1, annotationGoal)
        self.width = width
        self.height = height
        self.reviewer = reviewer
        self.theme = theme
        self.timeZone = timeZone
        self.clock = clock
    }

    public var wantsQuit: Bool { quit }
    public var isBusy: Bool { pending > 0 }
}

/// Something that happened: a key, a tick, or the answer to an effect.
public enum Message {
    case key(Key)
    case resized(width: Int, height: Int)
    case tick
    case sessionsPage(query: SessionQuery, cursor: SessionCursor?, direction: PageDirection, requested: Int, Result<[SessionSummary], Error>)
    case conversation(sessionID: String, Result<[FlywheelStore.ConversationTurn], Error>)
    case queuePage(cursor: QueueCursor?, direction: PageDirection, requested: Int, Result<[QueueItem], Error>)
    case context(sampleID: Int64, Result<[FlywheelStore.ConversationTurn], Error>)
    case counts(Result<Counts, Error>)
    case queueCount(Result<Int, Error>)
    case reviewed(sampleID: Int64, decision: ReviewDecision, Result<ReviewRecord, Error>)
    case undone(Result<ReviewRecord, Error>)
    case dataVersion(Result<Int, Error>)
    case patterns(days: Int, Result<PatternsData, Error>)
    case drill(SampleDrill, Result<[SampleRow], Error>)
    case prompts(Result<PromptsData, Error>)
    case optimized(Result<String, Error>)
    case promptActivated(String, Result<Void, Error>)
    case metrics(MetricBucket, Result<MetricsData, Error>)
    case preview(PreviewKey, PreviewOutcome)
    case tags(sampleID: Int64, Result<[SampleTag], Error>)
    case annotation(Result<AnnotateData, Error>)
    case annotated(taskID: Int64, Result<Int64, Error>)
    case annotationSkipped(taskID: Int64, Result<Void, Error>)
    case imageOpened(Result<String, EffectRunner.Failure>)
}

/// Work for the runtime: database reads and writes, run off the UI thread; each answers with a `Message`.
public enum Effect: Equatable {
    case loadSessions(SessionQuery, cursor: SessionCursor?, direction: PageDirection, limit: Int)
    case loadConversation(sessionID: String)
    case loadQueue(cursor: QueueCursor?, direction: PageDirection, limit: Int)
    case loadContext(sampleID: Int64)
    case loadCounts
    /// After a decision only the queue's count can have changed.
    case loadQueueCount
    case review(sampleID: Int64, decision: ReviewDecision, reviewer: String)
    case undo(ReviewRecord, reviewer: String)
    case pollDataVersion
    case loadPatterns(days: Int)
    case loadDrill(SampleDrill)
    case loadPrompts
    /// Runs the configured prompt optimiser on the active prompt (or the named one).
    case optimizePrompt(String?)
    case activatePrompt(String)
    case loadMetrics(MetricBucket)
    case loadPreview(PreviewKey)
    case openImage(imageID: Int64)
    case loadTags(sampleID: Int64)
    case reviewTags(sampleID: Int64, verdicts: [String: String], added: [String], reviewer: String)
    case loadAnnotation(goal: Int)
    case annotate(taskID: Int64, answer: String?, tags: [String]?, annotator: String)
    case skipAnnotation(taskID: Int64, annotator: String)

    /// Writes run one at a time, in order; reads may run alongside.
    var isWrite: Bool {
        switch self {
        case .review, .undo, .activatePrompt, .optimizePrompt, .reviewTags, .annotate, .skipAnnotation: return true
        default: return false
        }
    }
}

import FlywheelCore
import FlywheelStore
import Foundation
import TerminalKit

public enum ScreenID: Int, CaseIterable, Sendable {
    case sessions = 1, review, patterns, prompts, metrics, annotate, team

    var title: String {
        switch self {
        case .sessions: return "Sessions"
        case .review: return "Review"
        case .patterns: return "Patterns"
        case .prompts: return "Prompts"
        case .metrics: return "Metrics"
        case .annotate: return "Annotate"
        case .team: return "Team"
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
    /// The review queue (this reviewer's: others' reservations and own votes are left out).
    var queue = PagedList<QueueItem, QueueCursor>(cursorOf: { $0.cursor })
    /// The adjudication queue: samples whose independent decisions disagreed (one page, in id order).
    var disputed = PagedList<QueueItem, QueueCursor>(cursorOf: { $0.cursor })
    /// Showing the adjudication queue instead of the review queue (`A`).
    var adjudicating = false
    /// The list on screen: the review queue, or the adjudication queue while adjudicating.
    var list: PagedList<QueueItem, QueueCursor> {
        get { adjudicating ? disputed : queue }
        set { if adjudicating { disputed = newValue } else { queue = newValue } }
    }
    /// The sample the store holds for this reviewer, and the sample last asked for (asked for once).
    var reservation: ReservedSample?
    var requestedReservation: Int64?
    /// The selected disputed sample's votes, once loaded (adjudication view).
    var votes: (sampleID: Int64, list: VoteList)?
    var requestedVotes: Int64?
    var context: (sampleID: Int64, turns: [FlywheelStore.ConversationTurn])?
    var requestedContext: Int64?
    var detailScroll = 0
    /// Decisions (and adjudications) that can be undone, newest last, with the row as it was so it can go back in its list.
    var undoStack: [(record: ReviewRecord, item: QueueItem)] = []
    /// The selected tags sample's tags, once loaded, and the verdicts being edited.
    var tags: (sampleID: Int64, tags: [SampleTag])?
    var requestedTags: Int64?
    var tagDraft: TagDraft?
    /// Rows taken out of the list while their decision is being written, by sample id, with their position.
    var inFlight: [Int64: (item: QueueItem, index: Int)] = [:]
}

/// A sample reserved for this reviewer: since when (this console's clock) and until when (the store's).
struct ReservedSample: Equatable {
    var sampleID: Int64
    var since: Int64
    var until: Int64
    /// A renewal has been asked for and not answered yet.
    var renewing = false
}

/// Who is at the console, as the store knows them: their registered role (nil when not registered), whether
/// roles are enforced (someone is registered), and the team's review settings.
public struct TeamInfo: Equatable, Sendable {
    var member: TeamMember?
    var enforced: Bool
    var settings: TeamSettings
}

/// Independent decisions on a sample, as the viewer may see them: everyone's once theirs is in (or when they
/// adjudicate), otherwise only how many there are.
public struct VoteList: Equatable, Sendable {
    var visible: [Vote]
    var hidden: Int
}

/// How far a sample's overlap has got after a vote: `cast` of the `needed` independent decisions are in.
public struct VoteCount: Equatable, Sendable {
    var cast: Int
    var needed: Int
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
    /// Screen 7: agreement, end users' trust, held feedback.
    var teamScreen = TeamScreenState()
    /// The acting user's role and the team settings, once loaded (until then the store's checks alone apply).
    var team: TeamInfo?
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
    /// When the reviewer last pressed a key: a reservation is only renewed for someone still at work.
    var lastKeyAt: Int64?

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
    /// A decision's answer; `votes` when it was one vote of several and the sample still waits for others.
    case reviewed(sampleID: Int64, decision: ReviewDecision, Result<ReviewRecord, Error>, votes: VoteCount? = nil)
    case adjudicated(sampleID: Int64, decision: ReviewDecision, Result<ReviewRecord, Error>)
    case reserved(sampleID: Int64, Result<ReservationOutcome, Error>)
    case released(Result<Void, Error>)
    case disputedPage(requested: Int, Result<[QueueItem], Error>)
    case votes(sampleID: Int64, Result<VoteList, Error>)
    case team(Result<TeamInfo, Error>)
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
    case agreement(Result<AgreementReport, Error>)
    case endUsers(Result<EndUsersData, Error>)
    /// A held sample released (`release`) or discarded.
    case heldDecided(sampleID: Int64, release: Bool, Result<ReviewRecord, Error>)
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
    /// Decides a disputed sample.
    case adjudicate(sampleID: Int64, decision: ReviewDecision, adjudicator: String)
    /// Holds the sample for the reviewer (or renews the hold); gives up the one held before.
    case reserve(sampleID: Int64, reviewer: String)
    case releaseReservations(reviewer: String)
    case loadDisputed(limit: Int)
    case loadVotes(sampleID: Int64)
    /// The acting user's role, whether roles are enforced, the team settings.
    case loadTeam
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
    /// Decides a disputed tags sample by its tags.
    case adjudicateTags(sampleID: Int64, verdicts: [String: String], added: [String], adjudicator: String)
    case loadAnnotation(goal: Int)
    case annotate(taskID: Int64, answer: String?, tags: [String]?, annotator: String)
    case skipAnnotation(taskID: Int64, annotator: String)
    /// Screen 7: the agreement report; end users' trust rows and the held samples.
    case loadAgreement
    case loadEndUsers(limit: Int)
    /// Releases a held sample into the review queue, or discards it (rejected).
    case decideHeld(sampleID: Int64, release: Bool, by: String)

    /// Writes run one at a time, in order; reads may run alongside.
    var isWrite: Bool {
        switch self {
        case .review, .undo, .activatePrompt, .optimizePrompt, .reviewTags, .annotate, .skipAnnotation,
             .adjudicate, .adjudicateTags, .reserve, .releaseReservations, .decideHeld: return true
        default: return false
        }
    }
}

import ArgumentParser
import FlywheelCore
import FlywheelStore
import Foundation

// flywheel review, disputes, adjudicate and reservations: the review console's decisions from the command line
// (for scripts and tests), through the same store calls and role checks.

enum VerdictArgument: String, ExpressibleByArgument, CaseIterable {
    case approve, reject, fix
}

/// A verdict and --answer as a decision: fix needs an answer, approve and reject take none.
struct DecisionOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("approve (the answer as it is), reject, or fix (with --answer).", valueName: "VERDICT"))
    var verdict: VerdictArgument

    @Option(name: .long, help: ArgumentHelp("The correct answer, for fix.", valueName: "TEXT"))
    var answer: String?

    func validate() throws {
        switch verdict {
        case .fix:
            guard let answer, !answer.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw ValidationError("fix needs the correct answer: --answer TEXT")
            }
        case .approve, .reject:
            if answer != nil { throw ValidationError("--answer goes with fix only") }
        }
    }

    var decision: ReviewDecision {
        switch verdict {
        case .approve: return .approve
        case .reject: return .reject
        case .fix: return .fix(correctAnswer: answer ?? "")
        }
    }
}

/// "sample 12 is now fixed (answer: 79)": the answer only for the states that keep one.
func outcome(_ record: ReviewRecord) -> String {
    let keeps = record.after.state == SampleState.approved.rawValue || record.after.state == SampleState.fixed.rawValue
    return "sample \(record.sampleID) is now \(record.after.state)" + (keeps ? record.after.correctAnswer.map { " (answer: \($0))" } ?? "" : "")
}

struct ReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Decide a pending sample as the console's review queue does (\(rolesThatMay(.review))).",
        discussion: """
            With review.overlap above 1 (flywheel settings) the decision is one independent vote: the sample is \
            final once that many reviewers agree, and disputed (see flywheel disputes) when they do not. A sample \
            another reviewer holds in the console is refused.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var actor: ActorOptions

    @Argument(help: ArgumentHelp("The sample's id (flywheel samples).", valueName: "SAMPLE_ID"))
    var sampleID: Int64

    @OptionGroup var decision: DecisionOptions

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let who = try actor.authorized(.review, in: store)
            let record = try store.review(sampleID: sampleID, decision: decision.decision, reviewer: who, now: nowMillis())
            let after = record.after.state
            if after == SampleState.disputed.rawValue {
                print("sample \(sampleID): \(who) votes \(decision.verdict.rawValue); the votes disagree, so it is disputed: "
                      + "an adjudicator decides it with flywheel adjudicate \(sampleID) approve|reject|fix")
            } else if after == record.before.state {
                let votes = try store.decisions(sampleID: sampleID, viewer: who)
                let overlap = try store.teamSettings().overlap
                print("sample \(sampleID): \(who) votes \(decision.verdict.rawValue); \(votes.visible.count + votes.hidden) of \(overlap) decisions, "
                      + "waiting for other reviewers")
            } else {
                print(outcome(record))
            }
        }
    }
}

struct AdjudicateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adjudicate",
        abstract: "Decide a disputed sample (\(rolesThatMay(.adjudicate))).",
        discussion: "The reviewers' votes stay as they were, for agreement figures; the decision is in flywheel audit.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var actor: ActorOptions

    @Argument(help: ArgumentHelp("The disputed sample's id (flywheel disputes).", valueName: "SAMPLE_ID"))
    var sampleID: Int64

    @OptionGroup var decision: DecisionOptions

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let who = try actor.authorized(.adjudicate, in: store)
            let record = try store.adjudicate(sampleID: sampleID, decision: decision.decision, adjudicator: who, now: nowMillis())
            print(outcome(record))
        }
    }
}

struct DisputesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disputes",
        abstract: "List disputed samples (their independent reviews disagreed) with every reviewer's vote.",
        discussion: "Decide one with flywheel adjudicate SAMPLE_ID approve|reject|fix [--answer TEXT].")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var actor: ActorOptions

    @Option(name: .long, help: "At most this many (0 = all).")
    var limit = 50

    func validate() throws {
        if limit < 0 { throw ValidationError("--limit must not be negative") }
    }

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            // Votes on a disputed sample are visible to everyone; the viewer matters only to the store's rule.
            let viewer = (try? actor.name()) ?? ""
            var table = TextTable(headers: ["id", "category", "question", "answer", "votes"], widths: [6, 18, 30, 20, 60])
            let filter = SampleFilter(states: [SampleState.disputed.rawValue])
            let shown = try forEachRow(limit: limit, page: { try store.samples(filter: filter, afterID: $0, limit: 500) }, id: \.id) { s in
                let votes = (try? store.decisions(sampleID: s.id, viewer: viewer)) ?? (visible: [], hidden: 0)
                var cells = votes.visible.map { v in
                    "\(v.reviewer): \(v.verdict.rawValue)" + (v.verdict == .fix ? " \"\(v.answer ?? "")\"" : "")
                }
                if votes.hidden > 0 { cells.append("\(votes.hidden) hidden") }
                table.add([String(s.id), s.category, s.question ?? "", s.correctAnswer ?? "—", cells.joined(separator: "; ")])
            }
            print(shown == 0 ? "No disputed samples." : table.render())
        }
    }
}

struct ReservationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reservations",
        abstract: "List live reservations: which reviewer holds which sample, until when.",
        discussion: "Opening a sample in the console's review queue reserves it (review.reservation_minutes, flywheel settings).")

    @OptionGroup var database: DatabaseOptions

    func run() throws {
        try reportingErrors {
            let now = nowMillis()
            let live = try database.open().reservations(now: now)
            guard !live.isEmpty else {
                print("No live reservations.")
                return
            }
            var table = TextTable(headers: ["sample", "reviewer", "since", "until", "left"], widths: [6, 20, 19, 19, 8])
            for r in live {
                let left = max(0, (r.expiresAt - now) / 1000)
                table.add([String(r.sampleID), r.reviewer, localTime(r.reservedAt), localTime(r.expiresAt), "\(left / 60)m\(left % 60)s"])
            }
            print(table.render())
        }
    }
}

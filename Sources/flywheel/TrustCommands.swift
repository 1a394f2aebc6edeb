import ArgumentParser
import FlywheelCore
import FlywheelStore
import Foundation
import TerminalKit

// `flywheel agreement` (how much reviewers agree) and `flywheel users` (how far end users' feedback can be
// trusted, who is flagged and why, and what is held).

private func jsonNumber(_ v: Double?) -> String { v.map { String(format: "%.6f", $0) } ?? "null" }

struct AgreementCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agreement",
        abstract: "Inter-reviewer agreement: Fleiss' kappa and Krippendorff's alpha overall and per category, Cohen's kappa per pair and per reviewer against the final decision.",
        discussion: """
            Computed over the independent decisions reviewers gave while review.overlap was 2 or more (flywheel \
            settings set review.overlap 2). Labels are approve, fix and reject (a fix to the answer already there \
            counts as approve). "items" is how many samples with at least two decisions are behind a figure; a \
            figure shows "-" where it is undefined (fewer than two decisions, or everyone used one label).
            """)

    @OptionGroup var database: DatabaseOptions
    @Flag(name: .long, help: "One JSON object instead of tables.") var json = false

    func run() throws {
        try reportingErrors {
            let report = try database.open().agreementReport()
            print(json ? Self.json(report) : Self.text(report))
        }
    }

    static func text(_ r: AgreementReport) -> String {
        guard r.overall.items > 0 else {
            return """
                No sample has two independent decisions yet, so there is no agreement to measure. Set \
                review.overlap to 2 or more (flywheel settings set review.overlap 2) and review.
                """
        }
        func table(_ headers: [String], _ widths: [Int], _ rows: [[String]]) -> String {
            var t = TextTable(headers: headers, widths: widths)
            rows.forEach { t.add($0) }
            return t.render()
        }
        return [r.headline, "  " + r.overallFigures,
                "", "By category", table(AgreementReport.categoryHeaders, [22, 6, 9, 8, 7, 7], r.categoryCells),
                "", "By reviewer", table(AgreementReport.reviewerHeaders, [16, 9, 10, 11, 10, 6, 14], r.reviewerCells),
                "", "Pairs (Cohen's kappa)", table(AgreementReport.pairHeaders, [33, 6, 8, 7], r.pairCells)].joined(separator: "\n")
    }

    static func json(_ r: AgreementReport) -> String {
        func fig(_ f: AgreementFigure) -> String {
            "{\"scope\":\(jsonQuoted(f.scope)),\"items\":\(f.items),\"decisions\":\(f.decisions),\"raters\":\(f.raters),"
                + "\"observed\":\(jsonNumber(f.observed)),\"fleiss_kappa\":\(jsonNumber(f.fleissKappa)),\"krippendorff_alpha\":\(jsonNumber(f.krippendorffAlpha))}"
        }
        let reviewers = r.byReviewer.map {
            "{\"reviewer\":\(jsonQuoted($0.reviewer)),\"decisions\":\($0.decisions),\"overlapped\":\($0.overlapped),"
                + "\"with_others\":\(jsonNumber($0.withOthers)),\"with_final\":\($0.withFinal),\"agreed_with_final\":\(jsonNumber($0.agreedWithFinal)),"
                + "\"kappa_with_final\":\(jsonNumber($0.kappaWithFinal))}"
        }
        let pairs = r.pairs.map {
            "{\"a\":\(jsonQuoted($0.a)),\"b\":\(jsonQuoted($0.b)),\"items\":\($0.items),\"observed\":\(jsonNumber($0.observed)),\"cohen_kappa\":\(jsonNumber($0.cohenKappa))}"
        }
        return "{\"overall\":\(fig(r.overall)),\"by_category\":[\(r.byCategory.map(fig).joined(separator: ","))],"
            + "\"by_reviewer\":[\(reviewers.joined(separator: ","))],\"pairs\":[\(pairs.joined(separator: ","))],"
            + "\"labels\":[\(r.labels.map(jsonQuoted).joined(separator: ","))]}"
    }
}

struct EndUsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "End users' feedback trust: scores, weights, abuse flags with reasons, held feedback.",
        discussion: """
            A user's score is how often their explicit feedback (thumbs up/down, corrections, tag verdicts) agreed \
            with reviewers' final decisions, smoothed towards 0.5: (agreed + 1) / (reviewed + 2). Samples from the \
            user carry it as their weight (0 while flagged). A user is flagged when at least 95% of 20 or more \
            feedback are thumbs-down, when they send 20 or more feedback within a minute and 5 times the other \
            users' usual peak, or when reviewers rejected 3 or more of their corrections and at least half of them. \
            A flagged user's new feedback is held instead of entering the review queue, until a reviewer releases \
            or discards it. Scores are recomputed by every analysis run (or --refresh).
            """,
        subcommands: [EndUsersList.self, EndUsersHeld.self, EndUsersRelease.self, EndUsersDiscard.self, EndUsersOverride.self],
        defaultSubcommand: EndUsersList.self)
}

struct EndUsersList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Scores and flags, flagged users first, then the least trusted.")

    @OptionGroup var database: DatabaseOptions
    @Flag(name: .long, help: "Only flagged users.") var flagged = false
    @Flag(name: .long, help: "Recompute scores and flags first (as analysis does).") var refresh = false
    @Option(name: .long, help: "At most this many users.") var limit = 100
    @Flag(name: .long, help: "One JSON object per user.") var json = false

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            if refresh { try store.refreshTrust(actor: "flywheel-users", now: nowMillis()) }
            let rows = try store.endUserTrust(flaggedOnly: flagged, limit: limit)
            if json {
                for u in rows {
                    let flags = u.flags.map { "{\"kind\":\(jsonQuoted($0.kind.rawValue)),\"reason\":\(jsonQuoted($0.reason))}" }
                    print("{\"user\":\(jsonQuoted(u.user)),\"feedback\":\(u.feedback),\"reviewed\":\(u.reviewed),\"agreed\":\(u.agreed),"
                          + "\"score\":\(jsonNumber(u.score)),\"weight\":\(jsonNumber(u.weight)),\"flagged\":\(u.flagged),"
                          + "\"override\":\(u.override.map(jsonQuoted) ?? "null"),\"held\":\(u.heldSamples),\"flags\":[\(flags.joined(separator: ","))]}")
                }
                return
            }
            guard !rows.isEmpty else {
                print(flagged ? "No end user is flagged." : "No end-user trust computed yet: run flywheel analyze (or flywheel users --refresh).")
                return
            }
            let cells = rows.map { u -> [String] in
                [u.user, String(u.feedback), String(u.reviewed), String(u.agreed), String(format: "%.2f", u.score),
                 String(format: "%.2f", u.weight), String(u.heldSamples), u.flagSummary]
            }
            // The reasons are the point: the last column is as wide as the longest, never cut.
            let reasons = max(5, cells.map { TextWidth.width(TextWidth.sanitize($0[7])) }.max() ?? 0)
            var t = TextTable(headers: ["user", "feedback", "reviewed", "agreed", "score", "weight", "held", "flags"],
                              widths: [18, 8, 8, 6, 5, 6, 4, reasons])
            cells.forEach { t.add($0) }
            print(t.render())
        }
    }
}

struct EndUsersHeld: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "held", abstract: "Samples held because their end user is flagged.")

    @OptionGroup var database: DatabaseOptions
    @Option(name: .long, help: "At most this many samples.") var limit = 50

    func run() throws {
        try reportingErrors {
            let held = try database.open().heldSamples(limit: limit)
            guard !held.isEmpty else { print("Nothing is held."); return }
            var t = TextTable(headers: ["sample", "user", "source", "releases to", "question", "correct answer"], widths: [7, 16, 16, 12, 30, 30])
            for h in held {
                t.add([String(h.sample.id), h.user, h.sample.source, h.heldState, h.sample.question ?? "", h.sample.correctAnswer ?? ""])
            }
            print(t.render())
        }
    }
}

/// Release or discard: the same loop, reporting each sample. `from` adds every sample held from that end user.
private func decideHeld(_ given: [Int64], from endUser: String?, release: Bool, database: DatabaseOptions, actor: ActorOptions) throws {
    let store = try database.open()
    let who = try actor.authorized(.releaseHeld, in: store)
    var ids = given
    if let endUser {
        let theirs = try store.heldSamples(limit: Int.max).filter { $0.user == endUser }.map(\.sample.id)
        if theirs.isEmpty { printErr("flywheel: nothing is held from end user '\(endUser)'") }
        ids += theirs
    }
    guard !ids.isEmpty else { throw CLIError("name the samples (ids) or --from END_USER", exitCode: 64) }
    var failed = false
    for id in ids {
        do {
            let r = try store.decideHeld(sampleID: id, release: release, by: who, now: nowMillis())
            print("sample \(id): \(r.before.state) -> \(r.after.state)")
        } catch let e as HoldError {
            printErr("flywheel: \(e.description)")
            failed = true
        }
    }
    if failed { throw ExitCode(1) }
}

struct EndUsersRelease: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "release", abstract: "Let held samples into the review queue (reviewer or admin).")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var actor: ActorOptions
    @Argument(help: "Sample ids.") var ids: [Int64] = []
    @Option(name: .long, help: ArgumentHelp("Every sample held from this end user.", valueName: "END_USER")) var from: String?
    func run() throws { try reportingErrors { try decideHeld(ids, from: from, release: true, database: database, actor: actor) } }
}

struct EndUsersDiscard: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "discard", abstract: "Reject held samples (reviewer or admin).")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var actor: ActorOptions
    @Argument(help: "Sample ids.") var ids: [Int64] = []
    @Option(name: .long, help: ArgumentHelp("Every sample held from this end user.", valueName: "END_USER")) var from: String?
    func run() throws { try reportingErrors { try decideHeld(ids, from: from, release: false, database: database, actor: actor) } }
}

struct EndUsersOverride: ParsableCommand {
    enum Word: String, ExpressibleByArgument, CaseIterable { case trusted, flagged, rules }

    static let configuration = CommandConfiguration(
        commandName: "override",
        abstract: "An admin's word on an end user: trusted (never held), flagged (always held) or rules (back to the rules).")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var actor: ActorOptions
    @Argument(help: "The end user id (user_id in events).") var endUser: String
    @Argument(help: "trusted, flagged or rules.") var word: Word
    @Option(name: .long, help: "Why, kept in the audit log.") var reason: String?

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let who = try actor.authorized(.moderateUsers, in: store)
            try store.overrideEndUser(endUser, to: word == .rules ? nil : word.rawValue, by: who, reason: reason, now: nowMillis())
            print("\(endUser): \(word.rawValue)")
        }
    }
}

import FlywheelCore
import FlywheelStore
import TerminalKit

// Team review in the console (issue 9). Screen 2 reserves the selected sample for the reviewer (others' queues
// skip it), renews the hold while they stay, and gives it up when they leave the screen or quit; a sample
// someone else got first leaves the list with their name. With an overlap above 1 a decision is one vote: the
// status line says how many are in, or that the reviewers disagreed (a tag fix is such a vote too). `A` shows
// the adjudication queue: the disputed samples, each with every reviewer's vote (a tag vote as its corrected tag
// list), decided with a/x/e/c; `e` on a tags sample opens the tag editor, whose save is the adjudication. Keys a
// role may not use are refused here with the store's own message (the role that may); the store checks again,
// so a role changed mid-session ends in the same message.

extension Console {
    /// Samples this many at most are read into the adjudication queue (it is one page, in id order).
    static let disputedLimit = 400

    // MARK: roles

    /// Why the acting user may not take `action`, by the rules the store applies; nil when they may, when
    /// nobody is registered (roles not enforced), or before the team is known (the store still checks).
    static func refusal(_ state: AppState, _ action: TeamAction) -> PermissionError? {
        guard let team = state.team, team.enforced else { return nil }
        do {
            try FlywheelCore.authorize(state.reviewer, action, member: team.member, anyRegistered: true)
            return nil
        } catch let e as PermissionError {
            return e
        } catch {
            return nil
        }
    }

    /// Puts the refusal in the status line; true when the action is refused.
    static func refuse(_ state: inout AppState, _ action: TeamAction) -> Bool {
        guard let e = refusal(state, action) else { return false }
        state.status = StatusLine(text: e.description, isError: true)
        return true
    }

    /// The permission a key needs on the screen it is pressed on; nil for keys anyone may use.
    static func permissionNeeded(_ state: AppState, _ action: Action) -> TeamAction? {
        switch (state.screen, action) {
        case (.review, .approve), (.review, .reject), (.review, .edit), (.review, .category):
            return state.review.adjudicating ? .adjudicate : .review
        case (.review, .undo):
            if let last = state.review.undoStack.last { return last.record.action == "adjudicate" ? .adjudicate : .review }
            return state.review.adjudicating ? .adjudicate : .review
        case (.review, .toggleAdjudication):
            return state.review.adjudicating ? nil : .adjudicate  // going back needs nothing
        case (.annotate, .accept), (.annotate, .edit), (.annotate, .toggleTag), (.annotate, .skip):
            return .annotate
        case (.prompts, .optimize):
            return .optimize
        case (.prompts, .activate):
            return .managePrompts
        case (.team, .releaseHeld), (.team, .discardHeld):
            return .releaseHeld
        default:
            return nil
        }
    }

    /// A write the store refused: its own message when it is one of its refusals (it names the sample, the
    /// holder or the role that may), else what failed.
    static func refusalText(_ id: Int64, _ e: Error) -> String {
        switch e {
        case is PermissionError, is ReviewError: return "\(e)"
        default: return "#\(id) not saved: \(e)"
        }
    }

    /// The status after a decision was written: final, one vote of several, or a disagreement.
    static func decisionMessage(_ record: ReviewRecord, votes: VoteCount?) -> String {
        let id = record.sampleID
        if record.after.state == SampleState.disputed.rawValue {
            return "reviewers disagreed: sample \(id) goes to adjudication"
        }
        if SampleState.isWaiting(record.after.state) {
            let count = votes.map { "\($0.cast) of \($0.needed) decisions" } ?? "your decision is in"
            return "vote recorded: \(count); waiting for other reviewers"
        }
        // What the sample became (a fix that keeps the answer or the tags as they stood approves it).
        let verb: String
        switch record.after.state {
        case SampleState.approved.rawValue: verb = "approved"
        case SampleState.rejected.rawValue: verb = "rejected"
        case SampleState.fixed.rawValue: verb = record.action == "fix_tags" ? "tags fixed" : "fixed"
        default: verb = record.after.state
        }
        return "#\(id) \(verb) by \(record.reviewer) (u undoes)"
    }

    // MARK: reservations and votes

    /// Reserves the selected sample of the review queue; in the adjudication queue, loads its votes.
    static func teamFollowUps(_ state: inout AppState) -> [Effect] {
        guard state.screen == .review, !state.quit, let row = state.review.list.selectedRow else { return [] }
        let id = row.sample.id
        if state.review.adjudicating {
            guard state.review.votes?.sampleID != id, state.review.requestedVotes != id else { return [] }
            state.review.requestedVotes = id
            return [.loadVotes(sampleID: id)]
        }
        // Someone who may not review does not hold samples others could review.
        guard state.review.reservation?.sampleID != id, state.review.requestedReservation != id, refusal(state, .review) == nil else { return [] }
        state.review.requestedReservation = id
        return [.reserve(sampleID: id, reviewer: state.reviewer)]
    }

    /// On the poll: renews the hold on the sample the reviewer is still on once half its time has gone, if they
    /// pressed a key within the last reservation time: a console left open on a sample lets it go when it expires.
    static func renewReservation(_ state: inout AppState) -> [Effect] {
        guard state.screen == .review, !state.review.adjudicating, var held = state.review.reservation, !held.renewing,
              state.review.list.selectedRow?.sample.id == held.sampleID else { return [] }
        let now = state.clock(), length = held.until - held.since
        guard now - held.since >= length / 2, let lastKey = state.lastKeyAt, now - lastKey < length else { return [] }
        held.renewing = true
        state.review.reservation = held
        return [.reserve(sampleID: held.sampleID, reviewer: state.reviewer)]
    }

    /// Gives up what this reviewer holds (leaving the review queue, quitting).
    static func releaseReservation(_ state: inout AppState) -> [Effect] {
        guard state.review.reservation != nil || state.review.requestedReservation != nil else { return [] }
        state.review.reservation = nil
        state.review.requestedReservation = nil
        return [.releaseReservations(reviewer: state.reviewer)]
    }

    /// The console is going away (quit, the end of a headless run): gives up what it holds.
    public static func close(_ state: inout AppState) -> [Effect] {
        state.quit = true  // nothing is reserved again after this
        let effects = releaseReservation(&state)
        state.pending += effects.count
        return effects
    }

    /// `A`: the adjudication queue, or back to the review queue (read again: it may have changed meanwhile).
    static func toggleAdjudication(_ state: inout AppState) -> [Effect] {
        state.review.tagDraft = nil
        state.review.detailScroll = 0
        state.preview.zoomed = false
        state.focus = .list
        if state.review.adjudicating {
            state.review.adjudicating = false
            state.status = StatusLine(text: "review queue", isError: false)
            return reloadQueue(&state)
        }
        let released = releaseReservation(&state)
        state.review.adjudicating = true
        state.status = StatusLine(text: "adjudication queue: a/x/e/c decide, A goes back", isError: false)
        return released + reloadDisputed(&state)
    }

    static func reloadDisputed(_ state: inout AppState) -> [Effect] {
        state.review.disputed.invalidate()
        state.review.disputed.loadingForward = true
        state.review.votes = nil
        state.review.requestedVotes = nil
        return [.loadDisputed(limit: disputedLimit)]
    }

    /// Takes a sample out of the review queue (another reviewer has it, or it is no longer waiting).
    static func dropFromQueue(_ state: inout AppState, _ id: Int64) {
        guard let i = state.review.queue.rows.firstIndex(where: { $0.sample.id == id }) else { return }
        if i == state.review.queue.selected { state.review.detailScroll = 0 }
        state.review.queue.remove(at: i)
    }

    static func handleTeamResult(_ state: inout AppState, _ message: Message) -> [Effect] {
        switch message {
        case .reserved(let id, let result):
            // The hold on `id`, if any, is over unless this renewed it.
            if state.review.reservation?.sampleID == id { state.review.reservation = nil }
            switch result {
            case .success(.reserved(let until)):
                // An answer after the reviewer left the queue: the release that followed it has given it up.
                guard state.screen == .review, !state.review.adjudicating else { return [] }
                state.review.reservation = ReservedSample(sampleID: id, since: state.clock(), until: until)
                return []
            case .success(.heldBy(let reviewers, _)):
                dropFromQueue(&state, id)
                let who = reviewers.isEmpty ? "other reviewers" : reviewers.joined(separator: ", ")
                state.status = StatusLine(text: "sample \(id) was just taken by \(who)", isError: false)
            case .success(.alreadyVoted):
                dropFromQueue(&state, id)
                state.status = StatusLine(text: ReviewError.alreadyVoted(id).description, isError: false)
            case .success(.notWaiting(let sampleState)):
                dropFromQueue(&state, id)
                state.status = StatusLine(text: ReviewError.alreadyDecided(id, state: sampleState).description, isError: false)
            case .failure(let e):
                // Not asked again for this selection (requestedReservation stays): no loop of refusals.
                state.status = StatusLine(text: e is PermissionError ? "\(e)" : "cannot reserve #\(id): \(e)", isError: true)
                return []
            }
            return [.loadQueueCount]
        case .released(let result):
            if case .failure(let e) = result { state.status = StatusLine(text: "cannot give up the reservation: \(e)", isError: true) }
        case .disputedPage(let requested, let result):
            switch result {
            case .success(var rows):
                rows.removeAll { state.review.inFlight[$0.sample.id] != nil }
                state.review.disputed.reset(rows, requested: requested)
            case .failure(let e):
                state.review.disputed.loadingForward = false
                state.status = StatusLine(text: "cannot load the adjudication queue: \(e)", isError: true)
            }
        case .votes(let id, let result):
            switch result {
            case .success(let votes): if state.review.list.selectedRow?.sample.id == id { state.review.votes = (id, votes) }
            case .failure(let e): state.status = StatusLine(text: "cannot load the votes on #\(id): \(e)", isError: true)
            }
        case .adjudicated(let id, let decision, let result):
            let taken = state.review.inFlight.removeValue(forKey: id)
            switch result {
            case .success(let record):
                if case .recategorize(let c) = decision {
                    recategorized(&state, id, c, record, in: \.disputed)
                } else {
                    if let taken { state.review.undoStack.append((record, taken.item)) }
                    state.status = StatusLine(text: "#\(id) adjudicated: \(record.after.state) by \(record.reviewer) (u undoes)", isError: false)
                }
            case .failure(let e):
                if let taken { state.review.disputed.insert(taken.item, at: taken.index) }
                state.status = StatusLine(text: refusalText(id, e), isError: true)
            }
        case .team(let result):
            switch result {
            case .success(let team): state.team = team
            case .failure(let e): state.status = StatusLine(text: "cannot read the team's roles: \(e)", isError: true)
            }
        default:
            break
        }
        return []
    }

    // MARK: drawing

    /// "reserved for you until 14:03" in the review queue's detail.
    static func reservationLines(_ state: AppState, sampleID: Int64) -> [Line] {
        guard !state.review.adjudicating, let held = state.review.reservation, held.sampleID == sampleID else { return [] }
        let p = parts(held.until, state.timeZone)
        return [Line("reserved for you until \(two(p.h)):\(two(p.mi))", state.theme[.label])]
    }

    /// Every reviewer's vote on a disputed sample: who, verdict, answer (for a tag vote, its corrected tag list).
    static func voteLines(_ state: AppState, sampleID: Int64, width: Int, labelW: Int) -> [Line] {
        let t = state.theme
        guard let (id, votes) = state.review.votes, id == sampleID else {
            return [Line([(TextWidth.pad("Votes", to: labelW), t[.label]), ("loading…", t[.muted])])]
        }
        var lines: [Line] = []
        let nameW = min(14, max(6, votes.visible.map { TextWidth.width($0.reviewer) }.max() ?? 6))
        for (i, v) in votes.visible.enumerated() {
            let role: Role = v.verdict == .reject ? .answerWrong : (v.verdict == .fix ? .repeated : .answerRight)
            let head = TextWidth.pad(TextWidth.truncate(v.reviewer, to: nameW), to: nameW) + " " + TextWidth.pad(v.verdict.rawValue, to: 7) + " "
            let answer = v.answer.map(oneLine) ?? "—"
            let wrapped = TextWidth.wrap(answer, to: max(1, width - labelW - TextWidth.width(head)))
            for (j, l) in wrapped.enumerated() {
                lines.append(Line([(TextWidth.pad(i == 0 && j == 0 ? "Votes" : "", to: labelW), t[.label]),
                                   (j == 0 ? head : String(repeating: " ", count: TextWidth.width(head)), t[role]),
                                   (l, v.answer == nil ? t[.muted] : t[.base])]))
            }
        }
        if votes.visible.isEmpty { lines.append(Line([(TextWidth.pad("Votes", to: labelW), t[.label]), ("none", t[.muted])])) }
        if votes.hidden > 0 {
            lines.append(Line([(TextWidth.pad("", to: labelW), t[.label]), ("\(votes.hidden) more, hidden until you decide", t[.muted])]))
        }
        return lines
    }

    /// The acting user and, once roles are enforced, their role.
    static func userLabel(_ state: AppState) -> String {
        guard let team = state.team, team.enforced else { return state.reviewer }
        guard let m = team.member else { return "\(state.reviewer) · not registered" }
        return "\(state.reviewer) · \(m.role.rawValue)\(m.adjudicator && m.role == .reviewer ? " (adjudicator)" : "")"
    }
}

import FlywheelCore
import FlywheelStore
import TerminalKit

/// The console's logic: state + message -> state + effects. Pure: no I/O happens here, so every behaviour
/// is testable by feeding messages and looking at the state, the effects and the rendered screen.
public enum Console {
    /// Effects to start with: the first page of the first screen and the counts.
    public static func start(_ state: inout AppState) -> [Effect] {
        var effects = reloadSessions(&state)
        effects += [.loadCounts, .loadTeam]
        state.pending += effects.count
        return effects + [.pollDataVersion]
    }

    public static func update(_ state: inout AppState, _ message: Message) -> [Effect] {
        var effects: [Effect] = []
        switch message {
        case .key(let key):
            state.lastKeyAt = state.clock()
            effects = handleKey(&state, key)
        case .resized(let w, let h):
            state.width = w
            state.height = h
        case .tick:
            state.spinnerFrame += 1
        case .dataVersion:
            // Polls are the runtime's, not the user's: they do not run the spinner. The poll is also the clock
            // that renews a reservation the reviewer is still working on.
            effects = handleResult(&state, message) + renewReservation(&state)
        default:
            state.pending = max(0, state.pending - 1)
            effects = handleResult(&state, message)
        }
        effects += followUps(&state)
        state.pending += effects.filter { $0 != .pollDataVersion }.count
        return effects
    }

    /// A recategorisation written: the row (in the review or the adjudication queue) shows the new category and
    /// the action goes on the undo stack.
    static func recategorized(_ state: inout AppState, _ id: Int64, _ category: String, _ record: ReviewRecord,
                              in list: WritableKeyPath<ReviewState, PagedList<QueueItem, QueueCursor>>) {
        if let i = state.review[keyPath: list].rows.firstIndex(where: { $0.sample.id == id }) {
            state.review[keyPath: list].update(at: i) { $0.sample.category = category }
            state.review.undoStack.append((record, state.review[keyPath: list].rows[i]))
        }
        state.status = StatusLine(text: "#\(id) category set to \(category) (u undoes)", isError: false)
    }

    // MARK: keys

    static func handleKey(_ state: inout AppState, _ key: Key) -> [Effect] {
        if key == .resize { return [] }
        if state.showHelp {
            state.showHelp = false  // any key closes help; `q` there closes help, not the app
            return []
        }
        if state.preview.zoomed, key == .esc || key == .char("z") {
            state.preview.zoomed = false
            return []
        }
        if state.screen == .review, let effects = handleTagKey(&state, key) { return effects }
        switch state.mode {
        case .search(var editor):
            switch key {
            case .enter:
                let text = editor.text.trimmingCharacters(in: .whitespaces)
                state.mode = .normal
                state.sessions.query.search = text.isEmpty ? nil : text
                state.status = StatusLine(text: text.isEmpty ? "search cleared" : "searching for “\(text)”…", isError: false)
                return reloadSessions(&state)
            case .esc:
                state.mode = .normal
            default:
                if editor.handle(key) { state.mode = .search(editor) }
            }
            return []
        case .editAnswer(var editor, let id):
            switch key {
            case .enter:
                let text = editor.text.trimmingCharacters(in: .whitespaces)
                if text.isEmpty {
                    state.status = StatusLine(text: "the correct answer cannot be empty (Esc cancels)", isError: true)
                    return []
                }
                state.mode = .normal
                return decide(&state, sampleID: id, .fix(correctAnswer: text))
            case .esc:
                state.mode = .normal
                state.status = StatusLine(text: "edit cancelled", isError: false)
            default:
                if editor.handle(key) { state.mode = .editAnswer(editor, sampleID: id) }
            }
            return []
        case .annotateAnswer(var editor, let id):
            switch key {
            case .enter: return finishAnnotateEditor(&state, text: editor.text, taskID: id)
            case .esc:
                state.mode = .normal
                state.status = StatusLine(text: "cancelled", isError: false)
            default:
                if editor.handle(key) { state.mode = .annotateAnswer(editor, taskID: id) }
            }
            return []
        case .pickCategory(let index, let id):
            let all = ErrorCategory.allCases
            switch key {
            case .char("j"), .down: state.mode = .pickCategory(index: min(all.count - 1, index + 1), sampleID: id)
            case .char("k"), .up: state.mode = .pickCategory(index: max(0, index - 1), sampleID: id)
            case .enter:
                state.mode = .normal
                return decide(&state, sampleID: id, .recategorize(all[index].rawValue))
            case .esc, .char("q"): state.mode = .normal
            default: break
            }
            return []
        case .normal:
            break
        }
        guard let action = KeyMap.action(for: key, on: state.screen) else {
            if case .char(let c) = key, c != " " {
                state.status = StatusLine(text: "\(key.name) does nothing here; ? shows the keys", isError: false)
            }
            return []
        }
        return perform(&state, action)
    }

    static func perform(_ state: inout AppState, _ action: Action) -> [Effect] {
        // A key the user's role may not use says so, naming the role that may, and does nothing else.
        if let needed = permissionNeeded(state, action), refuse(&state, needed) { return [] }
        if state.screen == .annotate, [.accept, .edit, .toggleTag, .skip, .down, .up].contains(action) {
            return performAnnotate(&state, action)
        }
        if state.screen == .team, [.down, .up, .pageDown, .pageUp, .top, .focusNext, .focusPrevious, .releaseHeld, .discardHeld].contains(action) {
            return performTeam(&state, action)
        }
        switch action {
        case .quit:
            state.quit = true
            return releaseReservation(&state)
        case .help: state.showHelp = true
        case .refresh:
            state.status = StatusLine(text: "reloading…", isError: false)
            return reloadCurrent(&state) + [.loadCounts, .loadTeam]
        case .screen(let s):
            guard s != state.screen else { return [] }
            // Leaving the review screen gives up the sample held there.
            let released = state.screen == .review ? releaseReservation(&state) : []
            state.screen = s
            state.preview.zoomed = false
            state.focus = .list
            state.status = nil
            if s == .review, !state.review.list.loaded && !state.review.list.loadingForward {
                return state.review.adjudicating ? reloadDisputed(&state) : reloadQueue(&state)
            }
            if [.patterns, .prompts, .metrics].contains(s) { return released + loadImprovementScreen(&state) }
            if s == .annotate, !state.annotate.loaded { return released + loadAnnotate(&state) }
            if s == .team { return released + loadTeamScreen(&state) }
            if s == .sessions, !state.sessions.list.loaded && !state.sessions.list.loadingForward { return released + reloadSessions(&state) }
            return released
        case .down, .up, .pageDown, .pageUp, .top:
            let page = max(1, Layout(width: state.width, height: state.height).listRows)
            let delta: Int
            switch action {
            case .down: delta = 1
            case .up: delta = -1
            case .pageDown: delta = page
            case .pageUp: delta = -page
            default: delta = Int.min / 2
            }
            if [.patterns, .prompts].contains(state.screen) {
                moveImprovement(&state, by: delta == Int.min / 2 ? 0 : delta, toTop: action == .top)
                return []
            }
            if state.focus == .detail {
                scrollDetail(&state, by: delta == Int.min / 2 ? -Int.max / 2 : delta)
                return []
            }
            if action == .top, state.screen == .sessions, !state.sessions.list.atStart { return reloadSessions(&state) }
            if action == .top, state.screen == .review, !state.review.adjudicating, !state.review.list.atStart { return reloadQueue(&state) }
            moveSelection(&state, by: delta)
        case .focusNext:
            state.focus = state.focus == .list ? .detail : .list
        case .search:
            var editor = LineEditor(state.sessions.query.search ?? "")
            editor.end()
            state.mode = .search(editor)
        case .toggleFlagged:
            state.sessions.query.flaggedOnly.toggle()
            state.status = StatusLine(text: state.sessions.query.flaggedOnly ? "showing flagged sessions only" : "showing all sessions", isError: false)
            return reloadSessions(&state)
        case .approve, .reject:
            guard let item = state.review.list.selectedRow else { return noSample(&state) }
            if action == .approve, (item.sample.correctAnswer ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                state.status = StatusLine(text: "#\(item.sample.id) has no correct answer yet: press e to write one", isError: true)
                return []
            }
            return decide(&state, sampleID: item.sample.id, action == .approve ? .approve : .reject)
        case .edit:
            guard let item = state.review.list.selectedRow else { return noSample(&state) }
            // A tags sample is decided by its tags, in the review queue and in the adjudication queue alike.
            if isTagSample(item) { return startTagEdit(&state, item) }
            state.mode = .editAnswer(LineEditor(item.sample.correctAnswer ?? ""), sampleID: item.sample.id)
            state.status = StatusLine(text: "editing the correct answer: Enter saves it (the sample becomes fixed), Esc cancels", isError: false)
        case .category:
            guard let item = state.review.list.selectedRow else { return noSample(&state) }
            let index = ErrorCategory.allCases.firstIndex { $0.rawValue == item.sample.category } ?? 0
            state.mode = .pickCategory(index: index, sampleID: item.sample.id)
        case .skip:
            guard let item = state.review.list.selectedRow else { return noSample(&state) }
            moveSelection(&state, by: 1)
            state.status = StatusLine(text: "skipped #\(item.sample.id); it stays in the queue", isError: false)
        case .groupBy, .cycleWindow, .drill, .back, .toggleDiff, .optimize, .activate, .toggleBucket:
            return performImprovement(&state, action)
        case .toggleAdjudication:
            return toggleAdjudication(&state)
        case .zoom, .openImage:
            return performPreview(&state, action)
        case .accept, .toggleTag:
            return []
        case .focusPrevious, .releaseHeld, .discardHeld:
            return performTeam(&state, action)
        case .undo:
            guard let last = state.review.undoStack.popLast() else {
                state.status = StatusLine(text: "nothing to undo", isError: false)
                return []
            }
            state.review.undoStack.append(last)  // removed when the undo is written
            state.status = StatusLine(text: "undoing \(last.record.action) of #\(last.record.sampleID)…", isError: false)
            return [.undo(last.record, reviewer: state.reviewer)]
        }
        return []
    }

    static func noSample(_ state: inout AppState) -> [Effect] {
        state.status = StatusLine(text: "no sample selected", isError: false)
        return []
    }

    /// A decision: approve/reject/fix take the row out of the queue at once (the next row is selected) and
    /// write; if the write fails the row comes back. A new category keeps the row where it is.
    static func decide(_ state: inout AppState, sampleID: Int64, _ decision: ReviewDecision) -> [Effect] {
        if case .recategorize = decision {
            state.status = StatusLine(text: "saving…", isError: false)
        } else if let index = state.review.list.rows.firstIndex(where: { $0.sample.id == sampleID }),
                  let item = state.review.list.remove(at: index) {
            state.review.inFlight[sampleID] = (item, index)
            state.review.detailScroll = 0
        }
        if state.review.adjudicating { return [.adjudicate(sampleID: sampleID, decision: decision, adjudicator: state.reviewer)] }
        return [.review(sampleID: sampleID, decision: decision, reviewer: state.reviewer)]
    }

    static func moveSelection(_ state: inout AppState, by delta: Int) {
        switch state.screen {
        case .sessions:
            let before = state.sessions.list.selected
            state.sessions.list.move(by: delta)
            if state.sessions.list.selected != before { state.sessions.detailScroll = 0 }
        case .review:
            let before = state.review.list.selected
            state.review.list.move(by: delta)
            if state.review.list.selected != before { state.review.detailScroll = 0 }
        default: break
        }
    }

    static func scrollDetail(_ state: inout AppState, by delta: Int) {
        switch state.screen {
        case .sessions: state.sessions.detailScroll = max(0, state.sessions.detailScroll.addingReportingOverflow(delta).partialValue)
        case .review: state.review.detailScroll = max(0, state.review.detailScroll.addingReportingOverflow(delta).partialValue)
        default: break
        }
    }

    static func reloadSessions(_ state: inout AppState) -> [Effect] {
        state.sessions.list.invalidate()
        state.sessions.list.loadingForward = true
        return [.loadSessions(state.sessions.query, cursor: nil, direction: .forward, limit: PagedList<SessionSummary, SessionCursor>.pageSize)]
    }

    static func reloadQueue(_ state: inout AppState) -> [Effect] {
        state.review.queue.invalidate()
        state.review.queue.loadingForward = true
        return [.loadQueue(cursor: nil, direction: .forward, limit: PagedList<QueueItem, QueueCursor>.pageSize)]
    }

    static func reloadCurrent(_ state: inout AppState) -> [Effect] {
        var effects: [Effect] = []
        // Both lists are read again, keeping the screen the user is on; the other one reloads when shown.
        if state.screen == .review {
            effects += state.review.adjudicating ? reloadDisputed(&state) : reloadQueue(&state)
            state.sessions.list.invalidate()
        } else {
            effects += reloadSessions(&state); state.review.queue.invalidate(); state.review.disputed.invalidate()
        }
        state.sessions.conversation = nil
        state.review.context = nil
        state.review.votes = nil
        state.review.requestedVotes = nil
        state.patterns.data = nil
        state.prompts.data = nil
        state.metrics.data = nil
        if state.screen == .team { effects += reloadTeamScreen(&state) } else { markTeamScreenStale(&state) }
        return effects + loadImprovementScreen(&state)
    }

    // MARK: results

    static func handleResult(_ state: inout AppState, _ message: Message) -> [Effect] {
        switch message {
        case .sessionsPage(let query, let cursor, let direction, let requested, let result):
            // An answer to a search or filter the user has since changed is dropped.
            guard query == state.sessions.query else { return [] }
            switch result {
            case .failure(let e):
                state.sessions.list.loadingForward = false
                state.sessions.list.loadingBackward = false
                state.status = StatusLine(text: "cannot load sessions: \(e)", isError: true)
            case .success(let rows):
                let previous = state.sessions.list.selectedRow?.sessionID
                switch (cursor, direction) {
                case (nil, _):
                    state.sessions.list.reset(rows, requested: requested)
                    if let q = query.search { state.status = StatusLine(text: rows.isEmpty ? "no session matches “\(q)”" : "sessions matching “\(q)”", isError: false) }
                case (let c?, .forward): state.sessions.list.append(rows, requested: requested, after: c)
                case (let c?, .backward): state.sessions.list.prepend(rows, requested: requested, before: c)
                }
                if state.sessions.list.selectedRow?.sessionID != previous { state.sessions.detailScroll = 0 }
            }
        case .conversation(let id, let result):
            switch result {
            case .success(let turns):
                // Only the selected session's answer is kept; answers can arrive out of order.
                if state.sessions.list.selectedRow?.sessionID == id { state.sessions.conversation = (id, turns) }
            case .failure(let e): state.status = StatusLine(text: "cannot load session \(id): \(e)", isError: true)
            }
        case .queuePage(let cursor, let direction, let requested, let result):
            switch result {
            case .failure(let e):
                state.review.queue.loadingForward = false
                state.review.queue.loadingBackward = false
                state.status = StatusLine(text: "cannot load the review queue: \(e)", isError: true)
            case .success(var rows):
                // Rows whose decision is being written stay out of the list.
                rows.removeAll { state.review.inFlight[$0.sample.id] != nil }
                switch (cursor, direction) {
                case (nil, _): state.review.queue.reset(rows, requested: requested)
                case (let c?, .forward): state.review.queue.append(rows, requested: requested, after: c)
                case (let c?, .backward): state.review.queue.prepend(rows, requested: requested, before: c)
                }
            }
        case .context(let id, let result):
            switch result {
            case .success(let turns):
                if state.review.list.selectedRow?.sample.id == id { state.review.context = (id, turns) }
            case .failure(let e): state.status = StatusLine(text: "cannot load the conversation of #\(id): \(e)", isError: true)
            }
        case .counts(let result):
            switch result {
            case .success(let c): state.counts = c
            case .failure(let e): state.status = StatusLine(text: "cannot count: \(e)", isError: true)
            }
        case .queueCount(let result):
            switch result {
            case .success(let n): state.counts?.queue = n
            case .failure(let e): state.status = StatusLine(text: "cannot count the queue: \(e)", isError: true)
            }
        case .reviewed(let id, let decision, let result, let votes):
            let taken = state.review.inFlight.removeValue(forKey: id)
            switch result {
            case .success(let record):
                if case .recategorize(let c) = decision {
                    recategorized(&state, id, c, record, in: \.queue)
                } else {
                    if let taken { state.review.undoStack.append((record, taken.item)) }
                    // The store dropped the reservation with the vote.
                    if state.review.reservation?.sampleID == id { state.review.reservation = nil }
                    state.status = StatusLine(text: decisionMessage(record, votes: votes), isError: false)
                }
                return [.loadQueueCount]
            case .failure(let e):
                if let taken {
                    // Back on show with the store's word, and not reserved again at once (which would only
                    // replace that word with the reservation's).
                    state.review.queue.insert(taken.item, at: taken.index)
                    state.review.requestedReservation = id
                }
                state.status = StatusLine(text: refusalText(id, e), isError: true)
            }
        case .adjudicated, .reserved, .released, .disputedPage, .votes, .team:
            return handleTeamResult(&state, message)
        case .undone(let result):
            switch result {
            case .success(let record):
                if let i = state.review.undoStack.lastIndex(where: { $0.record.sampleID == record.sampleID }) {
                    var item = state.review.undoStack.remove(at: i).item
                    item.sample.state = record.after.state
                    item.sample.correctAnswer = record.after.correctAnswer
                    item.sample.category = record.after.category
                    // An undone adjudication goes back to the adjudication queue, anything else to the review queue.
                    let list: WritableKeyPath<ReviewState, PagedList<QueueItem, QueueCursor>> =
                        record.after.state == SampleState.disputed.rawValue ? \.disputed : \.queue
                    if let j = state.review[keyPath: list].rows.firstIndex(where: { $0.sample.id == record.sampleID }) {
                        state.review[keyPath: list].update(at: j) { $0 = item }
                        state.review[keyPath: list].selected = j
                    } else {
                        // Back into the queue in rank order (the adjudication queue: id order), and selected.
                        let rows = state.review[keyPath: list].rows
                        let at = rows.firstIndex { ($0.rank, $0.sample.id) > (item.rank, item.sample.id) } ?? rows.count
                        state.review[keyPath: list].insert(item, at: at)
                    }
                }
                state.status = StatusLine(text: "undone: #\(record.sampleID) is \(record.after.state) again", isError: false)
                return [.loadQueueCount]
            case .failure(let e):
                _ = state.review.undoStack.popLast()
                state.status = StatusLine(text: "cannot undo: \(e)", isError: true)
            }
        case .dataVersion(let result):
            if case .success(let v) = result {
                // Another process (the collector, another reviewer) committed: read the screens again.
                if let old = state.dataVersion, old != v {
                    state.dataVersion = v
                    return refreshAfterExternalChange(&state)
                }
                state.dataVersion = v
            }
        case .patterns, .drill, .prompts, .optimized, .promptActivated, .metrics:
            return handleImprovementResult(&state, message)
        case .preview(let key, let outcome):
            state.preview.store(key, outcome)
        case .tags(let id, let result):
            switch result {
            case .success(let tags): if state.review.list.selectedRow?.sample.id == id { state.review.tags = (id, tags) }
            case .failure(let e): state.status = StatusLine(text: "cannot load the tags of #\(id): \(e)", isError: true)
            }
        case .annotation, .annotated, .annotationSkipped:
            return handleAnnotateResult(&state, message)
        case .agreement, .endUsers, .heldDecided:
            return handleTeamScreenResult(&state, message)
        case .imageOpened(let result):
            switch result {
            case .success(let text): state.status = StatusLine(text: text, isError: false)
            case .failure(let e): state.status = StatusLine(text: e.description, isError: true)
            }
        case .key, .resized, .tick: break
        }
        return []
    }

    /// New data from another process: counts and the visible list are read again; the selection stays on
    /// the same row when it is still there.
    static func refreshAfterExternalChange(_ state: inout AppState) -> [Effect] {
        var effects: [Effect] = [.loadCounts]
        // Screens 3-5 are summaries over many rows: the ones not on screen are read again when shown; the
        // one on screen stays as it is (C-r reads it again), so a busy collector does not keep it reloading.
        if state.screen != .patterns { state.patterns.data = nil }
        if state.screen != .prompts { state.prompts.data = nil }
        if state.screen != .metrics { state.metrics.data = nil }
        // Roles and settings may have changed too.
        effects.append(.loadTeam)
        // Screen 7's held list is acted on: on screen it is read again (with the figures beside it, so they
        // agree), so a sample another reviewer released does not stay on offer; off screen it is read when shown.
        if state.screen == .team { effects += reloadTeamScreen(&state) } else { markTeamScreenStale(&state) }
        if state.screen == .sessions, state.sessions.list.atStart, state.sessions.list.selected == 0 {
            effects += reloadSessions(&state)
        } else if state.screen == .review, state.review.list.atStart, state.review.list.selected == 0, state.review.inFlight.isEmpty {
            effects += state.review.adjudicating ? reloadDisputed(&state) : reloadQueue(&state)
        } else if state.screen == .sessions {
            state.sessions.list.reopen()
        } else if state.screen == .review {
            state.review.list.reopen()
        }
        return effects
    }

    /// Loads that follow from the state: pages near the selection, the selected session or sample's detail.
    static func followUps(_ state: inout AppState) -> [Effect] {
        let effects = listFollowUps(&state)
        // The image comes after the data it belongs to (a session's conversation names its images).
        return effects + tagFollowUp(&state) + previewFollowUp(&state)
    }

    static func listFollowUps(_ state: inout AppState) -> [Effect] {
        var effects: [Effect] = []
        let margin = Layout(width: state.width, height: state.height).listRows + 10
        switch state.screen {
        case .sessions:
            let list = state.sessions.list
            if let c = list.wantsForward(margin: margin) {
                state.sessions.list.loadingForward = true
                effects.append(.loadSessions(state.sessions.query, cursor: c, direction: .forward, limit: PagedList<SessionSummary, SessionCursor>.pageSize))
            }
            if let c = list.wantsBackward(margin: margin) {
                state.sessions.list.loadingBackward = true
                effects.append(.loadSessions(state.sessions.query, cursor: c, direction: .backward, limit: PagedList<SessionSummary, SessionCursor>.pageSize))
            }
            if let row = list.selectedRow, state.sessions.conversation?.sessionID != row.sessionID,
               state.sessions.requestedConversation != row.sessionID {
                state.sessions.requestedConversation = row.sessionID
                effects.append(.loadConversation(sessionID: row.sessionID))
            }
        case .review:
            let list = state.review.list
            // The adjudication queue is one page; only the review queue pages.
            if !state.review.adjudicating, let c = list.wantsForward(margin: margin) {
                state.review.queue.loadingForward = true
                effects.append(.loadQueue(cursor: c, direction: .forward, limit: PagedList<QueueItem, QueueCursor>.pageSize))
            }
            if !state.review.adjudicating, let c = list.wantsBackward(margin: margin) {
                state.review.queue.loadingBackward = true
                effects.append(.loadQueue(cursor: c, direction: .backward, limit: PagedList<QueueItem, QueueCursor>.pageSize))
            }
            effects += teamFollowUps(&state)
            if let row = list.selectedRow, state.review.context?.sampleID != row.sample.id,
               state.review.requestedContext != row.sample.id {
                state.review.requestedContext = row.sample.id
                effects.append(.loadContext(sampleID: row.sample.id))
            }
        default: break
        }
        return effects
    }
}

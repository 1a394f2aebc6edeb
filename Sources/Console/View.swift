import FlywheelCore
import FlywheelStore
import Foundation
import TerminalKit

/// Where things go on a screen of a given size. Pure, so update (page sizes) and view agree.
struct Layout {
    var width: Int
    var height: Int
    var body: Rect { Rect(x: 0, y: 1, width: width, height: height - 2) }
    /// The list gets two fifths (at least 44 columns, at most 80), but leaves the detail 30 on narrow screens.
    var listWidth: Int { min(max(44, width * 2 / 5), 80, width >= 74 ? width - 30 : width / 2) }
    var list: Rect { body.splitColumns(listWidth).0 }
    var detail: Rect { body.splitColumns(listWidth).1 }
    /// Rows of a list that fit inside its box, below the column header.
    var listRows: Int { max(0, list.height - 3) }
}

/// A line of styled pieces, for detail panels.
struct Line {
    var pieces: [(String, Style)]
    /// Where an inline editor goes (the correct answer being edited).
    var isEditor = false
    init(_ pieces: [(String, Style)], isEditor: Bool = false) { self.pieces = pieces; self.isEditor = isEditor }
    init(_ text: String, _ style: Style) { pieces = [(text, style)] }
}

extension Console {
    static let spinner = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

    public static func render(_ state: AppState) -> ScreenBuffer {
        var buf = ScreenBuffer(width: state.width, height: state.height)
        guard state.width >= 20, state.height >= 6 else {
            buf.put("window too small", x: 0, y: 0)
            return buf
        }
        let t = state.theme
        buf.fill(buf.area, style: t[.base])
        drawHeader(&buf, state)
        switch state.screen {
        case .sessions: drawSessions(&buf, state)
        case .review: drawReview(&buf, state)
        case .patterns: drawPatterns(&buf, state)
        case .prompts: drawPrompts(&buf, state)
        case .metrics: drawMetrics(&buf, state)
        case .annotate: drawAnnotate(&buf, state)
        case .team: drawTeam(&buf, state)
        }
        if state.preview.zoomed && [.sessions, .review, .annotate].contains(state.screen) { drawZoomed(&buf, state) }
        drawStatus(&buf, state)
        if case .pickCategory(let index, let id) = state.mode { drawCategoryPicker(&buf, state, index: index, sampleID: id) }
        if state.showHelp { drawHelp(&buf, state) }
        return buf
    }

    // MARK: frame

    static func drawHeader(_ buf: inout ScreenBuffer, _ state: AppState) {
        let t = state.theme
        let row = Rect(x: 0, y: 0, width: state.width, height: 1)
        buf.fill(row, style: t[.header])
        // The tabs come first: the name goes when they do not fit with it, the hint shortens, then goes.
        let labels = ScreenID.allCases.map { " \($0.rawValue) \($0.title) " }
        let tabsWidth = labels.reduce(0) { $0 + TextWidth.width($1) }
        let brand = " flywheel "
        var x = 0
        if TextWidth.width(brand) + tabsWidth <= state.width || tabsWidth > state.width {
            x = buf.put(brand, x: 0, y: 0, style: t[.header].adding(.bold))
        }
        for (s, label) in zip(ScreenID.allCases, labels) {
            x += buf.put(label, x: x, y: 0, style: s == state.screen ? t[.tabActive] : t[.tab])
        }
        if let hint = ["? keys  q quit ", "? keys "].first(where: { x + TextWidth.width($0) < state.width }) {
            buf.put(hint, x: state.width - TextWidth.width(hint), y: 0, style: t[.header])
        }
    }

    static func drawStatus(_ buf: inout ScreenBuffer, _ state: AppState) {
        let t = state.theme
        let y = state.height - 1
        let row = Rect(x: 0, y: y, width: state.width, height: 1)
        buf.fill(row, style: t[.status])
        if case .search(var editor) = state.mode {
            let x = buf.put(" search: ", x: 0, y: y, style: t[.status].adding(.bold))
            editor.draw(into: &buf, x: x, y: y, width: max(2, state.width - x - 30), style: t[.editor])
            let hint = " Enter search · Esc cancel"
            buf.put(hint, x: state.width - TextWidth.width(hint), y: y, style: t[.status])
            return
        }
        let head = " \(state.screen.rawValue) \(state.screen.title)"
        let counts = state.counts.map { " │ \($0.sessions) sessions · \($0.flagged) flagged · \($0.queue) to review" } ?? ""
        let user = " │ \(userLabel(state)) "
        var left = head + counts + user
        // A message that would be cut (a refusal naming the role that may act, say) gets the counts' room.
        if let s = state.status {
            let need = TextWidth.width(s.text) + 2 + (state.pending > 0 ? 10 : 0)
            if TextWidth.width(left) + need > state.width { left = head + user }
            if TextWidth.width(left) + need > state.width { left = head + " │" }
        }
        var x = buf.put(left, x: 0, y: y, style: t[.status])
        if state.pending > 0 {
            x += buf.put("\(spinner[state.spinnerFrame % spinner.count]) loading ", x: x, y: y, style: t[.status].adding(.bold))
        }
        if let s = state.status {
            let room = state.width - x
            if room > 3 {
                buf.put(" " + TextWidth.truncate(s.text, to: room - 2) + " ", x: x, y: y, maxWidth: room, style: s.isError ? t[.statusError] : t[.status])
            }
        }
    }

    static func drawPlaceholder(_ buf: inout ScreenBuffer, _ state: AppState) {
        let t = state.theme
        let body = Layout(width: state.width, height: state.height).body
        let names: [ScreenID: String] = [
            .patterns: "Error patterns and the improvement plan", .prompts: "Prompt versions and optimisation",
            .metrics: "Flywheel metrics", .annotate: "Cold-start annotation",
        ]
        buf.box(body, title: state.screen.title, style: t[.border], titleStyle: t[.title])
        let inner = body.inset(1)
        buf.put("\(names[state.screen] ?? state.screen.title): not available yet.", x: inner.x + 1, y: inner.y + 1, maxWidth: inner.width - 2, style: t[.placeholder])
        buf.put("This screen comes with a later release. 1 shows sessions, 2 the review queue.", x: inner.x + 1, y: inner.y + 2, maxWidth: inner.width - 2, style: t[.placeholder])
    }

    // MARK: lists

    static func drawListFrame(_ buf: inout ScreenBuffer, _ state: AppState, title: String, header: String) -> Rect {
        let t = state.theme
        let r = Layout(width: state.width, height: state.height).list
        buf.box(r, title: title, style: state.focus == .list ? t[.focusBorder] : t[.border], titleStyle: t[.title])
        let inner = r.inset(1)
        buf.put(header, x: inner.x, y: inner.y, maxWidth: inner.width, style: t[.muted])
        return Rect(x: inner.x, y: inner.y + 1, width: inner.width, height: inner.height - 1)
    }

    static func drawSessions(_ buf: inout ScreenBuffer, _ state: AppState) {
        let t = state.theme
        var list = state.sessions.list
        let q = state.sessions.query
        var title = q.flaggedOnly ? "Sessions · flagged" : "Sessions"
        if let s = q.search { title += " · /\(s)" }
        let area = drawListFrame(&buf, state, title: title, header: " " + sessionRowText(nil, width: Layout(width: state.width, height: state.height).list.width - 3, tz: state.timeZone))
        list.scroll(height: area.height)
        if !list.loaded {
            buf.put("loading…", x: area.x + 1, y: area.y, style: t[.muted])
        } else if list.isEmpty {
            buf.put(q.search != nil || q.flaggedOnly ? "no sessions match (f toggles flagged, / searches)" : "no sessions yet: ingest events first",
                    x: area.x + 1, y: area.y, maxWidth: area.width - 1, style: t[.muted])
        }
        for i in 0..<area.height {
            let idx = list.top + i
            guard idx < list.rows.count else { break }
            let row = list.rows[idx]
            let r = area.row(i)
            let selected = idx == list.selected
            let base = selected ? (state.focus == .list ? t[.selected] : t[.selectedUnfocused]) : t[.base]
            // The marker keeps the selection visible without colours (monochrome, text captures).
            buf.putRow((selected ? "▸" : " ") + sessionRowText(row, width: r.width - 1, tz: state.timeZone), in: r, style: base)
            // Badges in their colours at the row's end (the text reserved the room).
            var x = r.maxX - 4
            for (letter, kind, role) in badges where row.signalKinds.contains(kind) {
                buf.put(letter, x: x, y: r.y, style: selected ? base.adding(.bold) : t[role])
                x += 1
            }
        }
        if list.loadingForward && list.loaded { buf.put("…", x: area.maxX - 1, y: area.maxY - 1, style: t[.muted]) }
        drawConversationPanel(&buf, state)
    }

    static let badges: [(String, String, Role)] = [
        ("C", "correction", .correction), ("R", "repeated_question", .repeated), ("S", "slow_response", .slow), ("E", "error_log", .errorLog),
    ]

    /// A session row: time, session id, user, turns, and four columns for signal badges. nil gives the header.
    /// Columns shrink with the width; the user column goes first when there is no room.
    static func sessionRowText(_ s: SessionSummary?, width: Int, tz: TimeZone) -> String {
        let fixed = 11 + 1 + 3 + 1 + 4  // time, turns, badges
        let rest = max(0, width - fixed - 1)
        let userW = rest >= 16 ? min(14, rest / 2 - 1) : 0
        let idW = max(4, rest - (userW > 0 ? userW + 1 : 0))
        func user(_ u: String) -> String { userW > 0 ? TextWidth.pad(u, to: userW) + " " : "" }
        guard let s else {
            return TextWidth.pad("time", to: 11) + " " + TextWidth.pad("session", to: idW) + " " + user("user") + TextWidth.padLeft("#", to: 3) + " sig"
        }
        return shortTime(s.lastTs, tz) + " " + TextWidth.pad(s.sessionID, to: idW) + " " + user(s.userID ?? "-")
            + TextWidth.padLeft(s.turnCount > 999 ? "999+" : String(s.turnCount), to: 3) + " " + String(repeating: " ", count: 4)
    }

    static func drawReview(_ buf: inout ScreenBuffer, _ state: AppState) {
        let t = state.theme
        var list = state.review.list
        let lw = Layout(width: state.width, height: state.height).list.width - 3
        let overlap = state.team?.settings.overlap ?? 1
        let title = state.review.adjudicating ? "Adjudication · disputed samples" : "Review queue" + (overlap > 1 ? " · overlap \(overlap)" : "")
        let area = drawListFrame(&buf, state, title: title, header: " " + queueRowText(nil, width: lw))
        list.scroll(height: area.height)
        if !list.loaded {
            buf.put("loading…", x: area.x + 1, y: area.y, style: t[.muted])
        } else if list.isEmpty {
            buf.put(state.review.adjudicating ? "no disputed samples (A goes back to the review queue)" : "nothing waiting for review",
                    x: area.x + 1, y: area.y, maxWidth: area.width - 1, style: t[.muted])
        }
        for i in 0..<area.height {
            let idx = list.top + i
            guard idx < list.rows.count else { break }
            let selected = idx == list.selected
            let style = selected ? (state.focus == .list ? t[.selected] : t[.selectedUnfocused]) : t[.base]
            buf.putRow((selected ? "▸" : " ") + queueRowText(list.rows[idx], width: area.width - 1), in: area.row(i), style: style)
        }
        drawSampleDetail(&buf, state)
    }

    static let sourceShort = ["user_correction": "user", "implicit_correction": "implicit", "thumbs_down": "thumbs↓", "seed_label": "seed"]

    /// A queue row: id, quality, (source when there is room), category, and the correct answer. nil gives the header.
    static func queueRowText(_ item: QueueItem?, width: Int) -> String {
        let showSource = width >= 56
        guard let item else {
            return TextWidth.pad("id", to: 7) + " q " + (showSource ? TextWidth.pad("source", to: 8) + " " : "") + TextWidth.pad("category", to: 12) + " correct answer"
        }
        let s = item.sample
        let q = s.quality.prefix(1).uppercased()
        let answer = s.correctAnswer.map(oneLine) ?? "? needs an answer"
        return TextWidth.pad("#\(s.id)", to: 7) + " \(q) " + (showSource ? TextWidth.pad(sourceShort[s.source] ?? s.source, to: 8) + " " : "")
            + TextWidth.pad(s.category, to: 12) + " " + answer
    }

    // MARK: detail panels

    static func drawDetail(_ buf: inout ScreenBuffer, _ state: AppState, title: String, lines: [Line], scroll: Int, editor: LineEditor?) {
        // The image, when there is one, takes the top of the panel; the text goes below it.
        let off = previewOffset(state)
        if off > 0 { drawPreview(&buf, state) }  // first: the text below may cover the rest of its area
        drawPanel(&buf, state, Layout(width: state.width, height: state.height).detail, title: title, lines: lines, scroll: scroll,
                  topOffset: off, editor: editor)
    }

    static func drawConversationPanel(_ buf: inout ScreenBuffer, _ state: AppState) {
        let t = state.theme
        let width = Layout(width: state.width, height: state.height).detail.width - 3
        guard let row = state.sessions.list.selectedRow else {
            drawDetail(&buf, state, title: "Conversation", lines: [], scroll: 0, editor: nil)
            return
        }
        var lines: [Line] = []
        var header = "user \(row.userID ?? "-") · \(row.turnCount) turns · \(longTime(row.firstTs, state.timeZone)) – \(shortClock(row.lastTs, state.timeZone))"
        if !row.signalKinds.isEmpty { header += " · signals: " + row.signalKinds.joined(separator: ", ") }
        lines += wrapLines(header, width: width, style: t[.muted])
        lines.append(Line("", t[.base]))
        if let conv = state.sessions.conversation, conv.sessionID == row.sessionID {
            lines += conversationLines(conv.turns, width: width, theme: t, tz: state.timeZone, highlight: nil)
        } else {
            lines.append(Line("loading conversation…", t[.muted]))
        }
        drawDetail(&buf, state, title: "Session \(row.sessionID)", lines: lines, scroll: state.sessions.detailScroll, editor: nil)
    }

    /// The turns of a conversation: role, time, response time, image, text; flagged turns get their
    /// signals (kind, confidence, rule, evidence) under them and a marker.
    static func conversationLines(_ turns: [FlywheelStore.ConversationTurn], width: Int, theme t: Theme, tz: TimeZone, highlight: String?) -> [Line] {
        var lines: [Line] = []
        for turn in turns {
            let flagged = !turn.signals.isEmpty
            let isHighlighted = highlight != nil && turn.requestID == highlight
            var head: [(String, Style)] = [
                (flagged ? "▌" : (isHighlighted ? "▸" : " "), flagged ? t[.flagged] : t[.title]),
                ("#\(turn.turnIndex) ", t[.muted]),
                (turn.role, turn.role == "user" ? t[.user] : t[.assistant]),
                ("  \(shortClock(turn.ts, tz))", t[.muted]),
            ]
            if let ms = turn.responseMs { head.append(("  \(formatDuration(ms))", ms >= 10_000 ? t[.slow] : t[.muted])) }
            if turn.role == "assistant", let m = turn.model { head.append(("  \(m)\(turn.promptVersion.map { "/" + $0 } ?? "")", t[.muted])) }
            if let img = turn.imageRef { head.append(("  [image \(img)\(turn.imageStatus.map { $0 == "present" ? "" : " · " + $0 } ?? "")]", t[.label])) }
            lines.append(Line(head))
            for l in TextWidth.wrap(turn.content, to: max(1, width - 3)) {
                lines.append(Line([(flagged ? "▌" : " ", t[.flagged]), ("  " + l, flagged ? t[.flagged] : t[.base])]))
            }
            for s in turn.signals {
                var text = "⚑ \(s.kind) \(String(format: "%.2f", s.confidence)) · \(s.rule)"
                if let e = s.evidence, !e.isEmpty { text += " · “\(oneLine(e))”" }
                for (i, l) in TextWidth.wrap(text, to: max(1, width - 3)).enumerated() {
                    lines.append(Line([(flagged ? "▌" : " ", t[.flagged]), ((i == 0 ? "  " : "    ") + l, t[signalRole(s.kind)])]))
                }
            }
        }
        if turns.isEmpty { lines.append(Line("no turns", t[.muted])) }
        return lines
    }

    static func signalRole(_ kind: String) -> Role {
        switch kind {
        case "correction": return .correction
        case "repeated_question": return .repeated
        case "slow_response": return .slow
        default: return .errorLog
        }
    }

    static func drawSampleDetail(_ buf: inout ScreenBuffer, _ state: AppState) {
        let t = state.theme
        let width = Layout(width: state.width, height: state.height).detail.width - 3
        guard let item = state.review.list.selectedRow else {
            drawDetail(&buf, state, title: "Sample", lines: [], scroll: 0, editor: nil)
            return
        }
        let s = item.sample
        var lines: [Line] = []
        let labelW = 10
        func field(_ label: String, _ value: String?, _ style: Style) {
            let wrapped = TextWidth.wrap(value ?? "—", to: max(1, width - labelW))
            for (i, l) in wrapped.enumerated() {
                lines.append(Line([(TextWidth.pad(i == 0 ? label : "", to: labelW), t[.label]), (l, value == nil ? t[.muted] : style)]))
            }
        }
        lines += wrapLines("\(s.state) · \(s.quality) quality · \(s.source.replacingOccurrences(of: "_", with: " ")) · \(s.taskType)", width: width, style: t[.muted])
        lines += reservationLines(state, sampleID: s.id)
        lines.append(Line("", t[.base]))
        // Votes only in the adjudication queue: in the review queue nobody sees the others' before their own is in.
        if state.review.adjudicating {
            lines += voteLines(state, sampleID: s.id, width: width, labelW: labelW)
            lines.append(Line("", t[.base]))
        }
        var editor: LineEditor?
        if case .editAnswer(let e, let id) = state.mode, id == s.id {
            editor = e
            lines.append(Line([(TextWidth.pad("Correct", to: labelW), t[.label])], isEditor: true))
        } else if let c = s.correctAnswer {
            field("Correct", c, t[.answerRight])
        } else {
            lines.append(Line([(TextWidth.pad("Correct", to: labelW), t[.label]), ("none yet: press e to write one", t[.muted])]))
        }
        field("Wrong", s.wrongAnswer, t[.answerWrong])
        field("Question", s.question, t[.base])
        if isTagSample(item) { lines += tagLines(state, item, width: width) }
        field("Image", item.imageRef, t[.base])
        field("Category", s.category, t[.base])
        field("Evidence", s.evidence.map(oneLine), t[.base])
        if let m = s.model { field("Model", m + (s.promptVersion.map { " · prompt " + $0 } ?? ""), t[.muted]) }
        field("Session", (s.sessionID ?? "—") + (s.requestID.map { " · request " + $0 } ?? ""), t[.muted])
        field("Created", longTime(s.createdAt, state.timeZone), t[.muted])
        lines.append(Line("", t[.base]))
        lines.append(Line("── conversation ──", t[.muted]))
        if let ctx = state.review.context, ctx.sampleID == s.id {
            lines += conversationLines(ctx.turns, width: width, theme: t, tz: state.timeZone, highlight: s.requestID)
        } else if s.sessionID == nil {
            lines.append(Line("no session", t[.muted]))
        } else {
            lines.append(Line("loading…", t[.muted]))
        }
        let scroll = editor == nil ? state.review.detailScroll : 0
        drawDetail(&buf, state, title: "Sample #\(s.id)", lines: lines, scroll: scroll, editor: editor)
    }

    // MARK: overlays

    /// Blanks an overlay's area cell by cell through `put`, so a wide character it cuts in half on either edge
    /// becomes a blank instead of spilling over the overlay's border (`fill` writes cells without that repair).
    static func clearOverlay(_ buf: inout ScreenBuffer, _ r: Rect, style: Style) {
        let c = buf.clip(r)
        guard !c.isEmpty else { return }
        for y in c.y..<c.maxY { buf.put(String(repeating: " ", count: c.width), x: c.x, y: y, maxWidth: c.width, style: style) }
    }

    static func drawCategoryPicker(_ buf: inout ScreenBuffer, _ state: AppState, index: Int, sampleID: Int64) {
        let t = state.theme
        let all = ErrorCategory.allCases
        let w = min(state.width - 4, 40), h = all.count + 3
        let r = Rect(x: (state.width - w) / 2, y: max(1, (state.height - h) / 2), width: w, height: h)
        clearOverlay(&buf, r, style: t[.help])
        buf.box(r, title: "Category of #\(sampleID)", style: t[.help], titleStyle: t[.title])
        for (i, c) in all.enumerated() {
            buf.putRow(" " + c.rawValue, in: Rect(x: r.x + 1, y: r.y + 1 + i, width: w - 2, height: 1), style: i == index ? t[.selected] : t[.help])
        }
        buf.put("j/k move · Enter set · Esc cancel", x: r.x + 2, y: r.maxY - 2, maxWidth: w - 4, style: t[.muted])
    }

    static func drawHelp(_ buf: inout ScreenBuffer, _ state: AppState) {
        let t = state.theme
        var lines: [(String, String)] = []
        func section(_ name: String, _ bindings: [Binding]) {
            lines.append((name, ""))
            // The screen keys fold into one line: "1-6  sessions, review queue, ...".
            let screens = bindings.filter { if case .screen = $0.action { return true } else { return false } }
            if let first = screens.first, let last = screens.last {
                lines.append(("\(first.keys[0].label)-\(last.keys[0].label)", "screens, numbered as in the tab bar above"))
            }
            for b in bindings where !screens.contains(where: { $0.action == b.action }) {
                lines.append((b.keys.map(\.label).joined(separator: " "), b.help))
            }
            lines.append(("", ""))
        }
        switch state.screen {
        case .sessions: section("Sessions", KeyMap.sessions)
        case .review: section("Review queue", KeyMap.review)
        case .patterns: section("Error patterns", KeyMap.patterns)
        case .prompts: section("Prompts", KeyMap.prompts)
        case .metrics: section("Metrics", KeyMap.metrics)
        case .annotate: section("Annotate", KeyMap.annotate)
        case .team: section("Team", KeyMap.team)
        }
        section("Everywhere", KeyMap.global)
        lines.append(("", "any key closes this help"))
        // On a short terminal the blank separators go first; if it still does not fit, the last row says so.
        let room = max(1, state.height - 4)
        if lines.count > room { lines.removeAll { $0.0.isEmpty && $0.1.isEmpty } }
        if lines.count > room {
            let hidden = lines.count - (room - 1)
            lines = Array(lines.prefix(room - 1)) + [("", "… \(hidden) more: make the terminal taller")]
        }
        let w = min(state.width - 2, 78)
        let h = min(state.height - 2, lines.count + 2)
        let r = Rect(x: (state.width - w) / 2, y: max(1, (state.height - h) / 2), width: w, height: h)
        clearOverlay(&buf, r, style: t[.help])
        buf.box(r, title: "Keys", style: t[.help], titleStyle: t[.title])
        for (i, l) in lines.prefix(h - 2).enumerated() {
            let y = r.y + 1 + i
            if l.1.isEmpty && !l.0.isEmpty {
                buf.put(l.0, x: r.x + 2, y: y, maxWidth: w - 4, style: t[.title])
            } else {
                buf.put(TextWidth.pad(l.0, to: 14), x: r.x + 2, y: y, style: t[.label].adding(.bold))
                buf.put(TextWidth.truncate(l.1, to: w - 19), x: r.x + 17, y: y, maxWidth: w - 19, style: t[.help])
            }
        }
    }

    // MARK: formatting

    static func wrapLines(_ text: String, width: Int, style: Style) -> [Line] {
        TextWidth.wrap(text, to: max(1, width)).map { Line($0, style) }
    }

    static func oneLine(_ s: String) -> String {
        s.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
    }

    static func parts(_ ms: Int64, _ tz: TimeZone) -> (y: Int, mo: Int, d: Int, h: Int, mi: Int, s: Int) {
        let seconds = ms / 1000 + Int64(tz.secondsFromGMT(for: Date(timeIntervalSince1970: Double(ms) / 1000)))
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rem = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (Int(y), Int(m), Int(d), Int(rem / 3600), Int(rem % 3600 / 60), Int(rem % 60))
    }

    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// "11-22 14:03"
    static func shortTime(_ ms: Int64, _ tz: TimeZone) -> String {
        let p = parts(ms, tz)
        return "\(two(p.mo))-\(two(p.d)) \(two(p.h)):\(two(p.mi))"
    }

    /// "2026-11-22 14:03"
    static func longTime(_ ms: Int64, _ tz: TimeZone) -> String {
        let p = parts(ms, tz)
        return "\(p.y)-\(two(p.mo))-\(two(p.d)) \(two(p.h)):\(two(p.mi))"
    }

    /// "14:03:07"
    static func shortClock(_ ms: Int64, _ tz: TimeZone) -> String {
        let p = parts(ms, tz)
        return "\(two(p.h)):\(two(p.mi)):\(two(p.s))"
    }

    static func formatDuration(_ ms: Int) -> String {
        ms < 1000 ? "\(ms) ms" : String(format: "%.1f s", Double(ms) / 1000)
    }
}

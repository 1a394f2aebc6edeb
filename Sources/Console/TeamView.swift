import FlywheelCore
import FlywheelStore
import Foundation
import TerminalKit

/// Where screen 7's panels go. Wide terminals: agreement on the left, end users over held feedback on the
/// right; otherwise the three are stacked. Pure, so update (scrolling, page sizes) and view agree.
struct TeamLayout {
    var agreement: Rect
    var users: Rect
    var held: Rect
}

extension Console {
    static func teamLayout(_ state: AppState) -> TeamLayout {
        let body = Layout(width: state.width, height: state.height).body
        if state.width >= 150 {
            let (left, right) = body.splitColumns(min(90, max(80, state.width / 2)))
            let (users, held) = right.splitRows(right.height / 2)
            return TeamLayout(agreement: left, users: users, held: held)
        }
        let (agreement, rest) = body.splitRows(max(4, body.height * 4 / 11))
        let (users, held) = rest.splitRows(rest.height / 2)
        return TeamLayout(agreement: agreement, users: users, held: held)
    }

    /// Lines of content a panel shows (inside its box; the lists lose a row to their column header).
    static func teamPanelRows(_ state: AppState, _ panel: TeamPanel) -> Int {
        let l = teamLayout(state)
        switch panel {
        case .agreement: return max(0, l.agreement.height - 2)
        case .users: return max(0, l.users.height - 3)
        case .held: return max(0, l.held.height - 3)
        }
    }

    static func drawTeam(_ buf: inout ScreenBuffer, _ state: AppState) {
        let l = teamLayout(state)
        let overlap = state.team?.settings.overlap ?? 1
        drawPanel(&buf, state, l.agreement, title: "Reviewer agreement" + (overlap > 1 ? " · overlap \(overlap)" : ""),
                  lines: agreementLines(state, width: l.agreement.width - 3), scroll: state.teamScreen.agreementScroll,
                  focused: state.teamScreen.panel == .agreement)
        drawEndUsers(&buf, state, l.users)
        drawHeld(&buf, state, l.held)
    }

    // MARK: agreement

    /// The agreement report as `flywheel agreement` words it: the overall figures, then tables by category, by
    /// reviewer and by pair, each with the number of items behind its figures.
    static func agreementLines(_ state: AppState, width: Int) -> [Line] {
        let t = state.theme
        let w = max(1, width)
        guard let r = state.teamScreen.agreement else { return [Line(state.teamScreen.loadingAgreement ? "loading…" : "", t[.muted])] }
        guard r.overall.items > 0 else {
            let overlap = state.team?.settings.overlap ?? 1
            let text = overlap >= 2
                ? "No sample has two independent decisions yet: review.overlap is \(overlap), so figures appear once two reviewers have decided the same sample."
                : "No sample has two independent decisions yet: an admin sets review.overlap to 2 or more (flywheel settings set review.overlap 2)."
            return wrapLines(text, width: w, style: t[.muted])
        }
        var lines: [Line] = []
        lines += wrapLines(r.headline, width: w, style: t[.title])
        lines += wrapLines(r.overallFigures, width: w, style: t[.base])

        // A table: the first column takes what the others leave (within bounds), the others are right-aligned.
        func table(_ title: String, _ headers: [String], _ widths: [Int], firstBounds: (Int, Int), _ rows: [[String]]) {
            lines.append(Line("", t[.base]))
            lines.append(Line(title, t[.label]))
            let firstW = min(firstBounds.1, max(firstBounds.0, w - widths.reduce(0) { $0 + $1 + 1 }))
            func text(_ cells: [String]) -> String {
                TextWidth.pad(cells[0], to: firstW) + zip(cells.dropFirst(), widths).map { " " + TextWidth.padLeft($0, to: $1) }.joined()
            }
            lines.append(Line(text(headers), t[.muted]))
            for row in rows { lines.append(Line(text(row), t[.base])) }
        }
        table("By category", AgreementReport.categoryHeaders, [5, 9, 8, 6, 6], firstBounds: (10, 26), r.categoryCells)
        table("By reviewer", AgreementReport.reviewerHeaders, [9, 10, 11, 10, 6, 14], firstBounds: (8, 18), r.reviewerCells)
        table("Pairs (Cohen's kappa)", AgreementReport.pairHeaders, [5, 8, 6], firstBounds: (12, 36), r.pairCells)
        return lines
    }

    // MARK: end users

    /// An end user's row: user, feedback, reviewed, (agreed when there is room), score, weight, held, and the
    /// flags with their reasons in what is left; nil gives the header. Also where the flags column starts.
    static func endUserRowText(_ u: EndUserTrustRow?, width: Int) -> (text: String, flagsAt: Int) {
        let showAgreed = width >= 96
        let userW = min(18, max(8, width / 5))
        var columns: [(String, Int, (EndUserTrustRow) -> String)] = [
            ("feedback", 9, { String($0.feedback) }), ("reviewed", 9, { String($0.reviewed) }),
        ]
        if showAgreed { columns.append(("agreed", 7, { String($0.agreed) })) }
        columns += [("score", 6, { String(format: "%.2f", $0.score) }), ("weight", 7, { String(format: "%.2f", $0.weight) }),
                    ("held", 5, { String($0.heldSamples) })]
        let flagsAt = userW + columns.reduce(0) { $0 + $1.1 } + 2
        let flagsW = max(0, width - flagsAt)
        guard let u else {
            return (TextWidth.pad("user", to: userW) + columns.map { TextWidth.padLeft($0.0, to: $0.1) }.joined() + "  " + "flags", flagsAt)
        }
        return (TextWidth.pad(u.user, to: userW) + columns.map { TextWidth.padLeft($0.2(u), to: $0.1) }.joined() + "  "
                + TextWidth.truncate(u.flagSummary, to: flagsW), flagsAt)
    }

    static func drawEndUsers(_ buf: inout ScreenBuffer, _ state: AppState, _ r: Rect) {
        let t = state.theme
        let focused = state.teamScreen.panel == .users
        let users = state.teamScreen.users
        var title = "End users"
        if let users {
            let flagged = users.filter(\.flagged).count
            title += " · \(flagged) of \(users.count)\(users.count >= teamListLimit ? "+" : "") flagged"
        }
        guard r.width >= 4, r.height >= 3 else { return }
        buf.box(r, title: title, style: focused ? t[.focusBorder] : t[.border], titleStyle: t[.title])
        let inner = r.inset(1)
        let rowW = inner.width - 1
        buf.put(" " + endUserRowText(nil, width: rowW).text, x: inner.x, y: inner.y, maxWidth: inner.width, style: t[.muted])
        let area = Rect(x: inner.x, y: inner.y + 1, width: inner.width, height: inner.height - 1)
        guard let users else {
            buf.put(state.teamScreen.loadingUsers ? "loading…" : "", x: area.x + 1, y: area.y, style: t[.muted])
            return
        }
        if users.isEmpty {
            buf.put("No end-user trust computed yet: run flywheel analyze (or flywheel users --refresh).", x: area.x + 1, y: area.y,
                    maxWidth: area.width - 1, style: t[.muted])
            return
        }
        // One line a user; the selected one also gets its reasons in full, wrapped, under its row.
        var rows: [(text: String, style: Style, flagsAt: Int?)] = []
        var selectedLines = 0..<0
        for (i, u) in users.enumerated() {
            let selected = i == state.teamScreen.userSelected
            let (text, flagsAt) = endUserRowText(u, width: rowW)
            let start = rows.count
            let style = selected ? (focused ? t[.selected] : t[.selectedUnfocused]) : t[.base]
            rows.append(((selected ? "▸" : " ") + text, style, selected || !(u.flagged || u.override != nil) ? nil : flagsAt + 1))
            if selected, u.flagged || u.override != nil {
                var reasons = u.flags.map(\.reason)
                if let o = u.override { reasons.insert("override: \(o)", at: 0) }
                for reason in reasons {
                    for (j, l) in TextWidth.wrap(reason, to: max(1, rowW - 5)).enumerated() {
                        rows.append(((j == 0 ? "   ⚑ " : "     ") + l, t[.flagged], nil))
                    }
                }
            }
            if selected { selectedLines = start..<rows.count }
        }
        // Scrolled so the selected user and their reasons are on screen (the row first, if not all fit).
        var top = max(0, min(rows.count - area.height, selectedLines.upperBound - area.height))
        top = min(top, selectedLines.lowerBound)
        for i in 0..<area.height {
            guard top + i < rows.count else { break }
            let row = rows[top + i]
            buf.putRow(row.text, in: area.row(i), style: row.style)
            // The flags of users not selected in their colour (the text reserved the column).
            if let at = row.flagsAt, at < area.width {
                let end = min(area.width, TextWidth.width(TextWidth.truncate(row.text, to: area.width)))
                buf.restyle(Rect(x: area.x + at, y: area.y + i, width: end - at, height: 1)) { _ in t[.flagged] }
            }
        }
        if top > 0 { buf.put("↑", x: r.maxX - 2, y: r.y, style: t[.muted]) }
        if top + area.height < rows.count { buf.put("↓", x: r.maxX - 2, y: r.maxY - 1, style: t[.muted]) }
    }

    // MARK: held feedback

    /// A held sample's row: id, end user, question, correct answer; nil gives the header.
    static func heldRowText(_ h: HeldSample?, width: Int) -> String {
        let idW = 7
        let userW = min(16, max(8, width / 6))
        let rest = max(2, width - idW - userW - 2)
        let questionW = rest / 2
        guard let h else {
            return TextWidth.pad("sample", to: idW) + " " + TextWidth.pad("user", to: userW) + " " + TextWidth.pad("question", to: questionW) + " correct answer"
        }
        let s = h.sample
        return TextWidth.pad("#\(s.id)", to: idW) + " " + TextWidth.pad(h.user, to: userW) + " "
            + TextWidth.pad(s.question.map(oneLine) ?? "—", to: questionW) + " " + (s.correctAnswer.map(oneLine) ?? "? needs an answer")
    }

    static func drawHeld(_ buf: inout ScreenBuffer, _ state: AppState, _ r: Rect) {
        let t = state.theme
        let focused = state.teamScreen.panel == .held
        let held = state.teamScreen.held
        var title = "Held feedback"
        if let held, !held.isEmpty { title += " · \(held.count)\(held.count >= teamListLimit ? "+" : "") · r releases · d discards" }
        guard r.width >= 4, r.height >= 3 else { return }
        buf.box(r, title: title, style: focused ? t[.focusBorder] : t[.border], titleStyle: t[.title])
        let inner = r.inset(1)
        buf.put(" " + heldRowText(nil, width: inner.width - 1), x: inner.x, y: inner.y, maxWidth: inner.width, style: t[.muted])
        let area = Rect(x: inner.x, y: inner.y + 1, width: inner.width, height: inner.height - 1)
        guard let held else {
            buf.put(state.teamScreen.loadingUsers ? "loading…" : "", x: area.x + 1, y: area.y, style: t[.muted])
            return
        }
        if held.isEmpty {
            buf.put("Nothing is held: feedback from flagged end users waits here for a reviewer.", x: area.x + 1, y: area.y,
                    maxWidth: area.width - 1, style: t[.muted])
            return
        }
        let selected = state.teamScreen.heldSelected
        let top = max(0, min(selected - area.height + 1, held.count - area.height))
        for i in 0..<area.height {
            let idx = top + i
            guard idx < held.count else { break }
            let style = idx == selected ? (focused ? t[.selected] : t[.selectedUnfocused]) : t[.base]
            buf.putRow((idx == selected ? "▸" : " ") + heldRowText(held[idx], width: area.width - 1), in: area.row(i), style: style)
        }
        if top > 0 { buf.put("↑", x: r.maxX - 2, y: r.y, style: t[.muted]) }
        if top + area.height < held.count { buf.put("↓", x: r.maxX - 2, y: r.maxY - 1, style: t[.muted]) }
    }
}

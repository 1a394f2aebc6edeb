import FlywheelCore
import FlywheelStore
import Foundation
import TerminalKit

extension Console {
    // MARK: 3 patterns

    static func drawPatterns(_ buf: inout ScreenBuffer, _ state: AppState) {
        let t = state.theme
        let layout = Layout(width: state.width, height: state.height)
        let (left, right) = layout.body.splitColumns(min(max(50, state.width * 11 / 20), state.width - 30))
        var title = "Error patterns by \(state.patterns.by.rawValue)"
        if let w = state.patterns.data?.window { title += " · \(shortDate(w.since, state.timeZone)) – \(shortDate(w.until, state.timeZone))" }
        buf.box(left, title: title, style: state.focus == .list ? t[.focusBorder] : t[.border], titleStyle: t[.title])
        let inner = left.inset(1)
        let groupW = max(8, min(20, inner.width / 4))
        let catW = max(10, min(26, inner.width - groupW - 1 - 6 - 6 - 2 - 6))
        let barW = max(0, inner.width - 1 - groupW - 1 - catW - 6 - 6 - 1)
        buf.put(" " + TextWidth.pad("group", to: groupW) + " " + TextWidth.pad("category", to: catW) + TextWidth.padLeft("n", to: 6) + TextWidth.padLeft("%", to: 6),
                x: inner.x, y: inner.y, maxWidth: inner.width, style: t[.muted])
        let area = Rect(x: inner.x, y: inner.y + 1, width: inner.width, height: inner.height - 1)
        let lines = state.patterns.lines
        if state.patterns.data == nil {
            buf.put(state.patterns.loading ? "loading…" : "", x: area.x + 1, y: area.y, style: t[.muted])
        } else if lines.isEmpty {
            buf.put("no samples in this window (w changes the window)", x: area.x + 1, y: area.y, maxWidth: area.width - 1, style: t[.muted])
        }
        let top = max(0, min(state.patterns.selected - area.height + 1, lines.count - area.height))
        for i in 0..<area.height {
            let idx = max(0, top) + i
            guard idx < lines.count else { break }
            let l = lines[idx]
            let selected = idx == state.patterns.selected
            let firstOfGroup = idx == 0 || lines[idx - 1].group != l.group
            let style = selected ? (state.focus == .list ? t[.selected] : t[.selectedUnfocused]) : t[.base]
            let text = (selected ? "▸" : " ") + TextWidth.pad(firstOfGroup ? l.group : "", to: groupW) + " " + TextWidth.pad(l.category, to: catW)
                + TextWidth.padLeft(String(l.count), to: 6) + TextWidth.padLeft(String(format: "%.0f%%", l.share * 100), to: 6) + " "
            buf.putRow(text, in: area.row(i), style: style)
            let bar = String(repeating: "█", count: Int((l.share * Double(barW)).rounded()))
            buf.put(bar, x: area.x + TextWidth.width(text), y: area.y + i, maxWidth: barW, style: selected ? style : t[categoryRole(l.category)])
        }
        // Right: the samples behind the selected line (Enter), else the plan.
        if let drill = state.patterns.drill {
            var out: [Line] = []
            for s in drill.samples {
                out.append(Line([("#\(s.id) ", t[.muted]), (s.state, t[.label]), ("  " + (s.question.map(oneLine) ?? "—"), t[.base])]))
                out.append(Line([("   ✗ ", t[.answerWrong]), (s.wrongAnswer.map(oneLine) ?? "—", t[.answerWrong])]))
                out.append(Line([("   ✓ ", t[.answerRight]), (s.correctAnswer.map(oneLine) ?? "(needs an answer)", t[.answerRight])]))
            }
            if drill.samples.isEmpty { out.append(Line("no samples", t[.muted])) }
            drawPanel(&buf, state, right, title: "\(drill.line.group) · \(drill.line.category) · \(drill.samples.count) samples", lines: out, scroll: 0)
        } else {
            var out: [Line] = []
            let plan = state.patterns.plan
            for a in plan {
                let (label, role): (String, Role) = {
                    switch a.action {
                    case .revisePrompt: return ("revise the prompt", .correction)
                    case .updateKnowledgeBase: return ("update the knowledge base", .repeated)
                    case .fineTune: return ("fine-tune the model", .slow)
                    case .noActionNeeded: return ("no action needed", .answerRight)
                    }
                }()
                out.append(Line([(a.taskType + ": ", t[.label]), (label, t[role])]))
                for w in TextWidth.wrap(a.reason, to: max(1, right.width - 6)) { out.append(Line("  " + w, t[.muted])) }
            }
            if plan.isEmpty && state.patterns.data != nil { out.append(Line("no samples: no action needed", t[.muted])) }
            out.append(Line("", t[.base]))
            out.append(Line("rules: format errors > 30% → revise the prompt; knowledge errors > 30% → update the knowledge base; visual errors > 40% with 500+ samples → fine-tune", t[.muted]))
            drawPanel(&buf, state, right, title: "Improvement plan", lines: out.flatMap { wrapLine($0, width: right.width - 3) }, scroll: 0)
        }
    }

    static func categoryRole(_ category: String) -> Role {
        switch category {
        case "format_error": return .errorLog
        case "hallucination": return .correction
        case "number_misread": return .slow
        case "knowledge_error": return .repeated
        case "visual_understanding_error": return .user
        default: return .muted
        }
    }

    // MARK: 4 prompts

    static func drawPrompts(_ buf: inout ScreenBuffer, _ state: AppState) {
        let t = state.theme
        let layout = Layout(width: state.width, height: state.height)
        let (left, right) = layout.body.splitColumns(min(max(46, state.width * 2 / 5), state.width - 30))
        buf.box(left, title: "Prompt versions", style: state.focus == .list ? t[.focusBorder] : t[.border], titleStyle: t[.title])
        let inner = left.inset(1)
        let nameW = max(8, inner.width - 40)
        buf.put(" " + TextWidth.pad("version", to: nameW) + " " + TextWidth.pad("status", to: 9) + TextWidth.padLeft("answered", to: 9) + TextWidth.padLeft("neg", to: 7) + "  text",
                x: inner.x, y: inner.y, maxWidth: inner.width, style: t[.muted])
        let area = Rect(x: inner.x, y: inner.y + 1, width: inner.width, height: inner.height - 1)
        guard let data = state.prompts.data else {
            buf.put("loading…", x: area.x + 1, y: area.y, style: t[.muted])
            drawPanel(&buf, state, right, title: "Prompt", lines: [], scroll: 0)
            return
        }
        if data.versions.isEmpty {
            buf.put("no prompt versions yet (flywheel prompt add)", x: area.x + 1, y: area.y, maxWidth: area.width - 1, style: t[.muted])
        }
        let top = max(0, min(state.prompts.selected - area.height + 1, data.versions.count - area.height))
        for i in 0..<area.height {
            let idx = max(0, top) + i
            guard idx < data.versions.count else { break }
            let v = data.versions[idx]
            let o = state.prompts.outcome(v.name)
            let selected = idx == state.prompts.selected
            let style = selected ? (state.focus == .list ? t[.selected] : t[.selectedUnfocused]) : (v.status == "active" ? t[.answerRight] : t[.base])
            let rate = o.map { $0.answered == 0 ? "—" : String(format: "%.1f%%", Double($0.negative) * 100 / Double($0.answered)) } ?? "—"
            let text = (selected ? "▸" : " ") + TextWidth.pad(v.name, to: nameW) + " " + TextWidth.pad(v.status, to: 9)
                + TextWidth.padLeft(o.map { String($0.answered) } ?? "0", to: 9) + TextWidth.padLeft(rate, to: 7) + "  " + (v.template == nil ? "none" : "yes")
            buf.putRow(text, in: area.row(i), style: style)
        }
        guard let v = state.prompts.selectedVersion else {
            drawPanel(&buf, state, right, title: "Prompt", lines: [], scroll: 0)
            return
        }
        var out: [Line] = []
        let w = right.width - 3
        out += wrapLines("\(v.status) · task \(v.taskType ?? "any") · parent \(v.parent ?? "none") · by \(v.author ?? "unknown") · \(longTime(v.createdAt, state.timeZone)) · seen in \(v.seenInEvents) events", width: w, style: t[.muted])
        out.append(Line("", t[.base]))
        // A/B against the parent (or the active version), from answered requests and negative outcomes.
        let other = v.parent ?? data.versions.first { $0.status == "active" && $0.name != v.name }?.name
        if let mine = state.prompts.outcome(v.name), mine.answered > 0 {
            let p = Proportion(successes: mine.negative, trials: mine.answered)
            let ci = p.wilson95()
            out.append(Line([("negative rate ", t[.label]), (String(format: "%.1f%% (95%% CI %.1f–%.1f%%), %d answered", p.rate * 100, ci.low * 100, ci.high * 100, mine.answered), t[.base])]))
            if let other, let theirs = state.prompts.outcome(other), theirs.answered > 0 {
                let q = Proportion(successes: theirs.negative, trials: theirs.answered)
                let r = ABTest.twoProportion(q, p, bName: v.name)
                let verdict = r.text
                out.append(Line([("vs \(other)      ", t[.label]), (String(format: "%.1f%% → %.1f%%, p = %.3f", q.rate * 100, p.rate * 100, r.pValue), t[.base])]))
                for (i, l) in TextWidth.wrap(verdict, to: max(1, w - 14)).enumerated() {
                    out.append(Line([(i == 0 ? "verdict       " : "              ", t[.label]), (l, t[.title])]))
                }
            }
        } else {
            out.append(Line("no answered requests with this version yet", t[.muted]))
        }
        out.append(Line("", t[.base]))
        if state.prompts.showDiff {
            let base = other.flatMap { name in data.versions.first { $0.name == name } }
            if let old = base?.template, let new = v.template {
                out.append(Line("── diff: \(base!.name) (left) → \(v.name) (right) ──", t[.muted]))
                let colW = max(4, (w - 3) / 2)
                for row in TextDiff.sideBySide(old, new) {
                    // -/+ marks show the change without colour too (monochrome, text captures); long lines wrap
                    // within their column so nothing of either prompt is cut off.
                    let lm = row.kind == .removed || row.kind == .changed ? "-" : " "
                    let rm = row.kind == .added || row.kind == .changed ? "+" : " "
                    let (ls, rs): (Style, Style) = {
                        switch row.kind {
                        case .same: return (t[.base], t[.base])
                        case .removed: return (t[.answerWrong], t[.base])
                        case .added: return (t[.base], t[.answerRight])
                        case .changed: return (t[.answerWrong], t[.answerRight])
                        }
                    }()
                    let left = row.left.map { TextWidth.wrap($0, to: max(1, colW - 1)) } ?? []
                    let right = row.right.map { TextWidth.wrap($0, to: max(1, colW - 1)) } ?? []
                    for i in 0..<max(left.count, right.count, 1) {
                        let l = i < left.count ? (i == 0 ? lm : " ") + left[i] : ""
                        let r = i < right.count ? (i == 0 ? rm : " ") + right[i] : ""
                        out.append(Line([(TextWidth.pad(l, to: colW), ls), (" │ ", t[.muted]), (r, rs)]))
                    }
                }
            } else {
                out.append(Line("nothing to compare: \(base == nil ? "no parent or active version" : "a template is missing")", t[.muted]))
            }
        } else if let template = v.template {
            out.append(Line("── template ──", t[.muted]))
            out += wrapLines(template, width: w, style: t[.base])
        } else {
            out.append(Line("no template text (seen in events only): flywheel prompt add \(v.name) --file F", t[.muted]))
        }
        var title = "Prompt \(v.name)"
        if state.prompts.optimizing { title += " · optimising…" }
        drawPanel(&buf, state, right, title: title, lines: out, scroll: state.prompts.detailScroll)
    }

    // MARK: 5 metrics

    static let metricRows: [(String, (MetricPoint) -> Double?)] = [
        ("explicit feedback", { Double($0.explicitFeedback) }),
        ("implicit signals", { Double($0.implicitSignals) }),
        ("answered requests", { Double($0.answered) }),
        ("negative rate %", { $0.answered == 0 ? nil : Double($0.negative) * 100 / Double($0.answered) }),
        ("new samples", { Double($0.newSamples) }),
        ("approved samples", { Double($0.approvedSamples) }),
        ("conversion %", { $0.implicitSignals == 0 ? nil : Double($0.approvedSamples) * 100 / Double($0.implicitSignals) }),
        ("review actions", { Double($0.reviewActions) }),
    ]

    static func drawMetrics(_ buf: inout ScreenBuffer, _ state: AppState) {
        let t = state.theme
        let body = Layout(width: state.width, height: state.height).body
        let unit = state.metrics.bucket == .day ? "daily" : "hourly"
        buf.box(body, title: "Flywheel metrics · \(unit) (h switches)", style: t[.border], titleStyle: t[.title])
        let inner = body.inset(1)
        guard let data = state.metrics.data else {
            buf.put("loading…", x: inner.x + 1, y: inner.y, style: t[.muted])
            return
        }
        let nameW = 20, numW = 10
        let sparkW = max(4, inner.width - nameW - 2 * numW - 4)
        let points = Array(data.points.suffix(sparkW))
        var y = inner.y
        if let first = points.first, let last = points.last {
            buf.put(" " + TextWidth.pad("", to: nameW) + TextWidth.padLeft("total", to: numW) + TextWidth.padLeft("latest", to: numW) + "  "
                    + "\(shortDate(first.start, state.timeZone)) … \(shortDate(last.start, state.timeZone)) (\(points.count) \(state.metrics.bucket == .day ? "days" : "hours"))",
                    x: inner.x, y: y, maxWidth: inner.width, style: t[.muted])
        } else {
            buf.put(" no data yet", x: inner.x, y: y, style: t[.muted])
        }
        y += 1
        for (name, value) in metricRows where y < inner.maxY {
            let values = points.map { value($0) }
            let total: String
            switch name {
            case "negative rate %":
                let a = points.reduce(0) { $0 + $1.answered }, n = points.reduce(0) { $0 + $1.negative }
                total = a == 0 ? "—" : String(format: "%.1f", Double(n) * 100 / Double(a))
            case "conversion %":
                let s = points.reduce(0) { $0 + $1.implicitSignals }, ap = points.reduce(0) { $0 + $1.approvedSamples }
                total = s == 0 ? "—" : String(format: "%.1f", Double(ap) * 100 / Double(s))
            default:
                total = String(Int(values.compactMap { $0 }.reduce(0, +)))
            }
            let latest = values.last.flatMap { $0 }.map { name.hasSuffix("%") ? String(format: "%.1f", $0) : String(Int($0)) } ?? "—"
            let x = buf.put(" " + TextWidth.pad(name, to: nameW) + TextWidth.padLeft(total, to: numW) + TextWidth.padLeft(latest, to: numW) + "  ",
                            x: inner.x, y: y, style: t[.base])
            buf.put(Series.sparkline(values.map { $0 ?? 0 }), x: inner.x + x, y: y, maxWidth: sparkW, style: t[.title])
            y += 1
        }
        y += 1
        if y < inner.maxY {
            let text: String
            if let o = data.oldestPending {
                let days = max(0, (state.clock() - o.createdAt) / 86_400_000)
                text = " oldest pending sample: #\(o.id), created \(longTime(o.createdAt, state.timeZone)) (\(days) days ago)"
            } else {
                text = " no samples waiting for review"
            }
            buf.put(text, x: inner.x, y: y, maxWidth: inner.width, style: t[.muted])
        }
    }

    // MARK: helpers

    /// A boxed panel of lines, scrolled by `scroll`, starting `topOffset` rows below the box's top (room for
    /// an image); an `editor` is drawn after the pieces of the line marked `isEditor`. Its border shows the
    /// focus when `focused` (by default: when the detail has it).
    static func drawPanel(_ buf: inout ScreenBuffer, _ state: AppState, _ r: Rect, title: String, lines: [Line], scroll: Int,
                          topOffset: Int = 0, editor: LineEditor? = nil, focused: Bool? = nil) {
        let t = state.theme
        guard r.width >= 4, r.height >= 2 else { return }
        buf.box(r, title: title, style: focused ?? (state.focus == .detail) ? t[.focusBorder] : t[.border], titleStyle: t[.title])
        let whole = r.inset(1)
        let inner = Rect(x: whole.x, y: whole.y + topOffset, width: whole.width, height: whole.height - topOffset)
        let top = min(scroll, max(0, lines.count - inner.height))
        for i in 0..<inner.height {
            guard top + i < lines.count else { break }
            let line = lines[top + i]
            var x = inner.x + 1
            for (text, style) in line.pieces where x < inner.maxX {
                x += buf.put(TextWidth.truncate(text, to: inner.maxX - x), x: x, y: inner.y + i, maxWidth: inner.maxX - x, style: style)
            }
            if line.isEditor, var editor {
                editor.draw(into: &buf, x: x, y: inner.y + i, width: inner.maxX - x, style: t[.editor])
            }
        }
        if top > 0 { buf.put("↑", x: r.maxX - 2, y: r.y, style: t[.muted]) }
        if top < max(0, lines.count - inner.height) { buf.put("↓", x: r.maxX - 2, y: r.maxY - 1, style: t[.muted]) }
    }

    /// A one-piece line wrapped to `width`; lines of several pieces are kept as they are.
    static func wrapLine(_ line: Line, width: Int) -> [Line] {
        guard line.pieces.count == 1 else { return [line] }
        let (text, style) = line.pieces[0]
        return TextWidth.wrap(text, to: max(1, width)).map { Line($0, style) }
    }

    /// "05-17"
    static func shortDate(_ ms: Int64, _ tz: TimeZone) -> String {
        let p = parts(ms, tz)
        return "\(p.y)-\(two(p.mo))-\(two(p.d))"
    }
}

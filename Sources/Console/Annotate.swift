import FlywheelStore
import Foundation
import TerminalKit

// Screen 6, cold-start annotation: one item at a time, its image large, and the fewest keys to label it.
// VQA: Enter accepts the suggested answer, e writes one; tags: space toggles a tag, n adds one, Enter saves.
// Labels become seed_label samples (approved: the annotator's label is the ground truth).

public struct AnnotateData {
    var tasks: [AnnotationTask]
    var progress: AnnotationProgress
}

struct AnnotateState {
    var goal = 1000
    var tasks: [AnnotationTask] = []
    var progress: AnnotationProgress?
    var loaded = false
    var loading = false
    /// Tags of the current tags task: name and whether it is kept.
    var tags: [(tag: String, kept: Bool)] = []
    var tagCursor = 0
    var tagsForTask: Int64?
    var saving = false
    /// Tasks labelled or skipped in this console (a reload must not bring them back before the write lands).
    var handled: Set<Int64> = []

    var current: AnnotationTask? { tasks.first }

    /// The tags to offer for a task: its suggestion (comma-separated), all kept at first.
    mutating func prepareTags() {
        guard let t = current, t.kind == "tags", tagsForTask != t.id else { return }
        tagsForTask = t.id
        tags = (t.suggested ?? "").split(separator: ",").map { ($0.trimmingCharacters(in: .whitespaces), true) }.filter { !$0.0.isEmpty }
        tagCursor = 0
    }
}

extension Console {
    static func loadAnnotate(_ state: inout AppState) -> [Effect] {
        guard !state.annotate.loading else { return [] }
        state.annotate.loading = true
        return [.loadAnnotation(goal: state.annotate.goal)]
    }

    static func performAnnotate(_ state: inout AppState, _ action: Action) -> [Effect] {
        guard let task = state.annotate.current else {
            state.status = StatusLine(text: "nothing to annotate: flywheel seed-images DIR adds images, flywheel annotate-queue --from-turns adds answered turns", isError: false)
            return []
        }
        switch action {
        case .accept:
            if task.kind == "tags" {
                let kept = state.annotate.tags.filter(\.kept).map(\.tag)
                guard !kept.isEmpty else {
                    state.status = StatusLine(text: "no tags kept: space toggles a tag, e adds one", isError: true)
                    return []
                }
                return saveAnnotation(&state, task, answer: nil, tags: kept)
            }
            guard let suggested = task.suggested?.trimmingCharacters(in: .whitespacesAndNewlines), !suggested.isEmpty else {
                state.mode = .annotateAnswer(LineEditor(), taskID: task.id)
                state.status = StatusLine(text: "no suggestion: type the answer, Enter saves, Esc cancels", isError: false)
                return []
            }
            return saveAnnotation(&state, task, answer: suggested, tags: nil)
        case .edit:
            if task.kind == "tags" {
                state.mode = .annotateAnswer(LineEditor(), taskID: task.id)
                state.status = StatusLine(text: "new tag: Enter adds it, Esc cancels", isError: false)
            } else {
                state.mode = .annotateAnswer(LineEditor(task.suggested ?? ""), taskID: task.id)
                state.status = StatusLine(text: "the answer: Enter saves it as a seed label, Esc cancels", isError: false)
            }
        case .toggleTag:
            guard task.kind == "tags", state.annotate.tags.indices.contains(state.annotate.tagCursor) else { return [] }
            state.annotate.tags[state.annotate.tagCursor].kept.toggle()
        case .down where task.kind == "tags":
            state.annotate.tagCursor = min(state.annotate.tagCursor + 1, max(0, state.annotate.tags.count - 1))
        case .up where task.kind == "tags":
            state.annotate.tagCursor = max(0, state.annotate.tagCursor - 1)
        case .skip:
            state.annotate.tasks.removeFirst()
            state.annotate.prepareTags()
            state.status = StatusLine(text: "skipped task #\(task.id)", isError: false)
            return [.skipAnnotation(taskID: task.id, annotator: state.reviewer)] + refill(&state)
        default:
            break
        }
        return []
    }

    /// Text typed in the annotate editor: the answer (VQA) or a tag to add (tags).
    static func finishAnnotateEditor(_ state: inout AppState, text: String, taskID: Int64) -> [Effect] {
        guard let task = state.annotate.current, task.id == taskID else { state.mode = .normal; return [] }
        let value = text.trimmingCharacters(in: .whitespaces)
        guard !value.isEmpty else {
            state.status = StatusLine(text: task.kind == "tags" ? "a tag cannot be empty (Esc cancels)" : "the answer cannot be empty (Esc cancels)", isError: true)
            return []
        }
        state.mode = .normal
        if task.kind == "tags" {
            if !state.annotate.tags.contains(where: { $0.tag == value }) { state.annotate.tags.append((value, true)) }
            state.annotate.tagCursor = state.annotate.tags.count - 1
            state.status = StatusLine(text: "added tag “\(value)”; Enter saves the kept tags", isError: false)
            return []
        }
        return saveAnnotation(&state, task, answer: value, tags: nil)
    }

    static func saveAnnotation(_ state: inout AppState, _ task: AnnotationTask, answer: String?, tags: [String]?) -> [Effect] {
        state.annotate.tasks.removeFirst()
        state.annotate.prepareTags()
        state.annotate.saving = true
        return [.annotate(taskID: task.id, answer: answer, tags: tags, annotator: state.reviewer)] + refill(&state)
    }

    /// Keeps a few tasks ahead so the next item shows at once.
    static func refill(_ state: inout AppState) -> [Effect] {
        guard state.annotate.tasks.count < 3, !state.annotate.loading else { return [] }
        state.annotate.loading = true
        return [.loadAnnotation(goal: state.annotate.goal)]
    }

    static func handleAnnotateResult(_ state: inout AppState, _ message: Message) -> [Effect] {
        switch message {
        case .annotation(let result):
            state.annotate.loading = false
            switch result {
            case .success(let data):
                // Tasks already shown (and being saved) stay; new ones are added behind them.
                let shown = Set(state.annotate.tasks.map(\.id))
                state.annotate.tasks += data.tasks.filter { !shown.contains($0.id) && !state.annotate.handled.contains($0.id) }
                state.annotate.progress = data.progress
                state.annotate.loaded = true
                state.annotate.prepareTags()
            case .failure(let e): state.status = StatusLine(text: "cannot load annotation tasks: \(e)", isError: true)
            }
        case .annotated(let taskID, let result):
            state.annotate.saving = false
            state.annotate.handled.insert(taskID)
            switch result {
            case .success(let sampleID):
                state.status = StatusLine(text: "task #\(taskID) labelled: seed sample #\(sampleID)", isError: false)
                state.annotate.progress?.done += 1
                state.annotate.progress?.open -= 1
            case .failure(let e): state.status = StatusLine(text: "task #\(taskID) not saved: \(e)", isError: true)
            }
        case .annotationSkipped(let taskID, let result):
            state.annotate.handled.insert(taskID)
            if case .failure(let e) = result { state.status = StatusLine(text: "task #\(taskID) not skipped: \(e)", isError: true) }
            else { state.annotate.progress?.skipped += 1; state.annotate.progress?.open -= 1 }
        default: break
        }
        return []
    }

    static func drawAnnotate(_ buf: inout ScreenBuffer, _ state: AppState) {
        let t = state.theme
        let body = Layout(width: state.width, height: state.height).body
        // Progress toward the goal of seed labels, and the pace.
        let (bar, rest) = body.splitRows(1)
        buf.fill(bar, style: t[.base])
        if let p = state.annotate.progress {
            let label = " \(p.done)/\(p.goal) seed labels · \(p.open) open" + (p.perHour.map { String(format: " · %.0f/h", $0) } ?? "") + " "
            let width = max(0, bar.width - TextWidth.width(label) - 2)
            let filled = p.goal > 0 ? min(width, width * p.done / p.goal) : 0
            var x = buf.put(" " + String(repeating: "█", count: filled), x: bar.x, y: bar.y, style: t[.answerRight])
            x += buf.put(String(repeating: "░", count: width - filled), x: bar.x + x, y: bar.y, style: t[.muted])
            buf.put(label, x: bar.x + x, y: bar.y, style: t[.label])
        } else {
            buf.put(" loading…", x: bar.x, y: bar.y, style: t[.muted])
        }
        let (left, right) = rest.splitColumns(max(20, rest.width * 3 / 5))
        buf.box(left, title: "Image", style: t[.border], titleStyle: t[.title])
        guard let task = state.annotate.current else {
            buf.box(right, title: "Annotate", style: t[.border], titleStyle: t[.title])
            let msg = state.annotate.loaded
                ? "Nothing to annotate. Add images with flywheel seed-images DIR, or answered turns with flywheel annotate-queue --from-turns."
                : "loading…"
            for (i, l) in TextWidth.wrap(msg, to: max(1, right.width - 4)).enumerated() {
                buf.put(l, x: right.x + 2, y: right.y + 2 + i, maxWidth: right.width - 4, style: t[.muted])
            }
            return
        }
        if let r = previewRect(state), let key = previewKey(state) {
            if let o = state.preview.outcomes[key] {
                if let render = o.render { buf.draw(render, at: r.x, y: r.y) } else {
                    buf.put("[image] " + (o.problem ?? "no preview"), x: r.x, y: r.y, maxWidth: r.width, style: t[.muted])
                }
            } else {
                buf.put("loading image…", x: r.x, y: r.y, style: t[.muted])
            }
        } else {
            buf.put(task.imageRef.map { "no image: \($0)" } ?? "no image", x: left.x + 2, y: left.y + 1, maxWidth: left.width - 4, style: t[.muted])
        }
        var lines: [Line] = []
        let w = right.width - 3
        lines += wrapLines("task #\(task.id) · \(task.kind == "tags" ? "image tags" : "question and answer") · from \(task.origin == "seed_images" ? "seeded images" : "an answered turn")", width: w, style: t[.muted])
        if let ref = task.imageRef { lines += wrapLines(ref, width: w, style: t[.muted]) }
        lines.append(Line("", t[.base]))
        var editor: LineEditor?
        if task.kind == "tags" {
            lines.append(Line("Tags (space toggles, e adds, Enter saves the kept ones):", t[.label]))
            for (i, tag) in state.annotate.tags.enumerated() {
                let mark = tag.kept ? "[x] " : "[ ] "
                let style = i == state.annotate.tagCursor ? t[.selected] : (tag.kept ? t[.answerRight] : t[.muted])
                lines.append(Line([((i == state.annotate.tagCursor ? "▸" : " ") + mark + tag.tag, style)]))
            }
            if state.annotate.tags.isEmpty { lines.append(Line("  no tags yet: e adds one", t[.muted])) }
            if case .annotateAnswer(let e, let id) = state.mode, id == task.id {
                editor = e
                lines.append(Line([("new tag  ", t[.label])], isEditor: true))
            }
        } else {
            lines.append(Line("Question", t[.label]))
            lines += wrapLines(task.question ?? "(none)", width: w, style: t[.base])
            lines.append(Line("", t[.base]))
            if case .annotateAnswer(let e, let id) = state.mode, id == task.id {
                editor = e
                lines.append(Line([("Answer   ", t[.label])], isEditor: true))
            } else {
                lines.append(Line("Suggested answer (Enter accepts it, e edits)", t[.label]))
                lines += wrapLines(task.suggested ?? "none: e writes the answer", width: w, style: task.suggested == nil ? t[.muted] : t[.answerRight])
            }
        }
        lines.append(Line("", t[.base]))
        lines.append(Line("s skips · z shows the image full screen", t[.muted]))
        drawPanel(&buf, state, right, title: "Annotate", lines: lines, scroll: 0, editor: editor)
    }
}

import FlywheelCore
import FlywheelStore
import Foundation
import TerminalKit

// Image-tagging samples in the review queue: each predicted tag with its score and verdict (correct, wrong,
// missing). `e` on such a sample edits the verdicts: j/k move, space toggles right/wrong (on an added missing
// tag it takes it back), `n` adds a missing tag, Enter saves (unmarked tags count as right), Esc cancels. The
// save is the reviewer's decision: with review.overlap above 1 one vote of several (the tags change when the
// votes agree). In the adjudication queue the same editor decides a disputed tags sample (adjudicateTags).

struct TagDraft: Equatable {
    var sampleID: Int64
    var tags: [SampleTag]
    var cursor = 0
    var adding: LineEditor?
}

extension Console {
    static func isTagSample(_ item: QueueItem?) -> Bool { item?.sample.taskType == "tags" }

    static func tagFollowUp(_ state: inout AppState) -> [Effect] {
        guard state.screen == .review, let item = state.review.list.selectedRow, isTagSample(item),
              state.review.tags?.sampleID != item.sample.id, state.review.requestedTags != item.sample.id else { return [] }
        state.review.requestedTags = item.sample.id
        return [.loadTags(sampleID: item.sample.id)]
    }

    static func startTagEdit(_ state: inout AppState, _ item: QueueItem) -> [Effect] {
        guard let loaded = state.review.tags, loaded.sampleID == item.sample.id else {
            state.status = StatusLine(text: "the tags are still loading", isError: false)
            return []
        }
        state.review.tagDraft = TagDraft(sampleID: item.sample.id, tags: loaded.tags)
        let save = state.review.adjudicating ? "Enter decides the sample" : "Enter saves"
        state.status = StatusLine(text: "tags: j/k move, space marks right/wrong, n adds a missing tag, \(save) (unmarked = right), Esc cancels", isError: false)
        return []
    }

    /// Keys while the tag draft is open. Returns nil when the key is not the draft's.
    static func handleTagKey(_ state: inout AppState, _ key: Key) -> [Effect]? {
        guard var draft = state.review.tagDraft else { return nil }
        if var editor = draft.adding {
            switch key {
            case .enter:
                let tag = editor.text.trimmingCharacters(in: .whitespaces)
                if tag.isEmpty { state.status = StatusLine(text: "a tag cannot be empty (Esc cancels)", isError: true); return [] }
                if let i = draft.tags.firstIndex(where: { $0.tag == tag }) {
                    draft.tags[i].verdict = draft.tags[i].score == nil ? "missing" : "correct"
                    draft.cursor = i
                } else {
                    draft.tags.append(SampleTag(tag: tag, score: nil, verdict: "missing"))
                    draft.cursor = draft.tags.count - 1
                }
                draft.adding = nil
            case .esc: draft.adding = nil
            default: if editor.handle(key) { draft.adding = editor }
            }
            state.review.tagDraft = draft
            return []
        }
        switch key {
        case .char("j"), .down: draft.cursor = min(draft.cursor + 1, max(0, draft.tags.count - 1))
        case .char("k"), .up: draft.cursor = max(0, draft.cursor - 1)
        case .char(" "):
            guard draft.tags.indices.contains(draft.cursor) else { break }
            if draft.tags[draft.cursor].score == nil {
                draft.tags.remove(at: draft.cursor)  // a missing tag the reviewer takes back
                draft.cursor = min(draft.cursor, max(0, draft.tags.count - 1))
            } else {
                // Right or wrong: an unmarked predicted tag counts as right, so the first press marks it wrong.
                draft.tags[draft.cursor].verdict = draft.tags[draft.cursor].verdict == "wrong" ? "correct" : "wrong"
            }
        case .char("n"): draft.adding = LineEditor()
        case .esc:
            state.review.tagDraft = nil
            state.status = StatusLine(text: "tag edit cancelled", isError: false)
            return []
        case .enter:
            state.review.tagDraft = nil
            let original = Set((state.review.tags?.tags ?? []).map(\.tag))
            var verdicts: [String: String] = [:]
            // Saving is the reviewer's word on every tag: the ones left unmarked are right, and a missing tag the
            // sample had (from the user's feedback) that the reviewer took back is wrong.
            for t in draft.tags where original.contains(t.tag) { verdicts[t.tag] = t.verdict == "unreviewed" ? "correct" : t.verdict }
            for tag in original where !draft.tags.contains(where: { $0.tag == tag }) { verdicts[tag] = "wrong" }
            let added = draft.tags.filter { !original.contains($0.tag) }.map(\.tag)
            if let index = state.review.list.rows.firstIndex(where: { $0.sample.id == draft.sampleID }),
               let item = state.review.list.remove(at: index) {
                state.review.inFlight[draft.sampleID] = (item, index)
            }
            state.review.tags = nil  // read again after the write (and after an undo)
            state.review.requestedTags = nil
            if state.review.adjudicating {
                return [.adjudicateTags(sampleID: draft.sampleID, verdicts: verdicts, added: added, adjudicator: state.reviewer)]
            }
            return [.reviewTags(sampleID: draft.sampleID, verdicts: verdicts, added: added, reviewer: state.reviewer)]
        default:
            break
        }
        state.review.tagDraft = draft
        return []
    }

    /// The tag block of a tags sample's detail.
    static func tagLines(_ state: AppState, _ item: QueueItem, width: Int) -> [Line] {
        let t = state.theme
        let draft = state.review.tagDraft?.sampleID == item.sample.id ? state.review.tagDraft : nil
        guard let tags = draft?.tags ?? (state.review.tags?.sampleID == item.sample.id ? state.review.tags?.tags : nil) else {
            return [Line("Tags      loading…", t[.muted])]
        }
        var lines = [Line(draft == nil ? "Tags      (e edits the verdicts)" : "Tags      space: correct/wrong · n: add missing · Enter saves · Esc cancels", t[.label])]
        for (i, tag) in tags.enumerated() {
            let mark: String, role: Role
            switch tag.verdict {
            case "correct": (mark, role) = ("✓ correct", .answerRight)
            case "wrong": (mark, role) = ("✗ wrong", .answerWrong)
            case "missing": (mark, role) = ("+ missing", .repeated)
            default: (mark, role) = ("· unreviewed", .muted)
            }
            let selected = draft != nil && i == draft!.cursor
            let score = tag.score.map { String(format: "%.2f", $0) } ?? "  — "
            lines.append(Line([((selected ? "▸ " : "  ") + TextWidth.pad(tag.tag, to: 18) + " " + score + "  ", selected ? t[.selected] : t[.base]),
                               (mark, t[role])]))
        }
        if let editor = draft?.adding {
            lines.append(Line([("  new tag: " + editor.text, t[.editor])]))
        }
        let corrected = Store.correctedTags(tags)
        lines += wrapLines("corrected: " + (corrected.isEmpty ? "(none)" : corrected.joined(separator: ", ")), width: width, style: t[.answerRight])
        return lines
    }
}

import Foundation
import FlywheelCore
import FlywheelStore
import Testing
@testable import Console
import TerminalKit

/// Screens 3-5: patterns and plan, prompts (diff, optimise, activate, A/B), metrics.
@Suite(.serialized) struct ImprovementScreenTests {
    static let store = Result { try Fixture.store() }

    @Test(arguments: [
        ("patterns", "3"),
        ("patterns-drill", "3<Enter>"),
        ("patterns-by-prompt", "3bb"),
        ("patterns-help", "3?"),
        ("prompts", "4"),
        ("prompts-diff", "4d"),
        ("prompts-help", "4?"),
        ("metrics", "5"),
        ("metrics-hourly", "5h"),
    ])
    func screen(_ name: String, _ keys: String) throws {
        try assertSnapshot(try Fixture.screen(try Self.store.get(), keys), named: name)
    }

    @Test func drillShowsTheSamplesOfTheRowAndEscGoesBack() throws {
        let s = try Fixture.store()
        let state = try Fixture.run(s, "3<Enter>")
        let drill = try #require(state.patterns.drill)
        #expect(drill.samples.allSatisfy { $0.category == drill.line.category })
        #expect(drill.samples.count == drill.line.count)
        #expect(try Fixture.run(s, "3<Enter><Esc>").patterns.drill == nil)
    }

    @Test func optimiseStoresACandidateAndShowsItsDiff() throws {
        let s = try Fixture.store()
        let optimizer: PromptOptimizing = { name in
            #expect(name == "vqa-v3")
            try s.addPromptVersion(name: "vqa-v3-opt-1", template: "You answer questions about images.\nRead numbers digit by digit; say 78 not 87.\nAnswer in the user's language.",
                                   parent: "vqa-v3", author: "llm:stub", taskType: "vqa", now: Fixture.now)
            return "vqa-v3-opt-1"
        }
        let listed = try Fixture.run(s, "4")
        let v3 = try #require(listed.prompts.data?.versions.firstIndex { $0.name == "vqa-v3" })
        let state = try Fixture.run(s, "4" + String(repeating: "j", count: v3) + "o", optimizer: optimizer)
        #expect(state.prompts.selectedVersion?.name == "vqa-v3-opt-1")
        #expect(state.prompts.showDiff && !state.prompts.optimizing)
        #expect(state.status?.text == "new candidate vqa-v3-opt-1: its diff against the active prompt is shown; A activates it")
        try assertSnapshot(Console.render(state).text, named: "prompts-after-optimise")
        // A makes it active; the parent is retired.
        let activated = try Fixture.run(s, "4" + String(repeating: "j", count: state.prompts.selected) + "A", optimizer: optimizer)
        #expect(activated.status?.text == "vqa-v3-opt-1 is now the active prompt")
        #expect(try s.promptVersion(named: "vqa-v3-opt-1")?.status == "active")
        #expect(try s.promptVersion(named: "vqa-v3")?.status == "retired")
    }

    @Test func withoutAnEndpointOptimiseSaysWhatToConfigure() throws {
        let s = try Fixture.store()
        let listed = try Fixture.run(s, "4")
        let before = try s.promptVersions().count
        let v3 = try #require(listed.prompts.data?.versions.firstIndex { $0.name == "vqa-v3" })
        let state = try Fixture.run(s, "4" + String(repeating: "j", count: v3) + "o")
        #expect(state.status?.isError == true)
        #expect(state.status?.text == "optimisation failed: " + EffectRunner.noOptimizer)
        #expect(try s.promptVersions().count == before)
    }

    @Test func optimisingRunsInTheBackgroundAndKeysStillWork() throws {
        let s = try Fixture.store()
        let gate = DispatchSemaphore(value: 0)
        let runner = EffectRunner(data: s, optimizer: { _ in gate.wait(); throw EffectRunner.Failure(description: "stub says no") }, clock: { Fixture.now })
        var state = Console.runHeadless(state: Fixture.state(), runner: runner, keys: [.char("4")])
        state.prompts.selected = try #require(state.prompts.data?.versions.firstIndex { $0.name == "vqa-v3" })
        runner.start(Console.update(&state, .key(.char("o"))))
        #expect(state.prompts.optimizing && state.isBusy)
        runner.start(Console.update(&state, .key(.char("1"))))
        #expect(state.screen == .sessions)
        gate.signal()
        Console.settle(&state, runner)
        #expect(!state.prompts.optimizing)
        #expect(state.status?.text == "optimisation failed: stub says no")
    }

    @Test func aVersionWithoutTextCannotBeActivatedOrOptimised() throws {
        let s = try Fixture.store()
        try s.addPromptVersion(name: "vqa-v9", template: "x", parent: nil, author: nil, taskType: "vqa", now: Fixture.now)
        var state = try Fixture.run(s, "4")
        let i = try #require(state.prompts.data?.versions.firstIndex { $0.name == "vqa-v3" })
        state.prompts.selected = i
        _ = Console.update(&state, .key(.char("A")))
        #expect(state.status?.text == "vqa-v3 is already active")
    }
}

/// The image beside the sample or session (issue 10's console part).
@Suite(.serialized) struct PreviewTests {
    static let store = Result { try Fixture.store() }

    @Test(arguments: [
        ("preview-review-sample", "2j", 100, 24),
        ("preview-missing-image", "2", 100, 24),
        ("preview-session", "jj", 100, 24),
        ("preview-zoomed", "2jz", 100, 24),
        ("preview-small-terminal", "2j", 70, 16),
    ])
    func screen(_ name: String, _ keys: String, _ width: Int, _ height: Int) throws {
        try assertSnapshot(try Fixture.screen(try Self.store.get(), keys, width: width, height: height), named: name)
    }

    @Test func zoomClosesWithEscOrZAndScreenSwitches() throws {
        let s = try Self.store.get()
        #expect(try Fixture.run(s, "2jz").preview.zoomed)
        #expect(!(try Fixture.run(s, "2jz<Esc>").preview.zoomed))
        #expect(!(try Fixture.run(s, "2jzz").preview.zoomed))
        #expect(!(try Fixture.run(s, "2jz1").preview.zoomed))
        // Keys still move the queue under the zoomed image.
        #expect(try Fixture.run(s, "2jzk").review.list.selected == 0)
    }

    @Test func openingWithoutADisplaySaysWhereTheFileIs() throws {
        let file = ImageFile(id: 1, key: "sha256:x", ref: "images/a.png", path: "/tmp/a.png", status: "present", width: 1, height: 1, format: "png")
        let r = ImageViewer.open(file, environment: [:])
        guard case .failure(let e) = r else { Issue.record("expected a failure"); return }
        #expect(e.description == "no display to open it on (set FLYWHEEL_IMAGE_VIEWER to a command to use one); the file is /tmp/a.png")
        let url = ImageFile(id: 2, key: "url:x", ref: "https://e.com/a.png", path: nil, status: "url", width: nil, height: nil, format: nil)
        guard case .failure(let u) = ImageViewer.open(url, environment: ["DISPLAY": ":0"]) else { Issue.record("expected a failure"); return }
        #expect(u.description == "a URL image is not fetched: https://e.com/a.png")
        // A viewer command is run with the file.
        let out = NSTemporaryDirectory() + "viewer-" + UUID().uuidString
        let script = out + ".sh"
        try "#!/bin/sh\necho \"$1\" > \(out)\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        guard case .success(let text) = ImageViewer.open(file, environment: ["FLYWHEEL_IMAGE_VIEWER": script]) else { Issue.record("expected success"); return }
        #expect(text == "opened /tmp/a.png with \(script)")
        for _ in 0..<200 where (try? String(contentsOfFile: out, encoding: .utf8))?.hasSuffix("\n") != true { Thread.sleep(forTimeInterval: 0.05) }
        #expect((try? String(contentsOfFile: out, encoding: .utf8)) == "/tmp/a.png\n")
    }
}

/// Screen 6 (cold-start annotation) and image-tagging samples in the review queue (issue 8's console part).
@Suite(.serialized) struct AnnotateAndTagsTests {
    /// A store whose answered turns without feedback are queued for annotation.
    static func storeWithTasks() throws -> Store {
        let s = try Fixture.store()
        _ = try s.queueUnlabelledTurns(limit: 10, now: Fixture.now)
        return s
    }

    func tagsSampleIndex(_ state: AppState) -> Int? { state.review.list.rows.firstIndex { $0.sample.taskType == "tags" } }

    @Test func annotateScreensAndLabels() throws {
        let s = try Self.storeWithTasks()
        try assertSnapshot(try Fixture.screen(s, "6"), named: "annotate")
        try assertSnapshot(try Fixture.screen(s, "6e"), named: "annotate-editing")
        let first = try #require(try s.nextAnnotationTasks(after: nil, limit: 1).first)
        // Enter accepts the suggestion: a seed label, approved, by the annotator.
        let state = try Fixture.run(s, "6<Enter>")
        #expect(state.status?.text.hasPrefix("task #\(first.id) labelled: seed sample #") == true)
        let task = try #require(try s.annotationTask(id: first.id))
        #expect(task.status == "done")
        let seeds = try s.samples(filter: SampleFilter(sources: ["seed_label"]), limit: 10)
        #expect(seeds.count == 1 && seeds[0].state == "approved" && seeds[0].quality == "high" && seeds[0].correctAnswer == first.suggested)
        // e writes an answer of one's own; s skips.
        let second = try #require(try s.nextAnnotationTasks(after: nil, limit: 1).first)
        _ = try Fixture.run(s, "6e<C-u>七十八<Enter>s")
        #expect(try s.annotationTask(id: second.id)?.status == "done")
        #expect(try s.samples(filter: SampleFilter(sources: ["seed_label"]), limit: 10).contains { $0.correctAnswer == "七十八" })
        #expect(try s.annotationProgress(goal: 1000, now: Fixture.now).done == 2)
    }

    @Test func skipLeavesTheTaskUnlabelled() throws {
        let s = try Self.storeWithTasks()
        let first = try #require(try s.nextAnnotationTasks(after: nil, limit: 1).first)
        let state = try Fixture.run(s, "6s")
        #expect(state.status?.text == "skipped task #\(first.id)")
        #expect(try s.annotationTask(id: first.id)?.status == "skipped")
        #expect(try s.annotationProgress(goal: 1000, now: Fixture.now).skipped == 1)
    }

    @Test func anEmptyAnswerIsRefused() throws {
        let s = try Self.storeWithTasks()
        let state = try Fixture.run(s, "6e<C-u><Enter>")
        #expect(state.status == StatusLine(text: "the answer cannot be empty (Esc cancels)", isError: true))
        #expect(try s.annotationProgress(goal: 1000, now: Fixture.now).done == 0)
    }

    @Test func nothingToAnnotateSaysHowToAddWork() throws {
        let s = try Fixture.store()
        let text = try Fixture.screen(s, "6")
        #expect(text.contains("Nothing to annotate. Add images with"))
        #expect(text.contains("annotate-queue --from-turns."))
    }

    @Test func tagSamplesShowEachTagAndAreFixedWithKeys() throws {
        let s = try Fixture.store()
        let state = try Fixture.run(s, "2")
        let i = try #require(tagsSampleIndex(state))
        let down = String(repeating: "j", count: i)
        try assertSnapshot(try Fixture.screen(s, "2" + down), named: "review-tags")
        try assertSnapshot(try Fixture.screen(s, "2" + down + "e"), named: "review-tags-editing")
        let id = state.review.list.rows[i].sample.id
        // The feedback's verdicts (dog wrong, bicycle missing, car correct) are kept; add "person"; save.
        let done = try Fixture.run(s, "2" + down + "enperson<Enter><Enter>")
        #expect(done.status?.text == "#\(id) tags fixed by tester (u undoes)")
        let tags = try s.sampleTags(sampleID: id)
        #expect(Dictionary(uniqueKeysWithValues: tags.map { ($0.tag, $0.verdict) }) == ["car": "correct", "dog": "wrong", "bicycle": "missing", "person": "missing"])
        #expect(try s.sample(id: id)?.state == "fixed")
        #expect(try s.sample(id: id)?.correctAnswer == "car, bicycle, person")
    }

    @Test func undoingATagFixPutsTheVerdictsBack() throws {
        let s = try Fixture.store()
        let state = try Fixture.run(s, "2")
        let i = try #require(tagsSampleIndex(state))
        let id = state.review.list.rows[i].sample.id
        let before = try s.sampleTags(sampleID: id)
        let undone = try Fixture.run(s, "2" + String(repeating: "j", count: i) + "e<Space>nperson<Enter><Enter>u")
        #expect(undone.status?.text == "undone: #\(id) is pending again")
        #expect(try s.sampleTags(sampleID: id) == before)
        #expect(try s.sample(id: id)?.state == "pending")
        #expect(try s.reviewActions(sampleID: id).map(\.action) == ["fix_tags", "undo"])
    }

    @Test func spaceCyclesAPredictedTagsVerdictAndTakesBackAnAddedOne() throws {
        let s = try Fixture.store()
        let state = try Fixture.run(s, "2")
        let i = try #require(tagsSampleIndex(state))
        let down = String(repeating: "j", count: i)
        // car (correct) -> wrong; the added "person" is taken back again before saving.
        let edited = try Fixture.run(s, "2" + down + "e<Space>nperson<Enter><Space>")
        let draft = try #require(edited.review.tagDraft)
        #expect(draft.tags.first { $0.tag == "car" }?.verdict == "wrong")
        #expect(!draft.tags.contains { $0.tag == "person" })
    }

    @Test func takingBackAMissingTagTheFeedbackAddedRemovesItFromTheSet() throws {
        let s = try Fixture.store()
        let state = try Fixture.run(s, "2")
        let i = try #require(tagsSampleIndex(state))
        let id = state.review.list.rows[i].sample.id
        // The feedback's missing "bicycle" is the third tag; space takes it back, Enter saves.
        let done = try Fixture.run(s, "2" + String(repeating: "j", count: i) + "ejj<Space><Enter>")
        #expect(done.status?.text == "#\(id) tags fixed by tester (u undoes)")
        #expect(try s.sample(id: id)?.correctAnswer == "car")
        #expect(Dictionary(uniqueKeysWithValues: try s.sampleTags(sampleID: id).map { ($0.tag, $0.verdict) })
                == ["car": "correct", "dog": "wrong", "bicycle": "wrong"])
    }

    @Test func escCancelsATagEdit() throws {
        let s = try Fixture.store()
        let state = try Fixture.run(s, "2")
        let i = try #require(tagsSampleIndex(state))
        let id = state.review.list.rows[i].sample.id
        let cancelled = try Fixture.run(s, "2" + String(repeating: "j", count: i) + "e<Space><Esc>")
        #expect(cancelled.status?.text == "tag edit cancelled")
        #expect(try s.sample(id: id)?.state == "pending")
        #expect(try s.reviewActions(sampleID: id).isEmpty)
    }
}

@Suite struct ExternalChangeTests {
    @Test func aBusyCollectorDoesNotKeepTheSummaryOnScreenReloading() throws {
        let s = try Fixture.store()
        var state = try Fixture.run(s, "35")  // patterns loaded, then metrics shown
        #expect(state.metrics.data != nil && state.patterns.data != nil)
        _ = Console.update(&state, .dataVersion(.success(1)))
        let effects = Console.update(&state, .dataVersion(.success(2)))
        #expect(effects.contains(.loadCounts))
        #expect(!effects.contains { if case .loadMetrics = $0 { return true } else { return false } })
        #expect(state.metrics.data != nil)   // the screen shown keeps its figures (C-r reloads)
        #expect(state.patterns.data == nil)  // the others are read again when shown
    }
}

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
        let state = try Fixture.run(s, "4o", optimizer: optimizer)
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
        let state = try Fixture.run(s, "4o")
        #expect(state.status?.isError == true)
        #expect(state.status?.text == "optimisation failed: " + EffectRunner.noOptimizer)
        #expect(try s.promptVersions().count == 2)
    }

    @Test func optimisingRunsInTheBackgroundAndKeysStillWork() throws {
        let s = try Fixture.store()
        let gate = DispatchSemaphore(value: 0)
        let runner = EffectRunner(data: s, optimizer: { _ in gate.wait(); throw EffectRunner.Failure(description: "stub says no") }, clock: { Fixture.now })
        var state = Console.runHeadless(state: Fixture.state(), runner: runner, keys: [.char("4")])
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
        for _ in 0..<50 where !FileManager.default.fileExists(atPath: out) { Thread.sleep(forTimeInterval: 0.05) }
        #expect((try? String(contentsOfFile: out, encoding: .utf8)) == "/tmp/a.png\n")
    }
}

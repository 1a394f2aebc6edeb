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

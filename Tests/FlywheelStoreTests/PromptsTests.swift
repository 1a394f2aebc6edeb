import FlywheelTestSupport
import Foundation
import GRDB
import Testing
@testable import FlywheelCore
@testable import FlywheelStore

/// Inserts a training sample directly (the analysis and review paths are tested elsewhere).
private func sample(_ store: Store, state: String = "approved", task: String = "vqa", category: String, createdAt: Int64,
                    question: String? = "q", wrong: String? = "w", correct: String? = "c") throws {
    try store.writer.write { db in
        try db.execute(sql: """
            INSERT INTO training_samples(source, quality, state, task_type, question, wrong_answer, correct_answer, error_category,
                                         created_at, updated_at)
            VALUES ('user_correction', 'high', ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [state, task, question, wrong, correct, category, createdAt, createdAt])
    }
}

@Suite struct PromptsTests {
    @Test func addListShowAndOrder() throws {
        try withEachStore { (store: Store) throws in
            try store.addPromptVersion(name: "vqa-v1", template: "Answer.", parent: nil, author: "ana", taskType: "vqa", now: 1_000)
            try store.addPromptVersion(name: "vqa-v2", template: "Answer well.", parent: "vqa-v1", author: "ben", taskType: "vqa", now: 2_000)
            try store.addPromptVersion(name: "tags-v1", template: "Tag it.", parent: nil, author: nil, taskType: "tags", now: 3_000)
            let v2 = try #require(try store.promptVersion(named: "vqa-v2"))
            #expect(v2 == PromptVersion(name: "vqa-v2", template: "Answer well.", parent: "vqa-v1", author: "ben", createdAt: 2_000,
                                        status: "candidate", taskType: "vqa", seenInEvents: 0))
            #expect(try store.promptVersion(named: "nope") == nil)
            // Newest first while none is active; then the active one leads.
            #expect(try store.promptVersions().map(\.name) == ["tags-v1", "vqa-v2", "vqa-v1"])
            try store.activatePromptVersion("vqa-v1")
            #expect(try store.promptVersions().map(\.name) == ["vqa-v1", "tags-v1", "vqa-v2"])
        }
    }

    @Test func registryRules() throws {
        try withEachStore { (store: Store) throws in
            try store.addPromptVersion(name: "vqa-v1", template: "Answer.", parent: nil, author: "ana", taskType: "vqa", now: 1_000)
            #expect(throws: PromptStoreError.duplicate("vqa-v1")) {
                try store.addPromptVersion(name: "vqa-v1", template: "Other.", parent: nil, author: "ben", taskType: "vqa", now: 2_000)
            }
            #expect(try store.promptVersion(named: "vqa-v1")?.template == "Answer.")
            #expect(throws: PromptStoreError.unknownParent("vqa-v0")) {
                try store.addPromptVersion(name: "vqa-v2", template: "x", parent: "vqa-v0", author: nil, taskType: "vqa", now: 2_000)
            }
            #expect(throws: PromptStoreError.parentCycle(name: "vqa-v2", parent: "vqa-v2")) {
                try store.addPromptVersion(name: "vqa-v2", template: "x", parent: "vqa-v2", author: nil, taskType: "vqa", now: 2_000)
            }
            #expect(throws: PromptStoreError.emptyTemplate("vqa-v2")) {
                try store.addPromptVersion(name: "vqa-v2", template: " \n ", parent: nil, author: nil, taskType: "vqa", now: 2_000)
            }
            #expect(throws: PromptStoreError.invalidName("vqa v2")) {
                try store.addPromptVersion(name: "vqa v2", template: "x", parent: nil, author: nil, taskType: "vqa", now: 2_000)
            }
            #expect(throws: PromptStoreError.invalidName("")) {
                try store.addPromptVersion(name: "", template: "x", parent: nil, author: nil, taskType: "vqa", now: 2_000)
            }
            #expect(try store.promptVersions().map(\.name) == ["vqa-v1"])
            // Messages are one line and say what to do.
            #expect(PromptStoreError.noTemplate("vqa-v3").description == "vqa-v3 has no template text: add one with flywheel prompt add vqa-v3 --file F")
            #expect(PromptStoreError.invalidName("a\nb").description.contains("a\\nb"))
            #expect(!PromptStoreError.invalidName("a\nb").description.contains("\n"))
        }
    }

    @Test func versionsSeenInEventsGetTheirTemplateFilledIn() throws {
        try withEachStore { (store: Store) throws in
            _ = try insert(store, specLines)  // names vqa-v3 (a turn) and tags-v1 (a recognition)
            let seen = try #require(try store.promptVersion(named: "vqa-v3"))
            #expect(seen.template == nil && seen.seenInEvents == 1 && seen.taskType == "vqa" && seen.status == "active")
            try store.addPromptVersion(name: "vqa-v2", template: "Older.", parent: nil, author: "ana", taskType: "vqa", now: 5)
            try store.addPromptVersion(name: "vqa-v3", template: "Answer from the image.", parent: "vqa-v2", author: "ben", taskType: "tags", now: 99)
            let filled = try #require(try store.promptVersion(named: "vqa-v3"))
            // Template, parent and author are filled in; status, task type, creation time and the events flag stay.
            #expect(filled == PromptVersion(name: "vqa-v3", template: "Answer from the image.", parent: "vqa-v2", author: "ben",
                                            createdAt: seen.createdAt, status: "active", taskType: "vqa", seenInEvents: 1))
            // Now it has a template, a second add is a duplicate.
            #expect(throws: PromptStoreError.duplicate("vqa-v3")) {
                try store.addPromptVersion(name: "vqa-v3", template: "Again.", parent: nil, author: nil, taskType: "vqa", now: 100)
            }
            // Ingesting the same version again later keeps the template.
            _ = try insert(store, [#"{"type":"turn","event_id":"later","session_id":"s9","turn_index":1,"role":"assistant","content":"5","request_id":"r9","ts":"2026-06-01T00:00:00Z","prompt_version":"vqa-v3"}"#])
            #expect(try store.promptVersion(named: "vqa-v3")?.template == "Answer from the image.")
            #expect(try store.promptVersion(named: "vqa-v3")?.createdAt == seen.createdAt)
        }
    }

    @Test func aParentCannotDescendFromItsChild() throws {
        try withEachStore { (store: Store) throws in
            _ = try insert(store, specLines)  // vqa-v3 seen in events, no template
            try store.addPromptVersion(name: "vqa-v3-opt-1", template: "x", parent: "vqa-v3", author: nil, taskType: "vqa", now: 1)
            #expect(throws: PromptStoreError.parentCycle(name: "vqa-v3", parent: "vqa-v3-opt-1")) {
                try store.addPromptVersion(name: "vqa-v3", template: "y", parent: "vqa-v3-opt-1", author: nil, taskType: "vqa", now: 2)
            }
            #expect(try store.promptVersion(named: "vqa-v3")?.template == nil)
        }
    }

    @Test func activatingRetiresThePreviouslyActiveVersionOfTheSameTaskType() throws {
        try withEachStore { (store: Store) throws in
            for (n, name) in ["vqa-v1", "vqa-v2", "vqa-v3"].enumerated() {
                try store.addPromptVersion(name: name, template: "t\(n)", parent: nil, author: nil, taskType: "vqa", now: Int64(n))
            }
            try store.addPromptVersion(name: "tags-v1", template: "t", parent: nil, author: nil, taskType: "tags", now: 10)
            #expect(try store.activePromptVersion(taskType: "vqa") == nil)
            try store.activatePromptVersion("tags-v1")
            try store.activatePromptVersion("vqa-v1")
            try store.activatePromptVersion("vqa-v2")
            func status() throws -> [String: String] {
                Dictionary(uniqueKeysWithValues: try store.promptVersions().map { ($0.name, $0.status) })
            }
            #expect(try status() == ["vqa-v1": "retired", "vqa-v2": "active", "vqa-v3": "candidate", "tags-v1": "active"])
            #expect(try store.activePromptVersion(taskType: "vqa")?.name == "vqa-v2")
            #expect(try store.activePromptVersion(taskType: "tags")?.name == "tags-v1")
            // Activating the active one again changes nothing; a retired one can come back.
            try store.activatePromptVersion("vqa-v2")
            #expect(try status()["vqa-v2"] == "active")
            try store.activatePromptVersion("vqa-v1")
            #expect(try status() == ["vqa-v1": "active", "vqa-v2": "retired", "vqa-v3": "candidate", "tags-v1": "active"])
            #expect(throws: PromptStoreError.notFound("vqa-v9")) { try store.activatePromptVersion("vqa-v9") }
        }
    }

    @Test func severalActiveFromEventsUntilOneIsActivated() throws {
        try withEachStore { (store: Store) throws in
            let lines = [
                #"{"type":"turn","event_id":"a","session_id":"s","turn_index":1,"role":"assistant","content":"1","request_id":"r1","ts":"2026-05-01T00:00:00Z","prompt_version":"vqa-v1"}"#,
                #"{"type":"turn","event_id":"b","session_id":"s","turn_index":3,"role":"assistant","content":"2","request_id":"r2","ts":"2026-05-02T00:00:00Z","prompt_version":"vqa-v2"}"#,
            ]
            _ = try insert(store, lines)
            #expect(try store.promptVersions().filter { $0.status == "active" }.count == 2)
            // The newest active one is the active version; nil task type prefers one with a template.
            #expect(try store.activePromptVersion(taskType: "vqa")?.name == "vqa-v2")
            try store.addPromptVersion(name: "vqa-v1", template: "Answer.", parent: nil, author: nil, taskType: nil, now: 0)
            #expect(try store.activePromptVersion(taskType: nil)?.name == "vqa-v1")
            try store.activatePromptVersion("vqa-v1")
            #expect(try store.promptVersion(named: "vqa-v2")?.status == "retired")
            #expect(try store.activePromptVersion(taskType: "vqa")?.name == "vqa-v1")
        }
    }

    @Test func examplesAreRoundRobinOverCategoriesMostFrequentFirstNewestFirst() throws {
        try withEachStore { (store: Store) throws in
            // number_misread: 4 samples, hallucination: 3, format_error: 2 (one of them fixed), knowledge_error: 1.
            try sample(store, category: "number_misread", createdAt: 10, question: "n10")
            try sample(store, category: "number_misread", createdAt: 40, question: "n40")
            try sample(store, category: "number_misread", createdAt: 20, question: "n20")
            try sample(store, category: "number_misread", createdAt: 30, question: "n30")
            try sample(store, category: "hallucination", createdAt: 5, question: "h5")
            try sample(store, category: "hallucination", createdAt: 50, question: "h50")
            try sample(store, category: "hallucination", createdAt: 25, question: "h25")
            try sample(store, state: "fixed", category: "format_error", createdAt: 1, question: "f1")
            try sample(store, category: "format_error", createdAt: 2, question: "f2")
            try sample(store, category: "knowledge_error", createdAt: 99, question: "k99")
            // Not eligible: undecided, rejected, another task type, missing or equal answers.
            try sample(store, state: "pending", category: "knowledge_error", createdAt: 100, question: "pending")
            try sample(store, state: "rejected", category: "knowledge_error", createdAt: 100, question: "rejected")
            try sample(store, task: "extraction", category: "knowledge_error", createdAt: 100, question: "extraction")
            try sample(store, category: "knowledge_error", createdAt: 100, question: "no wrong", wrong: nil)
            try sample(store, category: "knowledge_error", createdAt: 100, question: "blank correct", correct: "  ")
            try sample(store, category: "knowledge_error", createdAt: 100, question: nil)
            try sample(store, category: "knowledge_error", createdAt: 100, question: "same", wrong: "7", correct: "7")

            let all = try store.optimizationExamples(taskType: "vqa", limit: 10).map { $0.question ?? "" }
            #expect(all == ["n40", "h50", "f2", "k99", "n30", "h25", "f1", "n20", "h5", "n10"])
            #expect(try store.optimizationExamples(taskType: "vqa", limit: 5).map { $0.question ?? "" } == ["n40", "h50", "f2", "k99", "n30"])
            #expect(try store.optimizationExamples(taskType: "vqa", limit: 0).isEmpty)
            // Any task type when nil: the extraction sample joins knowledge_error (now 2 samples, tied with
            // format_error; ties go by name).
            let any = try store.optimizationExamples(taskType: nil, limit: 4).map { $0.question ?? "" }
            #expect(any == ["n40", "h50", "f2", "extraction"])
            #expect(try store.optimizationExamples(taskType: "tags", limit: 10).isEmpty)
            let first = try #require(try store.optimizationExamples(taskType: "vqa", limit: 1).first)
            #expect(first.state == "approved" && first.category == "number_misread" && first.wrongAnswer == "w" && first.correctAnswer == "c")
        }
    }
}

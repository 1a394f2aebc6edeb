import Foundation
import GRDB
import Testing
@testable import FlywheelCore
@testable import FlywheelStore

// Image-tagging samples and their review, cold-start annotation tasks, synthetic samples.

private func tagSample(_ request: String, state: SampleState = .pending, tags: [SampleTag], correct: String? = nil) -> NewTagSample {
    NewTagSample(
        sample: NewSample(source: .userCorrection, quality: .high, state: state, taskType: "tags", question: nil,
                          wrongAnswer: Store.tagList(tags.filter { $0.score != nil }.map(\.tag)), correctAnswer: correct,
                          category: .visualUnderstandingError, sessionID: nil, requestID: request, questionTurnID: nil, answerTurnID: nil,
                          imageID: nil, feedbackID: nil, evidence: nil, extraction: nil, model: "ram", promptVersion: "tags-v1"),
        tags: tags)
}

private func lastSampleID(_ store: Store) throws -> Int64 {
    try store.writer.read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM training_samples")! }
}

private func column<T: DatabaseValueConvertible>(_ store: Store, _ sql: String, _ args: StatementArguments = []) throws -> T? {
    try store.writer.read { db in try T.fetchOne(db, sql: sql, arguments: args) }
}

private func image(_ n: Int, status: ResolvedImage.Status = .present) -> ResolvedImage {
    ResolvedImage(ref: "/seed/img-\(n).png", path: "/seed/img-\(n).png", status: status, sha256: String(repeating: "\(n % 10)", count: 64),
                  bytes: 100 + n, width: 640, height: 480, format: "png")
}

@Suite struct TagsTests {
    let carDog = [SampleTag(tag: "dog", score: 0.41, verdict: "wrong"), SampleTag(tag: "car", score: 0.93, verdict: "correct"),
                  SampleTag(tag: "bicycle", score: nil, verdict: "missing"), SampleTag(tag: "tree", score: 0.5, verdict: "unreviewed")]

    @Test func correctedTagsKeepsCorrectAndUnreviewedThenMissing() {
        #expect(Store.correctedTags(carDog) == ["car", "tree", "bicycle"])
        #expect(Store.correctedTags([]) == [])
        #expect(Store.correctedTags([SampleTag(tag: "x", score: 0.2, verdict: "wrong")]) == [])
        #expect(Store.tagList(["car", "tree"]) == "car, tree")
    }

    @Test func tagSamplesAreStoredWithTheirTagsOnce() throws {
        let store = try Store.inMemory()
        #expect(try store.insertTagSamples([tagSample("rec1", tags: carDog)], now: 10) == 1)
        let id = try lastSampleID(store)
        // Predicted by score, highest first; then the missing ones.
        #expect(try store.sampleTags(sampleID: id) == [
            SampleTag(tag: "car", score: 0.93, verdict: "correct"), SampleTag(tag: "tree", score: 0.5, verdict: "unreviewed"),
            SampleTag(tag: "dog", score: 0.41, verdict: "wrong"), SampleTag(tag: "bicycle", score: nil, verdict: "missing"),
        ])
        // Same request and source: skipped, tags and all.
        #expect(try store.insertTagSamples([tagSample("rec1", tags: [SampleTag(tag: "cat", score: 0.9, verdict: "correct")])], now: 11) == 0)
        #expect(try column(store, "SELECT count(*) FROM sample_tags") as Int? == 4)
        #expect(try store.sampleTags(sampleID: 999) == [])
    }

    @Test func reviewTagsFixesTheSetAndLogsItInOneAction() throws {
        let store = try Store.inMemory()
        let predicted = [SampleTag(tag: "car", score: 0.93, verdict: "unreviewed"), SampleTag(tag: "dog", score: 0.41, verdict: "unreviewed"),
                         SampleTag(tag: "sky", score: 0.7, verdict: "unreviewed")]
        _ = try store.insertTagSamples([tagSample("rec1", state: .needsAnswer, tags: predicted)], now: 10)
        let id = try lastSampleID(store)
        let record = try store.reviewTags(sampleID: id, verdicts: ["dog": "wrong"], added: [" bicycle ", "", "sky"], reviewer: "ann", now: 20)
        #expect(record.action == "fix_tags")
        #expect(record.before == SampleSnapshot(state: "needs_answer", correctAnswer: nil, category: "visual_understanding_error"))
        #expect(record.after == SampleSnapshot(state: "fixed", correctAnswer: "car, sky, bicycle", category: "visual_understanding_error"))
        #expect(try store.sampleTags(sampleID: id) == [
            SampleTag(tag: "car", score: 0.93, verdict: "correct"), SampleTag(tag: "sky", score: 0.7, verdict: "correct"),
            SampleTag(tag: "dog", score: 0.41, verdict: "wrong"), SampleTag(tag: "bicycle", score: nil, verdict: "missing"),
        ])
        #expect(try column(store, "SELECT state || '|' || correct_answer || '|' || updated_at FROM training_samples WHERE id = ?", [id]) as String?
                == "fixed|car, sky, bicycle|20")
        let before: String? = try column(store, "SELECT before FROM review_actions WHERE id = ?", [record.actionID])
        let after: String? = try column(store, "SELECT after FROM review_actions WHERE id = ?", [record.actionID])
        #expect(before == #"{"state":"needs_answer","correct_answer":null,"error_category":"visual_understanding_error","tags":[{"tag":"car","score":0.93,"verdict":"unreviewed"},{"tag":"sky","score":0.7,"verdict":"unreviewed"},{"tag":"dog","score":0.41,"verdict":"unreviewed"}]}"#)
        #expect(after == #"{"state":"fixed","correct_answer":"car, sky, bicycle","error_category":"visual_understanding_error","tags":[{"tag":"car","score":0.93,"verdict":"correct"},{"tag":"sky","score":0.7,"verdict":"correct"},{"tag":"dog","score":0.41,"verdict":"wrong"},{"tag":"bicycle","score":null,"verdict":"missing"}]}"#)
        // The log still reads as ordinary snapshots.
        #expect(try store.reviewActions(sampleID: id).map(\.after) == [record.after])
        // Decided: a second fix is refused and changes nothing.
        #expect(throws: ReviewError.alreadyDecided(id, state: "fixed")) {
            try store.reviewTags(sampleID: id, verdicts: [:], added: ["cat"], reviewer: "bob", now: 30)
        }
        #expect(try store.sampleTags(sampleID: id).count == 4)
        #expect(try store.reviewActions(sampleID: id).count == 1)
    }

    @Test func reviewTagsRefusesWhatDoesNotApplyAndWritesNothing() throws {
        let store = try Store.inMemory()
        _ = try store.insertTagSamples([tagSample("rec1", tags: [SampleTag(tag: "car", score: 0.9, verdict: "unreviewed")])], now: 10)
        let id = try lastSampleID(store)
        #expect(throws: TagReviewError.unknownVerdict(tag: "car", verdict: "maybe")) {
            try store.reviewTags(sampleID: id, verdicts: ["car": "maybe"], added: [], reviewer: "r", now: 20)
        }
        #expect(throws: TagReviewError.unknownTag("bus")) {
            try store.reviewTags(sampleID: id, verdicts: ["bus": "wrong"], added: [], reviewer: "r", now: 20)
        }
        #expect(throws: TagReviewError.noTagsLeft(id)) {
            try store.reviewTags(sampleID: id, verdicts: ["car": "wrong"], added: [], reviewer: "r", now: 20)
        }
        #expect(throws: ReviewError.sampleNotFound(77)) {
            try store.reviewTags(sampleID: 77, verdicts: [:], added: ["x"], reviewer: "r", now: 20)
        }
        _ = try store.insertSamples([NewSample(source: .userCorrection, quality: .high, state: .pending, taskType: "vqa", question: "q",
                                               wrongAnswer: "a", correctAnswer: "b", category: .unknown, sessionID: nil, requestID: "v1",
                                               questionTurnID: nil, answerTurnID: nil, imageID: nil, evidence: nil, extraction: nil,
                                               model: nil, promptVersion: nil)], now: 10)
        let vqa = try lastSampleID(store)
        #expect(throws: TagReviewError.notATagsSample(vqa)) {
            try store.reviewTags(sampleID: vqa, verdicts: [:], added: ["x"], reviewer: "r", now: 20)
        }
        #expect(try store.sampleTags(sampleID: id) == [SampleTag(tag: "car", score: 0.9, verdict: "unreviewed")])
        #expect(try column(store, "SELECT count(*) FROM review_actions") as Int? == 0)
        #expect(try column(store, "SELECT state FROM training_samples WHERE id = ?", [id]) as String? == "pending")
        // Untouched predicted tags are accepted by a review that only adds one.
        let r = try store.reviewTags(sampleID: id, verdicts: ["car": "unreviewed"], added: ["road"], reviewer: "r", now: 21)
        #expect(r.after.correctAnswer == "car, road")
    }
}

@Suite struct AnnotationTests {
    @Test func seedImagesAreRegisteredOncePerKindAndPaged() throws {
        let store = try Store.inMemory()
        let first = try store.registerSeedImages([image(1), image(2), image(3)], kind: "vqa", question: "What does this image show?", now: 100)
        #expect(first == SeedRegistration(newImages: 3, newTasks: 3))
        // Same pictures again (one under another path: content-addressed, so the same image), and as tags tasks.
        var moved = image(2)
        moved.ref = "/elsewhere/copy.png"
        moved.path = "/elsewhere/copy.png"
        #expect(try store.registerSeedImages([image(1), moved], kind: "vqa", question: "What does this image show?", now: 101)
                == SeedRegistration(newImages: 0, newTasks: 0))
        #expect(try store.registerSeedImages([image(1)], kind: "tags", question: "ignored", now: 102) == SeedRegistration(newImages: 0, newTasks: 1))
        #expect(throws: AnnotationError.unknownKind("ocr")) { try store.registerSeedImages([image(4)], kind: "ocr", question: nil, now: 1) }
        #expect(try column(store, "SELECT count(*) FROM images") as Int? == 3)

        let all = try store.nextAnnotationTasks(after: nil, limit: 10)
        #expect(all.map(\.id) == [1, 2, 3, 4])
        #expect(all[0] == AnnotationTask(id: 1, kind: "vqa", imageID: 1, imageRef: "/seed/img-1.png", imageStatus: "present",
                                         question: "What does this image show?", suggested: nil, origin: "seed_images", status: "open",
                                         createdAt: 100))
        #expect(all[3].kind == "tags" && all[3].question == nil && all[3].imageID == 1)
        #expect(try store.nextAnnotationTasks(after: 2, limit: 1).map(\.id) == [3])
        #expect(try store.nextAnnotationTasks(after: 4, limit: 10).isEmpty)
    }

    @Test func annotatingMakesApprovedSeedLabelSamples() throws {
        let store = try Store.inMemory()
        _ = try store.registerSeedImages([image(1), image(2), image(3)], kind: "vqa", question: "What is it?", now: 100)
        _ = try store.registerSeedImages([image(1)], kind: "tags", question: nil, now: 100)

        #expect(throws: AnnotationError.emptyAnswer) { try store.annotate(taskID: 1, answer: "  ", tags: nil, annotator: "ann", now: 200) }
        #expect(throws: AnnotationError.emptyAnswer) { try store.annotate(taskID: 1, answer: nil, tags: ["cat"], annotator: "ann", now: 200) }
        #expect(throws: AnnotationError.noTags) { try store.annotate(taskID: 4, answer: "cat", tags: [" ", ""], annotator: "ann", now: 200) }
        #expect(throws: AnnotationError.taskNotFound(9)) { try store.annotate(taskID: 9, answer: "x", tags: nil, annotator: "ann", now: 200) }
        #expect(try column(store, "SELECT count(*) FROM training_samples") as Int? == 0)

        let vqa = try store.annotate(taskID: 1, answer: " a red bicycle ", tags: nil, annotator: "ann", now: 200)
        let row = try #require(try store.samples(limit: 10).first { $0.id == vqa })
        #expect([row.source, row.quality, row.state, row.taskType, row.category] == ["seed_label", "high", "approved", "vqa", "unknown"])
        #expect(row.question == "What is it?" && row.correctAnswer == "a red bicycle" && row.wrongAnswer == nil)
        #expect(row.imageID == 1 && row.requestID == nil)
        let actions = try store.reviewActions(sampleID: vqa)
        #expect(actions.map(\.action) == ["annotate"])
        #expect(actions[0].reviewer == "ann" && actions[0].after == SampleSnapshot(state: "approved", correctAnswer: "a red bicycle", category: "unknown"))
        #expect(try column(store, "SELECT status || '|' || sample_id || '|' || annotator || '|' || done_at FROM annotation_tasks WHERE id = 1") as String?
                == "done|\(vqa)|ann|200")
        #expect(throws: AnnotationError.notOpen(1, status: "done")) { try store.annotate(taskID: 1, answer: "x", tags: nil, annotator: "bob", now: 201) }

        let tags = try store.annotate(taskID: 4, answer: nil, tags: ["bicycle", " street ", "bicycle"], annotator: "ann", now: 210)
        #expect(try store.sampleTags(sampleID: tags) == [SampleTag(tag: "bicycle", score: nil, verdict: "correct"),
                                                           SampleTag(tag: "street", score: nil, verdict: "correct")])
        #expect(try column(store, "SELECT task_type || '|' || correct_answer || '|' || state FROM training_samples WHERE id = ?", [tags]) as String?
                == "tags|bicycle, street|approved")
        #expect(try column(store, "SELECT after FROM review_actions WHERE sample_id = ?", [tags]) as String?
                == #"{"state":"approved","correct_answer":"bicycle, street","error_category":"unknown","tags":[{"tag":"bicycle","score":null,"verdict":"correct"},{"tag":"street","score":null,"verdict":"correct"}]}"#)

        try store.skipAnnotation(taskID: 2, annotator: "bob", now: 220)
        #expect(throws: AnnotationError.notOpen(2, status: "skipped")) { try store.skipAnnotation(taskID: 2, annotator: "bob", now: 221) }
        #expect(throws: AnnotationError.taskNotFound(42)) { try store.skipAnnotation(taskID: 42, annotator: "bob", now: 221) }
        #expect(try store.nextAnnotationTasks(after: nil, limit: 10).map(\.id) == [3])
    }

    @Test func progressCountsAndPace() throws {
        let store = try Store.inMemory()
        _ = try store.registerSeedImages((1...6).map { image($0) }, kind: "vqa", question: "q?", now: 0)
        let hour: Int64 = 3_600_000, now: Int64 = 100 * hour
        #expect(try store.annotationProgress(goal: 50, now: now) == AnnotationProgress(done: 0, open: 6, skipped: 0, goal: 50, lastHour: 0, perHour: nil))
        _ = try store.annotate(taskID: 1, answer: "a", tags: nil, annotator: "x", now: now - 30 * hour)  // outside the day
        _ = try store.annotate(taskID: 2, answer: "a", tags: nil, annotator: "x", now: now - 4 * hour)
        _ = try store.annotate(taskID: 3, answer: "a", tags: nil, annotator: "x", now: now - 2 * hour)
        _ = try store.annotate(taskID: 4, answer: "a", tags: nil, annotator: "x", now: now - hour / 2)
        try store.skipAnnotation(taskID: 5, annotator: "x", now: now - 60_000)
        // Three done in the last 24 h, the first 4 h ago: 0.75 an hour.
        #expect(try store.annotationProgress(goal: 50, now: now) == AnnotationProgress(done: 4, open: 1, skipped: 1, goal: 50, lastHour: 1, perHour: 0.75))
        // A burst within the hour counts over at least one hour.
        #expect(try store.annotationProgress(goal: 9, now: now - 4 * hour + 60_000)
                == AnnotationProgress(done: 4, open: 1, skipped: 1, goal: 9, lastHour: 1, perHour: 1.0))
        #expect(try store.annotationCounts().map { "\($0.kind) \($0.origin) \($0.status) \($0.count)" }
                == ["vqa seed_images done 4", "vqa seed_images open 1", "vqa seed_images skipped 1"])
    }
}

@Suite struct SyntheticSampleTests {
    @Test func augmentationCopiesReviewedSamplesOnceWithTheirTags() throws {
        let store = try Store.inMemory()
        func vqa(_ request: String, _ state: SampleState, question: String? = "这个数字是多少?", answer: String? = "78") -> NewSample {
            NewSample(source: .userCorrection, quality: .high, state: state, taskType: "vqa", question: question, wrongAnswer: "87",
                      correctAnswer: answer, category: .numberMisread, sessionID: "s1", requestID: request, questionTurnID: nil,
                      answerTurnID: nil, imageID: nil, evidence: nil, extraction: nil, model: "vlm", promptVersion: "vqa-v3")
        }
        _ = try store.insertSamples([vqa("r1", .approved), vqa("r2", .pending), vqa("r3", .fixed), vqa("r4", .approved, question: " "),
                                     vqa("r5", .rejected), vqa("r6", .approved, answer: nil)], now: 1)
        #expect(try store.augmentationSources(below: 2, limit: 10) == [
            AugmentationSource(sampleID: 1, question: "这个数字是多少?", derived: 0), AugmentationSource(sampleID: 3, question: "这个数字是多少?", derived: 0),
        ])
        let items: [(sourceID: Int64, question: String, note: String)] = [(1, "请问,这个数字是多少?", "n1"), (1, "这个数字是多少?", "same as source"),
                                                                          (1, "请问,这个数字是多少?", "dup"), (3, "帮我看一下,这个数字是多少?", "n3")]
        #expect(try store.insertSyntheticSamples(items, now: 50) == 2)
        #expect(try store.insertSyntheticSamples(items, now: 51) == 0)
        let row = try #require(try store.writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM training_samples WHERE derived_from = 1")
        })
        #expect(row["synthetic"] as Int64 == 1)
        #expect(row["state"] as String == "approved")
        #expect(row["source"] as String == "user_correction")
        #expect(row["question"] as String == "请问,这个数字是多少?")
        #expect(row["correct_answer"] as String == "78" && row["wrong_answer"] as String == "87")
        #expect(row["error_category"] as String == "number_misread" && row["request_id"] as String? == nil)
        #expect(row["evidence"] as String == "n1")
        #expect(try store.augmentationSources(below: 2, limit: 10).map(\.derived) == [1, 1])
        #expect(try store.augmentationSources(below: 1, limit: 10).isEmpty)
        // A synthetic sample is never a source itself.
        #expect(try store.insertSyntheticSamples([(7, "x?", "n")], now: 52) == 0)

        // Tags samples carry their tag rows over.
        _ = try store.insertTagSamples([tagSample("rec1", tags: [SampleTag(tag: "car", score: 0.9, verdict: "correct")], correct: "car")], now: 1)
        let tagID = try lastSampleID(store)
        try store.writer.write { db in try db.execute(sql: "UPDATE training_samples SET question = 'tags', state = 'approved' WHERE id = ?", arguments: [tagID]) }
        #expect(try store.insertSyntheticSamples([(tagID, "List the tags of this image.", "n")], now: 60) == 1)
        #expect(try store.sampleTags(sampleID: try lastSampleID(store)) == [SampleTag(tag: "car", score: 0.9, verdict: "correct")])
    }
}

import FlywheelCore
import FlywheelStore
import Foundation
import Testing

// flywheel seed-images, annotate-queue, annotations and augment, end to end through the binary.

private func png(width: UInt32, height: UInt32, salt: UInt8) -> Data {
    var d = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]) + Data("IHDR".utf8)
    for v in [width, height] { d += Data([UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]) }
    return d + Data([8, 2, 0, 0, 0, salt])
}

private func write(_ data: Data, _ path: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try data.write(to: URL(fileURLWithPath: path))
}

@Suite struct SeedAnnotateCLITests {
    @Test func seedImagesRegistersImagesByContentOncePerKind() throws {
        let dir = tempDir()
        let db = dir + "/db.sqlite"
        let images = dir + "/seed"
        try write(png(width: 640, height: 480, salt: 1), images + "/a.png")
        try write(Data("GIF89a".utf8) + Data([0x20, 0x00, 0x10, 0x00, 0, 0]), images + "/b.gif")
        try write(Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]) + Data("JFIF".utf8), images + "/c.jpeg")
        try write(png(width: 640, height: 480, salt: 1), images + "/a-copy.bin")  // same bytes, odd name: same image
        try write(Data("just notes".utf8), images + "/notes.txt")
        try write(Data("not really a png".utf8), images + "/fake.png")
        try write(png(width: 1, height: 1, salt: 9), images + "/.hidden.png")
        try write(png(width: 10, height: 20, salt: 2), images + "/sub/d.png")

        let first = try flywheel(["seed-images", images, "--db", db])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == """
            4 images found (3 new to the store): 3 new vqa annotation tasks
            skipped 2 files that are not PNG, JPEG, GIF or WebP images

            """)
        let again = try flywheel(["seed-images", images, "--db", db])
        #expect(again.stdout.hasPrefix("4 images found (0 new to the store): 0 new vqa annotation tasks\n"))
        let deep = try flywheel(["seed-images", images, "--recursive", "--db", db])
        #expect(deep.stdout.hasPrefix("5 images found (1 new to the store): 1 new vqa annotation tasks\n"))
        let tags = try flywheel(["seed-images", images, "--kind", "tags", "--db", db])
        #expect(tags.stdout.hasPrefix("4 images found (0 new to the store): 3 new tags annotation tasks\n"))

        #expect(try flywheel(["seed-images", images, "--kind", "tags", "--question", "q", "--db", db]).status == 64)
        #expect(try flywheel(["seed-images", images, "--kind", "ocr", "--db", db]).status == 64)
        let missing = try flywheel(["seed-images", dir + "/nope", "--db", db])
        #expect(missing.status == 1 && missing.stderr.contains("is not a folder"))

        let store = try Store.open(path: db)
        let open = try store.nextAnnotationTasks(after: nil, limit: 100)
        #expect(open.map(\.kind) == ["vqa", "vqa", "vqa", "vqa", "tags", "tags", "tags"])
        #expect(open.filter { $0.kind == "vqa" }.allSatisfy { $0.question == "What does this image show?" && $0.origin == "seed_images" })
        #expect(open.allSatisfy { $0.imageStatus == "present" })
        // Sorted paths: a-copy.bin comes first and names the picture a.png shares.
        #expect(open[0].imageRef == images + "/a-copy.bin")
        let aID = try #require(open[0].imageID), bID = try #require(open[1].imageID)
        let a = try #require(try store.imageFile(id: aID))
        #expect(a.width == 640 && a.height == 480 && a.format == "png" && a.key.hasPrefix("sha256:"))
        let b = try #require(try store.imageFile(id: bID))
        #expect(b.width == 32 && b.height == 16 && b.format == "gif")

        let custom = try flywheel(["seed-images", images + "/sub", "--question", "Which shape is it?", "--kind", "vqa", "--db", dir + "/other.sqlite"])
        #expect(custom.stdout == "1 images found (1 new to the store): 1 new vqa annotation tasks\n")
        #expect(try Store.open(path: dir + "/other.sqlite").nextAnnotationTasks(after: nil, limit: 5).map(\.question) == ["Which shape is it?"])

        let progress = try flywheel(["annotations", "--goal", "10", "--limit", "2", "--db", db])
        #expect(progress.status == 0)
        let lines = progress.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "annotation: 0/10 done, 7 open, 0 skipped; last hour 0")
        #expect(lines[3].hasPrefix("tags   seed_images      open     3"))
        #expect(lines[4].hasPrefix("vqa    seed_images      open     4"))
        #expect(lines[6] == "next open tasks:")
        #expect(lines.count == 12)  // progress, 2+2 table lines, blank, heading, 2 + 2 task lines, final newline

        _ = try store.annotate(taskID: open[0].id, answer: "a test card", tags: nil, annotator: "ann", now: nowMs())
        try store.skipAnnotation(taskID: open[1].id, annotator: "ann", now: nowMs())
        let after = try flywheel(["annotations", "--goal", "10", "--db", db]).stdout
        #expect(after.hasPrefix("annotation: 1/10 done, 5 open, 1 skipped; last hour 1, 1.0 per hour (goal in about 9.0 h)\n"))
    }

    @Test func emptyAnnotationsAndQueueUsage() throws {
        let db = tempDir() + "/db.sqlite"
        let r = try flywheel(["annotations", "--db", db])
        #expect(r.stdout == "annotation: 0/200 done, 0 open, 0 skipped; last hour 0\nNo annotation tasks yet: flywheel seed-images DIR, or flywheel annotate-queue --from-turns.\n")
        let usage = try flywheel(["annotate-queue", "--db", db])
        #expect(usage.status == 64 && usage.stderr.contains("--from-turns"))
    }

    @Test func demoTagSamplesAndQueuedTurns() throws {
        let db = tempDir() + "/demo.sqlite"
        #expect(try flywheel(["demo", "--db", db, "--no-console"]).status == 0)
        let store = try Store.open(path: db)
        let samples = try store.samples(limit: 10_000)
        #expect(samples.count == 216)
        let tags = samples.filter { $0.taskType == "tags" }
        #expect(tags.count == 56)
        #expect(tags.allSatisfy { $0.source == "user_correction" && $0.state == "pending" && $0.quality == "high" })
        #expect(samples.filter { $0.source == "error_log" }.count == 2)
        let verdicts = try tags.flatMap { try store.sampleTags(sampleID: $0.id).map(\.verdict) }
        #expect(verdicts.filter { $0 == "correct" }.count == 229)
        #expect(verdicts.filter { $0 == "wrong" }.count == 23)
        #expect(verdicts.filter { $0 == "missing" }.count == 14)

        let q = try flywheel(["annotate-queue", "--from-turns", "--limit", "5", "--db", db])
        #expect(q.stdout == "queued 5 answered turns without feedback as vqa annotation tasks\n")
        let tasks = try store.nextAnnotationTasks(after: nil, limit: 10)
        #expect(tasks.count == 5 && tasks.allSatisfy { $0.origin == "unlabelled_turn" && $0.question != nil && $0.suggested != nil })
        let more = try flywheel(["annotate-queue", "--from-turns", "--db", db])
        #expect(more.status == 0 && !more.stdout.hasPrefix("queued 0 "))
        let rest = try flywheel(["annotate-queue", "--from-turns", "--limit", "100000", "--db", db])
        let again = try flywheel(["annotate-queue", "--from-turns", "--db", db])
        #expect(rest.status == 0 && again.stdout == "queued 0 answered turns without feedback as vqa annotation tasks\n")
    }

    @Test func augmentDerivesSyntheticSamplesOnce() throws {
        let db = tempDir() + "/db.sqlite"
        let store = try Store.open(path: db)
        func sample(_ request: String, _ question: String) -> NewSample {
            NewSample(source: .userCorrection, quality: .high, state: .pending, taskType: "vqa", question: question, wrongAnswer: "87",
                      correctAnswer: "78", category: .numberMisread, sessionID: "s", requestID: request, questionTurnID: nil,
                      answerTurnID: nil, imageID: nil, evidence: nil, extraction: nil, model: nil, promptVersion: nil)
        }
        #expect(try store.insertSamples([sample("r1", "这个数字是多少?"), sample("r2", "What is the total?"), sample("r3", "Pending?")], now: 1) == 3)
        _ = try store.review(sampleID: 1, decision: .approve, reviewer: "r", now: 2)
        _ = try store.review(sampleID: 2, decision: .fix(correctAnswer: "14.36"), reviewer: "r", now: 2)

        let first = try flywheel(["augment", "--db", db])
        #expect(first.stdout == "4 synthetic samples from 2 reviewed samples\n")
        #expect(try flywheel(["augment", "--db", db]).stdout == "0 synthetic samples from 0 reviewed samples\n")
        #expect(try flywheel(["augment", "--per-sample", "3", "--limit", "1", "--db", db]).stdout == "1 synthetic samples from 1 reviewed samples\n")
        #expect(try flywheel(["augment", "--per-sample", "7", "--db", db]).status == 64)

        let rows = try store.samples(limit: 100).filter { $0.id > 3 }.sorted { $0.id < $1.id }
        #expect(rows.map(\.question) == ["请看图回答:这个数字是多少?", "请问,这个数字是多少?",
                                         "Please answer based on the image: What is the total?", "Looking at this picture, what is the total?",
                                         "根据这张图片,这个数字是多少?"])
        #expect(rows.map(\.correctAnswer) == ["78", "78", "14.36", "14.36", "78"])
        #expect(rows.allSatisfy { $0.state == "approved" && $0.source == "user_correction" && $0.requestID == nil })
        #expect(rows[0].evidence == "paraphrase of sample 1 (template zh-1)")
    }
}

private func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

import FlywheelCore
import FlywheelStore
import Foundation
import Testing

// flywheel export: every format read back and checked against ../shared/spec/exports.md, the split, the
// de-duplication, synthetic samples, filters and the manifest.
//
// The fixture: 40 sessions with two answered questions each, an image on every user turn (three real PNGs) and
// an explicit correction per answer, so `analyze` makes 80 user_correction samples. Then reviews: r1 of sessions
// 9, 19, 29, 39 rejected; r1 of sessions i % 5 == 2 fixed ("fixed <i>"); session 39's r2 left pending; the rest
// approved. Session 38's r2 is marked synthetic. Session 3's r1 asks session 0's r1 question ("What is the total?")
// about the same picture, spelt differently: a duplicate. Three image-tagging samples (created in 2023) are
// bulk-loaded: two on one picture (one line), one on another.
// Exportable question-answer samples: 80 - 4 rejected - 1 pending - 1 synthetic - 1 duplicate = 73.

struct ExportFixture {
    var dir: String
    var db: String
    var images: [String]
    var tagImages: [String]
}

private func readLines(_ path: String) throws -> [String] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.isEmpty || text.utf8.last == 0x0A)
    // Split on the byte: a CRLF is one Character to Swift.
    return text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
}

private func jsonObject(_ line: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not an object: \(line)")
}

private func sha256(_ path: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["sha256sum", path]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
}

/// RFC 4180 records (quoted fields with doubled quotes, CRLF or LF line ends).
func parseCSV(_ text: String) -> [[String]] {
    var records: [[String]] = [], record: [String] = [], field = ""
    var quoted = false, i = text.startIndex
    while i < text.endIndex {
        let c = text[i]
        if quoted {
            if c == "\"" {
                let next = text.index(after: i)
                if next < text.endIndex && text[next] == "\"" { field.append("\""); i = next } else { quoted = false }
            } else { field.append(c) }
        } else if c == "\"" {
            quoted = true
        } else if c == "," {
            record.append(field); field = ""
        } else if c == "\r\n" || c == "\n" {
            record.append(field); records.append(record); record = []; field = ""
        } else {
            field.append(c)
        }
        i = text.index(after: i)
    }
    if !field.isEmpty || !record.isEmpty { record.append(field); records.append(record) }
    return records
}

@Suite(.serialized) struct ExportTests {
    static let fixture: ExportFixture = try! makeFixture()

    static func makeFixture() throws -> ExportFixture {
        let dir = tempDir()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        try FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
        var images: [String] = []
        for name in ["receipt-0006.png", "shape-0005.png", "street-0001.png", "meter-0001.png", "meter-0002.png"] {
            try FileManager.default.copyItem(atPath: root.appendingPathComponent("sample-data/images/\(name)").path, toPath: dir + "/images/" + name)
            images.append(dir + "/images/" + name)
        }
        var lines: [String] = []
        var t = 1_777_593_600  // 2026-05-01T00:00:00Z
        func ts() -> String { t += 5; return "\"" + Timestamp.format(millis: Int64(t) * 1000).replacingOccurrences(of: ".000", with: "") + "\"" }
        for i in 0..<40 {
            let s = "x\(i)"
            for r in 1...2 {
                let rid = "\(s)-r\(r)"
                let image = "images/" + URL(fileURLWithPath: images[i % 3]).lastPathComponent
                var question = "Question \(i) number \(r)?"
                if r == 1 && i == 0 { question = "What is the total?" }
                if r == 1 && i == 3 { question = "  what is the  TOTAL? " }
                if r == 1 && i == 1 { question = "Say \"hi\", then\nstop" }
                lines.append(#"{"type":"turn","event_id":"\#(rid)-q","session_id":"\#(s)","user_id":"u1","turn_index":\#(2 * r - 2),"role":"user","content":\#(jsonQuoted(question)),"request_id":"\#(rid)","ts":\#(ts()),"image":{"ref":"\#(image)"}}"#)
                let (wrong, right) = i % 4 == 1 ? ("It is a red circle.", "blue square") : ("\(80 + i)", "\(10 + i)")
                lines.append(#"{"type":"turn","event_id":"\#(rid)-a","session_id":"\#(s)","user_id":"u1","turn_index":\#(2 * r - 1),"role":"assistant","content":"\#(wrong)","request_id":"\#(rid)","ts":\#(ts()),"response_ms":900,"model":"vlm-prod"}"#)
                lines.append(#"{"type":"feedback","event_id":"\#(rid)-f","session_id":"\#(s)","request_id":"\#(rid)","user_id":"u1","kind":"correction","corrected_response":"\#(right)","ts":\#(ts())}"#)
            }
            lines.append(#"{"type":"session_end","event_id":"\#(s)-end","session_id":"\#(s)","ts":\#(ts())}"#)
        }
        let events = dir + "/events.jsonl"
        try (lines.joined(separator: "\n") + "\n").write(toFile: events, atomically: true, encoding: .utf8)
        let db = dir + "/db.sqlite"
        let ingest = try flywheel(["ingest", "--json", "--db", db, events])
        precondition(ingest.status == 0 && ingest.stdout.contains("\"quarantined\":0"), "ingest: \(ingest.stdout) \(ingest.stderr)")
        let analyze = try flywheel(["analyze", "--no-llm", "--db", db])
        precondition(analyze.status == 0, "analyze: \(analyze.stderr)")

        let store = try Store.open(path: db)
        let now: Int64 = 1_780_000_000_000
        for i in 0..<40 {
            for r in 1...2 {
                let id = try store.sampleID(requestID: "x\(i)-r\(r)", source: .userCorrection)!
                if i == 39 && r == 2 { continue }
                let decision: ReviewDecision = r == 1 && i % 10 == 9 ? .reject : r == 1 && i % 5 == 2 ? .fix(correctAnswer: "fixed \(i)") : .approve
                _ = try store.review(sampleID: id, decision: decision, reviewer: "tester", now: now)
            }
        }
        try store.markSampleSynthetic(sampleID: try store.sampleID(requestID: "x38-r2", source: .userCorrection)!, derivedFrom: nil)

        // Image-tagging samples, created 2023-11-14.
        let tagImages = [images[3], images[4]]
        func tagSample(_ n: Int, quality: SampleQuality) -> Store.BulkSample {
            Store.BulkSample(sample: NewSample(source: .seedLabel, quality: quality, state: .approved, taskType: "tags", question: nil,
                                               wrongAnswer: nil, correctAnswer: nil, category: .visualUnderstandingError, sessionID: nil,
                                               requestID: "tag-\(n)", questionTurnID: nil, answerTurnID: nil, imageID: nil, evidence: nil,
                                               extraction: nil, model: "ram", promptVersion: nil),
                             imageRef: tagImages[n == 3 ? 1 : 0], imagePath: tagImages[n == 3 ? 1 : 0])
        }
        try store.bulkInsertSamples([tagSample(1, quality: .medium), tagSample(2, quality: .medium), tagSample(3, quality: .low)],
                                    now: 1_700_000_000_000)
        try store.setSampleTags(sampleID: try store.sampleID(requestID: "tag-1", source: .seedLabel)!, [
            SampleTag(tag: "car", score: 0.9, verdict: "correct"), SampleTag(tag: "dog", score: 0.4, verdict: "wrong"),
            SampleTag(tag: "tree", score: 0.6, verdict: "unreviewed"), SampleTag(tag: "bicycle", score: nil, verdict: "missing"),
        ])
        try store.setSampleTags(sampleID: try store.sampleID(requestID: "tag-2", source: .seedLabel)!, [SampleTag(tag: "cat", score: 0.7, verdict: "correct")])
        try store.setSampleTags(sampleID: try store.sampleID(requestID: "tag-3", source: .seedLabel)!, [SampleTag(tag: "sky", score: 0.8, verdict: "correct")])
        return ExportFixture(dir: dir, db: db, images: images, tagImages: tagImages)
    }

    func export(_ args: [String]) throws -> [String: Any] {
        let r = try flywheel(["export", "--json", "--db", Self.fixture.db] + args)
        try #require(r.status == 0, "exit \(r.status): \(r.stderr)")
        return try lastJSON(r.stdout)
    }

    func out(_ name: String) -> String { Self.fixture.dir + "/out/" + name }

    /// The manifest agrees with the files: rows, bytes and SHA-256; counts add up.
    func checkManifest(_ path: String, format: String, samples: Int) throws -> [String: Any] {
        let m = try jsonObject(try String(contentsOfFile: path + ".manifest.json", encoding: .utf8))
        #expect(m["format"] as? String == format)
        let counts = try #require(m["counts"] as? [String: Any])
        #expect(counts["samples"] as? Int == samples)
        for key in ["by_split", "by_category", "by_source"] {
            #expect((counts[key] as? [String: Int])?.values.reduce(0, +) == samples, "\(key)")
        }
        let files = try #require(m["files"] as? [[String: Any]])
        for f in files {
            let p = try #require(f["path"] as? String)
            #expect(f["sha256"] as? String == (try sha256(p)))
            #expect(f["bytes"] as? Int == (try FileManager.default.attributesOfItem(atPath: p)[.size] as? Int))
            let lines = format == "csv" ? parseCSV(try String(contentsOfFile: p, encoding: .utf8)).count - 1 : try readLines(p).count
            #expect(f["rows"] as? Int == lines)
        }
        #expect(files.compactMap { $0["rows"] as? Int }.reduce(0, +) == samples)
        let filter = try #require(m["filter"] as? [String: Any])
        #expect(filter["states"] as? [String] == ["approved", "fixed"])
        return m
    }

    @Test func openAIChatLinesAreConversationsWithTheImageAndTheCorrectAnswer() throws {
        let path = out("chat.jsonl")
        let summary = try export(["--format", "openai-chat", "--out", path])
        #expect(summary["samples"] as? Int == 73)
        #expect(summary["duplicates"] as? Int == 1)
        let lines = try readLines(path)
        #expect(lines.count == 73)
        var answers: Set<String> = []
        for line in lines {
            let o = try jsonObject(line)
            #expect(o.keys.sorted() == ["messages"])
            let messages = try #require(o["messages"] as? [[String: Any]])
            #expect(messages.map { $0["role"] as? String } == ["user", "assistant"])
            let parts = try #require(messages[0]["content"] as? [[String: Any]])
            #expect(parts.map { $0["type"] as? String } == ["image_url", "text"])
            let url = try #require((parts[0]["image_url"] as? [String: Any])?["url"] as? String)
            #expect(Self.fixture.images.contains(url))
            #expect(!((parts[1]["text"] as? String) ?? "").isEmpty)
            answers.insert(try #require(messages[1]["content"] as? String))
        }
        // Fixed samples carry the reviewer's answer; the duplicate question appears once.
        #expect(answers.contains("fixed 2") && answers.contains("fixed 37") && !answers.contains("fixed 39"))
        #expect(lines.filter { $0.lowercased().contains("what is the") }.count == 1)
        _ = try checkManifest(path, format: "openai-chat", samples: 73)
    }

    @Test func embeddedImagesAreBase64DataURLsOfTheFile() throws {
        let path = out("embedded.jsonl")
        #expect(try export(["--format", "openai-chat", "--out", path, "--embed-images"])["samples"] as? Int == 73)
        let first = try jsonObject(try readLines(path)[0])
        let parts = ((first["messages"] as? [[String: Any]])?[0]["content"] as? [[String: Any]]) ?? []
        let url = try #require((parts.first?["image_url"] as? [String: Any])?["url"] as? String)
        #expect(url.hasPrefix("data:image/png;base64,"))
        let bytes = try #require(Data(base64Encoded: String(url.dropFirst("data:image/png;base64,".count))))
        #expect(Self.fixture.images.contains { FileManager.default.contents(atPath: $0) == bytes })
    }

    @Test func dpoLinesArePreferencePairsInTRLsConversationalForm() throws {
        let path = out("pairs.jsonl")
        #expect(try export(["--format", "dpo", "--out", path])["samples"] as? Int == 73)
        let lines = try readLines(path)
        #expect(lines.count == 73)
        for line in lines {
            let o = try jsonObject(line)
            #expect(o.keys.sorted() == ["chosen", "images", "prompt", "rejected"])
            let prompt = try #require(o["prompt"] as? [[String: Any]])
            #expect(prompt.count == 1 && prompt[0]["role"] as? String == "user")
            let parts = try #require(prompt[0]["content"] as? [[String: Any]])
            #expect(parts.map { $0["type"] as? String } == ["image", "text"])
            let images = try #require(o["images"] as? [String])
            #expect(images.count == parts.filter { $0["type"] as? String == "image" }.count)
            #expect(images.allSatisfy(Self.fixture.images.contains))
            func text(_ key: String) throws -> String {
                let m = try #require(o[key] as? [[String: Any]])
                #expect(m.count == 1 && m[0]["role"] as? String == "assistant")
                let c = try #require(m[0]["content"] as? [[String: Any]])
                return try #require(c.first?["text"] as? String)
            }
            let chosen = try text("chosen"), rejected = try text("rejected")
            #expect(chosen != rejected)
            #expect(rejected == "It is a red circle." || Int(rejected).map { $0 >= 80 } == true)
        }
        _ = try checkManifest(path, format: "dpo", samples: 73)
    }

    @Test func tagsLinesAreOnePerImageWithCorrectedTags() throws {
        let path = out("tags.jsonl")
        let summary = try export(["--format", "tags", "--out", path])
        #expect(summary["samples"] as? Int == 2)
        #expect(summary["duplicates"] as? Int == 1)
        let lines = try readLines(path).map(jsonObject)
        #expect(lines.map { $0["image"] as? String } == Self.fixture.tagImages)
        // Model tags minus the wrong one, plus the missing one; scores for the model's tags.
        #expect(lines[0]["tags"] as? [String] == ["car", "tree", "bicycle"])
        #expect(lines[0]["scores"] as? [String: Double] == ["car": 0.9, "tree": 0.6])
        #expect(lines[1]["tags"] as? [String] == ["sky"])
        _ = try checkManifest(path, format: "tags", samples: 2)
    }

    @Test func csvIsRFC4180WithAHeader() throws {
        let path = out("table.csv")
        #expect(try export(["--format", "csv", "--out", path])["samples"] as? Int == 75)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix("\r\n"))
        let records = parseCSV(text)
        #expect(records.count == 76)
        #expect(records[0] == ExportLine.csvHeader)
        #expect(records.allSatisfy { $0.count == ExportLine.csvHeader.count })
        let q = ExportLine.csvHeader.firstIndex(of: "question")!
        #expect(records.contains { $0[q] == "Say \"hi\", then\nstop" })
        #expect(text.contains("\"Say \"\"hi\"\", then\nstop\""))
        let tags = ExportLine.csvHeader.firstIndex(of: "tags")!
        #expect(records.contains { $0[tags] == "car; tree; bicycle" })
        _ = try checkManifest(path, format: "csv", samples: 75)
    }

    @Test func splitKeepsEverySessionOnOneSideAndFollowsTheSeed() throws {
        let path = out("split.csv")
        let summary = try export(["--format", "csv", "--out", path, "--split", "0.7", "--seed", "7"])
        let bySplit = try #require(summary["by_split"] as? [String: Int])
        #expect(bySplit.values.reduce(0, +) == 75)
        #expect(bySplit["train"]! > bySplit["validation"]! && bySplit["validation"]! > 0)
        let session = ExportLine.csvHeader.firstIndex(of: "session_id")!
        func sessions(_ side: String) throws -> Set<String> {
            let records = parseCSV(try String(contentsOfFile: out("split-\(side).csv"), encoding: .utf8)).dropFirst()
            #expect(records.count == bySplit[side])
            return Set(records.map { $0[session] }.filter { !$0.isEmpty })
        }
        let train = try sessions("train"), validation = try sessions("validation")
        #expect(train.isDisjoint(with: validation))
        #expect(train.count + validation.count == 39)  // session 39 has nothing approved
        // Every session with two exported samples has both on its side.
        let m = try checkManifest(path, format: "csv", samples: 75)
        #expect((m["filter"] as? [String: Any])?["seed"] as? Int == 7)

        // The same seed gives the same files; another seed another split.
        let again = out("again.csv")
        _ = try export(["--format", "csv", "--out", again, "--split", "0.7", "--seed", "7"])
        for side in ["train", "validation"] {
            #expect(try sha256(out("split-\(side).csv")) == (try sha256(out("again-\(side).csv"))))
        }
        let other = out("other.csv")
        _ = try export(["--format", "csv", "--out", other, "--split", "0.7", "--seed", "8"])
        #expect(try sha256(out("split-train.csv")) != (try sha256(out("other-train.csv"))))
    }

    @Test func syntheticSamplesOnlyWhenAsked() throws {
        #expect(try export(["--format", "openai-chat", "--out", out("nosyn.jsonl")])["samples"] as? Int == 73)
        let with = try export(["--format", "openai-chat", "--out", out("syn.jsonl"), "--include-synthetic"])
        #expect(with["samples"] as? Int == 74)
        #expect(try readLines(out("syn.jsonl")).contains { $0.contains("Question 38 number 2?") })
        #expect(try !readLines(out("nosyn.jsonl")).contains { $0.contains("Question 38 number 2?") })
    }

    @Test func filtersByCategoryQualityAndDate() throws {
        let all = parseCSV(try String(contentsOfFile: out("table.csv"), encoding: .utf8)).dropFirst()
        let category = ExportLine.csvHeader.firstIndex(of: "category")!
        let visual = all.filter { $0[category] == "visual_understanding_error" }.count
        #expect(visual > 0)
        #expect(try export(["--format", "csv", "--out", out("cat.csv"), "--category", "visual_understanding_error"])["samples"] as? Int == visual)
        #expect(try export(["--format", "csv", "--out", out("q.csv"), "--min-quality", "high"])["samples"] as? Int == 73)
        #expect(try export(["--format", "csv", "--out", out("qm.csv"), "--min-quality", "medium"])["samples"] as? Int == 74)
        #expect(try export(["--format", "csv", "--out", out("since.csv"), "--since", "2024-01-01"])["samples"] as? Int == 73)
        #expect(try export(["--format", "csv", "--out", out("future.csv"), "--since", "2099-01-01T00:00:00Z"])["samples"] as? Int == 0)
        let m = try jsonObject(try String(contentsOfFile: out("since.csv") + ".manifest.json", encoding: .utf8))
        #expect((m["filter"] as? [String: Any])?["since"] as? String == "2024-01-01T00:00:00Z")
    }

    @Test func usageErrors() throws {
        for args in [["--format", "parquet", "--out", out("x")], ["--format", "csv", "--out", out("x"), "--split", "1.5"],
                     ["--format", "csv", "--out", out("x"), "--embed-images"], ["--format", "csv", "--out", out("x"), "--since", "yesterday"],
                     ["--format", "csv"]] {
            let r = try flywheel(["export", "--db", Self.fixture.db] + args)
            #expect(r.status == 64, "\(args)")
        }
        #expect(!FileManager.default.fileExists(atPath: out("x")))
    }
}

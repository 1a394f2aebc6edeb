import FlywheelCore
import Foundation
import Testing

struct ExportFormatTests {
    let sample = ExportSample(id: 7, source: "user_correction", quality: "high", state: "fixed", taskType: "vqa",
                              category: "number_misread", question: "总金额是多少?\n\"total\"", wrongAnswer: "87", correctAnswer: "78",
                              sessionID: "s1", requestID: "s1-r1", createdAt: 1_777_593_600_000)

    func object(_ line: String) throws -> [String: Any] {
        #expect(!line.contains("\n"))
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func openAIChatShape() throws {
        let o = try object(ExportLine.openAIChat(sample, imageURL: "/img/a.png"))
        let m = try #require(o["messages"] as? [[String: Any]])
        #expect(m.count == 2)
        let parts = try #require(m[0]["content"] as? [[String: Any]])
        #expect((parts[0]["image_url"] as? [String: String])?["url"] == "/img/a.png")
        #expect(parts[1]["text"] as? String == "总金额是多少?\n\"total\"")
        #expect(m[1]["content"] as? String == "78")
        // Without an image: the text part only.
        let noImage = try object(ExportLine.openAIChat(sample, imageURL: nil))
        #expect(((noImage["messages"] as? [[String: Any]])?[0]["content"] as? [[String: Any]])?.count == 1)
    }

    @Test func dpoShapeWithoutImage() throws {
        let o = try object(ExportLine.dpo(sample, imageURL: nil))
        #expect(o["images"] as? [String] == [])
        let parts = ((o["prompt"] as? [[String: Any]])?[0]["content"] as? [[String: Any]]) ?? []
        #expect(parts.map { $0["type"] as? String } == ["text"])
    }

    @Test func correctedTags() {
        let tags = [SampleTag(tag: "b", score: 0.5, verdict: "unreviewed"), SampleTag(tag: "a", score: 0.5, verdict: "correct"),
                    SampleTag(tag: "z", score: 0.9, verdict: "wrong"), SampleTag(tag: "m", score: nil, verdict: "missing"),
                    SampleTag(tag: "c", score: 0.8, verdict: "correct"), SampleTag(tag: "d", score: nil, verdict: "missing")]
        #expect(ExportLine.correctedTags(tags).map(\.tag) == ["c", "a", "b", "d", "m"])
        #expect(ExportLine.tags(ExportSample(id: 1, source: "seed_label", quality: "low", state: "approved", taskType: "tags",
                                             category: "unknown", question: nil, wrongAnswer: nil, correctAnswer: nil, sessionID: nil,
                                             requestID: nil, createdAt: 0, tags: tags), imageURL: "x.png")
                == #"{"image":"x.png","tags":["c","a","b","d","m"],"scores":{"c":0.8,"a":0.5,"b":0.5}}"#)
    }

    @Test func csvQuoting() {
        #expect(ExportLine.csvField("plain 文字") == "plain 文字")
        #expect(ExportLine.csvField("a,b") == "\"a,b\"")
        #expect(ExportLine.csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(ExportLine.csvField("two\nlines") == "\"two\nlines\"")
        #expect(ExportLine.csvField("cr\r") == "\"cr\r\"")
        #expect(ExportLine.csv(sample, split: "train", image: "/a,b.png")
                == "7,train,user_correction,high,fixed,number_misread,vqa,s1,s1-r1,\"/a,b.png\",\"总金额是多少?\n\"\"total\"\"\",87,78,,2026-05-01T00:00:00Z,1.0000")
    }

    @Test func splitIsDeterministicAndNearTheRatio() {
        #expect(ExportSplit.fraction(seed: 1, key: "s:a") == ExportSplit.fraction(seed: 1, key: "s:a"))
        #expect(ExportSplit.fraction(seed: 1, key: "s:a") != ExportSplit.fraction(seed: 2, key: "s:a"))
        let train = (0..<10_000).filter { ExportSplit.side(seed: 42, key: "s:\($0)", ratio: 0.9) == "train" }.count
        #expect(abs(train - 9000) < 200)
        let f = (0..<1000).map { ExportSplit.fraction(seed: 0, key: "\($0)") }
        #expect(f.allSatisfy { $0 >= 0 && $0 < 1 })
        // Samples without a session go by request, then by id.
        var s = sample
        s.sessionID = nil
        #expect(s.splitKey == "r:s1-r1")
        s.requestID = ""
        #expect(s.splitKey == "id:7")
    }

    @Test func splitAndManifestPaths() {
        #expect(ExportSplit.path("out/chat.jsonl", split: "train") == "out/chat-train.jsonl")
        #expect(ExportSplit.path("out.d/data", split: "validation") == "out.d/data-validation")
        #expect(ExportSplit.path(".hidden", split: "train") == ".hidden-train")
        #expect(ExportSplit.manifestPath("out/chat.jsonl") == "out/chat.jsonl.manifest.json")
    }

    @Test func questionNormalisation() {
        #expect(normalizedExportQuestion("  What is  the\tTOTAL? ") == "what is the total?")
        #expect(normalizedExportQuestion("总金额\u{3000}是多少") == "总金额 是多少")
        #expect(normalizedExportQuestion(nil) == "")
    }
}

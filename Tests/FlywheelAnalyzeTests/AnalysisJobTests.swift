import Foundation
import FlywheelTestSupport
import GRDB
import Testing
@testable import FlywheelAnalyze
@testable import FlywheelCore
@testable import FlywheelIngest
@testable import FlywheelLLM
@testable import FlywheelStore

/// Builds a store from event lines (ingested through the real pipeline).
func store(_ lines: [String]) throws -> Store {
    let dir = NSTemporaryDirectory() + "flywheel-analyze-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/e.jsonl", atomically: true, encoding: .utf8)
    let s = try Store.open(path: dir + "/db.sqlite")
    let r = Ingestor(store: s).ingest(path: dir + "/e.jsonl")
    precondition(r.counts.quarantined == 0, "test events must be valid")
    return s
}

var nextTs = 1_777_593_600_000 as Int64
func turn(_ session: String, _ index: Int, _ role: String, _ content: String, request: Int, ms: Int? = nil, image: String? = nil, ts: Int64? = nil) -> String {
    nextTs += 5000
    let t = ts ?? nextTs
    var s = #"{"type":"turn","event_id":"\#(session)-t\#(index)","session_id":"\#(session)","user_id":"u1","turn_index":\#(index),"role":"\#(role)","content":\#(jsonQuoted(content)),"request_id":"\#(session)-r\#(request)","ts":"\#(Timestamp.format(millis: t))""#
    if let ms { s += #","response_ms":\#(ms),"model":"vlm-prod","prompt_version":"vqa-v3""# }
    if let image { s += #","image":{"ref":"\#(image)"}"# }
    return s + "}"
}
func end(_ session: String) -> String {
    #"{"type":"session_end","event_id":"\#(session)-end","session_id":"\#(session)","ts":"\#(Timestamp.format(millis: nextTs + 1000))"}"#
}
func feedback(_ id: String, _ request: String, _ kind: String, corrected: String? = nil) -> String {
    var s = #"{"type":"feedback","event_id":"\#(id)","request_id":"\#(request)","kind":"\#(kind)","ts":"\#(Timestamp.format(millis: nextTs))""#
    if let corrected { s += #","corrected_response":\#(jsonQuoted(corrected))"# }
    return s + "}"
}

func samples(_ s: Store) throws -> [SampleRow] { try s.samples(limit: 1000) }

@Suite(.serialized) struct AnalysisJobTests {
    let conversation = [
        turn("a", 0, "user", "这个数字是多少?", request: 1, image: "images/receipt.png"), turn("a", 1, "assistant", "87", request: 1, ms: 900),
        turn("a", 2, "user", "不对,是78", request: 2), turn("a", 3, "assistant", "抱歉,是78。", request: 2, ms: 16_000),
        end("a"),
        turn("b", 0, "user", "What does the sign say?", request: 1), turn("b", 1, "assistant", "It says STOP.", request: 1, ms: 800),
        turn("b", 2, "user", "wrong", request: 2), turn("b", 3, "assistant", "Sorry, it says SHOP.", request: 2, ms: 800),
        end("b"),
        #"{"type":"error_log","event_id":"e1","request_id":"b-r1","kind":"format_error","detail":"expected JSON","ts":"2026-05-01T02:00:00Z"}"#,
    ]

    @Test func signalsAndSamplesAndIdempotence() throws {
        let s = try store(conversation)
        let first = try AnalysisJob(store: s).run()
        #expect(first.sessions == 2)
        let kinds = try s.signals(limit: 100).map { "\($0.requestID) \($0.kind)" }.sorted()
        #expect(kinds == ["a-r1 correction", "a-r2 slow_response", "b-r1 correction", "b-r1 error_log"])
        let rows = try samples(s)
        #expect(rows.count == 2)
        let a = try #require(rows.first { $0.requestID == "a-r1" })
        #expect(a.source == "implicit_correction")
        #expect(a.quality == "medium")
        #expect(a.state == "pending")
        #expect(a.question == "这个数字是多少?")
        #expect(a.wrongAnswer == "87")
        #expect(a.correctAnswer == "78")
        #expect(a.category == "number_misread")
        #expect(a.imageID != nil)
        #expect(a.signalID != nil)
        // A bare "wrong", then the assistant's revision that nobody objects to: the revision is the answer.
        let b = try #require(rows.first { $0.requestID == "b-r1" })
        #expect(b.state == "pending")
        #expect(b.correctAnswer == "SHOP")
        #expect(b.category == "visual_understanding_error")

        let again = try AnalysisJob(store: s).run()
        #expect(again.sessions == 0 && again.newSignals == 0 && again.newSamples == 0)
        var all = AnalysisOptions()
        all.all = true
        let forced = try AnalysisJob(store: s, options: all).run()
        #expect(forced.sessions == 2)
        #expect(forced.newSignals == 0 && forced.newSamples == 0)
        #expect(try s.signals(limit: 100).count == 4)
    }

    @Test func explicitFeedbackBecomesSamples() throws {
        let s = try store([
            turn("c", 0, "user", "总金额是多少?", request: 1), turn("c", 1, "assistant", "总金额是 24.15 元", request: 1, ms: 500), end("c"),
            feedback("f1", "c-r1", "thumbs_down"), feedback("f2", "c-r1", "correction", corrected: "42.51 元"),
            turn("d", 0, "user", "What colour is it?", request: 1), turn("d", 1, "assistant", "Red.", request: 1, ms: 500), end("d"),
            feedback("f3", "d-r1", "thumbs_down"),
            turn("e", 0, "user", "Which gate?", request: 1), turn("e", 1, "assistant", "B12.", request: 1, ms: 500), end("e"),
            feedback("f4", "e-r1", "thumbs_up"),
        ])
        let summary = try AnalysisJob(store: s).run()
        #expect(summary.newFeedbackSamples == 2)
        let rows = try samples(s)
        let c = try #require(rows.first { $0.requestID == "c-r1" })
        #expect(c.source == "user_correction" && c.quality == "high" && c.state == "pending")
        #expect(c.correctAnswer == "42.51 元")
        #expect(c.category == "number_misread")
        let d = try #require(rows.first { $0.requestID == "d-r1" })
        #expect(d.source == "thumbs_down" && d.quality == "low" && d.state == "needs_answer")
        #expect(rows.count == 2)  // no thumbs_down sample where a correction exists, none for thumbs_up
        #expect(try AnalysisJob(store: s).run().newSamples == 0)
    }

    @Test func openSessionsWaitUntilIdle() throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let s = try store([turn("o", 0, "user", "q?", request: 1, ts: now - 60_000), turn("o", 1, "assistant", "a", request: 1, ms: 20_000, ts: now - 50_000)])
        #expect(try AnalysisJob(store: s).run().sessions == 0)
        var later = AnalysisOptions()
        later.now = now + 31 * 60_000
        let r = try AnalysisJob(store: s, options: later).run()
        #expect(r.sessions == 1)
        #expect(try s.signals(limit: 10).map(\.kind) == ["slow_response"])
        var short = AnalysisOptions()
        short.idleMs = 1000
        short.all = true
        #expect(try AnalysisJob(store: s, options: short).run().sessions == 1)
    }

    @Test func newTurnsReopenASessionForAnalysis() throws {
        let s = try store(Array(conversation[0..<2]) + [end("a")])
        #expect(try AnalysisJob(store: s).run().sessions == 1)
        // The rest of the conversation arrives later.
        try s.ingestTransaction { batch in
            for line in [conversation[2], conversation[3]] {
                var bytes = Array(line.utf8)
                try bytes.withUnsafeMutableBytes { raw in
                    let buf = UnsafeRawBufferPointer(raw)
                    try batch.insert(try EventDecoder.decode(line: buf), raw: buf, sourceID: nil, line: nil) { ResolvedImage(ref: $0.ref, path: nil, status: .missing) }
                }
            }
        }
        let r = try AnalysisJob(store: s).run()
        #expect(r.sessions == 1)
        #expect(try s.signals(limit: 10).contains { $0.kind == "correction" })
    }
}

@Suite(.serialized) struct LLMExtractionTests {
    /// A bare "wrong" leaves the answer to the LLM; the stub answers per test.
    let events = [
        turn("l", 0, "user", "What does the sign say?", request: 1), turn("l", 1, "assistant", "It says STOP.", request: 1, ms: 800),
        turn("l", 2, "user", "wrong", request: 2), turn("l", 3, "assistant", "What does it say, then?", request: 2, ms: 800),
        turn("l", 4, "user", "SHOP, obviously", request: 3), end("l"),
        turn("m", 0, "user", "这个数字是多少?", request: 1), turn("m", 1, "assistant", "87", request: 1, ms: 800),
        turn("m", 2, "user", "错了", request: 2), end("m"),
    ]

    func run(_ s: Store, _ server: StubHTTPServer, attempts: Int = 2) throws -> AnalysisSummary {
        let config = LLMConfiguration(baseURL: server.baseURL, model: "stub", apiKey: "sk-never-stored", timeoutSeconds: 2,
                                      maxAttempts: attempts, initialBackoffSeconds: 0.01)
        return try AnalysisJob(store: s, llm: CurlChatClient(configuration: config), llmModel: "stub").run()
    }

    @Test func rulesTakeTheRevisionTheUserAccepted() throws {
        let s = try store([
            turn("r", 0, "user", "What does the sign say?", request: 1), turn("r", 1, "assistant", "It says STOP.", request: 1, ms: 800),
            turn("r", 2, "user", "wrong, look at the bottom line", request: 2), turn("r", 3, "assistant", "Sorry — it says SHOP.", request: 2, ms: 800),
            turn("r", 4, "user", "yes thanks", request: 3), end("r"),
        ])
        _ = try AnalysisJob(store: s).run()
        let r = try #require(samples(s).first)
        #expect(r.correctAnswer == "SHOP")
        #expect(r.state == "pending")
    }

    @Test func groundedAnswerIsUsedUngroundedIsKeptButNotUsed() throws {
        let s = try store(events)
        let server = try StubHTTPServer { _, req in
            // For "l" the answer the assistant revised to (grounded); for "m" an invented one.
            req.body.contains("STOP")
                ? .init(body: chatCompletion(#"```json\n{"hasClearCorrection": true, "correctAnswer": "SHOP"}\n```"#))
                : .init(body: chatCompletion(#"{"hasClearCorrection": true, "correctAnswer": "78"}"#))
        }
        defer { server.stop() }
        let summary = try run(s, server)
        #expect(summary.llmAttempts == 2)
        #expect(summary.llmResolved == 1)
        #expect(summary.llmUngrounded == 1)
        let rows = try samples(s)
        let l = try #require(rows.first { $0.requestID == "l-r1" })
        #expect(l.correctAnswer == "SHOP")
        #expect(l.state == "pending")
        #expect(l.extraction?.contains("\"status\":\"ok\"") == true)
        let m = try #require(rows.first { $0.requestID == "m-r1" })
        #expect(m.correctAnswer == nil)
        #expect(m.state == "needs_answer")
        #expect(m.extraction?.contains("\"status\":\"ungrounded\"") == true)
        #expect(m.extraction?.contains("\"answer\":\"78\"") == true)
        // Each sample is sent once; a second run sends nothing.
        #expect(try run(s, server).llmAttempts == 0)
        #expect(server.requests.count == 2)
        // The API key went to the server but never into the database.
        #expect(server.requests.allSatisfy { $0.headers["authorization"] == "Bearer sk-never-stored" })
        let path = try #require(s.path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path)) + ((try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data())
        #expect(bytes.range(of: Data("sk-never-stored".utf8)) == nil)
    }

    @Test func recheckRecordsTheLLMBesideTheRulesAnswer() throws {
        let s = try store([turn("x", 0, "user", "这个数字是多少?", request: 1), turn("x", 1, "assistant", "87", request: 1, ms: 800),
                           turn("x", 2, "user", "不对,是78", request: 2), end("x")])
        let server = try StubHTTPServer { _, _ in .init(body: chatCompletion(#"{"hasClearCorrection": true, "correctAnswer": "78"}"#)) }
        defer { server.stop() }
        var options = AnalysisOptions()
        options.llmRecheck = true
        let config = LLMConfiguration(baseURL: server.baseURL, model: "stub", apiKey: nil, timeoutSeconds: 2, maxAttempts: 1)
        let summary = try AnalysisJob(store: s, llm: CurlChatClient(configuration: config), llmModel: "stub", options: options).run()
        #expect(summary.llmResolved == 1)
        let x = try #require(samples(s).first)
        #expect(x.correctAnswer == "78")
        #expect(x.extraction?.contains("\"method\":\"rules\"") == true)
        #expect(x.extraction?.contains("\"llm\":{\"status\":\"ok\",\"answer\":\"78\"") == true)
    }

    @Test func failuresAreRecordedAndTheRunGoesOn() throws {
        let s = try store(events)
        let server = try StubHTTPServer { _, _ in .init(status: 503, body: "{\"error\":\"overloaded\"}") }
        defer { server.stop() }
        let summary = try run(s, server)
        #expect(summary.llmAttempts == 2)
        #expect(summary.llmFailures == 2)
        #expect(server.requests.count == 4)  // two attempts each
        let rows = try samples(s).filter { $0.source == "implicit_correction" }
        #expect(rows.allSatisfy { $0.state == "needs_answer" && $0.extraction?.contains("\"status\":\"failed\"") == true })
        #expect(rows.allSatisfy { $0.extraction?.contains("HTTP 503") == true })
        // Failed ones are retried only when asked.
        #expect(try run(s, server).llmAttempts == 0)
    }
}

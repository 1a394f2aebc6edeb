import Foundation
import FlywheelTestSupport
import Testing
@testable import FlywheelAnalyze
@testable import FlywheelLLM
@testable import FlywheelStore

/// Counts requests in flight at the stub, to see the concurrency limit from the server's side.
final class InFlight: @unchecked Sendable {
    let lock = NSLock()
    var now = 0, peak = 0
    var starts: [Date] = []
    func enter() { lock.withLock { now += 1; peak = max(peak, now); starts.append(Date()) } }
    func leave() { lock.withLock { now -= 1 } }
}

@Suite(.serialized) struct LLMConcurrencyTests {
    /// Sessions whose correction the rules cannot answer ("错了" gives no value), so each goes to the LLM.
    func unresolved(_ n: Int) throws -> Store {
        var lines: [String] = []
        for i in 0..<n {
            let id = "c\(i)"
            lines += [turn(id, 0, "user", "这个数字是多少?", request: 1), turn(id, 1, "assistant", "是87", request: 1, ms: 900),
                      turn(id, 2, "user", "错了", request: 2), end(id)]
        }
        return try store(lines)
    }

    func job(_ s: Store, _ server: StubHTTPServer, concurrency: Int, rpm: Int?) -> AnalysisJob {
        var options = AnalysisOptions()
        options.llmConcurrency = concurrency
        options.llmRequestsPerMinute = rpm
        let config = LLMConfiguration(baseURL: server.baseURL, model: "stub", apiKey: nil, timeoutSeconds: 5, maxAttempts: 1, initialBackoffSeconds: 0.01)
        return AnalysisJob(store: s, llm: CurlChatClient(configuration: config), llmModel: "stub", options: options)
    }

    @Test func atMostTheConcurrencyLimitIsInFlight() throws {
        let s = try unresolved(12)
        let flight = InFlight()
        let server = try StubHTTPServer { _, _ in
            flight.enter()
            Thread.sleep(forTimeInterval: 0.15)
            flight.leave()
            return .init(body: chatCompletion(#"{"hasClearCorrection": false, "correctAnswer": null}"#))
        }
        defer { server.stop() }
        let summary = try job(s, server, concurrency: 3, rpm: nil).run()
        #expect(summary.llmAttempts == 12)
        #expect(summary.llmNoAnswer == 12)
        #expect(flight.peak == 3)
        // Every attempt is recorded on its sample.
        #expect(try s.samples(limit: 100).allSatisfy { $0.extraction?.contains("\"status\":\"no_correction\"") == true })
    }

    @Test func requestsPerMinuteSpacesTheStarts() throws {
        let s = try unresolved(4)
        let flight = InFlight()
        let server = try StubHTTPServer { _, _ in
            flight.enter(); flight.leave()
            return .init(body: chatCompletion(#"{"hasClearCorrection": false, "correctAnswer": null}"#))
        }
        defer { server.stop() }
        _ = try job(s, server, concurrency: 4, rpm: 300).run()  // one start every 0.2 s
        let starts = flight.starts.sorted()
        #expect(starts.count == 4)
        for (a, b) in zip(starts, starts.dropFirst()) { #expect(b.timeIntervalSince(a) >= 0.15) }
    }

    @Test func stoppingBetweenRequestsKeepsWhatWasDone() throws {
        let s = try unresolved(6)
        let server = try StubHTTPServer { _, _ in .init(body: chatCompletion(#"{"hasClearCorrection": false, "correctAnswer": null}"#)) }
        defer { server.stop() }
        let calls = InFlight()
        let summary = try job(s, server, concurrency: 1, rpm: nil).run(shouldStop: {
            calls.lock.withLock { calls.now += 1; return calls.now > 3 }  // analysis checks + 2 LLM starts
        })
        #expect(summary.llmAttempts < 6)
        #expect(try s.samples(limit: 100).filter { $0.extraction?.contains("\"llm\"") == true }.count == summary.llmAttempts)
    }
}

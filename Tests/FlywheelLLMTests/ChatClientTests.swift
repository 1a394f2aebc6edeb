import Foundation
import FlywheelTestSupport
import Testing
@testable import FlywheelLLM
import FlywheelCore

let answer78 = #"{"hasClearCorrection": true, "originalQuestion": "这个数字是多少?", "wrongAnswer": "87", "correctAnswer": "78"}"#

func client(_ server: StubHTTPServer, timeout: Double = 5, attempts: Int = 3) -> CurlChatClient {
    CurlChatClient(configuration: LLMConfiguration(baseURL: server.baseURL, model: "stub-model", apiKey: "sk-test-secret",
                                                   timeoutSeconds: timeout, maxAttempts: attempts, initialBackoffSeconds: 0.05))
}

@Suite(.serialized) struct ChatClientTests {
    @Test func success() throws {
        let server = try StubHTTPServer { _, _ in .init(body: chatCompletion(answer78)) }
        defer { server.stop() }
        let reply = try client(server).complete(system: "sys", user: "用户: 不对,是78")
        #expect(CorrectionPrompt.parse(reply)?.correctAnswer == "78")
        let request = try #require(server.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/v1/chat/completions")
        #expect(request.headers["authorization"] == "Bearer sk-test-secret")
        #expect(request.body.contains("\"model\":\"stub-model\""))
        #expect(request.body.contains("不对,是78"))
    }

    @Test func asksForJSONAndFallsBackWhenTheServerRefuses() throws {
        let server = try StubHTTPServer { _, req in
            req.body.contains("response_format") ? .init(status: 400, body: "{\"error\":\"response_format not supported\"}") : .init(body: chatCompletion(answer78))
        }
        defer { server.stop() }
        let c = client(server)
        #expect(CorrectionPrompt.parse(try c.complete(system: nil, user: "x"))?.correctAnswer == "78")
        #expect(CorrectionPrompt.parse(try c.complete(system: nil, user: "y"))?.correctAnswer == "78")
        // First request in JSON mode, refused; then plain requests only.
        #expect(server.requests.map { $0.body.contains("response_format") } == [true, false, false])
    }

    @Test func fencedJSONWithProseAround() throws {
        let fenced = "Sure! Here is the result:\n```json\n" + answer78 + "\n```\nLet me know if you need more."
        let server = try StubHTTPServer { _, _ in .init(body: chatCompletion(fenced)) }
        defer { server.stop() }
        let parsed = CorrectionPrompt.parse(try client(server).complete(system: nil, user: "x"))
        #expect(parsed == LLMExtraction(hasClearCorrection: true, originalQuestion: "这个数字是多少?", wrongAnswer: "87", correctAnswer: "78"))
    }

    @Test func garbageContentIsNotAnExtraction() throws {
        let server = try StubHTTPServer { _, _ in .init(body: chatCompletion("I think it is probably seventy-eight {not json")) }
        defer { server.stop() }
        #expect(CorrectionPrompt.parse(try client(server).complete(system: nil, user: "x")) == nil)
    }

    @Test func garbageBodyIsABadResponseNotRetried() throws {
        let server = try StubHTTPServer { _, _ in .init(body: "<html>oops</html>") }
        defer { server.stop() }
        #expect(throws: LLMError.self) { try client(server).complete(system: nil, user: "x") }
        #expect(server.requests.count == 1)
    }

    @Test func serverErrorThenSuccessIsRetried() throws {
        let server = try StubHTTPServer { n, _ in n == 0 ? .init(status: 500, body: "{\"error\":\"boom\"}") : .init(body: chatCompletion(answer78)) }
        defer { server.stop() }
        let reply = try client(server).complete(system: nil, user: "x")
        #expect(CorrectionPrompt.parse(reply)?.correctAnswer == "78")
        #expect(server.requests.count == 2)
    }

    @Test func rateLimitIsRetriedAndGivesUpAfterMaxAttempts() throws {
        let server = try StubHTTPServer { _, _ in .init(status: 429, body: "{\"error\":\"slow down\"}") }
        defer { server.stop() }
        do {
            _ = try client(server, attempts: 3).complete(system: nil, user: "x")
            Issue.record("expected a failure")
        } catch let error as LLMError {
            #expect(error == .http(status: 429, body: "{\"error\":\"slow down\"}"))
        }
        #expect(server.requests.count == 3)
    }

    @Test func timeoutIsAnErrorNotAHang() throws {
        let server = try StubHTTPServer { _, _ in .init(body: chatCompletion(answer78), delay: 3) }
        defer { server.stop() }
        let started = Date()
        do {
            _ = try client(server, timeout: 0.3, attempts: 2).complete(system: nil, user: "x")
            Issue.record("expected a timeout")
        } catch let error as LLMError {
            guard case .transport(let message) = error else { Issue.record("expected transport error, got \(error)"); return }
            #expect(message.lowercased().contains("timeout") || message.lowercased().contains("timed out"))
        }
        #expect(Date().timeIntervalSince(started) < 2.5)
        #expect(server.requests.count == 2)
    }

    @Test func connectionRefusedIsATransportError() {
        let c = CurlChatClient(configuration: LLMConfiguration(baseURL: "http://127.0.0.1:1", model: "m", apiKey: nil,
                                                               timeoutSeconds: 1, maxAttempts: 1))
        #expect(throws: LLMError.self) { try c.complete(system: nil, user: "x") }
    }
}

@Suite struct ConfigurationTests {
    @Test func resolvesFromFlagsAndEnvironment() {
        #expect(LLMConfiguration.resolve(url: nil, model: nil, environment: [:]) == nil)
        let env = ["FLYWHEEL_LLM_URL": "http://127.0.0.1:8080", "FLYWHEEL_LLM_MODEL": "qwen", "FLYWHEEL_LLM_API_KEY": "k1"]
        let c = LLMConfiguration.resolve(url: nil, model: nil, environment: env)
        #expect(c?.model == "qwen")
        #expect(c?.apiKey == "k1")
        #expect(c?.completionsURL == "http://127.0.0.1:8080/v1/chat/completions")
        let openai = LLMConfiguration.resolve(url: nil, model: nil, environment: ["OPENAI_BASE_URL": "http://h/v1/", "OPENAI_API_KEY": "k2"])
        #expect(openai?.completionsURL == "http://h/v1/chat/completions")
        #expect(openai?.apiKey == "k2")
        #expect(LLMConfiguration.resolve(url: "http://flag:1", model: "m", environment: env)?.baseURL == "http://flag:1")
    }

    @Test func parsesMissingKeysAndStrings() {
        #expect(CorrectionPrompt.parse(#"{"hasClearCorrection": "yes", "correctAnswer": 78}"#)
                == LLMExtraction(hasClearCorrection: true, originalQuestion: nil, wrongAnswer: nil, correctAnswer: "78"))
        #expect(CorrectionPrompt.parse(#"{"hasClearCorrection": false}"#)?.correctAnswer == nil)
        #expect(CorrectionPrompt.parse(#"text {"a": "}"} then {"correctAnswer": "x"}"#)?.correctAnswer == nil)  // first object wins
        #expect(CorrectionPrompt.parse("no json here") == nil)
    }
}

@Suite struct GroundingTests {
    let conversation: [FlywheelCore.ConversationTurn] = [
        .init(role: .user, content: "这个数字是多少?"), .init(role: .assistant, content: "87"),
        .init(role: .user, content: "确定吗?"), .init(role: .assistant, content: "啊对,是78"), .init(role: .user, content: "好的谢谢"),
    ]
    let stated: [FlywheelCore.ConversationTurn] = [
        .init(role: .user, content: "总金额是多少?"), .init(role: .assistant, content: "$24.15"), .init(role: .user, content: "错了,总金额是 $42.51"),
    ]

    @Test func statedOrRevisedAnswersAreGrounded() {
        #expect(Grounding.isGrounded("78", in: conversation, afterAnswerAt: 1))    // the accepted revision
        #expect(Grounding.isGrounded("42.51", in: stated, afterAnswerAt: 1))       // stated by the user
        #expect(Grounding.isGrounded("$42.51", in: stated, afterAnswerAt: 1))
    }

    @Test func negatedWrongAndEmptyAnswersAreNot() {
        let c: [FlywheelCore.ConversationTurn] = [
            .init(role: .user, content: "读数是多少?"), .init(role: .assistant, content: "12098"), .init(role: .user, content: "不是12098,是12093"),
            .init(role: .assistant, content: "You're right, I misread it."),
        ]
        #expect(!Grounding.isGrounded("12098", in: c, afterAnswerAt: 1))          // the wrong answer, negated by the user
        #expect(Grounding.isGrounded("12093", in: c, afterAnswerAt: 1))
        #expect(!Grounding.isGrounded("You're right, I misread it.", in: c, afterAnswerAt: 1))  // nothing checkable
        let earlier: [FlywheelCore.ConversationTurn] = [
            .init(role: .user, content: "total?"), .init(role: .assistant, content: "14.38"),
            .init(role: .user, content: "btw the 14.38 you gave earlier was wrong, it's 14.36"),
        ]
        #expect(!Grounding.isGrounded("14.38", in: earlier, afterAnswerAt: 1))
        #expect(Grounding.isGrounded("14.36", in: earlier, afterAnswerAt: 1))
        let rejected: [FlywheelCore.ConversationTurn] = [
            .init(role: .user, content: "colour?"), .init(role: .assistant, content: "red"), .init(role: .user, content: "wrong"),
            .init(role: .assistant, content: "Sorry, it is green."), .init(role: .user, content: "still wrong"),
        ]
        #expect(!Grounding.isGrounded("green", in: rejected, afterAnswerAt: 1))  // a revision the user rejected
    }

    @Test func inventedAnswersAreNot() {
        #expect(!Grounding.isGrounded("81", in: conversation, afterAnswerAt: 1))
        #expect(!Grounding.isGrounded("87", in: conversation, afterAnswerAt: 1))  // the wrong answer itself
        #expect(!Grounding.isGrounded("", in: conversation, afterAnswerAt: 1))
    }
}

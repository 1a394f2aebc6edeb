import FlywheelCore
import FlywheelTestSupport
import Foundation
import Testing
@testable import FlywheelLLM

private let current = """
    You answer questions about the image the user sends.
    Reply in the language the user writes in.
    """

private let examples = [
    OptimizationExample(question: "总金额是多少?", wrongAnswer: "87.40", correctAnswer: "78.40", category: "number_misread"),
    OptimizationExample(question: "What does the sign say?", wrongAnswer: "It says STOP.", correctAnswer: "SHOP", category: "visual_understanding_error"),
    OptimizationExample(question: "What colour is the car?\nThe left one.", wrongAnswer: "The car is red and it is parked next to a bakery that sells bread.",
                        correctAnswer: "blue", category: "hallucination"),
]

/// The `content` of the message with `role` in a chat completions request body.
private func message(_ body: String, role: String) throws -> String? {
    let v = try JSONParser.parse(body)
    guard case .array(let messages)? = v["messages"] else { return nil }
    for m in messages where m["role"] == .string(role) {
        if case .string(let s)? = m["content"] { return s }
    }
    return nil
}

@Suite(.serialized) struct PromptOptimizationTests {
    @Test func metaPromptStatesTheRequirements() {
        let (system, user) = PromptOptimizer.metaPrompt(current: current, examples: examples)
        #expect(system.contains("prompt engineering"))
        #expect(user.contains(current))
        #expect(user.contains("Keep the core requirements of the current prompt"))
        #expect(user.contains("Add instructions that avoid these errors"))
        #expect(user.contains("At most 150% of the original length"))
        #expect(user.contains("no more than \(current.count * 3 / 2) characters"))
        #expect(user.contains("Output only the new prompt"))
        // Every case with its category, question, wrong and correct answer; a multi-line field stays on its line.
        #expect(user.contains("1. [number_misread]\n   Question: 总金额是多少?\n   Wrong answer: 87.40\n   Correct answer: 78.40"))
        #expect(user.contains("Question: What colour is the car? / The left one."))
        #expect(user.contains("3. [hallucination]"))
    }

    @Test func lengthCapIsOneAndAHalfTimesInCharacters() {
        #expect(PromptOptimizer.lengthCap(for: "abcd") == 6)
        #expect(PromptOptimizer.lengthCap(for: "abc") == 4)
        #expect(PromptOptimizer.lengthCap(for: "请只返回JSON") == 12)  // 8 characters, not 16 bytes
    }

    @Test func sendsTheMetaPromptAndReturnsTheReply() throws {
        let better = current + "\nCopy digits exactly as printed."
        let server = try StubHTTPServer { _, _ in .init(body: chatCompletion(better)) }
        defer { server.stop() }
        let result = try PromptOptimizer.optimize(current: current, examples: examples, using: client(server))
        #expect(result == better)
        let request = try #require(server.requests.first)
        #expect(request.path == "/v1/chat/completions")
        let (system, user) = PromptOptimizer.metaPrompt(current: current, examples: examples)
        #expect(try message(request.body, role: "system") == system)
        #expect(try message(request.body, role: "user") == user)
    }

    @Test func codeFenceAndSurroundingSpaceAreStripped() throws {
        let better = "You answer questions about the image.\nCopy digits exactly."
        let server = try StubHTTPServer { _, _ in .init(body: chatCompletion("\n  ```text\n" + better + "\n```  \n")) }
        defer { server.stop() }
        #expect(try PromptOptimizer.optimize(current: current, examples: examples, using: client(server)) == better)
    }

    @Test func cleaningReplies() {
        #expect(PromptOptimizer.cleanReply("```\nA\nB\n```") == "A\nB")
        #expect(PromptOptimizer.cleanReply("```A```") == "A")
        #expect(PromptOptimizer.cleanReply("  plain  ") == "plain")
        // A server forcing JSON output: the prompt is the one string in the object.
        #expect(PromptOptimizer.cleanReply(#"{"prompt": "Answer briefly.\nCopy digits."}"#) == "Answer briefly.\nCopy digits.")
        #expect(PromptOptimizer.cleanReply(#"{"new_prompt": "P", "notes": "n"}"#) == "P")
        // A fence that does not surround the whole reply is left alone.
        #expect(PromptOptimizer.cleanReply("Use ``` for code.") == "Use ``` for code.")
    }

    @Test func tooLongReplyIsRejected() throws {
        let cap = PromptOptimizer.lengthCap(for: current)
        let long = String(repeating: "x", count: cap + 1)
        let server = try StubHTTPServer { _, _ in .init(body: chatCompletion("```\n" + long + "\n```")) }
        defer { server.stop() }
        #expect(throws: PromptOptimizationError.tooLong(length: cap + 1, cap: cap)) {
            try PromptOptimizer.optimize(current: current, examples: examples, using: client(server))
        }
        #expect(PromptOptimizationError.tooLong(length: 200, cap: 150).description
                == "the LLM's prompt is 200 characters, over the limit of 150 (150% of the current prompt): rejected, nothing stored")
        // Exactly at the cap is accepted (measured after the fence is stripped).
        #expect(try PromptOptimizer.accept("```\n" + String(repeating: "y", count: cap) + "\n```", current: current).count == cap)
    }

    @Test func emptyReplyIsRejected() throws {
        let server = try StubHTTPServer { _, _ in .init(body: chatCompletion("```\n\n```")) }
        defer { server.stop() }
        #expect(throws: PromptOptimizationError.empty) {
            try PromptOptimizer.optimize(current: current, examples: examples, using: client(server))
        }
    }

    @Test func httpErrorIsSurfaced() throws {
        let server = try StubHTTPServer { _, _ in .init(status: 401, body: #"{"error":"invalid api key"}"#) }
        defer { server.stop() }
        do {
            _ = try PromptOptimizer.optimize(current: current, examples: examples, using: client(server, attempts: 2))
            Issue.record("expected a failure")
        } catch let error as PromptOptimizationError {
            guard case .llm(let message) = error else { Issue.record("wrong error \(error)"); return }
            #expect(message.contains("HTTP 401"))
            #expect(message.contains("invalid api key"))
            #expect(error.description.hasPrefix("LLM request failed: HTTP 401"))
        }
        #expect(server.requests.count == 1)  // a 401 is not retried
    }

    @Test func serverErrorsAreRetriedThenSurfaced() throws {
        let server = try StubHTTPServer { _, _ in .init(status: 503, body: #"{"error":"overloaded"}"#) }
        defer { server.stop() }
        #expect(throws: PromptOptimizationError.llm(LLMError.http(status: 503, body: #"{"error":"overloaded"}"#).description)) {
            try PromptOptimizer.optimize(current: current, examples: examples, using: client(server, attempts: 2))
        }
        #expect(server.requests.count == 2)
    }
}

import FlywheelCore

/// One reviewed mistake shown to the optimiser: what was asked, what the assistant said, what is right.
public struct OptimizationExample: Sendable, Equatable {
    public var question: String
    public var wrongAnswer: String
    public var correctAnswer: String
    /// The error category (e.g. number_misread).
    public var category: String

    public init(question: String, wrongAnswer: String, correctAnswer: String, category: String) {
        self.question = question
        self.wrongAnswer = wrongAnswer
        self.correctAnswer = correctAnswer
        self.category = category
    }
}

public enum PromptOptimizationError: Error, Equatable, CustomStringConvertible {
    /// The reply (after cleaning) is longer than 150% of the current prompt.
    case tooLong(length: Int, cap: Int)
    /// The reply had no prompt in it.
    case empty
    /// The request failed (transport, HTTP status, unreadable response).
    case llm(String)

    public var description: String {
        switch self {
        case let .tooLong(length, cap):
            return "the LLM's prompt is \(length) characters, over the limit of \(cap) (150% of the current prompt): rejected, nothing stored"
        case .empty:
            return "the LLM replied with an empty prompt: nothing stored"
        case .llm(let m):
            return "LLM request failed: \(m)"
        }
    }
}

/// Asks an LLM for a better prompt: the seed design's meta-prompt, built from the current prompt and
/// reviewed mistakes, and the checks on what comes back.
public enum PromptOptimizer {
    /// The longest prompt accepted for a current prompt: 150% of its length in characters, rounded down.
    public static func lengthCap(for current: String) -> Int {
        current.count * 3 / 2
    }

    public static func metaPrompt(current: String, examples: [OptimizationExample]) -> (system: String, user: String) {
        let cap = lengthCap(for: current)
        let system = """
            You are a prompt engineering expert. You improve the system prompt of an image question-answering \
            assistant using mistakes it made that reviewers have corrected.
            """
        var user = """
            Optimise the current prompt below using these error cases.

            Current prompt (\(current.count) characters):
            <<<PROMPT
            \(current)
            PROMPT

            Error cases (\(examples.count)):
            """
        for (i, e) in examples.enumerated() {
            user += "\n\(i + 1). [\(e.category)]\n   Question: \(oneLine(e.question))\n   Wrong answer: \(oneLine(e.wrongAnswer))\n   Correct answer: \(oneLine(e.correctAnswer))"
        }
        if examples.isEmpty { user += "\n(none)" }
        user += """


            Requirements:
            1. Keep the core requirements of the current prompt.
            2. Add instructions that avoid these errors (generalise from them; do not copy the cases into the prompt).
            3. At most 150% of the original length: no more than \(cap) characters in total.
            4. Output only the new prompt: no explanation, no heading, no quotes, no code fence.
            """
        return (system, user)
    }

    /// Sends the meta-prompt and returns the new prompt, cleaned (`cleanReply`). Throws
    /// `PromptOptimizationError`: `.llm` when the request fails, `.empty`, `.tooLong(length:cap:)`.
    public static func optimize(current: String, examples: [OptimizationExample], using client: ChatCompleting) throws -> String {
        let (system, user) = metaPrompt(current: current, examples: examples)
        let reply: String
        do {
            reply = try client.complete(system: system, user: user)
        } catch {
            throw PromptOptimizationError.llm("\(error)")
        }
        return try accept(reply, current: current)
    }

    /// Checks a reply against the current prompt: cleaned, non-empty and within the length cap.
    public static func accept(_ reply: String, current: String) throws -> String {
        let prompt = cleanReply(reply)
        if prompt.isEmpty { throw PromptOptimizationError.empty }
        let cap = lengthCap(for: current)
        if prompt.count > cap { throw PromptOptimizationError.tooLong(length: prompt.count, cap: cap) }
        return prompt
    }

    /// The prompt in a reply: trimmed, out of a surrounding ``` code fence, and out of a one-string JSON
    /// object such as {"prompt": "..."} (what a server that forces JSON output sends).
    public static func cleanReply(_ reply: String) -> String {
        var s = trimmed(reply)
        if s.hasPrefix("```") && s.hasSuffix("```") && s.count >= 6 {
            var lines = s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.count >= 2 {
                lines.removeFirst()  // ``` or ```text
                lines[lines.count - 1] = String(lines[lines.count - 1].dropLast(3))
                s = trimmed(lines.joined(separator: "\n"))
            } else {
                s = trimmed(String(s.dropFirst(3).dropLast(3)))
            }
        }
        if s.hasPrefix("{") && s.hasSuffix("}"), case .object(let pairs)? = try? JSONParser.parse(s) {
            let strings = pairs.compactMap { pair -> (String, String)? in
                if case .string(let v) = pair.1 { return (pair.0, v) }
                return nil
            }
            if let p = strings.first(where: { $0.0.lowercased().contains("prompt") }) ?? (pairs.count == 1 ? strings.first : nil) {
                s = trimmed(p.1)
            }
        }
        return s
    }

    private static func trimmed(_ s: String) -> String {
        var t = Substring(s)
        while let f = t.first, f.isWhitespace { t.removeFirst() }
        while let l = t.last, l.isWhitespace { t.removeLast() }
        return String(t)
    }

    /// Keeps each case on its own lines of the list: newlines inside a field become " / ".
    private static func oneLine(_ s: String) -> String {
        trimmed(s).split(whereSeparator: \.isNewline).map { trimmed(String($0)) }.filter { !$0.isEmpty }.joined(separator: " / ")
    }
}

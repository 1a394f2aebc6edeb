import FlywheelCore

/// What the LLM said about a correction, as the seed design's JSON asks for it.
public struct LLMExtraction: Equatable, Sendable {
    public var hasClearCorrection: Bool?
    public var originalQuestion: String?
    public var wrongAnswer: String?
    public var correctAnswer: String?
}

public enum CorrectionPrompt {
    public static let system = """
        You analyse a conversation between a user and an image-question-answering assistant. The user has signalled \
        that one assistant answer was wrong. Reply with JSON only, no prose: \
        {"hasClearCorrection": true or false, "originalQuestion": "...", "wrongAnswer": "...", "correctAnswer": "..."}. \
        correctAnswer must be the correct value exactly as the user stated it, or as the assistant restated it after \
        the user's doubt; use null if the conversation does not say what the correct answer is. Never guess.
        """

    public static func user(conversation: [ConversationTurn], question: String?, wrongAnswer: String?) -> String {
        var lines = conversation.map { "\($0.role.rawValue): \($0.content)" }
        lines.append("")
        lines.append("The wrong answer: \(wrongAnswer ?? "?")")
        if let question { lines.append("It answered: \(question)") }
        return lines.joined(separator: "\n")
    }

    /// Reads the JSON object out of a model reply: code fences, prose around it and missing keys are fine.
    public static func parse(_ reply: String) -> LLMExtraction? {
        for candidate in jsonObjectCandidates(reply) {
            guard let v = try? JSONParser.parse(candidate), case .object = v else { continue }
            func str(_ k: String) -> String? {
                if case .string(let s)? = v[k] { return s.allSatisfy(\.isWhitespace) ? nil : s }
                if case .number(let d)? = v[k] { return d == Double(Int64(d)) ? String(Int64(d)) : String(d) }
                return nil
            }
            var has: Bool?
            switch v["hasClearCorrection"] {
            case .bool(let b)?: has = b
            case .string(let s)?: has = ["true", "yes"].contains(s.lowercased())
            default: has = nil
            }
            return LLMExtraction(hasClearCorrection: has, originalQuestion: str("originalQuestion"), wrongAnswer: str("wrongAnswer"),
                                 correctAnswer: str("correctAnswer"))
        }
        return nil
    }

    /// Balanced `{...}` spans, outermost first, skipping braces inside strings.
    static func jsonObjectCandidates(_ s: String) -> [String] {
        let chars = Array(s.unicodeScalars)
        var out: [String] = []
        var i = 0
        while i < chars.count {
            if chars[i] == "{" {
                var depth = 0, inString = false, escaped = false
                var j = i
                while j < chars.count {
                    let c = chars[j]
                    if inString {
                        if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
                    } else if c == "\"" { inString = true } else if c == "{" { depth += 1 } else if c == "}" {
                        depth -= 1
                        if depth == 0 { break }
                    }
                    j += 1
                }
                if j < chars.count {
                    var v = String.UnicodeScalarView()
                    v.append(contentsOf: chars[i...j])
                    out.append(String(v))
                    i = j + 1
                    continue
                }
            }
            i += 1
        }
        return out
    }
}

/// Is an extracted answer supported by the conversation? It must be stated by the user after the wrong
/// answer (not in a negation: "不是12098,是12093" does not ground 12098), or be a later assistant answer the
/// user did not object to. The wrong answer itself, and sentences with nothing checkable in them ("You're
/// right, I misread it."), are never grounded.
public enum Grounding {
    public static func isGrounded(_ answer: String, in conversation: [ConversationTurn], afterAnswerAt answerIndex: Int) -> Bool {
        let needle = canonical(answer)
        guard !needle.isEmpty, conversation.indices.contains(answerIndex) else { return false }
        let wrong = conversation[answerIndex].content
        let values = Values.of(answer)
        if needle == canonical(wrong) { return false }
        if !values.isEmpty && values.isSubset(of: Values.of(wrong)) { return false }
        if values.isEmpty && answer.split(separator: " ").count > 4 { return false }
        for i in conversation.indices where i > answerIndex {
            let turn = conversation[i]
            switch turn.role {
            case .user:
                if supports(Self.negated.removing(from: TextNormalizer.fold(turn.content)), needle: needle, values: values) { return true }
            case .assistant:
                let reply = conversation[(i + 1)...].first { $0.role == .user }
                let accepted = reply.map { ReplyRules.assess(reply: $0.content, answer: turn.content).kind == .none } ?? true
                if accepted && supports(turn.content, needle: needle, values: values) { return true }
            }
        }
        return false
    }

    static let negated = Pattern(#"(不是|而不是|\bnot\b|\bisn't\b|\bwasn't\b)\s*[^,.!?;\s]+|\b(the|your)\s+[^,.!?;]{0,20}\byou (gave|said)\b"#)

    static func supports(_ text: String, needle: String, values: Set<String>) -> Bool {
        if canonical(text).contains(needle) { return true }
        // Same value written differently ("$42.51" vs "42.51 dollars").
        return !values.isEmpty && values.isSubset(of: Values.of(text))
    }

    static func canonical(_ s: String) -> String {
        TextNormalizer.normalize(s).filter { !$0.isWhitespace && !",.!?;:\"'。".contains($0) }
    }
}

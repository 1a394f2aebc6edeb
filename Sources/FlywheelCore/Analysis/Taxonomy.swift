import Foundation

/// Error categories of training samples.
public enum ErrorCategory: String, Sendable, CaseIterable {
    case formatError = "format_error"
    case hallucination
    case numberMisread = "number_misread"
    case knowledgeError = "knowledge_error"
    case visualUnderstandingError = "visual_understanding_error"
    case unknown
}

/// The seed design's classification rules, in its order. Pure; a reviewer can override the result.
public enum Taxonomy {
    static let knowledgeQuestion = Pattern(
        #"\b(why|who|history|historical|meaning|mean|means|explain|what is a|what's a|origin|invented|founded|capital of|how does|how do|recipe|definition|calories|legal|allowed)\b|为什么|是谁|什么意思|含义|历史|由来|来历|怎么用|原理|哪一年|谁发明|是什么东西|有什么用|热量|营养"#)

    public static func classify(question: String?, wrong: String?, correct: String?) -> ErrorCategory {
        guard let correct, !correct.trimmingCharacters().isEmpty else { return .unknown }
        let wrong = wrong ?? ""
        // 1. The answer should have been JSON and was not.
        if isJSON(correct) && !isJSON(wrong) { return .formatError }
        // 2. Far longer than the truth: the model made things up. Lengths are compared without framing
        //    ("It says STOP." vs "SHOP" is a misreading, not an invention).
        //    A short answer ("Total: 41.36" vs "14.36") is a misreading however short the truth is.
        let wrongContent = content(wrong)
        if wrongContent.count >= 20 && wrongContent.count > 2 * content(correct).count { return .hallucination }
        // 3. Both hold numbers, and the numbers differ.
        let wn = numbers(wrong), cn = numbers(correct)
        if !wn.isEmpty && !cn.isEmpty && wn != cn { return .numberMisread }
        // 4. The question asks for knowledge beyond the picture.
        if let question, knowledgeQuestion.matches(TextNormalizer.normalize(question)) { return .knowledgeError }
        // 5. Otherwise the model misunderstood what it saw.
        return .visualUnderstandingError
    }

    static let framing = Pattern(
        #"^\W*(\w+:\s*|it says|it reads|it's|it is|the answer is|the \w+(?: \w+)? (?:is|was|reads|says)|there (?:are|is)|i see|this is|that's)\s+|^\W*(写的是|上面写的是|读数是|总金额是|总价是|金额是|一共|总共|答案是|这是|是)\s*"#)

    /// The answer without framing words, quotes and trailing punctuation.
    static func content(_ s: String) -> String {
        var t = framing.removing(from: s.trimmingCharacters())
        t = t.filter { !"\"'“”「」。!?，".contains($0) }
        return t.trimmingCharacters()
    }

    static func isJSON(_ s: String) -> Bool {
        var t = s.trimmingCharacters()
        if t.hasPrefix("```") {
            t = t.split(separator: "\n").dropFirst().filter { !$0.hasPrefix("```") }.joined(separator: "\n")
        }
        guard let first = t.first, first == "{" || first == "[" else { return false }
        return (try? JSONParser.parse(t)) != nil
    }

    static let numberPattern = Pattern(#"\d+(?:\.\d+)?"#)

    static func numbers(_ s: String) -> [String] {
        numberPattern.allMatches(s).compactMap { m in Range(m.range, in: s).map { Values.canonicalNumber(String(s[$0])) } }
    }
}

/// Scoring signal detection against a hand-labelled set of conversations
/// (`Tests/labelled/signal-conversations.jsonl`), for this analyser and for the seed design's rule.
public struct LabelledConversation: Sendable {
    public struct Label: Sendable {
        public var correction: Bool
        public var correctAnswer: String?
        public var repeatedQuestion: Bool
    }
    public var id: String
    public var turns: [ConversationTurn]
    /// One label per assistant turn, in order.
    public var labels: [Label]

    public static func parse(line: String) throws -> LabelledConversation {
        let v = try JSONParser.parse(line)
        guard case .string(let id)? = v["id"], case .array(let turnValues)? = v["turns"], case .array(let labelValues)? = v["labels"] else {
            throw EventDecodingError(.missingField, "labelled conversation needs id, turns and labels")
        }
        var turns: [ConversationTurn] = []
        for t in turnValues {
            guard case .string(let role)? = t["role"], let r = Role(rawValue: role), case .string(let content)? = t["content"] else {
                throw EventDecodingError(.wrongType, "\(id): each turn needs role and content")
            }
            turns.append(ConversationTurn(role: r, content: content))
        }
        let labels = labelValues.map { l -> Label in
            var answer: String?
            if case .string(let s)? = l["correct_answer"] { answer = s }
            return Label(correction: l["correction"] == .bool(true), correctAnswer: answer, repeatedQuestion: l["repeated_question"] == .bool(true))
        }
        guard labels.count == turns.filter({ $0.role == .assistant }).count else {
            throw EventDecodingError(.invalidValue, "\(id): one label per assistant turn expected")
        }
        return LabelledConversation(id: id, turns: turns, labels: labels)
    }
}

public struct Score: Sendable, CustomStringConvertible {
    public var truePositives = 0
    public var falsePositives = 0
    public var falseNegatives = 0
    public var precision: Double { truePositives + falsePositives == 0 ? 1 : Double(truePositives) / Double(truePositives + falsePositives) }
    public var recall: Double { truePositives + falseNegatives == 0 ? 1 : Double(truePositives) / Double(truePositives + falseNegatives) }
    public var f1: Double { precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall) }
    mutating func add(predicted: Bool, actual: Bool) {
        if predicted && actual { truePositives += 1 } else if predicted { falsePositives += 1 } else if actual { falseNegatives += 1 }
    }
    public var description: String {
        "P \(fmt(precision))  R \(fmt(recall))  F1 \(fmt(f1))  (tp \(truePositives), fp \(falsePositives), fn \(falseNegatives))"
    }
}

func fmt(_ x: Double) -> String {
    let v = Int((x * 1000).rounded())
    return "\(v / 1000).\(String(v % 1000).leftPadded(to: 3, with: "0"))"
}

extension String {
    /// `self` with `pad` in front up to `width` characters.
    public func leftPadded(to width: Int, with pad: Character = " ") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

/// What a detector says about each assistant answer: (is a correction, is a repeated question, extracted answer).
public typealias AnswerPrediction = (correction: Bool, repeated: Bool, answer: String?)

public struct EvaluationReport: Sendable {
    public var answers = 0
    public var conversations = 0
    public var correction = Score()
    public var repeated = Score()
    public var combined = Score()
    /// Corrections with a labelled answer where the extractor returned exactly that answer.
    public var extractionExact = 0
    public var extractionTotal = 0
    /// Corrections labelled with no stated answer where the extractor still returned one.
    public var extractionSpurious = 0
    public var extractionNoAnswerTotal = 0
    /// Human-readable lines for every miss, for tuning.
    public var mistakes: [String] = []
}

public enum SignalEvaluation {
    public static func evaluate(_ set: [LabelledConversation], predict: ([ConversationTurn]) -> [AnswerPrediction]) -> EvaluationReport {
        var report = EvaluationReport()
        report.conversations = set.count
        for conv in set {
            let predictions = predict(conv.turns)
            let answerTurns = conv.turns.indices.filter { conv.turns[$0].role == .assistant }
            for (k, label) in conv.labels.enumerated() {
                report.answers += 1
                let p = predictions[k]
                report.correction.add(predicted: p.correction, actual: label.correction)
                report.repeated.add(predicted: p.repeated, actual: label.repeatedQuestion)
                report.combined.add(predicted: p.correction, actual: label.correction)
                report.combined.add(predicted: p.repeated, actual: label.repeatedQuestion)
                if label.correction, let gold = label.correctAnswer, p.correction {
                    report.extractionTotal += 1
                    if let got = p.answer, normalizeAnswer(got) == normalizeAnswer(gold) { report.extractionExact += 1 } else {
                        report.mistakes.append("\(conv.id) answer \(k): extracted \(p.answer.map { "\"\($0)\"" } ?? "nothing"), labelled \"\(gold)\"")
                    }
                }
                if label.correction && label.correctAnswer == nil && p.correction {
                    report.extractionNoAnswerTotal += 1
                    if let got = p.answer {
                        report.extractionSpurious += 1
                        report.mistakes.append("\(conv.id) answer \(k): extracted \"\(got)\" where no answer is stated")
                    }
                }
                if p.correction != label.correction || p.repeated != label.repeatedQuestion {
                    let a = answerTurns[k]
                    let next = conv.turns[(a + 1)...].first { $0.role == .user }?.content ?? "-"
                    var what: [String] = []
                    if p.correction != label.correction { what.append(label.correction ? "missed correction" : "false correction") }
                    if p.repeated != label.repeatedQuestion { what.append(label.repeatedQuestion ? "missed repeat" : "false repeat") }
                    report.mistakes.append("\(conv.id) answer \(k) [\(what.joined(separator: ", "))]: \"\(conv.turns[a].content)\" → \"\(next)\"")
                }
            }
        }
        return report
    }

    /// This analyser's predictions per assistant answer.
    public static func analyzerPredictions(_ analyzer: SessionAnalyzer) -> ([ConversationTurn]) -> [AnswerPrediction] {
        { turns in
            let signals = analyzer.analyze(turns)
            return turns.indices.filter { turns[$0].role == .assistant }.map { a in
                let c = signals.first { $0.kind == .correction && $0.answerIndex == a }
                return (c != nil, signals.contains { $0.kind == .repeatedQuestion && $0.answerIndex == a }, c?.correctAnswer)
            }
        }
    }

    /// The seed design's rule: a correction if the next user turn contains any marker substring; a repeated
    /// question if whitespace-token Jaccard between user turns i-2 and i exceeds 0.6.
    public static let seedMarkers = ["no", "not", "wrong", "incorrect", "actually", "mistake", "不对", "不是", "错", "其实", "应该"]

    public static func seedPredictions(_ turns: [ConversationTurn]) -> [AnswerPrediction] {
        turns.indices.filter { turns[$0].role == .assistant }.map { a in
            let next = a + 1 < turns.count && turns[a + 1].role == .user ? turns[a + 1].content : nil
            let lower = next?.lowercased() ?? ""
            let correction = next != nil && seedMarkers.contains { lower.contains($0) }
            var repeated = false
            if let n = next, a - 1 >= 0, turns[a - 1].role == .user {
                repeated = Similarity.whitespaceJaccard(turns[a - 1].content, n) > 0.6
            }
            return (correction, repeated, nil)
        }
    }

    static func normalizeAnswer(_ s: String) -> String {
        let f = TextNormalizer.normalize(s).trimmingCharacters()
        let v = Values.of(f)
        if v.count == 1, let only = v.first { return only }
        return f.filter { !$0.isWhitespace && !".,!。".contains($0) }
    }
}

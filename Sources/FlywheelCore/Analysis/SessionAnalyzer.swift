/// One turn of a conversation as the analyser sees it.
public struct ConversationTurn: Equatable, Sendable {
    public var role: Role
    public var content: String
    public var requestID: String?
    public var responseMs: Int?
    /// The store's id for the turn, carried through to signals as the evidence link.
    public var turnID: Int64?

    public init(role: Role, content: String, requestID: String? = nil, responseMs: Int? = nil, turnID: Int64? = nil) {
        self.role = role
        self.content = content
        self.requestID = requestID
        self.responseMs = responseMs
        self.turnID = turnID
    }
}

public enum SignalKind: String, Sendable, CaseIterable {
    case correction
    case repeatedQuestion = "repeated_question"
    case slowResponse = "slow_response"
    case errorLog = "error_log"
}

/// A signal about one assistant answer.
public struct DetectedSignal: Equatable, Sendable {
    public var kind: SignalKind
    /// Index into the analysed turns of the assistant answer the signal concerns.
    public var answerIndex: Int
    public var confidence: Double
    public var rule: String
    /// The user's words (or the timing) that gave it away.
    public var evidence: String
    /// Index of the turn holding the evidence.
    public var evidenceIndex: Int?
    /// For corrections: the right answer when the conversation states it.
    public var correctAnswer: String?
}

/// Finds implicit signals in one session. Pure: turns in, signals out.
public struct SessionAnalyzer: Sendable {
    // Compiled once: a pattern built inside a function is compiled on every call.
    static let lookAgain = Pattern(#"\b(look again|check again)\b|再看"#)

    public var slowMs: Int
    /// How many exchanges after an answer a correction may still refer to it.
    public var lookBack = 2

    public init(slowMs: Int = 15_000) {
        self.slowMs = slowMs
    }

    public func analyze(_ turns: [ConversationTurn]) -> [DetectedSignal] {
        var signals: [DetectedSignal] = []
        let answers = turns.indices.filter { turns[$0].role == .assistant }
        // The user question each answer responds to: the nearest user turn before it.
        func question(for a: Int) -> Int? { (0..<a).last { turns[$0].role == .user } }
        // The first user turn after an answer, before the next answer.
        func reply(to a: Int) -> Int? {
            var i = a + 1
            while i < turns.count {
                if turns[i].role == .user { return i }
                i += 1
            }
            return nil
        }
        func nextAnswer(after i: Int) -> Int? { (i + 1..<turns.count).first { turns[$0].role == .assistant } }

        var corrections: [Int: DetectedSignal] = [:]
        for (n, a) in answers.enumerated() {
            if let ms = turns[a].responseMs, ms > slowMs {
                signals.append(DetectedSignal(kind: .slowResponse, answerIndex: a, confidence: 1, rule: "response_ms>\(slowMs)",
                                              evidence: "answered in \(formatSeconds(ms))", evidenceIndex: a, correctAnswer: nil))
            }
            guard let r = reply(to: a) else { continue }
            let replyText = turns[r].content
            let q = question(for: a)
            let assessment = ReplyRules.assess(reply: replyText, answer: turns[a].content, question: q.map { turns[$0].content })

            // Repeated question: the reply asks the question of this answer again (a format complaint is a
            // correction, not a repeat).
            let repeated = q.map { assessment.rule != "format_violation" && !Self.selfRedirect.matches(TextNormalizer.normalize(replyText))
                && isRepeat(question: turns[$0].content, answer: turns[a].content, reply: replyText) } ?? false
            if repeated {
                signals.append(DetectedSignal(kind: .repeatedQuestion, answerIndex: a, confidence: 0.8, rule: "similar_question",
                                              evidence: replyText, evidenceIndex: r, correctAnswer: nil))
            }

            switch assessment.kind {
            case .none:
                continue
            case .doubt:
                // Doubt counts only when the assistant then changes its answer. After a re-asked question the
                // next answer is simply the first real one, unless the assistant apologises.
                if repeated, let next = nextAnswer(after: r),
                   !ReplyRules.revisionCue.matches(TextNormalizer.normalize(turns[next].content)) { continue }
                // A refusal has nothing to revise: "怎么又打不开了" -> "抱歉,仍然无法读取" is not a correction.
                if Values.of(turns[a].content).isEmpty && ReplyRules.refusalAnswer.matches(TextNormalizer.normalize(turns[a].content)) { continue }
                let target = chooseTarget(answers: Array(answers[max(0, n - lookBack)...n]), reply: replyText, refersBack: assessment.refersBack,
                                          alreadyCorrected: Set(corrections.keys), turns: turns, question: question)
                guard let next = nextAnswer(after: r) else {
                    // The conversation ends on a doubt that offers another value ("09/14 I think"): nobody defended
                    // the answer, so take the user's word, with less confidence.
                    if !Values.of(replyText).subtracting(Values.of(turns[target].content)).isEmpty {
                        keep(DetectedSignal(kind: .correction, answerIndex: target, confidence: 0.6, rule: "unanswered_doubt_with_value",
                                            evidence: replyText, evidenceIndex: r,
                                            correctAnswer: AnswerExtractor.extract(reply: replyText, answer: turns[target].content)), in: &corrections)
                    }
                    continue
                }
                guard ReplyRules.isRevision(previous: turns[target].content, next: turns[next].content, doubtedWith: replyText) else { continue }
                let revised = revisedValue(previous: turns[target].content, revision: turns[next].content)
                let s = DetectedSignal(kind: .correction, answerIndex: target, confidence: 0.8, rule: "doubt_then_revision",
                                       evidence: replyText + " → " + turns[next].content, evidenceIndex: r, correctAnswer: revised)
                keep(s, in: &corrections)
            case .correction:
                let target = assessment.stillWrong ? a : chooseTarget(
                    answers: Array(answers[max(0, n - lookBack)...n]), reply: replyText, refersBack: assessment.refersBack,
                    alreadyCorrected: Set(corrections.keys), turns: turns, question: question)
                // The user was wrong: the assistant stood by its answer and the user accepted that.
                if target == a, assessment.rule != "format_violation", let next = nextAnswer(after: r),
                   defended(previous: turns[a].content, next: turns[next].content, reply: replyText),
                   explicitlyAccepted(answerAt: next, in: turns) { continue }
                var extracted = AnswerExtractor.extract(reply: replyText, answer: turns[target].content)
                if extracted == nil, target == a, assessment.rule != "format_violation", let next = nextAnswer(after: r),
                   ReplyRules.isRevision(previous: turns[a].content, next: turns[next].content, doubtedWith: replyText),
                   accepted(answerAt: next, in: turns) {
                    // "wrong" -> "Sorry, it says SHOP" -> the user does not object: the revision is the answer.
                    extracted = revisedValue(previous: turns[a].content, revision: turns[next].content)
                }
                if assessment.rule == "format_violation" {
                    // The right answer to a format complaint is the assistant's next answer, if it is in the format.
                    extracted = nextAnswer(after: r).map { turns[$0].content }.flatMap { Taxonomy.isJSON($0) ? $0 : nil }
                }
                let s = DetectedSignal(kind: .correction, answerIndex: target, confidence: target == a ? assessment.confidence : assessment.confidence * 0.9,
                                       rule: target == a ? assessment.rule : assessment.rule + "+earlier_answer",
                                       evidence: replyText, evidenceIndex: r, correctAnswer: extracted)
                keep(s, in: &corrections)
            }
        }
        signals += corrections.values
        return signals.sorted { ($0.answerIndex, $0.kind.rawValue) < ($1.answerIndex, $1.kind.rawValue) }
    }

    /// The next answer keeps the values of the previous one and does not apologise.
    func defended(previous: String, next: String, reply: String) -> Bool {
        let prev = Values.of(previous), nxt = Values.of(next)
        guard !prev.isEmpty, !prev.isDisjoint(with: nxt) else { return false }
        // Taking up the value the user gave is agreeing, not defending.
        let offered = Values.of(reply).subtracting(prev)
        if !offered.isEmpty && !offered.isDisjoint(with: nxt) { return false }
        return !ReplyRules.revisionCue.matches(TextNormalizer.normalize(next))
    }

    static let acceptance = Pattern(#"^\W*(ok|okay|oh|ah|i see|got it|fair|fair enough|alright|right|makes sense|my bad|哦|噢|喔|好吧|好的|明白|原来|行吧|那好|那就对了|好|嗯)(?!了)"#)

    /// The user's next turn accepts the answer at `index` ("ok", "哦好吧"); silence is not acceptance.
    func explicitlyAccepted(answerAt index: Int, in turns: [ConversationTurn]) -> Bool {
        guard let r = (index + 1..<turns.count).first(where: { turns[$0].role == .user }) else { return false }
        let reply = TextNormalizer.normalize(turns[r].content)
        return Self.acceptance.matches(reply) && ReplyRules.assess(reply: turns[r].content, answer: turns[index].content).kind == .none
    }

    /// The user did not object to the answer at `index` (no later reply corrects or doubts it).
    func accepted(answerAt index: Int, in turns: [ConversationTurn]) -> Bool {
        guard let r = (index + 1..<turns.count).first(where: { turns[$0].role == .user }) else { return true }
        return ReplyRules.assess(reply: turns[r].content, answer: turns[index].content).kind != .correction
    }

    private func keep(_ s: DetectedSignal, in corrections: inout [Int: DetectedSignal]) {
        if let old = corrections[s.answerIndex], old.confidence >= s.confidence && (old.correctAnswer != nil || s.correctAnswer == nil) { return }
        corrections[s.answerIndex] = s
    }

    /// Which of the recent answers a correction is about: the latest, unless the reply points back or
    /// matches an earlier answer's question or values better.
    func chooseTarget(answers recent: [Int], reply: String, refersBack: Bool, alreadyCorrected: Set<Int>, turns: [ConversationTurn],
                      question: (Int) -> Int?) -> Int {
        guard recent.count > 1 else { return recent.last! }
        let replyValues = Values.of(reply)
        var best = recent.last!
        var bestScore = -Double.infinity
        let latestTokens = question(recent.last!).map { Set(Similarity.tokens(turns[$0].content + " " + turns[recent.last!].content)) } ?? []
        let replyTokens = Set(Similarity.tokens(reply))
        for (k, a) in recent.enumerated() {
            let isLatest = k == recent.count - 1
            var score = 0.0
            if let q = question(a) { score += 2 * Similarity.containment(reply, in: turns[q].content + " " + turns[a].content) }
            if alreadyCorrected.contains(a) { score -= 0.5 }
            // A refusal stated nothing that could be wrong.
            if Values.of(turns[a].content).isEmpty && ReplyRules.refusalAnswer.matches(TextNormalizer.normalize(turns[a].content)) { score -= 2 }
            // Words the reply shares with this exchange but not with the latest one ("周三" vs "周四").
            if !isLatest, !latestTokens.isEmpty {
                let mine = Set(Similarity.tokens((question(a).map { turns[$0].content } ?? "") + " " + turns[a].content))
                let distinctive = replyTokens.intersection(mine).subtracting(latestTokens).filter { $0.count >= 2 }
                score += min(1, 0.5 * Double(distinctive.count))
            }
            let answerValues = Values.of(turns[a].content)
            if !answerValues.isEmpty && !replyValues.intersection(answerValues).isEmpty { score += 1 }
            if AnswerExtractor.sameShapeValue(TextNormalizer.fold(reply), answer: TextNormalizer.fold(turns[a].content)) != nil { score += 1 }
            if answerValues.isEmpty && !replyValues.isEmpty { score -= 0.3 }  // a stated value cannot correct a value-free answer
            if isLatest { score += refersBack ? -0.5 : 0.35 }
            if score > bestScore {
                bestScore = score
                best = a
            }
        }
        return best
    }

    /// The value the assistant changed to, or the extracted answer of the revision.
    func revisedValue(previous: String, revision: String) -> String? {
        let prev = Values.of(previous)
        if let v = AnswerExtractor.valueSpans(TextNormalizer.fold(revision)).first(where: { !prev.isSuperset(of: Values.of($0)) }) {
            return v
        }
        return AnswerExtractor.extract(reply: revision, answer: previous)
    }

    static let unhelpful = Pattern(
        #"\b(can't|cannot|can not|unable|not able|not clear|unclear|blurry|don't know|not sure|couldn't|could not|no image|error|sorry|unfortunately|several|some|a few|various|appears to be|seems to be|looks like|timed out|try again|can include|may be|might be|please refer|refer to|check the manual|consult)\b|请参考|建议参考|参考说明书|以.{0,6}为准|适量|无法|不能|看不清|不清楚|模糊|不确定|不太确定|抱歉|不知道|没有图片|出错|失败|没法|一些|几个|很多|若干|似乎|好像是|超时|错误|可能是"#)
    static let repeatCue = Pattern(#"\b(again|i asked|my question|i said|once more|repeat|exactly|just tell me|didn't answer|you didn't|not what i asked|answer my question|still|tho|though)\b|再|我问的是|我是问|重新|我说的是|还是那个问题|还没回答|没回答|到底|具体|直接告诉我|[!！]\s*\S|\?\?"#)
    static let strongRepeatCue = Pattern(#"\b(didn't answer|you didn't answer|not what i asked|answer my question|just (tell|type|give|say|read))\b|还没回答|没回答我|没回答|就告诉我|直接告诉我"#)
    static let askedCue = Pattern(#"\b(i asked|i was asking|my question was)\b|我问的是|我是问|我刚才问|(^|\s)我问(?!你)"#)
    /// The user changes their own question ("sorry, I meant the third one"): not a repeat.
    static let selfRedirect = Pattern(#"\bi meant\b|\bsorry\b.{0,20}\bmean\b|我是想问|我本来想问|我其实想问|我想问的是|我说错了|我问错了|我打错了"#)
    static let tryAgain = Pattern(#"\b(try again|one more time|i literally|it's literally|that's what i sent|its printed|it's printed|it's right|its right|right (there|under|above|next to))\b|再试|再帮我|再认|重新|帮我|我就是|就在|在.{0,6}(那|这)一?(行|个|里|边)"#)
    static let refusal = Pattern(
        #"\b(can't|cannot|can not|unable|not able|couldn't|could not|no image|error|timed out|try again|failed|don't have access|can't see|can't find)\b|无法|不能|看不清|看不到|找不到|不清楚|模糊|没有图片|出错|失败|没法|超时|错误|重试"#)
    static let notTheThing = Pattern(#"\bnot the ([a-z][a-z ]{1,30})"#)
    static let questionLike = Pattern(#"\?|吗|呢|什么|什麼|啥|多少|几|哪|谁|怎么|为什么|帮我看|帮我读|帮我查|看一下|看下|告诉我|读一下|\b(what|what's|which|how|when|where|who|why|is|are|does|do|can|could|tell me|read|check)\b"#)
    static let asksForNumber = Pattern(#"\b(how many|how much|what time|when|date|price|total|amount|number|reading|cost|code|digit|year|gate|seat|room)\b|多少|几|日期|时间|价格|金额|号码|读数|数字|年份"#)
    static let slotWords = Pattern(#"第?[一二三四五六七八九十两]+(行|个|项|页|张|位|道|排|列|层)|第\d+|\b(first|second|third|fourth|fifth|last|left|right|top|bottom|upper|lower|next|previous|1st|2nd|3rd|\d+th)\b|左|右|\d+"#)

    /// The reply re-asks the question (same words, or most of them, or after an answer that did not answer).
    func isRepeat(question: String, answer: String, reply: String) -> Bool {
        let r = TextNormalizer.normalize(reply), q = TextNormalizer.normalize(question)
        if ReplyRules.isClosing(r) { return false }
        let dice = Similarity.dice(question, reply)
        let covered = Similarity.containment(question, in: reply)
        let a = TextNormalizer.normalize(answer)
        if Self.strongRepeatCue.matches(r) { return true }
        // "我问的是总价": a repeat when what follows is the original question, a redirect otherwise.
        if Self.askedCue.matches(r) { return covered >= 0.2 || dice >= 0.15 }
        // "the password, not the network name": the answer gave the wrong thing; the user re-asks.
        if let m = Self.notTheThing.firstMatch(r), covered > 0 {
            let thing = [1, 2].compactMap { g -> String? in
                guard m.numberOfRanges > g, let rr = Range(m.range(at: g), in: r) else { return nil }
                return String(r[rr])
            }.first ?? ""
            if !thing.isEmpty && a.contains(thing.trimmingCharacters()) { return true }
        }
        let answerUnhelpfulEarly = Self.unhelpful.matches(a) || Self.refusal.matches(a)
        // "再试一次 招牌上的字" / "再帮我认认": trying again after a non-answer.
        if answerUnhelpfulEarly && Self.tryAgain.matches(r) { return true }
        if Self.refusal.matches(a) && Self.lookAgain.matches(r) { return true }
        guard Self.questionLike.matches(r) else { return false }
        // "几点?" after an answer that gave the date: part of the original question, asked again.
        if Similarity.containment(reply, in: question) >= 0.75 && !Similarity.tokens(reply).isEmpty
            && Similarity.tokens(reply).count < Similarity.tokens(question).count && !ReplyRules.isClosing(r) {
            // Only when the answer missed or the user signals it ("tho", "??"): "What shape is it?" after "Blue."
            // narrows to another attribute of the same thing, which is a new question.
            if Values.of(reply).isSubset(of: Values.of(answer)) && (answerUnhelpfulEarly || Self.repeatCue.matches(r)) { return true }
        }
        // "第一行的价格" -> "第二行的价格" asks about another slot: a new question, however similar.
        if slots(q) != slots(r) && !slots(r).isEmpty { return false }
        let answerUnhelpful = Self.unhelpful.matches(a)
            || (Self.asksForNumber.matches(q) && !a.contains(where: \.isNumber))
        let cue = Self.repeatCue.matches(r)
        // After a refusal or a failure, asking about the same thing again in other words.
        if Self.refusal.matches(a) && (dice >= 0.15 || covered >= 0.3) { return true }
        if dice >= 0.75 { return true }
        if dice >= 0.5 && (answerUnhelpful || cue || covered >= 0.8) { return true }
        if answerUnhelpful && (dice >= 0.25 || covered >= 0.5) { return true }
        if answerUnhelpful && cue && dice >= 0.15 { return true }
        if covered >= 0.5 && cue { return true }
        return false
    }

    func slots(_ s: String) -> Set<String> {
        Set(Self.slotWords.allMatches(s).compactMap { m in Range(m.range, in: s).map { String(s[$0]) } })
    }
}


func formatSeconds(_ ms: Int) -> String {
    let tenths = (ms + 50) / 100
    return "\(tenths / 10).\(tenths % 10) s"
}

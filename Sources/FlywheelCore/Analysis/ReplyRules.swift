/// How a user's reply relates to the assistant answer before it. This is where "不对,是78" is told
/// apart from "not bad", "没错", "不是很辣吧?", "the cashier got it wrong" and "sorry, I meant the second
/// line": neutral idioms are removed first, replies about someone else or about the user's own words are
/// set aside, and only then are correction cues looked for, with the answer's own values in view.
public struct ReplyAssessment: Equatable, Sendable {
    public enum Kind: String, Sendable { case correction, doubt, none }
    public var kind: Kind
    /// Which rule decided; stored with the signal.
    public var rule: String
    public var confidence: Double
    /// True when the reply points back to an earlier answer ("earlier", "刚才").
    public var refersBack: Bool

    static func none(_ rule: String) -> ReplyAssessment { .init(kind: .none, rule: rule, confidence: 0, refersBack: false) }
}

public enum ReplyRules {
    // Idioms that contain cue-like words but say nothing about the answer being wrong.
    static let neutralIdioms = Pattern(
        #"\b(not bad|no worries|no problem|not a problem|nothing else|no,? thanks?( you)?|no need|never ?mind|no rush|not sure|i'm not sure|why not|that's all|no more questions?|not at all|i know|i see|no doubt|not yet|no idea|nothing wrong)\b|没错|不错|对不起|不客气|错过|不用了|不用谢|不好意思|没问题|不知道|不太清楚|不太懂|不是很|没有别的|没别的|不要紧|不太确定|不太明白|对对|对的|是的|不对称|错综"#)
    // The user's own mistake: their question, their photo, their button.
    static let selfError = Pattern(
        #"\bi (typed|said|meant|asked|sent|wrote|pressed|uploaded|attached|picked|chose|gave|misspoke|mistyped|clicked|tapped)\b|\bi('ve| have) (sent|uploaded|attached|typed)\b|\bmy (mistake|bad|typo|fault|error)\b|\bwrong (button|photo|picture|image|pic|file|key|one i sent|receipt i|attachment|chat|window)\b|\bignore (that|this|it|my)\b|\bi('m| am) asking\b|\bi asked (about|for)\b|\bi want(ed)? (to know|the)\b|我(刚才|刚刚)?(说|打|问|写|发|输|输入|拍|传|选|按|点)错|我的错|我是问|我想问|我问的是|我要问|我要的是|发错|打错字|传错|拍错|问错"#)
    // Someone other than the assistant got it wrong.
    static let otherParty = Pattern(
        #"\b(cashier|clerk|store|shop|restaurant|waiter|waitress|they|them|he|she|boss|bank|driver|teacher|seller|merchant|staff|printer|machine|wife|husband|someone|somebody|guy|lady|company|landlord|accountant|colleague|friend|mom|dad|manager)\b[^.?!]{0,40}\b(wrong|mistake|overcharged|miscounted|messed up|error)|\bnot you\b|\bwrong of (them|him|her)\b|(店员|收银员|收银|老板|商家|服务员|他们|(?<!其)他|她|别人|银行|司机|卖家|餐厅|店家|店里|老公|老婆|同事|公司|打印机|机器|会计|朋友|妈|爸).{0,8}(错|不对|多收|少找)|不是你"#)
    // A redirect: "not the total, the tax please", "不是,我是问日期".
    static let redirect = Pattern(
        #"\bnot the \w+,? (the|i|but)\b|\binstead\b|\bwhat about\b|\bhow about\b|\balso\b.*\?|不是.{0,4}(我是问|我问|我想|我要)|而是问|另外|还有一个问题"#)
    static let doubt = Pattern(
        #"\b(are you sure|you sure|sure about that|are you certain|really\?|double[- ]?check|check again|look again|look closer|is it really|you positive|hmm+,? really)\b|确定|真的吗|真的是|你确定|没看错吗|再看看|再看一下|再确认|仔细看看|好好看看|再仔细|是吗\?"#)
    static let strongEN = Pattern(
        #"\b(wrong|incorrect|inaccurate|misread|mistaken|not right|not correct|not quite right|that's not it|not what it says|read it wrong|off by|nope|nah|not even close|that's not true|false)\b"#)
    static let strongZH = Pattern(#"不对|错了|错啦|错的|错喽|错咯|错误|搞错|弄错|看错|读错|认错|识别错|算错|写错|答错|说错|有误|不准确|不正确|不准|瞎说|胡说|乱说"#)
    static let leadingNo = Pattern(#"^\W*((no|nope|nah)\b|不是|不)"#)
    static let valueLead = Pattern(
        #"\b(should be|it's actually|actually,? it's|actually says|it says|it reads|says|is actually)\b|应该是|应为|明明是|其实是|实际是|实际上是|正确的是|写的是|上面写的是|是[^,.!?]{1,20}不是|不是[^,.!?]{1,20},?(是|而是)"#)
    static let backReference = Pattern(
        #"\b(earlier|before|previous|previously|first one|first answer|you said|you gave|you told me|last answer|the one before|above)\b|刚才|刚刚|之前|前面|上面那个|第一个|你说的|你刚说|上一个"#)
    static let question = Pattern(#"\?\s*$|吗\s*$|吧\s*$|呢\s*$"#)
    static let questionStart = Pattern(#"^\W*(is|isn't|does|doesn't|can|could|why|what|how|which|where|when|do|are|aren't|will|would|should|did|who)\b"#)

    /// Classifies `reply` (a user turn) against the assistant `answer` just before it.
    public static func assess(reply: String, answer: String) -> ReplyAssessment {
        let raw = TextNormalizer.normalize(reply)
        let refersBack = backReference.matches(raw)
        if otherParty.matches(raw) { return .none("other_party") }
        if selfError.matches(raw) { return .none("self_error") }
        let text = neutralIdioms.removing(from: raw)
        let replyValues = Values.of(reply)
        let answerValues = Values.of(answer)
        let newValues = replyValues.subtracting(answerValues)
        let negatesAnswerValue = !answerValues.isEmpty && Pattern(#"不是|\bnot\b|\bisn't\b"#).matches(text)
            && !replyValues.intersection(answerValues).isEmpty
        let isQuestion = question.matches(text) || questionStart.matches(text)
        var result = ReplyAssessment(kind: .none, rule: "none", confidence: 0, refersBack: refersBack)

        if strongZH.matches(text) || strongEN.matches(text) {
            // "nope"/"nah" right after the assistant asked the user something answers that question.
            let bareNo = Pattern(#"^\W*(nope|nah)\W*$"#).matches(text)
            if bareNo && answer.trimmingCharacters().hasSuffix("?") { return .none("answer_to_question") }
            if isQuestion && !newValues.isEmpty && !Pattern(#"\b(wrong|incorrect|misread)\b|错|不对"#).matches(text) {
                return ReplyAssessment(kind: .doubt, rule: "doubt_question_value", confidence: 0.5, refersBack: refersBack)
            }
            result.kind = .correction
            result.rule = strongZH.matches(text) ? "explicit_negation_zh" : "explicit_negation_en"
            result.confidence = newValues.isEmpty ? 0.85 : 0.95
        } else if valueLead.matches(text) && !newValues.isEmpty {
            result.kind = .correction
            result.rule = "states_other_value"
            result.confidence = 0.9
        } else if leadingNo.matches(text) && (!newValues.isEmpty || negatesAnswerValue) && !isQuestion {
            result.kind = .correction
            result.rule = "no_with_other_value"
            result.confidence = 0.9
        } else if negatesAnswerValue && !isQuestion {
            result.kind = .correction
            result.rule = "negates_answer_value"
            result.confidence = 0.85
        } else if doubt.matches(text) {
            if !newValues.isEmpty && Pattern(#"\b(look again|look closer|check again)\b|再看|仔细看"#).matches(text) && !isQuestion {
                result.kind = .correction
                result.rule = "look_again_with_value"
                result.confidence = 0.9
            } else {
                return ReplyAssessment(kind: .doubt, rule: "doubt", confidence: 0.5, refersBack: refersBack)
            }
        } else if isQuestion && !answerValues.isEmpty && !replyValues.isEmpty && !newValues.isEmpty
                    && Pattern(#"^\W*(is it|is that|it's|是|难道)|吗\s*\??\s*$"#).matches(text) && text.count <= 24 {
            // "是78吗?" / "is it 78?" right after "87": doubt that needs the assistant's revision to count.
            return ReplyAssessment(kind: .doubt, rule: "doubt_question_value", confidence: 0.5, refersBack: refersBack)
        } else {
            return .none("no_cue")
        }
        if redirect.matches(raw) && result.rule != "explicit_negation_zh" && result.rule != "explicit_negation_en" {
            return .none("redirect")
        }
        return result
    }

    static let revisionCue = Pattern(
        #"\b(sorry|apolog\w*|you're right|you are right|my mistake|my bad|i misread|correction|let me correct|on closer look|looking again|upon closer|i stand corrected|good catch|indeed)\b|抱歉|对不起|不好意思|您说得对|你说得对|说得对|啊对|哦对|噢对|我看错|我读错|更正|纠正|重新看|仔细看了|是我错"#)

    /// After a doubt, did the assistant change its answer (so the first answer was wrong)?
    public static func isRevision(previous: String, next: String) -> Bool {
        let n = TextNormalizer.normalize(next)
        let prevValues = Values.of(previous), nextValues = Values.of(next)
        // A new value is a revision; the same value with "是的/确实/yes" is the assistant standing by it.
        if !nextValues.isEmpty && !nextValues.isSubset(of: prevValues) { return true }
        return revisionCue.matches(n)
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

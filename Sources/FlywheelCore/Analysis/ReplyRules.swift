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
    /// "still wrong": about the latest answer even if an earlier one was corrected too.
    public var stillWrong = false

    static func none(_ rule: String) -> ReplyAssessment { .init(kind: .none, rule: rule, confidence: 0, refersBack: false) }
}

public enum ReplyRules {
    // Compiled once: a pattern built inside a function is compiled on every call.
    static let negationWord = Pattern(#"不是|\bnot\b|\bisn't\b"#)
    static let exclamationWhat = Pattern(#"啥呀|什么呀"#)
    static let onlyNo = Pattern(#"^\W*(no|nope|nah)\W*$"#)
    static let wrongWord = Pattern(#"\b(wrong|incorrect|misread)\b"#)
    static let wrongOrNegation = Pattern(#"\b(wrong|incorrect|misread)\b|错|不对|反了"#)
    static let soThenStart = Pattern(#"^\W*(so|then|那|所以)\b"#)
    static let bareNo = Pattern(#"^\W*((hmm+|um+|uh+|well|lol|oh|ah|嗯|呃)\W*)?(no|nope|nah|不|不是)\W*$"#)
    static let lookAgainPhrase = Pattern(#"\b(look again|look closer|check again)\b|再看|仔细看|你看下|你看看|看下"#)

    // Idioms that contain cue-like words but say nothing about the answer being wrong.
    static let neutralIdioms = Pattern(
        #"\b(not bad|no worries|no problem|not a problem|nothing else|no,? thanks?( you)?|no need|never ?mind|no rush|not sure|i'm not sure|why not|that's all|that's everything|that's it,? thanks|no more questions?|not at all|i know|i see|no doubt|not yet|no idea|nothing wrong|wrong way|wrong side|it's fine|that's fine|it's ok|it's okay|no,? that's it|not right now|right now|not wrong|something'?s? wrong|something is wrong|not terrible|not too bad|looks right|rest looks right|别的都对|其他都对|其余都对)\b|没错|不错|对不起|不客气|错过|不用了|不用谢|不好意思|没问题|不知道|不太清楚|不太懂|不是很|没有别的|没别的|不要紧|不太确定|不太明白|(?<!不)对对|(?<!不)对的|(?<!不)是的|不对称|错综|对不对|是不是|(?<!不)对吧|不对劲|错误码|报错|出错|我也觉得|不是什么大事|没事了?|没什么|这才对|这回对了|这次对了|现在对了|再看看这张|看看这张|这张呢|下一张|换一张|\b(all good|all set|that's right|exactly right|spot on)\b"#)
    // The user's own mistake: their question, their photo, their button.
    static let selfError = Pattern(
        #"\bi (typed|said|meant|asked|sent|wrote|pressed|uploaded|attached|picked|chose|gave|misspoke|mistyped|clicked|tapped|misread|read it wrong)\b|\bi('ve| have) (sent|uploaded|attached|typed)\b|\bmy (mistake|bad|typo|fault|error)\b|\bwrong (button|photo|picture|image|pic|file|key|one i sent|receipt i|attachment|chat|window)\b|\bignore (that|this|it|my)\b|\bi('m| am) asking\b|\bi (was|went|got|took|am|'m|picked|grabbed|boarded|parked)\b.{0,30}\bwrong\b|\bi asked (about|for)\b|\bi want(ed)? (to know|the)\b|我(刚才|刚刚)?(说|打|问|写|发|输|输入|拍|传|选|按|点|看|读|记|搞|弄)错|是我(看|读|弄|搞|记)?错|我的错|我是问|我是想问|我本来想问|我其实想问|我想问|我问的是|我要问|我要的是|发错|打错字|传错|拍错|问错"#)
    // Someone (or something) other than the assistant got it wrong.
    static let otherParty = Pattern(
        #"\b(cashier|clerk|store|shop|restaurant|waiter|waitress|they|them|he|she|boss|bank|driver|teacher|seller|merchant|staff|printer|machine|wife|husband|someone|somebody|guy|lady|company|landlord|accountant|colleague|friend|mom|dad|manager|sign|receipt|label|menu|document|invoice|ticket|form|tag|poster|paper|website|app)\b[^.?!]{0,40}\b(wrong|mistake|overcharged|miscounted|messed up|error|typo)|\bnot you\b|\bwrong of (them|him|her)\b|(店员|收银员|收银|老板|商家|服务员|他们|(?<!其)他|她|别人|银行|司机|卖家|餐厅|店家|店里|老公|老婆|同事|公司|打印机|机器|会计|朋友|妈|爸|价签|标签|小票|收据|发票|菜单|牌子|招牌|海报|商品|货架|系统).{0,8}(错|不对|多收|少找)|不是你|(写|印|标|打)错了吧|\b(app|website|site|email|system|board|screen|ticket machine) (says|said|shows|showed)\b"#)
    // The reply says the assistant itself is wrong; then a third party mentioned nearby does not matter.
    static let assistantAgent = Pattern(#"\byou(r|'ve|'re)?\b.{0,24}\b(wrong|misread|mixed|got it|read|missed|backwards)|你.{0,4}(错|不对|看错|读错|搞错|说的|识别|数错|算错|这个答案)"#)
    // A redirect: "not the total, the tax please", "不是,我是问日期".
    static let redirect = Pattern(
        #"\bnot the \w+,? (the|i|but)\b|\binstead\b|\bwhat about\b|\bhow about\b|\balso\b.*\?|不是.{0,4}(我是问|我问|我想|我要)|而是问|还有一个问题"#)
    static let doubt = Pattern(
        #"\b(are you sure|you sure|sure about that|are you certain|really|double[- ]?check|check again|look again|look closer|is it really|you positive)\b|^\W*(isn't|is it not|aren't|shouldn't|wasn't|doesn't it|don't you mean|did you mean|are you)\b|\b(i could've sworn|i thought|i think|pretty sure|i'm pretty sure|seriously|no way|reread|read again|not working|doesn't work|didn't work|won't work|seems like a lot|that's a lot|too (much|many|high|low))\b|连不上|不行啊|没用啊|打不开|这么多|太多了吧|太少了吧|这么贵|是\S{1,10}吧|我看(着)?(是|像)|^\W*\?+\W*$|^\W*再看\W*$|确定|真的吗|真的假的|真的是|你确定|没看错吗|再看看|再看一下|你看下|你看看|你再看|再确认|仔细看看|好好看看|再仔细|是吗|怎么可能|不可能|我记得|我印象中|印象中|好像是|像是|看着像|不是.{0,10}(吧|吗)\s*\?*\s*$|好像不是|难道不是|应该是.{0,10}(吧|吗)\s*\?*\s*$"#)
    static let strongEN = Pattern(
        #"\b(wrong|incorrect|inaccurate|misread|mistaken|not right|not correct|not quite right|that's not it|not what it says|read it wrong|off by|nope|nah|not even close|that's not true|false|backwards|mixed up|mixed them up|swapped|the other way around|doesn't look right|doesn't seem right|that's off|way off|not it|not quite|are you blind|(is|are|looks|seems|was) off|you missed|missed one|missing one|left out|you forgot|(they|it) (are|is|do|does) (tho|though))\b"#)
    static let strongZH = Pattern(#"不对|错了|错啦|错的|错喽|错咯|搞错|弄错|看错|读错|认错|识别错|算错|写错|答错|说错|数错|有误|不准确|不正确|不准|瞎说|胡说|乱说|才对|反了|颠倒|不是这么写|不是这样|答案有问题|你这.{0,4}有问题|你瞎|瞎了|眼瞎|看清楚|看仔细|不太对|漏了|漏掉|少了一个|还少|(^|[^a-z\u4e00-\u9fff])错($|[^a-z过误综])"#)
    static let strongLeadZH = Pattern(#"(?:明明是|其实是|实际上是|正确的是|应该是|其实写的是?)\s*((?!我|你|他|她|它|我们)[^,.!?;]{1,12})"#)
    static let hedge = Pattern(#"\b(i could've sworn|i thought|i think|pretty sure|i'm pretty sure)\b|我记得|我印象中|印象中|好像是|像是|看着像|是\S{1,10}吧|我看(着)?(是|像)"#)
    static let partialCorrection = Pattern(#"\b(rest looks right|rest is right|everything else is right|other than that|the rest is fine)\b|别的都对|其他都对|其余都对|其它都对"#)
    static let refusalAnswer = Pattern(#"\b(can't|cannot|unable|don't have access|not able|sorry)\b|无法|不能|看不清|看不到|抱歉"#)
    static let negatedPart = Pattern(#"^\W*([^\s,.!?]{2,10}?)\s*(?:没有|不是|isn't|is not|aren't)\s*(?:吧|啊|呀|\S)"#)
    static let restatement = Pattern(#"^\W*(?:it's|its|it is|it says|是|写的是)\s+([^,.!?;]{2,30}?)\s*(?:[,.!?;]|$)"#)
    static func shortAnswer(_ a: String) -> Bool { a.split(separator: " ").count <= 5 && a.count <= 30 }

    static let bareValue = Pattern(#"^[\W]*(是|it's|its|=)?\s*[$¥€£]?\d[\d.,:/-]*\s*[a-z%元块号点分度]*[\W]*$"#)
    static let copula = Pattern(#"(?:那|这)个?是\s*([^,.!?\s]{1,12})|\b(?:that's|it's) (?:a |an |the )?([a-z][a-z]{2,20})\b"#)

    /// A CJK character or an English word in common (of at least 3 letters).
    static func sharesContent(_ a: String, _ b: String) -> Bool {
        let aChars = Set(a.unicodeScalars.filter(TextNormalizer.isCJK)).subtracting(Similarity.cjkStop)
        if !aChars.isDisjoint(with: Set(b.unicodeScalars.filter(TextNormalizer.isCJK))) { return true }
        let words = { (s: String) in Set(s.split(whereSeparator: { !$0.isLetter }).map { Similarity.stem(String($0)) }.filter { $0.count >= 3 && $0.allSatisfy(\.isASCII) }) }
        return !words(a).subtracting(Similarity.stopWords).isDisjoint(with: words(b))
    }

    static let leadingNo = Pattern(#"^\W*((lol|haha|hmm+|um+|uh+|well|oh|ah)\W+)?((no|nope|nah)\b|不是|不\W|不$)"#)
    static let assertion = Pattern(#"\b(it's|that's|it says|should be|they're|there are|there's)\b|(?<!不)是"#)
    static let valueLead = Pattern(
        #"^\W*it's\b|\b(should be|it's actually|actually,? it's|actually says|it says|it reads|says|is actually|close,? but|almost,? (it's)?|(total|amount|sum|number|date|price|reading|name|time|year|code|plate|word|text|it|that|this|the \w+) (is|was|reads|says|should be))\b|\b(ends in|ends with|starts with)\b|应该是|应为|明明是|其实是|其实写的|实际是|实际上是|正确的是|写的是|写的|上面写的是|结尾是|开头是|差一点|差点|少了|多了|漏了|不止|是[^,.!?]{1,20}不是|不是[^,.!?]{1,20},?(是|而是)"#)
    // The answer broke the requested format: "that's not JSON", "我要的是JSON", "请只返回JSON".
    static let formatComplaint = Pattern(
        #"\b(not|isn't|wasn't|asked for|wanted|only|just|said)\b.{0,12}\bjson\b|\bjson\b.{0,10}\b(only|please)\b|(要的是|只返回|只要|不是|说了)\s*json|json\s*(啊|呀|!)"#)
    static let mentionsFormat = Pattern(#"\bjson\b|格式"#)
    static let thanks = Pattern(#"谢谢|多谢|\b(thanks|thank you|thx|cheers)\b"#)
    static let whQuestion = Pattern(#"\b(how|what|what's|which|when|where|who|why)\b|^\W*(with|plus|and|including|加|算上|包括)\b|多少|几|什么|哪|谁|怎么|为什么|如何|啥"#)
    static let backReference = Pattern(
        #"\b(earlier|before|previous|previously|first one|first answer|you said|you gave|you told me|last answer|the one before|above|by the way|btw)\b|刚才|刚刚|之前|前面|上面那个|第一个|你说的|你刚说|上一个|另外"#)
    static let stillWrong = Pattern(#"\bstill\b|还是(不对|错)|仍然|又错"#)
    static let question = Pattern(#"\?[!?\s]*$|吗\s*[!?]*\s*$|吧\s*[!?]*\s*$|呢\s*[!?]*\s*$"#)
    static let questionStart = Pattern(#"^\W*(is|isn't|does|doesn't|can|could|why|what|how|which|where|when|do|are|aren't|will|would|should|did|who|so|then)\b|^\W*(那|所以)(?!个?是)"#)
    static let contrastSpans = Pattern(
        #"(?:是|应该是|明明是|says|it's|is|reads)\s*([^,.!?;]{1,24}?)\s*,?\s*(?:而)?(?:不是\s*|not\s+)([^,.!?;\s]{1,24})|\b(?:ends in|ends with|starts with)\s+(\S{1,24})\s+not\s+(\S{1,24})|不是\s*([^,.!?;]{1,24}?)\s*,?\s*(?:而是|是)\s*([^,.!?;]{1,24})"#)

    /// Classifies `reply` (a user turn) against the assistant `answer` just before it.
    public static func assess(reply: String, answer: String, question askedQuestion: String? = nil) -> ReplyAssessment {
        let raw = TextNormalizer.normalize(reply)
        let refersBack = backReference.matches(raw)
        // A complaint about format: explicit ("I asked for JSON"), or a format demand after a question that
        // already asked for it. A first request for JSON is a new question, not a correction.
        let askedForFormat = askedQuestion.map { mentionsFormat.matches(TextNormalizer.normalize($0)) } ?? false
        if !Taxonomy.isJSON(answer) && (formatComplaint.matches(raw) || (askedForFormat && mentionsFormat.matches(raw))) {
            return ReplyAssessment(kind: .correction, rule: "format_violation", confidence: 0.85, refersBack: refersBack)
        }
        let aboutAssistant = assistantAgent.matches(raw)
        if otherParty.matches(raw) && !aboutAssistant { return .none("other_party") }
        if selfError.matches(raw) && !aboutAssistant { return .none("self_error") }
        let text = neutralIdioms.removing(from: raw)
        let answerNorm = TextNormalizer.normalize(answer)
        let replyValues = Values.of(reply)
        let answerValues = Values.of(answer)
        let newValues = replyValues.subtracting(answerValues)
        let nearMiss = hasNearMiss(reply: text, answer: answerNorm)
        let otherValue = !newValues.isEmpty || nearMiss
        let negatesAnswerValue = !answerValues.isEmpty && Self.negationWord.matches(text)
            && !replyValues.intersection(answerValues).isEmpty
        let contrast = contrastNegatesAnswer(text, answerNorm)
        let isQuestion = question.matches(text) || questionStart.matches(text)
            || (whQuestion.matches(text) && !Self.exclamationWhat.matches(text) && text.count <= 40 && !strongZH.matches(text)
                && !strongEN.matches(text) && !valueLead.matches(text))
        let answerAskedUser = answer.trimmingCharacters().hasSuffix("?") || answer.trimmingCharacters().hasSuffix("？")
        func make(_ kind: ReplyAssessment.Kind, _ rule: String, _ confidence: Double) -> ReplyAssessment {
            ReplyAssessment(kind: kind, rule: rule, confidence: confidence, refersBack: refersBack, stillWrong: stillWrong.matches(raw))
        }
        if text.trimmingCharacters().isEmpty || isClosing(text) { return .none("neutral") }
        // Nothing but punctuation left once the neutral phrase is gone ("这张呢?" -> "?").
        if text != raw && !text.contains(where: { $0.isLetter || $0.isNumber }) { return .none("neutral") }
        // "nope, all good": the no belongs to the polite phrase.
        if text != raw && Self.onlyNo.matches(text) { return .none("polite_no") }
        if thanks.matches(text) && !strongZH.matches(text) && !strongEN.matches(text) && !otherValue { return .none("thanks") }
        // A bare "no"/"nope" answers the assistant's own question ("Anything else?") when it asked one.
        if answerAskedUser && leadingNo.matches(text) && !otherValue && !strongZH.matches(text) && !assertion.matches(text)
            && !Self.wrongWord.matches(text) {
            return .none("answer_to_question")
        }
        let strong = strongZH.matches(text) || strongEN.matches(text)
        if redirect.matches(raw) && !aboutAssistant && !strongZH.matches(text) && !Self.wrongWord.matches(text) {
            return .none("redirect")
        }
        if strong {
            if isQuestion && !Self.wrongOrNegation.matches(text) {
                return make(.doubt, "doubt_question", 0.5)
            }
            if isQuestion && Self.soThenStart.matches(text) && !aboutAssistant {
                return .none("clarifying_question")
            }
            return make(.correction, strongZH.matches(text) ? "explicit_negation_zh" : "explicit_negation_en", otherValue ? 0.95 : 0.85)
        }
        if isQuestion {
            // Questions that doubt or offer another value count only if the assistant then revises.
            // A new question that carries its own numbers ("上个月是35401,用了多少?") is a follow-up, not doubt.
            let comparable = answerValues.isEmpty || nearMiss || sameKind(newValues, answerValues)
            if doubt.matches(text) || negatesAnswerValue || contrast || (otherValue && comparable && !whQuestion.matches(text)) {
                return make(.doubt, "doubt", 0.5)
            }
            if !answerValues.isEmpty && !replyValues.intersection(answerValues).isEmpty && text.count <= 16 {
                return make(.doubt, "echo_question", 0.5)  // "嗯?87?" / "41?"
            }
            return .none("question")
        }
        // Information given after a refusal ("its in the pic, next 42 after 5") contradicts nothing.
        if answerValues.isEmpty && refusalAnswer.matches(answerNorm) { return .none("after_refusal") }
        if contrast { return make(.correction, "contrast_negates_answer", 0.9) }
        if let part = negatedPart.capture(text), part.count >= 2, answerNorm.contains(part.trimmingCharacters()) {
            return make(.correction, "negates_part_of_answer", 0.85)  // "早退没有吧", "veggie burger 不是 vegan"
        }
        if let stated = restatement.capture(text), shortAnswer(answerNorm), !answerNorm.contains(stated.lowercased()),
           sharesContent(stated.lowercased(), answerNorm) || hasNearMiss(reply: stated.lowercased(), answer: answerNorm) {
            return make(.correction, "restates_short_answer", 0.85)  // "its Dear Marjorie" after "Dear Margaret"
        }
        // Hedged ("I could've sworn it was 55", "我印象中是1"): doubt, which counts only if the assistant revises.
        if hedge.matches(text) && !strong { return make(.doubt, "hedged_value", 0.5) }
        if otherValue && partialCorrection.matches(raw) { return make(.correction, "partial_correction", 0.9) }
        if !newValues.isEmpty && AnswerExtractor.sameShapeValue(TextNormalizer.fold(reply), answer: TextNormalizer.fold(answer)) != nil {
            return make(.correction, "near_identical_value", 0.85)  // "135 2207 6818" after "135 2207 6618"
        }
        if valueLead.matches(text) && otherValue { return make(.correction, "states_other_value", 0.9) }
        if let stated = strongLeadZH.capture(text), !answerNorm.contains(stated.trimmingCharacters()) {
            return make(.correction, "states_other_value", 0.85)  // "这明明是六边形"
        }
        if leadingNo.matches(text) && (otherValue || negatesAnswerValue || assertion.matches(text)) { return make(.correction, "no_with_other_value", 0.9) }
        if Self.bareNo.matches(text) && text == raw {
            return make(.correction, "bare_no", 0.8)
        }
        if negatesAnswerValue { return make(.correction, "negates_answer_value", 0.85) }
        if doubt.matches(text) {
            if otherValue && Self.lookAgainPhrase.matches(text) {
                return make(.correction, "look_again_with_value", 0.9)
            }
            return make(.doubt, "doubt", 0.5)
        }
        // Just another value ("?是97", "it's 12"), right after an answer that did not ask anything.
        if !answerAskedUser && !newValues.isEmpty && !answerValues.isEmpty && sameKind(newValues, answerValues)
            && bareValue.matches(text) {
            return make(.correction, "bare_other_value", 0.8)
        }
        // "那是水煮鱼" after "酸菜鱼": names another thing of the same sort.
        if let named = copula.capture(text) ?? copula.capture(text, 2), !answerNorm.contains(named.trimmingCharacters()),
           sharesContent(named, answerNorm) {
            return make(.correction, "names_other_thing", 0.8)
        }
        // A short statement of another value of the same kind, about the same thing: "右边是橙色" after "右边黄色".
        if !newValues.isEmpty && !answerValues.isEmpty && sameKind(newValues, answerValues) && text.count <= 30
            && Similarity.containment(text, in: answerNorm) >= 0.3 {
            return make(.correction, "restates_with_other_value", 0.8)
        }
        return .none("no_cue")
    }

    static let closingPattern = Pattern(#"^\W*(thanks?|thank you|ok|okay|great|cool|got it|nice|perfect|好的?|谢谢|多谢|明白了?|知道了|嗯+|行|好吧|ok cool|okay thanks)\W*$"#)
    static func isClosing(_ s: String) -> Bool { closingPattern.matches(s) }

    /// Both value sets hold the same kind of value (numbers, colours, or words).
    static func sameKind(_ a: Set<String>, _ b: Set<String>) -> Bool {
        func kind(_ v: String) -> Int { v.hasPrefix("colour:") ? 1 : (v.first?.isNumber == true || v.first == "$" ? 2 : 3) }
        return !Set(a.map(kind)).isDisjoint(with: Set(b.map(kind)))
    }

    /// "是人民西路,不是东路", "it says Oak not Oat": the negated part is (part of) what the answer said.
    static func contrastNegatesAnswer(_ text: String, _ answer: String) -> Bool {
        for m in contrastSpans.allMatches(text) {
            let negated = [2, 3].compactMap { g -> String? in
                guard m.numberOfRanges > g, let r = Range(m.range(at: g), in: text) else { return nil }
                return String(text[r])
            }
            for n in negated {
                let t = n.trimmingCharacters().lowercased()
                if t.count >= 1 && (answer.contains(t) || Similarity.containment(t, in: answer) >= 0.5) { return true }
            }
        }
        return false
    }

    /// A word in the reply that is a near spelling of a word in the answer ("Smith" for "Smyth", "Oak"
    /// for "Oat"): the user is correcting it.
    static func hasNearMiss(reply: String, answer: String) -> Bool {
        let words = { (s: String) in
            s.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init).filter { $0.count >= 3 && $0.allSatisfy(\.isASCII) }
        }
        let answerWords = Set(words(answer)).subtracting(Similarity.stopWords)
        let replyWords = Set(words(reply)).subtracting(Similarity.stopWords).subtracting(answerWords)
        for r in replyWords {
            for a in answerWords where abs(a.count - r.count) <= 2 && Similarity.stem(a) != Similarity.stem(r)
                && !a.hasPrefix(r) && !r.hasPrefix(a) {
                let d = editDistance(Array(r), Array(a))
                if d >= 1 && d <= max(1, min(a.count, r.count) / 3) { return true }
            }
        }
        return false
    }

    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var prev = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var cur = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(1, b.count) where !b.isEmpty {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return a.isEmpty ? b.count : prev[b.count]
    }

    static let revisionCue = Pattern(
        #"\b(sorry|apolog\w*|you're right|you are right|my mistake|my bad|i misread|correction|let me correct|on closer look|looking again|upon closer|i stand corrected|good catch)\b|抱歉|对不起|不好意思|您说得对|你说得对|说得对|啊对|哦对|噢对|我看错|我读错|更正|纠正|是我错"#)

    /// After a doubt, did the assistant change its answer (so the first answer was wrong)? A new value
    /// that replaces the old one, or an apology, is a revision; the same value again is standing by it.
    public static func isRevision(previous: String, next: String, doubtedWith reply: String = "") -> Bool {
        let n = TextNormalizer.normalize(next)
        if revisionCue.matches(n) { return true }
        let prevValues = Values.of(previous), nextValues = Values.of(next)
        guard !prevValues.isEmpty, !nextValues.isEmpty else { return false }
        // Only a revision if the old values are gone: "是5只:沙发上3只..." mentions the user's 3 but keeps its 5.
        guard prevValues.isDisjoint(with: nextValues) else { return false }
        return true
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

/// Pulls the correct answer out of a correction: "不对,是78" -> "78", "错了,应该是蓝色的" -> "蓝色",
/// "No, it's 71." -> "71", "that's wrong, the total is $42.51" -> "$42.51". Returns nil when the user
/// only says it is wrong ("错了"): such a sample waits for a person to write the answer.
public enum AnswerExtractor {
    // Compiled once: a pattern built inside a function is compiled on every call.
    static let instructionPhrase = Pattern(#"^\W*(look|check|try|read|see|please|again|zoom|再|看|仔细|重新)|\bagain\b"#)

    // "是Y不是X", "Y, not X", "it says Y not X": the first part is the right one.
    static let contrastZH = Pattern(#"(?:是|应该是|明明是)\s*((?:[^,.!?;\s不]|(?<=\d)[.,:](?=\d)){1,20}?)(?:,|\s)?(?:而)?不是"#)
    static let negThenZH = Pattern(#"不是[^,.!?;]{1,20}?[,\s]*(?:而是|是|应该是)\s*((?:[^,.!?;。:]|(?<=\d)[.,:](?=\d)){1,30})"#)
    static let contrastEN = Pattern(#"\b(?:it's|it says|says|reads|is|it reads)\s+(.{1,30}?),?\s+not\s+\S"#)
    static let strongLeadZH = Pattern(#"(?:应该是|应该为|应为|明明是|其实是|实际是|实际上是|正确的是|正确答案是|上面写的是|写的是|写着|读数是|总金额是|总价是|金额是|总计是|日期是|颜色是|时间是|数字是|年份是)\s*((?:[^,.!?;。:]|(?<=\d)[.,:](?=\d)){1,30})"#)
    static let bareLeadZH = Pattern(#"是\s*((?:[^,.!?;。:]|(?<=\d)[.,:](?=\d)){1,30})"#)
    static let noThenValue = Pattern(#"^\W*(?:no|nope|nah|不是|不对)\W+([^,.!?;]{1,30}?)\W*$"#)
    static let leadEN = Pattern(#"\b(?:should be|it's actually|actually,? it's|actually says|it says|it reads|it's|the \w+(?: \w+)? (?:is|was|should be|says|reads)|reads|says|i think it's|is)\s+(.{1,40}?)(?:[,!?;]|\.(?:\s|$)|\s+(?:not|and|but|please|thanks?|with|from|instead|on the|in the|at the)\b|$)"#)

    static let trailingParticles: Set<Character> = ["的", "啊", "呀", "吧", "了", "哦", "喔", "呢", "啦", "嘛", "哈", "!", ".", "。", "~", " ", "\"", "'"]

    public static func extract(reply: String, answer: String) -> String? {
        let text = TextNormalizer.fold(reply)
        let answerValues = Values.of(answer)
        var candidates: [String] = []
        // A value shaped like the answer's but different ("03527" for "03521", "京A·8B328" for "京A·8B326").
        if let v = sameShapeValue(text, answer: TextNormalizer.fold(answer)) { return v }
        for p in [negThenZH, contrastEN, contrastZH, strongLeadZH, leadEN, bareLeadZH, noThenValue] {
            for m in p.allMatches(text) where m.numberOfRanges > 1 {
                if let r = Range(m.range(at: 1), in: text) { candidates.append(String(text[r])) }
            }
        }
        for raw in candidates {
            guard let c = clean(raw) else { continue }
            // A span holding a value the answer did not have is reduced to that value
            // ("the total is $42.51" -> "$42.51"); a span that only repeats the answer's values is skipped.
            // A short span is the answer as written ("0.5 mg", "7.18", "京A·8B328"); a longer one is reduced to
            // its new value ("the total is $42.51 I think" -> "$42.51").
            let values = Values.of(c)
            if c.split(separator: " ").count <= 2 && c.count <= 15 && !values.isEmpty && !answerValues.isSuperset(of: values) { return c }
            if let v = valueSpans(c).first(where: { !answerValues.isSuperset(of: Values.of($0)) }) { return v }
            if !Values.of(c).isEmpty && Values.of(c).isSubset(of: answerValues) { continue }
            if isMeaningful(c) { return c }
        }
        // Fallback: a value the user stated that the answer did not have.
        if let v = valueSpans(text).first(where: { !answerValues.isSuperset(of: Values.of($0)) }) { return v }
        return nil
    }

    static func clean(_ s: String) -> String? {
        var t = Substring(s)
        while let l = t.last, trailingParticles.contains(l) { t.removeLast() }
        while let f = t.first, f == " " || f == "\"" || f == "'" || f == ":" { t.removeFirst() }
        if t.hasPrefix("是") && t.count > 1 { t.removeFirst() }
        let lower = t.lowercased()
        for prefix in ["the ", "a ", "an "] where lower.hasPrefix(prefix) && t.count > prefix.count + 1 {
            t = t.dropFirst(prefix.count)
        }
        let out = String(t)
        return out.isEmpty || out.count > 30 ? nil : out
    }

    static let meaningless: Set<String> = ["wrong", "it", "that", "this", "not", "right", "correct", "incorrect", "错", "错的", "对", "不对",
                                           "what", "which", "you", "sure", "ok", "fine", "good", "there", "here", "misread", "吗", "什么", "多少"]

    static func isMeaningful(_ s: String) -> Bool {
        let l = s.lowercased()
        if meaningless.contains(l) { return false }
        if l.hasPrefix("not ") || l.hasPrefix("wrong") || l.contains("?") || l.hasPrefix("不") || l.hasPrefix("你") || l.hasPrefix("我")
            || l.hasPrefix("这") || l.hasPrefix("那") || ["like this", "like that", "such"].contains(l) { return false }
        // Instructions to look again are not answers.
        if Self.instructionPhrase.matches(l) { return false }
        if l.split(separator: " ").count > 5 { return false }
        return true
    }

    static let valuePattern = Pattern(#"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{1,2}(?::\d{2})?\s?(?:am|pm)\b|\d{1,2}:\d{2}(?::\d{2})?|\d+(?:-\d+)+|[$¥€£]?\d+(?:[.,]\d+)*%?(?:\s?(?:元|块|(?i:kwh|km|kg)|%))?|\b[A-Z][A-Z0-9]{1,}(?:\s+[A-Z0-9]{2,})*\b|[红橙黄绿青蓝紫黑白灰粉棕金银]色|(?i:\b(?:red|orange|yellow|green|cyan|blue|purple|black|white|grey|gray|pink|brown|gold|silver)\b)"#, caseSensitive: true)

    static func valueSpans(_ s: String) -> [String] {
        valuePattern.allMatches(s).compactMap { m in Range(m.range, in: s).map { String(s[$0]) } }
            .filter { !["OK", "I", "A", "AM", "PM"].contains($0) }
    }

    /// Pieces of `text` (split at spaces and punctuation, leading CJK words dropped) that look like one of
    /// the answer's value tokens but differ from it by a character or two.
    static func sameShapeValue(_ text: String, answer: String) -> String? {
        func pieces(_ s: String) -> [String] {
            var out: [String] = []
            var cur = ""
            let chars = Array(s)
            for (i, c) in chars.enumerated() {
                let between = i > 0 && i + 1 < chars.count && chars[i - 1].isNumber && chars[i + 1].isNumber
                if c.isWhitespace || (",.!?;。:\"“”()（）".contains(c) && !between) {
                    if !cur.isEmpty { out.append(cur) }
                    cur = ""
                } else {
                    cur.append(c)
                }
            }
            if !cur.isEmpty { out.append(cur) }
            return out.flatMap { p -> [String] in
                let tail = String(p.drop(while: { $0.unicodeScalars.allSatisfy(TextNormalizer.isCJK) }))
                return tail.isEmpty || tail == p ? [p] : [p, tail]
            }
        }
        let answerTokens = pieces(answer).filter { $0.count >= 3 && $0.contains(where: \.isNumber) }
        guard !answerTokens.isEmpty else { return nil }
        let replyPieces = pieces(text)
        let answerPieces = Set(pieces(answer))
        for (i, r) in replyPieces.enumerated() where r.count >= 3 && r.contains(where: \.isNumber) {
            for a in answerTokens where r != a && abs(r.count - a.count) <= 1 {
                let d = ReplyRules.editDistance(Array(r), Array(a))
                guard d >= 1 && d <= max(1, a.count / 3) else { continue }
                // Keep a letter prefix the answer also had: "KLN 4821", not "4821".
                if i > 0, replyPieces[i - 1].count >= 2, replyPieces[i - 1].allSatisfy({ $0.isUppercase && $0.isLetter }),
                   answerPieces.contains(replyPieces[i - 1]) {
                    return replyPieces[i - 1] + " " + r
                }
                return r
            }
        }
        return nil
    }

    static func firstValueSpan(_ s: String) -> String? { valueSpans(s).first }
}

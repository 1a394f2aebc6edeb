/// Text similarity that works without spaces: CJK text becomes character bigrams (and single
/// characters), other text becomes words, so "这个数字是多少" and "数字是多少呀" overlap strongly.
public enum Similarity {
    /// Words that carry no meaning for "is this the same question".
    static let stopWords: Set<String> = [
        "the", "a", "an", "is", "are", "was", "what", "what's", "whats", "it", "it's", "this", "that", "that's", "on", "in",
        "of", "to", "please", "can", "could", "you", "me", "i", "my", "do", "does", "again", "tell", "just", "so", "ok",
        "okay", "there", "here", "for", "and", "hmm", "um", "then", "now", "say", "says", "asked", "ask", "once", "more",
    ]
    /// Function characters; they also split a run of CJK text, so no bigram spans them.
    static let cjkStop: Set<Unicode.Scalar> = ["的", "了", "吗", "呢", "吧", "啊", "呀", "么", "请", "再", "一", "下", "我", "你", "问", "帮", "看",
                                               "这", "个", "那", "嘛", "哦", "喔", "是", "什", "多", "少", "张", "能", "可", "以", "给", "啥", "呐", "哪", "有"]

    /// Tokens: lower-cased words for Latin text, unigrams and bigrams for runs of CJK characters.
    public static func tokens(_ text: String) -> [String] {
        let norm = TextNormalizer.normalize(text)
        var out: [String] = []
        var word = ""
        var cjkRun: [Unicode.Scalar] = []
        func flushWord() {
            if !word.isEmpty {
                let w = stem(word)
                if !stopWords.contains(word) && !stopWords.contains(w) { out.append(w) }
                word = ""
            }
        }
        func flushCJK() {
            for c in cjkRun { out.append(String(c)) }
            if cjkRun.count >= 2 {
                for i in 0..<(cjkRun.count - 1) { out.append(String(cjkRun[i]) + String(cjkRun[i + 1])) }
            }
            cjkRun = []
        }
        for u in norm.unicodeScalars {
            if TextNormalizer.isCJK(u) {
                flushWord()
                if cjkStop.contains(u) { flushCJK() } else { cjkRun.append(u) }
            } else if TextNormalizer.isWordScalar(u) || u == "$" || u == "." && !word.isEmpty {
                flushCJK()
                word.unicodeScalars.append(u)
            } else {
                flushWord()
                flushCJK()
            }
        }
        flushWord()
        flushCJK()
        return out.map { $0.hasSuffix(".") ? String($0.dropLast()) : $0 }.filter { !$0.isEmpty }
    }

    static func stem(_ w: String) -> String {
        var w = w
        if w.hasSuffix("'s") { w.removeLast(2) }
        for suffix in ["ing", "es", "s"] where w.count > suffix.count + 2 && w.hasSuffix(suffix) {
            return String(w.dropLast(suffix.count))
        }
        return w
    }

    /// Dice coefficient over token sets, in [0, 1].
    public static func dice(_ a: String, _ b: String) -> Double {
        let ta = Set(tokens(a)), tb = Set(tokens(b))
        if ta.isEmpty || tb.isEmpty { return 0 }
        return 2 * Double(ta.intersection(tb).count) / Double(ta.count + tb.count)
    }

    /// Share of `a`'s tokens found in `b` (how much of the earlier question the new one repeats).
    public static func containment(_ a: String, in b: String) -> Double {
        let ta = Set(tokens(a)), tb = Set(tokens(b))
        if ta.isEmpty { return 0 }
        return Double(ta.intersection(tb).count) / Double(ta.count)
    }

    /// The seed design's similarity: Jaccard over whitespace-separated tokens.
    public static func whitespaceJaccard(_ a: String, _ b: String) -> Double {
        let ta = Set(a.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init))
        let tb = Set(b.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init))
        let union = ta.union(tb)
        if union.isEmpty { return 0 }
        return Double(ta.intersection(tb).count) / Double(union.count)
    }
}

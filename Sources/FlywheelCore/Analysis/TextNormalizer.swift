/// Puts user text into one canonical form before rules look at it: lower case, full-width ASCII and
/// CJK punctuation folded to ASCII, common traditional characters folded to simplified, and common
/// English contractions and typos spelled out. Rules then only need one spelling of each cue.
public enum TextNormalizer {
    public static func normalize(_ text: String) -> String {
        respell(fold(text, lowercase: true))
    }

    /// Rewrites whole ASCII words through `spellings` in one pass ("u" -> "you", "it is" -> "it's").
    static func respell(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var word = String.UnicodeScalarView()
        var lastWord = ""       // the previous word, if only one space separates it from this one
        var lastWordStart = 0   // its offset in `out`, to merge "it is" into "it's"
        func flush() {
            guard !word.isEmpty else { return }
            let w = String(word)
            word.removeAll()
            if let pair = phrases[lastWord + " " + w] {
                out = String.UnicodeScalarView(Array(out)[0..<lastWordStart])
                out.append(contentsOf: pair.unicodeScalars)
                lastWord = ""
                return
            }
            lastWordStart = out.count
            let mapped = singleWords[w] ?? w
            out.append(contentsOf: mapped.unicodeScalars)
            lastWord = mapped
        }
        for u in s.unicodeScalars {
            if isWordScalar(u) {
                word.append(u)
            } else {
                flush()
                if u != " " { lastWord = "" }
                out.append(u)
            }
        }
        flush()
        return String(out)
    }

    static let singleWords: [String: String] = Dictionary(uniqueKeysWithValues: spellings.filter { !$0.0.contains(" ") })
    static let phrases: [String: String] = Dictionary(uniqueKeysWithValues: spellings.filter { $0.0.contains(" ") })

    /// Width, punctuation and traditional-to-simplified folding only; case is kept unless asked.
    /// Extracted answers come from this form, so "it says EXIT" keeps its capitals.
    public static func fold(_ text: String, lowercase: Bool = false) -> String {
        var out = String.UnicodeScalarView()
        for u in text.unicodeScalars {
            let v = u.value
            if v >= 0xFF01 && v <= 0xFF5E {
                // Full-width ASCII.
                out.append(Unicode.Scalar(v - 0xFEE0)!)
            } else if let p = punctuation[u] {
                out.append(p)
            } else if let s = traditional[u] {
                out.append(s)
            } else if v == 0x3000 {
                out.append(" ")
            } else if lowercase && u.value < 0x80 {
                out.append(u.value >= 65 && u.value <= 90 ? Unicode.Scalar(u.value + 32)! : u)
            } else if lowercase {
                out.append(contentsOf: String(u).lowercased().unicodeScalars)
            } else {
                out.append(u)
            }
        }
        return String(out)
    }

    static let punctuation: [Unicode.Scalar: Unicode.Scalar] = [
        "，": ",", "。": ".", "！": "!", "？": "?", "：": ":", "；": ";", "“": "\"", "”": "\"", "‘": "'", "’": "'",
        "（": "(", "）": ")", "、": ",", "～": "~", "…": ".", "「": "\"", "」": "\"", "『": "\"", "』": "\"",
    ]

    /// Traditional characters that occur in feedback, mapped to simplified.
    static let traditional: [Unicode.Scalar: Unicode.Scalar] = {
        let pairs = "對对錯错這这應应該该個个確确嗎吗麼么說说讀读數数顏颜單单額额價价號号圖图寫写實实際际還还沒没問问題题時时間间點点張张發发總总錢钱塊块綠绿藍蓝紅红黃黄顯显識识別别誤误見见認认為为讓让謝谢話话們们給给裡里裏里聽听覺觉從从來来開开關关邊边過过樣样種种們们與与卻却啊啊嗯嗯喔喔囉啰讀读準准確确錶表標标題题價价碼码稅税餘余幾几張张紙纸機机場场車车門门鐘钟鎖锁雙双條条號号貨货費费帳账單单據据樓楼層层輛辆騎骑狀状態态應应試试幫帮氣气驗验鐘钟頁页項项計计後后麵面週周鬧闹電电腦脑網网線线東东醫医藥药劑剂處处辦办燈灯壓压溫温濕湿體体齡龄歲岁區区檢检證证聯联戶户"
        var d: [Unicode.Scalar: Unicode.Scalar] = [:]
        let scalars = Array(pairs.unicodeScalars)
        var i = 0
        while i + 1 < scalars.count {
            d[scalars[i]] = scalars[i + 1]
            i += 2
        }
        return d
    }()

    /// Whole-word rewrites: contractions, chat spellings and frequent typos of cue words.
    static let spellings: [(String, String)] = [
        ("wrnog", "wrong"), ("wromg", "wrong"), ("worng", "wrong"), ("wrog", "wrong"), ("wronge", "wrong"),
        ("incorect", "incorrect"), ("incorrent", "incorrect"), ("misred", "misread"), ("mis-read", "misread"),
        ("thats", "that's"), ("its", "it's"), ("isnt", "isn't"), ("dont", "don't"), ("doesnt", "doesn't"),
        ("youre", "you're"), ("ur", "your"), ("u", "you"), ("r", "are"), ("pls", "please"), ("plz", "please"),
        ("it is", "it's"), ("that is", "that's"), ("you are", "you're"), ("thx", "thanks"), ("ty", "thanks"),
    ]

    static func isWordScalar(_ u: Unicode.Scalar) -> Bool {
        (u >= "a" && u <= "z") || (u >= "A" && u <= "Z") || (u >= "0" && u <= "9") || u == "'"
    }

    /// True for CJK ideographs (and kana), which are written without spaces.
    public static func isCJK(_ u: Unicode.Scalar) -> Bool {
        (0x4E00...0x9FFF).contains(u.value) || (0x3400...0x4DBF).contains(u.value) || (0x3040...0x30FF).contains(u.value)
            || (0xF900...0xFAFF).contains(u.value) || (0x20000...0x2A6DF).contains(u.value)
    }
}
